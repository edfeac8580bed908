//! Persistence for Rathaus: the database connection (SQLite or PostgreSQL through one sea-orm
//! code path), migrations, and the platform's services (tenants, accounts, sessions, API
//! tokens, audit chain, job queue, mail outbox, backup). Module crates own their own tables and
//! use these services; they never read the platform's tables directly.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod db;
pub mod entity;
pub mod jobs;
pub mod mail;
pub mod mfa;
pub mod migrations;
pub mod password;
pub mod sessions;
pub mod tenants;
pub mod tokens;

pub use audit::Actor;
pub use db::{Backend, Db};

use rathaus_core::Error;

/// Database errors are internal: they are logged, never shown to a user.
pub(crate) fn db_err(e: sea_orm::DbErr) -> Error {
    Error::internal(e)
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
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}
