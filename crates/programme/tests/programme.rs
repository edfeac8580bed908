//! The programme end to end on the real app (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): the API (measures, moves with WIP limits, position and
//! conflicts, board, concerns, meetings with their agenda), the pages (board, no-JS move
//! form, the board script's JSON answer), bad input and another tenant.

use rathaus_programme::Programme;
use rathaus_programme::service::moves::{self, MoveInput};
use rathaus_store::tokens;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture, user_with};
use rathaus_web::{AppState, Module, WebConfig};
use reqwest::Response;
use serde_json::{Value, json};
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

struct Api {
    c: reqwest::Client,
    base: String,
    app: TestApp,
    st: AppState,
    admin: String,
    reader: String,
    admin_b: String,
    admin_p: rathaus_core::Principal,
}

async fn token(db: &rathaus_store::Db, p: &rathaus_core::Principal) -> String {
    tokens::create(
        &db.conn,
        p.tenant_id,
        p.user_id,
        Actor::system("test"),
        "Test",
    )
    .await
    .unwrap()
    .0
}

async fn api() -> Api {
    let tdb = TestDb::new().await;
    rathaus_core::permissions::register(rathaus_programme::permissions::PERMISSIONS);
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Programme)];
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let admin_p = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    let admin_b = rathaus_testkit::principal(&db, b.tenant, b.admin).await;
    let reader = user_with(
        &db,
        a.tenant,
        "leser@a.example",
        "Lea Leser",
        &["programme.read"],
    )
    .await;
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules);
    let (admin, reader, admin_b) = (
        token(&db, &admin_p).await,
        token(&db, &reader).await,
        token(&db, &admin_b).await,
    );
    let app = TestApp::spawn_state(tdb, st.clone()).await;
    Api {
        c: app.client(&[HOST, HOST_B]),
        base: app.url(HOST, "/api/v1/programme"),
        app,
        st,
        admin,
        reader,
        admin_b,
        admin_p,
    }
}

impl Api {
    async fn send(
        &self,
        m: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut r = self.c.request(m, url).bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }
    async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, token, path, Some(body))
            .await
    }
    async fn get(&self, token: &str, path: &str) -> Response {
        self.send(reqwest::Method::GET, token, path, None).await
    }
    async fn measure(&self, title: &str, dep: &str) -> Value {
        let r = self
            .post(
                &self.admin,
                "/measures",
                json!({"title": title, "department": dep, "benefit": 4, "effort": 2}),
            )
            .await;
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    }
}

async fn problem(r: Response, status: u16) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    r.json().await.unwrap()
}

fn ids(board: &Value, phase: &str) -> Vec<i64> {
    board["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == phase)
        .unwrap()["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn measures_move_through_the_api_within_limits_and_versions() {
    let a = api().await;
    let m1 = a.measure("Online-Terminvergabe", "Buergerbuero").await;
    assert_eq!(m1["phase"], "idee");
    assert_eq!(m1["priority"], 16);
    let m2 = a.measure("E-Akte Wohngeld", "Sozialamt").await;
    let m3 = a.measure("Parkscheinautomaten", "Ordnungsamt").await;
    let (id1, id2, id3) = (
        m1["id"].as_i64().unwrap(),
        m2["id"].as_i64().unwrap(),
        m3["id"].as_i64().unwrap(),
    );

    // Scores outside 1–5, an empty title: 422 with the fields, nothing stored.
    let p = problem(
        a.post(
            &a.admin,
            "/measures",
            json!({"title": " ", "department": "X", "benefit": 6}),
        )
        .await,
        422,
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"title") && fields.contains(&"benefit"),
        "{p}"
    );
    // A reader may not create or move.
    problem(
        a.post(
            &a.reader,
            "/measures",
            json!({"title": "T", "department": "X"}),
        )
        .await,
        403,
    )
    .await;
    problem(
        a.post(
            &a.reader,
            &format!("/measures/{id1}/move"),
            json!({"phase": "geplant"}),
        )
        .await,
        403,
    )
    .await;

    // Moves: to a phase's end, before another card.
    let r = a
        .post(
            &a.admin,
            &format!("/measures/{id1}/move"),
            json!({"phase": "geplant"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(moved["card"]["phase"], "geplant");
    assert_eq!(moved["card"]["version"], 2);
    let r = a
        .post(
            &a.admin,
            &format!("/measures/{id2}/move"),
            json!({"phase": "geplant", "before_id": id1}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let board: Value = a.get(&a.reader, "/board").await.json().await.unwrap();
    assert_eq!(ids(&board, "geplant"), vec![id2, id1]);
    assert_eq!(board["phases"].as_array().unwrap().len(), 6);
    // Many moves to the same place use up the gaps and then shift the cards below.
    for _ in 0..14 {
        let r = a
            .post(
                &a.admin,
                &format!("/measures/{id3}/move"),
                json!({"phase": "geplant", "before_id": id1}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = a
            .post(
                &a.admin,
                &format!("/measures/{id3}/move"),
                json!({"phase": "geplant", "before_id": id2}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let board: Value = a.get(&a.reader, "/board").await.json().await.unwrap();
    assert_eq!(ids(&board, "geplant"), vec![id3, id2, id1]);

    // Unknown phase, a before_id from another phase, a card unknown: 422, 422, 404.
    problem(
        a.post(
            &a.admin,
            &format!("/measures/{id1}/move"),
            json!({"phase": "gibtsnicht"}),
        )
        .await,
        422,
    )
    .await;
    problem(
        a.post(
            &a.admin,
            &format!("/measures/{id1}/move"),
            json!({"phase": "idee", "before_id": id2}),
        )
        .await,
        422,
    )
    .await;
    problem(
        a.post(&a.admin, "/measures/999999/move", json!({"phase": "idee"}))
            .await,
        404,
    )
    .await;

    // A stale version: 409, the card stays where it is.
    let p = problem(
        a.post(
            &a.admin,
            &format!("/measures/{id1}/move"),
            json!({"phase": "idee", "version": 1}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("inzwischen"), "{p}");

    // The WIP limit (In Umsetzung: set to 1 through the service) refuses the second card.
    let phases = rathaus_programme::service::phases(
        &a.st.db.conn,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
    )
    .await
    .unwrap();
    let impl_phase = phases.iter().find(|p| p.key == "in_umsetzung").unwrap();
    rathaus_programme::service::update_phase(
        &a.st.db.conn,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
        impl_phase.id,
        "",
        "1",
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        a.post(
            &a.admin,
            &format!("/measures/{id1}/move"),
            json!({"phase": "in_umsetzung"})
        )
        .await
        .status(),
        200
    );
    let p = problem(
        a.post(
            &a.admin,
            &format!("/measures/{id2}/move"),
            json!({"phase": "in_umsetzung"}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("WIP-Limit"), "{p}");
    // Configured to warn: allowed, with the warning.
    rathaus_programme::service::update_phase(
        &a.st.db.conn,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
        impl_phase.id,
        "",
        "1",
        true,
    )
    .await
    .unwrap();
    let r: Value = a
        .post(
            &a.admin,
            &format!("/measures/{id2}/move"),
            json!({"phase": "in_umsetzung"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["warning"], true);

    // GET, PATCH, list with filters and pages.
    let got: Value = a
        .get(&a.reader, &format!("/measures/{id1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["phase"], "in_umsetzung");
    let r = a
        .send(
            reqwest::Method::PATCH,
            &a.admin,
            &format!("/measures/{id1}"),
            Some(json!({"effort": 5, "version": got["version"]})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(patched["priority"], 4);
    problem(
        a.send(
            reqwest::Method::PATCH,
            &a.admin,
            &format!("/measures/{id1}"),
            Some(json!({"effort": 0})),
        )
        .await,
        422,
    )
    .await;
    problem(
        a.send(
            reqwest::Method::PATCH,
            &a.admin,
            &format!("/measures/{id1}"),
            Some(json!({"effort": 3, "version": 1})),
        )
        .await,
        409,
    )
    .await;
    let list: Value = a
        .get(&a.reader, "/measures?phase=in_umsetzung&per_page=1&page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let list: Value = a
        .get(&a.reader, "/measures?department=Sozialamt")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    problem(a.get(&a.reader, "/measures?phase=gibtsnicht").await, 422).await;
    // A page beyond the documented range is refused, not answered with an empty page.
    problem(a.get(&a.reader, "/measures?page=1000001").await, 422).await;
    problem(a.get(&a.reader, "/measures?page=0").await, 422).await;

    // Another tenant sees none of it.
    problem(
        a.get(
            &a.admin_b,
            &a.app
                .url(HOST_B, &format!("/api/v1/programme/measures/{id1}")),
        )
        .await,
        404,
    )
    .await;
    problem(
        a.post(
            &a.admin_b,
            &a.app
                .url(HOST_B, &format!("/api/v1/programme/measures/{id1}/move")),
            json!({"phase": "idee"}),
        )
        .await,
        404,
    )
    .await;
    let board_b: Value = a
        .get(&a.admin_b, &a.app.url(HOST_B, "/api/v1/programme/board"))
        .await
        .json()
        .await
        .unwrap();
    assert!(ids(&board_b, "in_umsetzung").is_empty());

    // History: the phase moves of card 1 with who moved it.
    let hist = rathaus_programme::service::measures::history(
        &a.st.db.conn,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
        id1,
    )
    .await
    .unwrap();
    assert_eq!(hist.len(), 3, "{hist:?}");
    assert!(hist.iter().all(|s| s.by == "Anna Admin"));

    // Concerns: kinds, anonymous, 1 MB refused, a change of status.
    problem(
        a.post(
            &a.admin,
            "/concerns",
            json!({"text": "x".repeat(1_000_000), "kind": "concern"}),
        )
        .await,
        422,
    )
    .await;
    problem(
        a.post(
            &a.admin,
            "/concerns",
            json!({"text": "Gut", "kind": "beschwerde"}),
        )
        .await,
        422,
    )
    .await;
    problem(
        a.post(
            &a.admin,
            "/concerns",
            json!({"text": "Gut", "kind": "risk", "measure_id": 999999}),
        )
        .await,
        422,
    )
    .await;
    let r = a.post(&a.admin, "/concerns", json!({"text": "Personalrat fehlt", "kind": "resistance", "measure_id": id2, "anonymous": true})).await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    let r = a
        .send(
            reqwest::Method::PATCH,
            &a.admin,
            &format!("/concerns/{}", c["id"]),
            Some(json!({"status": "addressed", "response": "Termin steht"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let board: Value = a.get(&a.reader, "/board").await.json().await.unwrap();
    let card2 = board["phases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["cards"].as_array().unwrap())
        .find(|c| c["id"] == id2)
        .unwrap()
        .clone();
    assert_eq!(card2["open_concerns"], 1);

    // A meeting: its agenda from the changes; a second one on that day refused.
    let r = a
        .post(
            &a.admin,
            "/meetings",
            json!({"date": "2027-01-14", "place": "Ratssaal"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let m: Value = r.json().await.unwrap();
    let kinds: Vec<&str> = m["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"moved") && kinds.contains(&"new") && kinds.contains(&"concern"),
        "{m}"
    );
    problem(
        a.post(&a.admin, "/meetings", json!({"date": "2027-01-14"}))
            .await,
        422,
    )
    .await;
    problem(
        a.post(&a.admin, "/meetings", json!({"date": "14.01."}))
            .await,
        422,
    )
    .await;
    problem(
        a.post(&a.reader, "/meetings", json!({"date": "2027-01-28"}))
            .await,
        403,
    )
    .await;
    let got: Value = a
        .get(&a.reader, &format!("/meetings/{}", m["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["agenda"], m["agenda"]);

    // The routes are in the OpenAPI document.
    let doc: Value =
        a.c.get(a.app.url(HOST, "/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    for path in [
        "/api/v1/programme/measures",
        "/api/v1/programme/measures/{id}",
        "/api/v1/programme/measures/{id}/move",
        "/api/v1/programme/board",
        "/api/v1/programme/concerns",
        "/api/v1/programme/concerns/{id}",
        "/api/v1/programme/meetings",
        "/api/v1/programme/meetings/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }

    // Every change is in the audit chain.
    assert!(
        rathaus_store::audit::verify(&a.st.db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn two_users_moving_the_same_card_at_once_one_wins_and_the_other_is_told() {
    let a = api().await;
    let m = a.measure("Sensoren Winterdienst", "Bauhof").await;
    let id = m["id"].as_i64().unwrap();
    let db = a.st.db.conn.clone();
    let mut tasks = Vec::new();
    for phase in ["geplant", "im_test", "bewertet", "erledigt"] {
        let (db, p, live) = (db.clone(), a.admin_p.clone(), a.st.live.clone());
        tasks.push(tokio::spawn(async move {
            let inp = MoveInput {
                phase: phase.into(),
                before_id: None,
                version: Some(1),
            };
            moves::move_card(&db, Some(&live), Actor::User(&p), p.tenant_id, id, &inp).await
        }));
    }
    let mut won = 0;
    let mut told = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(rathaus_core::Error::Conflict(k)) => {
                assert_eq!(k, moves::MOVED_MEANWHILE);
                told += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((won, told), (1, 3));
    let hist = rathaus_programme::service::measures::history(
        &db,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
        id,
    )
    .await
    .unwrap();
    assert_eq!(
        hist.len(),
        2,
        "created, then the one move that won: {hist:?}"
    );
    // A card deleted meanwhile: 404.
    rathaus_programme::service::measures::delete(
        &db,
        None,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
        id,
    )
    .await
    .unwrap();
    problem(
        a.post(
            &a.admin,
            &format!("/measures/{id}/move"),
            json!({"phase": "idee"}),
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn the_board_page_and_the_move_forms_work_with_and_without_javascript() {
    let a = api().await;
    rathaus_programme::demo::demo(&a.st.db, &a.admin_p)
        .await
        .unwrap();
    let base = a.app.url(HOST, "");
    let c = a.app.client(&[HOST]);
    login(&c, &base, "admin@a.example", PASSWORD).await;
    let r = c.get(format!("{base}/programm")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("data-live=\"programme.board\""),
        "the live stream is announced"
    );
    assert!(html.contains("aria-live=\"polite\""));
    assert!(html.contains("Online-Mangelmelder"));
    let csrf = csrf_of(&html);
    let board: Value = a.get(&a.admin, "/board").await.json().await.unwrap();
    let id = ids(&board, "idee")[0];
    let version = board["phases"][0]["cards"][0]["version"].as_i64().unwrap();

    // Without JavaScript: the form on the card's page, position 1 of the phase.
    let r = c
        .post(format!("{base}/programm/massnahmen/{id}/verschieben"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("phase", "bewertet"),
            ("position", "1"),
            ("version", &version.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let board: Value = a.get(&a.admin, "/board").await.json().await.unwrap();
    assert_eq!(ids(&board, "bewertet")[0], id);
    // The same form again with the old version: 409 and the German message on the page.
    let r = c
        .post(format!("{base}/programm/massnahmen/{id}/verschieben"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("phase", "geplant"),
            ("version", &version.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("inzwischen von jemand anderem")
    );
    // The board's script asks for JSON: the announcement text.
    let r = c
        .post(format!("{base}/programm/massnahmen/{id}/verschieben"))
        .header("accept", "application/json")
        .form(&[("_csrf", csrf.as_str()), ("phase", "idee")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("ist jetzt in der Phase Idee"),
        "{j}"
    );
    let r = c
        .post(format!("{base}/programm/massnahmen/{id}/verschieben"))
        .header("accept", "application/json")
        .form(&[("_csrf", csrf.as_str()), ("phase", "nirgendwo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // Every page of the module answers.
    let interview = rathaus_programme::service::interviews::list(
        &a.st.db.conn,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
    )
    .await
    .unwrap()[0]
        .id;
    let meeting = rathaus_programme::service::meetings::list(
        &a.st.db.conn,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
    )
    .await
    .unwrap()[0]
        .id;
    for path in [
        "/programm?bahnen=amt".to_string(),
        "/programm/massnahmen?sortierung=faellig".into(),
        "/programm/massnahmen/neu".into(),
        format!("/programm/massnahmen/{id}"),
        format!("/programm/massnahmen/{id}/bearbeiten"),
        "/programm/bedenken".into(),
        "/programm/erstaufnahme".into(),
        format!("/programm/massnahmen/neu?gespraech={interview}"),
        "/programm/team".into(),
        "/programm/sitzungen".into(),
        format!("/programm/sitzungen/{meeting}"),
        "/programm/bericht".into(),
        "/programm/bericht.csv".into(),
        "/programm/massnahmen.csv?amt=Bauhof".into(),
        "/programm/phasen".into(),
        "/programm/board.js".into(),
        "/programm/programm.css".into(),
    ] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // Bad input on a page: 422 with the German message, nothing stored.
    let r = c
        .post(format!("{base}/programm/massnahmen"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("title", "Neu"),
            ("department", "Bauamt"),
            ("benefit", "9"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Bitte geben Sie eine Zahl von 1 bis 5 ein.")
    );
    let r = c
        .post(format!("{base}/programm/sitzungen"))
        .form(&[("_csrf", csrf.as_str()), ("date", "2027-01-14")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("bereits eine Sitzung"));
    // A measure raised from an interview carries its department.
    let html = c
        .get(format!(
            "{base}/programm/massnahmen/neu?gespraech={interview}"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Erstaufnahme"), "{html}");
    let r = c
        .post(format!("{base}/programm/erstaufnahme"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("department", "Bauamt"),
            ("date", "gestern"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn a_move_costs_a_fixed_handful_of_queries() {
    let a = api().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            a.measure(&format!("Karte {i}"), "Bauhof").await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let statements = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut conn = a.st.db.conn.clone();
    {
        let (count, statements) = (count.clone(), statements.clone());
        conn.set_metric_callback(move |info| {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            statements.lock().unwrap().push(info.statement.sql.clone());
        });
    }
    let p = a.admin_p.clone();
    // Into a limited phase, before a card (the most expensive kind of move).
    let inp = MoveInput {
        phase: "geplant".into(),
        before_id: None,
        version: None,
    };
    moves::move_card(
        &conn,
        Some(&a.st.live),
        Actor::User(&p),
        p.tenant_id,
        ids[0],
        &inp,
    )
    .await
    .unwrap();
    count.store(0, std::sync::atomic::Ordering::SeqCst);
    statements.lock().unwrap().clear();
    let inp = MoveInput {
        phase: "geplant".into(),
        before_id: Some(ids[0]),
        version: None,
    };
    moves::move_card(
        &conn,
        Some(&a.st.live),
        Actor::User(&p),
        p.tenant_id,
        ids[5],
        &inp,
    )
    .await
    .unwrap();
    let n = count.load(std::sync::atomic::Ordering::SeqCst);
    let sql = statements.lock().unwrap().clone();
    // card, phase, count, before, neighbour, update, history row, audit (head + event), notify.
    assert!((5..=12).contains(&n), "{n} queries: {sql:#?}");
    println!("queries per move: {n}");
}

/// Reads server-sent events until one `change` event arrived (its data) or the time is up.
async fn next_change(
    res: &mut Response,
    buf: &mut String,
    wait: std::time::Duration,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(i) = buf.find("event: change\n") {
            let rest = &buf[i..];
            if let Some(end) = rest.find("\n\n") {
                let block = rest[..end].to_string();
                buf.drain(..i + end + 2);
                return block
                    .lines()
                    .find_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.trim_start().to_string());
            }
        }
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return None,
        }
    }
}

#[tokio::test]
async fn an_open_board_hears_of_a_move_within_a_second() {
    let a = api().await;
    let id = a.measure("Digitale Sitzungsunterlagen", "Hauptamt").await["id"]
        .as_i64()
        .unwrap();
    let base = a.app.url(HOST, "");
    let c = a.app.client(&[HOST]);
    login(&c, &base, "leser@a.example", PASSWORD).await;
    let mut res = c
        .get(format!("{base}/live?topic=programme.board"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let r = a
        .post(
            &a.admin,
            &format!("/measures/{id}/move"),
            json!({"phase": "bewertet"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let mut buf = String::new();
    let got = next_change(&mut res, &mut buf, std::time::Duration::from_secs(1)).await;
    assert_eq!(got, Some(id.to_string()));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // A refused move announces nothing.
    let r = a
        .post(
            &a.admin,
            &format!("/measures/{id}/move"),
            json!({"phase": "gibtsnicht"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        next_change(&mut res, &mut buf, std::time::Duration::from_millis(400)).await,
        None
    );
}

#[tokio::test]
async fn measures_are_found_by_readers_of_the_programme_only() {
    let a = api().await;
    let id = a.measure("Wohngeldantrag digital", "Sozialamt").await["id"]
        .as_i64()
        .unwrap();
    a.st.search.apply_outbox(&a.st.db).await.unwrap();
    let search = a.app.url(HOST, "/api/v1/search?q=Wohngeld");
    let found: Value = a.get(&a.reader, &search).await.json().await.unwrap();
    let urls: Vec<&str> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["url"].as_str().unwrap())
        .collect();
    assert!(
        urls.contains(&format!("/programm/massnahmen/{id}").as_str()),
        "{found}"
    );
    // Another tenant's admin finds nothing of it.
    let found: Value = a
        .get(&a.admin_b, &a.app.url(HOST_B, "/api/v1/search?q=Wohngeld"))
        .await
        .json()
        .await
        .unwrap();
    assert!(found["hits"].as_array().unwrap().is_empty(), "{found}");
    // Deleted: gone from the index.
    rathaus_programme::service::measures::delete(
        &a.st.db.conn,
        None,
        Actor::User(&a.admin_p),
        a.admin_p.tenant_id,
        id,
    )
    .await
    .unwrap();
    a.st.search.apply_outbox(&a.st.db).await.unwrap();
    let found: Value = a.get(&a.reader, &search).await.json().await.unwrap();
    assert!(found["hits"].as_array().unwrap().is_empty(), "{found}");
}

/// The minutes go to the team through a real SMTP server: the text in the mail, a printable
/// HTML file attached. Empty minutes and a team without addresses are refused with German
/// messages, nothing is queued, and the page's button does the same without JavaScript.
#[tokio::test]
async fn minutes_reach_the_team_by_mail_with_a_printable_file() {
    use rathaus_programme::service::{meetings, team};
    use rathaus_testkit::smtp::{Smtpd, run_python};
    let smtpd = Smtpd::start();
    let a = api().await;
    let db = &a.st.db;
    let (by, tenant) = (Actor::User(&a.admin_p), a.admin_p.tenant_id);
    let (m, _) = meetings::create(&db.conn, by, tenant, "2027-02-04", "Ratssaal")
        .await
        .unwrap();
    let keys = |e: rathaus_core::Error| match e {
        rathaus_core::Error::Invalid(f) => f.0.into_iter().map(|x| x.key).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let e = meetings::send_minutes(&db.conn, by, tenant, m.id)
        .await
        .unwrap_err();
    assert_eq!(keys(e), vec!["programme.minutes.err.empty"]);
    meetings::save_minutes(
        &db.conn,
        by,
        tenant,
        m.id,
        "Beschluss: **E-Akte** für Wohngeld ab März.\n\n<script>alert(1)</script>",
        "Anna Admin, Lea Leser",
        &[],
    )
    .await
    .unwrap();
    let e = meetings::send_minutes(&db.conn, by, tenant, m.id)
        .await
        .unwrap_err();
    assert_eq!(keys(e), vec!["programme.minutes.err.no_team"]);
    team::add(
        &db.conn,
        by,
        tenant,
        a.admin_p.user_id.0,
        "Hauptamt",
        "Koordination",
        true,
    )
    .await
    .unwrap();

    // Through the page: the button posts, the answer redirects with a notice.
    let c = a.app.client(&[HOST]);
    let base = a.app.url(HOST, "");
    login(&c, &base, &a.admin_p.email, PASSWORD).await;
    let html = c
        .get(format!("{base}/programm/sitzungen/{}", m.id))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("/programm/sitzungen/{}/versenden", m.id)),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let r = c
        .post(format!("{base}/programm/sitzungen/{}/versenden", m.id))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(smtpd.run_mail_jobs(db).await >= 1);
    let msgs = smtpd.messages();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0].to, a.admin_p.email);
    assert_eq!(msgs[0].subject, "Protokoll der Sitzung am 04.02.2027");
    let body = msgs[0].body.replace("\r\n", "\n");
    assert!(
        body.contains("Ort oder Videolink: Ratssaal\nAnwesend: Anna Admin, Lea Leser\n"),
        "{body}"
    );
    assert!(
        body.contains("Beschluss: **E-Akte** für Wohngeld ab März."),
        "{body}"
    );
    const SCRIPT: &str = r#"
import email, email.policy, json, mailbox, sys
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
out = []
for key in box.keys():
    m = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    for p in m.iter_attachments():
        out.append({"filename": p.get_filename(), "type": p.get_content_type(),
                    "text": p.get_payload(decode=True).decode("utf-8")})
print(json.dumps(out))
"#;
    let atts: Vec<Value> =
        serde_json::from_slice(&run_python(SCRIPT, &[smtpd.maildir().as_os_str()])).unwrap();
    assert_eq!(atts.len(), 1, "{atts:?}");
    assert_eq!(atts[0]["filename"], "protokoll-2027-02-04.html");
    assert_eq!(atts[0]["type"], "text/html");
    let doc = atts[0]["text"].as_str().unwrap();
    assert!(doc.contains("<strong>E-Akte</strong>"), "{doc}");
    assert!(!doc.contains("<script"), "{doc}");

    // Without the edit permission: refused.
    let reader_p = rathaus_testkit::principal(db, tenant, {
        let u = rathaus_store::accounts::users_by_ids(&db.conn, tenant, 0..10_000)
            .await
            .unwrap();
        rathaus_core::UserId(u.iter().find(|u| u.email == "leser@a.example").unwrap().id)
    })
    .await;
    assert!(matches!(
        meetings::send_minutes(&db.conn, Actor::User(&reader_p), tenant, m.id).await,
        Err(rathaus_core::Error::Forbidden)
    ));
}

/// The coordinator chooses the priority formula: every measure's priority is recomputed at
/// once, new measures follow it, the pages show it in words; bad weights are German errors
/// that keep what was typed and change nothing; a reader may not change it.
#[tokio::test]
async fn the_priority_formula_is_chosen_and_recomputes_every_measure() {
    use rathaus_programme::service::settings;
    let a = api().await;
    let db = &a.st.db;
    let (by, tenant) = (Actor::User(&a.admin_p), a.admin_p.tenant_id);
    let new = |b: i32, e: i32| {
        let a = &a;
        async move {
            let r = a
                .post(
                    &a.admin,
                    "/measures",
                    json!({"title": format!("N{b}A{e}"), "department": "Bauhof", "benefit": b, "effort": e}),
                )
                .await;
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        }
    };
    let hi = new(5, 5).await;
    let lo = new(1, 1).await;
    assert_eq!(
        (hi["priority"].as_i64(), lo["priority"].as_i64()),
        (Some(5), Some(5))
    );
    let priority = |id: &Value| {
        let path = format!("/measures/{id}");
        let a = &a;
        async move {
            a.get(&a.admin, &path).await.json::<Value>().await.unwrap()["priority"]
                .as_i64()
                .unwrap()
        }
    };

    let f = settings::set_formula(&db.conn, by, tenant, "weighted", "3", "1")
        .await
        .unwrap();
    assert_eq!(f.range(), (4, 20));
    assert_eq!(priority(&hi["id"]).await, 16);
    assert_eq!(priority(&lo["id"]).await, 8);
    assert_eq!(new(2, 3).await["priority"], 9);

    let keys = |e: rathaus_core::Error| match e {
        rathaus_core::Error::Invalid(f) => f.0.into_iter().map(|x| x.key).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    for (code, b, e, want) in [
        ("weighted", "9", "1", "err.out_of_range"),
        ("weighted", "drei", "1", "programme.err.weight"),
        ("quadratisch", "1", "1", "programme.err.choice"),
    ] {
        let err = settings::set_formula(&db.conn, by, tenant, code, b, e)
            .await
            .unwrap_err();
        assert_eq!(keys(err), vec![want], "{code} {b}");
    }
    assert_eq!(
        priority(&hi["id"]).await,
        16,
        "a refused change changes nothing"
    );
    let reader = rathaus_testkit::principal(db, tenant, {
        let u = rathaus_store::accounts::users_by_ids(&db.conn, tenant, 0..10_000)
            .await
            .unwrap();
        rathaus_core::UserId(u.iter().find(|u| u.email == "leser@a.example").unwrap().id)
    })
    .await;
    assert!(matches!(
        settings::set_formula(&db.conn, Actor::User(&reader), tenant, "product", "1", "1").await,
        Err(rathaus_core::Error::Forbidden)
    ));

    // The pages: the formula in words, and its form that keeps a refused weight.
    let c = a.app.client(&[HOST]);
    let base = a.app.url(HOST, "");
    login(&c, &base, &a.admin_p.email, PASSWORD).await;
    let html = c
        .get(format!("{base}/programm/massnahmen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Priorität = 3 × Nutzen + 1 × (6 − Aufwand), von 4 bis 20"),
        "{html}"
    );
    let html = c
        .get(format!("{base}/programm/phasen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let r = c
        .post(format!("{base}/programm/phasen/formel"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("priority_formula", "weighted"),
            ("benefit_weight", "0"),
            ("effort_weight", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Erlaubt sind Werte von 1–5.") && html.contains("value=\"0\""),
        "{html}"
    );
    let r = c
        .post(format!("{base}/programm/phasen/formel"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("priority_formula", "product"),
            ("benefit_weight", ""),
            ("effort_weight", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(priority(&hi["id"]).await, 5);
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let changes = rathaus_store::entity::audit_event::Entity::find()
        .filter(
            rathaus_store::entity::audit_event::Column::Action
                .eq("programme.priority_formula.changed"),
        )
        .count(&db.conn)
        .await
        .unwrap();
    assert_eq!(changes, 2);
}
