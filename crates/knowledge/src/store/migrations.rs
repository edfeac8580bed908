//! The knowledge module's own tables, with their own history table
//! (`seaql_migrations_knowledge`), applied after the platform's migrations.

use rathaus_store::schema::{fk, index, tenant_fk, unique_index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Knowledge),
            Box::new(M0002Offboarding),
            Box::new(M0003Collaboration),
            Box::new(M0004Reminders),
            Box::new(M0005Attachments),
        ]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_knowledge".into_iden()
    }
}

struct M0001Knowledge;

impl MigrationName for M0001Knowledge {
    fn name(&self) -> &str {
        "m0001_knowledge"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Knowledge {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("knowledge_handbooks")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("title", 200))
                .col(text("description"))
                .col(big_integer_null("department_id"))
                .col(string_len("visibility", 20))
                .col(string_len("role_ids", 1000))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("knowledge_handbooks"))
                .foreign_key(&mut fk(
                    "knowledge_handbooks",
                    "department_id",
                    "departments",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "knowledge_handbooks_tenant",
            "knowledge_handbooks",
            &["tenant_id", "title"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_chapters")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("handbook_id"))
                .col(string_len("title", 200))
                .col(integer("position"))
                .foreign_key(&mut tenant_fk("knowledge_chapters"))
                .foreign_key(&mut fk(
                    "knowledge_chapters",
                    "handbook_id",
                    "knowledge_handbooks",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "knowledge_chapters_handbook",
            "knowledge_chapters",
            &["handbook_id", "position"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_pages")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("handbook_id"))
                .col(big_integer_null("chapter_id"))
                .col(string_len("title", 200))
                .col(text("body"))
                .col(integer("version"))
                .col(integer("major_version"))
                .col(boolean("draft").default(false))
                .col(boolean("requires_confirmation").default(false))
                .col(big_integer_null("owner_user_id"))
                .col(integer_null("review_days"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(string_len_null("reviewed_by", 200))
                .col(timestamp_with_time_zone_null("deleted_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(string_len("updated_by", 200))
                .foreign_key(&mut tenant_fk("knowledge_pages"))
                .foreign_key(&mut fk(
                    "knowledge_pages",
                    "handbook_id",
                    "knowledge_handbooks",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_pages",
                    "chapter_id",
                    "knowledge_chapters",
                    ForeignKeyAction::SetNull,
                ))
                .foreign_key(&mut fk(
                    "knowledge_pages",
                    "owner_user_id",
                    "users",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "knowledge_pages_handbook",
            "knowledge_pages",
            &["handbook_id", "chapter_id"],
        ))
        .await?;
        m.create_index(index(
            "knowledge_pages_tenant",
            "knowledge_pages",
            &["tenant_id", "id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("page_id"))
                .col(integer("version"))
                .col(string_len("title", 200))
                .col(text("body"))
                .col(string_len("note", 500))
                .col(boolean("major"))
                .col(big_integer_null("author_id"))
                .col(string_len("author_name", 200))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("knowledge_versions"))
                .foreign_key(&mut fk(
                    "knowledge_versions",
                    "page_id",
                    "knowledge_pages",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        // One row per page and number: two concurrent saves cannot both write version n.
        m.create_index(unique_index(
            "knowledge_versions_page_version",
            "knowledge_versions",
            &["page_id", "version"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_confirmations")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("page_id"))
                .col(big_integer("user_id"))
                .col(integer("major_version"))
                .col(timestamp_with_time_zone("confirmed_at"))
                .foreign_key(&mut tenant_fk("knowledge_confirmations"))
                .foreign_key(&mut fk(
                    "knowledge_confirmations",
                    "page_id",
                    "knowledge_pages",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_confirmations",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "knowledge_confirmations_once",
            "knowledge_confirmations",
            &["page_id", "user_id", "major_version"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_templates")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("name", 200))
                .col(big_integer_null("department_id"))
                .col(boolean("is_default"))
                .foreign_key(&mut tenant_fk("knowledge_templates"))
                .foreign_key(&mut fk(
                    "knowledge_templates",
                    "department_id",
                    "departments",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_template_tasks")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("template_id"))
                .col(string_len("title", 300))
                .col(integer("offset_days"))
                .col(string_len("owner_kind", 20))
                .col(big_integer_null("owner_role_id"))
                .col(big_integer_null("owner_user_id"))
                .col(big_integer_null("page_id"))
                .col(integer("position"))
                .foreign_key(&mut tenant_fk("knowledge_template_tasks"))
                .foreign_key(&mut fk(
                    "knowledge_template_tasks",
                    "template_id",
                    "knowledge_templates",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_onboardings")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("name", 200))
                .col(date("start_date"))
                .col(big_integer("department_id"))
                .col(big_integer("template_id"))
                .col(big_integer_null("user_id"))
                .col(string_len("created_by", 200))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("knowledge_onboardings"))
                .foreign_key(&mut fk(
                    "knowledge_onboardings",
                    "department_id",
                    "departments",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_onboardings",
                    "template_id",
                    "knowledge_templates",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_tasks")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("onboarding_id"))
                .col(string_len("title", 300))
                .col(date("due_date"))
                .col(string_len("owner_kind", 20))
                .col(big_integer_null("owner_role_id"))
                .col(big_integer_null("owner_user_id"))
                .col(string_len("owner_label", 200))
                .col(big_integer_null("page_id"))
                .col(integer("position"))
                .col(timestamp_with_time_zone_null("done_at"))
                .col(string_len_null("done_by", 200))
                .foreign_key(&mut tenant_fk("knowledge_tasks"))
                .foreign_key(&mut fk(
                    "knowledge_tasks",
                    "onboarding_id",
                    "knowledge_onboardings",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "knowledge_tasks_onboarding",
            "knowledge_tasks",
            &["onboarding_id", "position"],
        ))
        .await?;
        Ok(())
    }
}

/// Checklists for leaving colleagues: templates and checklists get a kind; existing rows are
/// onboardings.
struct M0002Offboarding;

impl MigrationName for M0002Offboarding {
    fn name(&self) -> &str {
        "m0002_offboarding"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Offboarding {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["knowledge_templates", "knowledge_onboardings"] {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(string_len("kind", 20).default("onboarding"))
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}

/// The feed of changes from what the versions and the pages' last reviews already tell,
/// oldest first, so that `id` order is time order. Plain SQL that both backends speak; public
/// for the test that runs it on data.
pub const BACKFILL_CHANGES: &str = "INSERT INTO knowledge_changes \
                 (tenant_id, handbook_id, page_id, kind, version, actor_name, note, at) \
                 SELECT tenant_id, handbook_id, page_id, kind, version, actor_name, note, at FROM ( \
                   SELECT v.tenant_id AS tenant_id, p.handbook_id AS handbook_id, \
                          v.page_id AS page_id, \
                          CASE WHEN v.version = 1 THEN 'created' ELSE 'edited' END AS kind, \
                          v.version AS version, v.author_name AS actor_name, \
                          v.note AS note, v.created_at AS at \
                   FROM knowledge_versions v JOIN knowledge_pages p ON p.id = v.page_id \
                   UNION ALL \
                   SELECT tenant_id, handbook_id, id, 'reviewed', version, \
                          COALESCE(reviewed_by, ''), '', reviewed_at \
                   FROM knowledge_pages WHERE reviewed_at IS NOT NULL \
                 ) h ORDER BY at, page_id, version";

/// Comments on pages and tasks, and the feed of page changes per handbook. The feed starts
/// with what the versions and the last reviews already tell, oldest first, so that `id`
/// order is time order.
struct M0003Collaboration;

impl MigrationName for M0003Collaboration {
    fn name(&self) -> &str {
        "m0003_collaboration"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Collaboration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("knowledge_comments")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer_null("page_id"))
                .col(big_integer_null("task_id"))
                .col(big_integer_null("author_id"))
                .col(string_len("author_name", 200))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("knowledge_comments"))
                .foreign_key(&mut fk(
                    "knowledge_comments",
                    "page_id",
                    "knowledge_pages",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_comments",
                    "task_id",
                    "knowledge_tasks",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_comments",
                    "author_id",
                    "users",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "knowledge_comments_page",
            "knowledge_comments",
            &["page_id", "id"],
        ))
        .await?;
        m.create_index(index(
            "knowledge_comments_task",
            "knowledge_comments",
            &["task_id", "id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("knowledge_changes")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("handbook_id"))
                .col(big_integer("page_id"))
                .col(string_len("kind", 20))
                .col(integer("version"))
                .col(string_len("actor_name", 200))
                .col(string_len("note", 500))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut tenant_fk("knowledge_changes"))
                .foreign_key(&mut fk(
                    "knowledge_changes",
                    "handbook_id",
                    "knowledge_handbooks",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_changes",
                    "page_id",
                    "knowledge_pages",
                    ForeignKeyAction::Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "knowledge_changes_handbook",
            "knowledge_changes",
            &["handbook_id", "id"],
        ))
        .await?;
        // The history so far: every version (the first is the creation) and each page's last
        // review. Plain SQL that both backends speak.
        m.get_connection()
            .execute_unprepared(BACKFILL_CHANGES)
            .await?;
        Ok(())
    }
}

/// The review and task mails: a page may be owned by a role besides its owner person, and a
/// task remembers when its owners were told it fell due. Tasks already past due are marked
/// told, so that the first run does not mail the whole history.
struct M0004Reminders;

impl MigrationName for M0004Reminders {
    fn name(&self) -> &str {
        "m0004_reminders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004Reminders {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key: SQLite cannot add one to an existing table; a deleted role's id
        // matches no member and is ignored.
        m.alter_table(
            Table::alter()
                .table("knowledge_pages")
                .add_column(big_integer_null("owner_role_id"))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("knowledge_tasks")
                .add_column(timestamp_with_time_zone_null("notified_at"))
                .take(),
        )
        .await?;
        // The timestamp in the form each backend's driver reads back.
        let now = match m.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            _ => "CURRENT_TIMESTAMP",
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "UPDATE knowledge_tasks SET notified_at = {now} \
                 WHERE done_at IS NULL AND due_date < CURRENT_DATE"
            ))
            .await?;
        Ok(())
    }
}

/// Files attached to pages (the content lives in the platform's file service).
struct M0005Attachments;

impl MigrationName for M0005Attachments {
    fn name(&self) -> &str {
        "m0005_attachments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005Attachments {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("knowledge_attachments")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(big_integer("page_id"))
                .col(big_integer("file_id"))
                .col(string_len("name", 255))
                .col(string_len("media_type", 200))
                .col(big_integer("size"))
                .col(big_integer_null("uploaded_by_id"))
                .col(string_len("uploaded_by", 200))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("knowledge_attachments"))
                .foreign_key(&mut fk(
                    "knowledge_attachments",
                    "page_id",
                    "knowledge_pages",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_attachments",
                    "file_id",
                    "files",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "knowledge_attachments",
                    "uploaded_by_id",
                    "users",
                    ForeignKeyAction::SetNull,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "knowledge_attachments_page",
            "knowledge_attachments",
            &["page_id", "id"],
        ))
        .await?;
        Ok(())
    }
}
