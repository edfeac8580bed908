//! Content stored once per tenant and SHA-256 (`store::files`), with its reference count.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "file_contents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub refs: i64,
    pub created_at: DateTimeUtc,
    pub unreferenced_since: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
