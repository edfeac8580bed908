use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_mail_attachments"
    }
}

/// Attachments of outbox mails (e.g. an .ics invitation), sent as multipart/mixed.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("mail_attachments")
                .col(big_pk_auto("id"))
                .col(big_integer("mail_id"))
                .col(string_len("filename", 200))
                .col(string_len("content_type", 200))
                .col(blob("content"))
                .foreign_key(
                    ForeignKey::create()
                        .from("mail_attachments", "mail_id")
                        .to("mail_outbox", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_mail_attachments_mail")
                .table("mail_attachments")
                .col("mail_id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("mail_attachments").take())
            .await
    }
}
