//! The refugees module's tables, with their own history table (`seaql_migrations_refugees`).

use rathaus_store::schema::{fk, index, tenant_fk, unique_index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001),
            Box::new(M0002),
            Box::new(M0003),
            Box::new(M0004),
            Box::new(M0005),
            Box::new(M0006),
        ]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_refugees".into_iden()
    }
}

struct M0001;

impl MigrationName for M0001 {
    fn name(&self) -> &str {
        "m0001_refugees"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let cascade = ForeignKeyAction::Cascade;
        m.create_table(
            Table::create()
                .table("refugees_accommodations")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("name", 200))
                .col(string_len("kind", 30))
                .col(string_len("address", 300))
                .col(string_len("landlord", 200))
                .col(big_integer_null("rent_cents"))
                .col(boolean("accessible"))
                .col(boolean("kitchen"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("refugees_accommodations"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "ux_refugees_accommodations_name",
            "refugees_accommodations",
            &["tenant_id", "name"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("refugees_units")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("accommodation_id"))
                .col(string_len("name", 200))
                .foreign_key(&mut tenant_fk("refugees_units"))
                .foreign_key(&mut fk(
                    "refugees_units",
                    "accommodation_id",
                    "refugees_accommodations",
                    cascade,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("refugees_rooms")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("accommodation_id"))
                .col(big_integer_null("unit_id"))
                .col(string_len("name", 200))
                .col(integer("capacity"))
                .col(boolean("accessible"))
                .col(boolean("ground_floor"))
                .col(date_null("closed_from"))
                .col(date_null("closed_until"))
                .foreign_key(&mut tenant_fk("refugees_rooms"))
                .foreign_key(&mut fk(
                    "refugees_rooms",
                    "accommodation_id",
                    "refugees_accommodations",
                    cascade,
                ))
                .foreign_key(&mut fk(
                    "refugees_rooms",
                    "unit_id",
                    "refugees_units",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_refugees_rooms_acc",
            "refugees_rooms",
            &["tenant_id", "accommodation_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("refugees_beds")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("accommodation_id"))
                .col(big_integer("room_id"))
                .col(integer("number"))
                .foreign_key(&mut tenant_fk("refugees_beds"))
                .foreign_key(&mut fk(
                    "refugees_beds",
                    "room_id",
                    "refugees_rooms",
                    cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "ux_refugees_beds_room_number",
            "refugees_beds",
            &["room_id", "number"],
        ))
        .await?;
        m.create_index(index(
            "ix_refugees_beds_acc",
            "refugees_beds",
            &["tenant_id", "accommodation_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("refugees_households")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("reference", 100))
                .col(big_integer_null("head_person_id"))
                .foreign_key(&mut tenant_fk("refugees_households"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("refugees_persons")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer_null("household_id"))
                .col(string_len("surname", 200))
                .col(string_len("given_names", 200))
                .col(date_null("birth_date"))
                .col(string_len("sex", 20))
                .col(string_len("nationality", 100))
                .col(string_len("languages", 200))
                .col(string_len("phone", 50))
                .col(string_len("residence_status", 30))
                .col(string_len("residence_paragraph", 100))
                .col(date_null("permit_valid_until"))
                .col(date_null("allocation_date"))
                .col(string_len("allocation_ref", 100))
                .col(string_len("benefits_ref", 100))
                .col(string_len("needs", 200))
                .col(text("notes"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("refugees_persons"))
                .foreign_key(&mut fk(
                    "refugees_persons",
                    "household_id",
                    "refugees_households",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_refugees_persons_name",
            "refugees_persons",
            &["tenant_id", "surname"],
        ))
        .await?;
        m.create_index(index(
            "ix_refugees_persons_permit",
            "refugees_persons",
            &["tenant_id", "permit_valid_until"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("refugees_occupancies")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("person_id"))
                .col(big_integer("bed_id"))
                .col(big_integer("room_id"))
                .col(big_integer("accommodation_id"))
                .col(date("starts_on"))
                .col(date_null("ends_on"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("refugees_occupancies"))
                .foreign_key(&mut fk(
                    "refugees_occupancies",
                    "person_id",
                    "refugees_persons",
                    cascade,
                ))
                .foreign_key(&mut fk(
                    "refugees_occupancies",
                    "bed_id",
                    "refugees_beds",
                    cascade,
                ))
                .take(),
        )
        .await?;
        for (name, cols) in [
            ("ix_refugees_occ_bed", &["bed_id", "starts_on"][..]),
            ("ix_refugees_occ_person", &["person_id", "starts_on"][..]),
            (
                "ix_refugees_occ_acc",
                &["tenant_id", "accommodation_id", "starts_on", "ends_on"][..],
            ),
        ] {
            m.create_index(index(name, "refugees_occupancies", cols))
                .await?;
        }
        m.create_table(
            Table::create()
                .table("refugees_mappings")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(text("mapping"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("refugees_mappings"))
                .take(),
        )
        .await?;
        Ok(())
    }
}

/// Anonymisation after the deletion period (issue 12, section 11): when a person's data was
/// erased; the row stays for the statistics.
struct M0002;

impl MigrationName for M0002 {
    fn name(&self) -> &str {
        "m0002_refugees_anonymised"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("refugees_persons")
                .add_column(timestamp_with_time_zone_null("anonymised_at"))
                .take(),
        )
        .await
    }
}

/// The module's settings per tenant (one row at most): the deletion period.
struct M0003;

impl MigrationName for M0003 {
    fn name(&self) -> &str {
        "m0003_refugees_settings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("refugees_settings")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(integer("retention_years"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("refugees_settings"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "ux_refugees_settings_tenant",
            "refugees_settings",
            &["tenant_id"],
        ))
        .await
    }
}

/// The period within which expiring residence permits are listed and mailed, per tenant
/// (issue 12, section 5: configurable, 90 days by default).
struct M0004;

impl MigrationName for M0004 {
    fn name(&self) -> &str {
        "m0004_refugees_settings_expiry_days"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("refugees_settings")
                .add_column(integer("expiry_days").default(90))
                .take(),
        )
        .await
    }
}

/// One row per tenant and day the weekly reminder mail went out, written in the transaction
/// that queues the mails: a retried job (its mails committed, its completion lost) finds the
/// row and mails nobody twice.
struct M0005;

impl MigrationName for M0005 {
    fn name(&self) -> &str {
        "m0005_refugees_reminder_runs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("refugees_reminder_runs")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(date("mailed_on"))
                .col(integer("mails"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("refugees_reminder_runs"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "ux_refugees_reminder_runs_day",
            "refugees_reminder_runs",
            &["tenant_id", "mailed_on"],
        ))
        .await
    }
}

/// The name index holds the given names and the id too: a name search walks it in the
/// list's order (surname, given names, id) and tests the text on the index entries, without
/// reading each person's row (50,000 row reads made a search take 90 ms on SQLite).
struct M0006;

impl MigrationName for M0006 {
    fn name(&self) -> &str {
        "m0006_refugees_persons_name_covering"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "ix_refugees_persons_names",
            "refugees_persons",
            &["tenant_id", "surname", "given_names", "id"],
        ))
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_refugees_persons_name")
                .table("refugees_persons")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "ix_refugees_persons_name",
            "refugees_persons",
            &["tenant_id", "surname"],
        ))
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_refugees_persons_names")
                .table("refugees_persons")
                .to_owned(),
        )
        .await
    }
}
