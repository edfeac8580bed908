//! The booking JSON API through the real app (port 0, module mounted like the binary does):
//! status codes, problem documents (also for malformed requests), tenant isolation,
//! concurrent requests, and the OpenAPI document.

use crate::common;

use common::*;
use rathaus_booking::Booking;
use rathaus_store::tokens;
use rathaus_testkit::TestApp;
use rathaus_web::{AppState, Module, WebConfig};
use reqwest::{Client, Response};
use serde_json::{Value, json};
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

struct Api {
    app: TestApp,
    c: Client,
    base: String,
    admin: String,
    booker: String,
    other: String,
    clerk: String,
    /// The admin of tenant b.
    admin_b: String,
    s: Setup,
}

async fn token(s: &Setup, who: &rathaus_core::Principal) -> String {
    tokens::create(
        &s.db.conn,
        who.tenant_id,
        who.user_id,
        rathaus_store::uow::Actor::system("test"),
        "Test",
    )
    .await
    .unwrap()
    .0
}

async fn api() -> Api {
    let mut s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Booking)];
    let st = AppState::with_modules(s.db.clone(), WebConfig::default(), modules);
    let (admin, booker, other, clerk, admin_b) = (
        token(&s, &s.admin).await,
        token(&s, &s.booker).await,
        token(&s, &s.other).await,
        token(&s, &s.clerk).await,
        token(&b, &b.admin).await,
    );
    let app = TestApp::spawn_state(s.tdb.take().unwrap(), st).await;
    Api {
        c: app.client(&[HOST, HOST_B]),
        base: app.url(HOST, "/api/v1/booking"),
        app,
        admin,
        booker,
        other,
        clerk,
        admin_b,
        s,
    }
}

impl Api {
    async fn post(&self, token: Option<&str>, path: &str, body: Value) -> Response {
        let mut r = self.c.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }
    async fn get(&self, token: Option<&str>, path: &str) -> Response {
        let mut r = self.c.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }
    async fn delete(&self, token: &str, path: &str) -> Response {
        self.c
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
    async fn resource(&self, body: Value) -> i64 {
        let r = self.post(Some(&self.admin), "/resources", body).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }
}

/// Checks an RFC 9457 problem document and returns it.
async fn problem(r: Response, status: u16) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.expect("problem is JSON");
    assert!(p["type"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
    assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
    assert_eq!(p["status"], status, "{p}");
    p
}

fn slot(resource_id: i64, from: i64, to: i64) -> Value {
    json!({
        "resource_id": resource_id,
        "start": at(from).to_rfc3339(),
        "end": at(to).to_rfc3339(),
        "title": "Training E-Jugend",
    })
}

#[tokio::test]
async fn resources_and_reservations_through_the_api() {
    let a = api().await;

    // Anonymous: 401 problem with the Bearer challenge.
    let r = a.get(None, "/resources").await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    problem(r, 401).await;
    problem(a.post(None, "/reservations", slot(1, 0, 60)).await, 401).await;

    // Resources: created by staff with booking.manage only.
    let hall = a
        .resource(json!({"name": "Dreifachhalle", "kind": "hall"}))
        .await;
    let r = a
        .post(
            Some(&a.admin),
            "/resources",
            json!({"name": "Drittel 1", "kind": "hall_part", "parent_id": hall}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/resources/2")
    );
    let part: Value = r.json().await.unwrap();
    assert_eq!(part["parent_id"], hall);
    assert_eq!(part["requires_approval"], false);
    let p = problem(
        a.post(
            Some(&a.admin),
            "/resources",
            json!({"name": "", "kind": "schwimmbad"}),
        )
        .await,
        422,
    )
    .await;
    let errs: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(errs, ["name", "kind"]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Bitte")
    );
    for t in [&a.booker, &a.clerk] {
        problem(
            a.post(Some(t), "/resources", json!({"name": "X", "kind": "room"}))
                .await,
            403,
        )
        .await;
    }
    let list: Value = a
        .get(Some(&a.booker), "/resources")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["name"], "Dreifachhalle");
    assert_eq!(list[0]["kind"], "hall");
    assert!(list[0]["id"].is_i64());

    // A reservation: 201 with its status; the same slot again: 409 naming the slot in the way.
    let r = a
        .post(
            Some(&a.booker),
            "/reservations",
            slot(part["id"].as_i64().unwrap(), 0, 90),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mine: Value = r.json().await.unwrap();
    assert_eq!(mine["status"], "confirmed");
    assert_eq!(
        mine["start"],
        at(0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let id = mine["id"].as_i64().unwrap();
    let p = problem(
        a.post(Some(&a.other), "/reservations", slot(hall, 60, 120))
            .await,
        409,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("überschneidet"),
        "{p}"
    );
    assert_eq!(p["conflicts"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["conflicts"][0]["resource_id"], part["id"]);
    assert_eq!(p["conflicts"][0]["start"], mine["start"]);
    assert_eq!(p["conflicts"][0]["end"], mine["end"]);
    assert!(p["conflicts"][0].get("title").is_none());

    // A start with another offset means the same instant: still a conflict.
    let mut shifted = slot(hall, 60, 120);
    shifted["start"] = json!(
        at(60)
            .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap())
            .to_rfc3339()
    );
    problem(a.post(Some(&a.other), "/reservations", shifted).await, 409).await;

    // Bad input: 422 naming the field; no booking.book: 403; another tenant's resource: 404.
    let p = problem(
        a.post(Some(&a.booker), "/reservations", slot(hall, 300, 240))
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "end");
    assert_eq!(p["errors"][0]["code"], "booking.err.end_before_start");
    assert_eq!(
        p["errors"][0]["message"],
        "Das Ende muss nach dem Beginn liegen."
    );
    let p = problem(
        a.post(Some(&a.booker), "/reservations", slot(hall, 300, 300))
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "booking.err.zero_length");
    problem(
        a.post(Some(&a.clerk), "/reservations", slot(hall, 300, 360))
            .await,
        403,
    )
    .await;
    let foreign = {
        let r =
            a.c.post(a.app.url(HOST_B, "/api/v1/booking/resources"))
                .bearer_auth(&a.admin_b)
                .json(&json!({"name": "Halle B", "kind": "hall"}))
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    };
    problem(
        a.post(Some(&a.booker), "/reservations", slot(foreign, 300, 360))
            .await,
        404,
    )
    .await;
    problem(
        a.get(Some(&a.admin), &format!("/resources/{foreign}"))
            .await,
        404,
    )
    .await;
    problem(
        a.get(
            Some(&a.admin),
            &format!(
                "/resources/{foreign}/availability?from={}&to={}",
                iso(0),
                iso(60)
            ),
        )
        .await,
        404,
    )
    .await;
    // A token of tenant b does not work on tenant a's host.
    problem(a.get(Some(&a.admin_b), "/resources").await, 401).await;

    // Reading and cancelling: the booker's own, or staff; someone else's is 404.
    let r = a.get(Some(&a.booker), &format!("/reservations/{id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["title"],
        "Training E-Jugend"
    );
    problem(
        a.get(Some(&a.other), &format!("/reservations/{id}")).await,
        404,
    )
    .await;
    problem(
        a.delete(&a.other, &format!("/reservations/{id}")).await,
        404,
    )
    .await;
    assert_eq!(
        a.get(Some(&a.admin), &format!("/reservations/{id}"))
            .await
            .status(),
        200
    );
    let r = a.delete(&a.booker, &format!("/reservations/{id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    // The slot is free again.
    let r = a
        .post(Some(&a.other), "/reservations", slot(hall, 60, 120))
        .await;
    assert_eq!(r.status(), 201);

    // Availability of part 1 shows the hall's booking, without title. (A user without
    // booking permissions does not see a staff-only resource at all.)
    let q = format!(
        "/resources/{}/availability?from={}&to={}",
        part["id"],
        iso(0),
        iso(600)
    );
    problem(a.get(Some(&a.clerk), &q).await, 404).await;
    let r = a
        .get(
            Some(&a.other),
            &format!(
                "/resources/{}/availability?from={}&to={}",
                part["id"],
                iso(0),
                iso(600)
            ),
        )
        .await;
    assert_eq!(r.status(), 200);
    let av: Value = r.json().await.unwrap();
    assert_eq!(av["busy"].as_array().unwrap().len(), 1, "{av}");
    assert_eq!(av["busy"][0]["resource_id"], hall);
    assert!(!av.to_string().contains("Training"));
    // Staff list every reservation, a booker only their own.
    let q = format!("/reservations?from={}&to={}", iso(-60), iso(600));
    let all: Value = a.get(Some(&a.admin), &q).await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let own: Value = a.get(Some(&a.booker), &q).await.json().await.unwrap();
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["status"], "cancelled");
}

/// An RFC 3339 instant for a query string (`+` would need escaping, `Z` does not).
fn iso(minutes: i64) -> String {
    at(minutes).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn malformed_requests_get_problem_documents() {
    let a = api().await;
    let room = a.resource(json!({"name": "Raum", "kind": "room"})).await;
    let url = format!("{}/reservations", a.base);

    // Not JSON at all.
    let r =
        a.c.post(&url)
            .bearer_auth(&a.booker)
            .header("content-type", "application/json")
            .body("{nicht json")
            .send()
            .await
            .unwrap();
    problem(r, 400).await;
    // No JSON content type.
    let r =
        a.c.post(&url)
            .bearer_auth(&a.booker)
            .body(slot(room, 0, 60).to_string())
            .send()
            .await
            .unwrap();
    problem(r, 415).await;
    // Missing field, wrong type, a time without offset: 422 with the reason.
    let mut no_title = slot(room, 0, 60);
    no_title.as_object_mut().unwrap().remove("title");
    let p = problem(
        a.post(Some(&a.booker), "/reservations", no_title).await,
        422,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("title"), "{p}");
    let mut wrong = slot(room, 0, 60);
    wrong["resource_id"] = json!("eins");
    problem(a.post(Some(&a.booker), "/reservations", wrong).await, 422).await;
    let mut local = slot(room, 0, 60);
    local["start"] = json!(at(0).format("%Y-%m-%dT%H:%M:%S").to_string());
    problem(a.post(Some(&a.booker), "/reservations", local).await, 422).await;
    // Query and path errors.
    problem(
        a.get(
            Some(&a.booker),
            &format!("/resources/{room}/availability?from=gestern"),
        )
        .await,
        400,
    )
    .await;
    problem(
        a.get(
            Some(&a.booker),
            &format!(
                "/resources/{room}/availability?from={}&to={}",
                iso(60),
                iso(0)
            ),
        )
        .await,
        422,
    )
    .await;
    problem(a.get(Some(&a.booker), "/reservations/abc").await, 400).await;
    problem(a.get(Some(&a.booker), "/reservations/999999").await, 404).await;
    assert!(
        all_reservations_via(&a).await.is_empty(),
        "nothing stored by refused requests"
    );
}

/// PostgreSQL cannot store NUL: every control character (but TAB, CR, LF) is refused before
/// any handler, with the JSON pointer of the field, on both databases.
#[tokio::test]
async fn control_characters_in_json_are_refused_with_the_field() {
    let a = api().await;
    let room = a.resource(json!({"name": "Raum", "kind": "room"})).await;
    for bad in [r"Training\u0000", r"Esc\u001b[31m", r"a\u007fb"] {
        let body = slot(room, 0, 60).to_string().replacen(
            "\"title\":\"",
            &format!("\"title\":\"{bad}"),
            1,
        );
        let r =
            a.c.post(format!("{}/reservations", a.base))
                .bearer_auth(&a.booker)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
        let p = problem(r, 422).await;
        assert_eq!(p["errors"][0]["field"], "/title", "{p}");
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Steuerzeichen"),
            "{p}"
        );
    }
    // Line breaks and tabs are text.
    let mut ok = slot(room, 0, 60);
    ok["title"] = json!("Training\n\tJugend");
    assert_eq!(
        a.post(Some(&a.booker), "/reservations", ok).await.status(),
        201
    );
    assert_eq!(all_reservations_via(&a).await.len(), 1);
    // In the query string or the path: 400, as any unreadable parameter.
    problem(
        a.get(
            Some(&a.booker),
            &format!("/resources/{room}/availability?from=%00"),
        )
        .await,
        400,
    )
    .await;
    problem(a.get(Some(&a.booker), "/reservations/1%0E").await, 400).await;
}

async fn all_reservations_via(a: &Api) -> Vec<Value> {
    let q = format!("/reservations?from={}&to={}", iso(-60), iso(24 * 60));
    a.get(Some(&a.admin), &q).await.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_parallel_api_requests_for_one_slot_book_it_once() {
    let a = api().await;
    let hall = a.resource(json!({"name": "Halle", "kind": "hall"})).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (c, url) = (a.c.clone(), format!("{}/reservations", a.base));
        let token = if i % 2 == 0 {
            a.booker.clone()
        } else {
            a.other.clone()
        };
        tasks.spawn(async move {
            c.post(url)
                .bearer_auth(token)
                .json(&slot(hall, 0, 60))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let mut codes = vec![];
    while let Some(c) = tasks.join_next().await {
        codes.push(c.unwrap());
    }
    codes.sort();
    let mut want = vec![201];
    want.extend([409; 49]);
    assert_eq!(codes, want);
    assert_eq!(all_reservations_via(&a).await.len(), 1);
}

#[tokio::test]
async fn the_openapi_document_lists_the_booking_api() {
    let a = api().await;
    let doc: Value =
        a.c.get(a.app.url(HOST, "/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/api/v1/booking/resources", &["get", "post"][..]),
        ("/api/v1/booking/resources/{id}", &["get"]),
        ("/api/v1/booking/resources/{id}/availability", &["get"]),
        ("/api/v1/booking/reservations", &["get", "post"]),
        ("/api/v1/booking/reservations/{id}", &["get", "delete"]),
    ] {
        for m in methods {
            assert!(paths[path].get(*m).is_some(), "{m} {path} missing");
        }
    }
    let post = &paths["/api/v1/booking/reservations"]["post"];
    assert!(post["responses"].get("409").is_some());
    assert!(post["requestBody"].is_object());
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["ConflictProblem"]["properties"]
            .get("conflicts")
            .is_some()
    );
    let params: Vec<&str> =
        paths["/api/v1/booking/resources/{id}/availability"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
    assert_eq!(params, ["id", "from", "to"]);
}

#[tokio::test]
async fn every_booking_route_needs_a_token() {
    let a = api().await;
    let q = format!("?from={}&to={}", iso(0), iso(60));
    for (method, path) in [
        ("GET", "/resources".to_string()),
        ("POST", "/resources".to_string()),
        ("GET", "/resources/1".to_string()),
        ("GET", format!("/resources/1/availability{q}")),
        ("GET", format!("/reservations{q}")),
        ("POST", "/reservations".to_string()),
        ("GET", "/reservations/1".to_string()),
        ("DELETE", "/reservations/1".to_string()),
    ] {
        let r =
            a.c.request(method.parse().unwrap(), format!("{}{path}", a.base))
                .header("authorization", "Bearer rh_ungueltig")
                .json(&slot(1, 0, 60))
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        problem(r, 401).await;
    }
}

#[tokio::test]
async fn requests_are_approved_and_rejected_through_the_api() {
    let a = api().await;
    let room = a
        .resource(json!({"name": "Sitzungssaal", "kind": "room", "requires_approval": true}))
        .await;
    let mut ids = vec![];
    for from in [0, 120] {
        let r = a
            .post(
                Some(&a.booker),
                "/reservations",
                slot(room, from, from + 60),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "requested");
        ids.push(v["id"].as_i64().unwrap());
    }
    let (first, second) = (ids[0], ids[1]);
    let approve = |id: i64| format!("/reservations/{id}/approve");
    let reject = |id: i64| format!("/reservations/{id}/reject");
    let why = json!({"reason": "Raum wird renoviert"});

    // Anonymous 401, bookers and clerks 403, another tenant 404, bad ids 400.
    problem(a.post(None, &approve(first), json!({})).await, 401).await;
    problem(a.post(None, &reject(first), why.clone()).await, 401).await;
    for t in [&a.booker, &a.clerk] {
        problem(a.post(Some(t), &approve(first), json!({})).await, 403).await;
        problem(a.post(Some(t), &reject(first), why.clone()).await, 403).await;
    }
    let base_b = a.app.url(HOST_B, "/api/v1/booking");
    for path in [approve(first), reject(first)] {
        let r =
            a.c.post(format!("{base_b}{path}"))
                .bearer_auth(&a.admin_b)
                .json(&why)
                .send()
                .await
                .unwrap();
        problem(r, 404).await;
    }
    problem(
        a.post(Some(&a.admin), "/reservations/x/approve", json!({}))
            .await,
        400,
    )
    .await;

    // Rejection without a reason: 422 naming the field, nothing changed.
    let p = problem(
        a.post(Some(&a.admin), &reject(second), json!({"reason": " "}))
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason", "{p}");
    let r =
        a.c.post(format!("{}{}", a.base, reject(second)))
            .bearer_auth(&a.admin)
            .body("reason=x")
            .send()
            .await
            .unwrap();
    problem(r, 415).await;
    let v: Value = a
        .get(Some(&a.admin), &format!("/reservations/{second}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "requested");

    // Approve and reject; a second decision is 409.
    let r = a.post(Some(&a.admin), &approve(first), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "confirmed");
    let r = a.post(Some(&a.admin), &reject(second), why.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "rejected");
    problem(
        a.post(Some(&a.admin), &approve(first), json!({})).await,
        409,
    )
    .await;
    problem(
        a.post(Some(&a.admin), &reject(second), why.clone()).await,
        409,
    )
    .await;

    // A request overlapping the confirmed booking: 409 with the slot in the way.
    let late = insert_request(&a.s, &a.s.other, room, 30, 90).await;
    let p = problem(
        a.post(Some(&a.admin), &approve(late.id), json!({})).await,
        409,
    )
    .await;
    assert_eq!(p["conflicts"].as_array().map(Vec::len), Some(1), "{p}");

    // The OpenAPI document lists both operations with their statuses.
    let doc: Value =
        a.c.get(a.app.url(HOST, "/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    for (path, codes) in [
        (
            "/api/v1/booking/reservations/{id}/approve",
            &["200", "400", "401", "403", "404", "409"][..],
        ),
        (
            "/api/v1/booking/reservations/{id}/reject",
            &["200", "400", "401", "403", "404", "409", "415", "422"][..],
        ),
    ] {
        let op = &doc["paths"][path]["post"];
        for c in codes {
            assert!(op["responses"][c].is_object(), "{path} {c}");
        }
    }
}

/// Reservation rows in the database, any tenant and status.
async fn stored(a: &Api) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    rathaus_booking::store::entity::reservation::Entity::find()
        .count(&a.s.db.conn)
        .await
        .unwrap()
}

/// Next year's first Tuesday of September at `hh:mm` Europe/Berlin, RFC 3339 with offset.
fn next_season(hh: u32, mm: u32, plus_days: i64) -> String {
    use chrono::{Datelike, Duration, NaiveDate, TimeZone, Weekday};
    let mut d = NaiveDate::from_ymd_opt(chrono::Utc::now().year() + 1, 9, 1).unwrap();
    while d.weekday() != Weekday::Tue {
        d += Duration::days(1);
    }
    let local = (d + Duration::days(plus_days))
        .and_hms_opt(hh, mm, 0)
        .unwrap();
    chrono_tz::Europe::Berlin
        .from_local_datetime(&local)
        .unwrap()
        .to_rfc3339()
}

fn series_body(resource_id: i64, rrule: &str) -> Value {
    json!({
        "resource_id": resource_id,
        "start": next_season(18, 0, 0),
        "end": next_season(20, 0, 0),
        "title": "Training Volleyball",
        "rrule": rrule,
    })
}

#[tokio::test]
async fn recurring_series_through_the_api() {
    let a = api().await;
    let hall = a
        .resource(json!({"name": "Halle West", "kind": "hall", "horizon_days": 3650}))
        .await;

    // Anonymous: 401; a user without permission on a staff-only hall: refused.
    let r = a
        .post(
            None,
            "/reservations",
            series_body(hall, "FREQ=WEEKLY;COUNT=3"),
        )
        .await;
    problem(r, 401).await;
    let r = a
        .post(
            Some(&a.clerk),
            "/reservations",
            series_body(hall, "FREQ=WEEKLY;COUNT=3"),
        )
        .await;
    let status = r.status().as_u16();
    assert!(status == 403 || status == 404, "{status}");
    problem(r, status).await;

    // 422 with the field named: malformed, endless, too many, bad exception.
    for (rule, key) in [
        (
            "FREQ=WEEKLY;BYDAY=DI;COUNT=3",
            "booking.series.err.rrule_invalid",
        ),
        ("FREQ=WEEKLY", "booking.series.err.rrule_no_end"),
        ("FREQ=DAILY;COUNT=5000", "booking.series.err.too_many"),
    ] {
        let r = a
            .post(Some(&a.booker), "/reservations", series_body(hall, rule))
            .await;
        let p = problem(r, 422).await;
        assert_eq!(p["errors"][0]["field"], "rrule", "{p}");
        assert_eq!(p["errors"][0]["code"], key, "{p}");
        assert!(!p["errors"][0]["message"].as_str().unwrap().is_empty());
    }
    let mut body = series_body(hall, "FREQ=WEEKLY;COUNT=3");
    body["exdates"] = json!(["morgen"]);
    let p = problem(a.post(Some(&a.booker), "/reservations", body).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "exdates", "{p}");
    assert_eq!(stored(&a).await, 0);

    // 201: the first occurrence, the series id and the number of occurrences.
    let mut body = series_body(hall, "FREQ=WEEKLY;BYDAY=TU;COUNT=6");
    body["exdates"] = json!([next_season(0, 0, 7)[..10].to_string()]);
    let r = a.post(Some(&a.booker), "/reservations", body).await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["occurrences"], 5, "{first}");
    assert_eq!(first["status"], "confirmed");
    let series_id = first["series_id"].as_i64().expect("series_id");
    assert_eq!(
        first["start"],
        next_season(18, 0, 0)
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // GET shows the series fields.
    let id = first["id"].as_i64().unwrap();
    let got: Value = a
        .get(Some(&a.booker), &format!("/reservations/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["series_id"], series_id);
    assert_eq!(got["sequence"], 0);
    assert_eq!(got["fee_cents"], 0);
    assert!(got["organisation_id"].is_null() && got["decision_reason"].is_null());
    assert!(got.get("occurrences").is_none(), "{got}");

    // 409: another series over two of those Tuesdays lists both slots in the way.
    let mut body = series_body(hall, "FREQ=WEEKLY;INTERVAL=2;COUNT=2");
    body["start"] = json!(next_season(19, 0, 14));
    body["end"] = json!(next_season(21, 0, 14));
    let r = a.post(Some(&a.other), "/reservations", body).await;
    let p = problem(r, 409).await;
    assert_eq!(p["conflicts"].as_array().unwrap().len(), 2, "{p}");
    assert_eq!(stored(&a).await, 5);
}

#[tokio::test]
async fn ical_url_is_the_public_feed_for_public_resources() {
    let a = api().await;
    let body = json!({"name": "Bürgerhaus", "kind": "room", "bookable_by": "public",
        "address": "Lindenallee 3"});
    let r = a.post(Some(&a.admin), "/resources", body).await;
    assert_eq!(r.status(), 201);
    let public: Value = r.json().await.unwrap();
    assert_eq!(public["bookable_by"], "public");
    assert_eq!(public["address"], "Lindenallee 3");
    let id = public["id"].as_i64().unwrap();
    let r = a
        .post(
            Some(&a.admin),
            "/resources",
            json!({"name": "Ratssaal", "kind": "room"}),
        )
        .await;
    let staff: Value = r.json().await.unwrap();
    let sid = staff["id"].as_i64().unwrap();
    // Everyone gets the public feed of the public room; only managers the token feed of the
    // staff-only room.
    for (who, sees_staff_feed) in [(&a.admin, true), (&a.booker, false)] {
        let list: Value = a.get(Some(who), "/resources").await.json().await.unwrap();
        let of = |rid: i64| {
            list.as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == rid)
                .cloned()
                .unwrap()
        };
        let url = of(id)["ical_url"].as_str().unwrap().to_string();
        assert!(
            url.ends_with(&format!("/belegung/{id}/kalender.ics")),
            "{url}"
        );
        let feed = a.c.get(&url).send().await.unwrap();
        assert_eq!(feed.status(), 200);
        assert!(feed.text().await.unwrap().contains("BEGIN:VCALENDAR"));
        assert_eq!(of(sid)["ical_url"].is_string(), sees_staff_feed);
    }
    // Bad values are refused with a problem document naming the field.
    let r = a
        .post(
            Some(&a.admin),
            "/resources",
            json!({"name": "X", "kind": "room", "bookable_by": "everyone"}),
        )
        .await;
    let p = problem(r, 422).await;
    assert!(p.to_string().contains("bookable_by"), "{p}");
}

/// The API books equipment together with its room, as the pages do: the same time, all or
/// nothing; equipment of another room, too many items, or equipment with a series are 422;
/// equipment already taken makes the whole request a 409 and books nothing.
#[tokio::test]
async fn equipment_is_booked_along_with_a_room_through_the_api() {
    let a = api().await;
    let room = resource(&a.s, "Ratssaal", "room", None).await;
    let other = resource(&a.s, "Trauzimmer", "room", None).await;
    let mut inp = rathaus_booking::service::ResourceInput::new("Beamer", "equipment");
    inp.room_id = Some(room.id);
    let beamer = resource_with(&a.s, inp).await;
    let mut inp = rathaus_booking::service::ResourceInput::new("Mikrofon Trauzimmer", "equipment");
    inp.room_id = Some(other.id);
    let foreign = resource_with(&a.s, inp).await;

    let mut body = slot(room.id, 60, 120);
    body["equipment"] = json!([beamer.id]);
    let r = a.post(Some(&a.booker), "/reservations", body).await;
    assert_eq!(r.status(), 201);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["resource_id"], room.id);
    assert_eq!(out["equipment"][0]["resource_id"], beamer.id);
    let eq_id = out["equipment"][0]["id"].as_i64().unwrap();
    let r = a
        .get(Some(&a.booker), &format!("/reservations/{eq_id}"))
        .await;
    assert_eq!(r.status(), 200);
    let eq: Value = r.json().await.unwrap();
    assert_eq!(eq["start"], out["start"]);
    assert_eq!(eq["end"], out["end"]);

    // Equipment of another room.
    let mut body = slot(room.id, 200, 260);
    body["equipment"] = json!([foreign.id]);
    let p = problem(a.post(Some(&a.booker), "/reservations", body).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "equipment", "{p}");
    // Too many items.
    let mut body = slot(room.id, 200, 260);
    body["equipment"] = json!((0..21).collect::<Vec<i64>>());
    let p = problem(a.post(Some(&a.booker), "/reservations", body).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "equipment", "{p}");
    // With a series.
    let mut body = slot(room.id, 200, 260);
    body["equipment"] = json!([beamer.id]);
    body["rrule"] = json!("FREQ=WEEKLY;COUNT=3");
    let p = problem(a.post(Some(&a.booker), "/reservations", body).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "equipment", "{p}");

    // The beamer is taken at 60–120: the room at that time in another request with it is
    // refused as a whole, so the free room stays free.
    let free_room = resource(&a.s, "Sitzungszimmer", "room", None).await;
    // Equipment of no room goes with any room.
    let shared = resource_with(
        &a.s,
        rathaus_booking::service::ResourceInput::new("Beamer 2", "equipment"),
    )
    .await;
    let mut body = slot(room.id, 300, 360);
    body["equipment"] = json!([shared.id]);
    assert_eq!(
        a.post(Some(&a.booker), "/reservations", body)
            .await
            .status(),
        201
    );
    let mut body = slot(free_room.id, 300, 360);
    body["equipment"] = json!([shared.id]);
    problem(a.post(Some(&a.booker), "/reservations", body).await, 409).await;
    let r = a
        .post(
            Some(&a.booker),
            "/reservations",
            slot(free_room.id, 300, 360),
        )
        .await;
    assert_eq!(
        r.status(),
        201,
        "the room was left booked by the refused request"
    );
}
