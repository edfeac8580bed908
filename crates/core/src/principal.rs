use crate::{Error, Result, TenantId, UserId};
use std::collections::BTreeSet;

/// Who is acting: a signed-in staff member, a citizen, or an API token's owner, always within
/// one tenant.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub permissions: BTreeSet<String>,
    /// Holds the built-in `admin` role, which implies every permission.
    pub is_admin: bool,
    /// A citizen's account (self-registered, e-mail confirmed), not a staff member's. Citizens
    /// hold no roles, so every permission check refuses them; pages for "any signed-in user"
    /// (see `rathaus_web::layout::ANY_SIGNED_IN`) are open to them.
    pub citizen: bool,
}

impl Principal {
    pub fn has(&self, permission: &str) -> bool {
        self.is_admin || self.permissions.contains(permission)
    }

    /// The one central permission check services call before they act.
    pub fn require(&self, permission: &str) -> Result<()> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// Objects of another tenant answer 404, never 403, so their existence is not revealed.
    pub fn require_tenant(&self, tenant_id: TenantId) -> Result<()> {
        if self.tenant_id == tenant_id {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(perms: &[&str], admin: bool) -> Principal {
        Principal {
            tenant_id: TenantId(1),
            user_id: UserId(1),
            name: "A".into(),
            email: "a@b.example".into(),
            permissions: perms.iter().map(|s| s.to_string()).collect(),
            is_admin: admin,
            citizen: false,
        }
    }

    #[test]
    fn deny_by_default() {
        let p = principal(&[], false);
        assert!(matches!(p.require("admin.users"), Err(Error::Forbidden)));
        let p = principal(&["admin.audit"], false);
        assert!(p.require("admin.audit").is_ok());
        assert!(p.require("admin.users").is_err());
    }

    #[test]
    fn admin_holds_everything_and_other_tenant_is_not_found() {
        let p = principal(&[], true);
        assert!(p.require("anything.at.all").is_ok());
        assert!(matches!(
            p.require_tenant(TenantId(2)),
            Err(Error::NotFound)
        ));
    }
}
