use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_organisations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    /// `school`, `club` or `other`: fee group and season priority.
    pub kind: String,
    pub contact_email: String,
    /// Agreed that its name appears on public occupancy views.
    pub public_name: bool,
    /// Secret part of the organisation's calendar feed URL.
    pub feed_token: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
