//! The views through the query functions and the real app: the occupancy grid with its
//! filters, hall/part blocking in grid and free-slot search, opening hours, blackouts and
//! buffers in the search, day and month views, the public occupancy pages (busy times only;
//! an organisation's name only with its consent), access and bad input.

use crate::common;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use common::*;
use rathaus_booking::service::views::{self, Filter};
use rathaus_booking::service::{self, Resource};
use rathaus_booking::store::entity::{blackout, organisation, reservation, resource};
use rathaus_store::uow::Actor;
use rathaus_testkit::TestApp;
use rathaus_web::WebConfig;
use reqwest::Client;
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

/// A Monday two to three weeks ahead (Europe/Berlin): in the future, inside every horizon.
fn monday() -> NaiveDate {
    let d = Utc::now().with_timezone(&Berlin).date_naive() + Duration::days(14);
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// Local wall-clock time on `d` as UTC.
fn lt(d: NaiveDate, hm: &str) -> DateTime<Utc> {
    let t = NaiveTime::parse_from_str(hm, "%H:%M").unwrap();
    Berlin
        .from_local_datetime(&d.and_time(t))
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn week(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Sets the fields `ResourceInput` does not carry.
async fn edit(s: &Setup, r: &Resource, f: impl FnOnce(&mut resource::ActiveModel)) -> Resource {
    let mut am = r.clone().into_active_model();
    f(&mut am);
    am.update(&s.db.conn).await.unwrap()
}

struct Res<'a> {
    resource: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: &'a str,
    title: &'a str,
    org: Option<i64>,
}

async fn insert(s: &Setup, r: Res<'_>) -> service::Reservation {
    reservation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(r.resource),
        title: Set(r.title.into()),
        starts_at: Set(r.start),
        ends_at: Set(r.end),
        status: Set(r.status.into()),
        booked_by: Set(Some(s.booker.user_id.0)),
        created_at: Set(Utc::now()),
        organisation_id: Set(r.org),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap()
}

async fn org(s: &Setup, name: &str, public_name: bool) -> i64 {
    organisation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        name: Set(name.into()),
        kind: Set("club".into()),
        contact_email: Set(String::new()),
        public_name: Set(public_name),
        feed_token: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap()
    .id
}

/// The resources of every test: a hall with two parts, a public room, a staff-only room.
struct World {
    hall: Resource,
    part1: Resource,
    part2: Resource,
    room: Resource,
    staff_room: Resource,
    monday: NaiveDate,
}

async fn world(s: &Setup) -> World {
    let hall = resource(s, "Halle Nord", service::HALL, None).await;
    let hall = edit(s, &hall, |am| {
        am.address = Set("Schulstraße 1, Nordstadt".into());
        am.capacity = Set(Some(200));
        am.bookable_by = Set("organisations".into());
    })
    .await;
    let part1 = resource(s, "Halle Nord Teil 1", service::HALL_PART, Some(hall.id)).await;
    let part2 = resource(s, "Halle Nord Teil 2", service::HALL_PART, Some(hall.id)).await;
    let room = resource(s, "Sitzungssaal", "room", None).await;
    let room = edit(s, &room, |am| {
        am.address = Set("Marktplatz 2".into());
        am.capacity = Set(Some(20));
        am.bookable_by = Set("public".into());
    })
    .await;
    let staff_room = resource(s, "Besprechungsraum Kämmerei", "room", None).await;
    World {
        hall,
        part1,
        part2,
        room,
        staff_room,
        monday: monday(),
    }
}

#[tokio::test]
async fn the_grid_shows_busy_blocks_with_hall_and_part_blocking_and_filters() {
    let s = setup().await;
    let w = world(&s).await;
    let (tue, wed) = (w.monday + Duration::days(1), w.monday + Duration::days(2));
    insert(
        &s,
        Res {
            resource: w.hall.id,
            start: lt(tue, "18:00"),
            end: lt(tue, "20:00"),
            status: service::CONFIRMED,
            title: "Training",
            org: None,
        },
    )
    .await;
    insert(
        &s,
        Res {
            resource: w.part1.id,
            start: lt(wed, "10:00"),
            end: lt(wed, "12:00"),
            status: service::REQUESTED,
            title: "Schulsport",
            org: None,
        },
    )
    .await;
    // Cancelled ones and those of the week after are not shown.
    insert(
        &s,
        Res {
            resource: w.room.id,
            start: lt(tue, "09:00"),
            end: lt(tue, "10:00"),
            status: service::CANCELLED,
            title: "x",
            org: None,
        },
    )
    .await;
    insert(
        &s,
        Res {
            resource: w.room.id,
            start: lt(w.monday + Duration::days(7), "09:00"),
            end: lt(w.monday + Duration::days(7), "10:00"),
            status: service::CONFIRMED,
            title: "x",
            org: None,
        },
    )
    .await;

    let g = views::grid(
        &s.db.conn,
        Actor::User(&s.admin),
        &Filter::default(),
        w.monday,
    )
    .await
    .unwrap();
    assert_eq!(g.total, 5);
    let row = |id: i64| g.rows.iter().find(|r| r.resource.id == id).unwrap();
    let hall = row(w.hall.id);
    assert_eq!(hall.days.len(), 7);
    assert_eq!(hall.days[1].len(), 1);
    assert_eq!(hall.days[1][0].via, None);
    // The part's request blocks the whole hall, the hall blocks each part; siblings not.
    assert_eq!(hall.days[2][0].via, Some(w.part1.id));
    assert_eq!(row(w.part1.id).days[1][0].via, Some(w.hall.id));
    assert_eq!(row(w.part2.id).days[1].len(), 1);
    assert!(row(w.part2.id).days[2].is_empty());
    assert!(row(w.room.id).days.iter().all(|d| d.is_empty()));

    let (conn, admin, monday) = (&s.db.conn, &s.admin, w.monday);
    let only = |f: Filter| async move {
        let g = views::grid(conn, Actor::User(admin), &f, monday)
            .await
            .unwrap();
        g.rows
            .iter()
            .map(|r| r.resource.name.clone())
            .collect::<Vec<_>>()
    };
    let rooms = only(Filter {
        kind: Some("room".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(rooms, ["Besprechungsraum Kämmerei", "Sitzungssaal"]);
    let north = only(Filter {
        place: Some("NORDSTADT".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(north, ["Halle Nord"]);
    let big = only(Filter {
        min_capacity: Some(50),
        ..Default::default()
    })
    .await;
    assert_eq!(big, ["Halle Nord"]);

    // Paging: 30 more rooms make two pages of at most 25.
    for i in 0..30 {
        resource(&s, &format!("Raum {i:02}"), "room", None).await;
    }
    let g = views::grid(
        &s.db.conn,
        Actor::User(&s.admin),
        &Filter::default(),
        w.monday,
    )
    .await
    .unwrap();
    assert_eq!((g.total, g.pages, g.rows.len()), (35, 2, 25));
    let f = Filter {
        page: 1,
        ..Default::default()
    };
    let g = views::grid(&s.db.conn, Actor::User(&s.admin), &f, w.monday)
        .await
        .unwrap();
    assert_eq!(g.rows.len(), 10);
    // A larger page size, or every resource on one page.
    for (size, pages, rows) in [
        (rathaus_booking::domain::GridPageSize::P50, 1, 35),
        (rathaus_booking::domain::GridPageSize::All, 1, 35),
    ] {
        let f = Filter {
            page: 3,
            page_size: size,
            ..Default::default()
        };
        let g = views::grid(&s.db.conn, Actor::User(&s.admin), &f, w.monday)
            .await
            .unwrap();
        assert_eq!(
            (g.total, g.pages, g.page, g.rows.len()),
            (35, pages, 0, rows)
        );
    }
}

#[tokio::test]
async fn free_search_respects_blocking_buffers_opening_hours_and_blackouts() {
    let s = setup().await;
    let w = world(&s).await;
    let tue = w.monday + Duration::days(1);
    let (start, end) = (lt(tue, "18:00"), lt(tue, "20:00"));
    let names = |rs: Vec<Resource>| rs.into_iter().map(|r| r.name).collect::<Vec<_>>();
    let all = names(
        views::free_resources(
            &s.db.conn,
            Actor::User(&s.admin),
            &Filter::default(),
            start,
            end,
        )
        .await
        .unwrap(),
    );
    assert_eq!(all.len(), 5, "{all:?}");

    // Part 1 booked: the hall is taken too, part 2 stays free.
    insert(
        &s,
        Res {
            resource: w.part1.id,
            start: lt(tue, "19:00"),
            end: lt(tue, "21:00"),
            status: service::CONFIRMED,
            title: "Training",
            org: None,
        },
    )
    .await;
    // The room: a booking ending 17:45 with 30 minutes buffer is in the way.
    let room = edit(&s, &w.room, |am| am.buffer_minutes = Set(30)).await;
    insert(
        &s,
        Res {
            resource: room.id,
            start: lt(tue, "16:00"),
            end: lt(tue, "17:45"),
            status: service::CONFIRMED,
            title: "Rat",
            org: None,
        },
    )
    .await;
    let free = names(
        views::free_resources(
            &s.db.conn,
            Actor::User(&s.admin),
            &Filter::default(),
            start,
            end,
        )
        .await
        .unwrap(),
    );
    assert_eq!(free, ["Besprechungsraum Kämmerei", "Halle Nord Teil 2"]);

    // Opening hours: the staff room closes at 19:00 on Tuesdays; part 2 is on a blackout.
    edit(&s, &w.staff_room, |am| {
        am.opening_hours =
            Set("[[480,1320],[480,1140],[480,1320],[480,1320],[480,1320],null,null]".into())
    })
    .await;
    blackout::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(Some(w.part2.id)),
        starts_at: Set(lt(tue, "00:00")),
        ends_at: Set(lt(tue + Duration::days(1), "00:00")),
        reason: Set("Wartung".into()),
        source_uid: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    let free = views::free_resources(
        &s.db.conn,
        Actor::User(&s.admin),
        &Filter::default(),
        start,
        end,
    )
    .await
    .unwrap();
    assert!(free.is_empty(), "{:?}", names(free));
    // Earlier that day the staff room is open and part 2 still on its blackout.
    let free = names(
        views::free_resources(
            &s.db.conn,
            Actor::User(&s.admin),
            &Filter::default(),
            lt(tue, "10:00"),
            lt(tue, "11:00"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        free,
        [
            "Besprechungsraum Kämmerei",
            "Halle Nord",
            "Halle Nord Teil 1",
            "Sitzungssaal"
        ]
    );
    // A tenant-wide blackout closes everything.
    blackout::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(None),
        starts_at: Set(lt(tue, "09:00")),
        ends_at: Set(lt(tue, "12:00")),
        reason: Set("Feiertag".into()),
        source_uid: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    assert!(
        views::free_resources(
            &s.db.conn,
            Actor::User(&s.admin),
            &Filter::default(),
            lt(tue, "10:00"),
            lt(tue, "11:00"),
        )
        .await
        .unwrap()
        .is_empty()
    );
    // Bad windows are field errors.
    for (a, b, field) in [(end, start, "bis"), (start, start, "bis")] {
        match views::free_resources(&s.db.conn, Actor::User(&s.admin), &Filter::default(), a, b)
            .await
        {
            Err(rathaus_core::Error::Invalid(e)) => assert!(e.get(field).is_some()),
            other => panic!("{other:?}"),
        }
    }
}

// ------------------------------------------------------------------ through the app

struct Pages {
    app: TestApp,
    s: Setup,
    base: String,
    foreign: i64,
}

async fn pages() -> Pages {
    let mut s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let foreign = resource(&b, "Fremde Halle", service::HALL, None).await;
    let foreign = edit(&b, &foreign, |am| am.bookable_by = Set("public".into()))
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
    async fn get(&self, c: &Client, path: &str) -> (u16, String) {
        let r = c.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = r.text().await.unwrap();
        (status, if status == 303 { loc } else { body })
    }
}

#[tokio::test]
async fn pages_show_the_grid_search_day_and_month_to_whom_they_may() {
    let p = pages().await;
    let w = world(&p.s).await;
    let tue = w.monday + Duration::days(1);
    insert(
        &p.s,
        Res {
            resource: w.hall.id,
            start: lt(tue, "18:00"),
            end: lt(tue, "20:00"),
            status: service::CONFIRMED,
            title: "Geheimes Training",
            org: None,
        },
    )
    .await;
    let wk = week(w.monday);
    let grid = format!("/buchung/belegung?woche={wk}");
    let day = format!("/buchung/{}/tag?datum={tue}", w.part1.id);
    let month = format!("/buchung/{}/monat?monat={}", w.hall.id, tue.format("%Y-%m"));
    let free = format!("/buchung/frei?datum={tue}&von=18:00&bis=20:00");

    // Anonymous: the login.
    let anon = p.app.client(&[HOST]);
    for path in [&grid, &day, &month, &free] {
        let (status, loc) = p.get(&anon, path).await;
        assert_eq!(status, 303, "{path}");
        assert!(loc.starts_with("/login"), "{path}");
    }

    // The admin: a real table with the busy block as text, and the hall blocking its part.
    let admin = p.client(&p.s.f.admin_email).await;
    let (status, body) = p.get(&admin, &grid).await;
    assert_eq!(status, 200);
    assert!(body.contains("<caption id=\"grid-caption\">"), "{body}");
    assert!(body.contains("<th scope=\"row\">"));
    assert!(body.contains("<th scope=\"col\">"));
    assert!(body.contains("18:00–20:00 belegt (bestätigt)"), "{body}");
    assert!(body.contains("18:00–20:00 belegt (bestätigt) über Halle Nord"));
    assert!(body.contains("Besprechungsraum Kämmerei"));
    assert!(!body.contains("Geheimes Training"));
    let (_, body) = p
        .get(&admin, &format!("{grid}&art=room&kapazitaet=10"))
        .await;
    assert!(body.contains("Sitzungssaal") && !body.contains("Halle Nord Teil"));
    assert!(!body.contains("Besprechungsraum"), "no capacity given");

    let (status, body) = p.get(&admin, &day).await;
    assert_eq!(status, 200);
    assert!(body.contains("18:00–20:00") && body.contains("Halle Nord"));
    assert!(body.contains(&format!("/buchung/{}?woche={wk}", w.part1.id)));
    let (status, body) = p.get(&admin, &month).await;
    assert_eq!(status, 200);
    assert!(body.contains("18:00–20:00 belegt (bestätigt)"));
    assert!(body.contains(&format!("/buchung/{}/tag?datum={tue}", w.hall.id)));

    let (status, body) = p.get(&admin, &free).await;
    assert_eq!(status, 200);
    assert!(
        !body.contains("Halle Nord Teil"),
        "hall and parts are taken"
    );
    assert!(body.contains("Sitzungssaal"));
    assert!(body.contains(&format!(
        "/buchung/{}?woche={wk}&#38;datum={tue}",
        w.room.id
    )));

    // A colleague without booking permissions sees only what is open to the public.
    let clerk = p.client(&p.s.f.clerk_email).await;
    let (status, body) = p.get(&clerk, &grid).await;
    assert_eq!(status, 200);
    assert!(body.contains("Sitzungssaal"));
    assert!(!body.contains("Besprechungsraum") && !body.contains("Halle Nord"));
    let (_, body) = p.get(&clerk, &free).await;
    assert!(body.contains("Sitzungssaal") && !body.contains("Besprechungsraum"));
    let (status, _) = p
        .get(&clerk, &format!("/buchung/{}/tag", w.staff_room.id))
        .await;
    // Resources not open to them answer like missing ones.
    assert_eq!(status, 404);
    let (status, _) = p
        .get(&clerk, &format!("/buchung/{}/monat", w.hall.id))
        .await;
    assert_eq!(status, 404);
    let (status, _) = p.get(&clerk, &format!("/buchung/{}/tag", w.room.id)).await;
    assert_eq!(status, 200);

    // A booker sees everything; unknown, malformed and foreign ids answer 404.
    let booker = p.client(&p.s.booker.email).await;
    let (_, body) = p.get(&booker, &grid).await;
    assert!(body.contains("Besprechungsraum") && body.contains("Halle Nord Teil 2"));
    for id in ["999999".to_string(), "abc".into(), p.foreign.to_string()] {
        let (status, _) = p.get(&booker, &format!("/buchung/{id}/tag")).await;
        assert_eq!(status, 404, "{id}");
        let (status, _) = p.get(&booker, &format!("/buchung/{id}/monat")).await;
        assert_eq!(status, 404, "{id}");
    }
}

#[tokio::test]
async fn bad_input_gets_a_german_message_beside_the_field() {
    let p = pages().await;
    let w = world(&p.s).await;
    let admin = p.client(&p.s.f.admin_email).await;
    let tue = w.monday + Duration::days(1);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "/buchung/belegung?woche=2026-W99".into(),
            "f-woche-error",
            "Bitte geben Sie eine Kalenderwoche ein",
        ),
        (
            "/buchung/belegung?kapazitaet=viele".into(),
            "f-kapazitaet-error",
            "ganze Zahl",
        ),
        ("/buchung/belegung?art=schwimmbad".into(), "f-art-error", ""),
        ("/buchung/belegung?anzahl=1000".into(), "f-anzahl-error", ""),
        (
            "/buchung/frei?datum=31.02.2027&von=18:00&bis=20:00".into(),
            "f-datum-error",
            "gültiges Datum",
        ),
        (
            format!("/buchung/frei?datum={tue}&von=25:00&bis=20:00"),
            "f-von-error",
            "gültige Uhrzeit",
        ),
        (
            format!("/buchung/frei?datum={tue}&von=20:00&bis=18:00"),
            "f-bis-error",
            "Das Ende muss nach dem Beginn liegen.",
        ),
        (
            "/buchung/frei?datum=2020-01-07&von=18:00&bis=20:00".into(),
            "f-von-error",
            "Vergangenheit",
        ),
        (
            format!("/buchung/{}/tag?datum=morgen", w.room.id),
            "f-datum-error",
            "gültiges Datum",
        ),
        (
            format!("/buchung/{}/monat?monat=2026-13", w.room.id),
            "f-monat-error",
            "Bitte geben Sie einen Monat ein",
        ),
    ];
    for (path, id, text) in cases {
        let (status, body) = p.get(&admin, &path).await;
        assert_eq!(status, 422, "{path}");
        assert!(body.contains(&format!("id=\"{id}\"")), "{path}: {body}");
        assert!(body.contains(text), "{path}");
        assert!(body.contains("aria-invalid=\"true\""), "{path}");
    }
    // The input is kept.
    let (_, body) = p
        .get(&admin, "/buchung/belegung?woche=2026-W99&ort=Markt")
        .await;
    assert!(body.contains("value=\"2026-W99\"") && body.contains("value=\"Markt\""));
    // A non-existent local time (spring forward) is refused, not guessed.
    let (status, body) = p
        .get(&admin, "/buchung/frei?datum=2027-03-28&von=02:30&bis=04:00")
        .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("02:30 Uhr gibt es an diesem Tag nicht"),
        "{body}"
    );
    // The public page too.
    let anon = p.app.client(&[HOST]);
    let (status, body) = p
        .get(&anon, &format!("/belegung/{}?woche=bald", w.room.id))
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("Bitte geben Sie eine Kalenderwoche ein"));
}

#[tokio::test]
async fn the_public_page_shows_busy_times_and_names_only_with_consent() {
    let p = pages().await;
    let w = world(&p.s).await;
    let tue = w.monday + Duration::days(1);
    let agreed = org(&p.s, "TSV Nordstadt", true).await;
    let private = org(&p.s, "Geheimbund e. V.", false).await;
    for (res, from, to, org, title) in [
        (&w.hall, "18:00", "20:00", Some(agreed), "Training A-Jugend"),
        (&w.hall, "20:00", "22:00", Some(private), "Vorstandssitzung"),
        (&w.part1, "10:00", "11:00", None, "Herr Müller privat"),
        (&w.staff_room, "10:00", "11:00", None, "Personalgespräch"),
    ] {
        insert(
            &p.s,
            Res {
                resource: res.id,
                start: lt(tue, from),
                end: lt(tue, to),
                status: service::CONFIRMED,
                title,
                org,
            },
        )
        .await;
    }
    let anon = p.app.client(&[HOST]);
    let (status, body) = p.get(&anon, "/belegung").await;
    assert_eq!(status, 200);
    assert!(body.contains("Halle Nord") && body.contains("Sitzungssaal"));
    assert!(!body.contains("Besprechungsraum Kämmerei"), "staff only");
    assert!(body.contains(&format!("href=\"/belegung/{}\"", w.hall.id)));

    let (status, body) = p
        .get(
            &anon,
            &format!("/belegung/{}?woche={}", w.hall.id, week(w.monday)),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("<caption id=\"public-week-caption\">"));
    assert!(
        body.contains("18:00–20:00 belegt – TSV Nordstadt"),
        "{body}"
    );
    assert!(body.contains("20:00–22:00 belegt<"));
    assert!(
        body.contains("10:00–11:00 belegt<"),
        "the part blocks the hall"
    );
    for secret in [
        "Geheimbund",
        "Training A-Jugend",
        "Vorstandssitzung",
        "Müller",
        "Personalgespräch",
        "Vera Verein",
    ] {
        assert!(!body.contains(secret), "{secret}");
    }
    assert!(body.contains(&format!("href=\"/belegung/{}/kalender.ics\"", w.hall.id)));

    // Staff-only, unknown and foreign resources are not there.
    for id in [
        w.staff_room.id.to_string(),
        "999999".into(),
        "x".into(),
        p.foreign.to_string(),
    ] {
        let (status, _) = p.get(&anon, &format!("/belegung/{id}")).await;
        assert_eq!(status, 404, "{id}");
    }
    // An inactive resource disappears from the public pages.
    edit(&p.s, &w.room, |am| am.active = Set(false)).await;
    let (_, body) = p.get(&anon, "/belegung").await;
    assert!(!body.contains("Sitzungssaal"));
    let (status, _) = p.get(&anon, &format!("/belegung/{}", w.room.id)).await;
    assert_eq!(status, 404);
}
