//! Season allocation on the configured backend (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): requests by organisation members, priority order (schools
//! before clubs), conflicts side by side, automatic allocation, publishing as weekly series
//! that skip a blackout week, a conflict at publish rolling everything back, bad input with
//! German messages, and who may do what.
//!
//! The season lies two to twelve weeks ahead (ten weeks: each weekday occurs ten times).

use crate::common;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use common::*;
use rathaus_booking::Booking;
use rathaus_booking::domain::{OrganisationId, SeasonId, SeasonRequestId};
use rathaus_booking::service::orgs::{self, OrgInput, Organisation};
use rathaus_booking::service::season::{self, RequestInput, Season, SeasonInput};
use rathaus_booking::service::{self, CONFIRMED, MANAGE, ReserveError, Resource, ResourceInput};
use rathaus_booking::store::entity::{blackout, reservation, series as series_entity};
use rathaus_core::{Error, Principal, UserId};
use rathaus_store::accounts;
use rathaus_store::entity::mail;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, login, post_form};
use rathaus_web::i18n::Lang;
use rathaus_web::{AppState, Module, WebConfig};
use reqwest::Client;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

fn first_day() -> NaiveDate {
    Utc::now().with_timezone(&Berlin).date_naive() + Duration::days(14)
}

fn season_input() -> SeasonInput {
    let from = first_day();
    SeasonInput {
        name: "Wintersaison".into(),
        starts_on: from.to_string(),
        ends_on: (from + Duration::days(69)).to_string(),
    }
}

struct World {
    s: Setup,
    hall: Resource,
    part: Resource,
    part2: Resource,
    school: Organisation,
    club: Organisation,
    /// A citizen, member of the club.
    member: Principal,
    season: Season,
}

async fn org(s: &Setup, name: &str, kind: &str, email: &str) -> Organisation {
    let inp = OrgInput {
        name: name.into(),
        kind: kind.into(),
        contact_email: email.into(),
        public_name: false,
    };
    orgs::create_organisation(&s.db.conn, Actor::User(&s.admin), inp)
        .await
        .unwrap()
}

async fn hall_resource(s: &Setup, name: &str, kind: &str, parent: Option<i64>) -> Resource {
    let mut inp = ResourceInput::new(name, kind);
    inp.parent_id = parent;
    inp.bookable_by = "organisations".into();
    inp.requires_approval = true;
    inp.horizon_days = 3650;
    resource_with(s, inp).await
}

async fn world_in(s: Setup) -> World {
    // Mails are written from the module's German texts, which the app registers at start.
    for lang in [Lang::De, Lang::En] {
        if let Some(src) = Booking.translations(lang) {
            rathaus_web::i18n::register(lang, src);
        }
    }
    let hall = hall_resource(&s, "Sporthalle Nord", service::HALL, None).await;
    let part = hall_resource(&s, "Nord, Drittel 1", service::HALL_PART, Some(hall.id)).await;
    let part2 = hall_resource(&s, "Nord, Drittel 2", service::HALL_PART, Some(hall.id)).await;
    let school = org(&s, "Grundschule Am Park", "school", "schule@park.example").await;
    let club = org(&s, "TSV Musterstadt", "club", "vorstand@tsv.example").await;
    let u = accounts::create_citizen(
        &s.db.conn,
        s.f.tenant,
        "Clara Club",
        "clara@a.example",
        PASSWORD,
        true,
    )
    .await
    .unwrap();
    let member = principal(&s.db, s.f.tenant, UserId(u.id)).await;
    orgs::add_member(
        &s.db.conn,
        Actor::User(&s.admin),
        OrganisationId(club.id),
        "clara@a.example",
    )
    .await
    .unwrap();
    let season = season::create_season(&s.db.conn, Actor::User(&s.admin), season_input())
        .await
        .unwrap();
    World {
        s,
        hall,
        part,
        part2,
        school,
        club,
        member,
        season,
    }
}

fn req(org: i64, resource: i64, weekday: i32, from: &str, to: &str, title: &str) -> RequestInput {
    RequestInput {
        organisation_id: org,
        resource_id: resource,
        weekday,
        start_time: from.into(),
        end_time: to.into(),
        title: title.into(),
        note: String::new(),
    }
}

fn field_key(e: &Error, field: &str) -> String {
    match e {
        Error::Invalid(f) => f.get(field).map(|x| x.key.clone()).unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

async fn submit(w: &World, who: &Principal, r: RequestInput) -> season::SeasonRequest {
    season::submit_request(&w.s.db.conn, Actor::User(who), SeasonId(w.season.id), r)
        .await
        .expect("request")
}

#[tokio::test]
async fn requests_priority_conflicts_and_auto_allocation() {
    let w = world_in(setup().await).await;
    let db = &w.s.db.conn;
    // The club asks first; the school later for the same hall third, Tuesdays.
    let club_tue = submit(
        &w,
        &w.member,
        req(w.club.id, w.part.id, 1, "18:00", "20:00", "U12"),
    )
    .await;
    let school_tue = submit(
        &w,
        &w.s.admin,
        req(w.school.id, w.hall.id, 1, "19:00", "21:00", "Schul-AG"),
    )
    .await;
    // Sibling parts do not block each other; another weekday neither.
    let club_part2 = submit(
        &w,
        &w.member,
        req(w.club.id, w.part2.id, 1, "18:00", "20:00", "U14"),
    )
    .await;
    let club_wed = submit(
        &w,
        &w.member,
        req(w.club.id, w.part.id, 2, "18:00", "20:00", "U16"),
    )
    .await;

    // A non-member cannot ask for the school, nor someone without any organisation.
    let e = season::submit_request(
        db,
        Actor::User(&w.member),
        SeasonId(w.season.id),
        req(w.school.id, w.part.id, 3, "18:00", "19:00", "x"),
    )
    .await
    .unwrap_err();
    assert_eq!(field_key(&e, "organisation_id"), "booking.rules.not_member");
    let e = season::submit_request(
        db,
        Actor::User(&w.s.booker),
        SeasonId(w.season.id),
        req(w.club.id, w.part.id, 3, "18:00", "19:00", "x"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden));

    // Order: the school first although it asked later.
    let ranked = season::ranked_requests(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    let ids: Vec<i64> = ranked.iter().map(|x| x.request.id).collect();
    assert_eq!(
        ids,
        vec![school_tue.id, club_tue.id, club_part2.id, club_wed.id]
    );
    // The member sees only the club's requests.
    let theirs = season::ranked_requests(db, Actor::User(&w.member), SeasonId(w.season.id))
        .await
        .unwrap();
    assert_eq!(theirs.len(), 3);

    // Conflicts side by side: the hall blocks both parts; siblings and Wednesday are free.
    let c = season::conflicts(db, Actor::User(&w.s.admin), &w.season, &ranked)
        .await
        .unwrap();
    assert_eq!(c[&school_tue.id].requests, vec![club_tue.id, club_part2.id]);
    assert_eq!(c[&club_tue.id].requests, vec![school_tue.id]);
    assert_eq!(c[&club_part2.id].requests, vec![school_tue.id]);
    assert!(c[&club_wed.id].requests.is_empty());

    // An existing booking in the season on Wednesday evening is listed as well.
    let wed = (0..7)
        .map(|i| first_day() + Duration::days(i))
        .find(|d| d.weekday() == chrono::Weekday::Wed)
        .unwrap();
    let start = Berlin
        .from_local_datetime(&wed.and_time(NaiveTime::from_hms_opt(19, 0, 0).unwrap()))
        .unwrap()
        .to_utc();
    reservation::ActiveModel {
        tenant_id: Set(w.s.f.tenant.0),
        resource_id: Set(w.hall.id),
        title: Set("Stadtmeisterschaft".into()),
        starts_at: Set(start),
        ends_at: Set(start + Duration::hours(3)),
        status: Set(CONFIRMED.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let c = season::conflicts(db, Actor::User(&w.s.admin), &w.season, &ranked)
        .await
        .unwrap();
    assert_eq!(c[&club_wed.id].existing.len(), 1);

    // Members and staff without booking.manage cannot decide.
    for who in [&w.member, &w.s.booker] {
        let e = season::allocate(
            db,
            Actor::User(who),
            SeasonId(w.season.id),
            SeasonRequestId(club_tue.id),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Error::Forbidden));
        let e = season::auto_allocate(db, Actor::User(who), SeasonId(w.season.id))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden));
    }

    // Automatic: the school gets Tuesday, both club requests for the hall's parts are declined,
    // Wednesday is declined for the existing booking.
    let out = season::auto_allocate(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    assert_eq!((out.allocated, out.declined), (1, 3));
    let status = |id: i64, ranked: &[season::Ranked]| {
        ranked
            .iter()
            .find(|x| x.request.id == id)
            .unwrap()
            .request
            .status
            .clone()
    };
    let ranked = season::ranked_requests(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    assert_eq!(status(school_tue.id, &ranked), season::ALLOCATED);
    assert_eq!(status(club_tue.id, &ranked), season::DECLINED);
    assert_eq!(status(club_wed.id, &ranked), season::DECLINED);

    // Staff change single decisions: allocating the club's clashing request is refused by
    // name; declining the school first lets it through. A decline needs a reason.
    let e = season::allocate(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(club_tue.id),
    )
    .await
    .unwrap_err();
    assert_eq!(
        field_key(&e, "request"),
        "booking.season.err.clashes_allocated"
    );
    let e = season::decline(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(school_tue.id),
        " ",
    )
    .await
    .unwrap_err();
    assert_eq!(field_key(&e, "reason"), "err.required");
    season::decline(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(school_tue.id),
        "Schule hat abgesagt",
    )
    .await
    .unwrap();
    season::allocate(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(club_tue.id),
    )
    .await
    .unwrap();
    // The decline was mailed to the school with its reason.
    let mails = mail::Entity::find()
        .filter(mail::Column::ToAddr.eq("schule@park.example"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].body.contains("Schule hat abgesagt"),
        "{}",
        mails[0].body
    );

    // The priority order is a setting: clubs first now.
    let order = ["club", "school", "other"].map(String::from);
    season::set_priority_order(db, Actor::User(&w.s.admin), &order)
        .await
        .unwrap();
    let ranked = season::ranked_requests(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    assert_eq!(ranked[0].request.id, club_tue.id);
    let bad = ["club", "club", "other"].map(String::from);
    let e = season::set_priority_order(db, Actor::User(&w.s.admin), &bad)
        .await
        .unwrap_err();
    assert_eq!(field_key(&e, "priority"), "booking.season.err.priority");
}

#[tokio::test]
async fn publish_books_series_skipping_a_blackout_week() {
    let w = world_in(setup().await).await;
    let db = &w.s.db.conn;
    let a = submit(
        &w,
        &w.member,
        req(w.club.id, w.part.id, 1, "18:00", "20:00", "U12"),
    )
    .await;
    let b = submit(
        &w,
        &w.s.admin,
        req(w.school.id, w.part2.id, 1, "08:00", "09:30", "Sport 3a"),
    )
    .await;
    let pending = submit(
        &w,
        &w.member,
        req(w.club.id, w.part2.id, 4, "18:00", "20:00", "U18"),
    )
    .await;
    season::allocate(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(a.id),
    )
    .await
    .unwrap();
    season::allocate(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(b.id),
    )
    .await
    .unwrap();
    // Autumn/winter holidays: the fourth week of the season is blacked out for everyone.
    let from = first_day() + Duration::days(21);
    let midnight = |d: NaiveDate| {
        Berlin
            .from_local_datetime(&d.and_time(NaiveTime::MIN))
            .unwrap()
            .to_utc()
    };
    blackout::ActiveModel {
        tenant_id: Set(w.s.f.tenant.0),
        resource_id: Set(None),
        starts_at: Set(midnight(from)),
        ends_at: Set(midnight(from + Duration::days(7))),
        reason: Set("Ferien".into()),
        source_uid: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();

    let e = season::publish(db, Actor::User(&w.member), SeasonId(w.season.id))
        .await
        .unwrap_err();
    assert!(matches!(e.error, ReserveError::Other(Error::Forbidden)));
    let created = season::publish(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    for s in &created {
        assert_eq!(
            s.status, CONFIRMED,
            "allocated means confirmed despite approval"
        );
        assert_eq!(s.season_id, Some(w.season.id));
        assert!(s.rrule.contains("BYDAY=TU"), "{}", s.rrule);
        assert!(!s.exdates.is_empty(), "the blackout week is an exception");
        let occ = reservation::Entity::find()
            .filter(reservation::Column::SeriesId.eq(s.id))
            .all(db)
            .await
            .unwrap();
        // Ten Tuesdays in ten weeks, one of them in the holidays.
        assert_eq!(occ.len(), 9, "series {}", s.title);
        assert!(occ.iter().all(|r| r.status == CONFIRMED));
        let (org, group) = if s.title == "U12" {
            (w.club.id, "club")
        } else {
            (w.school.id, "school")
        };
        assert_eq!(s.organisation_id, Some(org));
        assert!(
            occ.iter()
                .all(|r| r.organisation_id == Some(org) && r.fee_group == group)
        );
        assert!(occ.iter().all(|r| {
            let l = r.starts_at.with_timezone(&Berlin);
            l.weekday() == chrono::Weekday::Tue && l.date_naive() >= first_day()
        }));
    }
    // The requests point at their series; the one left pending is declined.
    let ranked = season::ranked_requests(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    let find = |id: i64| {
        ranked
            .iter()
            .find(|x| x.request.id == id)
            .unwrap()
            .request
            .clone()
    };
    assert!(find(a.id).series_id.is_some() && find(b.id).series_id.is_some());
    assert_eq!(find(pending.id).status, season::DECLINED);
    // One mail to each organisation.
    let club_mail = mail::Entity::find()
        .filter(mail::Column::ToAddr.eq("vorstand@tsv.example"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(club_mail.len(), 1);
    assert!(club_mail[0].body.contains("U12") && club_mail[0].body.contains("9 Termine"));
    assert!(club_mail[0].body.contains("Nicht zugeteilt") && club_mail[0].body.contains("U18"));
    // Read-only now.
    let s = season::get_season(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    assert_eq!(s.status, season::PUBLISHED);
    let e = season::submit_request(
        db,
        Actor::User(&w.member),
        SeasonId(w.season.id),
        req(w.club.id, w.part.id, 3, "18:00", "19:00", "x"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)));
    assert!(matches!(
        season::allocate(
            db,
            Actor::User(&w.s.admin),
            SeasonId(w.season.id),
            SeasonRequestId(pending.id)
        )
        .await,
        Err(Error::Conflict(_))
    ));
    let e = season::publish(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap_err();
    assert!(matches!(e.error, ReserveError::Other(Error::Conflict(_))));
}

#[tokio::test]
async fn a_conflict_at_publish_rolls_everything_back() {
    let w = world_in(setup().await).await;
    let db = &w.s.db.conn;
    let a = submit(
        &w,
        &w.s.admin,
        req(w.school.id, w.part.id, 1, "08:00", "10:00", "Sport 3a"),
    )
    .await;
    let b = submit(
        &w,
        &w.member,
        req(w.club.id, w.part2.id, 3, "18:00", "20:00", "U12"),
    )
    .await;
    season::allocate(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(a.id),
    )
    .await
    .unwrap();
    season::allocate(
        db,
        Actor::User(&w.s.admin),
        SeasonId(w.season.id),
        SeasonRequestId(b.id),
    )
    .await
    .unwrap();
    // After the allocation someone books the whole hall on one of the club's Thursdays.
    let thu = (0..7)
        .map(|i| first_day() + Duration::days(14 + i))
        .find(|d| d.weekday() == chrono::Weekday::Thu)
        .unwrap();
    let start = Berlin
        .from_local_datetime(&thu.and_time(NaiveTime::from_hms_opt(19, 0, 0).unwrap()))
        .unwrap()
        .to_utc();
    reservation::ActiveModel {
        tenant_id: Set(w.s.f.tenant.0),
        resource_id: Set(w.hall.id),
        title: Set("Stadtmeisterschaft".into()),
        starts_at: Set(start),
        ends_at: Set(start + Duration::hours(2)),
        status: Set(CONFIRMED.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let e = season::publish(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap_err();
    assert_eq!(e.request.map(|r| r.id), Some(b.id));
    match e.error {
        ReserveError::Conflict(busy) => assert_eq!(busy.len(), 1),
        other => panic!("{other:?}"),
    }
    // Nothing stays: no series, no occurrences, the season open, no mail.
    assert_eq!(series_entity::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(reservation::Entity::find().count(db).await.unwrap(), 1);
    let s = season::get_season(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    assert_eq!(s.status, season::OPEN);
    let to_orgs = ["schule@park.example", "vorstand@tsv.example"];
    let mails = mail::Entity::find()
        .filter(mail::Column::ToAddr.is_in(to_orgs))
        .count(db)
        .await
        .unwrap();
    assert_eq!(mails, 0);
    let ranked = season::ranked_requests(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
        .await
        .unwrap();
    assert!(ranked.iter().all(|x| x.request.series_id.is_none()));
}

#[tokio::test]
async fn bad_input_is_named_beside_the_field() {
    let s = setup().await;
    let db = &s.db.conn;
    let from = first_day();
    let mut inp = season_input();
    inp.ends_on = (from - Duration::days(1)).to_string();
    let e = season::create_season(db, Actor::User(&s.admin), inp)
        .await
        .unwrap_err();
    assert_eq!(
        field_key(&e, "ends_on"),
        "booking.season.err.dates_reversed"
    );
    let inp = SeasonInput {
        name: String::new(),
        starts_on: "31.12.2027".into(),
        ends_on: String::new(),
    };
    let e = season::create_season(db, Actor::User(&s.admin), inp)
        .await
        .unwrap_err();
    assert_eq!(field_key(&e, "name"), "err.required");
    assert_eq!(field_key(&e, "starts_on"), "booking.err.date_invalid");
    assert_eq!(field_key(&e, "ends_on"), "err.required");
    let e = season::create_season(db, Actor::User(&s.booker), season_input())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden));

    let w = world_in(s).await;
    let db = &w.s.db.conn;
    let bad = |r: RequestInput| {
        season::submit_request(db, Actor::User(&w.member), SeasonId(w.season.id), r)
    };
    let e = bad(req(w.club.id, w.part.id, 7, "18 Uhr", "8:00", ""))
        .await
        .unwrap_err();
    assert_eq!(field_key(&e, "weekday"), "booking.season.err.weekday");
    assert_eq!(field_key(&e, "start_time"), "booking.season.err.time");
    assert_eq!(field_key(&e, "end_time"), "booking.season.err.time");
    assert_eq!(field_key(&e, "title"), "err.required");
    let e = bad(req(w.club.id, w.part.id, 1, "20:00", "18:00", "U12"))
        .await
        .unwrap_err();
    assert_eq!(field_key(&e, "end_time"), "booking.err.end_before_start");
    // A staff-only room is no choice for a season.
    let room = resource(&w.s, "Trauzimmer", "room", None).await;
    let e = bad(req(w.club.id, room.id, 1, "18:00", "20:00", "U12"))
        .await
        .unwrap_err();
    assert_eq!(field_key(&e, "resource_id"), "err.invalid_choice");
    assert_eq!(
        season::ranked_requests(db, Actor::User(&w.s.admin), SeasonId(w.season.id))
            .await
            .unwrap()
            .len(),
        0
    );
}

// ---------------------------------------------------------------- pages

async fn client(app: &TestApp, base: &str, email: &str) -> Client {
    let c = app.client(&[HOST]);
    let r = login(&c, base, email, PASSWORD).await;
    assert_eq!(r.status(), 303, "login of {email}");
    c
}

async fn get(c: &Client, url: String) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn season_pages() {
    let mut s = setup().await;
    let tdb = s.tdb.take().unwrap();
    let w = world_in(s).await;
    let db = &w.s.db.conn;
    let b = tenant(&w.s.db, "b", HOST_B).await;
    let foreign = season::create_season(&b.db.conn, Actor::User(&b.admin), season_input())
        .await
        .unwrap();
    let manager = user_with(&w.s.db, w.s.f.tenant, "verwaltung@a.example", &[MANAGE]).await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Booking)];
    let st = AppState::with_modules(w.s.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let id = w.season.id;
    let show = format!("/buchung/saison/{id}");
    let r0 = submit(
        &w,
        &w.member,
        req(w.club.id, w.part.id, 1, "18:00", "20:00", "U12"),
    )
    .await;
    let staff_actions = [
        "/buchung/saison".to_string(),
        "/buchung/saison/prioritaet".to_string(),
        format!("{show}/anfragen/{}/zuteilen", r0.id),
        format!("{show}/anfragen/{}/ablehnen", r0.id),
        format!("{show}/automatisch"),
        format!("{show}/veroeffentlichen"),
    ];
    let submit_action = format!("{show}/anfragen");

    // Anonymous: to the login.
    let anon = app.client(&[HOST]);
    for url in ["/buchung/saison".to_string(), show.clone()] {
        let r = anon.get(format!("{base}{url}")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with("/login"));
    }
    for a in staff_actions.iter().chain([&submit_action]) {
        let r = post_form(&anon, &base, "/login", a, &[("name", "x")]).await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/login".into()),
            "{a}"
        );
    }

    // Without permission or membership: 403 everywhere.
    let clerk = client(&app, &base, &w.s.f.clerk_email).await;
    assert_eq!(get(&clerk, format!("{base}/buchung/saison")).await.0, 403);
    assert_eq!(get(&clerk, format!("{base}{show}")).await.0, 403);
    for a in staff_actions.iter().chain([&submit_action]) {
        let r = post_form(&clerk, &base, "/staff", a, &[("name", "x")]).await;
        assert_eq!(r.status(), 403, "{a}");
    }

    // A member: sees the season and the club's request, no decisions; submits with German
    // errors beside the fields and the input kept.
    let member = client(&app, &base, &w.member.email).await;
    let (status, body) = get(&member, format!("{base}{show}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("U12") && body.contains("Wöchentliche Zeit anfragen"));
    assert!(!body.contains("Zuteilen") && !body.contains("Veröffentlichen"));
    for a in &staff_actions {
        let r = post_form(&member, &base, &show, a, &[("reason", "x")]).await;
        assert_eq!(r.status(), 403, "{a}");
    }
    let oid = w.club.id.to_string();
    let rid = w.part.id.to_string();
    let fields = [
        ("organisation_id", oid.as_str()),
        ("resource_id", rid.as_str()),
        ("weekday", "9"),
        ("start_time", "20:00"),
        ("end_time", "18:00"),
        ("title", "U14 Training"),
    ];
    let r = post_form(&member, &base, &show, &submit_action, &fields).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Bitte wählen Sie einen Wochentag von Montag bis Sonntag."),
        "{body}"
    );
    let r = post_form(
        &member,
        &base,
        &show,
        &submit_action,
        &[
            ("weekday", "1"),
            ("start_time", "20:00"),
            ("end_time", "18:00"),
            ("title", "U14 Training"),
            ("organisation_id", &oid),
            ("resource_id", &rid),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Das Ende muss nach dem Beginn liegen."),
        "{body}"
    );
    assert!(body.contains("value=\"U14 Training\"") && body.contains("value=\"20:00\""));
    let r = post_form(
        &member,
        &base,
        &show,
        &submit_action,
        &[
            ("weekday", "1"),
            ("start_time", "18 Uhr"),
            ("end_time", "20:00"),
            ("title", "U14"),
            ("organisation_id", &oid),
            ("resource_id", &rid),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Bitte geben Sie die Uhrzeit im Format HH:MM an")
    );
    let p2 = w.part2.id.to_string();
    let ok = [
        ("organisation_id", oid.as_str()),
        ("resource_id", p2.as_str()),
        ("weekday", "3"),
        ("start_time", "17:00"),
        ("end_time", "18:30"),
        ("title", "U14 Training"),
        ("note", "gern auch später"),
    ];
    let r = post_form(&member, &base, &show, &submit_action, &ok).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("notice=booking_season.submitted"));

    // A manager: the list with the season form; reversed dates are refused in German.
    let mgr = client(&app, &base, &manager.email).await;
    let (status, body) = get(&mgr, format!("{base}/buchung/saison")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Saison anlegen") && body.contains("Rangfolge bei der Zuteilung"));
    let (from, to) = (
        first_day().to_string(),
        (first_day() - Duration::days(3)).to_string(),
    );
    let fields = [("name", "Sommer"), ("starts_on", &from), ("ends_on", &to)];
    let r = post_form(&mgr, &base, "/buchung/saison", "/buchung/saison", &fields).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("Der letzte Tag muss nach dem ersten Tag der Saison liegen."));
    assert!(body.contains("value=\"Sommer\""));
    let fields = [("prio_1", "club"), ("prio_2", "club"), ("prio_3", "other")];
    let r = post_form(&mgr, &base, "/buchung/saison", &staff_actions[1], &fields).await;
    assert_eq!(r.status(), 422);
    let fields = [
        ("prio_1", "club"),
        ("prio_2", "school"),
        ("prio_3", "other"),
    ];
    let r = post_form(&mgr, &base, "/buchung/saison", &staff_actions[1], &fields).await;
    assert_eq!(r.status(), 303);

    // The allocation page: a real table, conflicts, decisions; decline needs a reason.
    let (status, body) = get(&mgr, format!("{base}{show}")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<caption") && body.contains("scope=\"col\"") && body.contains("Zuteilen")
    );
    let r = post_form(&mgr, &base, &show, &staff_actions[3], &[("reason", "")]).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Bitte füllen Sie dieses Feld aus.")
    );
    let r = post_form(&mgr, &base, &show, &staff_actions[4], &[]).await;
    assert_eq!(r.status(), 303);
    let r = post_form(&mgr, &base, &show, &staff_actions[5], &[]).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("notice=booking_season.published"));
    assert_eq!(series_entity::Entity::find().count(db).await.unwrap(), 2);
    let (_, body) = get(&mgr, format!("{base}{show}")).await;
    assert!(body.contains("veröffentlicht") && !body.contains("Automatisch zuteilen"));
    let r = post_form(&mgr, &base, "/buchung/saison", &staff_actions[5], &[]).await;
    assert_eq!(r.status(), 409);

    // Another tenant's season: 404.
    assert_eq!(
        get(&mgr, format!("{base}/buchung/saison/{}", foreign.id))
            .await
            .0,
        404
    );
    let a = format!("/buchung/saison/{}/veroeffentlichen", foreign.id);
    let r = post_form(&mgr, &base, "/buchung/saison", &a, &[]).await;
    assert_eq!(r.status(), 404);
}
