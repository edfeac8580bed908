//! The inbox's one-action assignment over the pages, on both databases: a scan goes to the
//! file named by its Aktenzeichen or, when only one open file matches, by a word of its
//! title or subject; several matches are offered to choose (closed files and files the
//! clerk may not see are not), and nothing is filed until one is chosen.

use rathaus_records::Records;
use rathaus_records::service::files::{self, FileInput};
use rathaus_records::service::inbox;
use rathaus_records::service::plan::{self, PlanItemInput};
use rathaus_records::store::entity::document;
use rathaus_store::files::Limits;
use rathaus_store::uow::{Actor, scoped};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture};
use rathaus_web::Module;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
use std::sync::Arc;

const HOST: &str = "zuordnen.a.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Records)]
}

#[tokio::test]
async fn a_scan_is_assigned_by_a_word_of_the_subject_and_several_matches_are_offered() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let t = a.tenant;
    let admin = rathaus_testkit::principal(&db, t, a.admin).await;
    let by = Actor::User(&admin);
    plan::create(
        &db.conn,
        by,
        t,
        &PlanItemInput {
            code: "632".into(),
            title: "Bauanträge".into(),
            retention_years: "10".into(),
            retention_start: String::new(),
            disposition: "A".into(),
        },
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (title, subject) in [
        ("Bauantrag Garage", "Erika Schulz"),
        ("Bauantrag Carport", "Hans Meier"),
        ("Bauantrag Scheune", "Jürgen Vogt"),
    ] {
        let f = files::create(
            &db.conn,
            by,
            t,
            &FileInput {
                plan_code: "632".into(),
                title: title.into(),
                kind: "general".into(),
                subject_name: subject.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        ids.push(f);
    }
    // The barn's file is closed: not offered, not a match.
    files::close(&db.conn, by, t, ids[2].id, "").await.unwrap();
    let limits = Limits {
        max_size: 1000,
        quota: None,
    };
    let mut items = Vec::new();
    for name in ["schulz.pdf", "carport.pdf"] {
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(
            format!("Scan {name}"),
        ))]);
        let i = inbox::upload(&db, &st.files, by, t, None, limits, name, body)
            .await
            .unwrap();
        items.push(i.id);
    }
    let docs_in = |fid: i64| {
        let db = db.clone();
        async move {
            scoped::<document::Entity>(t)
                .filter(document::Column::FileId.eq(fid))
                .count(&db.conn)
                .await
                .unwrap()
        }
    };

    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    login(&c, &base, &a.admin_email, PASSWORD).await;
    let page = c
        .get(format!("{base}/akten/posteingang?bereich="))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Aktenzeichen oder Betreff"), "{page}");
    let k = csrf_of(&page);
    let assign = |item: i64, text: &str| {
        c.post(format!("{base}/akten/posteingang/{item}/zuordnen"))
            .form(&[
                ("_csrf", k.as_str()),
                ("bereich", ""),
                ("file_number", text),
            ])
            .send()
    };

    // One open file with "Schulz" in its subject: filed there at once.
    let r = assign(items[0], "schulz").await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(docs_in(ids[0].id).await, 1);

    // "Bauantrag" matches two open files: both offered, the closed one not, nothing filed.
    let r = assign(items[1], "Bauantrag").await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("2 offene Akten passen."), "{html}");
    assert!(html.contains(&format!("Zuordnen zu {}", ids[0].file_number)));
    assert!(html.contains(&format!("Zuordnen zu {}", ids[1].file_number)));
    assert!(!html.contains(&format!("Zuordnen zu {}", ids[2].file_number)));
    assert!(
        html.contains("value=\"Bauantrag\""),
        "the typed text is kept"
    );
    assert_eq!(docs_in(ids[1].id).await, 0);

    // A word no open file has, and the closed file's subject: unknown.
    // "%" and "_" match themselves, not everything.
    for text in ["Vogt", "Rathausplatz", "%", "_"] {
        let r = assign(items[1], text).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Keine offene Akte passt zu diesem Aktenzeichen oder Betreff")
        );
    }

    // The offered choice posts the Aktenzeichen.
    let r = assign(items[1], &ids[1].file_number).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(docs_in(ids[1].id).await, 1);
}
