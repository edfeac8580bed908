use sea_orm::entity::prelude::*;

/// A report's photo. The upload waits in quarantine (`quarantine_file_id`) until the job
/// `reports.photo_clean` has re-encoded it; only the re-encoded picture is ever served, and the
/// upload as sent is removed then.
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
    /// The JPEG in the database (photos stored before ADR 0016, until
    /// `reports.photos_to_files` moves them); None once it is on the file service.
    pub image: Option<Vec<u8>>,
    pub thumb: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    /// The JPEG and its thumbnail on the platform's file service (`rathaus_store::files`).
    pub image_file_id: Option<i64>,
    pub thumb_file_id: Option<i64>,
    /// The upload as sent, on the file service, while it waits to be re-encoded.
    pub quarantine_file_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
