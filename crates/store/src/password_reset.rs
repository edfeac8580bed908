//! "Forgot password" for citizens: a reset link by e-mail (single use, valid one hour, only the
//! token's SHA-256 stored), then a new password that ends every session of the account.
//!
//! The request never reveals whether an address has an account: unknown addresses, disabled
//! accounts and staff accounts (staff are reset by their administrators) get the same answer
//! after the same work; only the owner of a citizen account receives a link (a staff member
//! receives a mail pointing to the administration).

use crate::accounts::{KIND_CITIZEN, RegisterPolicy, TokenState};
use crate::audit::{self, Actor};
use crate::entity::{email_confirmation, password_reset, password_reset_attempt, session, user};
use crate::password;
use crate::uow::{scoped, scoped_delete, scoped_update};
use chrono::{Duration, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Result, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::json;

/// How long a reset link is valid.
pub fn reset_validity() -> Duration {
    Duration::hours(1)
}

/// Used reset rows are kept this long after they expired (a second use then still answers
/// "already used"), then deleted when the next request comes in.
fn keep_expired() -> Duration {
    Duration::days(7)
}

/// The mail a reset request sends; the caller words it (in the user's language).
pub enum ResetMail<'a> {
    /// A citizen account: the reset link's token.
    Link { name: &'a str, token: &'a str },
    /// A staff account: no link, staff passwords are reset by their administrators.
    Staff { name: &'a str },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRequest {
    /// The request was taken: a mail went out if the address belongs to an account. The
    /// caller answers the same either way.
    Accepted,
    /// Too many requests from this client address or for this e-mail address.
    Throttled,
}

/// Asks for a reset link. Validates the address format only; applies the per-IP/per-address
/// limit (the registration's numbers, counted separately: both send mail); for an active
/// citizen account creates a token valid for an hour (older open ones stop working) and
/// queues the mail, all in one transaction with the audit event.
pub async fn request_password_reset<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    email: &str,
    ip: &str,
    policy: &RegisterPolicy,
    compose: impl FnOnce(ResetMail<'_>) -> (String, String),
) -> Result<ResetRequest> {
    let mut errs = FieldErrors::new();
    let email = errs.email("email", email);
    errs.into_result()?;
    let ip: String = ip.chars().take(64).collect();
    let actor = Actor::system(&format!("ip:{ip}"));

    let now = Utc::now();
    let since = now - policy.window;
    let recent = |col: password_reset_attempt::Column, v: &str| {
        scoped::<password_reset_attempt::Entity>(tenant)
            .filter(col.eq(v.to_string()))
            .filter(password_reset_attempt::Column::At.gt(since))
    };
    let by_ip = recent(password_reset_attempt::Column::Ip, &ip)
        .count(db)
        .await?;
    let by_mail = recent(password_reset_attempt::Column::Email, &email)
        .count(db)
        .await?;
    if by_ip >= policy.per_ip || by_mail >= policy.per_email {
        tracing::warn!(tenant = tenant.0, %ip, "password reset throttled");
        // Nothing is stored but the audit event: a flood of refused requests adds no rows to
        // the attempt table.
        let txn = crate::begin(db).await?;
        audit::record(
            &txn,
            tenant,
            &actor,
            NewEvent::new("user.password_reset_throttled", "user", Some(&email))
                .details(json!({"ip": ip})),
        )
        .await?;
        txn.commit().await?;
        return Ok(ResetRequest::Throttled);
    }

    // The token and its hash are made in every case, so that an unknown address costs as
    // much as a known one up to the writes.
    let token = crate::random_token(32);
    let token_hash = crate::sha256_hex(&token);
    let txn = crate::begin(db).await?;
    // The attempt table holds one window of requests.
    scoped_delete::<password_reset_attempt::Entity>(tenant)
        .filter(password_reset_attempt::Column::At.lte(since))
        .exec(&txn)
        .await?;
    password_reset_attempt::ActiveModel {
        tenant_id: Set(tenant.0),
        ip: Set(ip.clone()),
        email: Set(email.chars().take(254).collect()),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    scoped_delete::<password_reset::Entity>(tenant)
        .filter(password_reset::Column::ExpiresAt.lt(now - keep_expired()))
        .exec(&txn)
        .await?;
    let u = scoped::<user::Entity>(tenant)
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?;
    let (outcome, target) = match u {
        Some(u) if u.active && u.kind == KIND_CITIZEN => {
            close_resets(&txn, tenant, u.id).await?;
            password_reset::ActiveModel {
                tenant_id: Set(tenant.0),
                user_id: Set(u.id),
                token_hash: Set(token_hash),
                created_at: Set(now),
                expires_at: Set(now + reset_validity()),
                used_at: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let (subject, body) = compose(ResetMail::Link {
                name: &u.name,
                token: &token,
            });
            crate::mail::queue(&txn, tenant, &u.email, &subject, &body).await?;
            ("mailed", u.id.to_string())
        }
        Some(u) if u.active => {
            let (subject, body) = compose(ResetMail::Staff { name: &u.name });
            crate::mail::queue(&txn, tenant, &u.email, &subject, &body).await?;
            ("staff", u.id.to_string())
        }
        Some(u) => ("inactive", u.id.to_string()),
        None => ("unknown", email.clone()),
    };
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new("user.password_reset_requested", "user", Some(&target))
            .details(json!({"ip": ip, "outcome": outcome})),
    )
    .await?;
    txn.commit().await?;
    Ok(ResetRequest::Accepted)
}

/// Marks every open reset token of a user as used.
async fn close_resets(conn: &impl ConnectionTrait, tenant: TenantId, user_id: i64) -> Result<()> {
    scoped_update::<password_reset::Entity>(tenant)
        .col_expr(password_reset::Column::UsedAt, Expr::value(Utc::now()))
        .filter(password_reset::Column::UserId.eq(user_id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// The reset row of a token and the account it belongs to. A token of an account that was
/// disabled (or is no citizen account any more) meanwhile counts as unknown.
async fn reset_row(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<(TokenState, Option<(password_reset::Model, user::Model)>)> {
    if token.is_empty() || token.len() > 100 {
        return Ok((TokenState::Unknown, None));
    }
    let Some(row) = scoped::<password_reset::Entity>(tenant)
        .filter(password_reset::Column::TokenHash.eq(crate::sha256_hex(token)))
        .one(conn)
        .await?
    else {
        return Ok((TokenState::Unknown, None));
    };
    let Some(u) = scoped::<user::Entity>(tenant)
        .filter(user::Column::Id.eq(row.user_id))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Kind.eq(KIND_CITIZEN))
        .one(conn)
        .await?
    else {
        return Ok((TokenState::Unknown, None));
    };
    let state = if row.used_at.is_some() {
        TokenState::Used
    } else if row.expires_at <= Utc::now() {
        TokenState::Expired
    } else {
        TokenState::Valid
    };
    Ok((state, Some((row, u))))
}

/// Looks at a reset link without using it (the page behind the link's GET: mail scanners
/// follow links, so this changes nothing).
pub async fn password_reset_state(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<TokenState> {
    Ok(reset_row(conn, tenant, token).await?.0)
}

/// Uses a reset link: checks the new password (field `password`), then in one transaction
/// uses the token (once, even under a race), sets the password, counts the address as
/// confirmed (the owner proved it), closes the user's other reset and confirmation links and
/// ends all of their sessions. Returns `Valid` when the password was set; a refused password
/// is an `Error::Invalid` and changes nothing.
pub async fn reset_password_with_token<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    token: &str,
    new_password: &str,
    ip: &str,
) -> Result<TokenState> {
    let (state, found) = reset_row(db, tenant, token).await?;
    let (TokenState::Valid, Some((row, u))) = (state, found) else {
        return Ok(state);
    };
    let mut errs = FieldErrors::new();
    errs.new_password("password", new_password, &[&u.email, &u.name]);
    errs.into_result()?;
    // Hashed before the transaction: argon2 takes a while and SQLite's write lock is shared.
    let hash = password::hash(new_password)?;

    let txn = crate::begin(db).await?;
    let now = Utc::now();
    // Conditional: two requests racing with the same link cannot both use it, and a link that
    // expired in the meantime is not used.
    let r = scoped_update::<password_reset::Entity>(tenant)
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::Id.eq(row.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Ok(TokenState::Used);
    }
    close_resets(&txn, tenant, row.user_id).await?;
    let r = scoped_update::<user::Entity>(tenant)
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .filter(user::Column::Id.eq(row.user_id))
        .filter(user::Column::Active.eq(true))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        // Disabled between the look-up and now: nothing happens.
        return Ok(TokenState::Unknown);
    }
    let was_confirmed = u.email_confirmed_at.is_some();
    if !was_confirmed {
        scoped_update::<user::Entity>(tenant)
            .col_expr(user::Column::EmailConfirmedAt, Expr::value(now))
            .filter(user::Column::Id.eq(row.user_id))
            .filter(user::Column::EmailConfirmedAt.is_null())
            .exec(&txn)
            .await?;
        scoped_update::<email_confirmation::Entity>(tenant)
            .col_expr(email_confirmation::Column::UsedAt, Expr::value(now))
            .filter(email_confirmation::Column::UserId.eq(row.user_id))
            .filter(email_confirmation::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
    }
    let ended = scoped_delete::<session::Entity>(tenant)
        .filter(session::Column::UserId.eq(row.user_id))
        .exec(&txn)
        .await?
        .rows_affected;
    audit::record(
        &txn,
        tenant,
        &Actor {
            id: Some(u.id),
            label: u.email.clone(),
        },
        NewEvent::new("user.password_reset_by_mail", "user", Some(u.id)).details(json!({
            "ip": ip, "sessions_ended": ended, "email_confirmed_now": !was_confirmed,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(TokenState::Valid)
}
