//! The search service's own table (the outbox), with its own history table
//! (`seaql_migrations_search`), applied after the platform's migrations.

use rathaus_store::schema::{index, tenant_fk};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M0001Outbox)]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_search".into_iden()
    }
}

struct M0001Outbox;

impl MigrationName for M0001Outbox {
    fn name(&self) -> &str {
        "m0001_search_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Outbox {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per changed document, written in the change's transaction. Each index
        // replica remembers the last id it applied (in its commit payload); `applied_at` is
        // set by the first replica that applied the row and lets `prune` delete old rows.
        m.create_table(
            Table::create()
                .table("search_outbox")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("kind", 100))
                .col(big_integer("doc_id"))
                .col(string_len("op", 10))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("applied_at"))
                .foreign_key(&mut tenant_fk("search_outbox"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_search_outbox_applied",
            "search_outbox",
            &["applied_at"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("search_outbox").to_owned())
            .await
    }
}
