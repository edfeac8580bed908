//! Route inventory of the booking module: every page route in `src/*.rs` must be listed in
//! `ROUTES` with who may use it, and is then checked: anonymous visitors are sent to the
//! login (or, for public routes, are not), a signed-in citizen without permissions is refused
//! the staff routes (403 or 404), and nothing answers with a server error. A new route that is
//! not listed fails this test, so each one gets its anonymous and forbidden checks.

#![allow(clippy::unwrap_used)] // a test (or data generator) fails loudly on a broken assumption

mod common;

use common::*;
use rathaus_booking::Booking;
use rathaus_booking::rules;
use rathaus_booking::service::ResourceInput;
use rathaus_testkit::{PASSWORD, TestApp, login, post_form};
use rathaus_web::{AppState, Module, WebConfig};
use std::collections::BTreeSet;
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    /// Anyone, without signing in (public occupancy, photos of public resources).
    Public,
    /// Anyone holding the secret token in the URL (calendar feeds).
    Token,
    /// Every signed-in user, citizens included; the service decides what they see.
    Signed,
    /// Staff with `booking.manage` (or `booking.book` where noted in the service).
    Staff,
}

use Who::*;

/// (method, path, who).
const ROUTES: &[(&str, &str, Who)] = &[
    ("get", "/belegung", Public),
    ("get", "/belegung/{id}", Public),
    ("get", "/belegung/{id}/kalender.ics", Public),
    ("get", "/buchung", Signed),
    ("post", "/buchung", Staff),
    ("get", "/buchung/anfragen", Staff),
    ("post", "/buchung/anfragen/{id}/ablehnen", Staff),
    ("post", "/buchung/anfragen/{id}/genehmigen", Staff),
    ("get", "/buchung/belegung", Signed),
    ("get", "/buchung/einstellungen", Staff),
    ("post", "/buchung/einstellungen", Staff),
    ("get", "/buchung/fotos/{file}", Public),
    ("post", "/buchung/fotos/{id}/alt", Staff),
    ("get", "/buchung/fotos/{id}/klein.jpg", Public),
    ("post", "/buchung/fotos/{id}/loeschen", Staff),
    ("get", "/buchung/frei", Signed),
    ("get", "/buchung/gebuehren", Staff),
    ("get", "/buchung/gebuehren.csv", Staff),
    ("get", "/buchung/gebuehren.xlsx", Staff),
    ("get", "/buchung/kalender", Signed),
    ("post", "/buchung/kalender/erneuern", Signed),
    ("get", "/buchung/kalender/person/{file}", Token),
    ("get", "/buchung/kalender/verein/{file}", Token),
    ("post", "/buchung/kalender/verein/{id}/erneuern", Staff),
    ("get", "/buchung/kalender/{resource_id}/{file}", Token),
    ("get", "/buchung/meine", Signed),
    ("get", "/buchung/organisationen", Staff),
    ("post", "/buchung/organisationen", Staff),
    ("get", "/buchung/organisationen/{id}", Staff),
    ("post", "/buchung/organisationen/{id}", Staff),
    ("post", "/buchung/organisationen/{id}/mitglieder", Staff),
    (
        "post",
        "/buchung/organisationen/{id}/mitglieder/{user}/entfernen",
        Staff,
    ),
    ("post", "/buchung/reservierung/{id}/nicht-genutzt", Staff),
    ("post", "/buchung/reservierung/{id}/stornieren", Signed),
    ("get", "/buchung/saison", Signed),
    ("post", "/buchung/saison", Staff),
    ("post", "/buchung/saison/prioritaet", Staff),
    ("get", "/buchung/saison/{id}", Staff),
    ("post", "/buchung/saison/{id}/anfragen", Staff),
    (
        "post",
        "/buchung/saison/{id}/anfragen/{rid}/ablehnen",
        Staff,
    ),
    (
        "post",
        "/buchung/saison/{id}/anfragen/{rid}/zuteilen",
        Staff,
    ),
    ("post", "/buchung/saison/{id}/automatisch", Staff),
    ("post", "/buchung/saison/{id}/veroeffentlichen", Staff),
    ("get", "/buchung/serien/{id}", Staff),
    ("post", "/buchung/serien/{id}/ablehnen", Staff),
    ("post", "/buchung/serien/{id}/absagen-ab", Staff),
    ("post", "/buchung/serien/{id}/genehmigen", Staff),
    ("post", "/buchung/serien/{id}/termine/{rid}/absagen", Staff),
    (
        "post",
        "/buchung/serien/{id}/termine/{rid}/verschieben",
        Staff,
    ),
    ("get", "/buchung/sperrzeiten", Staff),
    ("post", "/buchung/sperrzeiten", Staff),
    ("post", "/buchung/sperrzeiten/import", Staff),
    ("post", "/buchung/sperrzeiten/{id}/loeschen", Staff),
    ("get", "/buchung/statistik", Staff),
    ("get", "/buchung/{id}", Staff),
    ("post", "/buchung/{id}", Staff),
    ("get", "/buchung/{id}/bearbeiten", Staff),
    ("post", "/buchung/{id}/bearbeiten", Staff),
    ("get", "/buchung/{id}/fotos", Staff),
    ("post", "/buchung/{id}/fotos", Staff),
    ("get", "/buchung/{id}/monat", Staff),
    ("get", "/buchung/{id}/tag", Staff),
];

/// The (method, path) pairs routed in the crate's sources (outside `#[cfg(test)]`).
fn routes_in_sources() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut rest = text;
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let Some(open) = rest.find('"') else { break };
            let Some(close) = rest[open + 1..].find('"') else {
                break;
            };
            let route = &rest[open + 1..open + 1 + close];
            let tail = &rest[open + 1 + close..];
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
                    out.insert((m.to_string(), route.to_string()));
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
    assert!(found.len() > 50, "the parser finds the routes: {found:?}");
}

#[tokio::test]
async fn anonymous_and_unprivileged_users_are_refused() {
    let mut s = setup().await;
    let staff_only = resource(&s, "Ratssaal", "room", None).await;
    let mut public = ResourceInput::new("Bürgerhaus", "room");
    public.bookable_by = rules::PUBLIC.into();
    let public = resource_with(&s, public).await;
    rathaus_store::accounts::create_citizen(
        &s.db.conn,
        s.f.tenant,
        "Erika Muster",
        "erika@a.example",
        PASSWORD,
        true,
    )
    .await
    .expect("citizen");
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Booking)];
    let st = AppState::with_modules(s.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(s.tdb.take().unwrap(), st).await;
    let base = app.url(HOST, "");
    let anon = app.client(&[HOST]);
    let citizen = app.client(&[HOST]);
    assert_eq!(
        login(&citizen, &base, "erika@a.example", PASSWORD)
            .await
            .status(),
        303
    );

    for (method, route, who) in ROUTES {
        let path = route
            .replace("{resource_id}", &staff_only.id.to_string())
            .replace("{file}", "nichts.ics")
            .replace("{rid}", "999999")
            .replace("{user}", "999999")
            .replace(
                "{id}",
                &if route.starts_with("/belegung") {
                    public.id
                } else if route.starts_with("/buchung/{id}") {
                    staff_only.id
                } else {
                    999_999
                }
                .to_string(),
            );
        let fields = [("name", "x"), ("reason", "x"), ("title", "x")];
        // Anonymous.
        let r = if *method == "get" {
            anon.get(format!("{base}{path}")).send().await.unwrap()
        } else {
            post_form(&anon, &base, "/login", &path, &fields).await
        };
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        match who {
            Public | Token => {
                assert!(
                    [200, 304, 404].contains(&status) && !location.starts_with("/login"),
                    "anonymous {method} {path}: {status} {location}"
                );
            }
            Signed | Staff => {
                assert!(
                    status == 303 && location.starts_with("/login"),
                    "anonymous {method} {path} must go to the login: {status} {location}"
                );
            }
        }
        // A signed-in citizen without any permission.
        let r = if *method == "get" {
            citizen.get(format!("{base}{path}")).send().await.unwrap()
        } else {
            post_form(&citizen, &base, "/buchung", &path, &fields).await
        };
        let status = r.status().as_u16();
        match who {
            Staff => assert!(
                [403, 404].contains(&status),
                "a citizen {method} {path} must be refused: {status}"
            ),
            Public | Token | Signed => assert!(status < 500, "a citizen {method} {path}: {status}"),
        }
    }
}
