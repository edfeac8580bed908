//! The programme's own tables, with their own history table (`seaql_migrations_programme`),
//! applied after the platform's migrations.

use rathaus_store::schema::{fk, index, tenant_fk, unique_index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Programme),
            Box::new(M0002Interviews),
            Box::new(M0003Settings),
        ]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_programme".into_iden()
    }
}

struct M0001Programme;

impl MigrationName for M0001Programme {
    fn name(&self) -> &str {
        "m0001_programme"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Programme {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("programme_phases")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("key", 40))
                .col(string_len("name", 80))
                .col(integer("position"))
                .col(integer_null("wip_limit"))
                .col(boolean("wip_warn_only").default(false))
                .foreign_key(&mut tenant_fk("programme_phases"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "programme_phases_key",
            "programme_phases",
            &["tenant_id", "key"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("programme_measures")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("title", 200))
                .col(text("description"))
                .col(string_len("source", 200))
                .col(string_len("department", 120))
                .col(string_len("departments", 500))
                .col(string_len("category", 40))
                .col(string_len("size", 10))
                .col(integer("benefit"))
                .col(integer("effort"))
                .col(integer("priority"))
                .col(big_integer_null("responsible_id"))
                .col(string_len("responsible_name", 200))
                .col(date_null("planned_start"))
                .col(date_null("due"))
                .col(string_len("funding", 200))
                .col(text("links"))
                .col(string_len("tags", 300))
                .col(string_len("module_link", 200))
                .col(big_integer("phase_id"))
                .col(big_integer("position"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("phase_since"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("programme_measures"))
                .foreign_key(&mut fk(
                    "programme_measures",
                    "phase_id",
                    "programme_phases",
                    ForeignKeyAction::Restrict,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "programme_measures_board",
            "programme_measures",
            &["tenant_id", "phase_id", "position"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("programme_moves")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("measure_id"))
                .col(big_integer_null("from_phase_id"))
                .col(big_integer("to_phase_id"))
                .col(big_integer_null("moved_by"))
                .col(string_len("moved_by_name", 200))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut tenant_fk("programme_moves"))
                .foreign_key(&mut fk(
                    "programme_moves",
                    "measure_id",
                    "programme_measures",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "programme_moves_measure",
            "programme_moves",
            &["tenant_id", "measure_id", "at"],
        ))
        .await?;
        m.create_index(index(
            "programme_moves_at",
            "programme_moves",
            &["tenant_id", "at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("programme_concerns")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer_null("measure_id"))
                .col(string_len("kind", 20))
                .col(text("text"))
                .col(big_integer_null("raised_by"))
                .col(string_len("raised_by_name", 200))
                .col(boolean("anonymous"))
                .col(string_len("status", 20))
                .col(text("response"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("programme_concerns"))
                .foreign_key(&mut fk(
                    "programme_concerns",
                    "measure_id",
                    "programme_measures",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "programme_concerns_status",
            "programme_concerns",
            &["tenant_id", "status"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("programme_members")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("user_id"))
                .col(string_len("name", 200))
                .col(string_len("department", 120))
                .col(string_len("role", 120))
                .col(boolean("coordinator"))
                .foreign_key(&mut tenant_fk("programme_members"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "programme_members_user",
            "programme_members",
            &["tenant_id", "user_id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("programme_meetings")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(date("date"))
                .col(string_len("place", 300))
                .col(timestamp_with_time_zone("since"))
                .col(text("minutes"))
                .col(text("attendance"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("programme_meetings"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "programme_meetings_date",
            "programme_meetings",
            &["tenant_id", "date"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("programme_meeting_items")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("meeting_id"))
                .col(integer("position"))
                .col(string_len("kind", 20))
                .col(string_len("title", 400))
                .col(big_integer_null("measure_id"))
                .col(big_integer_null("concern_id"))
                .col(text("minutes"))
                .foreign_key(&mut tenant_fk("programme_meeting_items"))
                .foreign_key(&mut fk(
                    "programme_meeting_items",
                    "meeting_id",
                    "programme_meetings",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "programme_meeting_items_meeting",
            "programme_meeting_items",
            &["tenant_id", "meeting_id", "position"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("programme_reports")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 200))
                .foreign_key(&mut tenant_fk("programme_reports"))
                .take(),
        )
        .await?;
        Ok(())
    }
}

/// The initial survey: one record per interview with a department.
struct M0002Interviews;

impl MigrationName for M0002Interviews {
    fn name(&self) -> &str {
        "m0002_programme_interviews"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Interviews {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("programme_interviews")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("department", 120))
                .col(date("date"))
                .col(string_len("people", 500))
                .col(text("notes"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("programme_interviews"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "programme_interviews_department",
            "programme_interviews",
            &["tenant_id", "department"],
        ))
        .await
    }
}

/// The tenant's settings: the priority formula.
struct M0003Settings;

impl MigrationName for M0003Settings {
    fn name(&self) -> &str {
        "m0003_programme_settings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Settings {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("programme_settings")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("priority_formula", 20).default("product"))
                .col(integer("benefit_weight").default(1))
                .col(integer("effort_weight").default(1))
                .foreign_key(&mut tenant_fk("programme_settings"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "programme_settings_tenant",
            "programme_settings",
            &["tenant_id"],
        ))
        .await
    }
}
