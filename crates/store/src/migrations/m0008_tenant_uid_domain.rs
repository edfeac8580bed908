use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_tenant_uid_domain"
    }
}

/// The domain part of the tenant's calendar UIDs, fixed when the tenant is created: a
/// calendar keeps its events when the tenant's host names change. Existing tenants keep the
/// domain their UIDs had until now (their first host name, alphabetically).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("tenants")
                .add_column(string_len("uid_domain", 255).default(""))
                .take(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE tenants SET uid_domain = COALESCE(\
                 (SELECT MIN(h.host) FROM tenant_hosts h WHERE h.tenant_id = tenants.id), \
                 tenants.slug || '.rathaus.invalid')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("tenants")
                .drop_column("uid_domain")
                .take(),
        )
        .await
    }
}
