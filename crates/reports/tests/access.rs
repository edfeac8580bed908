//! Who may use each route of the Mängelmelder's route table: anonymous visitors are sent to
//! the login from the staff and settings pages and not from the public ones; a signed-in clerk
//! without permissions is refused every staff and settings route (403 or 404), a handler the
//! settings, a manager the staff pages; nothing answers with a server error. The routes come
//! from `Module::routes()`, so a new route is checked as soon as it is in the table (the
//! generic test over every module is crates/rathaus/tests/access.rs).

use crate::common;

use common::*;
use rathaus_reports::Reports;
use rathaus_reports::service;
use rathaus_testkit::post_form;
use rathaus_web::WebConfig;
use rathaus_web::{Access, Module};

const HOST: &str = "rathaus.a.test";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    /// Anyone: the citizens' form and views, feeds, map tiles, the Open311 reads.
    Public,
    /// Anyone holding a secret the handler checks (status page, follower links, api_key).
    Secret,
    /// Staff with `reports.handle` or `reports.moderate` (some need one of them).
    Staff,
    /// Staff with `reports.manage`.
    Manage,
}

use Who::*;

/// (method, path, who) from the module's route table.
fn routes() -> Vec<(String, String, Who)> {
    let table = Reports::new().routes();
    table
        .table()
        .iter()
        .map(|r| {
            let who = match r.access {
                Access::Public => Public,
                Access::Secret => Secret,
                Access::AnyOf(perms) if perms.contains(&service::MANAGE) => Manage,
                Access::AnyOf(_) => Staff,
                Access::SignedIn => panic!("no route of the module is for every signed-in user"),
            };
            (r.method.as_str().to_ascii_lowercase(), r.path.clone(), who)
        })
        .collect()
}

#[test]
fn the_table_lists_every_area() {
    let routes = routes();
    assert!(routes.len() > 40, "{routes:?}");
    for (who, path) in [
        (Public, "/maengel/melden"),
        (Secret, "/maengel/status/{token}"),
        (Secret, "/open311/v2/{file}"),
        (Staff, "/maengel/verwaltung"),
        (Manage, "/maengel/einstellungen"),
    ] {
        assert!(
            routes.iter().any(|(_, p, w)| p == path && *w == who),
            "{path} as {who:?}"
        );
    }
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

    for (method, route, who) in routes() {
        let (method, who) = (method.as_str(), who);
        let path = path_of(&route, r.id, &r.reference);
        // Anonymous.
        let (status, location) = send(&anon, &base, method, &path, "/login").await;
        match who {
            Public | Secret => assert!(
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
            Public | Secret => assert!(status < 500, "a clerk {method} {path}: {status}"),
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
