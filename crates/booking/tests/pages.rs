//! The staff pages under /buchung through the real app (port 0, module mounted like the
//! binary does): who may see and post what, German errors beside the fields with the input
//! kept and nothing stored, conflicts, approval, and local times across the clock changes.

use crate::common;

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use common::*;
use rathaus_booking::domain::{ReservationId, ResourceId};
use rathaus_booking::service::{self, MANAGE, ResourceInput};
use rathaus_store::uow::Actor;
use rathaus_testkit::{TestApp, post_form};
use rathaus_web::WebConfig;
use reqwest::Client;

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

struct Pages {
    app: TestApp,
    s: Setup,
    base: String,
    /// A resource of tenant b.
    foreign: i64,
}

async fn pages() -> Pages {
    let mut s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let foreign = resource(&b, "Fremde Halle", service::HALL, None).await.id;
    let app = spawn_app(&mut s, WebConfig::default()).await;
    Pages {
        base: app.url(HOST, ""),
        app,
        s,
        foreign,
    }
}

impl Pages {
    async fn client(&self, email: &str) -> Client {
        signed_in(&self.app, HOST, &self.base, email).await
    }
    fn anonymous(&self) -> Client {
        self.app.client(&[HOST])
    }
}

async fn get(c: &Client, url: String) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A day three days ahead (Europe/Berlin), as the date input sends it.
fn soon() -> String {
    (Utc::now() + Duration::days(3))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// The last Sunday of October that still lies ahead: the clocks go back from 03:00 to 02:00.
fn next_autumn_change() -> NaiveDate {
    let today = Utc::now().date_naive();
    let mut year = today.year();
    loop {
        let mut d = NaiveDate::from_ymd_opt(year, 10, 31).unwrap();
        while d.weekday() != Weekday::Sun {
            d -= Duration::days(1);
        }
        if d > today + Duration::days(1) {
            return d;
        }
        year += 1;
    }
}

#[tokio::test]
async fn who_may_see_and_post_what() {
    let p = pages().await;
    let hall = resource(&p.s, "Halle Nord", service::HALL, None).await.id;
    let manager = user_with(&p.s.db, p.s.f.tenant, "verwaltung@a.example", &[MANAGE]).await;
    let page = format!("{}/buchung/{hall}", p.base);
    let list = format!("{}/buchung", p.base);

    // Anonymous: every page and form sends to the login.
    let anon = p.anonymous();
    for url in [&list, &page] {
        let r = anon.get(url.as_str()).send().await.unwrap();
        assert_eq!(r.status(), 303, "{url}");
        assert!(location(&r).await.starts_with("/login"), "{url}");
    }
    for action in ["/buchung".to_string(), format!("/buchung/{hall}")] {
        let r = post_form(&anon, &p.base, "/login", &action, &[("name", "x")]).await;
        assert_eq!(r.status(), 303, "{action}");
        assert_eq!(location(&r).await, "/login");
    }

    // A clerk without booking permissions books like a citizen: the list shows only what the
    // public may book (nothing here), a staff-only resource answers 404, creating one 403.
    let clerk = p.client(&p.s.f.clerk_email).await;
    let (status, body) = get(&clerk, list.clone()).await;
    assert_eq!(status, 200);
    assert!(!body.contains("Halle Nord"), "{body}");
    assert!(!body.contains("Ressource anlegen"));
    let (status, _) = get(&clerk, page.clone()).await;
    assert_eq!(status, 404);
    let r = post_form(&clerk, &p.base, "/staff", "/buchung", &[("name", "x")]).await;
    assert_eq!(r.status(), 403);
    let r = post_form(&clerk, &p.base, "/staff", &format!("/buchung/{hall}"), &[]).await;
    assert_eq!(r.status(), 404);

    // A booker: the entry, the list without the resource form, the week with the booking form.
    let booker = p.client(&p.s.booker.email).await;
    let (status, body) = get(&booker, list.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("href=\"/buchung\"") && body.contains(">Buchungen<"));
    assert!(body.contains("Halle Nord") && body.contains("Sporthalle"));
    assert!(!body.contains("Ressource anlegen"));
    let (status, body) = get(&booker, page.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Zeitraum buchen") && body.contains("type=\"date\""));
    let fields = [("name", "Halle Süd"), ("kind", "hall")];
    let r = post_form(&booker, &p.base, "/buchung", "/buchung", &fields).await;
    assert_eq!(r.status(), 403);

    // A manager without booking.book: the entry, the resource form and the booking form.
    let mgr = p.client(&manager.email).await;
    let (status, body) = get(&mgr, list.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("href=\"/buchung\"") && body.contains("Ressource anlegen"));
    let (status, body) = get(&mgr, page.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Zeitraum buchen"));

    // The admin sees everything; unknown, malformed and foreign ids answer 404.
    let admin = p.client(&p.s.f.admin_email).await;
    for url in [&list, &page] {
        assert_eq!(get(&admin, url.clone()).await.0, 200, "{url}");
    }
    for id in ["999999".to_string(), "abc".into(), p.foreign.to_string()] {
        let (status, body) = get(&admin, format!("{}/buchung/{id}", p.base)).await;
        assert_eq!(status, 404, "{id}");
        assert!(body.contains("<h1>"), "a German error page");
    }

    // Forms without the CSRF token are refused.
    for action in ["/buchung".to_string(), format!("/buchung/{hall}")] {
        let r = admin
            .post(format!("{}{action}", p.base))
            .form(&[("name", "Halle Ost"), ("kind", "hall"), ("title", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{action}");
    }
    assert_eq!(
        service::list_resources(&p.s.db.conn, Actor::User(&p.s.admin))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(all_reservations(&p.s).await.is_empty());
}

#[tokio::test]
async fn the_resource_form() {
    let p = pages().await;
    let admin = p.client(&p.s.f.admin_email).await;
    let count = || async {
        service::list_resources(&p.s.db.conn, Actor::User(&p.s.admin))
            .await
            .unwrap()
            .len()
    };

    // Bad input: German messages beside the fields, the input kept, nothing stored.
    let fields = [
        ("name", ""),
        ("kind", ""),
        ("capacity", "viele"),
        ("parent_id", ""),
    ];
    let r = post_form(&admin, &p.base, "/buchung", "/buchung", &fields).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"f-name-error\">Bitte füllen Sie dieses Feld aus."));
    assert!(body.contains("id=\"f-capacity-error\">Bitte geben Sie eine ganze Zahl ein"));
    assert!(body.contains("value=\"viele\""));
    let fields = [
        ("name", "Drittel A"),
        ("kind", "hall_part"),
        ("capacity", "0"),
    ];
    let r = post_form(&admin, &p.base, "/buchung", "/buchung", &fields).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"f-parent_id-error\">"), "{body}");
    assert!(body.contains("Bitte geben Sie eine Zahl größer als 0 ein."));
    assert!(body.contains("value=\"Drittel A\"") && body.contains("value=\"hall_part\" selected"));
    assert_eq!(count().await, 0);

    // A hall, then a part of it.
    let fields = [
        ("name", "Halle Nord"),
        ("kind", "hall"),
        ("capacity", "120"),
        ("parent_id", ""),
    ];
    let r = post_form(&admin, &p.base, "/buchung", "/buchung", &fields).await;
    assert_eq!(r.status(), 303);
    let to = location(&r).await;
    assert_eq!(to, "/buchung?notice=booking_resource_created");
    let (_, body) = get(&admin, format!("{}{to}", p.base)).await;
    assert!(body.contains("Die Ressource wurde angelegt."));
    assert!(body.contains("Halle Nord") && body.contains("<td>120</td>"));
    let hall = service::list_resources(&p.s.db.conn, Actor::User(&p.s.admin))
        .await
        .unwrap()[0]
        .clone();
    let parent = hall.id.to_string();
    let fields = [
        ("name", "Drittel A"),
        ("kind", "hall_part"),
        ("parent_id", parent.as_str()),
        ("requires_approval", "on"),
    ];
    let r = post_form(&admin, &p.base, "/buchung", "/buchung", &fields).await;
    assert_eq!(r.status(), 303);
    let (_, body) = get(&admin, format!("{}/buchung", p.base)).await;
    assert!(body.contains("Hallenteil (Halle Nord)"), "{body}");
    assert_eq!(count().await, 2);
}

#[tokio::test]
async fn the_booking_form() {
    let p = pages().await;
    // Bookable far enough ahead for the next autumn change in any month.
    let mut inp = ResourceInput::new("Halle Nord", service::HALL);
    inp.horizon_days = 400;
    let hall = resource_with(&p.s, inp).await.id;
    let mut inp = ResourceInput::new("Ratssaal", "room");
    inp.requires_approval = true;
    let room = resource_with(&p.s, inp).await.id;
    let booker = p.client(&p.s.booker.email).await;
    let action = format!("/buchung/{hall}");
    let post = |date: String, start: &'static str, end: &'static str, title: &'static str| {
        let (booker, base, action) = (&booker, &p.base, &action);
        async move {
            let fields = [
                ("date", date.as_str()),
                ("start", start),
                ("end", end),
                ("title", title),
            ];
            post_form(booker, base, action, action, &fields).await
        }
    };

    // Booked: back to the week of the booking with a notice, the slot in the table.
    let r = post(soon(), "18:00", "20:00", "Training E-Jugend").await;
    assert_eq!(r.status(), 303);
    let to = location(&r).await;
    assert!(
        to.contains("notice=booking_confirmed") && to.contains("woche="),
        "{to}"
    );
    let (_, body) = get(&booker, format!("{}{to}", p.base)).await;
    assert!(body.contains("Die Buchung ist bestätigt."));
    assert!(
        body.contains("<td>18:00</td><td>20:00</td><td>bestätigt</td>"),
        "{body}"
    );

    // A conflict: the message with the slot in the way, the input kept.
    let r = post(soon(), "19:00", "21:00", "Volleyball").await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("überschneidet sich mit einer bestehenden Buchung"));
    assert!(body.contains("18:00–20:00 (bestätigt)"), "{body}");
    assert!(body.contains("value=\"19:00\"") && body.contains("value=\"Volleyball\""));

    // End before start, a time skipped by the clock change, an empty title: 422, kept.
    let r = post(soon(), "20:00", "18:00", "Spät").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"f-end-error\">Das Ende muss nach dem Beginn liegen."));
    assert!(body.contains("value=\"20:00\"") && body.contains("value=\"Spät\""));
    let r = post("2026-03-29".into(), "02:30", "04:00", "Nachtlauf").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("id=\"f-start-error\">02:30 Uhr gibt es an diesem Tag nicht"),
        "{body}"
    );
    assert!(body.contains("value=\"2026-03-29\"") && body.contains("value=\"Nachtlauf\""));
    let r = post(soon(), "08:00", "09:00", "  ").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"f-title-error\">Bitte füllen Sie dieses Feld aus."));
    assert!(body.contains("value=\"08:00\""));
    // A time the autumn change repeats is ambiguous.
    let autumn = next_autumn_change().format("%Y-%m-%d").to_string();
    let r = post(autumn.clone(), "02:30", "04:00", "Nachtlauf").await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("gibt es an diesem Tag zweimal")
    );
    assert_eq!(all_reservations(&p.s).await.len(), 1);

    // Across the autumn change: 01:00 to 04:00 local are four real hours.
    let r = post(autumn.clone(), "01:00", "04:00", "Nachtwanderung").await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let all = all_reservations(&p.s).await;
    let night = all.iter().find(|r| r.title == "Nachtwanderung").unwrap();
    assert_eq!(night.ends_at - night.starts_at, Duration::hours(4));
    let day_before = next_autumn_change() - Duration::days(1);
    assert_eq!(
        night.starts_at.to_rfc3339(),
        format!("{}T23:00:00+00:00", day_before.format("%Y-%m-%d"))
    );

    // A resource that needs approval: the booking is requested.
    let fields = [
        ("date", soon()),
        ("start", "10:00".to_string()),
        ("end", "12:00".to_string()),
        ("title", "Vereinssitzung".to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let room_page = format!("/buchung/{room}");
    let r = post_form(&booker, &p.base, &room_page, &room_page, &fields).await;
    assert_eq!(r.status(), 303);
    let to = location(&r).await;
    assert!(to.contains("notice=booking_requested"), "{to}");
    let (_, body) = get(&booker, format!("{}{to}", p.base)).await;
    assert!(body.contains("<td>angefragt</td>") && body.contains("Die Buchung ist angefragt"));
}

#[tokio::test]
async fn the_week_moves() {
    let p = pages().await;
    let hall = resource(&p.s, "Halle Nord", service::HALL, None).await.id;
    let admin = p.client(&p.s.f.admin_email).await;
    let (status, body) = get(&admin, format!("{}/buchung/{hall}?woche=2026-W48", p.base)).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Kalenderwoche 48: 23.11.2026 bis 29.11.2026"),
        "{body}"
    );
    assert!(body.contains(&format!("href=\"/buchung/{hall}?woche=2026-W47\"")));
    assert!(body.contains(&format!("href=\"/buchung/{hall}?woche=2026-W49\"")));
    assert!(body.contains("<caption") && body.contains("scope=\"col\""));
    // Across the turn of the year, and a week that does not exist falls back to this week.
    let (_, body) = get(&admin, format!("{}/buchung/{hall}?woche=2026-W53", p.base)).await;
    assert!(body.contains("woche=2027-W01"));
    let (status, _) = get(&admin, format!("{}/buchung/{hall}?woche=2026-W99", p.base)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_approval_queue() {
    let p = pages().await;
    let room = approval_room(&p.s, "Sitzungssaal").await.id;
    let a = book(&p.s, &p.s.booker, room, 0, 60).await.unwrap();
    let b = book(&p.s, &p.s.booker, room, 120, 180).await.unwrap();
    let queue = format!("{}/buchung/anfragen", p.base);
    let approve = format!("/buchung/anfragen/{}/genehmigen", a.id);
    let reject = format!("/buchung/anfragen/{}/ablehnen", b.id);

    // Anonymous: to the login; a booker: no link, 403 on the page and the forms.
    let anon = p.anonymous();
    let r = anon.get(queue.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).await.starts_with("/login"));
    let booker = p.client(&p.s.booker.email).await;
    let (_, list) = get(&booker, format!("{}/buchung", p.base)).await;
    assert!(!list.contains("href=\"/buchung/anfragen\""));
    assert_eq!(get(&booker, queue.clone()).await.0, 403);
    let (_, home) = get(&booker, format!("{}/staff", p.base)).await;
    assert!(!home.contains("Buchungsanfrage"), "{home}");
    for action in [&approve, &reject] {
        let r = post_form(&booker, &p.base, "/buchung", action, &[("reason", "x")]).await;
        assert_eq!(r.status(), 403, "{action}");
    }

    // A manager: the link, the table with both requests in local time.
    let admin = p.client(&p.s.f.admin_email).await;
    let (_, list) = get(&admin, format!("{}/buchung", p.base)).await;
    assert!(list.contains("href=\"/buchung/anfragen\""));
    // The start page counts them for whoever decides.
    let (_, home) = get(&admin, format!("{}/staff", p.base)).await;
    assert!(
        home.contains(
            "<a href=\"/buchung/anfragen\">2 Buchungsanfrage(n) warten auf Entscheidung</a>"
        ),
        "{home}"
    );
    let (status, body) = get(&admin, queue.clone()).await;
    assert_eq!(status, 200);
    let local = at(0)
        .with_timezone(&chrono_tz::Europe::Berlin)
        .format("%H:%M")
        .to_string();
    assert!(
        body.contains("Offene Anfragen") && body.contains("Sitzungssaal"),
        "{body}"
    );
    assert!(body.contains(&local), "{body}");
    assert!(
        body.contains(&format!("for=\"f-reason-{}\"", b.id)),
        "{body}"
    );

    // Reject without a reason: 422, the German message beside the field, nothing changed.
    let r = post_form(
        &admin,
        &p.base,
        "/buchung/anfragen",
        &reject,
        &[("reason", " ")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!(
            "id=\"f-reason-{}-error\">Bitte füllen Sie dieses Feld aus.",
            b.id
        )),
        "{body}"
    );
    let still =
        service::get_reservation(&p.s.db.conn, Actor::User(&p.s.admin), ReservationId(b.id))
            .await
            .unwrap();
    assert_eq!(still.status, service::REQUESTED);

    // Approve and reject: back to the queue with a notice.
    let r = post_form(&admin, &p.base, "/buchung/anfragen", &approve, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r).await,
        "/buchung/anfragen?notice=booking_approved"
    );
    let (_, body) = get(&admin, format!("{queue}?notice=booking_approved")).await;
    assert!(body.contains("Die Anfrage wurde genehmigt"), "{body}");
    let r = post_form(
        &admin,
        &p.base,
        "/buchung/anfragen",
        &reject,
        &[("reason", "Renovierung")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r).await,
        "/buchung/anfragen?notice=booking_rejected"
    );
    let (_, body) = get(&admin, queue.clone()).await;
    assert!(body.contains("keine offenen Anfragen"), "{body}");
    let rejected =
        service::get_reservation(&p.s.db.conn, Actor::User(&p.s.admin), ReservationId(b.id))
            .await
            .unwrap();
    assert_eq!(rejected.decision_reason.as_deref(), Some("Renovierung"));

    // Deciding again: 409 with the message; another tenant's or unknown ids: 404.
    let r = post_form(&admin, &p.base, "/buchung/anfragen", &approve, &[]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("bereits entschieden"));
    let b_tenant = tenant(&p.s.db, "c", "rathaus.c.test").await;
    let foreign_room = approval_room(&b_tenant, "Fremder Saal").await.id;
    let foreign = book(&b_tenant, &b_tenant.booker, foreign_room, 0, 60)
        .await
        .unwrap();
    for action in [
        format!("/buchung/anfragen/{}/genehmigen", foreign.id),
        format!("/buchung/anfragen/{}/ablehnen", foreign.id),
        "/buchung/anfragen/x/genehmigen".to_string(),
    ] {
        let r = post_form(
            &admin,
            &p.base,
            "/buchung/anfragen",
            &action,
            &[("reason", "x")],
        )
        .await;
        assert_eq!(r.status(), 404, "{action}");
    }
}

#[tokio::test]
async fn the_resource_edit_page() {
    let p = pages().await;
    let hall = resource(&p.s, "Halle Nord", service::HALL, None).await.id;
    let url = format!("/buchung/{hall}/bearbeiten");

    // Anonymous: to the login; without booking.manage: 403 on page and form.
    let anon = p.anonymous();
    let r = anon.get(format!("{}{url}", p.base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).await.starts_with("/login"));
    let booker = p.client(&p.s.booker.email).await;
    assert_eq!(get(&booker, format!("{}{url}", p.base)).await.0, 403);
    let r = post_form(
        &booker,
        &p.base,
        &format!("/buchung/{hall}"),
        &url,
        &[("name", "x")],
    )
    .await;
    assert_eq!(r.status(), 403);
    // Another tenant's resource and nonsense ids: 404.
    let admin = p.client(&p.s.f.admin_email).await;
    for id in [p.foreign.to_string(), "abc".into()] {
        let (status, _) = get(&admin, format!("{}/buchung/{id}/bearbeiten", p.base)).await;
        assert_eq!(status, 404, "{id}");
    }

    // Bad input: German messages beside the fields, the input kept, nothing saved.
    let (status, body) = get(&admin, format!("{}{url}", p.base)).await;
    assert_eq!(status, 200);
    assert!(body.contains("Öffnungszeiten") && body.contains("Gebühren je Stunde"));
    let bad = [
        ("name", "Halle Nord"),
        ("bookable_by", "organisations"),
        ("min_minutes", "60"),
        ("max_minutes", "240"),
        ("buffer_minutes", "0"),
        ("horizon_days", "365"),
        ("cancel_hours", "zwei"),
        ("hours_mon", "22:00-08:00"),
        ("hours_tue", "08:00-22:00"),
        ("fee_citizen", "12,555"),
        ("fee_club", "0"),
        ("active", "on"),
    ];
    let r = post_form(&admin, &p.base, &url, &url, &bad).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Bitte geben Sie die Zeit als von-bis ein"),
        "{body}"
    );
    assert!(body.contains("Bitte geben Sie einen Betrag in Euro ein"));
    assert!(body.contains("Bitte geben Sie eine ganze Zahl ein"));
    assert!(body.contains("value=\"22:00-08:00\"") && body.contains("value=\"12,555\""));
    let unchanged = service::get_resource(&p.s.db.conn, Actor::User(&p.s.admin), ResourceId(hall))
        .await
        .unwrap();
    assert_eq!(unchanged.bookable_by, "staff");
    assert_eq!(unchanged.opening_hours, "");

    // Good input: saved, shown on the resource page.
    let mut good = bad.to_vec();
    good.retain(|(k, _)| !["cancel_hours", "hours_mon", "fee_citizen"].contains(k));
    good.extend([
        ("cancel_hours", "48"),
        ("hours_mon", "16:00-22:00"),
        ("fee_citizen", "12,50"),
        ("address", "Marktstraße 1"),
        ("accessibility", "Stufenloser Zugang\nBarrierefreies WC"),
    ]);
    let r = post_form(&admin, &p.base, &url, &url, &good).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let saved = service::get_resource(&p.s.db.conn, Actor::User(&p.s.admin), ResourceId(hall))
        .await
        .unwrap();
    assert_eq!(saved.bookable_by, "organisations");
    assert_eq!(saved.cancel_hours, 48);
    assert_eq!(
        rathaus_booking::service::rules::opening_hours(&saved).unwrap()[0],
        Some((16 * 60, 22 * 60))
    );
    assert_eq!(
        rathaus_booking::service::rules::fee_schedule(&saved).get("citizen"),
        Some(&1250)
    );
    let (_, page) = get(&admin, format!("{}/buchung/{hall}", p.base)).await;
    assert!(page.contains("Marktstraße 1") && page.contains("<li>Barrierefreies WC</li>"));
    assert!(page.contains("16:00–22:00") && page.contains("12,50 €"));
    assert!(page.contains("bis 48 Stunden vor Beginn"));
}

#[tokio::test]
async fn equipment_is_booked_along_with_a_room() {
    let p = pages().await;
    let room = resource(&p.s, "Ratssaal", "room", None).await;
    let other = resource(&p.s, "Trauzimmer", "room", None).await;
    let mut beamer = ResourceInput::new("Beamer", "equipment");
    beamer.room_id = Some(room.id);
    let beamer = resource_with(&p.s, beamer).await;
    let mut foreign = ResourceInput::new("Mikrofon Trauzimmer", "equipment");
    foreign.room_id = Some(other.id);
    let foreign = resource_with(&p.s, foreign).await;
    let booker = p.client(&p.s.booker.email).await;
    let url = format!("/buchung/{}", room.id);
    let (_, page) = get(&booker, format!("{}{url}", p.base)).await;
    assert!(page.contains(&format!("name=\"equipment_{}\"", beamer.id)));
    assert!(!page.contains(&format!("name=\"equipment_{}\"", foreign.id)));
    let eq = format!("equipment_{}", beamer.id);
    let date = soon();
    let fields = [
        ("date", date.as_str()),
        ("start", "10:00"),
        ("end", "11:00"),
        ("title", "Ausschuss"),
        (eq.as_str(), "on"),
    ];
    let r = post_form(&booker, &p.base, &url, &url, &fields).await;
    assert_eq!(r.status(), 303);
    let all = all_reservations(&p.s).await;
    let mut ids: Vec<i64> = all.iter().map(|x| x.resource_id).collect();
    ids.sort();
    assert_eq!(ids, vec![room.id, beamer.id]);
    // The beamer is now taken: booking another slot overlapping with it fails as a whole.
    let date2 = soon();
    let fields = [
        ("date", date2.as_str()),
        ("start", "10:30"),
        ("end", "11:30"),
        ("title", "Zweiter"),
        (eq.as_str(), "on"),
    ];
    let r = post_form(&booker, &p.base, &url, &url, &fields).await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        all_reservations(&p.s).await.len(),
        2,
        "nothing half-written"
    );
    // Equipment of another room is refused beside the field.
    let eq2 = format!("equipment_{}", foreign.id);
    let fields = [
        ("date", date2.as_str()),
        ("start", "14:00"),
        ("end", "15:00"),
        ("title", "Dritter"),
        (eq2.as_str(), "on"),
    ];
    let r = post_form(&booker, &p.base, &url, &url, &fields).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("nicht zusammen mit dieser Ressource")
    );
    assert_eq!(all_reservations(&p.s).await.len(), 2);
}

#[tokio::test]
async fn the_queue_pages_by_keyset_and_lists_series_apart() {
    let p = pages().await;
    let room = approval_room(&p.s, "Ratssaal").await;
    for k in 0..(service::QUEUE_PAGE as i64 + 5) {
        insert_request(&p.s, &p.s.booker, room.id, k * 60, k * 60 + 30).await;
    }
    let admin = p.client(&p.s.f.admin_email).await;
    let (status, first) = get(&admin, format!("{}/buchung/anfragen", p.base)).await;
    assert_eq!(status, 200);
    assert_eq!(
        first.matches("/genehmigen\"").count(),
        service::QUEUE_PAGE as usize
    );
    let next = first
        .split("href=\"/buchung/anfragen?nach=")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a link to the next page")
        .to_string();
    let (status, second) = get(&admin, format!("{}/buchung/anfragen?nach={next}", p.base)).await;
    assert_eq!(status, 200);
    assert_eq!(second.matches("/genehmigen\"").count(), 5);
    assert!(!second.contains("?nach="), "the last page has no next link");
    // Nonsense keysets mean the first page, never an error.
    let (status, again) = get(&admin, format!("{}/buchung/anfragen?nach=bald_x", p.base)).await;
    assert_eq!(status, 200);
    assert_eq!(
        again.matches("/genehmigen\"").count(),
        service::QUEUE_PAGE as usize
    );
}

#[tokio::test]
async fn the_settings_page() {
    let p = pages().await;
    let url = "/buchung/einstellungen";
    let r = p
        .anonymous()
        .get(format!("{}{url}", p.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let booker = p.client(&p.s.booker.email).await;
    assert_eq!(get(&booker, format!("{}{url}", p.base)).await.0, 403);
    let r = post_form(
        &booker,
        &p.base,
        "/buchung",
        url,
        &[("reminder_hours", "2")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let admin = p.client(&p.s.f.admin_email).await;
    let (status, body) = get(&admin, format!("{}{url}", p.base)).await;
    assert_eq!(status, 200);
    assert!(body.contains("value=\"24\"") && body.contains("checked"));
    // Bad input: the message beside the field, the input kept, nothing stored.
    let r = post_form(&admin, &p.base, url, url, &[("reminder_hours", "9999")]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("zwischen 0 und 336 Stunden") && body.contains("value=\"9999\""));
    let r = post_form(&admin, &p.base, url, url, &[("reminder_hours", "zwei")]).await;
    assert_eq!(r.status(), 422);
    let s = rathaus_booking::service::rules::settings(&p.s.db.conn, p.s.f.tenant)
        .await
        .unwrap();
    assert!(s.pending_blocks && s.reminder_hours == 24);
    // Saved: pending requests no longer block, reminders two hours ahead.
    let r = post_form(&admin, &p.base, url, url, &[("reminder_hours", "2")]).await;
    assert_eq!(r.status(), 303);
    let s = rathaus_booking::service::rules::settings(&p.s.db.conn, p.s.f.tenant)
        .await
        .unwrap();
    assert!(!s.pending_blocks && s.reminder_hours == 2);
    assert_eq!(s.priority_order, "school,club,other");
}

#[tokio::test]
async fn a_weekly_series_into_a_blackout_names_the_day_beside_the_repetition() {
    use rathaus_booking::store::entity::blackout;
    use sea_orm::{ActiveModelTrait, Set};
    let p = pages().await;
    let room = resource(&p.s, "Ratssaal", "room", None).await;
    // A blackout on the second week's day.
    let first = Utc::now().date_naive() + Duration::days(3);
    let hit = first + Duration::days(7);
    blackout::ActiveModel {
        tenant_id: Set(p.s.f.tenant.0),
        resource_id: Set(None),
        starts_at: Set(rathaus_booking::service::blackouts::midnight_utc(hit)),
        ends_at: Set(rathaus_booking::service::blackouts::midnight_utc(
            hit + Duration::days(1),
        )),
        reason: Set("Herbstferien".into()),
        source_uid: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&p.s.db.conn)
    .await
    .unwrap();
    let booker = p.client(&p.s.booker.email).await;
    let url = format!("/buchung/{}", room.id);
    let (d, u) = (
        first.format("%Y-%m-%d").to_string(),
        (first + Duration::days(21)).format("%Y-%m-%d").to_string(),
    );
    let fields = [
        ("date", d.as_str()),
        ("start", "18:00"),
        ("end", "20:00"),
        ("title", "Chor"),
        ("repeat", "weekly"),
        ("until", u.as_str()),
    ];
    let r = post_form(&booker, &p.base, &url, &url, &fields).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    let day = hit.format("%d.%m.%Y").to_string();
    assert!(body.contains("id=\"f-until-error\""), "{body}");
    assert!(
        body.contains(&day) && body.contains("Herbstferien"),
        "{body}"
    );
    assert!(
        !body.contains("id=\"f-start-error\""),
        "the first date is fine"
    );
    // With "leave out" the series is booked without that week.
    let mut fields = fields.to_vec();
    fields.push(("skip_blackouts", "on"));
    let r = post_form(&booker, &p.base, &url, &url, &fields).await;
    assert_eq!(r.status(), 303);
    assert_eq!(all_reservations(&p.s).await.len(), 3);
}
