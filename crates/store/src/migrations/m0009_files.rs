use crate::schema::{index, tenant_fk, unique_index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_files"
    }
}

/// The file service (`store::files`): `file_contents` holds each distinct content of a tenant
/// once (by SHA-256) with the number of references to it; `files` holds the references (one
/// per upload) with their original name and the module that owns them.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("file_contents")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("sha256", 64))
                .col(big_integer("size"))
                .col(string_len("media_type", 127))
                .col(big_integer("refs").default(0))
                .col(timestamp_with_time_zone("created_at"))
                // Set when the last reference went; the garbage collector removes the content
                // a grace period later.
                .col(timestamp_with_time_zone_null("unreferenced_since"))
                .foreign_key(&mut tenant_fk("file_contents"))
                .take(),
        )
        .await?;
        m.create_index(unique_index(
            "ux_file_contents_sha256",
            "file_contents",
            &["tenant_id", "sha256"],
        ))
        .await?;
        m.create_index(index(
            "ix_file_contents_unreferenced",
            "file_contents",
            &["refs", "unreferenced_since"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("files")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("sha256", 64))
                .col(big_integer("size"))
                .col(string_len("media_type", 127))
                .col(string_len("original_name", 255))
                .col(string_len("module", 64))
                .col(string_len("kind", 64))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut tenant_fk("files"))
                .take(),
        )
        .await?;
        m.create_index(index("ix_files_sha256", "files", &["tenant_id", "sha256"]))
            .await?;
        m.create_index(index(
            "ix_files_owner",
            "files",
            &["tenant_id", "module", "kind"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("files").take()).await?;
        m.drop_table(Table::drop().table("file_contents").take())
            .await
    }
}
