//! The Mängelmelder's own tables, with their own history table (`seaql_migrations_reports`),
//! applied after the platform's migrations.

use rathaus_store::schema::{fk, index, tenant_fk};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Reports),
            Box::new(M0002PersonalData),
            Box::new(M0003PhotoFiles),
            Box::new(M0004PhotoQuarantine),
            Box::new(M0005MapCells),
        ]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_reports".into_iden()
    }
}

struct M0001Reports;

/// Reporters' contact details moved behind `reports.personal_data`: roles that could work on
/// reports (and so saw them until now) keep seeing them; moderators alone no longer do.
struct M0002PersonalData;

impl MigrationName for M0002PersonalData {
    fn name(&self) -> &str {
        "m0002_personal_data_permission"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002PersonalData {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rathaus_store::accounts::grant_alongside(
            manager.get_connection(),
            crate::permissions::HANDLE,
            crate::permissions::PERSONAL_DATA,
        )
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?;
        Ok(())
    }
}

impl MigrationName for M0001Reports {
    fn name(&self) -> &str {
        "m0001_reports"
    }
}

fn report_fk(table: &'static str) -> ForeignKeyCreateStatement {
    fk(
        table,
        "report_id",
        "reports_reports",
        ForeignKeyAction::Cascade,
    )
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Reports {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Per-tenant settings: map tiles, geocoder, boundary, deadlines, the ALTCHA key.
        m.create_table(
            Table::create()
                .table("reports_settings")
                .col(big_integer("tenant_id").primary_key())
                .col(string_len("tile_url", 500))
                .col(string_len("tile_attribution", 500))
                .col(string_len_null("geocoder_url", 500))
                .col(integer("duplicate_radius_m").default(50))
                .col(integer("answer_days").default(3))
                // Every new report waits for moderation (not only those sent without JavaScript).
                .col(boolean("moderate_all").default(false))
                .col(text_null("boundary"))
                .col(string_len("altcha_key", 100))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("reports_settings"))
                .take(),
        )
        .await?;

        // Categories = Open311 services; each belongs to a department (routing).
        m.create_table(
            Table::create()
                .table("reports_categories")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("code", 64))
                .col(string_len("name", 200))
                .col(string_len("group_name", 100))
                .col(string_len("description", 1000))
                .col(string_len("keywords", 500))
                .col(big_integer_null("department_id"))
                .col(text("attributes"))
                .col(boolean("active").default(true))
                .col(integer("position").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("reports_categories"))
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_categories", "department_id")
                        .to("departments", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(
            index(
                "ux_reports_categories_code",
                "reports_categories",
                &["tenant_id", "code"],
            )
            .unique()
            .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("reports_api_keys")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("name", 200))
                .col(string_len("key_hash", 64))
                .col(string_len("prefix", 16))
                .col(integer("rate_limit").default(600))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut tenant_fk("reports_api_keys"))
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_api_keys", "created_by")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(
            index(
                "ux_reports_api_keys_hash",
                "reports_api_keys",
                &["key_hash"],
            )
            .unique()
            .take(),
        )
        .await?;

        // Reference numbers M-YYYY-NNNNNN: one counter per tenant and year.
        m.create_table(
            Table::create()
                .table("reports_counters")
                .col(big_integer("tenant_id"))
                .col(integer("year"))
                .col(big_integer("next"))
                .primary_key(Index::create().col("tenant_id").col("year"))
                .foreign_key(&mut tenant_fk("reports_counters"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("reports_reports")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("reference", 20))
                .col(big_integer("category_id"))
                .col(string_len("status", 20))
                .col(boolean("is_open"))
                // pending (held for moderation), published, hidden
                .col(string_len("moderation", 20))
                // web, web_nojs, open311, staff
                .col(string_len("source", 20))
                .col(double("lat"))
                .col(double("lon"))
                .col(string_len("address", 300))
                .col(text("description"))
                .col(text("public_description"))
                .col(text("status_notes"))
                .col(string_len("priority", 10))
                .col(timestamp_with_time_zone("due_at"))
                .col(big_integer_null("department_id"))
                .col(big_integer_null("assignee_id"))
                .col(big_integer_null("duplicate_of"))
                .col(string_len("reporter_name", 200))
                .col(string_len("reporter_email", 254))
                .col(string_len("reporter_phone", 50))
                .col(string_len("status_token_hash", 64))
                .col(string_len_null("open311_token", 64))
                .col(big_integer_null("api_key_id"))
                .col(text("attributes"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("first_answer_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .foreign_key(&mut tenant_fk("reports_reports"))
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_reports", "category_id")
                        .to("reports_categories", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_reports", "department_id")
                        .to("departments", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_reports", "assignee_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_reports", "duplicate_of")
                        .to("reports_reports", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_reports", "api_key_id")
                        .to("reports_api_keys", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        for (name, cols, unique) in [
            (
                "ux_reports_reference",
                &["tenant_id", "reference"][..],
                true,
            ),
            ("ux_reports_status_token", &["status_token_hash"][..], true),
            ("ux_reports_open311_token", &["open311_token"][..], true),
            // Open311 lists and the public list: newest first, open or all.
            (
                "ix_reports_open_created",
                &["tenant_id", "is_open", "created_at"][..],
                false,
            ),
            (
                "ix_reports_created",
                &["tenant_id", "created_at"][..],
                false,
            ),
            // The nearby-duplicate lookup: same category, open, a latitude band; the longitude
            // is checked in the index, so only the reports inside the search box are read
            // (bench/reports.sh at 1M reports, PostgreSQL: p99 13 ms without lon, 0.6 ms with).
            (
                "ix_reports_nearby",
                &["tenant_id", "category_id", "is_open", "lat", "lon"][..],
                false,
            ),
            // Map viewports.
            (
                "ix_reports_position",
                &["tenant_id", "lat", "lon"][..],
                false,
            ),
            // The inbox and the overdue view.
            (
                "ix_reports_inbox",
                &["tenant_id", "is_open", "department_id", "due_at"][..],
                false,
            ),
            (
                "ix_reports_updated",
                &["tenant_id", "updated_at"][..],
                false,
            ),
        ] {
            let mut i = index(name, "reports_reports", cols);
            if unique {
                i.unique();
            }
            m.create_index(i).await?;
        }

        m.create_table(
            Table::create()
                .table("reports_photos")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("report_id"))
                .col(integer("position"))
                .col(boolean("hidden").default(false))
                .col(string_len("sha256", 64))
                .col(integer("width"))
                .col(integer("height"))
                .col(blob("image"))
                .col(blob("thumb"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("reports_photos"))
                .foreign_key(&mut report_fk("reports_photos"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_reports_photos_report",
            "reports_photos",
            &["report_id", "position"],
        ))
        .await?;

        // Public replies and internal notes, each with the status it set (if any).
        m.create_table(
            Table::create()
                .table("reports_updates")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("report_id"))
                .col(boolean("public"))
                .col(string_len_null("status", 20))
                .col(text("text"))
                .col(big_integer_null("author_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("reports_updates"))
                .foreign_key(&mut report_fk("reports_updates"))
                .foreign_key(
                    ForeignKey::create()
                        .from("reports_updates", "author_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_reports_updates_report",
            "reports_updates",
            &["report_id", "created_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_reports_updates_feed",
            "reports_updates",
            &["tenant_id", "public", "created_at"],
        ))
        .await?;

        // Who is told about public status changes: the reporter and citizens who follow.
        m.create_table(
            Table::create()
                .table("reports_followers")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("report_id"))
                .col(string_len("email", 254))
                .col(string_len("token", 64))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(timestamp_with_time_zone_null("unsubscribed_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("reports_followers"))
                .foreign_key(&mut report_fk("reports_followers"))
                .take(),
        )
        .await?;
        m.create_index(
            index(
                "ux_reports_followers_token",
                "reports_followers",
                &["token"],
            )
            .unique()
            .take(),
        )
        .await?;
        m.create_index(
            index(
                "ux_reports_followers_email",
                "reports_followers",
                &["report_id", "email"],
            )
            .unique()
            .take(),
        )
        .await?;

        // The street directory for address lookups.
        m.create_table(
            Table::create()
                .table("reports_streets")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("street", 200))
                .col(string_len("street_norm", 200))
                .col(string_len("house_number", 20))
                .col(string_len("postcode", 10))
                .col(double("lat"))
                .col(double("lon"))
                .foreign_key(&mut tenant_fk("reports_streets"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_reports_streets_norm",
            "reports_streets",
            &["tenant_id", "street_norm", "house_number"],
        ))
        .await?;

        // Spent ALTCHA challenges (a solution counts once), pruned after they expire.
        m.create_table(
            Table::create()
                .table("reports_pow_spent")
                .col(string_len("challenge", 64).primary_key())
                .col(big_integer("tenant_id"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut tenant_fk("reports_pow_spent"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_reports_pow_spent_expiry",
            "reports_pow_spent",
            &["expires_at"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "reports_pow_spent",
            "reports_streets",
            "reports_followers",
            "reports_updates",
            "reports_photos",
            "reports_reports",
            "reports_counters",
            "reports_api_keys",
            "reports_categories",
            "reports_settings",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// Photos move onto the platform's file service (ADR 0016): the row keeps the ids of the two
/// stored files; the BLOB columns become nullable and are cleared by `reports.photos_to_files`.
/// SQLite cannot drop a NOT NULL constraint, so the table is rebuilt there (nothing references
/// it); PostgreSQL alters it in place.
struct M0003PhotoFiles;

impl MigrationName for M0003PhotoFiles {
    fn name(&self) -> &str {
        "m0003_reports_photo_files"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003PhotoFiles {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            conn.execute_unprepared(
                "ALTER TABLE reports_photos ADD COLUMN image_file_id BIGINT NULL, \
                 ADD COLUMN thumb_file_id BIGINT NULL, \
                 ALTER COLUMN image DROP NOT NULL, ALTER COLUMN thumb DROP NOT NULL",
            )
            .await?;
            return Ok(());
        }
        // Copy, drop, create anew, copy back, as one batch on one connection (statements
        // spread over the pool's connections trip over their cached schemas).
        let create = Table::create()
            .table("reports_photos")
            .col(big_pk_auto("id"))
            .col(big_integer("tenant_id"))
            .col(big_integer("report_id"))
            .col(integer("position"))
            .col(boolean("hidden").default(false))
            .col(string_len("sha256", 64))
            .col(integer("width"))
            .col(integer("height"))
            .col(blob_null("image"))
            .col(blob_null("thumb"))
            .col(timestamp_with_time_zone("created_at"))
            .col(big_integer_null("image_file_id"))
            .col(big_integer_null("thumb_file_id"))
            .foreign_key(&mut tenant_fk("reports_photos"))
            .foreign_key(&mut report_fk("reports_photos"))
            .take()
            .to_string(SqliteQueryBuilder);
        let index = index(
            "ix_reports_photos_report",
            "reports_photos",
            &["report_id", "position"],
        )
        .to_string(SqliteQueryBuilder);
        let batch = [
            "CREATE TABLE reports_photos_old AS SELECT * FROM reports_photos".to_string(),
            "DROP TABLE reports_photos".to_string(),
            create,
            "INSERT INTO reports_photos (id, tenant_id, report_id, position, hidden, sha256, \
             width, height, image, thumb, created_at) SELECT id, tenant_id, report_id, position, hidden, sha256, \
             width, height, image, thumb, created_at FROM reports_photos_old".to_string(),
            "DROP TABLE reports_photos_old".to_string(),
            index,
        ]
        .join(";\n");
        conn.execute_unprepared(&batch).await?;
        Ok(())
    }
}

/// Photos are accepted after the cheap header checks and re-encoded in the background
/// (`reports.photo_clean`): until then the row points at the upload as sent, on the file
/// service, and has no picture anyone is served.
struct M0004PhotoQuarantine;

impl MigrationName for M0004PhotoQuarantine {
    fn name(&self) -> &str {
        "m0004_reports_photo_quarantine"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004PhotoQuarantine {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("reports_photos")
                .add_column(big_integer_null("quarantine_file_id"))
                .take(),
        )
        .await
    }
}

/// The map's spatial key (issue 15, item 11): each report's cell of 0.002° (`domain::geo::
/// cell_of`, computed here the same way for the reports already there), with an index that
/// lets a viewport read the newest reports of its own cells instead of a whole latitude band
/// or the whole town's newest.
struct M0005MapCells;

impl MigrationName for M0005MapCells {
    fn name(&self) -> &str {
        "m0005_reports_map_cells"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005MapCells {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("reports_reports")
                .add_column(big_integer("cell").default(0))
                .take(),
        )
        .await?;
        let sql = format!(
            "UPDATE reports_reports SET cell = {}",
            cell_expr(m.get_database_backend())
        );
        m.get_connection().execute_unprepared(&sql).await?;
        m.create_index(index(
            "ix_reports_cell",
            "reports_reports",
            // `id` last: PostgreSQL answers the viewport's ids from the index alone.
            &["cell", "created_at", "lat", "lon", "tenant_id", "id"],
        ))
        .await
    }
}

/// `domain::geo::cell_of` in SQL: floor((lat + 90) / 0.002) * 180000 + floor((lon + 180) /
/// 0.002), in double precision as in Rust; both sums are positive, so SQLite's truncating
/// CAST is the floor.
pub fn cell_expr(backend: sea_orm::DbBackend) -> &'static str {
    if backend == sea_orm::DbBackend::Postgres {
        "FLOOR((lat + 90.0::float8) / 0.002::float8)::bigint * 180000 \
         + FLOOR((lon + 180.0::float8) / 0.002::float8)::bigint"
    } else {
        "CAST((lat + 90.0) / 0.002 AS INTEGER) * 180000 + CAST((lon + 180.0) / 0.002 AS INTEGER)"
    }
}
