//! The calendar feeds (RFC 5545) through the real app, on the configured backend: the staff
//! feed of a resource, the public occupancy feed, the personal and the organisation feeds;
//! what each holds (and what it must not), tokens (wrong, retired, other tenant), ETag/304,
//! the feed page, a weekly series across both clock changes with EXDATE, a moved and a
//! cancelled occurrence, and the speed of a busy year. Every feed is checked by outside
//! parsers, the Python packages `icalendar` and `recurring-ical-events` (from
//! RATHAUS_TEST_PYTHON, else target/test-venv/bin/python, which scripts/test sets up).

use crate::common;

use chrono::{
    DateTime, Datelike, Duration, DurationRound, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Europe::Berlin;
use common::*;
use rathaus_booking::domain::{OrganisationId, ReservationId, ResourceId};
use rathaus_booking::service::feeds as ical;
use rathaus_booking::service::{self, CANCELLED, CONFIRMED, REJECTED, REQUESTED, ResourceInput};
use rathaus_booking::store::entity::{
    org_member, organisation, reservation, resource as resource_entity, series,
};
use rathaus_core::{Error, Principal};
use rathaus_store::audit::{self, AuditFilter};
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, login};
use rathaus_web::WebConfig;
use reqwest::Client;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";
const ICALENDAR_VERSION: &str = "7.3.2";
const RECURRING_VERSION: &str = "3.8.2";

struct App {
    s: Setup,
    b: Setup,
    app: TestApp,
    c: Client,
}

async fn app(cfg: WebConfig) -> App {
    let mut s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let app = spawn_app(&mut s, cfg).await;
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

fn unfold(s: &str) -> String {
    s.replace("\r\n ", "")
}

const TITLE: &str = "Training U12, Gruppe A; Halle\\Nord – Übungsleitung bringt Bälle mit, \
                     Umkleide 3 (danach Elternabend im Besprechungsraum)";

/// Makes a resource bookable by the public (the service's input has no such field yet).
async fn make_public(s: &Setup, r: &service::Resource) -> service::Resource {
    let mut am: resource_entity::ActiveModel = r.clone().into();
    am.bookable_by = Set("public".into());
    am.update(&s.db.conn).await.unwrap()
}

async fn organisation(s: &Setup, name: &str, public_name: bool) -> organisation::Model {
    organisation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        name: Set(name.into()),
        kind: Set("club".into()),
        contact_email: Set(String::new()),
        public_name: Set(public_name),
        feed_token: Set(rathaus_store::random_token(24)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap()
}

async fn member(s: &Setup, org: i64, who: &Principal) {
    org_member::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        organisation_id: Set(org),
        user_id: Set(who.user_id.0),
        created_at: Set(Utc::now()),
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
}

async fn with_org(s: &Setup, r: reservation::Model, org: i64) -> reservation::Model {
    let mut am: reservation::ActiveModel = r.into();
    am.organisation_id = Set(Some(org));
    am.update(&s.db.conn).await.unwrap()
}

fn lines_ok(body: &str) {
    assert!(body.ends_with("END:VCALENDAR\r\n"), "{body}");
    let lines: Vec<&str> = body.trim_end_matches("\r\n").split("\r\n").collect();
    assert!(lines.iter().all(|l| !l.contains('\n') && !l.contains('\r')));
    assert!(lines.iter().all(|l| l.len() <= 75), "{body}");
    let text = unfold(body);
    for want in [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rathaus//Ressourcenbuchung//DE\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n",
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Berlin).format("%Y%m%dT%H%M%S").to_string()
}

#[tokio::test]
async fn the_staff_feed_lists_titles_in_local_time_and_keeps_cancelled_ones_as_cancelled() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let mut inp = ResourceInput::new("Sporthalle Nord, Teil A; \"Jugend\"", "hall");
    inp.max_minutes = 600;
    let hall = resource_with(s, inp).await;
    let room = resource(s, "Sitzungssaal", "room", None).await;

    let booked = service::reserve(
        &s.db.conn,
        Actor::User(&s.booker),
        service::ReservationInput {
            title: TITLE.into(),
            ..input(hall.id, 0, 120)
        },
    )
    .await
    .unwrap();
    let cancelled = book(s, &s.booker, hall.id, 180, 240).await.unwrap();
    service::cancel(
        &s.db.conn,
        Actor::User(&s.booker),
        ReservationId(cancelled.id),
    )
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
    let rejected = insert(s, hall.id, "Abgelehnt", now + Duration::days(5), REJECTED).await;

    let r = a.get(HOST, &ical::feed_path(&hall)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    let body = r.text().await.unwrap();
    lines_ok(&body);
    let text = unfold(&body);
    let host = HOST;
    for want in [
        "NAME:Sporthalle Nord\\, Teil A\\; \"Jugend\"\r\n",
        &format!("UID:reservation-{}@{host}\r\n", booked.id),
        &format!("DTSTART;TZID=Europe/Berlin:{}\r\n", local(booked.starts_at)),
        &format!("DTEND;TZID=Europe/Berlin:{}\r\n", local(booked.ends_at)),
        "SUMMARY:Training U12\\, Gruppe A\\; Halle\\\\Nord – Übungsleitung bringt Bälle mit\\, \
         Umkleide 3 (danach Elternabend im Besprechungsraum)\r\n",
        &format!("UID:reservation-{}@{host}\r\n", requested.id),
        &format!("UID:reservation-{}@{host}\r\n", cancelled.id),
        "SEQUENCE:0\r\n",
        "STATUS:CONFIRMED\r\n",
        "STATUS:TENTATIVE\r\n",
        "STATUS:CANCELLED\r\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert_eq!(text.matches("BEGIN:VEVENT\r\n").count(), 4, "{text}");
    for absent in [
        "Zu alt",
        "Zu weit",
        "Sitzungssaal",
        "Vera Verein",
        "verein@a.example",
        "ORGANIZER",
        "ATTENDEE",
    ] {
        assert!(!text.contains(absent), "{absent:?} in\n{text}");
    }

    let parsed = parse_with_python(&body);
    assert_eq!(
        parsed["name"], "Sporthalle Nord, Teil A; \"Jugend\"",
        "{parsed}"
    );
    let events = parsed["events"].as_array().unwrap();
    assert_eq!(events.len(), 4, "{parsed}");
    let by_uid = |id: i64| {
        events
            .iter()
            .find(|e| e["uid"] == format!("reservation-{id}@{host}"))
            .unwrap_or_else(|| panic!("no {id} in {parsed}"))
    };
    let e = by_uid(booked.id);
    assert_eq!(e["summary"], TITLE);
    assert_eq!(e["status"], "CONFIRMED");
    assert_eq!(e["tz"], "Europe/Berlin");
    assert_eq!(e["start_utc"], booked.starts_at.to_rfc3339());
    assert_eq!(e["end_utc"], booked.ends_at.to_rfc3339());
    assert_eq!(by_uid(requested.id)["status"], "TENTATIVE");
    assert_eq!(by_uid(cancelled.id)["status"], "CANCELLED");
    assert_eq!(by_uid(rejected.id)["status"], "CANCELLED");

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
async fn the_etag_is_strong_and_if_none_match_answers_304() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let hall = make_public(s, &resource(s, "Halle", "hall", None).await).await;
    book(s, &s.booker, hall.id, 0, 60).await.unwrap();
    let path = ical::public_feed_path(&hall).unwrap();
    let r = a.get(HOST, &path).await;
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    let body = r.text().await.unwrap();
    // The same state gives the same body and tag.
    let again = a.get(HOST, &path).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.text().await.unwrap(), body);
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"x\", {etag}"),
        "*".into(),
    ] {
        let r =
            a.c.get(a.app.url(HOST, &path))
                .header("if-none-match", inm.clone())
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 304, "{inm}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
        assert!(r.text().await.unwrap().is_empty());
    }
    let r =
        a.c.get(a.app.url(HOST, &path))
            .header("if-none-match", "\"anders\"")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    // Every change gives a new tag and the new content, though the feed is cached: a new
    // booking, a cancellation (same number of rows), a booking of a part of the hall.
    let part = resource(s, "Hallendrittel", "hall_part", Some(hall.id)).await;
    let second = book(s, &s.booker, hall.id, 120, 180).await.unwrap();
    let mut tags = vec![etag.clone()];
    let mut bodies = vec![body.clone()];
    for step in 0..3 {
        match step {
            0 => {}
            1 => {
                service::cancel(&s.db.conn, Actor::User(&s.booker), ReservationId(second.id))
                    .await
                    .unwrap();
            }
            _ => {
                book(s, &s.booker, part.id, 300, 360).await.unwrap();
            }
        }
        let last = tags.last().unwrap().clone();
        let r =
            a.c.get(a.app.url(HOST, &path))
                .header("if-none-match", last.clone())
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 200, "step {step}");
        let tag = r.headers()["etag"].to_str().unwrap().to_string();
        assert!(!tags.contains(&tag), "step {step}: tag {tag} seen before");
        let b = r.text().await.unwrap();
        assert!(!bodies.contains(&b), "step {step}: stale body");
        tags.push(tag);
        bodies.push(b);
    }
    // gzip for clients that ask for it: the same feed, compressed, with the same tag.
    let r =
        a.c.get(a.app.url(HOST, &path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["etag"].to_str().unwrap(), tags.last().unwrap());
    let zipped = r.bytes().await.unwrap();
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut plain)
        .unwrap();
    assert_eq!(&plain, bodies.last().unwrap());
    let r =
        a.c.get(a.app.url(HOST, &path))
            .header("accept-encoding", "gzip;q=0, identity")
            .send()
            .await
            .unwrap();
    assert!(r.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn the_public_feed_shows_busy_blocks_and_only_agreed_organisation_names() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let hall = make_public(s, &resource(s, "Dreifachhalle", "hall", None).await).await;
    let part = resource(s, "Hallendrittel 1", "hall_part", Some(hall.id)).await;
    let staff_only = resource(s, "Sitzungssaal", "room", None).await;
    let open = org_entity(s, "TV Musterstadt 1890", true).await;
    let shy = org_entity(s, "Selbsthilfegruppe Nord", false).await;
    let b1 = book_titled(s, hall.id, 0, 60, "Geheimes Treffen bei Müller").await;
    with_org(s, b1.clone(), shy.id).await;
    let b2 = book_titled(s, hall.id, 120, 180, "Training Jugend").await;
    with_org(s, b2.clone(), open.id).await;
    let b3 = book_titled(s, part.id, 240, 300, "Privatfeier Schmidt").await;

    let path = ical::public_feed_path(&hall).unwrap();
    assert_eq!(path, format!("/belegung/{}/kalender.ics", hall.id));
    let r = a.get(HOST, &path).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    lines_ok(&body);
    let text = unfold(&body);
    assert_eq!(text.matches("BEGIN:VEVENT\r\n").count(), 3, "{text}");
    assert_eq!(text.matches("SUMMARY:Belegt\r\n").count(), 2, "{text}");
    assert!(text.contains("SUMMARY:TV Musterstadt 1890\r\n"), "{text}");
    for absent in [
        "Geheim",
        "Müller",
        "Training",
        "Privatfeier",
        "Schmidt",
        "Selbsthilfe",
        "Vera Verein",
        "verein@",
    ] {
        assert!(!text.contains(absent), "{absent:?} in\n{text}");
    }
    let parsed = parse_with_python(&body);
    let uids: Vec<String> = parsed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap().to_string())
        .collect();
    for b in [&b1, &b2, &b3] {
        assert!(
            uids.contains(&format!("reservation-{}@{HOST}", b.id)),
            "{uids:?}"
        );
    }
    // No public feed for staff-only resources, none for another tenant's, none for nonsense.
    assert_eq!(ical::public_feed_path(&staff_only), None);
    let hall_b = make_public(&a.b, &resource(&a.b, "Halle B", "hall", None).await).await;
    for (host, path) in [
        (HOST, format!("/belegung/{}/kalender.ics", staff_only.id)),
        (HOST, format!("/belegung/{}/kalender.ics", hall_b.id)),
        (HOST_B, path.clone()),
        (HOST, "/belegung/x/kalender.ics".into()),
        (HOST, "/belegung/99999999/kalender.ics".into()),
    ] {
        let r = a.get(host, &path).await;
        assert_eq!(r.status(), 404, "{host}{path}");
        assert!(!r.text().await.unwrap().contains("VCALENDAR"));
    }
    assert_eq!(
        ical::public_feed_url("https://x.example", &hall).unwrap(),
        format!("https://x.example/belegung/{}/kalender.ics", hall.id)
    );
}

async fn org_entity(s: &Setup, name: &str, public_name: bool) -> organisation::Model {
    organisation(s, name, public_name).await
}

async fn book_titled(
    s: &Setup,
    resource_id: i64,
    from: i64,
    to: i64,
    title: &str,
) -> reservation::Model {
    service::reserve(
        &s.db.conn,
        Actor::User(&s.booker),
        service::ReservationInput {
            title: title.into(),
            ..input(resource_id, from, to)
        },
    )
    .await
    .unwrap()
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
        (HOST_B, good.clone()),
        (HOST, ical::feed_path(&hall_b)),
    ] {
        let r = a.get(host, &path).await;
        assert_eq!(r.status(), 404, "{host}{path}");
        assert!(!r.text().await.unwrap().contains("VCALENDAR"));
    }
    assert_eq!(a.get(HOST_B, &ical::feed_path(&hall_b)).await.status(), 200);

    for who in [&s.booker, &s.clerk] {
        let e = service::rotate_feed_token(&s.db.conn, Actor::User(who), ResourceId(hall.id))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
    }
    let rotated =
        service::rotate_feed_token(&s.db.conn, Actor::User(&s.admin), ResourceId(hall.id))
            .await
            .unwrap();
    assert_eq!(a.get(HOST, &good).await.status(), 404);
    let r = a.get(HOST, &ical::feed_path(&rotated)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap().matches("BEGIN:VEVENT").count(), 1);
}

#[tokio::test]
async fn the_personal_feed_holds_ones_own_bookings_and_rotation_revokes_it() {
    let a = app(WebConfig::default()).await;
    let (s, b) = (&a.s, &a.b);
    let hall = resource(s, "Sporthalle", "hall", None).await;
    let mine = book_titled(s, hall.id, 0, 60, "Mein Training").await;
    service::reserve(
        &s.db.conn,
        Actor::User(&s.other),
        service::ReservationInput {
            title: "Fremde Buchung".into(),
            ..input(hall.id, 120, 180)
        },
    )
    .await
    .unwrap();
    let token = ical::user_feed_token(&s.db.conn, Actor::User(&s.booker))
        .await
        .unwrap();
    assert_eq!(token.len(), 32);
    // Asking again gives the same token.
    assert_eq!(
        ical::user_feed_token(&s.db.conn, Actor::User(&s.booker))
            .await
            .unwrap(),
        token
    );
    let path = ical::person_feed_path(&token);
    let r = a.get(HOST, &path).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    let body = r.text().await.unwrap();
    lines_ok(&body);
    assert!(body.contains("SUMMARY:Mein Training\r\n"), "{body}");
    assert!(body.contains("LOCATION:Sporthalle\r\n"), "{body}");
    assert!(!body.contains("Fremde Buchung"), "{body}");
    let parsed = parse_with_python(&body);
    assert_eq!(
        parsed["events"][0]["uid"],
        format!("reservation-{}@{HOST}", mine.id)
    );

    // Another tenant's token, and this one on the other tenant's host: 404.
    let token_b = ical::user_feed_token(&s.db.conn, Actor::User(&b.booker))
        .await
        .unwrap();
    assert_eq!(
        a.get(HOST, &ical::person_feed_path(&token_b))
            .await
            .status(),
        404
    );
    assert_eq!(a.get(HOST_B, &path).await.status(), 404);
    assert_eq!(
        a.get(HOST_B, &ical::person_feed_path(&token_b))
            .await
            .status(),
        200
    );
    assert_eq!(
        a.get(HOST, "/buchung/kalender/person/kurz.ics")
            .await
            .status(),
        404
    );

    let new = ical::rotate_user_feed(&s.db.conn, Actor::User(&s.booker))
        .await
        .unwrap();
    assert_ne!(new, token);
    assert_eq!(a.get(HOST, &path).await.status(), 404);
    assert_eq!(
        a.get(HOST, &ical::person_feed_path(&new)).await.status(),
        200
    );
    let events = audit::list(&s.db.conn, &s.admin, &AuditFilter::default())
        .await
        .unwrap();
    let ev = events
        .iter()
        .find(|e| e.action == "booking.feed.person_rotated")
        .expect("audit event");
    assert!(!ev.details.contains(&token) && !ev.details.contains(&new));
}

#[tokio::test]
async fn the_organisation_feed_and_who_may_rotate_it() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let hall = resource(s, "Sporthalle", "hall", None).await;
    let club = organisation(s, "TSV Beispiel", false).await;
    member(s, club.id, &s.booker).await;
    let r = book_titled(s, hall.id, 0, 60, "Vereinstraining").await;
    with_org(s, r, club.id).await;
    book_titled(s, hall.id, 120, 180, "Privat").await;
    let path = ical::org_feed_path(&club.feed_token);
    let body = a.get(HOST, &path).await.text().await.unwrap();
    lines_ok(&body);
    assert!(body.contains("SUMMARY:Vereinstraining\r\n"), "{body}");
    assert!(body.contains("NAME:TSV Beispiel\r\n"), "{body}");
    assert!(!body.contains("Privat"), "{body}");
    parse_with_python(&body);

    // Neither a non-member nor another tenant's staff may rotate; members and managers may.
    for who in [&s.other, &s.clerk, &a.b.admin] {
        let e = ical::rotate_org_feed(&s.db.conn, Actor::User(who), OrganisationId(club.id))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound), "{e:?}");
    }
    let t1 = ical::rotate_org_feed(&s.db.conn, Actor::User(&s.booker), OrganisationId(club.id))
        .await
        .unwrap();
    assert_eq!(a.get(HOST, &path).await.status(), 404);
    assert_eq!(a.get(HOST, &ical::org_feed_path(&t1)).await.status(), 200);
    let t2 = ical::rotate_org_feed(&s.db.conn, Actor::User(&s.admin), OrganisationId(club.id))
        .await
        .unwrap();
    assert_eq!(a.get(HOST, &ical::org_feed_path(&t1)).await.status(), 404);
    assert_eq!(a.get(HOST, &ical::org_feed_path(&t2)).await.status(), 200);
    assert_eq!(a.get(HOST_B, &ical::org_feed_path(&t2)).await.status(), 404);
}

#[tokio::test]
async fn the_feed_page_shows_the_links_and_rotates_them() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let base = a.app.url(HOST, "");
    let club = organisation(s, "TSV Beispiel", false).await;
    member(s, club.id, &s.clerk).await;
    // Anonymous: to the login page; a rotation without a session neither.
    let anon = a.app.client(&[HOST]);
    let r = anon
        .get(format!("{base}/buchung/kalender"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let r = anon
        .post(format!("{base}/buchung/kalender/erneuern"))
        .send()
        .await
        .unwrap();
    assert!(r.status() == 403 || r.status() == 303, "{}", r.status());

    // A user without any permission (the clerk) has a personal feed too.
    let c = a.app.client(&[HOST]);
    assert_eq!(
        login(&c, &base, &s.f.clerk_email, PASSWORD).await.status(),
        303
    );
    let page = c
        .get(format!("{base}/buchung/kalender"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let token = ical::user_feed_token(&s.db.conn, Actor::User(&s.clerk))
        .await
        .unwrap();
    assert!(
        html.contains(&a.app.url(HOST, &ical::person_feed_path(&token))),
        "{html}"
    );
    assert!(
        html.contains(&a.app.url(HOST, &ical::org_feed_path(&club.feed_token))),
        "{html}"
    );
    assert!(
        html.contains("Outlook") && html.contains("abonnieren"),
        "{html}"
    );
    let csrf = rathaus_testkit::csrf_of(&html);
    // Without the CSRF token: refused.
    let r = c
        .post(format!("{base}/buchung/kalender/erneuern"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        ical::user_feed_token(&s.db.conn, Actor::User(&s.clerk))
            .await
            .unwrap(),
        token
    );
    let r = c
        .post(format!("{base}/buchung/kalender/erneuern"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let new = ical::user_feed_token(&s.db.conn, Actor::User(&s.clerk))
        .await
        .unwrap();
    assert_ne!(new, token);
    let html = c
        .get(format!("{base}/buchung/kalender?erneuert=person"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&new) && html.contains("erneuert"), "{html}");
    // The organisation's link: its member may renew it, someone else's organisation is 404.
    let r = c
        .post(format!(
            "{base}/buchung/kalender/verein/{}/erneuern",
            club.id
        ))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let other = organisation(s, "Fremder Verein", false).await;
    let r = c
        .post(format!(
            "{base}/buchung/kalender/verein/{}/erneuern",
            other.id
        ))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let after = organisation::Entity::find_by_id(other.id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.feed_token, other.feed_token);
}

/// The last Sundays of March and October after `from`: when the clocks change.
fn clock_changes_after(from: NaiveDate) -> Vec<NaiveDate> {
    let mut out = vec![];
    for year in from.year()..from.year() + 3 {
        for month in [3, 10] {
            let mut d = NaiveDate::from_ymd_opt(year, month, 31).unwrap();
            while d.weekday() != Weekday::Sun {
                d -= Duration::days(1);
            }
            if d > from {
                out.push(d);
            }
        }
    }
    out.sort();
    out
}

fn berlin(l: NaiveDateTime) -> DateTime<Utc> {
    Berlin
        .from_local_datetime(&l)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_weekly_series_stays_at_18_local_across_both_clock_changes() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let hall = resource(s, "Sporthalle", "hall", None).await;
    let changes = clock_changes_after(Utc::now().date_naive() + Duration::days(10));
    let (c1, c2) = (changes[0], changes[1]);
    // Tuesdays 18:00–20:00 from two weeks before the first change to two weeks after the next.
    let mut first = c1 - Duration::days(14);
    while first.weekday() != Weekday::Tue {
        first -= Duration::days(1);
    }
    let until = c2 + Duration::days(14);
    let at18 = |d: NaiveDate| d.and_hms_opt(18, 0, 0).unwrap();
    let week = |k: i64| first + Duration::weeks(k);
    let total = (until - first).num_days() / 7 + 1;
    let now = Utc::now();
    let sr = series::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(hall.id),
        title: Set("Training, Jugend; Halle".into()),
        dtstart_local: Set(at18(first).format("%Y-%m-%dT%H:%M").to_string()),
        duration_minutes: Set(120),
        rrule: Set(format!(
            "FREQ=WEEKLY;BYDAY=TU;UNTIL={}",
            until.format("%Y%m%d")
        )),
        // Week 1 was moved (series::move_occurrence puts its original start into EXDATE),
        // week 3 was excluded.
        exdates: Set(format!(
            "{},{}",
            at18(week(1)).format("%Y-%m-%dT%H:%M"),
            at18(week(3)).format("%Y-%m-%dT%H:%M")
        )),
        status: Set(CONFIRMED.into()),
        sequence: Set(2),
        booked_by: Set(Some(s.booker.user_id.0)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    // Occurrences as the series service stores them: week 0 as planned, week 1 moved to
    // 19:30, week 2 cancelled, week 3 excluded (no row), week 4 as planned.
    let occ = |start: NaiveDateTime, status: &str, seq: i32| {
        reservation::ActiveModel {
            tenant_id: Set(s.f.tenant.0),
            resource_id: Set(hall.id),
            title: Set("Training, Jugend; Halle".into()),
            starts_at: Set(berlin(start)),
            ends_at: Set(berlin(start) + Duration::minutes(120)),
            status: Set(status.into()),
            booked_by: Set(Some(s.booker.user_id.0)),
            created_at: Set(now),
            series_id: Set(Some(sr.id)),
            sequence: Set(seq),
            updated_at: Set(Some(now)),
            ..Default::default()
        }
        .insert(&s.db.conn)
    };
    occ(at18(week(0)), CONFIRMED, 2).await.unwrap();
    let moved = week(1).and_hms_opt(19, 30, 0).unwrap();
    let moved_row = occ(moved, CONFIRMED, 3).await.unwrap();
    occ(at18(week(2)), CANCELLED, 3).await.unwrap();
    occ(at18(week(4)), CONFIRMED, 2).await.unwrap();

    let body = a
        .get(HOST, &ical::feed_path(&hall))
        .await
        .text()
        .await
        .unwrap();
    lines_ok(&body);
    let text = unfold(&body);
    let uid = format!("UID:series-{}@{HOST}\r\n", sr.id);
    // The master and one override (cancelled); the moved occurrence is an event of its own
    // (its original start is an EXDATE); the plain occurrences are the rule's.
    assert_eq!(text.matches(&uid).count(), 2, "{text}");
    assert!(text.contains(&format!("UID:reservation-{}@{HOST}\r\n", moved_row.id)));
    assert_eq!(text.matches("BEGIN:VEVENT\r\n").count(), 3, "{text}");
    for want in [
        format!(
            "DTSTART;TZID=Europe/Berlin:{}\r\n",
            at18(first).format("%Y%m%dT%H%M%S")
        ),
        "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=".to_string(),
        format!(
            "EXDATE;TZID=Europe/Berlin:{},{}\r\n",
            at18(week(1)).format("%Y%m%dT%H%M%S"),
            at18(week(3)).format("%Y%m%dT%H%M%S")
        ),
        format!(
            "RECURRENCE-ID;TZID=Europe/Berlin:{}\r\n",
            at18(week(2)).format("%Y%m%dT%H%M%S")
        ),
        "SEQUENCE:2\r\n".to_string(),
        "SEQUENCE:3\r\n".to_string(),
        "SUMMARY:Training\\, Jugend\\; Halle\r\n".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in\n{text}");
    }

    let occs = expand_with_python(&body, first - Duration::days(1), until + Duration::days(2));
    let list = occs.as_array().unwrap();
    assert_eq!(list.len() as i64, total - 1, "{occs}");
    for o in list {
        let start = o["start_local"].as_str().unwrap();
        let day = NaiveDate::parse_from_str(&start[..10], "%Y-%m-%d").unwrap();
        assert_eq!(o["tz"], "Europe/Berlin", "{o}");
        assert_ne!(day, week(3), "the excluded week is there: {o}");
        if day == week(1) {
            assert!(start.ends_with("T19:30:00"), "{o}");
        } else {
            assert!(start.ends_with("T18:00:00"), "{o}");
            assert!(
                o["end_local"].as_str().unwrap().ends_with("T20:00:00"),
                "{o}"
            );
        }
        let status = if day == week(2) {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        assert_eq!(o["status"], status, "{o}");
        // The UTC offset follows the season: summer time between March and October.
        let offset = if summer_time(day) { "+02:00" } else { "+01:00" };
        assert_eq!(o["offset"], offset, "{o}");
    }
    // Both changes lie inside the series: offsets of both kinds occur.
    let offsets: std::collections::BTreeSet<&str> =
        list.iter().map(|o| o["offset"].as_str().unwrap()).collect();
    assert_eq!(offsets.len(), 2, "{occs}");
}

fn summer_time(d: NaiveDate) -> bool {
    let noon = d.and_hms_opt(12, 0, 0).unwrap();
    let t = Berlin.from_local_datetime(&noon).single().unwrap();
    use chrono::Offset;
    t.offset().fix().local_minus_utc() == 7200
}

#[tokio::test]
async fn a_busy_year_of_one_resource_renders_fast() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let hall = resource(s, "Sporthalle", "hall", None).await;
    // Six bookings a day for a year: about 2,200 rows.
    let start = Utc::now().duration_trunc(Duration::days(1)).unwrap() + Duration::hours(6);
    let rows: Vec<reservation::ActiveModel> = (0..365 * 6)
        .map(|i| {
            let t = start + Duration::days(i / 6) + Duration::hours(2 * (i % 6));
            reservation::ActiveModel {
                tenant_id: Set(s.f.tenant.0),
                resource_id: Set(hall.id),
                title: Set(format!("Belegung {i}")),
                starts_at: Set(t),
                ends_at: Set(t + Duration::minutes(90)),
                status: Set(CONFIRMED.into()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
        })
        .collect();
    for chunk in rows.chunks(200) {
        reservation::Entity::insert_many(chunk.to_vec())
            .exec(&s.db.conn)
            .await
            .unwrap();
    }
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let d = ical::staff_feed_data(
            &s.db.conn,
            s.f.tenant,
            ResourceId(hall.id),
            &hall.feed_token,
            Utc::now(),
        )
        .await
        .unwrap();
        let body = rathaus_booking::formats::ical::calendar(&d, HOST);
        best = best.min(t.elapsed());
        assert_eq!(body.matches("BEGIN:VEVENT").count(), 365 * 6);
    }
    // Speed is measured by bench/booking.sh on a release build, never asserted here.
    eprintln!("one year, {} bookings: {best:?} (load and render)", 365 * 6);
}

// ---------------------------------------------------------------- outside parsers

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
for key in ("VERSION", "PRODID", "CALSCALE", "METHOD"):
    if key not in cal:
        sys.exit("missing " + key)
if not cal.walk("VTIMEZONE"):
    sys.exit("no VTIMEZONE")
# The parser leaves X- properties undecoded: unescape the TEXT value (RFC 5545 3.3.11).
raw = cal["X-WR-CALNAME"].to_ical().decode()
name = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), raw)
out = {"name": name, "events": []}
for ev in cal.walk("VEVENT"):
    for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "SUMMARY"):
        if key not in ev:
            sys.exit("event without " + key)
    start = ev.decoded("DTSTART")
    out["events"].append({
        "uid": str(ev["UID"]),
        "tz": str(getattr(start.tzinfo, "key", start.tzinfo)),
        "start_utc": start.astimezone(__import__("datetime").timezone.utc).isoformat(),
        "end_utc": ev.decoded("DTEND").astimezone(__import__("datetime").timezone.utc).isoformat(),
        "summary": str(ev["SUMMARY"]),
        "status": str(ev["STATUS"]),
    })
print(json.dumps(out))
"#;

const EXPAND: &str = r#"
import json, sys, datetime
from icalendar import Calendar
import recurring_ical_events
with open(sys.argv[1], "rb") as f:
    cal = Calendar.from_ical(f.read())
a = datetime.date.fromisoformat(sys.argv[2])
b = datetime.date.fromisoformat(sys.argv[3])
out = []
for ev in recurring_ical_events.of(cal).between(a, b):
    s, e = ev["DTSTART"].dt, ev["DTEND"].dt
    off = s.utcoffset()
    mins = int(off.total_seconds() // 60)
    out.append({
        "uid": str(ev["UID"]),
        "tz": str(getattr(s.tzinfo, "key", s.tzinfo)),
        "start_local": s.replace(tzinfo=None).isoformat(),
        "end_local": e.replace(tzinfo=None).isoformat(),
        "offset": "%+03d:%02d" % (mins // 60, mins % 60),
        "status": str(ev.get("STATUS", "")),
    })
out.sort(key=lambda o: o["start_local"])
print(json.dumps(out))
"#;

fn run_python(script: &str, body: &str, args: &[String]) -> Value {
    let py = python();
    let probe = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('icalendar'), m.version('recurring-ical-events'))",
        ])
        .stderr(Stdio::null())
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        panic!(
            "the Python packages icalendar and recurring-ical-events are not available to `{}`. \
             Run the tests with scripts/test (it creates target/test-venv with icalendar \
             {ICALENDAR_VERSION} and recurring-ical-events {RECURRING_VERSION} and sets \
             RATHAUS_TEST_PYTHON), or set RATHAUS_TEST_PYTHON to a Python that has them.",
            py.display()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, body).unwrap();
    let out = Command::new(&py)
        .args(["-c", script])
        .arg(&file)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "the parser refused the feed: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the parser")
}

/// Parses a feed with the Python package `icalendar`.
fn parse_with_python(body: &str) -> Value {
    run_python(PARSE, body, &[])
}

/// The occurrences between two days, expanded by `recurring-ical-events`.
fn expand_with_python(body: &str, from: NaiveDate, to: NaiveDate) -> Value {
    run_python(EXPAND, body, &[from.to_string(), to.to_string()])
}

// ---------------------------------------------------------------- migration

#[tokio::test]
async fn resources_from_before_the_feeds_get_their_own_token() {
    use rathaus_booking::service::Resource;
    use rathaus_booking::store::migrations::Migrator;
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
    let all: Vec<Resource> = rathaus_booking::store::entity::resource::Entity::find()
        .all(conn)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.feed_token.len() == 32), "{all:?}");
    assert_ne!(all[0].feed_token, all[1].feed_token);
}

/// The whole way through the services: a series booked, one occurrence moved, one cancelled;
/// an outside parser expands the staff feed to exactly what is booked.
#[tokio::test]
async fn a_series_changed_through_the_service_reads_back_as_booked() {
    use rathaus_booking::service::series::{self as svc, SeriesInput};
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let mut inp = service::ResourceInput::new("Sporthalle", "hall");
    inp.horizon_days = 400;
    let hall = resource_with(s, inp).await;
    let mut first = Utc::now().date_naive() + Duration::days(10);
    while first.weekday() != Weekday::Tue {
        first += Duration::days(1);
    }
    let at18 = |d: NaiveDate| d.and_hms_opt(18, 0, 0).unwrap();
    let (_, occ) = svc::reserve_series(
        &s.db.conn,
        Actor::User(&s.booker),
        SeriesInput {
            resource_id: hall.id,
            title: "Training".into(),
            dtstart_local: at18(first),
            duration_minutes: 120,
            rrule: "FREQ=WEEKLY;COUNT=6".into(),
            exdates: vec![],
            skip_blackouts: false,
            organisation_id: None,
        },
    )
    .await
    .expect("series");
    let w1 = first + Duration::weeks(1);
    svc::move_occurrence(
        &s.db.conn,
        Actor::User(&s.booker),
        ReservationId(occ[1].id),
        w1.and_hms_opt(19, 30, 0).unwrap(),
        w1.and_hms_opt(21, 0, 0).unwrap(),
    )
    .await
    .expect("moved");
    svc::cancel_occurrence(&s.db.conn, Actor::User(&s.booker), ReservationId(occ[2].id))
        .await
        .expect("cancelled");
    let hall = service::get_resource(&s.db.conn, Actor::User(&s.admin), ResourceId(hall.id))
        .await
        .unwrap();
    let body = a
        .get(HOST, &ical::feed_path(&hall))
        .await
        .text()
        .await
        .unwrap();
    lines_ok(&body);
    let list = expand_with_python(&body, first, first + Duration::weeks(7));
    let got: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] != "CANCELLED")
        .map(|o| {
            (
                o["start_local"].as_str().unwrap().to_string(),
                o["end_local"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [0, 1, 3, 4, 5]
        .iter()
        .map(|k| {
            let d = first + Duration::weeks(*k);
            if *k == 1 {
                (format!("{d}T19:30:00"), format!("{d}T21:00:00"))
            } else {
                (format!("{d}T18:00:00"), format!("{d}T20:00:00"))
            }
        })
        .collect();
    assert_eq!(got, want, "{body}");
}

/// UIDs stay the same when the tenant's host names change (issue 15, item 17): they carry the
/// domain fixed at the tenant's creation, not its first host of today.
#[tokio::test]
async fn uids_survive_a_change_of_host_names() {
    let a = app(WebConfig::default()).await;
    let s = &a.s;
    let hall = resource(s, "Halle", "hall", None).await;
    let now = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let r = insert(s, hall.id, "Training", now + Duration::days(2), CONFIRMED).await;
    let uid = format!("UID:reservation-{}@{HOST}\r\n", r.id);
    let body = a
        .get(HOST, &ical::feed_path(&hall))
        .await
        .text()
        .await
        .unwrap();
    assert!(unfold(&body).contains(&uid), "{body}");
    // A new host name that sorts first (the old rule took the first host).
    rathaus_store::entity::tenant_host::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        host: Set("aaa.rathaus.a.test".into()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    let body = a
        .get(HOST, &ical::feed_path(&hall))
        .await
        .text()
        .await
        .unwrap();
    assert!(unfold(&body).contains(&uid), "{body}");
    assert!(!body.contains("aaa.rathaus.a.test"));
}
