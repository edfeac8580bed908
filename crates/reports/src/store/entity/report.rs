use sea_orm::entity::prelude::*;

/// A defect report. `description` is what the reporter wrote (staff only); the public sees
/// `public_description`, which moderation may edit to remove personal data.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reports_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// `M-2026-000123`
    pub reference: String,
    pub category_id: i64,
    pub status: String,
    /// Derived from `status` (new, confirmed, in_progress, planned), kept for the indexes.
    pub is_open: bool,
    /// `pending`, `published` or `hidden`.
    pub moderation: String,
    /// `web`, `web_nojs`, `open311` or `staff`.
    pub source: String,
    pub lat: f64,
    pub lon: f64,
    /// The map cell of the position (`domain::geo::cell_of`).
    pub cell: i64,
    pub address: String,
    pub description: String,
    pub public_description: String,
    /// The latest public reply (Open311 `status_notes`).
    pub status_notes: String,
    /// `low`, `normal` or `high`.
    pub priority: String,
    /// When the first answer is due (working days after receipt), then what staff set.
    pub due_at: DateTimeUtc,
    pub department_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub duplicate_of: Option<i64>,
    pub reporter_name: String,
    pub reporter_email: String,
    pub reporter_phone: String,
    /// SHA-256 of the secret status link's token.
    pub status_token_hash: String,
    /// Open311 token while moderation holds the request back.
    pub open311_token: Option<String>,
    pub api_key_id: Option<i64>,
    /// JSON object: attribute code → answer.
    pub attributes: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub first_answer_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
