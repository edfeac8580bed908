//! The booking module's own tables, with their own history table
//! (`seaql_migrations_booking`), applied after the platform's migrations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Booking),
            Box::new(M0002FeedToken),
            Box::new(M0003Decision),
        ]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_booking".into_iden()
    }
}

struct M0001Booking;

impl MigrationName for M0001Booking {
    fn name(&self) -> &str {
        "m0001_booking"
    }
}

fn index(name: &'static str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.take()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Booking {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("booking_resources")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("name", 200))
                .col(string_len("kind", 20))
                .col(big_integer_null("parent_id"))
                .col(integer_null("capacity"))
                .col(boolean("requires_approval").default(false))
                .col(integer("min_minutes").default(15))
                .col(integer("max_minutes").default(1440))
                .col(integer("buffer_minutes").default(0))
                .col(integer("horizon_days").default(365))
                .col(boolean("active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("booking_resources", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("booking_resources", "parent_id")
                        .to("booking_resources", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_booking_resources_parent",
            "booking_resources",
            &["tenant_id", "parent_id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("booking_reservations")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("resource_id"))
                .col(string_len("title", 200))
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone("ends_at"))
                .col(string_len("status", 20))
                .col(big_integer_null("booked_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("booking_reservations", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("booking_reservations", "resource_id")
                        .to("booking_resources", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("booking_reservations", "booked_by")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        // The overlap check and the availability view: one resource, a time window.
        m.create_index(index(
            "ix_booking_reservations_slot",
            "booking_reservations",
            &["tenant_id", "resource_id", "starts_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_booking_reservations_booked_by",
            "booking_reservations",
            &["tenant_id", "booked_by"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("booking_reservations").take())
            .await?;
        m.drop_table(Table::drop().table("booking_resources").take())
            .await
    }
}

/// The secret token of each resource's calendar feed (`/buchung/kalender/{id}/{token}.ics`).
/// Added with an empty default, then every existing resource gets its own random token.
struct M0002FeedToken;

impl MigrationName for M0002FeedToken {
    fn name(&self) -> &str {
        "m0002_booking_feed_token"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002FeedToken {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("booking_resources")
                .add_column(string_len("feed_token", 64).default(""))
                .take(),
        )
        .await?;
        let db = m.get_connection();
        let ids = db
            .query_all(
                &Query::select()
                    .column("id")
                    .from("booking_resources")
                    .and_where(Expr::col("feed_token").eq(""))
                    .take(),
            )
            .await?;
        for row in ids {
            let id: i64 = row.try_get("", "id")?;
            db.execute(
                &Query::update()
                    .table("booking_resources")
                    .value(
                        "feed_token",
                        rathaus_store::random_token(crate::service::FEED_TOKEN_BYTES),
                    )
                    .and_where(Expr::col("id").eq(id))
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("booking_resources")
                .drop_column("feed_token")
                .take(),
        )
        .await
    }
}

/// The decision on a request: who approved or rejected it, when, and the reason of a
/// rejection. One column per statement (SQLite alters one column at a time).
struct M0003Decision;

impl MigrationName for M0003Decision {
    fn name(&self) -> &str {
        "m0003_booking_decision"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Decision {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            text_null("decision_reason"),
            big_integer_null("decided_by"),
            timestamp_with_time_zone_null("decided_at"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("booking_reservations")
                    .add_column(col)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["decided_at", "decided_by", "decision_reason"] {
            m.alter_table(
                Table::alter()
                    .table("booking_reservations")
                    .drop_column(col)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
