//! Full-text search for every module (issue #16, ADR 0011).
//!
//! - Modules describe what they index as a `DocKind` and hand documents over through a
//!   `DocSource`; they write a row to the outbox (`outbox::enqueue`) in the transaction of
//!   every change to such a document.
//! - `SearchService` keeps one tantivy index under `<data_dir>/search/` for all tenants and
//!   kinds, with the German analyzer of `analyzer`. Each process has its own replica that
//!   follows the outbox (`apply_outbox`, `run_worker`) and remembers its position in the
//!   index's commit payload; `reindex` rebuilds from the modules' tables.
//! - `search` filters by tenant, the reader's visibility terms and the kinds inside the query,
//!   so hits, totals, facets and snippets only contain what the reader may open.

pub mod analyzer;
pub mod doc;
mod facets;
pub mod migrations;
pub mod outbox;
mod schema;
mod service;

pub use doc::{Doc, DocField, DocKind, DocSource, visibility};
pub use outbox::{Op, enqueue, enqueue_on};
pub use service::{
    Facets, Hit, MAX_LIMIT, MAX_QUERY_CHARS, MAX_QUERY_WORDS, Results, SearchRequest,
    SearchService, Status, escape,
};

/// The index directory inside the data directory.
pub fn index_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("search")
}

/// Runs the search service's migrations (the outbox table), after the platform's.
pub async fn migrate(db: &rathaus_store::Db) -> anyhow::Result<()> {
    use sea_orm_migration::MigratorTrait;
    migrations::Migrator::up(&db.conn, None).await?;
    Ok(())
}
