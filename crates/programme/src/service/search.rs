//! The measures in the staff's full-text search: title, description, department, source,
//! tags, for readers of the programme. Creating, changing and deleting a measure enqueue it
//! in their transaction (moves do not: the phase is not indexed).

use crate::permissions::READ;
use crate::store::entity::measure;
use async_trait::async_trait;
use rathaus_core::TenantId;
use rathaus_search::{Doc, DocField, DocKind, DocSource, Op, visibility};
use rathaus_store::Db;
use rathaus_store::uow::Tx;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

/// The kind's name: facet value, outbox kind and `search.kind.programme.measure` label.
pub const KIND: &str = "programme.measure";

/// Records that measure `id` changed (or is gone), in the caller's transaction.
pub async fn index_later(tx: &Tx<'_>, id: i64, deleted: bool) -> rathaus_core::Result<()> {
    let op = if deleted { Op::Delete } else { Op::Upsert };
    rathaus_search::enqueue(tx, KIND, id, op).await
}

/// Loads measures for the index.
pub struct MeasureDocs;

fn doc(m: measure::Model) -> Doc {
    Doc {
        id: m.id,
        tenant: TenantId(m.tenant_id),
        title: m.title,
        url: format!("/programm/massnahmen/{}", m.id),
        body: format!("{}\n{}\n{}", m.description, m.source, m.departments),
        tags: m
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        date: Some(m.created_at),
        department: (!m.department.is_empty()).then_some(m.department),
        visible_to: vec![visibility::permission(READ)],
    }
}

#[async_trait]
impl DocSource for MeasureDocs {
    fn kind(&self) -> DocKind {
        DocKind {
            name: KIND,
            fields: &[
                DocField::Title,
                DocField::Body,
                DocField::Tags,
                DocField::Date,
                DocField::Department,
            ],
        }
    }

    async fn load_batch(
        &self,
        db: &Db,
        tenant: TenantId,
        after_id: i64,
        n: u64,
    ) -> anyhow::Result<Vec<Doc>> {
        let rows = rathaus_store::uow::scoped::<measure::Entity>(tenant)
            .filter(measure::Column::Id.gt(after_id))
            .order_by_asc(measure::Column::Id)
            .limit(n)
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().map(doc).collect())
    }

    async fn load(&self, db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        let rows = rathaus_store::uow::scoped::<measure::Entity>(tenant)
            .filter(measure::Column::Id.is_in(ids.iter().copied()))
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().map(doc).collect())
    }
}
