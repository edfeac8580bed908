//! Every `refugees_*` table with a `tenant_id` is declared tenant-owned (so the unit of work
//! filters it).

use crate::common;

#[tokio::test]
async fn every_tenant_table_is_registered() {
    let tdb = common::migrated().await;
    let missing = rathaus_testkit::unregistered_tenant_tables(
        &tdb.db,
        &rathaus_refugees::store::tenant_owned_tables(),
    )
    .await
    .into_iter()
    .filter(|t| t.starts_with("refugees_"))
    .collect::<Vec<_>>();
    assert!(missing.is_empty(), "{missing:?}");
}
