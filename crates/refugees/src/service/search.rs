//! Accommodations and persons in the platform search. Both are found by exactly the readers of
//! the module's lists (any of the three read permissions, see `ANY_READ`), so a person's
//! document holds only what every such reader sees in the person list: the names. Birth
//! date, nationality, residence and social data are never indexed, since the index cannot
//! hide single fields from a reader.
//!
//! Every change enqueues the document in its transaction: creating and changing a person, a
//! new accommodation, the import (in bulk), and the anonymisation, which deletes the
//! person's document (an anonymised person is never loaded again either).

use async_trait::async_trait;
use chrono::Utc;
use rathaus_core::{Result, TenantId};
use rathaus_search::{Doc, DocField, DocKind, DocSource, Op, visibility};
use rathaus_store::Db;
use rathaus_store::uow::Tx;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::permissions::ANY_READ;
use crate::store::{accommodation, person};

/// The kinds' names: facet values, outbox kinds and `search.kind.…` labels.
pub const PERSON: &str = "refugees.person";
pub const ACCOMMODATION: &str = "refugees.accommodation";

/// Outbox rows per INSERT in bulk (well below the bound-parameter limits of both backends).
const CHUNK: usize = 1_000;

/// Who may find either kind: whoever may open the module's lists.
fn readers() -> Vec<String> {
    ANY_READ.iter().map(|p| visibility::permission(p)).collect()
}

/// Records that these documents changed (or are gone), in the caller's transaction. Bulk
/// inserts, so that an import of tens of thousands of persons stays one statement per chunk.
pub async fn index_later(tx: &Tx<'_>, kind: &str, ids: &[i64], op: Op) -> Result<()> {
    use rathaus_search::outbox::entity as outbox;
    let tenant = tx.tenant();
    let now = Utc::now();
    for chunk in ids.chunks(CHUNK) {
        let rows = chunk.iter().map(|id| outbox::ActiveModel {
            tenant_id: Set(tenant.0),
            kind: Set(kind.to_string()),
            doc_id: Set(*id),
            op: Set(op.as_str().to_string()),
            created_at: Set(now),
            applied_at: Set(None),
            ..Default::default()
        });
        outbox::Entity::insert_many(rows).exec(tx.conn()).await?;
    }
    Ok(())
}

fn person_doc(p: person::Model) -> Option<Doc> {
    if p.anonymised_at.is_some() {
        return None;
    }
    Some(Doc {
        id: p.id,
        tenant: TenantId(p.tenant_id),
        title: format!("{}, {}", p.surname, p.given_names),
        url: format!("/unterbringung/personen/{}", p.id),
        body: String::new(),
        tags: vec![],
        date: None,
        department: None,
        visible_to: readers(),
    })
}

fn accommodation_doc(a: accommodation::Model) -> Doc {
    Doc {
        id: a.id,
        tenant: TenantId(a.tenant_id),
        title: a.name,
        url: format!("/unterbringung/unterkuenfte/{}", a.id),
        body: a.address,
        tags: vec![],
        date: Some(a.created_at),
        department: None,
        visible_to: readers(),
    }
}

/// Loads persons for the index: names only; anonymised persons are left out (and so deleted
/// from the index when the outbox names them).
pub struct PersonDocs;

#[async_trait]
impl DocSource for PersonDocs {
    fn kind(&self) -> DocKind {
        DocKind {
            name: PERSON,
            fields: &[DocField::Title],
        }
    }

    async fn load_batch(
        &self,
        db: &Db,
        tenant: TenantId,
        after_id: i64,
        n: u64,
    ) -> anyhow::Result<Vec<Doc>> {
        // Anonymised rows are left out in the query, not after it: the reindex stops at the
        // first batch shorter than `n`.
        let rows = rathaus_store::uow::scoped::<person::Entity>(tenant)
            .filter(person::Column::Id.gt(after_id))
            .filter(person::Column::AnonymisedAt.is_null())
            .order_by_asc(person::Column::Id)
            .limit(n)
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().filter_map(person_doc).collect())
    }

    async fn load(&self, db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        let rows = rathaus_store::uow::scoped::<person::Entity>(tenant)
            .filter(person::Column::Id.is_in(ids.iter().copied()))
            .filter(person::Column::AnonymisedAt.is_null())
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().filter_map(person_doc).collect())
    }
}

/// Loads accommodations for the index: name and address.
pub struct AccommodationDocs;

#[async_trait]
impl DocSource for AccommodationDocs {
    fn kind(&self) -> DocKind {
        DocKind {
            name: ACCOMMODATION,
            fields: &[DocField::Title, DocField::Body, DocField::Date],
        }
    }

    async fn load_batch(
        &self,
        db: &Db,
        tenant: TenantId,
        after_id: i64,
        n: u64,
    ) -> anyhow::Result<Vec<Doc>> {
        let rows = rathaus_store::uow::scoped::<accommodation::Entity>(tenant)
            .filter(accommodation::Column::Id.gt(after_id))
            .order_by_asc(accommodation::Column::Id)
            .limit(n)
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().map(accommodation_doc).collect())
    }

    async fn load(&self, db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        let rows = rathaus_store::uow::scoped::<accommodation::Entity>(tenant)
            .filter(accommodation::Column::Id.is_in(ids.iter().copied()))
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().map(accommodation_doc).collect())
    }
}
