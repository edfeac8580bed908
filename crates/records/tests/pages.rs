//! The pages under /akten on both databases: refusals, the plan form and its import, a new
//! file, uploading several documents at once (multipart, no JavaScript), errors that keep
//! the input, the inbox's one-action assignment, the dog-tax register export and search.

use rathaus_records::Records;
use rathaus_records::store::entity::{document, file};
use rathaus_store::uow::scoped;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture};
use rathaus_web::Module;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::Arc;

const HOST: &str = "akten-seiten.a.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Records)]
}

#[tokio::test]
async fn pages_file_upload_inbox_register_and_search() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    Records.demo(&db, &admin).await.unwrap();
    // The documents come through the hook `serve --demo` calls at every start: a second
    // start files nothing twice.
    Records.demo_files(&db, &st.files, &admin).await.unwrap();
    let docs = scoped::<document::Entity>(a.tenant)
        .count(&db.conn)
        .await
        .unwrap();
    assert!(docs >= 5, "{docs}");
    assert_eq!(
        rathaus_records::demo::sample_documents(&db, &st.files, &admin)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        scoped::<document::Entity>(a.tenant)
            .count(&db.conn)
            .await
            .unwrap(),
        docs
    );
    let (search, files_store) = (st.search.clone(), st.files.clone());
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");

    let wohngeld = scoped::<file::Entity>(a.tenant)
        .filter(file::Column::Kind.eq("wohngeld"))
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let page_routes = [
        "/akten".to_string(),
        "/akten/neu".into(),
        format!("/akten/akte/{}", wohngeld.id),
        "/akten/aktenplan".into(),
        "/akten/posteingang".into(),
        "/akten/wiedervorlagen".into(),
        "/akten/hunderegister".into(),
        "/akten/suche?q=Wohngeld".into(),
    ];
    // Anonymous: to the login; a member of staff without records permissions: 403.
    let anon = app.client(&[HOST]);
    for p in &page_routes {
        let r = anon.get(format!("{base}{p}")).send().await.unwrap();
        assert!(r.status().is_redirection(), "{p}: {}", r.status());
    }
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &a.clerk_email, PASSWORD).await;
    for p in &page_routes {
        let r = clerk.get(format!("{base}{p}")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{p}");
    }
    let home = clerk
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let k = csrf_of(&home);
    let w = wohngeld.id;
    let posts = [
        "/akten/neu".to_string(),
        format!("/akten/akte/{w}/dokumente"),
        format!("/akten/akte/{w}/dokumente/1/version"),
        format!("/akten/akte/{w}/schliessen"),
        format!("/akten/akte/{w}/vorgang"),
        format!("/akten/akte/{w}/wiedervorlage"),
        "/akten/wiedervorlagen/1/erledigt".into(),
        "/akten/aktenplan".into(),
        "/akten/aktenplan/import".into(),
        "/akten/posteingang".into(),
        "/akten/posteingang/1/zuordnen".into(),
    ];
    let anon_k = csrf_of(
        &anon
            .get(format!("{base}/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    for p in &posts {
        let r = clerk
            .post(format!("{base}{p}"))
            .form(&[("_csrf", k.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{p}");
        let r = anon
            .post(format!("{base}{p}"))
            .form(&[("_csrf", anon_k.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{p} (anonymous)");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login")
        );
    }
    let r = clerk
        .get(format!("{base}/akten/dokumente/1/inhalt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A reader of general files may not create files, nor see the inbox or the dog register.
    let viewer = rathaus_testkit::user_with(
        &db,
        a.tenant,
        "leser@a.example",
        "Lea Leser",
        &[rathaus_records::permissions::VIEW],
    )
    .await;
    let vc = app.client(&[HOST]);
    login(&vc, &base, &viewer.email, PASSWORD).await;
    for p in ["/akten/neu", "/akten/posteingang", "/akten/hunderegister"] {
        let r = vc.get(format!("{base}{p}")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{p}");
    }
    let r = vc
        .get(format!("{base}/akten/akte/{w}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let html = vc
        .get(format!("{base}/akten?q=Wohngeld"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("Yılmaz") && html.contains("Gefunden: 0"),
        "{html}"
    );

    let c = app.client(&[HOST]);
    login(&c, &base, &a.admin_email, PASSWORD).await;
    for p in &page_routes {
        let r = c.get(format!("{base}{p}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{p}");
    }
    let csrf = csrf_of(
        &c.get(format!("{base}/akten/neu"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );

    // The plan form: a code in use keeps the input and says why.
    let r = c
        .post(format!("{base}/akten/aktenplan"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("code", "460.12"),
            ("title", "Doppelter Eintrag"),
            ("retention_years", "6"),
            ("disposition", "V"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("schon vergeben"), "{html}");
    assert!(html.contains("Doppelter Eintrag"));

    // The plan import: a CSV as German Excel writes it.
    let csv = "Kennzeichen;Titel;Aufbewahrungsfrist;Archivierung\r\n700;Öffentliche Einrichtungen;10;B\r\n700.1;Friedhöfe;30;A\r\n";
    let r = c
        .post(format!("{base}/akten/aktenplan/import?_csrf={csrf}"))
        .multipart(
            Form::new()
                .text("_csrf", csrf.clone())
                .text("commit", "1")
                .part(
                    "file",
                    Part::bytes(csv.as_bytes().to_vec()).file_name("plan.csv"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Friedhöfe"), "{html}");

    // A new file through the form.
    let r = c
        .post(format!("{base}/akten/neu"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("plan_code", "700.1"),
            ("kind", "general"),
            ("title", "Friedhofssatzung"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let fid: i64 = loc
        .trim_start_matches("/akten/akte/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // A missing title keeps the rest.
    let r = c
        .post(format!("{base}/akten/neu"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("plan_code", "700.1"),
            ("kind", "general"),
            ("title", ""),
            ("subject_name", "Erika Mustermann"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Erika Mustermann"));

    // Two documents at once, without JavaScript.
    let r = c
        .post(format!("{base}/akten/akte/{fid}/dokumente?_csrf={csrf}"))
        .multipart(
            Form::new()
                .text("_csrf", csrf.clone())
                .text("tags", "Satzung")
                .part(
                    "file",
                    Part::bytes(b"Entwurf der Friedhofssatzung mit Grabnutzungsgebuehren".to_vec())
                        .file_name("entwurf.txt"),
                )
                .part(
                    "file",
                    Part::bytes(b"Stellungnahme der Kirchengemeinde".to_vec())
                        .file_name("stellungnahme.txt"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let docs = scoped::<document::Entity>(a.tenant)
        .filter(document::Column::FileId.eq(fid))
        .count(&db.conn)
        .await
        .unwrap();
    assert_eq!(docs, 2);
    let html = c
        .get(format!("{base}/akten/akte/{fid}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("entwurf.txt") && html.contains("stellungnahme"),
        "{html}"
    );
    // An empty file: 422 with the message, the typed title kept, nothing stored.
    let r = c
        .post(format!("{base}/akten/akte/{fid}/dokumente?_csrf={csrf}"))
        .multipart(
            Form::new()
                .text("_csrf", csrf.clone())
                .text("title", "Leeres Blatt")
                .part("file", Part::bytes(Vec::new()).file_name("leer.txt")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("leer (0 Bytes)") && html.contains("Leeres Blatt"),
        "{html}"
    );

    // The Wohngeld file's page shows its access log (the admin's own reads).
    let html = c
        .get(format!("{base}/akten/akte/{}", wohngeld.id))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Zugriffsprotokoll") && html.contains("Akte geöffnet"),
        "{html}"
    );

    // Inbox: upload a scan, assign it by Aktenzeichen.
    let r = c
        .post(format!("{base}/akten/posteingang?_csrf={csrf}"))
        .multipart(
            Form::new().text("_csrf", csrf.clone()).part(
                "file",
                Part::bytes(b"Widerspruch gegen den Gebuehrenbescheid".to_vec())
                    .file_name("scan-0001.txt"),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = c
        .get(format!("{base}/akten/posteingang"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("scan-0001.txt"));
    let item = rathaus_records::store::entity::inbox_item::Entity::find()
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let number = scoped::<file::Entity>(a.tenant)
        .filter(file::Column::Id.eq(fid))
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap()
        .file_number;
    let r = c
        .post(format!("{base}/akten/posteingang/{}/zuordnen", item.id))
        .form(&[("_csrf", csrf.as_str()), ("file_number", "999-0000/0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("999-0000/0000"));
    let r = c
        .post(format!("{base}/akten/posteingang/{}/zuordnen", item.id))
        .form(&[("_csrf", csrf.as_str()), ("file_number", number.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        scoped::<document::Entity>(a.tenant)
            .filter(document::Column::FileId.eq(fid))
            .count(&db.conn)
            .await
            .unwrap(),
        3
    );

    // The dog-tax register as CSV and XLSX.
    let r = c
        .get(format!("{base}/akten/hunderegister?format=csv"))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.text().await.unwrap();
    assert!(
        body.contains("HST-0413") && body.contains("Rocky"),
        "{body}"
    );
    let r = c
        .get(format!("{base}/akten/hunderegister?format=xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));

    // Search after extraction: a word inside a demo document and one inside an upload.
    let mut jobs = rathaus_store::jobs::Registry::default();
    for (kind, h) in rathaus_extract::jobs(files_store) {
        jobs.register(kind, h);
    }
    while jobs.run_one(&db).await.unwrap() {}
    search.apply_outbox(&db).await.unwrap();
    for (q, want) in [
        ("Bruttokaltmiete", "Wohngeldantrag"),
        ("Grabnutzungsgebuehren", "entwurf"),
    ] {
        let html = c
            .get(format!("{base}/akten/suche?q={q}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(want), "{q}: {html}");
    }
}
