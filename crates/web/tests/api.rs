//! The JSON API: bearer tokens (created in the CLI's way and in the UI), revocation through the
//! UI, RFC 9457 problem documents, and the OpenAPI document.

use crate::common;

use common::{csrf, get, post, secret_of, signed_in};
use rathaus_store::tokens;
use rathaus_testkit::{TestApp, TestDb, tenant_fixture};
use rathaus_web::WebConfig;

const HOST: &str = "rathaus.a.test";

async fn app() -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    (TestApp::spawn(tdb, WebConfig::default()).await, f)
}

async fn me(c: &reqwest::Client, base: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = c.get(format!("{base}/api/v1/me"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// Checks an RFC 9457 problem document and returns it.
async fn problem(r: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: serde_json::Value = r.json().await.expect("problem is JSON");
    assert!(p["type"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
    assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
    assert_eq!(p["status"], status, "{p}");
    p
}

#[tokio::test]
async fn me_needs_a_valid_token_and_a_revoked_one_stops_working() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);

    let r = me(&c, &base, None).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    problem(r, 401).await;
    for bad in [
        "rh_falsch",
        "nicht-einmal-das-präfix",
        &format!("rh_{}", "x".repeat(200)),
    ] {
        problem(me(&c, &base, Some(bad)).await, 401).await;
    }
    let r = c
        .get(format!("{base}/api/v1/me"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    problem(r, 401).await;

    let (token, t) = tokens::create(
        &app.db.conn,
        f.tenant,
        f.admin,
        rathaus_store::uow::Actor::system("test"),
        "Fachverfahren",
    )
    .await
    .unwrap();
    let r = me(&c, &base, Some(&token)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["email"], f.admin_email.as_str());
    assert_eq!(body["id"], f.admin.0);
    assert_eq!(body["is_admin"], true);
    assert_eq!(body["tenant"]["slug"], "a");
    let permissions: Vec<&str> = body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    for p in rathaus_core::permissions::all() {
        assert!(permissions.contains(&p.code), "admin lists {}", p.code);
    }

    // A clerk's token lists the clerk's (no) permissions.
    let (clerk_token, _) = tokens::create(
        &app.db.conn,
        f.tenant,
        f.clerk,
        rathaus_store::uow::Actor::system("test"),
        "Clerk",
    )
    .await
    .unwrap();
    let body: serde_json::Value = me(&c, &base, Some(&clerk_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["email"], f.clerk_email.as_str());
    assert_eq!(body["permissions"], serde_json::json!([]));
    assert_eq!(body["is_admin"], false);

    // The clerk cannot revoke the admin's token (404: not theirs).
    let clerk = signed_in(&app, HOST, &f.clerk_email).await;
    let k = csrf(&clerk, &base).await;
    let r = post(
        &clerk,
        &format!("{base}/account/tokens/{}/revoke", t.id),
        &k,
        &[],
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(me(&c, &base, Some(&token)).await.status(), 200);

    // The admin revokes it through the form on the tokens page.
    let admin = signed_in(&app, HOST, &f.admin_email).await;
    let page = get(&admin, &format!("{base}/account/tokens"))
        .await
        .text()
        .await
        .unwrap();
    let action = format!("/account/tokens/{}/revoke", t.id);
    assert!(page.contains(&action), "the page offers the revoke form");
    let k = csrf(&admin, &base).await;
    let r = post(&admin, &format!("{base}{action}"), &k, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(common::location(&r), "/account/tokens?notice=token_revoked");
    let p = problem(me(&c, &base, Some(&token)).await, 401).await;
    assert!(p["detail"].as_str().is_some(), "{p}");
    assert!(
        common::audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "token.revoked" && e.actor_id == Some(f.admin.0))
    );
    // The clerk's token is untouched.
    assert_eq!(me(&c, &base, Some(&clerk_token)).await.status(), 200);
}

#[tokio::test]
async fn a_token_created_in_the_ui_is_shown_once_and_works() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let admin = signed_in(&app, HOST, &f.admin_email).await;
    let k = csrf(&admin, &base).await;

    // A name is required.
    let r = post(
        &admin,
        &format!("{base}/account/tokens"),
        &k,
        &[("name", "  ")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        common::field_error(&html, "name").is_some_and(|m| m.starts_with("Bitte")),
        "German message beside the name field"
    );
    assert!(secret_of(&html).is_none());

    let r = post(
        &admin,
        &format!("{base}/account/tokens"),
        &k,
        &[("name", "Fachverfahren Meldewesen")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let token = secret_of(&html).expect("the new token is shown");
    assert!(token.starts_with("rh_") && token.len() > 40, "{token}");
    assert!(html.contains("nur jetzt angezeigt"));

    // Never again: not on the tokens page, not in the database in plain text.
    let again = get(&admin, &format!("{base}/account/tokens"))
        .await
        .text()
        .await
        .unwrap();
    assert!(again.contains("Fachverfahren Meldewesen"));
    assert!(!again.contains(&token));
    assert!(secret_of(&again).is_none());
    assert!(!common::snapshot(&app.db).await.contains(&token));

    let c = app.client(&[HOST]);
    let r = me(&c, &base, Some(&token)).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["email"], f.admin_email.as_str());
    assert!(
        common::audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "token.created" && e.actor_id == Some(f.admin.0))
    );

    // Disabling the owner stops the token as well.
    let path = format!("/admin/users/{}", f.clerk.0);
    let (clerk_token, _) = tokens::create(
        &app.db.conn,
        f.tenant,
        f.clerk,
        rathaus_store::uow::Actor::system("test"),
        "C",
    )
    .await
    .unwrap();
    assert_eq!(me(&c, &base, Some(&clerk_token)).await.status(), 200);
    let r = post(
        &admin,
        &format!("{base}{path}"),
        &k,
        &[
            ("name", "Carl Clerk"),
            ("email", f.clerk_email.as_str()),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    problem(me(&c, &base, Some(&clerk_token)).await, 401).await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_api_and_unknown_paths_are_problems() {
    let (app, _f) = app().await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    let r = get(&c, &format!("{base}/api/openapi.json")).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let me = &doc["paths"]["/api/v1/me"]["get"];
    assert!(me.is_object(), "GET /api/v1/me is described");
    assert!(me["responses"]["200"].is_object());
    assert!(me["responses"]["401"]["content"]["application/problem+json"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("bearer")
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    for path in ["/api/v1/xyz", "/api/v2/me", "/api/v1/me/zu-viel"] {
        let p = problem(get(&c, &format!("{base}{path}")).await, 404).await;
        assert_eq!(p["title"], "Nicht gefunden", "{path}");
    }
    let r = c
        .post(format!("{base}/api/v1/xyz"))
        .json(&serde_json::json!({"a": 1}))
        .send()
        .await
        .unwrap();
    problem(r, 404).await;
    // A wrong method on a known path is not an HTML page either.
    let r = c.delete(format!("{base}/api/v1/me")).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json"),
        "DELETE /api/v1/me: {:?}",
        r.headers().get("content-type")
    );
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET,HEAD");
}

/// The API authenticates by bearer token only: its answers set no cookies (no session, no
/// CSRF cookie), and a browser session does not open it.
#[tokio::test]
async fn api_answers_set_no_cookies_and_ignore_sessions() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    let r = c.get(format!("{base}/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    let r = c
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").is_none());
    rathaus_testkit::login(&c, &base, &f.admin_email, rathaus_testkit::PASSWORD).await;
    let r = c.get(format!("{base}/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401, "a session cookie is no API credential");
}
