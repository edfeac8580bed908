//! The staff start page lists the measures a user is responsible for that fall due, over HTTP
//! on the test database (SQLite, or PostgreSQL with RATHAUS_TEST_DATABASE_URL).

use chrono::{Duration, Utc};
use rathaus_programme::Programme;
use rathaus_programme::service::measures::{self, MeasureInput};
use rathaus_programme::service::moves::{self, MoveInput};
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture, user_with};
use rathaus_web::{AppState, Module, WebConfig};
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";
const LINE: &str = "Maßnahme(n) in Ihrer Verantwortung bald oder schon fällig";

#[tokio::test]
async fn the_start_page_lists_due_measures_of_the_responsible_only() {
    let tdb = TestDb::new().await;
    rathaus_core::permissions::register(rathaus_programme::permissions::PERMISSIONS);
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Programme)];
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    let owner = user_with(
        &db,
        a.tenant,
        "olga@a.example",
        "Olga Owner",
        &["programme.read"],
    )
    .await;
    user_with(
        &db,
        a.tenant,
        "leser@a.example",
        "Lea Leser",
        &["programme.read"],
    )
    .await;
    user_with(&db, a.tenant, "fremd@a.example", "Fritz Fremd", &[]).await;
    let by = Actor::User(&admin);
    let today = Utc::now().date_naive();
    let mut ids = Vec::new();
    // Due in three days, due in a month (not yet), and a done one: one counts.
    for (title, due) in [
        ("Parkautomaten", today + Duration::days(3)),
        ("Wohngeld digital", today + Duration::days(30)),
        ("Mängelmelder", today + Duration::days(1)),
    ] {
        let inp = MeasureInput {
            title: title.into(),
            department: "Bauamt".into(),
            benefit: "3".into(),
            effort: "3".into(),
            responsible_id: owner.user_id.0.to_string(),
            due: due.format("%Y-%m-%d").to_string(),
            ..Default::default()
        };
        let (m, _) = measures::create(&db.conn, None, by, a.tenant, &inp)
            .await
            .unwrap();
        ids.push(m.id);
    }
    let done = MoveInput {
        phase: "erledigt".into(),
        before_id: None,
        version: None,
    };
    moves::move_card(&db.conn, None, by, a.tenant, ids[2], &done)
        .await
        .unwrap();

    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let home = |email: &'static str| {
        let c = app.client(&[HOST]);
        let base = base.clone();
        async move {
            login(&c, &base, email, PASSWORD).await;
            c.get(format!("{base}/staff"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = home("olga@a.example").await;
    assert!(
        html.contains(&format!(
            "<a href=\"/programm/massnahmen\">1 {LINE}</a></li>"
        )),
        "{html}"
    );
    // Another reader and a colleague without the module see no line.
    assert!(!home("leser@a.example").await.contains(LINE));
    assert!(!home("fremd@a.example").await.contains(LINE));
}
