//! Security headers on every kind of response (pages, errors, API problems, operations
//! endpoints, static files), HSTS and `__Host-` cookies over https, and the operations
//! endpoints /healthz, /readyz and /metrics.

use crate::common;

use common::{get, signed_in};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, tenant_fixture};
use rathaus_web::WebConfig;

const HOST: &str = "rathaus.a.test";

async fn app(cfg: WebConfig) -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    (TestApp::spawn(tdb, cfg).await, f)
}

fn check_headers(r: &reqwest::Response, what: &str, https: bool) {
    let h = r.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    let script_src = directives
        .iter()
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("{what}: CSP without script-src: {csp}"));
    assert!(
        !script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"),
        "{what}: {script_src}"
    );
    let default_src = directives
        .iter()
        .find(|d| d.starts_with("default-src "))
        .unwrap_or_else(|| panic!("{what}: CSP without default-src: {csp}"));
    assert!(!default_src.contains("'unsafe-inline'"), "{what}");
    assert!(
        directives.contains(&"frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    let referrer = h
        .get("referrer-policy")
        .unwrap_or_else(|| panic!("{what}: no Referrer-Policy"))
        .to_str()
        .unwrap();
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer),
        "{what}: Referrer-Policy {referrer}"
    );
    assert!(h.get("server").is_none(), "{what}: Server header present");
    match h.get("strict-transport-security") {
        Some(v) => {
            assert!(https, "{what}: HSTS over plain http");
            let v = v.to_str().unwrap();
            let age: u64 = v
                .split(';')
                .find_map(|p| p.trim().strip_prefix("max-age="))
                .and_then(|a| a.parse().ok())
                .unwrap_or(0);
            assert!(age >= 15_552_000, "{what}: HSTS max-age too short: {v}");
        }
        None => assert!(!https, "{what}: no HSTS over https"),
    }
}

/// One of each kind of response, all checked for the headers.
async fn every_kind_of_response(app: &TestApp, f: &rathaus_testkit::Fixture, https: bool) {
    let base = app.url(HOST, "");
    let anon = app.client(&[HOST, "unbekannt.test"]);

    let r = get(&anon, &format!("{base}/")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains(" onclick="),
        "inline script on the start page"
    );
    let r = get(&anon, &format!("{base}/")).await;
    check_headers(&r, "200 page", https);

    let r = get(&anon, &format!("{base}/gibt-es-nicht")).await;
    assert_eq!(r.status(), 404);
    check_headers(&r, "404 page", https);
    let r = get(&anon, &format!("{base}/gibt/es/nicht")).await;
    assert_eq!(r.status(), 404);
    check_headers(&r, "404 fallback page", https);
    assert_eq!(common::h1(&r.text().await.unwrap()), "Seite nicht gefunden");
    let r = get(&anon, &app.url("unbekannt.test", "/")).await;
    assert_eq!(r.status(), 200, "one tenant: any host");

    let r = get(&anon, &format!("{base}/staff")).await;
    assert_eq!(r.status(), 303);
    check_headers(&r, "303 redirect", https);

    let r = anon
        .post(format!("{base}/login"))
        .form(&[("email", f.admin_email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    check_headers(&r, "CSRF 403", https);
    assert_eq!(common::h1(&r.text().await.unwrap()), "Formular abgelaufen");

    let r = get(&anon, &format!("{base}/api/v1/me")).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    check_headers(&r, "API 401 problem", https);

    let r = get(&anon, &format!("{base}/api/v1/xyz")).await;
    assert_eq!(r.status(), 404);
    check_headers(&r, "API 404 problem", https);

    let r = get(&anon, &format!("{base}/api/openapi.json")).await;
    assert_eq!(r.status(), 200);
    check_headers(&r, "OpenAPI document", https);

    let r = get(&anon, &format!("{base}/healthz")).await;
    assert_eq!(r.status(), 200);
    check_headers(&r, "/healthz", https);

    let r = get(&anon, &format!("{base}/readyz")).await;
    assert_eq!(r.status(), 200);
    check_headers(&r, "/readyz", https);

    let r = get(&anon, &format!("{base}/metrics")).await;
    assert_eq!(r.status(), 200);
    check_headers(&r, "/metrics", https);

    let asset = html
        .split_once("<link rel=\"stylesheet\" href=\"")
        .and_then(|(_, r)| r.split_once('"'))
        .map(|(h, _)| h.to_string())
        .expect("stylesheet");
    let r = get(&anon, &format!("{base}{asset}")).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    check_headers(&r, "static asset", https);
    let r = get(&anon, &format!("{base}/static/style.00000000.css")).await;
    assert_eq!(r.status(), 404);
    check_headers(&r, "missing static asset", https);
}

#[tokio::test]
async fn security_headers_on_every_kind_of_response_over_http() {
    let (app, f) = app(WebConfig::default()).await;
    every_kind_of_response(&app, &f, false).await;

    // 403 of a signed-in clerk, and the clerk's pages.
    let base = app.url(HOST, "");
    let clerk = signed_in(&app, HOST, &f.clerk_email).await;
    let r = get(&clerk, &format!("{base}/admin/users")).await;
    assert_eq!(r.status(), 403);
    check_headers(&r, "403 page", false);
    let r = get(&clerk, &format!("{base}/staff")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store", "staff pages");
    check_headers(&r, "staff page", false);

    // Cookies over http: HttpOnly and SameSite, neither Secure nor `__Host-`.
    let r = get(&app.client(&[HOST]), &format!("{base}/login")).await;
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("rathaus_csrf="))
        .expect("CSRF cookie");
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Lax"));
    assert!(!csrf.contains("Secure"));
}

#[tokio::test]
async fn a_500_page_carries_the_headers_too_and_readyz_reports_the_database() {
    let (app, _f) = app(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    let base = app.url(HOST, "");
    let r = get(&c, &format!("{base}/readyz")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ready");

    // The database goes away.
    app.db.conn.close_by_ref().await.unwrap();
    let r = get(&c, &format!("{base}/")).await;
    assert_eq!(r.status(), 500);
    check_headers(&r, "500 page", false);
    let html = r.text().await.unwrap();
    assert_eq!(common::h1(&html), "Interner Fehler");
    assert!(
        !html.contains("pool") && !html.contains("Pool"),
        "no internals on the page"
    );
    let r = get(&c, &format!("{base}/readyz")).await;
    assert_eq!(r.status(), 503);
    check_headers(&r, "/readyz 503", false);
    let r = get(&c, &format!("{base}/healthz")).await;
    assert_eq!(r.status(), 200, "the process itself is alive");
}

fn cookie_named<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

#[tokio::test]
async fn over_https_hsts_and_host_prefixed_secure_cookies() {
    let cfg = WebConfig {
        public_url: Some("https://rathaus.a.test".into()),
        ..WebConfig::default()
    };
    let (app, f) = app(cfg).await;
    every_kind_of_response(&app, &f, true).await;

    // A client that handles cookies by hand: a cookie store would keep Secure cookies away
    // from this plain-http test connection (TLS ends at the proxy in production).
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(HOST, app.addr)
        .build()
        .unwrap();
    let base = app.url(HOST, "");
    let r = get(&c, &format!("{base}/login")).await;
    assert!(
        cookie_named(&r, "rathaus_csrf").is_none(),
        "unprefixed cookie over https"
    );
    let csrf_cookie = cookie_named(&r, "__Host-rathaus_csrf")
        .expect("__Host-rathaus_csrf")
        .to_string();
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(csrf_cookie.contains(attr), "{attr} in {csrf_cookie}");
    }
    assert!(
        !csrf_cookie.contains("Domain="),
        "__Host- cookies have no Domain"
    );
    let csrf_pair = csrf_cookie.split(';').next().unwrap().to_string();
    let token = csrf_of(&r.text().await.unwrap());

    let r = c
        .post(format!("{base}/login"))
        .header("cookie", &csrf_pair)
        .form(&[
            ("_csrf", token.as_str()),
            ("email", f.admin_email.as_str()),
            ("password", PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    check_headers(&r, "login redirect", true);
    let session = cookie_named(&r, "__Host-rathaus_session")
        .expect("__Host-rathaus_session")
        .to_string();
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
    assert!(cookie_named(&r, "rathaus_session").is_none());
    let session_pair = session.split(';').next().unwrap();
    let r = c
        .get(format!("{base}/admin/users"))
        .header("cookie", format!("{csrf_pair}; {session_pair}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    check_headers(&r, "admin page over https", true);
    // The unprefixed name means nothing in https mode.
    let plain = session_pair.replacen("__Host-", "", 1);
    let r = c
        .get(format!("{base}/staff"))
        .header("cookie", plain)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_need_loopback_or_the_token() {
    let cfg = WebConfig {
        metrics_token: Some("metrik-geheimnis-1234".into()),
        ..WebConfig::default()
    };
    let (app, f) = app(cfg).await;
    let base = app.url(HOST, "");
    let admin = signed_in(&app, HOST, &f.admin_email).await;
    let r = get(&admin, &format!("{base}/admin/users/{}", f.clerk.0)).await;
    assert_eq!(r.status(), 200);

    let c = app.client(&[HOST]);
    let r = get(&c, &format!("{base}/metrics")).await;
    assert_eq!(r.status(), 200, "loopback");
    let body = r.text().await.unwrap();
    assert!(body.contains("rathaus_http_requests_total{"), "{body}");
    assert!(body.contains("route=\"/login\""), "{body}");
    assert!(
        body.contains("route=\"/admin/users/{id}\""),
        "route patterns, not paths: {body}"
    );
    assert!(
        !body.contains(&format!("/admin/users/{}\"", f.clerk.0)),
        "a raw path with an id is a label"
    );
    assert!(body.contains("rathaus_http_request_duration_seconds_bucket"));
    assert!(body.contains("rathaus_db_pool_connections"));

    let forwarded = |req: reqwest::RequestBuilder| req.header("x-forwarded-for", "203.0.113.7");
    let r = forwarded(c.get(format!("{base}/metrics")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "through a proxy, without the token");
    let r = forwarded(c.get(format!("{base}/metrics")))
        .bearer_auth("metrik-geheimnis-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "wrong token");
    let r = forwarded(c.get(format!("{base}/metrics")))
        .bearer_auth("metrik-geheimnis-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "with the token");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("rathaus_http_requests_total")
    );
}

#[tokio::test]
async fn metrics_without_a_configured_token_only_from_loopback() {
    let (app, _f) = app(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    let base = app.url(HOST, "");
    let r = c
        .get(format!("{base}/metrics"))
        .header("x-forwarded-for", "203.0.113.7")
        .bearer_auth("irgendwas")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .get(format!("{base}/metrics"))
        .header("x-forwarded-for", "203.0.113.7")
        .header("authorization", "Bearer ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "an empty bearer is no token");
}

/// Machine and API answers are compressed for clients that accept gzip or br and carry an
/// ETag that answers 304 when the client has it; pages are not compressed (their CSRF token
/// sits next to visitor-controlled text: BREACH).
#[tokio::test]
async fn api_answers_are_compressed_and_tagged_pages_are_not_compressed() {
    let (app, _f) = app(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    let url = app.url(HOST, "/api/openapi.json");
    let plain = c.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    let tag = plain.headers()["etag"].to_str().unwrap().to_string();
    assert!(tag.starts_with("W/\""), "{tag}");
    let plain_len = plain.bytes().await.unwrap().len();
    for enc in ["gzip", "br"] {
        let r = c
            .get(&url)
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], enc);
        assert_eq!(
            r.headers()["etag"].to_str().unwrap(),
            tag,
            "one tag for every encoding"
        );
        let len = r.bytes().await.unwrap().len();
        assert!(len * 3 < plain_len, "{enc}: {len} of {plain_len} bytes");
    }
    let r = c
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = c
        .get(&url)
        .header("if-none-match", "W/\"anders\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let page = c
        .get(app.url(HOST, "/login"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers().get("content-encoding").is_none(),
        "pages stay uncompressed"
    );
}
