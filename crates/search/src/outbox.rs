//! The outbox: one row per changed document, written in the transaction of the change, so
//! that no committed change is missing from the index and no rolled-back one reaches it.

use chrono::{DateTime, Duration, Utc};
use rathaus_core::{Result, TenantId};
use rathaus_store::Db;
use rathaus_store::uow::{self, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "search_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub kind: String,
        pub doc_id: i64,
        pub op: String,
        pub created_at: DateTimeUtc,
        pub applied_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tables {
    use super::entity as search_outbox;
    rathaus_store::tenant_owned!(search_outbox);
}

pub use entity::Model as Row;

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Created or changed: the worker loads its current state (and deletes it from the index
    /// when the source no longer returns it).
    Upsert,
    /// Deleted.
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Upsert => "upsert",
            Op::Delete => "delete",
        }
    }
}

/// Records a change of document `id` of `kind` in the unit of work's transaction (and tenant).
pub async fn enqueue(tx: &Tx<'_>, kind: &str, id: i64, op: Op) -> Result<()> {
    tx.insert(entity::ActiveModel {
        kind: Set(kind.to_string()),
        doc_id: Set(id),
        op: Set(op.as_str().to_string()),
        created_at: Set(Utc::now()),
        applied_at: Set(None),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// Like `enqueue`, for code that holds a connection (inside its transaction) and a tenant.
pub async fn enqueue_on(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    kind: &str,
    id: i64,
    op: Op,
) -> Result<()> {
    entity::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set(kind.to_string()),
        doc_id: Set(id),
        op: Set(op.as_str().to_string()),
        created_at: Set(Utc::now()),
        applied_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Rows after `after`, in id order, at most `n`.
pub(crate) async fn after(db: &Db, after: i64, n: u64) -> Result<Vec<Row>> {
    Ok(entity::Entity::find()
        .filter(entity::Column::Id.gt(after))
        .order_by_asc(entity::Column::Id)
        .limit(n)
        .all(&db.conn)
        .await?)
}

/// Marks rows up to `upto` as applied by some replica (for `prune`).
pub(crate) async fn mark_applied(db: &Db, after: i64, upto: i64) -> Result<()> {
    entity::Entity::update_many()
        .col_expr(entity::Column::AppliedAt, Expr::value(Utc::now()))
        .filter(entity::Column::Id.gt(after))
        .filter(entity::Column::Id.lte(upto))
        .filter(entity::Column::AppliedAt.is_null())
        .exec(&db.conn)
        .await?;
    Ok(())
}

/// Pending rows after `after` and the time of the oldest.
pub(crate) async fn pending(db: &Db, after: i64) -> Result<(u64, Option<DateTime<Utc>>)> {
    let n = entity::Entity::find()
        .filter(entity::Column::Id.gt(after))
        .count(&db.conn)
        .await?;
    let oldest = entity::Entity::find()
        .filter(entity::Column::Id.gt(after))
        .order_by_asc(entity::Column::Id)
        .one(&db.conn)
        .await?
        .map(|r| r.created_at);
    Ok((n, oldest))
}

/// The highest id written before `before` (rows that old belong to finished transactions).
pub(crate) async fn max_id_before(db: &Db, before: DateTime<Utc>) -> Result<i64> {
    Ok(entity::Entity::find()
        .filter(entity::Column::CreatedAt.lt(before))
        .order_by_desc(entity::Column::Id)
        .one(&db.conn)
        .await?
        .map_or(0, |r| r.id))
}

/// Deletes rows that a replica applied more than `keep` ago. A replica that was offline
/// longer than that must be rebuilt (`rathaus search reindex`).
pub async fn prune(db: &Db, keep: Duration) -> Result<u64> {
    let res = entity::Entity::delete_many()
        .filter(entity::Column::AppliedAt.lt(Utc::now() - keep))
        .exec(&db.conn)
        .await?;
    Ok(res.rows_affected)
}

/// The rows of one tenant (for tests and the admin).
pub async fn of_tenant(db: &Db, tenant: TenantId) -> Result<Vec<Row>> {
    Ok(uow::scoped::<entity::Entity>(tenant)
        .order_by_asc(entity::Column::Id)
        .all(&db.conn)
        .await?)
}
