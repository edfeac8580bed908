use sea_orm::entity::prelude::*;

/// A tenant's chain head as recorded at some moment (`rathaus audit anchor`, daily in
/// `serve`, before each backup). Kept apart from the chain and without a foreign key, so that
/// removing a tenant's events together with its head is still seen by `audit verify`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_anchors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub seq: i64,
    pub hash: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
