//! Personal API tokens. Shown once at creation; stored as SHA-256 (they are long random
//! strings, so a slow hash adds nothing).

use crate::audit::{self, Actor};
use crate::entity::api_token;
use crate::{accounts, db_err, random_token, sha256_hex};
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::json;

pub use api_token::Model as ApiToken;

const PREFIX: &str = "rh_";

/// Creates a token for `user`; returns the plaintext. `who` is the system for the CLI.
pub async fn create<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    user: UserId,
    who: crate::uow::Actor<'_>,
    name: &str,
) -> Result<(String, ApiToken)> {
    if let Some(p) = who.principal() {
        // Users create tokens for themselves only.
        if p.user_id != user || p.tenant_id != tenant {
            return Err(Error::Forbidden);
        }
    }
    let mut errs = FieldErrors::new();
    let name = errs.text("name", name, 100);
    errs.into_result()?;
    let txn = crate::begin(db).await?;
    let owner = accounts::user_by_id(&txn, tenant, user.0).await?;
    let plain = format!("{PREFIX}{}", random_token(32));
    let t = api_token::ActiveModel {
        tenant_id: Set(tenant.0),
        user_id: Set(user.0),
        name: Set(name.clone()),
        token_hash: Set(sha256_hex(&plain)),
        prefix: Set(plain.chars().take(10).collect()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let actor = who.recorded();
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new("token.created", "api_token", Some(t.id))
            .details(json!({"name": name, "user": owner.email})),
    )
    .await?;
    txn.commit().await?;
    Ok((plain, t))
}

pub async fn list_own(conn: &impl ConnectionTrait, who: &Principal) -> Result<Vec<ApiToken>> {
    api_token::Entity::find()
        .filter(api_token::Column::TenantId.eq(who.tenant_id.0))
        .filter(api_token::Column::UserId.eq(who.user_id.0))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(conn)
        .await
        .map_err(db_err)
}

pub async fn revoke<C: TransactionTrait>(db: &C, who: &Principal, id: i64) -> Result<()> {
    let txn = crate::begin(db).await?;
    let t = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::TenantId.eq(who.tenant_id.0))
        .filter(api_token::Column::UserId.eq(who.user_id.0))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if t.revoked_at.is_none() {
        let mut am: api_token::ActiveModel = t.clone().into();
        am.revoked_at = Set(Some(Utc::now()));
        am.update(&txn).await?;
        audit::record(
            &txn,
            who.tenant_id,
            &Actor::user(who),
            NewEvent::new("token.revoked", "api_token", Some(id)).details(json!({"name": t.name})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The principal behind a bearer token, or None for unknown, revoked or foreign tokens.
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<Option<Principal>> {
    if !token.starts_with(PREFIX) || token.len() > 100 {
        return Ok(None);
    }
    let Some(t) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(sha256_hex(token)))
        .filter(api_token::Column::TenantId.eq(tenant.0))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if t.last_used_at
        .is_none_or(|l| now - l > chrono::Duration::seconds(60))
    {
        api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_token::Column::Id.eq(t.id))
            .exec(conn)
            .await?;
    }
    accounts::principal(conn, tenant, UserId(t.user_id)).await
}
