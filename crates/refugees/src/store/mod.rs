//! The `refugees_*` tables: entities and the module's own migrations.

pub mod migrations;

macro_rules! entity {
    ($m:ident, $table:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        pub mod $m {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub tenant_id: i64,
                $(pub $field: $ty),*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(accommodation, "refugees_accommodations", {
    name: String,
    kind: String,
    address: String,
    landlord: String,
    rent_cents: Option<i64>,
    accessible: bool,
    kitchen: bool,
    created_at: DateTimeUtc,
});

entity!(unit, "refugees_units", {
    accommodation_id: i64,
    name: String,
});

entity!(room, "refugees_rooms", {
    accommodation_id: i64,
    unit_id: Option<i64>,
    name: String,
    capacity: i32,
    accessible: bool,
    ground_floor: bool,
    closed_from: Option<Date>,
    closed_until: Option<Date>,
});

entity!(bed, "refugees_beds", {
    accommodation_id: i64,
    room_id: i64,
    number: i32,
});

entity!(household, "refugees_households", {
    reference: String,
    head_person_id: Option<i64>,
});

entity!(person, "refugees_persons", {
    household_id: Option<i64>,
    surname: String,
    given_names: String,
    birth_date: Option<Date>,
    sex: String,
    nationality: String,
    languages: String,
    phone: String,
    residence_status: String,
    residence_paragraph: String,
    permit_valid_until: Option<Date>,
    allocation_date: Option<Date>,
    allocation_ref: String,
    benefits_ref: String,
    needs: String,
    notes: String,
    created_at: DateTimeUtc,
    updated_at: DateTimeUtc,
    anonymised_at: Option<DateTimeUtc>,
});

entity!(occupancy, "refugees_occupancies", {
    person_id: i64,
    bed_id: i64,
    room_id: i64,
    accommodation_id: i64,
    starts_on: Date,
    ends_on: Option<Date>,
    created_at: DateTimeUtc,
});

entity!(mapping, "refugees_mappings", {
    mapping: String,
    updated_at: DateTimeUtc,
});

entity!(settings, "refugees_settings", {
    retention_years: i32,
    expiry_days: i32,
    updated_at: DateTimeUtc,
});

entity!(reminder_run, "refugees_reminder_runs", {
    mailed_on: Date,
    mails: i32,
    created_at: DateTimeUtc,
});

rathaus_store::tenant_owned!(
    accommodation,
    unit,
    room,
    bed,
    household,
    person,
    occupancy,
    mapping,
    settings,
    reminder_run
);
