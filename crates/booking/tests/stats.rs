//! Statistics, no-show and the fees list: utilisation per resource and month against the
//! opening hours (or 08:00–22:00), the no-show toggle with its permission, refusals and audit
//! event, and the treasury's list as page, CSV (BOM, semicolons, decimal comma) and XLSX.

use crate::common;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use common::*;
use rathaus_booking::Booking;
use rathaus_booking::service::stats;
use rathaus_booking::service::{self, MANAGE, Resource};
use rathaus_booking::store::entity::{organisation, reservation, resource};
use rathaus_core::Error;
use rathaus_store::entity::audit_event;
use rathaus_store::uow::Actor;
use rathaus_testkit::{TestApp, post_form};
use rathaus_web::{Module, WebConfig};
use reqwest::Client;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use std::io::Read;

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

fn lt(d: NaiveDate, hm: &str) -> DateTime<Utc> {
    let t = NaiveTime::parse_from_str(hm, "%H:%M").unwrap();
    Berlin
        .from_local_datetime(&d.and_time(t))
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Last year: every date in it lies in the past.
fn last_year() -> i32 {
    Utc::now().with_timezone(&Berlin).year() - 1
}

struct Res {
    resource: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: &'static str,
    no_show: bool,
    fee: i64,
    group: &'static str,
    org: Option<i64>,
}

impl Res {
    fn new(resource: i64, start: DateTime<Utc>, end: DateTime<Utc>) -> Res {
        Res {
            resource,
            start,
            end,
            status: service::CONFIRMED,
            no_show: false,
            fee: 0,
            group: "",
            org: None,
        }
    }
}

async fn insert(s: &Setup, r: Res) -> service::Reservation {
    reservation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(r.resource),
        title: Set("Training".into()),
        starts_at: Set(r.start),
        ends_at: Set(r.end),
        status: Set(r.status.into()),
        booked_by: Set(Some(s.booker.user_id.0)),
        created_at: Set(Utc::now()),
        organisation_id: Set(r.org),
        fee_cents: Set(r.fee),
        fee_group: Set(r.group.into()),
        no_show: Set(r.no_show),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap()
}

async fn edit(s: &Setup, r: &Resource, f: impl FnOnce(&mut resource::ActiveModel)) -> Resource {
    let mut am = r.clone().into_active_model();
    f(&mut am);
    am.update(&s.db.conn).await.unwrap()
}

#[tokio::test]
async fn utilisation_per_resource_and_month() {
    let s = setup().await;
    let y = last_year();
    let hall = resource(&s, "Halle Nord", service::HALL, None).await;
    // Open on Mondays 18:00–22:00 only.
    let room = resource(&s, "Sitzungssaal", "room", None).await;
    let room = edit(&s, &room, |am| {
        am.opening_hours = Set("[[1080,1320],null,null,null,null,null,null]".into())
    })
    .await;
    let march = |d| ymd(y, 3, d);
    insert(
        &s,
        Res::new(hall.id, lt(march(3), "18:00"), lt(march(3), "20:00")),
    )
    .await;
    let mut r = Res::new(hall.id, lt(march(10), "18:00"), lt(march(10), "20:00"));
    r.no_show = true;
    insert(&s, r).await;
    // Requested and cancelled ones do not count.
    for status in [service::REQUESTED, service::CANCELLED] {
        let mut r = Res::new(hall.id, lt(march(11), "08:00"), lt(march(11), "20:00"));
        r.status = status;
        insert(&s, r).await;
    }
    // Across the month's end: 2 hours in March, 1 in April; counted where it starts.
    insert(
        &s,
        Res::new(hall.id, lt(march(31), "22:00"), lt(ymd(y, 4, 1), "01:00")),
    )
    .await;
    insert(
        &s,
        Res::new(room.id, lt(march(2), "18:00"), lt(march(2), "22:00")),
    )
    .await;

    let u = stats::utilisation(&s.db.conn, Actor::User(&s.admin), y)
        .await
        .unwrap();
    assert_eq!(u.len(), 2);
    let h = &u[0];
    assert_eq!(h.resource.name, "Halle Nord");
    assert_eq!(h.months[2].booked_minutes, 2 * 60 + 2 * 60 + 2 * 60);
    assert_eq!(h.months[2].count, 3);
    assert_eq!(h.months[2].no_shows, 1);
    assert_eq!(h.months[2].open_minutes, 31 * 14 * 60);
    assert_eq!(h.months[3].booked_minutes, 60);
    assert_eq!(h.months[3].count, 0);
    assert_eq!(h.year.count, 3);
    assert_eq!(h.year.booked_minutes, 7 * 60);
    let mondays = (1..=31)
        .filter(|d| march(*d).weekday() == chrono::Weekday::Mon)
        .count() as i64;
    let r = &u[1];
    assert_eq!(r.months[2].open_minutes, mondays * 240);
    assert_eq!(r.months[2].percent(), Some(100 / mondays));
    assert_eq!(r.months[1].booked_minutes, 0);

    // Only for booking.manage; years outside 2000..=2100 are a field error.
    assert!(matches!(
        stats::utilisation(&s.db.conn, Actor::User(&s.booker), y).await,
        Err(Error::Forbidden)
    ));
    match stats::utilisation(&s.db.conn, Actor::User(&s.admin), 1800).await {
        Err(Error::Invalid(e)) => assert!(e.get("jahr").is_some()),
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[tokio::test]
async fn fees_csv_and_xlsx_hold_every_confirmed_booking_of_the_period() {
    let s = setup().await;
    let y = last_year();
    let hall = resource(&s, "Halle; Nord", service::HALL, None).await;
    let club = organisation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        name: Set("TSV \"Blau-Weiß\"".into()),
        kind: Set("club".into()),
        contact_email: Set(String::new()),
        public_name: Set(false),
        feed_token: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    let mut a = Res::new(
        hall.id,
        lt(ymd(y, 5, 4), "18:00"),
        lt(ymd(y, 5, 4), "19:30"),
    );
    a.fee = 1875;
    a.group = "citizen";
    let a = insert(&s, a).await;
    let mut b = Res::new(
        hall.id,
        lt(ymd(y, 5, 5), "18:00"),
        lt(ymd(y, 5, 5), "20:00"),
    );
    b.group = "club";
    b.org = Some(club.id);
    let b = insert(&s, b).await;
    let mut c = Res::new(
        hall.id,
        lt(ymd(y, 5, 6), "18:00"),
        lt(ymd(y, 5, 6), "20:00"),
    );
    c.status = service::CANCELLED;
    c.fee = 999;
    insert(&s, c).await;
    insert(
        &s,
        Res::new(
            hall.id,
            lt(ymd(y, 6, 1), "18:00"),
            lt(ymd(y, 6, 1), "20:00"),
        ),
    )
    .await;

    let rows = stats::fees(
        &s.db.conn,
        Actor::User(&s.admin),
        ymd(y, 5, 1),
        ymd(y, 5, 31),
    )
    .await
    .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.reservation_id).collect::<Vec<_>>(),
        [a.id, b.id]
    );
    assert_eq!(rows[0].booker, "Vera Verein");
    assert_eq!(rows[1].organisation, "TSV \"Blau-Weiß\"");
    assert_eq!(rows[0].minutes, 90);
    assert!(matches!(
        stats::fees(
            &s.db.conn,
            Actor::User(&s.booker),
            ymd(y, 5, 1),
            ymd(y, 5, 31)
        )
        .await,
        Err(Error::Forbidden)
    ));
    match stats::fees(
        &s.db.conn,
        Actor::User(&s.admin),
        ymd(y, 5, 31),
        ymd(y, 5, 1),
    )
    .await
    {
        Err(Error::Invalid(e)) => assert!(e.get("bis").is_some()),
        other => panic!("{other:?}"),
    }

    let t = rathaus_web::i18n::catalog(rathaus_web::i18n::Lang::De);
    // The app registers the module's texts at start; here the test does.
    if let Some(src) = Booking.translations(rathaus_web::i18n::Lang::De) {
        rathaus_web::i18n::register(rathaus_web::i18n::Lang::De, src);
    }
    let csv = String::from_utf8(rathaus_booking::http::pages::stats::fees_csv(t, &rows)).unwrap();
    assert!(csv.starts_with('\u{feff}'), "BOM");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(
        lines[0],
        "Datum;Beginn;Ende;Ressource;Gebucht von;Organisation;Stunden;Gebührengruppe;Gebühr (EUR);Buchungsnummer"
    );
    assert_eq!(
        lines[1],
        format!(
            "04.05.{y};18:00;19:30;\"Halle; Nord\";Vera Verein;;1,50;Privatperson;18,75;{}",
            a.id
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "05.05.{y};18:00;20:00;\"Halle; Nord\";Vera Verein;\"TSV \"\"Blau-Weiß\"\"\";2,00;Verein;0,00;{}",
            b.id
        )
    );
    assert_eq!(lines.len(), 4, "header, two rows, and the final line end");

    let xlsx = rathaus_booking::http::pages::stats::fees_xlsx(t, &rows).unwrap();
    check_xlsx(&xlsx, a.id);
}

/// The workbook is a zip archive with the sheet; its texts and numbers are where they belong.
/// Parsed with openpyxl too where target/test-venv has it.
fn check_xlsx(bytes: &[u8], first_id: i64) {
    assert_eq!(&bytes[..2], b"PK");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let strings = read("xl/sharedStrings.xml");
    for text in [
        "Buchungsnummer",
        "Halle; Nord",
        "Privatperson",
        "Vera Verein",
    ] {
        assert!(strings.contains(text), "{text}: {strings}");
    }
    assert!(strings.contains("TSV &quot;Blau-Weiß&quot;") || strings.contains("TSV \"Blau-Weiß\""));
    let sheet = read("xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<v>18.75</v>"), "{sheet}");
    assert!(sheet.contains("<v>1.5</v>"));
    assert!(sheet.contains(&format!("<v>{first_id}</v>")));
    let workbook = read("xl/workbook.xml");
    assert!(workbook.contains("name=\"Gebühren\""), "{workbook}");

    let py =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv/bin/python");
    let has_openpyxl = py.exists()
        && std::process::Command::new(&py)
            .args(["-c", "import openpyxl"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if has_openpyxl {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fees.xlsx");
        std::fs::write(&file, bytes).unwrap();
        let out = std::process::Command::new(&py)
            .arg("-c")
            .arg(
                "import openpyxl,sys\n\
                 ws = openpyxl.load_workbook(sys.argv[1]).active\n\
                 rows = list(ws.iter_rows(values_only=True))\n\
                 print(rows[0][0], rows[1][8], rows[1][9], rows[1][0].strftime('%d.%m.'))",
            )
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.starts_with(&format!("Datum 18.75 {first_id} 04.05.")),
            "{text}"
        );
    }
}

// ------------------------------------------------------------------ through the app

struct Pages {
    app: TestApp,
    s: Setup,
    base: String,
    /// A past confirmed reservation of tenant b.
    foreign: i64,
}

async fn pages() -> Pages {
    let mut s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let hall_b = resource(&b, "Fremde Halle", service::HALL, None).await;
    let y = last_year();
    let foreign = insert(
        &b,
        Res::new(
            hall_b.id,
            lt(ymd(y, 5, 4), "18:00"),
            lt(ymd(y, 5, 4), "19:00"),
        ),
    )
    .await
    .id;
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
    async fn get(&self, c: &Client, path: &str) -> reqwest::Response {
        c.get(format!("{}{path}", self.base)).send().await.unwrap()
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn no_show_events(s: &Setup, id: i64) -> usize {
    audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(s.f.tenant.0))
        .filter(audit_event::Column::Action.eq("booking.reservation.no_show"))
        .filter(audit_event::Column::ObjectId.eq(id.to_string()))
        .all(&s.db.conn)
        .await
        .unwrap()
        .len()
}

async fn stored(s: &Setup, id: i64) -> service::Reservation {
    reservation::Entity::find_by_id(id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn no_show_is_a_toggle_for_managers_with_an_audit_event() {
    let p = pages().await;
    let s = &p.s;
    let y = last_year();
    let hall = resource(s, "Halle Nord", service::HALL, None).await;
    let past = insert(
        s,
        Res::new(
            hall.id,
            lt(ymd(y, 5, 4), "18:00"),
            lt(ymd(y, 5, 4), "20:00"),
        ),
    )
    .await;
    let mut r = Res::new(
        hall.id,
        lt(ymd(y, 5, 5), "18:00"),
        lt(ymd(y, 5, 5), "20:00"),
    );
    r.status = service::CANCELLED;
    let cancelled = insert(s, r).await;
    let future = insert(s, Res::new(hall.id, at(0), at(60))).await;
    let action = |id: i64| format!("/buchung/reservierung/{id}/nicht-genutzt");

    // Anonymous: to the login; nothing changes.
    let anon = p.app.client(&[HOST]);
    let r = post_form(&anon, &p.base, "/login", &action(past.id), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login");
    // Without booking.manage: 403, also for a booker.
    for email in [&s.f.clerk_email, &s.booker.email] {
        let c = p.client(email).await;
        let r = post_form(&c, &p.base, "/staff", &action(past.id), &[]).await;
        assert_eq!(r.status(), 403, "{email}");
    }
    assert!(!stored(s, past.id).await.no_show);
    assert_eq!(no_show_events(s, past.id).await, 0);

    // A manager (without booking.book): marked, back to the day view with a notice; again:
    // unmarked. One audit event each.
    let manager = user_with(&s.db, s.f.tenant, "verwaltung@a.example", &[MANAGE]).await;
    let mgr = p.client(&manager.email).await;
    let back = format!("/buchung/{}/tag?datum={y}-05-04", hall.id);
    let r = post_form(
        &mgr,
        &p.base,
        &back,
        &action(past.id),
        &[("zurueck", &back)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("{back}&notice=booking_stats.no_show_set")
    );
    assert!(stored(s, past.id).await.no_show);
    let body = p.get(&mgr, &location(&r)).await.text().await.unwrap();
    assert!(
        body.contains("Die Buchung ist als nicht genutzt markiert."),
        "{body}"
    );
    assert!(body.contains("Markierung „nicht genutzt“ aufheben"));
    let r = post_form(
        &mgr,
        &p.base,
        &back,
        &action(past.id),
        &[("zurueck", "https://evil.example/")],
    )
    .await;
    assert_eq!(
        location(&r),
        "/buchung/statistik?notice=booking_stats.no_show_unset"
    );
    assert!(!stored(s, past.id).await.no_show);
    assert_eq!(no_show_events(s, past.id).await, 2);

    // Future or cancelled: 409 and unchanged; unknown, malformed or foreign: 404.
    for id in [future.id, cancelled.id] {
        let r = post_form(&mgr, &p.base, &back, &action(id), &[]).await;
        assert_eq!(r.status(), 409, "{id}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Nur vergangene, bestätigte Buchungen"),
            "{body}"
        );
        assert!(!stored(s, id).await.no_show);
    }
    for id in ["999999".to_string(), "x".into(), p.foreign.to_string()] {
        let r = post_form(
            &mgr,
            &p.base,
            &back,
            &format!("/buchung/reservierung/{id}/nicht-genutzt"),
            &[],
        )
        .await;
        assert_eq!(r.status(), 404, "{id}");
    }
    // Without the CSRF token: refused.
    let r = mgr
        .post(format!("{}{}", p.base, action(past.id)))
        .form(&[("zurueck", "/buchung")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!stored(s, past.id).await.no_show);

    // The statistics page counts it.
    post_form(&mgr, &p.base, &back, &action(past.id), &[]).await;
    let r = p.get(&mgr, &format!("/buchung/statistik?jahr={y}")).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("<caption id=\"stats-caption\">"));
    assert!(
        body.contains("2,00 Std., 1 Buchungen, 1 nicht genutzt"),
        "{body}"
    );
}

#[tokio::test]
async fn statistics_and_fees_pages_and_downloads() {
    let p = pages().await;
    let s = &p.s;
    let y = last_year();
    let hall = resource(s, "Halle Nord", service::HALL, None).await;
    let mut r = Res::new(
        hall.id,
        lt(ymd(y, 5, 4), "18:00"),
        lt(ymd(y, 5, 4), "20:00"),
    );
    r.fee = 2500;
    r.group = "citizen";
    let a = insert(s, r).await;
    let q = format!("?von={y}-05-01&bis={y}-05-31");
    let paths = [
        format!("/buchung/statistik?jahr={y}"),
        format!("/buchung/gebuehren{q}"),
        format!("/buchung/gebuehren.csv{q}"),
        format!("/buchung/gebuehren.xlsx{q}"),
    ];

    let anon = p.app.client(&[HOST]);
    for path in &paths {
        let r = p.get(&anon, path).await;
        assert_eq!(r.status(), 303, "{path}");
        assert!(location(&r).starts_with("/login"));
    }
    for email in [&s.f.clerk_email, &s.booker.email] {
        let c = p.client(email).await;
        for path in &paths {
            assert_eq!(p.get(&c, path).await.status(), 403, "{email} {path}");
        }
    }

    let admin = p.client(&s.f.admin_email).await;
    let body = p.get(&admin, &paths[0]).await.text().await.unwrap();
    assert!(body.contains("Halle Nord") && body.contains("<th scope=\"col\">Mai</th>"));
    let r = p.get(&admin, &paths[1]).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("<th scope=\"row\">{}</th>", a.id)));
    assert!(body.contains("25,00 €") && body.contains("Privatperson"));
    assert!(body.contains(&format!("href=\"/buchung/gebuehren.csv?von={y}-05-01")));

    let r = p.get(&admin, &paths[2]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}Datum;"));
    assert!(csv.contains(";Halle Nord;Vera Verein;;2,00;Privatperson;25,00;"));

    let r = p.get(&admin, &paths[3]).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert!(sheet.contains("<v>25</v>"), "{sheet}");
    // Both downloads name people: each is an audit event with its format and period.
    let exports = rathaus_store::audit::list(
        &s.db.conn,
        &rathaus_testkit::principal(&s.db, s.f.tenant, s.f.admin).await,
        &rathaus_store::audit::AuditFilter {
            action: Some("booking.fees_exported".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(exports.len(), 2);
    let details: Vec<String> = exports.iter().map(|e| e.details.clone()).collect();
    assert!(
        details.iter().any(|d| d.contains("\"xlsx\"")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains(&format!("{y}-05-31"))),
        "{details:?}"
    );

    // Bad input: a German message beside the field, the input kept, 422.
    for (path, field, text) in [
        (
            "/buchung/statistik?jahr=zwanzig".to_string(),
            "jahr",
            "zwischen 2000 und 2100",
        ),
        (
            "/buchung/gebuehren?von=gestern".into(),
            "von",
            "gültiges Datum",
        ),
        (
            format!("/buchung/gebuehren?von={y}-05-31&bis={y}-05-01"),
            "bis",
            "Das Ende muss nach dem Beginn liegen.",
        ),
        (
            format!("/buchung/gebuehren?von={}-01-01&bis={y}-12-31", y - 1),
            "bis",
            "höchstens 366 Tage",
        ),
    ] {
        let r = p.get(&admin, &path).await;
        assert_eq!(r.status(), 422, "{path}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains(&format!("id=\"f-{field}-error\"")),
            "{path}: {body}"
        );
        assert!(body.contains(text), "{path}");
    }
    let body = p
        .get(&admin, "/buchung/gebuehren?von=gestern")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("value=\"gestern\""));
    assert_eq!(
        p.get(&admin, "/buchung/gebuehren.csv?von=gestern")
            .await
            .status(),
        422
    );
}
