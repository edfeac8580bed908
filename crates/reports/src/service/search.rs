//! The reports in the staff's full-text search: reference, category, address and the
//! reporter's description, for whoever works the inbox. Every write that changes these
//! fields enqueues the report (`index_later`) in its transaction.

use crate::permissions::{HANDLE, MODERATE};
use crate::service::ReportId;
use crate::service::inbox::Names;
use crate::store::entity::report;
use async_trait::async_trait;
use rathaus_core::TenantId;
use rathaus_search::{Doc, DocField, DocKind, DocSource, Op, visibility};
use rathaus_store::Db;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

/// The kind's name: facet value, outbox kind and `search.kind.reports.report` label.
pub const KIND: &str = "reports.report";

/// Records that report `id` changed, in the caller's transaction.
pub async fn index_later(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: ReportId,
) -> rathaus_core::Result<()> {
    rathaus_search::enqueue_on(conn, tenant, KIND, id.0, Op::Upsert).await
}

/// Loads reports for the index.
pub struct ReportDocs;

fn doc(r: report::Model, names: &Names) -> Doc {
    let category = names.category(r.category_id);
    let department = names.department(r.department_id);
    Doc {
        id: r.id,
        tenant: TenantId(r.tenant_id),
        title: format!("{} {category}", r.reference),
        url: format!("/maengel/verwaltung/{}", r.id),
        body: format!("{}\n{}\n{}", r.address, r.description, r.public_description),
        tags: vec![category],
        date: Some(r.created_at),
        department: (!department.is_empty()).then_some(department),
        visible_to: vec![
            visibility::permission(HANDLE),
            visibility::permission(MODERATE),
        ],
    }
}

#[async_trait]
impl DocSource for ReportDocs {
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
        let names = Names::load(&db.conn, tenant).await?;
        let rows = rathaus_store::uow::scoped::<report::Entity>(tenant)
            .filter(report::Column::Id.gt(after_id))
            .order_by_asc(report::Column::Id)
            .limit(n)
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().map(|r| doc(r, &names)).collect())
    }

    async fn load(&self, db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        let names = Names::load(&db.conn, tenant).await?;
        let rows = rathaus_store::uow::scoped::<report::Entity>(tenant)
            .filter(report::Column::Id.is_in(ids.iter().copied()))
            .all(&db.conn)
            .await?;
        Ok(rows.into_iter().map(|r| doc(r, &names)).collect())
    }
}
