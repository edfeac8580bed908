use sea_orm::entity::prelude::*;

/// A photo of a resource, re-encoded on upload (the original is never kept). The bytes live in
/// the database like the coat of arms, so every `serve` process has them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub resource_id: i64,
    /// Text alternative for screen readers (required, at most 300 characters).
    pub alt_text: String,
    /// Order on the page, ascending.
    pub position: i32,
    /// SHA-256 of `image`, lower-case hex; also the ETag.
    pub sha256: String,
    pub width: i32,
    pub height: i32,
    /// JPEG, at most 1600 px wide and high.
    pub image: Vec<u8>,
    /// JPEG, at most 400 px wide and high.
    pub thumb: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
