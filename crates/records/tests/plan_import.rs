//! The plan import (CSV; XLSX/ODS go through the same pipeline): a file with an error writes
//! nothing, a clean one goes in with the parents derived from the codes; the CLI's exit codes.

use rathaus_records::Records;
use rathaus_records::service::plan_import;
use rathaus_records::store::entity::plan_item;
use rathaus_store::uow::{Actor, scoped};
use rathaus_testkit::{TestDb, tenant_fixture};
use rathaus_web::Module;
use sea_orm::PaginatorTrait;
use std::sync::Arc;

#[tokio::test]
async fn plan_import_all_or_nothing_and_cli() {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Records)];
    rathaus_web::module::migrate_all(&db, &modules)
        .await
        .unwrap();
    rathaus_records::register_texts();
    let a = tenant_fixture(&db, "a", "plan.a.test").await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    let by = Actor::User(&admin);

    let bad = "Kennzeichen;Titel;Aufbewahrungsfrist;Archivierung\r\n\
               460;Soziales;10;B\r\n\
               460.12;Wohngeld;10;vernichten\r\n\
               460.12;Doppelt;10;V\r\n\
               4x;Kaputt;10;A\r\n";
    let out = plan_import::import(&db.conn, by, a.tenant, bad.as_bytes(), true)
        .await
        .unwrap();
    assert!(!out.committed);
    let keys: Vec<&str> = out.errors.iter().map(|l| l.key.as_str()).collect();
    assert!(keys.contains(&"records.err.code_taken"), "{keys:?}");
    assert!(keys.contains(&"records.err.code"), "{keys:?}");
    assert_eq!(
        scoped::<plan_item::Entity>(a.tenant)
            .count(&db.conn)
            .await
            .unwrap(),
        0
    );

    // Children before parents in the file: the parents are still derived.
    let good = "Kennzeichen;Titel;Aufbewahrungsfrist;Archivierung;Fristbeginn\r\n\
                460.12;Wohngeld;10;V;Bewilligungsende\r\n\
                460;Soziales;10;B;\r\n";
    let out = plan_import::import(&db.conn, by, a.tenant, good.as_bytes(), true)
        .await
        .unwrap();
    assert!(out.committed, "{:?}", out.errors);
    let items = scoped::<plan_item::Entity>(a.tenant)
        .all(&db.conn)
        .await
        .unwrap();
    let parent = items.iter().find(|i| i.code == "460").unwrap();
    let child = items.iter().find(|i| i.code == "460.12").unwrap();
    assert_eq!(child.parent_id, Some(parent.id));
    assert_eq!(child.retention_start, "approval_end");
    assert_eq!(child.disposition, "V");

    // Not a spreadsheet: refused with a field error, nothing written.
    let e = plan_import::import(&db.conn, by, a.tenant, b"\x00\x01\x02PK", true).await;
    assert!(e.is_err() || !e.unwrap().committed);

    // The CLI: a dry run of a clean file exits 2, a file with errors 4.
    let dir = std::env::temp_dir().join(format!("records-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plan.csv");
    std::fs::write(
        &path,
        "Kennzeichen;Titel;Aufbewahrungsfrist;Archivierung\r\n936;Hundesteuer;10;V\r\n",
    )
    .unwrap();
    let cmd = rathaus_records::cli::command();
    let run = |args: Vec<String>| {
        let m = cmd.clone().try_get_matches_from(args).unwrap();
        let db = db.clone();
        async move { rathaus_records::cli::run(&db, &m).await.unwrap() }
    };
    let p = path.display().to_string();
    let code = run(vec![
        "records".into(),
        "import-plan".into(),
        p.clone(),
        "--dry-run".into(),
    ])
    .await;
    assert_eq!(code, std::process::ExitCode::from(2));
    let code = run(vec!["records".into(), "import-plan".into(), p.clone()]).await;
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let code = run(vec!["records".into(), "import-plan".into(), p]).await;
    assert_eq!(code, std::process::ExitCode::from(4));
    std::fs::remove_dir_all(&dir).ok();
}
