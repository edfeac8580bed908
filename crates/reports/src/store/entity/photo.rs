use sea_orm::entity::prelude::*;

/// A report's photo, re-encoded on upload (the original is never kept or served).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports_photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub report_id: i64,
    pub position: i32,
    /// Hidden by moderation: shown to staff only.
    pub hidden: bool,
    pub sha256: String,
    pub width: i32,
    pub height: i32,
    pub image: Vec<u8>,
    pub thumb: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
