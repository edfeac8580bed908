use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_reservations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub resource_id: i64,
    pub title: String,
    /// UTC, whole minutes.
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// One of `requested`, `confirmed`, `cancelled`, `rejected`.
    pub status: String,
    pub booked_by: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Why a request was rejected.
    pub decision_reason: Option<String>,
    /// Who approved or rejected the request, and when.
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    /// The series this is an occurrence of.
    pub series_id: Option<i64>,
    /// The organisation booked for (its members see it, its feed holds it).
    pub organisation_id: Option<i64>,
    /// RFC 5545 SEQUENCE: rises with every change calendars must notice.
    pub sequence: i32,
    pub fee_cents: i64,
    /// `staff`, `school`, `club`, `other` or `citizen`.
    pub fee_group: String,
    pub no_show: bool,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
