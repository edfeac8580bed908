use crate::schema::{fk, index, tenant_fk};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_password_resets"
    }
}

/// Citizens' password reset by e-mail (`store::password_reset`): single-use, expiring tokens
/// (only their SHA-256 is stored) and the requests that the per-IP/per-address limit counts
/// (rows older than the window are deleted as new ones come in).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("password_resets")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("user_id"))
                .col(string_len("token_hash", 64).unique_key())
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut tenant_fk("password_resets"))
                .foreign_key(&mut fk(
                    "password_resets",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_password_resets_user",
            "password_resets",
            &["user_id", "used_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_password_resets_expires",
            "password_resets",
            &["tenant_id", "expires_at"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("password_reset_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("ip", 64))
                .col(string_len("email", 254))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut tenant_fk("password_reset_attempts"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_password_reset_attempts_ip",
            "password_reset_attempts",
            &["tenant_id", "ip", "at"],
        ))
        .await?;
        m.create_index(index(
            "ix_password_reset_attempts_email",
            "password_reset_attempts",
            &["tenant_id", "email", "at"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("password_reset_attempts").take())
            .await?;
        m.drop_table(Table::drop().table("password_resets").take())
            .await
    }
}
