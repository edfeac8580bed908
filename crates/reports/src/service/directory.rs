//! The tenant's street directory in the database (`reports_streets`), imported from CSV with
//! `rathaus reports import-streets FILE` or on the settings page, and an in-memory
//! [`streets::Directory`] per tenant for autocomplete and address resolution (reloaded when
//! the import changes the row count or after a minute, so every process sees an import).

use crate::domain::streets::{self, Address, Directory};
use crate::service::ReportsState;
use crate::store::entity::street;
use rathaus_core::audit::NewEvent;
use rathaus_core::{Result, TenantId};
use rathaus_store::{audit, begin, db_err};
use sea_orm::{
    ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, Set, TransactionSession,
    TransactionTrait,
};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RELOAD_AFTER: Duration = Duration::from_secs(60);
/// Rows per INSERT statement of the import.
const CHUNK: usize = 500;

/// Replaces the tenant's directory with `addresses` in one transaction (all or nothing).
/// `who` is the system for the CLI.
pub async fn import<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    state: &ReportsState,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    addresses: Vec<Address>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<usize> {
    if let Some(w) = who.principal() {
        w.require(crate::service::MANAGE)?;
        w.require_tenant(tenant)?;
    }
    let txn = begin(db).await?;
    rathaus_store::uow::scoped_delete::<street::Entity>(tenant)
        .exec(&txn)
        .await?;
    let total = addresses.len();
    for (i, chunk) in addresses.chunks(CHUNK).enumerate() {
        let rows = chunk.iter().map(|a| street::ActiveModel {
            tenant_id: Set(tenant.0),
            street: Set(a.street.clone()),
            street_norm: Set(streets::normalise(&a.street)),
            house_number: Set(a.house_number.clone()),
            postcode: Set(a.postcode.clone()),
            lat: Set(a.lat),
            lon: Set(a.lon),
            ..Default::default()
        });
        street::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        progress((i * CHUNK + chunk.len()).min(total));
    }
    let actor = who.recorded();
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new(
            "reports.streets.imported",
            "reports_streets",
            Some(tenant.0),
        )
        .details(json!({"addresses": total})),
    )
    .await?;
    txn.commit().await?;
    if let Ok(mut c) = state.directories.lock() {
        c.remove(&tenant.0);
    }
    Ok(total)
}

/// Number of addresses in the tenant's directory.
pub async fn count(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<u64> {
    rathaus_store::uow::scoped::<street::Entity>(tenant)
        .count(conn)
        .await
        .map_err(db_err)
}

/// The tenant's directory in memory.
pub async fn directory(
    conn: &impl ConnectionTrait,
    state: &ReportsState,
    tenant: TenantId,
) -> Result<Arc<Directory>> {
    if let Ok(c) = state.directories.lock()
        && let Some((at, _, d)) = c.get(&tenant.0)
        && at.elapsed() < RELOAD_AFTER
    {
        return Ok(d.clone());
    }
    let n = count(conn, tenant).await?;
    if let Ok(mut c) = state.directories.lock()
        && let Some((at, rows, d)) = c.get_mut(&tenant.0)
        && *rows == n
    {
        *at = Instant::now();
        return Ok(d.clone());
    }
    let rows = rathaus_store::uow::scoped::<street::Entity>(tenant)
        .order_by_asc(street::Column::Id)
        .all(conn)
        .await?;
    let d = Arc::new(Directory::new(
        rows.into_iter()
            .map(|r| Address {
                street: r.street,
                house_number: r.house_number,
                postcode: r.postcode,
                lat: r.lat,
                lon: r.lon,
            })
            .collect(),
    ));
    if let Ok(mut c) = state.directories.lock() {
        c.insert(tenant.0, (Instant::now(), n, d.clone()));
    }
    Ok(d)
}

/// Autocomplete for the address field.
pub async fn suggest(
    conn: &impl ConnectionTrait,
    state: &ReportsState,
    tenant: TenantId,
    text: &str,
    limit: usize,
) -> Result<Vec<Address>> {
    let d = directory(conn, state, tenant).await?;
    Ok(d.suggest(text, limit).into_iter().cloned().collect())
}

/// The address a typed text names, if the directory knows it.
pub async fn resolve(
    conn: &impl ConnectionTrait,
    state: &ReportsState,
    tenant: TenantId,
    text: &str,
) -> Result<Option<Address>> {
    let d = directory(conn, state, tenant).await?;
    Ok(d.resolve(text).cloned())
}

/// "Marktplatz 3, 12345" as shown in suggestions.
pub fn label(a: &Address) -> String {
    let mut s = a.street.clone();
    if !a.house_number.is_empty() {
        s.push(' ');
        s.push_str(&a.house_number);
    }
    if !a.postcode.is_empty() {
        s.push_str(", ");
        s.push_str(&a.postcode);
    }
    s
}

/// The web's catalog writes the import's messages.
impl streets::Texts for rathaus_web::i18n::Catalog {
    fn text(&self, key: &str) -> String {
        self.get(key).to_owned()
    }
    fn text_with(&self, key: &str, arg: &str) -> String {
        self.fmt(key, arg)
    }
}
