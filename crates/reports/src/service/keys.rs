//! Open311 API keys (issue 3, item 14): created by the tenant administrator or with
//! `rathaus reports create-api-key --name NAME`; only the key's SHA-256 is stored, the key
//! itself is shown once. Each key has a rate limit (requests per minute) and can be revoked.

use crate::service::{ApiKeyId, MANAGE};
use crate::store::entity::api_key;
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Scope};
use rathaus_store::{audit, begin, db_err, random_token, sha256_hex};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::json;

pub use api_key::Model as ApiKey;

/// Default requests per minute of a new key.
pub const DEFAULT_RATE: i32 = 600;
/// Keys start with this, so a leaked one is recognisable in logs and scanners.
const PREFIX: &str = "r311_";

/// Creates a key; returns it with the secret (shown once). `who` is the system for the CLI.
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    who: Actor<'_>,
    tenant: TenantId,
    name: &str,
    rate_limit: i32,
) -> Result<(ApiKey, String)> {
    who.require(MANAGE)?;
    who.require_tenant(tenant)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", name, 200);
    if !(1..=100_000).contains(&rate_limit) {
        errs.add("rate_limit", "reports.err.rate_limit");
    }
    errs.into_result()?;
    let secret = format!("{PREFIX}{}", random_token(24));
    let txn = begin(db).await?;
    let k = api_key::ActiveModel {
        tenant_id: Set(tenant.0),
        name: Set(name),
        key_hash: Set(sha256_hex(&secret)),
        prefix: Set(secret.chars().take(10).collect()),
        rate_limit: Set(rate_limit),
        created_by: Set(who.principal().map(|w| w.user_id.0)),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        tenant,
        &who.recorded(),
        NewEvent::new("reports.api_key.created", "reports_api_key", Some(k.id))
            .details(json!({"name": k.name, "rate_limit": k.rate_limit})),
    )
    .await?;
    txn.commit().await?;
    Ok((k, secret))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    who: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<ApiKey>> {
    who.require(MANAGE)?;
    let scope = Scope::new(conn, tenant, who)?;
    Ok(scope
        .find::<api_key::Entity>()
        .order_by_asc(api_key::Column::Name)
        .order_by_asc(api_key::Column::Id)
        .all(scope.conn())
        .await?)
}

/// Changes a key's rate limit.
pub async fn set_rate<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    who: Actor<'_>,
    tenant: TenantId,
    id: ApiKeyId,
    rate_limit: i32,
) -> Result<ApiKey> {
    who.require(MANAGE)?;
    who.require_tenant(tenant)?;
    if !(1..=100_000).contains(&rate_limit) {
        return Err(FieldErrors::single("rate_limit", "reports.err.rate_limit"));
    }
    let txn = begin(db).await?;
    let k = find(&txn, tenant, id).await?;
    let before = k.rate_limit;
    let mut am: api_key::ActiveModel = k.into();
    am.rate_limit = Set(rate_limit);
    let k = am.update(&txn).await?;
    audit::record(
        &txn,
        tenant,
        &who.recorded(),
        NewEvent::new("reports.api_key.rate_changed", "reports_api_key", Some(id))
            .details(json!({"before": before, "after": rate_limit})),
    )
    .await?;
    txn.commit().await?;
    Ok(k)
}

pub async fn revoke<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    who: Actor<'_>,
    tenant: TenantId,
    id: ApiKeyId,
) -> Result<()> {
    who.require(MANAGE)?;
    who.require_tenant(tenant)?;
    let txn = begin(db).await?;
    let k = find(&txn, tenant, id).await?;
    if k.revoked_at.is_none() {
        let mut am: api_key::ActiveModel = k.into();
        am.revoked_at = Set(Some(Utc::now()));
        am.update(&txn).await?;
        audit::record(
            &txn,
            tenant,
            &who.recorded(),
            NewEvent::new("reports.api_key.revoked", "reports_api_key", Some(id)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn find(conn: &impl ConnectionTrait, tenant: TenantId, id: ApiKeyId) -> Result<ApiKey> {
    rathaus_store::uow::scoped_by_id::<api_key::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The tenant's active key with this secret, if any.
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    secret: &str,
) -> Result<Option<ApiKey>> {
    let secret = secret.trim();
    if secret.is_empty() || secret.len() > 200 {
        return Ok(None);
    }
    rathaus_store::uow::scoped::<api_key::Entity>(tenant)
        .filter(api_key::Column::KeyHash.eq(sha256_hex(secret)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(conn)
        .await
        .map_err(db_err)
}
