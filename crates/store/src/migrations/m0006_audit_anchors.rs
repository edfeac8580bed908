use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_audit_anchors"
    }
}

/// Recorded chain heads per tenant (see `entity::audit_anchor`). No foreign key on purpose:
/// an anchor outlives whatever is deleted from the chain.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("audit_anchors")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("seq"))
                .col(string_len("hash", 64))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_anchors_tenant")
                .table("audit_anchors")
                .col("tenant_id")
                .col("id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_anchors").take())
            .await
    }
}
