//! The store: every table with a `tenant_id` is declared tenant-owned (both databases).

#![allow(clippy::unwrap_used)]

use rathaus_testkit::TestDb;
use sea_orm_migration::MigratorTrait;

#[tokio::test]
async fn every_tenant_table_is_registered() {
    let tdb = TestDb::new().await;
    rathaus_web::module::migrate_all(&tdb.db, &[])
        .await
        .unwrap();
    rathaus_records::store::migrations::Migrator::up(&tdb.db.conn, None)
        .await
        .unwrap();
    let mut registered = rathaus_web::module::platform_tenant_owned_tables();
    registered.extend(rathaus_records::store::entity::tenant_owned_tables());
    let missing = rathaus_testkit::unregistered_tenant_tables(&tdb.db, &registered).await;
    assert!(
        missing.is_empty(),
        "not declared with tenant_owned!: {missing:?}"
    );
}
