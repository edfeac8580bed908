use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_coat_of_arms"
    }
}

/// Small per-tenant images (the coat of arms), kept in the database so that every `serve`
/// process behind a load balancer has them without shared storage.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("tenant_assets")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("kind", 40))
                .col(string_len("sha256", 64))
                .col(string_len("content_type", 100))
                .col(blob("bytes"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("tenant_assets", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_tenant_assets")
                .table("tenant_assets")
                .col("tenant_id")
                .col("kind")
                .unique()
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("tenants")
                .add_column(string_len_null("coat_of_arms_sha256", 64))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("tenants")
                .drop_column("coat_of_arms_sha256")
                .take(),
        )
        .await?;
        m.drop_table(Table::drop().table("tenant_assets").take())
            .await
    }
}
