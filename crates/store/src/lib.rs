//! Persistence for Rathaus: the database connection (SQLite or PostgreSQL through one sea-orm
//! code path), migrations, and the platform's services (tenants, accounts, sessions, API
//! tokens, audit chain, job queue, mail outbox, file service, backup). Module crates own their own tables and
//! use these services; they never read the platform's tables directly.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod db;
pub mod entity;
pub mod files;
pub mod images;
pub mod jobs;
pub mod live;
pub mod mail;
pub mod mfa;
pub mod migrations;
pub mod outbound;
pub mod password;
pub mod password_reset;
pub mod schema;
pub mod sessions;
pub mod tenants;
pub mod tokens;
pub mod uow;

pub use audit::Actor;
pub use db::{Backend, Db};

use rathaus_core::Error;

/// Database errors are internal: they are logged, never shown to a user.
pub fn db_err(e: sea_orm::DbErr) -> Error {
    Error::from(e)
}

/// Starts the write transaction of a service call. On SQLite it is `BEGIN IMMEDIATE`: a
/// deferred transaction that reads first and writes later cannot wait for a concurrent writer
/// and fails at once with "database is locked"; an immediate one takes the write lock up front
/// and waits for it (busy_timeout). PostgreSQL ignores the mode. Module services use it too.
pub async fn begin<C: sea_orm::TransactionTrait>(db: &C) -> rathaus_core::Result<C::Transaction> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
    .map_err(db_err)
}

/// Random bytes from the OS generator, URL-safe base64 encoded (for tokens and secrets).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn sha256_hex(s: &str) -> String {
    sha256_hex_bytes(s.as_bytes())
}

pub fn sha256_hex_bytes(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(b))
}

/// A case-insensitive "contains" on a text column that behaves alike on both databases.
/// SQLite: `col LIKE '%text%' ESCAPE '\'` (SQLite's `LIKE` ignores the case of ASCII letters,
/// so `ü` and `Ü` still differ there; `lower()` on every row costs three times as much).
/// PostgreSQL, whose `LIKE` is case-sensitive: `lower(col) LIKE '%text%'` with the text
/// lower-cased (`ILIKE` was slower over 50,000 names; the backslash is PostgreSQL's default
/// escape). `%` and `_` in the text match themselves.
pub fn contains_ci(
    backend: sea_orm::DbBackend,
    col: impl sea_orm::sea_query::IntoColumnRef,
    text: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let escape = |t: &str| {
        t.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    };
    match backend {
        sea_orm::DbBackend::Postgres => Expr::expr(Func::lower(Expr::col(col)))
            .like(LikeExpr::new(format!("%{}%", escape(&text.to_lowercase())))),
        _ => Expr::col(col).like(LikeExpr::new(format!("%{}%", escape(text))).escape('\\')),
    }
}
