use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_series")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub resource_id: i64,
    pub title: String,
    /// Local wall-clock start of the first occurrence, `YYYY-MM-DDTHH:MM`.
    pub dtstart_local: String,
    pub duration_minutes: i32,
    /// RRULE value without DTSTART.
    pub rrule: String,
    /// Local starts (`YYYY-MM-DDTHH:MM`) of excluded occurrences, comma separated.
    pub exdates: String,
    /// Same values as a reservation's status.
    pub status: String,
    pub sequence: i32,
    pub booked_by: Option<i64>,
    pub organisation_id: Option<i64>,
    pub season_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
