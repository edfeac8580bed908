//! The status report's burn-up chart and its printable version, over HTTP on the test
//! database (SQLite, or PostgreSQL with RATHAUS_TEST_DATABASE_URL).

use chrono::{Duration, Utc};
use rathaus_programme::Programme;
use rathaus_programme::service::measures::{self, MeasureInput};
use rathaus_programme::service::moves::{self, MoveInput};
use rathaus_programme::store::entity::{measure, move_event};
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture, user_with};
use rathaus_web::{AppState, Module, WebConfig};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";

/// Sets when a measure was created and when each of its moves happened (oldest first).
async fn backdate(db: &sea_orm::DatabaseConnection, id: i64, created: i64, moves: &[i64]) {
    let at = |days: i64| Utc::now() - Duration::days(days);
    measure::Entity::update_many()
        .col_expr(measure::Column::CreatedAt, Expr::value(at(created)))
        .filter(measure::Column::Id.eq(id))
        .exec(db)
        .await
        .expect("backdate the measure");
    let rows = move_event::Entity::find()
        .filter(move_event::Column::MeasureId.eq(id))
        .order_by_asc(move_event::Column::Id)
        .all(db)
        .await
        .expect("the moves");
    assert_eq!(rows.len(), moves.len(), "the moves of measure {id}");
    for (row, days) in rows.iter().zip(moves) {
        move_event::Entity::update_many()
            .col_expr(move_event::Column::At, Expr::value(at(*days)))
            .filter(move_event::Column::Id.eq(row.id))
            .exec(db)
            .await
            .expect("backdate the move");
    }
}

#[tokio::test]
async fn the_report_and_its_printable_version_show_the_burn_up_to_readers_only() {
    let tdb = TestDb::new().await;
    rathaus_core::permissions::register(rathaus_programme::permissions::PERMISSIONS);
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Programme)];
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    user_with(
        &db,
        a.tenant,
        "leser@a.example",
        "Lea Leser",
        &["programme.read"],
    )
    .await;
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");

    // No measures yet: the report says so instead of drawing an empty chart.
    let c = app.client(&[HOST]);
    login(&c, &base, "leser@a.example", PASSWORD).await;
    let html = c
        .get(format!("{base}/programm/bericht"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<svg"), "{html}");

    // Three measures created three weeks ago: A done two weeks ago, B done then reopened a
    // week ago, C done today.
    let by = Actor::User(&admin);
    let mut ids = Vec::new();
    for title in ["A Parkautomaten", "B E-Akte Wohngeld", "C Mängelmelder"] {
        let inp = MeasureInput {
            title: title.into(),
            department: "Bauamt".into(),
            benefit: "3".into(),
            effort: "3".into(),
            ..Default::default()
        };
        let (m, _) = measures::create(&db.conn, None, by, a.tenant, &inp)
            .await
            .unwrap();
        ids.push(m.id);
    }
    let go = |phase: &str| MoveInput {
        phase: phase.into(),
        before_id: None,
        version: None,
    };
    for (id, phases) in [
        (ids[0], &["erledigt"][..]),
        (ids[1], &["erledigt", "im_test"][..]),
        (ids[2], &["erledigt"][..]),
    ] {
        for ph in phases {
            moves::move_card(&db.conn, None, by, a.tenant, id, &go(ph))
                .await
                .unwrap();
        }
    }
    backdate(&db.conn, ids[0], 21, &[21, 14]).await;
    backdate(&db.conn, ids[1], 21, &[21, 14, 7]).await;
    backdate(&db.conn, ids[2], 21, &[21, 0]).await;

    for path in ["/programm/bericht", "/programm/bericht/druck"] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<svg"), "{path}: {html}");
        assert!(html.contains(r#"role="img""#), "{path}");
        assert!(
            html.contains(r#"aria-labelledby="burn-title burn-desc""#),
            "{path}"
        );
        assert!(
            html.contains("<title id=\"burn-title\">Erledigte Maßnahmen im Zeitverlauf</title>"),
            "{path}: {html}"
        );
        assert!(
            html.contains("2 von 3 Maßnahmen erledigt."),
            "{path}: {html}"
        );
        // The same figures as a table: four weeks, done 0, 2, 1, 2 of 3.
        let table = &html[html.find("id=\"burn-caption\"").expect("the burn-up table")..];
        let done: Vec<&str> = table
            .split("<tr><th scope=\"row\">")
            .skip(1)
            .map(|row| {
                let cell = &row[row.find("<td class=\"num\">").unwrap() + 16..];
                &cell[..cell.find('<').unwrap()]
            })
            .collect();
        assert_eq!(done, vec!["0", "2", "1", "2"], "{path}: {table}");
        assert!(table.contains("<td class=\"num\">3</td>"), "{path}");
        if path.ends_with("druck") {
            assert!(!html.contains("<nav"), "no navigation in print: {html}");
            assert!(!html.contains("<form"), "no forms in print: {html}");
            assert!(!html.contains("<script"), "no script in print: {html}");
            assert!(html.contains("href=\"/programm/bericht\""), "back link");
        } else {
            assert!(
                html.contains("href=\"/programm/bericht/druck\""),
                "the report links its printable version"
            );
        }
    }

    // Anonymous callers are sent to the login; staff without the permission are refused.
    let anon = app.client(&[HOST]);
    for path in ["/programm/bericht", "/programm/bericht/druck"] {
        let r = anon.get(format!("{base}{path}")).send().await.unwrap();
        assert!(r.status().is_redirection(), "{path}: {}", r.status());
        let to = r.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/login"), "{path}: {to}");
    }
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &a.clerk_email, PASSWORD).await;
    for path in ["/programm/bericht", "/programm/bericht/druck"] {
        let r = clerk.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        assert!(!r.text().await.unwrap().contains("<svg"), "{path}");
    }
}
