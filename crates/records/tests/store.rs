//! The store: every table with a `tenant_id` is declared tenant-owned (both databases).

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

/// Concurrent first files of a new plan item and year get distinct consecutive numbers, and
/// a pattern without `{plan}` counts across plan items (never a repeated number).
#[tokio::test]
async fn aktenzeichen_are_unique_under_concurrency_and_patterns() {
    use rathaus_records::service::files::{self, FileInput};
    use rathaus_records::service::plan::{self, PlanItemInput};
    use rathaus_store::uow::Actor;
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    let modules: Vec<std::sync::Arc<dyn rathaus_web::Module>> =
        vec![std::sync::Arc::new(rathaus_records::Records)];
    rathaus_web::module::migrate_all(&db, &modules)
        .await
        .unwrap();
    let a = rathaus_testkit::tenant_fixture(&db, "a", "az.a.test").await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    for code in ["100", "200"] {
        plan::create(
            &db.conn,
            Actor::User(&admin),
            a.tenant,
            &PlanItemInput {
                code: code.into(),
                title: "T".into(),
                retention_years: "5".into(),
                retention_start: String::new(),
                disposition: "V".into(),
            },
        )
        .await
        .unwrap();
    }
    let input = |code: &str| FileInput {
        plan_code: code.into(),
        kind: "general".into(),
        title: "Akte".into(),
        opened_on: "2026-02-01".into(),
        ..Default::default()
    };
    let mut tasks = vec![];
    for _ in 0..8 {
        let (db, admin, i) = (db.clone(), admin.clone(), input("100"));
        tasks.push(tokio::spawn(async move {
            let mut tries = 0;
            loop {
                // SQLite answers a busy database with an error rather than waiting forever.
                match files::create(&db.conn, Actor::User(&admin), admin.tenant_id, &i).await {
                    Ok(f) => return f.file_number,
                    Err(e) if tries < 20 => {
                        tries += 1;
                        let _ = e;
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
        }));
    }
    let mut numbers = vec![];
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    let want: Vec<String> = (1..=8).map(|i| format!("100-2026/{i:04}")).collect();
    assert_eq!(numbers, want);

    files::set_pattern(
        &db.conn,
        Actor::User(&admin),
        a.tenant,
        "AZ {year}-{seq:03}",
    )
    .await
    .unwrap();
    let x = files::create(&db.conn, Actor::User(&admin), a.tenant, &input("100"))
        .await
        .unwrap();
    let y = files::create(&db.conn, Actor::User(&admin), a.tenant, &input("200"))
        .await
        .unwrap();
    assert_eq!(x.file_number, "AZ 2026-001");
    assert_eq!(y.file_number, "AZ 2026-002");
}
