use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_citizens"
    }
}

/// Citizen accounts: `users.kind` (`staff` | `citizen`), the time the e-mail address was
/// confirmed (existing accounts count as confirmed), single-use confirmation tokens (only their
/// SHA-256 is stored) and the registration attempts that the per-IP limit counts.
/// SQLite alters one column per statement, hence one `alter_table` per column.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(string_len("kind", 20).default("staff"))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(timestamp_with_time_zone_null("email_confirmed_at"))
                .take(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table("users")
                .value("email_confirmed_at", Expr::col("created_at"))
                .and_where(Expr::col("email_confirmed_at").is_null())
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("email_confirmations")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("user_id"))
                .col(string_len("token_hash", 64).unique_key())
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("email_confirmations", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("email_confirmations", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("registration_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("ip", 64))
                .col(string_len("email", 254))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("registration_attempts", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_registration_attempts_ip")
                .table("registration_attempts")
                .col("tenant_id")
                .col("ip")
                .col("at")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("registration_attempts").take())
            .await?;
        m.drop_table(Table::drop().table("email_confirmations").take())
            .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .drop_column("email_confirmed_at")
                .take(),
        )
        .await?;
        m.alter_table(Table::alter().table("users").drop_column("kind").take())
            .await
    }
}
