//! Permissions are fine-grained names such as `admin.users`. Each module declares the ones it
//! checks; roles bundle them. The built-in role `admin` holds every permission.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionDef {
    pub code: &'static str,
    /// Translation key of the human-readable description.
    pub label_key: &'static str,
}

pub const ADMIN_USERS: &str = "admin.users";
pub const ADMIN_ROLES: &str = "admin.roles";
pub const ADMIN_DEPARTMENTS: &str = "admin.departments";
pub const ADMIN_AUDIT: &str = "admin.audit";
pub const ADMIN_SETTINGS: &str = "admin.settings";
pub const ADMIN_JOBS: &str = "admin.jobs";

/// The platform's own permissions. Module crates add theirs to the registry at start-up.
pub const PLATFORM: &[PermissionDef] = &[
    PermissionDef {
        code: ADMIN_USERS,
        label_key: "perm.admin.users",
    },
    PermissionDef {
        code: ADMIN_ROLES,
        label_key: "perm.admin.roles",
    },
    PermissionDef {
        code: ADMIN_DEPARTMENTS,
        label_key: "perm.admin.departments",
    },
    PermissionDef {
        code: ADMIN_AUDIT,
        label_key: "perm.admin.audit",
    },
    PermissionDef {
        code: ADMIN_SETTINGS,
        label_key: "perm.admin.settings",
    },
    PermissionDef {
        code: ADMIN_JOBS,
        label_key: "perm.admin.jobs",
    },
];

/// Name of the built-in role that holds every permission.
pub const ADMIN_ROLE: &str = "admin";

static MODULES: std::sync::RwLock<Vec<PermissionDef>> = std::sync::RwLock::new(Vec::new());

/// Adds a module's permissions (at start-up; registering the same code twice is a no-op).
pub fn register(defs: &[PermissionDef]) {
    if let Ok(mut m) = MODULES.write() {
        for d in defs {
            if !PLATFORM.iter().chain(m.iter()).any(|p| p.code == d.code) {
                m.push(*d);
            }
        }
    }
}

/// Every permission known to this build: the platform's, then the registered modules'.
pub fn all() -> Vec<PermissionDef> {
    let mut v = PLATFORM.to_vec();
    if let Ok(m) = MODULES.read() {
        v.extend(m.iter().copied());
    }
    v
}

pub fn is_known(code: &str) -> bool {
    all().iter().any(|p| p.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_register_their_permissions_once() {
        const DEFS: &[PermissionDef] = &[PermissionDef {
            code: "test.read",
            label_key: "perm.test.read",
        }];
        assert!(!is_known("test.read"));
        register(DEFS);
        register(DEFS);
        assert!(is_known("test.read"));
        assert_eq!(all().iter().filter(|p| p.code == "test.read").count(), 1);
        assert_eq!(&all()[..PLATFORM.len()], PLATFORM);
    }
}
