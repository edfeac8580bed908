//! The resources' calendar feeds (RFC 5545) through the real app, on the configured backend:
//! what a feed holds (and what it must not), its secret token (wrong token, other tenant,
//! rotation), `ical_url` in the API, and a check by an outside parser, the Python package
//! `icalendar` (from RATHAUS_TEST_PYTHON, else target/test-venv/bin/python, which
//! scripts/test sets up).

mod common;

use chrono::{DateTime, Duration, DurationRound, Utc};
use common::*;
use rathaus_booking::entity::reservation;
use rathaus_booking::service::{self, CONFIRMED, REQUESTED, ResourceInput};
use rathaus_booking::{Booking, ical};
use rathaus_core::Error;
use rathaus_store::audit::{self, AuditFilter};
use rathaus_store::tokens;
use rathaus_testkit::TestApp;
use rathaus_web::{AppState, Module, WebConfig};
use reqwest::Client;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";
const ICALENDAR_VERSION: &str = "7.3.2";

struct App {
    s: Setup,
    b: Setup,
    app: TestApp,
    c: Client,
}

async fn app(cfg: WebConfig) -> App {
    let mut s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Booking)];
    let st = AppState::with_modules(s.db.clone(), cfg, modules);
    let app = TestApp::spawn_state(s.tdb.take().unwrap(), st).await;
    App {
        c: app.client(&[HOST, HOST_B]),
        s,
        b,
        app,
    }
}

impl App {
    async fn get(&self, host: &str, path: &str) -> reqwest::Response {
        self.c.get(self.app.url(host, path)).send().await.unwrap()
    }
}

/// A reservation written straight into the table: the service refuses slots in the past,
/// and the feed reaches 30 days back.
async fn insert(
    s: &Setup,
    resource_id: i64,
    title: &str,
    start: DateTime<Utc>,
    status: &str,
) -> reservation::Model {
    reservation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(resource_id),
        title: Set(title.into()),
        starts_at: Set(start),
        ends_at: Set(start + Duration::hours(2)),
        status: Set(status.into()),
        booked_by: Set(Some(s.booker.user_id.0)),
        created_at: Set(Utc::now().duration_trunc(Duration::seconds(1)).unwrap()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap()
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn unfold(s: &str) -> String {
    s.replace("\r\n ", "")
}

const TITLE: &str = "Training U12, Gruppe A; Halle\\Nord – Übungsleitung bringt Bälle mit, \
                     Umkleide 3 (danach Elternabend im Besprechungsraum)";

#[tokio::test]
async fn a_feed_lists_the_active_reservations_by_title_only() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let mut inp = ResourceInput::new("Sporthalle Nord, Teil A; \"Jugend\"", "hall");
    inp.max_minutes = 600;
    let hall = resource_with(s, inp).await;
    let room = resource(s, "Sitzungssaal", "room", None).await;

    let mut booked = service::reserve(
        &s.db.conn,
        &s.booker,
        service::ReservationInput {
            title: TITLE.into(),
            ..input(hall.id, 0, 120)
        },
    )
    .await
    .unwrap();
    let cancelled = book(s, &s.booker, hall.id, 180, 240).await.unwrap();
    service::cancel(&s.db.conn, &s.booker, cancelled.id)
        .await
        .unwrap();
    book(s, &s.booker, room.id, 0, 60).await.unwrap();
    let now = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let requested = insert(
        s,
        hall.id,
        "Anfrage Turnverein",
        now - Duration::days(10),
        REQUESTED,
    )
    .await;
    insert(s, hall.id, "Zu alt", now - Duration::days(40), CONFIRMED).await;
    insert(s, hall.id, "Zu weit", now + Duration::days(400), CONFIRMED).await;
    insert(
        s,
        hall.id,
        "Abgelehnt",
        now + Duration::days(5),
        service::REJECTED,
    )
    .await;
    // Stored times are whole minutes; the created_at of `booked` has sub-seconds.
    booked.created_at = booked
        .created_at
        .duration_trunc(Duration::seconds(1))
        .unwrap();

    let r = a.get(HOST, &ical::feed_path(&hall)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    let body = r.text().await.unwrap();

    // Every line ends with CRLF and has at most 75 octets; the long title was folded.
    assert!(body.ends_with("END:VCALENDAR\r\n"), "{body}");
    let lines: Vec<&str> = body.trim_end_matches("\r\n").split("\r\n").collect();
    assert!(lines.iter().all(|l| !l.contains('\n') && !l.contains('\r')));
    assert!(lines.iter().all(|l| l.len() <= 75), "{body}");
    assert!(
        lines.iter().any(|l| l.starts_with(' ')),
        "nothing folded: {body}"
    );

    let text = unfold(&body);
    let host = "rathaus.a.test";
    for want in [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rathaus//Ressourcenbuchung//DE\r\n",
        "NAME:Sporthalle Nord\\, Teil A\\; \"Jugend\"\r\nX-WR-CALNAME:Sporthalle Nord\\, Teil A\\; \"Jugend\"\r\n",
        &format!("UID:reservation-{}@{host}\r\n", booked.id),
        &format!("DTSTAMP:{}\r\n", utc(booked.created_at)),
        &format!("DTSTART:{}\r\n", utc(booked.starts_at)),
        &format!("DTEND:{}\r\n", utc(booked.ends_at)),
        "SUMMARY:Training U12\\, Gruppe A\\; Halle\\\\Nord – Übungsleitung bringt Bälle mit\\, \
         Umkleide 3 (danach Elternabend im Besprechungsraum)\r\n",
        &format!("UID:reservation-{}@{host}\r\n", requested.id),
        "STATUS:CONFIRMED\r\n",
        "STATUS:TENTATIVE\r\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert_eq!(text.matches("BEGIN:VEVENT\r\n").count(), 2, "{text}");
    assert_eq!(text.matches("END:VEVENT\r\n").count(), 2, "{text}");
    // The requested one (10 days back) comes first.
    assert!(text.find("Anfrage Turnverein") < text.find("Training U12"));
    for absent in [
        "Zu alt",
        "Zu weit",
        "Abgelehnt",
        &format!("reservation-{}@", cancelled.id),
        // Nothing about the booker.
        "Vera Verein",
        "verein@a.example",
        "ORGANIZER",
        "ATTENDEE",
    ] {
        assert!(!text.contains(absent), "{absent:?} in\n{text}");
    }

    // The outside parser reads the same.
    let parsed = parse_with_python(&body);
    assert_eq!(
        parsed["name"], "Sporthalle Nord, Teil A; \"Jugend\"",
        "{parsed}"
    );
    let events = parsed["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{parsed}");
    let uids: Vec<&str> = events.iter().map(|e| e["uid"].as_str().unwrap()).collect();
    assert_eq!(
        uids,
        [
            format!("reservation-{}@{host}", requested.id),
            format!("reservation-{}@{host}", booked.id)
        ]
    );
    let starts: Vec<&str> = events
        .iter()
        .map(|e| e["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            requested.starts_at.to_rfc3339(),
            booked.starts_at.to_rfc3339()
        ]
    );
    assert_eq!(events[1]["end"], booked.ends_at.to_rfc3339());
    assert_eq!(events[1]["summary"], TITLE);
    assert_eq!(events[0]["status"], "TENTATIVE");
    assert_eq!(events[1]["status"], "CONFIRMED");

    // An empty feed is still a calendar.
    let empty = resource(s, "Beamer", "equipment", None).await;
    let body = a
        .get(HOST, &ical::feed_path(&empty))
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains("BEGIN:VEVENT"));
    assert_eq!(parse_with_python(&body)["events"], Value::Array(vec![]));
}

#[tokio::test]
async fn a_wrong_token_or_another_tenant_gets_404_and_rotation_retires_the_old_url() {
    let a = app(WebConfig::default()).await;
    let (s, b) = (&a.s, &a.b);
    let hall = resource(s, "Sporthalle", "hall", None).await;
    let hall_b = resource(b, "Halle B", "hall", None).await;
    book(s, &s.booker, hall.id, 0, 60).await.unwrap();
    let good = ical::feed_path(&hall);
    assert_eq!(a.get(HOST, &good).await.status(), 200);

    let mut other_token = hall.clone();
    other_token.feed_token = hall_b.feed_token.clone();
    let mut short = hall.clone();
    short.feed_token.pop();
    for (host, path) in [
        (HOST, ical::feed_path(&other_token)),
        (HOST, ical::feed_path(&short)),
        (
            HOST,
            format!("/buchung/kalender/{}/{}", hall.id, hall.feed_token),
        ),
        (HOST, format!("/buchung/kalender/{}/.ics", hall.id)),
        (
            HOST,
            format!("/buchung/kalender/x{}/{}.ics", hall.id, hall.feed_token),
        ),
        (
            HOST,
            format!("/buchung/kalender/{}/{}.ics", hall_b.id, hall.feed_token),
        ),
        // The right URL, asked of the other tenant's host.
        (HOST_B, good.clone()),
        // Tenant b's own feed on tenant a's host.
        (HOST, ical::feed_path(&hall_b)),
    ] {
        let r = a.get(host, &path).await;
        assert_eq!(r.status(), 404, "{host}{path}");
        assert!(!r.text().await.unwrap().contains("VCALENDAR"));
    }
    assert_eq!(a.get(HOST_B, &ical::feed_path(&hall_b)).await.status(), 200);

    // Rotation: staff only, recorded without the token; the old URL is gone at once.
    for who in [&s.booker, &s.clerk] {
        let e = service::rotate_feed_token(&s.db.conn, who, hall.id)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
    }
    let e = service::rotate_feed_token(&s.db.conn, &s.admin, hall_b.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound), "{e:?}");
    let rotated = service::rotate_feed_token(&s.db.conn, &s.admin, hall.id)
        .await
        .unwrap();
    assert_ne!(rotated.feed_token, hall.feed_token);
    assert_eq!(rotated.feed_token.len(), 32);
    assert_eq!(a.get(HOST, &good).await.status(), 404);
    let r = a.get(HOST, &ical::feed_path(&rotated)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap().matches("BEGIN:VEVENT").count(), 1);
    let events = audit::list(&s.db.conn, &s.admin, &AuditFilter::default())
        .await
        .unwrap();
    let ev = events
        .iter()
        .find(|e| e.action == "booking.resource.feed_token_rotated")
        .expect("audit event");
    assert_eq!(ev.object_id, Some(hall.id.to_string()));
    let details = &ev.details;
    assert!(!details.contains(&hall.feed_token) && !details.contains(&rotated.feed_token));
    // Every resource has its own token.
    assert_ne!(hall.feed_token, hall_b.feed_token);
}

async fn api_token(s: &Setup, who: &rathaus_core::Principal) -> String {
    tokens::create(&s.db.conn, who.tenant_id, who.user_id, None, "Test")
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn the_api_gives_staff_the_feed_url() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let hall = resource(s, "Sporthalle", "hall", None).await;
    let (admin, booker) = (api_token(s, &s.admin).await, api_token(s, &s.booker).await);
    let get =
        |token: String, path: String| a.c.get(a.app.url(HOST, &path)).bearer_auth(token).send();
    let want = a.app.url(HOST, &ical::feed_path(&hall));
    let list: Value = get(admin.clone(), "/api/v1/booking/resources".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["ical_url"], want, "{list}");
    let one: Value = get(
        admin.clone(),
        format!("/api/v1/booking/resources/{}", hall.id),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(one["ical_url"], want, "{one}");
    // The URL works without a session or token.
    let r = Client::builder()
        .resolve(HOST, a.app.addr)
        .build()
        .unwrap()
        .get(&want)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("BEGIN:VCALENDAR\r\n"));
    // Created through the API: the answer carries it too.
    let created: Value =
        a.c.post(a.app.url(HOST, "/api/v1/booking/resources"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"name": "Raum 2", "kind": "room"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let url = created["ical_url"].as_str().unwrap();
    assert!(
        url.starts_with(
            &a.app
                .url(HOST, &format!("/buchung/kalender/{}/", created["id"]))
        ),
        "{created}"
    );
    // A booker sees the resource, not the titles of everyone's reservations.
    let list: Value = get(booker.clone(), "/api/v1/booking/resources".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list[0].get("ical_url").is_some_and(Value::is_null),
        "{list}"
    );
    let one: Value = get(booker, format!("/api/v1/booking/resources/{}", hall.id))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(one["ical_url"].is_null(), "{one}");

    let doc: Value = a.get(HOST, "/api/openapi.json").await.json().await.unwrap();
    let prop = &doc["components"]["schemas"]["ResourceOut"]["properties"]["ical_url"];
    assert!(
        prop.is_object(),
        "{}",
        doc["components"]["schemas"]["ResourceOut"]
    );
}

#[tokio::test]
async fn the_feed_url_follows_public_url_when_configured() {
    let a = app(WebConfig {
        public_url: Some("https://buchung.example.org/".into()),
        ..WebConfig::default()
    })
    .await;
    let s = &a.s;
    let hall = resource(s, "Sporthalle", "hall", None).await;
    book(s, &s.booker, hall.id, 0, 60).await.unwrap();
    let admin = api_token(s, &s.admin).await;
    let list: Value =
        a.c.get(a.app.url(HOST, "/api/v1/booking/resources"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        list[0]["ical_url"],
        format!(
            "https://buchung.example.org/buchung/kalender/{}/{}.ics",
            hall.id, hall.feed_token
        )
    );
    let body = a
        .get(HOST, &ical::feed_path(&hall))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("@buchung.example.org\r\n"), "{body}");
}

// ---------------------------------------------------------------- outside parser

fn python() -> PathBuf {
    match std::env::var_os("RATHAUS_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv/bin/python"),
    }
}

const PARSE: &str = r#"
import json, re, sys
from icalendar import Calendar
with open(sys.argv[1], "rb") as f:
    cal = Calendar.from_ical(f.read())
errors = [e for c in cal.walk() for e in c.errors]
if errors:
    sys.exit("parse errors: %r" % errors)
# The parser leaves X- properties undecoded: unescape the TEXT value (RFC 5545 3.3.11).
raw = cal["X-WR-CALNAME"].to_ical().decode()
name = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), raw)
out = {"name": name, "events": []}
for ev in cal.walk("VEVENT"):
    out["events"].append({
        "uid": str(ev["UID"]),
        "start": ev.decoded("DTSTART").isoformat(),
        "end": ev.decoded("DTEND").isoformat(),
        "summary": str(ev["SUMMARY"]),
        "status": str(ev["STATUS"]),
    })
print(json.dumps(out))
"#;

/// Parses a feed with the Python package `icalendar`; panics with a clear message if the
/// package is missing.
fn parse_with_python(body: &str) -> Value {
    let py = python();
    let probe = Command::new(&py)
        .args(["-c", "import icalendar; print(icalendar.__version__)"])
        .stderr(Stdio::null())
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        panic!(
            "the Python package icalendar is not available to `{}`. Run the tests with \
             scripts/test (it creates target/test-venv with icalendar {ICALENDAR_VERSION} and \
             sets RATHAUS_TEST_PYTHON), or set RATHAUS_TEST_PYTHON to a Python that has \
             icalendar=={ICALENDAR_VERSION}.",
            py.display()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, body).unwrap();
    let out = Command::new(&py)
        .args(["-c", PARSE])
        .arg(&file)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "icalendar refused the feed: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the parser")
}

// ---------------------------------------------------------------- migration

#[tokio::test]
async fn resources_from_before_the_feeds_get_their_own_token() {
    use rathaus_booking::migrations::Migrator;
    use rathaus_booking::service::Resource;
    use sea_orm::{ConnectionTrait, EntityTrait};
    use sea_orm_migration::MigratorTrait;
    use sea_orm_migration::prelude::{Expr, Query};

    let tdb = rathaus_testkit::TestDb::new().await;
    let f = rathaus_testkit::tenant_fixture(&tdb.db, "a", HOST).await;
    let conn = &tdb.db.conn;
    Migrator::up(conn, Some(1)).await.unwrap();
    for name in ["Alte Halle", "Alter Raum"] {
        conn.execute(
            &Query::insert()
                .into_table("booking_resources")
                .columns(["tenant_id", "name", "kind", "created_at"])
                .values_panic([
                    f.tenant.0.into(),
                    name.into(),
                    "room".into(),
                    Expr::current_timestamp(),
                ])
                .take(),
        )
        .await
        .unwrap();
    }
    Migrator::up(conn, None).await.unwrap();
    let all: Vec<Resource> = rathaus_booking::entity::resource::Entity::find()
        .all(conn)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.feed_token.len() == 32), "{all:?}");
    assert_ne!(all[0].feed_token, all[1].feed_token);
}
