//! Server-side sessions. The cookie holds a random token; the database holds only its SHA-256,
//! so a leaked database copy cannot be replayed as a cookie.

use crate::entity::session;
use crate::{random_token, sha256_hex};
use chrono::{DateTime, Duration, Utc};
use rathaus_core::{Result, TenantId, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession,
};

pub use session::Model as Session;

#[derive(Debug, Clone)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Creates a session and returns the cookie token. Login always creates a new one, which is
/// the session-id rotation that defeats fixation.
pub async fn create(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    mfa_pending: bool,
    t: &Timeouts,
) -> Result<String> {
    let token = random_token(32);
    let now = Utc::now();
    session::ActiveModel {
        id: Set(sha256_hex(&token)),
        tenant_id: Set(tenant.0),
        user_id: Set(Some(user.0)),
        mfa_pending: Set(mfa_pending),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + t.absolute),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

#[derive(sea_orm::FromQueryResult)]
struct SessionUser {
    mfa_pending: bool,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_id: i64,
    email: String,
    name: String,
    totp_enabled: bool,
    kind: String,
}

/// What a signed-in request needs to know about its session.
pub struct Live {
    pub principal: rathaus_core::Principal,
    pub mfa_pending: bool,
    pub totp_enabled: bool,
}

/// The session behind a cookie token with its active user and permissions, in two queries
/// (this runs on every signed-in request), at `now` (the application's clock). Expired
/// sessions are deleted on sight.
pub async fn lookup_principal(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
    t: &Timeouts,
    now: DateTime<Utc>,
) -> Result<Option<Live>> {
    use sea_orm::{FromQueryResult, Statement};
    let id = sha256_hex(token);
    let stmt = Statement::from_sql_and_values(
        conn.get_database_backend(),
        "SELECT s.mfa_pending AS mfa_pending, s.last_seen_at AS last_seen_at, s.expires_at AS expires_at, \
         u.id AS user_id, u.email AS email, u.name AS name, u.totp_enabled AS totp_enabled, u.kind AS kind \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.tenant_id = $2 AND u.tenant_id = $2 AND u.active = $3",
        [id.clone().into(), tenant.0.into(), true.into()],
    );
    let Some(row) = SessionUser::find_by_statement(stmt).one(conn).await? else {
        return Ok(None);
    };
    if now >= row.expires_at || now - row.last_seen_at >= t.idle {
        session::Entity::delete_by_id(id).exec(conn).await?;
        return Ok(None);
    }
    if now - row.last_seen_at > Duration::seconds(60) {
        session::Entity::update_many()
            .col_expr(
                session::Column::LastSeenAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(session::Column::Id.eq(id))
            .exec(conn)
            .await?;
    }
    let (permissions, is_admin) =
        crate::accounts::permissions_of(conn, tenant, UserId(row.user_id)).await?;
    Ok(Some(Live {
        principal: rathaus_core::Principal {
            tenant_id: tenant,
            user_id: UserId(row.user_id),
            name: row.name,
            email: row.email,
            permissions,
            is_admin,
            citizen: row.kind == crate::accounts::KIND_CITIZEN,
        },
        mfa_pending: row.mfa_pending,
        totp_enabled: row.totp_enabled,
    }))
}

/// Completes the second factor: the pending session ends and a full one with a new id takes
/// its place (as at the password step, so a token seen before the second factor is worthless
/// after it). The absolute expiry stays that of the login. Returns the new cookie token.
pub async fn complete_mfa<C: sea_orm::TransactionTrait>(db: &C, token: &str) -> Result<String> {
    let txn = crate::begin(db).await?;
    let old = session::Entity::find_by_id(sha256_hex(token))
        .one(&txn)
        .await?
        .ok_or(rathaus_core::Error::Unauthenticated)?;
    session::Entity::delete_by_id(old.id.clone())
        .exec(&txn)
        .await?;
    let fresh = random_token(32);
    let now = Utc::now();
    session::ActiveModel {
        id: Set(sha256_hex(&fresh)),
        tenant_id: Set(old.tenant_id),
        user_id: Set(old.user_id),
        mfa_pending: Set(false),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(old.expires_at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(fresh)
}

/// The CSRF token of a signed-in request: derived from the session's secret token, so it is
/// bound to the session, changes with every new session (login, second factor) and cannot be
/// planted beforehand by a cookie set from a neighbouring host.
pub fn csrf_token(session_token: &str) -> String {
    sha256_hex(&format!("rathaus-csrf\0{session_token}"))
}

/// Ends a session at the user's request, with its audit event.
pub async fn logout<C: sea_orm::TransactionTrait>(
    db: &C,
    who: &rathaus_core::Principal,
    token: &str,
) -> Result<()> {
    use sea_orm::TransactionSession;
    let txn = crate::begin(db).await?;
    delete(&txn, token).await?;
    crate::audit::record(
        &txn,
        who.tenant_id,
        &crate::Actor::user(who),
        rathaus_core::audit::NewEvent::new("logout", "user", Some(who.user_id)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn delete(conn: &impl ConnectionTrait, token: &str) -> Result<()> {
    session::Entity::delete_by_id(sha256_hex(token))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn delete_for_user(conn: &impl ConnectionTrait, user: UserId) -> Result<u64> {
    let r = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(r.rows_affected)
}

/// Ends every session of the installation (after a restore: the sessions in a backup belong
/// to its past). Returns how many there were.
pub async fn delete_all(conn: &impl ConnectionTrait) -> Result<u64> {
    Ok(session::Entity::delete_many()
        .exec(conn)
        .await?
        .rows_affected)
}

/// Removes sessions past their absolute lifetime (run by a periodic job).
pub async fn purge_expired(conn: &impl ConnectionTrait) -> Result<u64> {
    let r = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(Utc::now()))
        .exec(conn)
        .await?;
    Ok(r.rows_affected)
}
