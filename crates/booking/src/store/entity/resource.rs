use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_resources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    /// One of `hall`, `hall_part`, `field`, `room`, `equipment`.
    pub kind: String,
    /// The hall a `hall_part` belongs to.
    pub parent_id: Option<i64>,
    pub capacity: Option<i32>,
    pub requires_approval: bool,
    pub min_minutes: i32,
    pub max_minutes: i32,
    pub buffer_minutes: i32,
    pub horizon_days: i32,
    pub active: bool,
    /// Secret part of the calendar feed's URL; replaced by `service::rotate_feed_token`.
    pub feed_token: String,
    pub created_at: DateTimeUtc,
    pub address: String,
    pub description: String,
    /// Accessibility features, one per line.
    pub accessibility: String,
    /// JSON: seven entries Monday..Sunday, each null (closed) or [from, to] in minutes after
    /// local midnight; "" = open around the clock.
    pub opening_hours: String,
    /// `public`, `organisations` or `staff`.
    pub bookable_by: String,
    /// JSON: fee group -> cents per hour; "" = free of charge.
    pub fee_schedule: String,
    /// Hours before the start after which the booker can no longer cancel.
    pub cancel_hours: i32,
    /// For equipment: the room it is booked along with.
    pub room_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
