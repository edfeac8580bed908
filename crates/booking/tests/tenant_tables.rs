//! Every table of the module with a `tenant_id` column is declared tenant-owned, so it is
//! reached through the unit of work (`rathaus_store::uow`) like the platform's tables.

use crate::common;

#[tokio::test]
async fn every_table_with_a_tenant_column_is_registered() {
    let tdb = common::migrated().await;
    let mut registered = rathaus_store::entity::tenant_owned_tables();
    registered.extend(rathaus_booking::store::entity::tenant_owned_tables());
    let missing = rathaus_testkit::unregistered_tenant_tables(&tdb.db, &registered).await;
    assert!(
        missing.is_empty(),
        "not declared with tenant_owned!: {missing:?}"
    );
}
