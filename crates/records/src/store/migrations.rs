//! The records module's own tables, with their own history table
//! (`seaql_migrations_records`), applied after the platform's migrations.

use rathaus_store::schema::{fk, index, tenant_fk, unique_index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Records),
            Box::new(M0002OfferImportError),
            Box::new(M0003FollowUpNotices),
            Box::new(M0004FilePageIndexes),
        ]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_records".into_iden()
    }
}

struct M0001Records;

impl MigrationName for M0001Records {
    fn name(&self) -> &str {
        "m0001_records"
    }
}

/// A table with `id` and `tenant_id` (and its tenant foreign key).
fn table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(big_pk_auto("id"))
        .col(big_integer("tenant_id"))
        .foreign_key(&mut tenant_fk(name))
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Records {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};
        m.create_table(
            table("records_settings")
                .col(string_len("file_number_pattern", 100))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "records_settings_tenant",
            "records_settings",
            &["tenant_id"],
        ))
        .await?;

        m.create_table(
            table("records_plan_items")
                .col(string_len("code", 40))
                .col(big_integer_null("parent_id"))
                .col(string_len("title", 300))
                .col(integer("retention_years"))
                .col(string_len("retention_start", 30))
                .col(string_len("disposition", 1))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "records_plan_items",
                    "parent_id",
                    "records_plan_items",
                    SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "records_plan_items_code",
            "records_plan_items",
            &["tenant_id", "code"],
        ))
        .await?;

        m.create_table(
            table("records_counters")
                .col(string_len("scope", 40))
                .col(integer("year"))
                .col(big_integer("last_seq"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "records_counters_scope",
            "records_counters",
            &["tenant_id", "scope", "year"],
        ))
        .await?;

        m.create_table(
            table("records_files")
                .col(big_integer("plan_item_id"))
                .col(big_integer_null("parent_id"))
                .col(string_len_null("sub_kind", 20))
                .col(string_len("kind", 20))
                .col(string_len("access", 20))
                .col(string_len("title", 300))
                .col(string_len("file_number", 120))
                .col(string_len_null("subject_name", 200))
                .col(date_null("subject_birth_date"))
                .col(big_integer_null("department_id"))
                .col(string_len("state", 20))
                .col(date("opened_on"))
                .col(date_null("closed_on"))
                .col(date_null("retention_start_on"))
                .col(date_null("retention_until"))
                .col(date_null("application_on"))
                .col(date_null("approval_end_on"))
                .col(string_len_null("dog_name", 100))
                .col(string_len_null("dog_breed", 100))
                .col(boolean("dog_list_dog").default(false))
                .col(string_len_null("dog_tag", 40))
                .col(date_null("dog_registered_on"))
                .col(date_null("dog_deregistered_on"))
                .col(string_len_null("dog_tax_class", 40))
                .col(date_null("leaving_on"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 200))
                .foreign_key(&mut fk(
                    "records_files",
                    "plan_item_id",
                    "records_plan_items",
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    "records_files",
                    "parent_id",
                    "records_files",
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    "records_files",
                    "department_id",
                    "departments",
                    SetNull,
                ))
                .take(),
        )
        .await?;
        // An Aktenzeichen is unique in the tenant (and, with the counter, never reused).
        m.create_index(unique_index(
            "records_files_number",
            "records_files",
            &["tenant_id", "file_number"],
        ))
        .await?;
        m.create_index(index(
            "records_files_access",
            "records_files",
            &["tenant_id", "access", "id"],
        ))
        .await?;
        m.create_index(index(
            "records_files_plan",
            "records_files",
            &["tenant_id", "plan_item_id"],
        ))
        .await?;
        m.create_index(index(
            "records_files_due",
            "records_files",
            &["tenant_id", "retention_until"],
        ))
        .await?;
        m.create_index(index(
            "records_files_subject",
            "records_files",
            &["tenant_id", "subject_name"],
        ))
        .await?;
        m.create_index(index(
            "records_files_parent",
            "records_files",
            &["parent_id"],
        ))
        .await?;

        m.create_table(
            table("records_cases")
                .col(big_integer("file_id"))
                .col(string_len("title", 300))
                .col(date("opened_on"))
                .col(date_null("closed_on"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "records_cases",
                    "file_id",
                    "records_files",
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index("records_cases_file", "records_cases", &["file_id"]))
            .await?;

        m.create_table(
            table("records_documents")
                .col(big_integer("file_id"))
                .col(big_integer_null("case_id"))
                .col(string_len("access", 20))
                .col(string_len("title", 300))
                .col(date("doc_date"))
                .col(string_len("direction", 20))
                .col(string_len("tags", 1000))
                .col(integer("current_version"))
                .col(big_integer("file_ref"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 200))
                .foreign_key(&mut fk(
                    "records_documents",
                    "file_id",
                    "records_files",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "records_documents",
                    "case_id",
                    "records_cases",
                    SetNull,
                ))
                .foreign_key(&mut fk("records_documents", "file_ref", "files", Restrict))
                .take(),
        )
        .await?;
        m.create_index(index(
            "records_documents_file",
            "records_documents",
            &["file_id", "doc_date"],
        ))
        .await?;
        m.create_index(index(
            "records_documents_access",
            "records_documents",
            &["tenant_id", "access", "id"],
        ))
        .await?;

        m.create_table(
            table("records_versions")
                .col(big_integer("document_id"))
                .col(integer("version"))
                .col(big_integer("file_ref"))
                .col(string_len("name", 255))
                .col(big_integer("size"))
                .col(string_len("sha256", 64))
                .col(string_len("mime", 100))
                .col(big_integer_null("uploaded_by_id"))
                .col(string_len("uploaded_by", 200))
                .col(timestamp_with_time_zone("uploaded_at"))
                .foreign_key(&mut fk(
                    "records_versions",
                    "document_id",
                    "records_documents",
                    Cascade,
                ))
                .foreign_key(&mut fk("records_versions", "file_ref", "files", Restrict))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "records_versions_number",
            "records_versions",
            &["document_id", "version"],
        ))
        .await?;

        m.create_table(
            table("records_follow_ups")
                .col(big_integer("file_id"))
                .col(big_integer_null("case_id"))
                .col(date("due_on"))
                .col(big_integer_null("user_id"))
                .col(big_integer_null("department_id"))
                .col(string_len("note", 1000))
                .col(timestamp_with_time_zone_null("done_at"))
                .col(string_len_null("done_by", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 200))
                .foreign_key(&mut fk(
                    "records_follow_ups",
                    "file_id",
                    "records_files",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "records_follow_ups",
                    "case_id",
                    "records_cases",
                    SetNull,
                ))
                .foreign_key(&mut fk("records_follow_ups", "user_id", "users", SetNull))
                .foreign_key(&mut fk(
                    "records_follow_ups",
                    "department_id",
                    "departments",
                    SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "records_follow_ups_due",
            "records_follow_ups",
            &["tenant_id", "due_on"],
        ))
        .await?;
        m.create_index(index(
            "records_follow_ups_file",
            "records_follow_ups",
            &["file_id"],
        ))
        .await?;

        m.create_table(
            table("records_inbox")
                .col(big_integer_null("department_id"))
                .col(big_integer("file_ref"))
                .col(string_len("name", 255))
                .col(big_integer("size"))
                .col(string_len("sha256", 64))
                .col(string_len("mime", 100))
                .col(string_len("uploaded_by", 200))
                .col(timestamp_with_time_zone("uploaded_at"))
                .col(big_integer_null("document_id"))
                .col(timestamp_with_time_zone_null("assigned_at"))
                .foreign_key(&mut fk(
                    "records_inbox",
                    "department_id",
                    "departments",
                    SetNull,
                ))
                .foreign_key(&mut fk("records_inbox", "file_ref", "files", Restrict))
                .foreign_key(&mut fk(
                    "records_inbox",
                    "document_id",
                    "records_documents",
                    SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "records_inbox_open",
            "records_inbox",
            &["tenant_id", "department_id", "document_id"],
        ))
        .await?;

        m.create_table(
            table("records_deletions")
                .col(string_len("file_number", 120))
                .col(string_len("title", 300))
                .col(string_len("kind", 20))
                .col(string_len("plan_code", 40))
                .col(date("opened_on"))
                .col(date_null("closed_on"))
                .col(date_null("retention_until"))
                .col(string_len("reason", 40))
                .col(string_len_null("offer_id", 36))
                .col(timestamp_with_time_zone("deleted_at"))
                .col(string_len("deleted_by", 200))
                .take(),
        )
        .await?;
        m.create_index(index(
            "records_deletions_tenant",
            "records_deletions",
            &["tenant_id", "deleted_at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("records_offers")
                .col(string_len("id", 36).primary_key())
                .col(big_integer("tenant_id"))
                .col(string_len("state", 20))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 200))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut tenant_fk("records_offers"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "records_offers_tenant",
            "records_offers",
            &["tenant_id", "created_at"],
        ))
        .await?;

        m.create_table(
            table("records_offer_files")
                .col(string_len("offer_id", 36))
                .col(big_integer("file_id"))
                .col(string_len_null("appraisal", 20))
                .col(timestamp_with_time_zone_null("appraised_at"))
                .col(timestamp_with_time_zone_null("handed_over_at"))
                .col(boolean("import_confirmed").default(false))
                .col(string_len_null("archive_id", 200))
                .foreign_key(&mut fk(
                    "records_offer_files",
                    "offer_id",
                    "records_offers",
                    Cascade,
                ))
                .take(),
        )
        .await?;
        // No foreign key to the file: the row outlives the deleted file (with its deletion
        // record); one row per file and offer.
        m.create_index(unique_index(
            "records_offer_files_once",
            "records_offer_files",
            &["offer_id", "file_id"],
        ))
        .await?;
        m.create_index(index(
            "records_offer_files_file",
            "records_offer_files",
            &["tenant_id", "file_id"],
        ))
        .await?;
        Ok(())
    }
}

/// The archive's error message of a failed import (0506), kept on the offered file, and the
/// file's Aktenzeichen (the row outlives the deleted file).
struct M0002OfferImportError;

impl MigrationName for M0002OfferImportError {
    fn name(&self) -> &str {
        "m0002_records_offer_import_error"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002OfferImportError {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("records_offer_files")
                .add_column(string_len_null("import_error", 1000))
                .take(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table("records_offer_files")
                .add_column(string_len_null("file_number", 120))
                .take(),
        )
        .await
    }
}

/// Which follow-ups were mailed to whom on their day (the daily mail sends each once).
struct M0003FollowUpNotices;

impl MigrationName for M0003FollowUpNotices {
    fn name(&self) -> &str {
        "m0003_records_follow_up_notices"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003FollowUpNotices {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;
        m.create_table(
            table("records_follow_up_notices")
                .col(big_integer("follow_up_id"))
                .col(big_integer("user_id"))
                .col(date("sent_on"))
                .col(timestamp_with_time_zone("sent_at"))
                .foreign_key(&mut fk(
                    "records_follow_up_notices",
                    "follow_up_id",
                    "records_follow_ups",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "records_follow_up_notices",
                    "user_id",
                    "users",
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "records_follow_up_notices_once",
            "records_follow_up_notices",
            &["follow_up_id", "user_id"],
        ))
        .await
    }
}

/// Indexes led by the file for what the file page reads with the reader's access filter
/// (its documents, its sub-files). Without them SQLite, which keeps no statistics, took the
/// tenant-and-access index and walked every document the reader may see (70 ms for a file
/// page at 1,000,000 documents).
struct M0004FilePageIndexes;

impl MigrationName for M0004FilePageIndexes {
    fn name(&self) -> &str {
        "m0004_records_file_page_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004FilePageIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "records_documents_of_file",
            "records_documents",
            &["tenant_id", "file_id", "access", "doc_date"],
        ))
        .await?;
        m.create_index(index(
            "records_files_sub",
            "records_files",
            &["tenant_id", "parent_id", "access"],
        ))
        .await
    }
}
