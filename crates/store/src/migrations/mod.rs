//! One set of migrations for SQLite and PostgreSQL, written with sea-query's schema builder.

use sea_orm_migration::prelude::*;

mod m0001_platform;
mod m0002_coat_of_arms;
mod m0003_totp_replay;
mod m0004_citizens;
mod m0005_mail_attachments;
mod m0006_audit_anchors;
mod m0007_tenant_land;
mod m0008_tenant_uid_domain;
mod m0009_files;
mod m0010_password_resets;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_platform::Migration),
            Box::new(m0002_coat_of_arms::Migration),
            Box::new(m0003_totp_replay::Migration),
            Box::new(m0004_citizens::Migration),
            Box::new(m0005_mail_attachments::Migration),
            Box::new(m0006_audit_anchors::Migration),
            Box::new(m0007_tenant_land::Migration),
            Box::new(m0008_tenant_uid_domain::Migration),
            Box::new(m0009_files::Migration),
            Box::new(m0010_password_resets::Migration),
        ]
    }
}
