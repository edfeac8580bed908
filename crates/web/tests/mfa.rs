//! The TOTP second factor: set-up on /account/totp, the second login step, and a tenant that
//! demands it of everyone.

use crate::common;

use common::{csrf, field_error, get, location, post, secret_of, signed_in, snapshot};
use rathaus_store::{accounts, mfa};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture};
use rathaus_web::WebConfig;

const HOST: &str = "rathaus.a.test";

async fn app() -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    (TestApp::spawn(tdb, WebConfig::default()).await, f)
}

/// A valid code that was not used before: each code is accepted only once, so successive
/// calls for one secret take the previous, the current and the next time step (the window the
/// server accepts), then fail the test.
fn code(secret: &str) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static USED: Mutex<Option<HashMap<String, i64>>> = Mutex::new(None);
    let mut g = USED.lock().unwrap();
    let n = g
        .get_or_insert_with(HashMap::new)
        .entry(secret.to_string())
        .or_insert(-2);
    *n += 1;
    assert!(*n <= 1, "a test may use at most three codes per secret");
    mfa::code_at_offset(secret, *n).expect("code")
}

/// A six-digit code that differs in every digit from the current one.
fn wrong_code(secret: &str) -> String {
    mfa::current_code(secret)
        .expect("code")
        .chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap() + 5) % 10, 10).unwrap())
        .collect()
}

/// Reads the secret from the set-up page and confirms it with the current code.
async fn enable_totp(c: &reqwest::Client, base: &str) -> String {
    let r = get(c, &format!("{base}/account/totp")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let secret = secret_of(&html).expect("secret on the page");
    assert!(html.contains("otpauth://totp/"), "link for the app");
    assert!(html.contains("<svg"), "QR code");
    let k = csrf(c, base).await;
    let r = post(
        c,
        &format!("{base}/account/totp"),
        &k,
        &[("code", &code(&secret))],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account?notice=totp_enabled");
    secret
}

#[tokio::test]
async fn totp_set_up_then_asked_for_at_login() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let admin = signed_in(&app, HOST, &f.admin_email).await;

    // The page shows the same pending secret on reload; a wrong code enables nothing.
    let first = secret_of(
        &get(&admin, &format!("{base}/account/totp"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let again = secret_of(
        &get(&admin, &format!("{base}/account/totp"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first, again);
    let k = csrf(&admin, &base).await;
    let r = post(
        &admin,
        &format!("{base}/account/totp"),
        &k,
        &[("code", &wrong_code(&first))],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        field_error(&r.text().await.unwrap(), "code")
            .is_some_and(|m| m.contains("Code ist nicht richtig"))
    );
    let (_, enabled) = accounts::totp_state(&app.db.conn, f.tenant, f.admin)
        .await
        .unwrap();
    assert!(!enabled);

    let secret = enable_totp(&admin, &base).await;
    assert_eq!(secret, first);
    let (_, enabled) = accounts::totp_state(&app.db.conn, f.tenant, f.admin)
        .await
        .unwrap();
    assert!(enabled);
    assert!(
        common::audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "user.totp_enabled" && e.actor_id == Some(f.admin.0))
    );
    let account = get(&admin, &format!("{base}/account"))
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("Die Zwei-Faktor-Anmeldung ist eingeschaltet."));

    // Log out, log in again: the password alone is not enough.
    let k = csrf(&admin, &base).await;
    let r = post(&admin, &format!("{base}/logout"), &k, &[]).await;
    assert_eq!(r.status(), 303);
    let c = app.client(&[HOST]);
    let r = login(&c, &base, &f.admin_email, PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login/totp?next=%2Fstaff");
    for path in ["/staff", "/account", "/account/totp", "/admin/users"] {
        let r = get(&c, &format!("{base}{path}")).await;
        assert_eq!(r.status(), 303, "{path} before the code");
        assert!(location(&r).starts_with("/login"), "{path}");
    }
    let k = csrf(&c, &base).await;
    let before = snapshot(&app.db).await;
    let r = post(
        &c,
        &format!("{base}/account/tokens"),
        &k,
        &[("name", "vor dem Code")],
    )
    .await;
    assert_eq!(r.status(), 303, "no forms before the code");
    assert_eq!(snapshot(&app.db).await, before);

    let r = get(&c, &format!("{base}/login/totp?next=%2Fstaff")).await;
    assert_eq!(r.status(), 200);
    let r = post(
        &c,
        &format!("{base}/login/totp"),
        &k,
        &[("code", &wrong_code(&secret)), ("next", "/staff")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "code").is_some_and(|m| m.contains("Code ist nicht richtig")));
    assert!(
        common::audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "login.totp_failed")
    );
    assert_eq!(get(&c, &format!("{base}/staff")).await.status(), 303);

    let r = post(
        &c,
        &format!("{base}/login/totp"),
        &k,
        &[("code", &code(&secret)), ("next", "/staff")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/staff");
    let r = get(&c, &format!("{base}/staff")).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Anna Admin"));

    // `next` survives the second step; a foreign target does not.
    let c = app.client(&[HOST]);
    let page = get(&c, &format!("{base}/login"))
        .await
        .text()
        .await
        .unwrap();
    let k = rathaus_testkit::csrf_of(&page);
    let r = post(
        &c,
        &format!("{base}/login"),
        &k,
        &[
            ("email", f.admin_email.as_str()),
            ("password", PASSWORD),
            ("next", "/admin/users"),
        ],
    )
    .await;
    assert_eq!(location(&r), "/login/totp?next=%2Fadmin%2Fusers");
    // The pending session has its own CSRF token, on the second step's page.
    let page = get(&c, &format!("{base}/login/totp"))
        .await
        .text()
        .await
        .unwrap();
    let k2 = rathaus_testkit::csrf_of(&page);
    assert_ne!(k2, k);
    let r = post(
        &c,
        &format!("{base}/login/totp"),
        &k,
        &[("code", "000000"), ("next", "/staff")],
    )
    .await;
    assert_eq!(r.status(), 403, "the token from before the login is void");
    let r = post(
        &c,
        &format!("{base}/login/totp"),
        &k2,
        &[("code", &code(&secret)), ("next", "//evil.example/")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/staff", "no open redirect");
}

#[tokio::test]
async fn a_tenant_that_requires_totp_sends_users_without_it_to_the_set_up() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let admin = signed_in(&app, HOST, &f.admin_email).await;
    let k = csrf(&admin, &base).await;
    let r = post(
        &admin,
        &format!("{base}/admin/settings"),
        &k,
        &[("name", "Gemeinde a"), ("mfa_required", "on")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let t = rathaus_store::tenants::get(&app.db.conn, f.tenant)
        .await
        .unwrap();
    assert!(t.mfa_required);

    // The admin has no second factor yet either.
    for path in ["/staff", "/admin/settings", "/account"] {
        let r = get(&admin, &format!("{base}{path}")).await;
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), "/account/totp?notice=totp_required");
    }

    let clerk = signed_in(&app, HOST, &f.clerk_email).await;
    let r = get(&clerk, &format!("{base}/staff")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/totp?notice=totp_required");
    let r = get(&clerk, &format!("{base}/account/totp?notice=totp_required")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Bitte richten Sie zuerst die Zwei-Faktor-Anmeldung ein."));
    assert!(html.contains("schreibt die Zwei-Faktor-Anmeldung vor"));
    // No other form works until then.
    let kc = csrf(&clerk, &base).await;
    let before = snapshot(&app.db).await;
    let r = post(
        &clerk,
        &format!("{base}/account/tokens"),
        &kc,
        &[("name", "ohne zweiten Faktor")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/totp?notice=totp_required");
    assert_eq!(snapshot(&app.db).await, before);

    let secret = enable_totp(&clerk, &base).await;
    assert_eq!(get(&clerk, &format!("{base}/staff")).await.status(), 200);
    // Required means it cannot be switched off.
    let r = post(
        &clerk,
        &format!("{base}/account/totp/disable"),
        &kc,
        &[("code", &code(&secret))],
    )
    .await;
    assert_eq!(r.status(), 409);
    let (_, enabled) = accounts::totp_state(&app.db.conn, f.tenant, f.clerk)
        .await
        .unwrap();
    assert!(enabled);

    // Logging out still works for the admin who is stuck at the set-up.
    let r = post(&admin, &format!("{base}/logout"), &k, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?notice=logged_out");
    assert_eq!(
        get(&admin, &format!("{base}/account/totp")).await.status(),
        303
    );
}

#[tokio::test]
async fn totp_can_be_switched_off_with_a_valid_code_when_not_required() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let clerk = signed_in(&app, HOST, &f.clerk_email).await;
    let secret = enable_totp(&clerk, &base).await;
    let k = csrf(&clerk, &base).await;
    let r = post(
        &clerk,
        &format!("{base}/account/totp/disable"),
        &k,
        &[("code", &wrong_code(&secret))],
    )
    .await;
    assert_eq!(r.status(), 422);
    let (_, enabled) = accounts::totp_state(&app.db.conn, f.tenant, f.clerk)
        .await
        .unwrap();
    assert!(enabled, "a wrong code switches nothing off");
    let r = post(
        &clerk,
        &format!("{base}/account/totp/disable"),
        &k,
        &[("code", &code(&secret))],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (s, enabled) = accounts::totp_state(&app.db.conn, f.tenant, f.clerk)
        .await
        .unwrap();
    assert!(!enabled && s.is_none());
    let c = app.client(&[HOST]);
    let r = login(&c, &base, &f.clerk_email, PASSWORD).await;
    assert_eq!(location(&r), "/staff", "no second step any more");
}

#[tokio::test]
async fn a_code_is_accepted_only_once() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let admin = signed_in(&app, HOST, &f.admin_email).await;
    let secret = enable_totp(&admin, &base).await;
    let used = code(&secret);
    let c = app.client(&[HOST]);
    login(&c, &base, &f.admin_email, PASSWORD).await;
    let k = csrf(&c, &base).await;
    let r = post(
        &c,
        &format!("{base}/login/totp"),
        &k,
        &[("code", &used), ("next", "/staff")],
    )
    .await;
    assert_eq!(r.status(), 303, "first use");
    // The same code again, from another browser that saw it: refused.
    let thief = app.client(&[HOST]);
    login(&thief, &base, &f.admin_email, PASSWORD).await;
    let k = csrf(&thief, &base).await;
    let r = post(
        &thief,
        &format!("{base}/login/totp"),
        &k,
        &[("code", &used), ("next", "/staff")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(get(&thief, &format!("{base}/staff")).await.status(), 303);
}

#[tokio::test]
async fn an_admin_resets_a_lost_second_factor() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let clerk = signed_in(&app, HOST, &f.clerk_email).await;
    enable_totp(&clerk, &base).await;
    // The clerk lost the phone; the admin removes the second factor.
    let admin = signed_in(&app, HOST, &f.admin_email).await;
    let path = format!("{base}/admin/users/{}", f.clerk.0);
    let page = get(&admin, &path).await.text().await.unwrap();
    assert!(page.contains("Zweiten Faktor zurücksetzen"));
    let k = csrf(&admin, &base).await;
    let r = post(&admin, &format!("{path}/reset-totp"), &k, &[]).await;
    assert_eq!(r.status(), 303);
    // The clerk's session ended; a password login is enough again.
    assert_eq!(get(&clerk, &format!("{base}/staff")).await.status(), 303);
    let fresh = app.client(&[HOST]);
    let r = login(&fresh, &base, &f.clerk_email, PASSWORD).await;
    assert_eq!(location(&r), "/staff");
    let (secret, enabled) = accounts::totp_state(&app.db.conn, f.tenant, f.clerk)
        .await
        .unwrap();
    assert!(secret.is_none() && !enabled);
}
