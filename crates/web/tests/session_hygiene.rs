//! The CSRF token is bound to the session, the CSRF cookie is replaced at login, and the
//! session id changes again after the second factor (security review, finding 7).

use crate::common;

use common::{csrf, get, location, post, secret_of, signed_in};
use rathaus_store::mfa;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, tenant_fixture};
use rathaus_web::WebConfig;
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";

async fn app() -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    (TestApp::spawn(tdb, WebConfig::default()).await, f)
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

fn cookie_value(r: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(r).into_iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
    })
}

#[tokio::test]
async fn a_csrf_cookie_planted_before_login_is_worthless_after_it() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    // An attacker who can set cookies for the site (a neighbouring sub-domain) plants a
    // CSRF cookie whose value they know.
    let planted = "angreifer-kennt-diesen-wert-0123456789abcdef";
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("rathaus_csrf={planted}; Path=/"),
        &base.parse().unwrap(),
    );
    let c = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(HOST, app.addr)
        .build()
        .unwrap();
    let r = post(
        &c,
        &format!("{base}/login"),
        planted,
        &[("email", f.admin_email.as_str()), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        r.status(),
        303,
        "the anonymous login form works by double submit"
    );
    let rotated = cookie_value(&r, "rathaus_csrf").expect("a new CSRF cookie at login");
    assert_ne!(rotated, planted);

    // Signed in, the planted value no longer passes …
    let r = post(&c, &format!("{base}/logout"), planted, &[]).await;
    assert_eq!(r.status(), 403);
    // … nor does the new cookie's value: the token is the session's.
    let r = post(&c, &format!("{base}/logout"), &rotated, &[]).await;
    assert_eq!(r.status(), 403);
    let k = csrf(&c, &base).await;
    assert_ne!(k, rotated);
    let r = post(&c, &format!("{base}/logout"), &k, &[]).await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn two_sessions_have_different_tokens() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let a = signed_in(&app, HOST, &f.admin_email).await;
    let b = signed_in(&app, HOST, &f.clerk_email).await;
    let ka = csrf(&a, &base).await;
    let kb = csrf(&b, &base).await;
    assert_ne!(ka, kb);
    let r = post(&a, &format!("{base}/logout"), &kb, &[]).await;
    assert_eq!(r.status(), 403, "another session's token is refused");
}

#[tokio::test]
async fn the_session_id_changes_after_the_second_factor() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let c = signed_in(&app, HOST, &f.admin_email).await;
    let html = get(&c, &format!("{base}/account/totp"))
        .await
        .text()
        .await
        .unwrap();
    let secret = secret_of(&html).unwrap();
    let k = csrf(&c, &base).await;
    let code = mfa::code_at_offset(&secret, -1).unwrap();
    let r = post(&c, &format!("{base}/account/totp"), &k, &[("code", &code)]).await;
    assert_eq!(r.status(), 303);

    let fresh = app.client(&[HOST]);
    let page = get(&fresh, &format!("{base}/login"))
        .await
        .text()
        .await
        .unwrap();
    let r = post(
        &fresh,
        &format!("{base}/login"),
        &csrf_of(&page),
        &[("email", f.admin_email.as_str()), ("password", PASSWORD)],
    )
    .await;
    let pending = cookie_value(&r, "rathaus_session").expect("pending session");
    let page = get(&fresh, &format!("{base}/login/totp"))
        .await
        .text()
        .await
        .unwrap();
    let r = post(
        &fresh,
        &format!("{base}/login/totp"),
        &csrf_of(&page),
        &[("code", &mfa::code_at_offset(&secret, 0).unwrap())],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/staff");
    let full = cookie_value(&r, "rathaus_session").expect("a new session id");
    assert_ne!(full, pending);
    assert!(
        get(&fresh, &format!("{base}/staff"))
            .await
            .status()
            .is_success()
    );

    // The pending session's token opens nothing any more.
    let stale = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(HOST, app.addr)
        .build()
        .unwrap();
    let r = stale
        .get(format!("{base}/staff"))
        .header("cookie", format!("rathaus_session={pending}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "back to the login");
}
