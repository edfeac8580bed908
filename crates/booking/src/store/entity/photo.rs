use sea_orm::entity::prelude::*;

/// A photo of a resource, re-encoded on upload (the original is never kept). The bytes live on
/// the platform's file service (ADR 0016); older photos in the database until moved.
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
    /// JPEG, at most 1600 px wide and high, in the database: photos stored before ADR 0016
    /// until `booking.photos_to_files` moves them; None once on the file service.
    pub image: Option<Vec<u8>>,
    /// JPEG, at most 400 px wide and high (as `image`).
    pub thumb: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    /// The picture and its thumbnail on the platform's file service (`rathaus_store::files`).
    pub image_file_id: Option<i64>,
    pub thumb_file_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
