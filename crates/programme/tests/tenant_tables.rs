//! Every table of the module with a `tenant_id` column is declared tenant-owned, so it is
//! reached through the unit of work (`rathaus_store::uow`) like the platform's tables.

use rathaus_web::Module;

#[tokio::test]
async fn every_table_with_a_tenant_column_is_registered() {
    let tdb = rathaus_testkit::TestDb::new().await;
    rathaus_programme::Programme.migrate(&tdb.db).await.unwrap();
    let registered = rathaus_programme::store::tenant_owned_tables();
    let missing = rathaus_testkit::unregistered_tenant_tables(&tdb.db, &registered)
        .await
        .into_iter()
        .filter(|t| t.starts_with("programme_"))
        .collect::<Vec<_>>();
    assert!(
        missing.is_empty(),
        "not declared with tenant_owned!: {missing:?}"
    );
}
