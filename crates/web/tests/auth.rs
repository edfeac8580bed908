//! Login, logout, sessions, throttling and CSRF, against the real app on a real database.

use crate::common;

use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture};
use rathaus_web::WebConfig;

const HOST: &str = "rathaus.a.test";

async fn app(cfg: WebConfig) -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    (TestApp::spawn(tdb, cfg).await, f)
}

#[tokio::test]
async fn login_rotates_the_session_and_logout_ends_it_on_the_server() {
    let (app, f) = app(WebConfig::default()).await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);

    let r = c.get(format!("{base}/staff")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fstaff");

    let r = login(&c, &base, &f.admin_email, PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/staff");
    let first = session_cookie(&r).expect("session cookie set at login");
    assert!(
        first.contains("HttpOnly") && first.contains("SameSite=Lax"),
        "{first}"
    );

    let page = c.get(format!("{base}/staff")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Anna Admin"));

    // Logging in again (the form posted while a session exists) gets a different session id.
    let csrf = csrf_of(&html);
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", f.admin_email.as_str()),
            ("password", PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    let second = session_cookie(&r).expect("new cookie");
    assert_ne!(first, second);

    // Logout; the old cookie replayed by another client is dead on the server.
    let stolen = second.split(';').next().unwrap().to_string();
    let old = first.split(';').next().unwrap().to_string();
    let r = app
        .client(&[HOST])
        .get(format!("{base}/staff"))
        .header("cookie", old)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "the session replaced at the second login is gone"
    );
    // Signed in, forms carry the session's own token (the one from before the login is void).
    let csrf = common::csrf(&c, &base).await;
    let r = c
        .post(format!("{base}/logout"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let other = app.client(&[HOST]);
    let r = other
        .get(format!("{base}/staff"))
        .header("cookie", stolen)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "a logged-out session must not work any more"
    );
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rathaus_session="))
        .map(String::from)
}

#[tokio::test]
async fn wrong_password_keeps_the_email_and_failures_are_throttled_and_audited() {
    let mut cfg = WebConfig::default();
    cfg.login.max_failures = 3;
    let (app, f) = app(cfg).await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    for _ in 0..3 {
        let r = login(&c, &base, &f.admin_email, "falsch-falsch").await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("E-Mail-Adresse oder Passwort ist falsch."));
        assert!(
            html.contains(&format!("value=\"{}\"", f.admin_email)),
            "typed e-mail is kept"
        );
    }
    // Now even the right password is refused for a while.
    let r = login(&c, &base, &f.admin_email, PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Zu viele fehlgeschlagene Anmeldeversuche")
    );

    let events = audit_actions(&app.db).await;
    assert_eq!(events.iter().filter(|a| *a == "login.failed").count(), 3);
    assert!(events.contains(&"login.throttled".to_string()));
}

async fn audit_actions(db: &rathaus_store::Db) -> Vec<String> {
    use rathaus_store::entity::audit_event;
    use sea_orm::EntityTrait;
    audit_event::Entity::find()
        .all(&db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let (app, f) = app(WebConfig::default()).await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    c.get(format!("{base}/login")).send().await.unwrap();
    let r = c
        .post(format!("{base}/login"))
        .form(&[("email", f.admin_email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Formular abgelaufen"));
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", "x".repeat(43).as_str()),
            ("email", f.admin_email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A fresh client without the cookie at all.
    let r = app
        .client(&[HOST])
        .post(format!("{base}/logout"))
        .form(&[("_csrf", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn idle_sessions_expire_and_disabled_users_lose_their_sessions() {
    let clock = std::sync::Arc::new(rathaus_core::clock::TestClock::default());
    let mut cfg = WebConfig::default();
    cfg.session.idle = chrono::Duration::minutes(30);
    cfg.clock = clock.clone();
    let (app, f) = app(cfg).await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    login(&c, &base, &f.clerk_email, PASSWORD).await;
    assert_eq!(
        c.get(format!("{base}/staff"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Half an hour and a minute later by the application's clock (no sleeping).
    clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        c.get(format!("{base}/staff"))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "idle timeout"
    );

    // Disabling: the admin edits the clerk; the clerk's session ends at once.
    let (app, f) = app_default().await;
    let base = app.url(HOST, "");
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &f.clerk_email, PASSWORD).await;
    assert_eq!(
        clerk
            .get(format!("{base}/staff"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let admin = app.client(&[HOST]);
    login(&admin, &base, &f.admin_email, PASSWORD).await;
    let path = format!("/admin/users/{}", f.clerk.0);
    let r = rathaus_testkit::post_form(
        &admin,
        &base,
        &path,
        &path,
        &[
            ("name", "Carl Clerk"),
            ("email", &f.clerk_email),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(
        r.status(),
        303,
        "user saved without the active box = disabled"
    );
    assert_eq!(
        clerk
            .get(format!("{base}/staff"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    let r = login(&clerk, &base, &f.clerk_email, PASSWORD).await;
    assert_eq!(r.status(), 422, "a disabled user cannot log in");
}

async fn app_default() -> (TestApp, rathaus_testkit::Fixture) {
    app(WebConfig::default()).await
}
