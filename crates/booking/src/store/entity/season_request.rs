use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_season_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub season_id: i64,
    pub organisation_id: i64,
    pub resource_id: i64,
    pub title: String,
    /// 0 = Monday .. 6 = Sunday.
    pub weekday: i32,
    /// Local `HH:MM`.
    pub start_time: String,
    pub end_time: String,
    /// `pending`, `allocated` or `declined`.
    pub status: String,
    pub note: String,
    pub submitted_by: Option<i64>,
    pub series_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Why the request was declined.
    pub decision_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
