//! The staff search across modules, end to end on the real modules: reports written through
//! their service reach the index through the outbox and the worker `serve` runs; the page and
//! the API only show what the reader may open, in the reader's tenant; German spellings find
//! each other; hostile queries get a normal answer.

use rathaus_store::tokens;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture, user_with};
use rathaus_web::{AppState, WebConfig};
use std::time::Duration;

const HOST_A: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

async fn token(
    db: &rathaus_store::Db,
    tenant: rathaus_core::TenantId,
    user: rathaus_core::UserId,
) -> String {
    tokens::create(
        &db.conn,
        tenant,
        user,
        rathaus_store::uow::Actor::system("test"),
        "Test",
    )
    .await
    .unwrap()
    .0
}

async fn api_total(c: &reqwest::Client, url: &str, token: &str) -> (u16, serde_json::Value) {
    let res = c.get(url).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn staff_search_finds_reports_the_reader_may_open_in_their_tenant_only() {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    let modules = rathaus::modules();
    rathaus_web::module::migrate_all(&db, &modules)
        .await
        .unwrap();
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules.clone());
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let admin_a = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    let admin_b = rathaus_testkit::principal(&db, b.tenant, b.admin).await;
    for m in &modules {
        m.demo(&db, &admin_a).await.unwrap();
    }
    let clerk = user_with(
        &db,
        a.tenant,
        "suche.sb@a.example",
        "Clerk",
        &["reports.handle"],
    )
    .await;
    let other = user_with(
        &db,
        a.tenant,
        "suche.ohne@a.example",
        "Other",
        &["admin.audit"],
    )
    .await;
    let app = TestApp::spawn_state(tdb, st).await;
    let c = app.client(&[HOST_A, HOST_B]);
    let t_admin_a = token(&db, a.tenant, a.admin).await;
    let t_admin_b = token(&db, b.tenant, admin_b.user_id).await;
    let t_clerk = token(&db, a.tenant, clerk.user_id).await;
    let t_other = token(&db, a.tenant, other.user_id).await;

    // The demo's reports reach the index through the outbox worker of the running app.
    let url_a = |q: &str| app.url(HOST_A, &format!("/api/v1/search?q={q}"));
    let mut found = serde_json::Value::Null;
    for _ in 0..100 {
        let (status, body) = api_total(&c, &url_a("Straßenbeleuchtung"), &t_clerk).await;
        assert_eq!(status, 200, "{body}");
        if body["total"].as_u64().unwrap_or(0) > 0 {
            found = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total = found["total"]
        .as_u64()
        .expect("the demo's reports were never indexed");
    let hit = &found["hits"][0];
    assert_eq!(hit["kind"], "reports.report");
    assert!(
        hit["url"]
            .as_str()
            .unwrap()
            .starts_with("/maengel/verwaltung/"),
        "{hit}"
    );
    assert!(hit["title_html"].as_str().unwrap().contains("<b>"), "{hit}");

    // Other spellings of the same words find the same reports.
    for q in ["strassenbeleuchtung", "STRASSENBELEUCHTUNG"] {
        let (_, body) = api_total(&c, &url_a(q), &t_clerk).await;
        assert_eq!(body["total"].as_u64(), Some(total), "{q}: {body}");
    }
    // The admin holds every permission.
    let (_, body) = api_total(&c, &url_a("Straßenbeleuchtung"), &t_admin_a).await;
    assert_eq!(body["total"].as_u64(), Some(total));
    // Without a reports permission: nothing, not even a count.
    let (status, body) = api_total(&c, &url_a("Straßenbeleuchtung"), &t_other).await;
    assert_eq!(status, 200);
    assert_eq!(body["total"].as_u64(), Some(0), "{body}");
    assert_eq!(body["hits"].as_array().map(Vec::len), Some(0));
    // Another tenant's admin: nothing either.
    let url_b = app.url(HOST_B, "/api/v1/search?q=Stra%C3%9Fenbeleuchtung");
    let (status, body) = api_total(&c, &url_b, &t_admin_b).await;
    assert_eq!(status, 200);
    assert_eq!(body["total"].as_u64(), Some(0), "{body}");
    // Anonymous: 401.
    let res = c.get(url_a("Straßenbeleuchtung")).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // Hostile or odd queries: a normal answer, never a 500.
    let long = "Straße ".repeat(800);
    for q in [
        long.as_str(),
        "\"(title:x OR body:*)^9 AND NOT ~2",
        "<script>alert(1)</script>",
        "",
        "   ",
    ] {
        let url = reqwest::Url::parse_with_params(&app.url(HOST_A, "/api/v1/search"), &[("q", q)])
            .unwrap();
        let (status, body) = api_total(&c, url.as_str(), &t_clerk).await;
        assert_eq!(status, 200, "{q:.40}: {body}");
    }
    let (status, _) = api_total(
        &c,
        &app.url(HOST_A, "/api/v1/search?q=x&limit=abc"),
        &t_clerk,
    )
    .await;
    assert_eq!(status, 400);
    // Out of the documented ranges: refused, not clamped.
    for q in ["limit=0", "limit=101", "offset=1001"] {
        let url = app.url(HOST_A, &format!("/api/v1/search?q=x&{q}"));
        assert_eq!(api_total(&c, &url, &t_clerk).await.0, 422, "{q}");
    }

    // The page: the field in the header, the hits as links; escaped query text.
    assert_eq!(
        login(&c, &app.url(HOST_A, ""), "suche.sb@a.example", PASSWORD)
            .await
            .status(),
        303
    );
    let html = c
        .get(app.url(HOST_A, "/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"action="/suche""#),
        "no search field in the header"
    );
    let res = c
        .get(app.url(HOST_A, "/suche?q=Stra%C3%9Fenbeleuchtung"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"href="/maengel/verwaltung/"#), "{html}");
    assert!(html.contains("Mängelmeldung"), "kind label missing");
    let res = c
        .get(app.url(
            HOST_A,
            "/suche?q=%3Cscript%3Ealert(1)%3C/script%3E&seite=zwei",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)"), "query text not escaped");
}
