//! The stored results (`extract_texts`, one row per file), with the crate's own migrations
//! (history table `seaql_migrations_extract`).

use crate::outcome::{Method, Outcome};
use chrono::{DateTime, Utc};
use rathaus_core::{Result, TenantId};
use rathaus_store::Db;
use rathaus_store::entity::file;
use rathaus_store::files::FileId;
use rathaus_store::uow::{self, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, Set};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "extract_texts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub file_id: i64,
        /// `ok`, `failed` or `unsupported`.
        pub status: String,
        /// `pdf_text`, `ocr`, `docx`, `odt`, `text` (None: failed before one was chosen).
        pub method: Option<String>,
        /// A translation key (`extract.err.*`) when failed.
        pub error: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub text: String,
        pub chars: i64,
        pub extracted_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tables {
    use super::entity as extract_texts;
    rathaus_store::tenant_owned!(extract_texts);
}

/// Status of a stored result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed,
    Unsupported,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Unsupported => "unsupported",
        }
    }
}

/// A file's stored extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub file: FileId,
    pub status: Status,
    pub method: Option<Method>,
    /// The reason as a translation key when failed.
    pub error: Option<String>,
    /// Empty unless `status` is `Ok`.
    pub text: String,
    pub chars: i64,
    pub extracted_at: DateTime<Utc>,
}

impl From<entity::Model> for Stored {
    fn from(m: entity::Model) -> Self {
        Stored {
            file: FileId(m.file_id),
            status: match m.status.as_str() {
                "ok" => Status::Ok,
                "unsupported" => Status::Unsupported,
                _ => Status::Failed,
            },
            method: m.method.as_deref().and_then(Method::parse),
            error: m.error,
            text: m.text,
            chars: m.chars,
            extracted_at: m.extracted_at,
        }
    }
}

/// Stores (or replaces) the result for `file` in the unit of work's tenant. A file of another
/// tenant, or one deleted meanwhile, is `NotFound`.
pub async fn save(tx: &Tx<'_>, file: FileId, outcome: &Outcome) -> Result<Stored> {
    tx.get::<file::Entity, _>(file.0).await?;
    let (status, method, error, text) = match outcome {
        Outcome::Ok { method, text } => (Status::Ok, Some(*method), None, text.as_str()),
        Outcome::Failed { method, reason, .. } => (Status::Failed, *method, Some(*reason), ""),
        Outcome::Unsupported { .. } => (Status::Unsupported, None, None, ""),
    };
    let chars = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
    let now = Utc::now();
    let existing = tx
        .find::<entity::Entity>()
        .filter(entity::Column::FileId.eq(file.0))
        .one(tx.conn())
        .await?;
    let row = entity::ActiveModel {
        file_id: Set(file.0),
        status: Set(status.as_str().to_string()),
        method: Set(method.map(|m| m.as_str().to_string())),
        error: Set(error.map(str::to_string)),
        text: Set(text.to_string()),
        chars: Set(chars),
        extracted_at: Set(now),
        ..Default::default()
    };
    let model = match existing {
        None => tx.insert(row).await?,
        Some(old) => {
            tx.update_many::<entity::Entity>()
                .col_expr(entity::Column::Status, Expr::value(status.as_str()))
                .col_expr(
                    entity::Column::Method,
                    Expr::value(method.map(|m| m.as_str().to_string())),
                )
                .col_expr(
                    entity::Column::Error,
                    Expr::value(error.map(str::to_string)),
                )
                .col_expr(entity::Column::Text, Expr::value(text.to_string()))
                .col_expr(entity::Column::Chars, Expr::value(chars))
                .col_expr(entity::Column::ExtractedAt, Expr::value(now))
                .filter(entity::Column::Id.eq(old.id))
                .exec(tx.conn())
                .await?;
            tx.get::<entity::Entity, _>(old.id).await?
        }
    };
    Ok(model.into())
}

/// The stored extraction of a file (None: not extracted yet).
pub async fn text_of<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    file: FileId,
) -> Result<Option<Stored>> {
    Ok(uow::scoped::<entity::Entity>(tenant)
        .filter(entity::Column::FileId.eq(file.0))
        .one(conn)
        .await?
        .map(Into::into))
}

/// Creates `extract_texts` (after the platform's migrations, which create `files`).
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    use sea_orm_migration::MigratorTrait;
    migrations::Migrator::up(&db.conn, None).await?;
    Ok(())
}

mod migrations {
    use rathaus_store::schema::{fk, tenant_fk, unique_index};
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migrator;

    #[async_trait::async_trait]
    impl MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(M0001Texts)]
        }
        fn migration_table_name() -> DynIden {
            "seaql_migrations_extract".into_iden()
        }
    }

    struct M0001Texts;

    impl MigrationName for M0001Texts {
        fn name(&self) -> &str {
            "m0001_extract_texts"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for M0001Texts {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_table(
                Table::create()
                    .table("extract_texts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("tenant_id"))
                    .col(big_integer("file_id"))
                    .col(string_len("status", 20))
                    .col(string_len_null("method", 20))
                    .col(string_len_null("error", 100))
                    .col(text("text"))
                    .col(big_integer("chars"))
                    .col(timestamp_with_time_zone("extracted_at"))
                    .foreign_key(&mut tenant_fk("extract_texts"))
                    // The result goes with its file.
                    .foreign_key(&mut fk(
                        "extract_texts",
                        "file_id",
                        "files",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
            m.create_index(unique_index(
                "ux_extract_texts_file",
                "extract_texts",
                &["file_id"],
            ))
            .await?;
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("extract_texts").to_owned())
                .await
        }
    }
}
