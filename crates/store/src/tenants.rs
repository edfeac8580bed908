//! Tenants (municipalities), their host names, settings and footer pages.

use crate::audit::{self, Actor};
use crate::db_err;
use crate::entity::{tenant, tenant_asset, tenant_host, tenant_page};
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::calendar::Land;
use rathaus_core::permissions::ADMIN_SETTINGS;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};
use serde_json::json;

pub use tenant::Model as Tenant;
pub use tenant_page::Model as Page;

/// Footer pages every tenant has: slug and default title.
pub const PAGES: &[(&str, &str)] = &[
    ("impressum", "Impressum"),
    ("datenschutz", "Datenschutzerklärung"),
    ("barrierefreiheit", "Erklärung zur Barrierefreiheit"),
];

fn normalise_host(h: &str) -> String {
    let h = h.trim().to_ascii_lowercase();
    // Strip a port, but keep IPv6 literals such as [::1]:8080 intact.
    match h.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
                && (!host.contains(':') || host.ends_with(']')) =>
        {
            host.to_string()
        }
        _ => h,
    }
}

pub struct NewTenant<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub hosts: &'a [String],
}

pub async fn create<C: TransactionTrait>(
    db: &C,
    actor: &Actor,
    t: NewTenant<'_>,
) -> Result<Tenant> {
    let mut errs = FieldErrors::new();
    let slug = errs.text("slug", t.slug, 63).to_ascii_lowercase();
    if !slug.is_empty()
        && !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errs.add("slug", "err.slug");
    }
    let name = errs.text("name", t.name, 200);
    let hosts: Vec<String> = t
        .hosts
        .iter()
        .map(|h| normalise_host(h))
        .filter(|h| !h.is_empty())
        .collect();
    errs.into_result()?;
    let txn = crate::begin(db).await?;
    if tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(&slug))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(FieldErrors::single("slug", "err.slug_taken"));
    }
    for h in &hosts {
        if tenant_host::Entity::find()
            .filter(tenant_host::Column::Host.eq(h))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(FieldErrors::single("host", "err.host_taken"));
        }
    }
    let now = Utc::now();
    let t = tenant::ActiveModel {
        slug: Set(slug.clone()),
        name: Set(name.clone()),
        mfa_required: Set(false),
        created_at: Set(now),
        coat_of_arms_sha256: Set(None),
        land: Set(Land::NW.code().to_string()),
        uid_domain: Set(uid_domain_for(&slug, &hosts)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let tid = TenantId(t.id);
    for h in &hosts {
        tenant_host::ActiveModel {
            tenant_id: Set(t.id),
            host: Set(h.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for (page_slug, title) in PAGES {
        tenant_page::ActiveModel {
            tenant_id: Set(t.id),
            slug: Set(page_slug.to_string()),
            title: Set(title.to_string()),
            body: Set(String::new()),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::init_chain(&txn, tid).await?;
    crate::accounts::ensure_builtin_roles(&txn, tid).await?;
    audit::record(
        &txn,
        tid,
        actor,
        NewEvent::new("tenant.created", "tenant", Some(t.id))
            .details(json!({"slug": slug, "name": name, "hosts": hosts})),
    )
    .await?;
    txn.commit().await?;
    Ok(t)
}

pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<(Tenant, Vec<String>)>> {
    let ts = tenant::Entity::find()
        .order_by_asc(tenant::Column::Id)
        .all(conn)
        .await?;
    let hosts = tenant_host::Entity::find()
        .order_by_asc(tenant_host::Column::Host)
        .all(conn)
        .await?;
    Ok(ts
        .into_iter()
        .map(|t| {
            let h = hosts
                .iter()
                .filter(|h| h.tenant_id == t.id)
                .map(|h| h.host.clone())
                .collect();
            (t, h)
        })
        .collect())
}

/// The domain of a new tenant's UIDs: its first host name (alphabetically), else
/// `<slug>.rathaus.invalid`.
fn uid_domain_for(slug: &str, hosts: &[String]) -> String {
    hosts
        .iter()
        .min()
        .cloned()
        .unwrap_or_else(|| format!("{slug}.rathaus.invalid"))
}

/// A stable domain of the tenant for identifiers such as iCalendar UIDs, the same whatever host
/// a request came in on and whatever host names the tenant has later: fixed when the tenant
/// was created (migration m0008 kept the domain existing tenants' UIDs had).
pub async fn uid_host(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<String> {
    let t = get(conn, tenant).await?;
    if !t.uid_domain.is_empty() {
        return Ok(t.uid_domain);
    }
    Ok(format!("{}.rathaus.invalid", t.slug))
}

pub async fn by_slug(conn: &impl ConnectionTrait, slug: &str) -> Result<Option<Tenant>> {
    tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(conn)
        .await
        .map_err(db_err)
}

pub async fn get(conn: &impl ConnectionTrait, id: TenantId) -> Result<Tenant> {
    tenant::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The tenant for a request's Host header. An install with exactly one tenant serves it on any
/// host name; otherwise the host must be registered.
pub async fn resolve(conn: &impl ConnectionTrait, host: Option<&str>) -> Result<Option<Tenant>> {
    if let Some(h) = host.map(normalise_host)
        && let Some(th) = tenant_host::Entity::find()
            .filter(tenant_host::Column::Host.eq(h))
            .one(conn)
            .await?
    {
        return tenant::Entity::find_by_id(th.tenant_id)
            .one(conn)
            .await
            .map_err(db_err);
    }
    if tenant::Entity::find().count(conn).await? == 1 {
        return tenant::Entity::find().one(conn).await.map_err(db_err);
    }
    Ok(None)
}

pub struct Settings<'a> {
    pub name: &'a str,
    pub mfa_required: bool,
    /// Bundesland code, for public holidays and working-day deadlines; empty keeps it.
    pub land: &'a str,
}

/// The tenant's Bundesland (North Rhine-Westphalia when unset or unknown).
pub async fn land_of(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Land> {
    Ok(get(conn, tenant).await?.land.parse().unwrap_or(Land::NW))
}

pub async fn update_settings<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    s: Settings<'_>,
) -> Result<Tenant> {
    who.require(ADMIN_SETTINGS)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", s.name, 200);
    // Empty keeps the current Land (a form from before the setting existed).
    let land = match s.land.trim() {
        "" => None,
        code => match code.parse::<Land>() {
            Ok(l) => Some(l),
            Err(()) => {
                errs.add("land", "err.invalid_choice");
                None
            }
        },
    };
    errs.into_result()?;
    let txn = crate::begin(db).await?;
    let before = get(&txn, who.tenant_id).await?;
    let mut am: tenant::ActiveModel = before.clone().into();
    am.name = Set(name.clone());
    am.mfa_required = Set(s.mfa_required);
    if let Some(l) = land {
        am.land = Set(l.code().to_string());
    }
    let after = am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("settings.updated", "tenant", Some(who.tenant_id)).details(json!({
            "before": {"name": before.name, "mfa_required": before.mfa_required, "land": before.land},
            "after": {"name": after.name, "mfa_required": after.mfa_required, "land": after.land},
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn page(conn: &impl ConnectionTrait, tenant: TenantId, slug: &str) -> Result<Page> {
    tenant_page::Entity::find()
        .filter(tenant_page::Column::TenantId.eq(tenant.0))
        .filter(tenant_page::Column::Slug.eq(slug))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn update_page<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    slug: &str,
    title: &str,
    body: &str,
) -> Result<Page> {
    who.require(ADMIN_SETTINGS)?;
    let mut errs = FieldErrors::new();
    let title = errs.text("title", title, 200);
    let body = errs.optional_text("body", body, 100_000);
    errs.into_result()?;
    let txn = crate::begin(db).await?;
    let before = page(&txn, who.tenant_id, slug).await?;
    let mut am: tenant_page::ActiveModel = before.clone().into();
    am.title = Set(title);
    am.body = Set(body);
    am.updated_at = Set(Utc::now());
    let after = am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("page.updated", "page", Some(slug))
            .details(json!({"before": before.body, "after": after.body})),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

pub const COAT_OF_ARMS: &str = "coat_of_arms";

/// Largest upload and picture size for a coat of arms; it is shown at most 256 px high.
pub const COAT_BOUNDS: crate::images::Bounds = crate::images::Bounds {
    max_bytes: 1024 * 1024,
    max_pixels: 4000,
};

/// Replaces the tenant's coat of arms with the re-encoded upload.
pub async fn set_coat_of_arms<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    upload: &[u8],
) -> Result<String> {
    who.require(ADMIN_SETTINGS)?;
    let png = crate::images::reencode_png(upload, &COAT_BOUNDS, 256)
        .map_err(|e| FieldErrors::single("wappen", e.key()))?;
    let sha = crate::sha256_hex_bytes(&png);
    let txn = crate::begin(db).await?;
    let before = get(&txn, who.tenant_id).await?;
    tenant_asset::Entity::delete_many()
        .filter(tenant_asset::Column::TenantId.eq(who.tenant_id.0))
        .filter(tenant_asset::Column::Kind.eq(COAT_OF_ARMS))
        .exec(&txn)
        .await?;
    tenant_asset::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        kind: Set(COAT_OF_ARMS.to_string()),
        sha256: Set(sha.clone()),
        content_type: Set("image/png".to_string()),
        bytes: Set(png),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut am: tenant::ActiveModel = before.clone().into();
    am.coat_of_arms_sha256 = Set(Some(sha.clone()));
    am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("settings.coat_of_arms", "tenant", Some(who.tenant_id))
            .details(json!({"before": before.coat_of_arms_sha256, "after": sha})),
    )
    .await?;
    txn.commit().await?;
    Ok(sha)
}

/// Back to the default coat of arms.
pub async fn remove_coat_of_arms<C: TransactionTrait>(db: &C, who: &Principal) -> Result<()> {
    who.require(ADMIN_SETTINGS)?;
    let txn = crate::begin(db).await?;
    let before = get(&txn, who.tenant_id).await?;
    tenant_asset::Entity::delete_many()
        .filter(tenant_asset::Column::TenantId.eq(who.tenant_id.0))
        .filter(tenant_asset::Column::Kind.eq(COAT_OF_ARMS))
        .exec(&txn)
        .await?;
    let mut am: tenant::ActiveModel = before.clone().into();
    am.coat_of_arms_sha256 = Set(None);
    am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("settings.coat_of_arms", "tenant", Some(who.tenant_id))
            .details(json!({"before": before.coat_of_arms_sha256, "after": null})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The stored coat of arms of a tenant by its hash (public: it is shown on every page).
pub async fn coat_of_arms(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    sha: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(tenant_asset::Entity::find()
        .filter(tenant_asset::Column::TenantId.eq(tenant.0))
        .filter(tenant_asset::Column::Kind.eq(COAT_OF_ARMS))
        .filter(tenant_asset::Column::Sha256.eq(sha))
        .one(conn)
        .await?
        .map(|a| a.bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            super::normalise_host("Rathaus.Example:8080"),
            "rathaus.example"
        );
        assert_eq!(super::normalise_host("localhost"), "localhost");
        assert_eq!(super::normalise_host("[::1]:8080"), "[::1]");
    }
}
