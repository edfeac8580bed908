//! What modules hand to the index: document kinds, documents, and the source that loads them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rathaus_core::TenantId;
use rathaus_store::Db;

/// A field a kind indexes. Every document has its tenant, kind, id and visibility terms; the
/// rest is declared per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocField {
    /// Searched with a higher weight, highlighted.
    Title,
    /// Searched, the snippet comes from it.
    Body,
    /// Searched with a higher weight.
    Tags,
    /// The year facet (and the date shown with a hit).
    Date,
    /// The department facet.
    Department,
}

/// A kind of document a module indexes, e.g. `DocKind { name: "records.file", fields:
/// &[Title, Body, Tags, Date, Department] }`. The name is also the facet value and, with a
/// `search.kind.` prefix, the translation key of its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocKind {
    pub name: &'static str,
    pub fields: &'static [DocField],
}

impl DocKind {
    pub fn has(&self, field: DocField) -> bool {
        self.fields.contains(&field)
    }
}

/// Who may open a document: the document carries terms, the reader holds terms, and a hit
/// needs one term in common. Modules choose the terms; the usual ones are built here so that
/// every module spells them alike.
pub mod visibility {
    use rathaus_core::UserId;

    /// Everyone signed in to the tenant's staff side may open it.
    pub const STAFF: &str = "staff";

    /// Whoever holds the permission (e.g. `records.read`).
    pub fn permission(code: &str) -> String {
        format!("perm:{code}")
    }

    /// Members of the department.
    pub fn department(id: i64) -> String {
        format!("dept:{id}")
    }

    /// One user (the case's clerk, the author of a draft).
    pub fn user(id: UserId) -> String {
        format!("user:{}", id.0)
    }
}

/// A document as a module hands it over. Fields the kind does not declare are ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// The row's id in the module's table (unique within the tenant and kind).
    pub id: i64,
    pub tenant: TenantId,
    pub title: String,
    /// The page a hit links to (e.g. `/wissen/seiten/42`), relative to the tenant's host.
    pub url: String,
    pub body: String,
    pub tags: Vec<String>,
    pub date: Option<DateTime<Utc>>,
    /// The department's name as the facet shows it.
    pub department: Option<String>,
    /// The terms of readers that may open it (see `visibility`); none means nobody can find
    /// it (the safe default).
    pub visible_to: Vec<String>,
}

/// A module's documents of one kind, loaded from its own tables (through its service or
/// store, filtered to the tenant as everywhere else).
#[async_trait]
pub trait DocSource: Send + Sync {
    fn kind(&self) -> DocKind;

    /// The documents of `tenant` with ids greater than `after_id`, in id order, at most `n`
    /// (the reindex walks a kind in these batches).
    async fn load_batch(
        &self,
        db: &Db,
        tenant: TenantId,
        after_id: i64,
        n: u64,
    ) -> anyhow::Result<Vec<Doc>>;

    /// The current state of these documents; an id that is not returned is deleted from the
    /// index (the outbox worker calls this for changed ids).
    async fn load(&self, db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>>;
}
