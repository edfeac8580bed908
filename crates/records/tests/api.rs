//! The records JSON API end to end on both databases (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): the plan, files with Aktenzeichen, uploads and versions on the
//! file store, downloads with ranges, search after text extraction, the two-user restricted
//! visibility (lists, counts, search), the read audit, refusals and bad input that changes
//! nothing.

use rathaus_core::TenantId;
use rathaus_records::Records;
use rathaus_records::permissions::{MANAGE, VIEW, WOHNGELD};
use rathaus_records::store::entity::{document, file, version};
use rathaus_store::uow::{Actor, scoped};
use rathaus_store::{Db, tokens};
use rathaus_testkit::{TestApp, TestDb, tenant_fixture, user_with};
use rathaus_web::{AppState, Module, WebConfig};
use reqwest::multipart::{Form, Part};
use sea_orm::PaginatorTrait;
use serde_json::{Value, json};
use std::sync::Arc;

const HOST: &str = "akten.a.test";
const HOST_B: &str = "akten.b.test";
const LIMIT: usize = 200_000;

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Records)]
}

async fn token(db: &Db, tenant: TenantId, user: rathaus_core::UserId) -> String {
    tokens::create(&db.conn, tenant, user, Actor::system("test"), "Test")
        .await
        .unwrap()
        .0
}

fn upload(name: &str, data: Vec<u8>, title: &str) -> Form {
    Form::new()
        .text("title", title.to_string())
        .text("tags", "Antrag, Wohngeld")
        .part("file", Part::bytes(data).file_name(name.to_string()))
}

async fn counts(db: &Db, t: TenantId) -> (u64, u64, u64) {
    (
        scoped::<file::Entity>(t).count(&db.conn).await.unwrap(),
        scoped::<document::Entity>(t).count(&db.conn).await.unwrap(),
        scoped::<version::Entity>(t).count(&db.conn).await.unwrap(),
    )
}

#[tokio::test]
async fn api_plan_files_documents_search_restricted_and_bad_input() {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    rathaus_web::module::migrate_all(&db, &modules())
        .await
        .unwrap();
    let cfg = WebConfig {
        upload_limit: LIMIT,
        ..WebConfig::default()
    };
    let st = AppState::with_modules(db.clone(), cfg, modules());
    let a = tenant_fixture(&db, "a", HOST).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let viewer = user_with(&db, a.tenant, "leser@a.example", "Lea Leser", &[VIEW]).await;
    let wg = user_with(
        &db,
        a.tenant,
        "wohngeld@a.example",
        "Wanda Wohngeld",
        &[VIEW, MANAGE, WOHNGELD],
    )
    .await;
    let search = st.search.clone();
    let files_store = st.files.clone();
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let admin = token(&db, a.tenant, a.admin).await;
    let clerk = token(&db, a.tenant, a.clerk).await;
    let view_tok = token(&db, a.tenant, viewer.user_id).await;
    let wg_tok = token(&db, a.tenant, wg.user_id).await;
    let admin_b = token(&db, b.tenant, b.admin).await;
    let c = app.client(&[HOST, HOST_B]);
    let api = |p: &str| format!("{base}/api/v1/records{p}");

    // Anonymous and a user without any records permission are refused on every route.
    let routes: Vec<(&str, String)> = vec![
        ("GET", api("/plan-items")),
        ("POST", api("/plan-items")),
        ("GET", api("/files")),
        ("POST", api("/files")),
        ("GET", api("/files/1")),
        ("POST", api("/files/1/close")),
        ("GET", api("/files/1/access-log")),
        ("POST", api("/files/1/documents")),
        ("POST", api("/documents/1/versions")),
        ("GET", api("/documents/1/content")),
        ("GET", api("/search?q=x")),
    ];
    for (m, u) in &routes {
        let req = |tok: Option<&str>| {
            let r = if *m == "GET" {
                c.get(u)
            } else {
                c.post(u).json(&json!({}))
            };
            match tok {
                Some(t) => r.bearer_auth(t),
                None => r,
            }
        };
        assert_eq!(req(None).send().await.unwrap().status(), 401, "{m} {u}");
        assert_eq!(
            req(Some(&clerk)).send().await.unwrap().status(),
            403,
            "{m} {u}"
        );
    }
    // A reader cannot change anything.
    let r = c
        .post(api("/plan-items"))
        .bearer_auth(&view_tok)
        .json(&json!({"code": "460", "title": "x", "retention_years": 1, "disposition": "V"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The plan: parents from the code prefix; a clashing code is refused.
    for (code, title, years, disp, start) in [
        ("460", "Soziales", 10, "B", "closing"),
        ("460.12", "Wohngeld", 10, "B", "approval_end"),
        ("022", "Allgemeine Verwaltung", 10, "A", "closing"),
        ("022.31", "Ratsangelegenheiten", 30, "A", "closing"),
    ] {
        let r = c
            .post(api("/plan-items"))
            .bearer_auth(&admin)
            .json(&json!({"code": code, "title": title, "retention_years": years, "disposition": disp, "retention_start": start}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{code}");
    }
    let r = c
        .post(api("/plan-items"))
        .bearer_auth(&admin)
        .json(&json!({"code": "460.12", "title": "Doppelt", "retention_years": 5, "disposition": "V"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["code"], "records.err.code_taken");
    let plan: Vec<Value> = c
        .get(api("/plan-items"))
        .bearer_auth(&view_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plan.len(), 4);
    let id_of = |code: &str| plan.iter().find(|x| x["code"] == code).unwrap()["id"].clone();
    assert_eq!(
        plan.iter().find(|x| x["code"] == "460.12").unwrap()["parent_id"],
        id_of("460")
    );

    // A pattern without {seq} would repeat numbers: refused, nothing stored.
    let e = rathaus_records::service::files::set_pattern(
        &db.conn,
        Actor::User(&wg),
        a.tenant,
        "{plan}-{year}",
    )
    .await
    .unwrap_err();
    assert!(format!("{e:?}").contains("records.err.pattern_no_seq"));

    // Files get consecutive Aktenzeichen per plan item and year.
    let year = chrono::Datelike::year(&rathaus_records::service::today());
    let mut ids = vec![];
    for (code, kind, title) in [
        ("022.31", "general", "Ratssitzung März"),
        ("460.12", "wohngeld", "Wohngeld Müller"),
        ("460.12", "wohngeld", "Wohngeld Schmidt"),
    ] {
        let r = c
            .post(api("/files"))
            .bearer_auth(&wg_tok)
            .json(&json!({"plan_code": code, "title": title, "kind": kind,
                "subject": {"name": "Jörg Müller", "birth_date": "1970-01-02"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        ids.push((
            v["id"].as_i64().unwrap(),
            v["file_number"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(ids[0].1, format!("022.31-{year}/0001"));
    assert_eq!(ids[1].1, format!("460.12-{year}/0001"));
    assert_eq!(ids[2].1, format!("460.12-{year}/0002"));
    let (general, wg1, wg2) = (ids[0].0, ids[1].0, ids[2].0);
    // A viewer may not create a Wohngeld file, an unknown plan code is a field error.
    let r = c
        .post(api("/files"))
        .bearer_auth(&view_tok)
        .json(&json!({"plan_code": "460.12", "title": "x", "kind": "wohngeld"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(api("/files"))
        .bearer_auth(&wg_tok)
        .json(&json!({"plan_code": "999", "title": "x", "kind": "general"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // Uploads.
    let text = "Antrag auf Mietzuschuss nach dem Wohngeldgesetz, Haushalt mit drei Personen.";
    let r = c
        .post(api(&format!("/files/{wg1}/documents")))
        .bearer_auth(&wg_tok)
        .multipart(upload(
            "antrag.txt",
            text.as_bytes().to_vec(),
            "Antrag Wohngeld",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let d1: Value = r.json().await.unwrap();
    let doc1 = d1["id"].as_i64().unwrap();
    assert_eq!(d1["version"], 1);
    assert_eq!(d1["sha256"].as_str().unwrap().len(), 64);
    let r = c
        .post(api(&format!("/files/{general}/documents")))
        .bearer_auth(&wg_tok)
        .multipart(upload(
            "protokoll.txt",
            "Protokoll der Ratssitzung: Haushaltssatzung beschlossen.".into(),
            "",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let doc_general = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = c
        .post(api(&format!("/files/{wg2}/documents")))
        .bearer_auth(&wg_tok)
        .multipart(upload("b.txt", b"Bescheid Schmidt".to_vec(), "Bescheid"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let doc_other = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // New version; the content is the newest, the old one stays downloadable, ranges work.
    let v2 = format!("{text} Ergänzung: Mietvertrag liegt bei.");
    let r = c
        .post(api(&format!("/documents/{doc1}/versions")))
        .bearer_auth(&wg_tok)
        .multipart(Form::new().part(
            "file",
            Part::bytes(v2.clone().into_bytes()).file_name("antrag-2.txt"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
    let r = c
        .get(api(&format!("/documents/{doc1}/content")))
        .bearer_auth(&wg_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), v2);
    let r = c
        .get(api(&format!("/documents/{doc1}/content?version=1")))
        .bearer_auth(&wg_tok)
        .header("Range", "bytes=0-5")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.text().await.unwrap(), "Antrag");

    // Bad input changes nothing.
    let before = counts(&db, a.tenant).await;
    let bad = [
        // 0 bytes
        c.post(api(&format!("/files/{wg1}/documents")))
            .multipart(upload("leer.txt", vec![], "Leer")),
        // over the limit
        c.post(api(&format!("/files/{wg1}/documents")))
            .multipart(upload("gross.txt", vec![b'x'; LIMIT + 10], "Groß")),
        // a version naming another file than the document's
        c.post(api(&format!("/documents/{doc_other}/versions")))
            .multipart(
                Form::new()
                    .text("file_id", wg1.to_string())
                    .part("file", Part::bytes(b"x".to_vec()).file_name("x.txt")),
            ),
        // no file at all
        c.post(api(&format!("/files/{wg1}/documents")))
            .multipart(Form::new().text("title", "nichts")),
    ];
    for (i, req) in bad.into_iter().enumerate() {
        let r = req.bearer_auth(&wg_tok).send().await.unwrap();
        assert!(
            r.status() == 422 || r.status() == 413,
            "case {i}: {}",
            r.status()
        );
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
    }
    assert_eq!(counts(&db, a.tenant).await, before);

    // Close; uploads and versions into a closed file are refused.
    let r = c
        .post(api(&format!("/files/{wg2}/close")))
        .bearer_auth(&wg_tok)
        .json(&json!({"closed_on": rathaus_records::service::today().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let f: Value = r.json().await.unwrap();
    assert_eq!(f["state"], "closed");
    assert_eq!(f["retention_until"], format!("{}-12-31", year + 10));
    let before = counts(&db, a.tenant).await;
    let r = c
        .post(api(&format!("/files/{wg2}/documents")))
        .bearer_auth(&wg_tok)
        .multipart(upload("spaet.txt", b"zu spaet".to_vec(), "Spät"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = c
        .post(api(&format!("/documents/{doc_other}/versions")))
        .bearer_auth(&wg_tok)
        .multipart(Form::new().part("file", Part::bytes(b"neu".to_vec()).file_name("n.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = c
        .post(api(&format!("/files/{wg2}/close")))
        .bearer_auth(&wg_tok)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(counts(&db, a.tenant).await, before);

    // Text extraction and the index catch up.
    let mut jobs = rathaus_store::jobs::Registry::default();
    for (k, h) in rathaus_extract::jobs(files_store.clone()) {
        jobs.register(k, h);
    }
    while jobs.run_one(&db).await.unwrap() {}
    search.apply_outbox(&db).await.unwrap();

    // Two users: the viewer sees the general file only — in lists, counts and search.
    let list = |tok: String, q: &'static str| {
        let c = c.clone();
        let u = api(&format!("/files{q}"));
        async move {
            c.get(u)
                .bearer_auth(tok)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(list(view_tok.clone(), "").await["total"], 1);
    assert_eq!(list(wg_tok.clone(), "").await["total"], 3);
    assert_eq!(list(view_tok.clone(), "?q=Schmidt").await["total"], 0);
    assert_eq!(list(wg_tok.clone(), "?q=Schmidt").await["total"], 1);
    assert_eq!(list(view_tok.clone(), "?kind=wohngeld").await["total"], 0);
    let r = c
        .get(api(&format!("/files/{wg1}")))
        .bearer_auth(&view_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(api(&format!("/documents/{doc1}/content")))
        .bearer_auth(&view_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let found = |tok: String, q: &'static str| {
        let c = c.clone();
        let u = api(&format!("/search?q={q}"));
        async move {
            c.get(u)
                .bearer_auth(tok)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    // A word only inside the extracted text of the newest version.
    let hit = found(wg_tok.clone(), "Mietvertrag").await;
    assert_eq!(hit["total"], 1, "{hit}");
    assert_eq!(hit["hits"][0]["document_id"], doc1);
    assert_eq!(hit["hits"][0]["file_id"], wg1);
    assert!(hit["hits"][0]["snippet"].as_str().unwrap().contains("<b>"));
    assert_eq!(found(view_tok.clone(), "Mietvertrag").await["total"], 0);
    assert_eq!(found(view_tok.clone(), "Mietzuschuss").await["total"], 0);
    let g = found(view_tok.clone(), "Haushaltssatzung").await;
    assert_eq!(g["total"], 1);
    assert_eq!(g["hits"][0]["document_id"], doc_general);
    // Another tenant finds nothing of tenant a.
    let other: Value = c
        .get(format!(
            "{}/api/v1/records/search?q=Haushaltssatzung",
            app.url(HOST_B, "")
        ))
        .bearer_auth(&admin_b)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["total"], 0);
    let r = c
        .get(format!(
            "{}/api/v1/records/files/{general}",
            app.url(HOST_B, "")
        ))
        .bearer_auth(&admin_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The read audit: opening and downloading a Wohngeld file are in its access log; a
    // general file's reads are not logged.
    let r = c
        .get(api(&format!("/files/{wg1}")))
        .bearer_auth(&wg_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let detail: Value = r.json().await.unwrap();
    assert_eq!(
        detail["documents"][0]["versions"].as_array().unwrap().len(),
        2
    );
    let log: Vec<Value> = c
        .get(api(&format!("/files/{wg1}/access-log")))
        .bearer_auth(&wg_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        vec![
            "records.file.read",
            "records.document.downloaded",
            "records.document.downloaded"
        ]
    );
    assert!(log.iter().all(|e| e["actor"] == "wohngeld@a.example"));
    let r = c
        .get(api(&format!("/files/{wg1}/access-log")))
        .bearer_auth(&view_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    c.get(api(&format!("/files/{general}")))
        .bearer_auth(&view_tok)
        .send()
        .await
        .unwrap();
    let log: Vec<Value> = c
        .get(api(&format!("/files/{general}/access-log")))
        .bearer_auth(&view_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(log.is_empty());

    // The OpenAPI document lists the routes.
    let doc: Value = c
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/records/plan-items",
        "/api/v1/records/files",
        "/api/v1/records/files/{id}/documents",
        "/api/v1/records/documents/{id}/content",
        "/api/v1/records/search",
        "/api/v1/records/files/{id}/access-log",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
    assert!(
        rathaus_store::audit::verify(&db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}
