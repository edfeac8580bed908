//! Route inventory of the Mängelmelder: every route in `src/**/*.rs` must be listed in
//! `ROUTES` with who may use it, and is then checked. Anonymous visitors are sent to the login
//! from the staff and settings pages, and are not from the public ones; a signed-in clerk
//! without permissions is refused every staff and settings route (403 or 404), a handler the
//! settings, a manager the staff pages; nothing answers with a server error. A new route that
//! is not listed fails this test, so each one gets its anonymous and forbidden checks.

#![allow(clippy::unwrap_used)] // a test (or data generator) fails loudly on a broken assumption

mod common;

use common::*;
use rathaus_testkit::post_form;
use rathaus_web::WebConfig;
use std::collections::BTreeSet;

const HOST: &str = "rathaus.a.test";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    /// Anyone, by design: the citizens' form and views, feeds, map tiles.
    Public,
    /// Anyone holding the secret token in the URL (status page, follower links).
    Token,
    /// The Open311 API (own checks: api_key for POST, outside CSRF and sessions).
    Api,
    /// Staff with `reports.handle` or `reports.moderate` (some need one of them).
    Staff,
    /// Staff with `reports.manage`.
    Manage,
}

use Who::*;

/// (method, path, who).
const ROUTES: &[(&str, &str, Who)] = &[
    // Citizens (public by design).
    ("get", "/maengel", Public),
    ("get", "/maengel/adressen", Public),
    ("get", "/maengel/altcha", Public),
    ("get", "/maengel/danke", Public),
    ("get", "/maengel/feed.atom", Public),
    ("get", "/maengel/fotos/{file}", Public),
    ("get", "/maengel/fotos/{id}/klein.jpg", Public),
    ("get", "/maengel/in-der-naehe", Public),
    ("get", "/maengel/kacheln/{z}/{x}/{y}", Public),
    ("get", "/maengel/karte.geojson", Public),
    ("get", "/maengel/melden", Public),
    ("post", "/maengel/melden", Public),
    ("get", "/maengel/{reference}", Public),
    ("get", "/maengel/{reference}/folgen", Public),
    ("post", "/maengel/{reference}/folgen", Public),
    ("get", "/maengel/folgen/{token}", Token),
    ("post", "/maengel/folgen/{token}", Token),
    ("get", "/maengel/folgen/{token}/abbestellen", Token),
    ("post", "/maengel/folgen/{token}/abbestellen", Token),
    ("get", "/maengel/status/{token}", Token),
    ("get", "/maengel/status/{token}/fotos/{file}", Token),
    // Open311 GeoReport v2.
    ("get", "/open311/v2", Api),
    ("get", "/open311/v2/", Api),
    ("get", "/open311/v2/{file}", Api),
    ("post", "/open311/v2/{file}", Api),
    ("get", "/open311/v2/requests/{file}", Api),
    ("get", "/open311/v2/services/{file}", Api),
    ("get", "/open311/v2/tokens/{file}", Api),
    ("get", "/open311/v2/{file}/{*rest}", Api),
    ("post", "/open311/v2/{file}/{*rest}", Api),
    // Staff.
    ("get", "/maengel/verwaltung", Staff),
    ("get", "/maengel/verwaltung/moderation", Staff),
    ("get", "/maengel/verwaltung/ueberfaellig", Staff),
    ("post", "/maengel/verwaltung/sammel", Staff),
    ("get", "/maengel/verwaltung/{id}", Staff),
    ("post", "/maengel/verwaltung/{id}", Staff),
    ("post", "/maengel/verwaltung/{id}/moderation", Staff),
    ("get", "/maengel/verwaltung/fotos/{file}", Staff),
    (
        "post",
        "/maengel/verwaltung/fotos/{file}/sichtbarkeit",
        Staff,
    ),
    ("get", "/maengel/verwaltung/karte", Staff),
    ("get", "/maengel/verwaltung/karte.json", Staff),
    ("get", "/maengel/verwaltung/export.csv", Staff),
    ("get", "/maengel/verwaltung/export.xlsx", Staff),
    ("get", "/maengel/verwaltung/statistik", Staff),
    ("get", "/maengel/verwaltung/statistik.csv", Staff),
    // The script of the staff maps: static, no data, so public.
    ("get", "/maengel/verwaltung/karte.js", Public),
    // Settings.
    ("get", "/maengel/einstellungen", Manage),
    ("post", "/maengel/einstellungen", Manage),
    ("post", "/maengel/einstellungen/grenze", Manage),
    ("post", "/maengel/einstellungen/strassen", Manage),
    ("get", "/maengel/einstellungen/kategorien", Manage),
    ("get", "/maengel/einstellungen/kategorien/neu", Manage),
    ("post", "/maengel/einstellungen/kategorien/neu", Manage),
    ("get", "/maengel/einstellungen/kategorien/{id}", Manage),
    ("post", "/maengel/einstellungen/kategorien/{id}", Manage),
    ("get", "/maengel/einstellungen/api-schluessel", Manage),
    ("post", "/maengel/einstellungen/api-schluessel", Manage),
    ("post", "/maengel/einstellungen/api-schluessel/{id}", Manage),
    (
        "post",
        "/maengel/einstellungen/api-schluessel/{id}/widerrufen",
        Manage,
    ),
];

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The (method, path) pairs routed in the crate's sources (outside `#[cfg(test)]`).
fn routes_in_sources() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    let mut out = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        // Route paths given as constants (`.route(INBOX, …)`).
        let consts: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| {
                let l = l.trim().strip_prefix("pub ").unwrap_or(l.trim());
                let rest = l.strip_prefix("const ")?;
                let (name, value) = rest.split_once(": &str = \"")?;
                Some((name.to_string(), value.split('"').next()?.to_string()))
            })
            .collect();
        let mut rest = text;
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let head = rest.trim_start();
            let (route, tail) = if let Some(h) = head.strip_prefix('"') {
                let Some(close) = h.find('"') else { break };
                (h[..close].to_string(), &h[close..])
            } else {
                let name: String = head
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                match consts.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => (v.clone(), &head[name.len()..]),
                    None => panic!("route path {name} in {path:?} is not a string constant"),
                }
            };
            let end = [tail.find(".route("), tail.find("\n}")]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(tail.len());
            let seg = &tail[..end];
            for m in ["get", "post", "put", "delete", "patch"] {
                let called = seg.match_indices(&format!("{m}(")).any(|(i, _)| {
                    i == 0 || !seg[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    out.insert((m.to_string(), route.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn every_route_is_listed() {
    let listed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let found = routes_in_sources();
    let missing: Vec<_> = found.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&found).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without access checks: {missing:?}; listed but gone: {stale:?}"
    );
    assert!(found.len() > 40, "the parser finds the routes: {found:?}");
}

fn path_of(route: &str, report_id: i64, reference: &str) -> String {
    route
        .replace("{id}", &report_id.to_string())
        .replace("{reference}", reference)
        .replace("{token}", "kein-token")
        .replace("{file}", "1.jpg")
        // Zoom 99 does not exist: no tile is fetched from anywhere.
        .replace("{z}", "99")
        .replace("{x}", "0")
        .replace("{y}", "0.png")
        .replace("{*rest}", "x")
}

async fn send(
    c: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    form_page: &str,
) -> (u16, String) {
    let fields = [("name", "x"), ("status", "done"), ("aktion", "publish")];
    let r = if method == "get" {
        c.get(format!("{base}{path}")).send().await.unwrap()
    } else if path.starts_with("/open311") {
        c.post(format!("{base}{path}"))
            .form(&fields)
            .send()
            .await
            .unwrap()
    } else {
        post_form(c, base, form_page, path, &fields).await
    };
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (r.status().as_u16(), location)
}

#[tokio::test]
async fn anonymous_and_unprivileged_users_are_refused() {
    let mut s = setup().await;
    let r = submit(&s, "gully", INSIDE).await.report;
    let app = spawn_app(&mut s, WebConfig::default()).await;
    let base = app.url(HOST, "");
    let anon = app.client(&[HOST]);
    let clerk = signed_in(&app, HOST, &base, "clerk@a.example").await;
    let handler = signed_in(&app, HOST, &base, "bauhof@a.example").await;
    let manager = signed_in(&app, HOST, &base, "verwaltung@a.example").await;

    for (method, route, who) in ROUTES {
        let path = path_of(route, r.id, &r.reference);
        // Anonymous.
        let (status, location) = send(&anon, &base, method, &path, "/login").await;
        match who {
            Public | Token | Api => assert!(
                status < 500 && !location.starts_with("/login"),
                "anonymous {method} {path}: {status} {location}"
            ),
            Staff | Manage => assert!(
                status == 303 && location.starts_with("/login"),
                "anonymous {method} {path} must go to the login: {status} {location}"
            ),
        }
        // Signed in without any permission of the module.
        let (status, _) = send(&clerk, &base, method, &path, "/staff").await;
        match who {
            Staff | Manage => assert!(
                [403, 404].contains(&status),
                "a clerk {method} {path} must be refused: {status}"
            ),
            Public | Token | Api => assert!(status < 500, "a clerk {method} {path}: {status}"),
        }
        // The other staff permission is not enough.
        match who {
            Manage => {
                let (status, _) = send(&handler, &base, method, &path, "/staff").await;
                assert!(
                    [403, 404].contains(&status),
                    "a handler {method} {path} must be refused: {status}"
                );
            }
            Staff => {
                let (status, _) = send(&manager, &base, method, &path, "/staff").await;
                assert!(
                    [403, 404].contains(&status),
                    "a manager {method} {path} must be refused: {status}"
                );
            }
            _ => {}
        }
    }
}
