use crate::schema::tenant_fk;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_platform"
    }
}

fn fk(table: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    crate::schema::fk(table, col, to, ForeignKeyAction::Cascade)
}

fn index(
    name: &'static str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    if unique {
        crate::schema::unique_index(name, table, cols)
    } else {
        crate::schema::index(name, table, cols)
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("tenants")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("slug", 63))
                .col(string_len("name", 200))
                .col(boolean("mfa_required").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("tenant_hosts")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len_uniq("host", 253))
                .foreign_key(&mut tenant_fk("tenant_hosts"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("tenant_pages")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("slug", 40))
                .col(string_len("title", 200))
                .col(text("body"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("tenant_pages"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_tenant_pages",
            "tenant_pages",
            &["tenant_id", "slug"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("departments")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("name", 200))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("departments"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_departments_name",
            "departments",
            &["tenant_id", "name"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("email", 254))
                .col(string_len("name", 200))
                .col(string_len("password_hash", 200))
                .col(boolean("active").default(true))
                .col(big_integer_null("department_id"))
                .col(string_len_null("totp_secret", 64))
                .col(boolean("totp_enabled").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("users"))
                .foreign_key(
                    ForeignKey::create()
                        .from("users", "department_id")
                        .to("departments", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_users_email",
            "users",
            &["tenant_id", "email"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("roles")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("name", 100))
                .col(string_len("description", 500).default(""))
                .col(boolean("builtin").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("roles"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_roles_name",
            "roles",
            &["tenant_id", "name"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("role_permissions")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("role_id"))
                .col(string_len("permission", 100))
                .foreign_key(&mut tenant_fk("role_permissions"))
                .foreign_key(&mut fk("role_permissions", "role_id", "roles"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_role_permissions",
            "role_permissions",
            &["role_id", "permission"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("user_roles")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("user_id"))
                .col(big_integer("role_id"))
                .foreign_key(&mut tenant_fk("user_roles"))
                .foreign_key(&mut fk("user_roles", "user_id", "users"))
                .foreign_key(&mut fk("user_roles", "role_id", "roles"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_user_roles",
            "user_roles",
            &["user_id", "role_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_user_roles_role",
            "user_roles",
            &["role_id"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(string_len("id", 64).primary_key())
                .col(big_integer("tenant_id"))
                .col(big_integer_null("user_id"))
                .col(boolean("mfa_pending").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut tenant_fk("sessions"))
                .foreign_key(&mut fk("sessions", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(index("ix_sessions_user", "sessions", &["user_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("login_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("email", 254))
                .col(string_len("ip", 64))
                .col(boolean("success"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut tenant_fk("login_attempts"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_login_attempts",
            "login_attempts",
            &["tenant_id", "email", "at"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("user_id"))
                .col(string_len("name", 100))
                .col(string_len_uniq("token_hash", 64))
                .col(string_len("prefix", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut tenant_fk("api_tokens"))
                .foreign_key(&mut fk("api_tokens", "user_id", "users"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_heads")
                .col(big_integer("tenant_id").primary_key())
                .col(big_integer("last_seq"))
                .col(string_len("last_hash", 64))
                .foreign_key(&mut tenant_fk("audit_heads"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_events")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("seq"))
                .col(string_len("at", 40))
                .col(big_integer_null("actor_id"))
                .col(string_len("actor_label", 300))
                .col(string_len("action", 100))
                .col(string_len("object_type", 100))
                .col(string_len_null("object_id", 100))
                .col(text("details"))
                .col(string_len("prev_hash", 64))
                .col(string_len("hash", 64))
                .foreign_key(&mut tenant_fk("audit_events"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_audit_seq",
            "audit_events",
            &["tenant_id", "seq"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_audit_action",
            "audit_events",
            &["tenant_id", "action", "seq"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("jobs")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("kind", 100))
                .col(text("payload"))
                .col(string_len("status", 20))
                .col(integer("attempts").default(0))
                .col(integer("max_attempts"))
                .col(timestamp_with_time_zone("run_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .foreign_key(&mut tenant_fk("jobs"))
                .take(),
        )
        .await?;
        m.create_index(index("ix_jobs_due", "jobs", &["status", "run_at"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("mail_outbox")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("to_addr", 254))
                .col(string_len("subject", 300))
                .col(text("body"))
                .col(string_len("status", 20))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(text_null("last_error"))
                .foreign_key(&mut tenant_fk("mail_outbox"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "mail_outbox",
            "jobs",
            "audit_events",
            "audit_heads",
            "api_tokens",
            "login_attempts",
            "sessions",
            "user_roles",
            "role_permissions",
            "roles",
            "users",
            "departments",
            "tenant_pages",
            "tenant_hosts",
            "tenants",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
