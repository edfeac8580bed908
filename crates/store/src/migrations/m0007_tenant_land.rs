use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_tenant_land"
    }
}

/// The tenant's Bundesland, for its public holidays (`rathaus_core::calendar`). Existing
/// tenants keep what the Mängelmelder counted with until now: North Rhine-Westphalia.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("tenants")
                .add_column(string_len("land", 2).default("NW"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("tenants").drop_column("land").take())
            .await
    }
}
