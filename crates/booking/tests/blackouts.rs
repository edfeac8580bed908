//! Blackout periods (Sperrzeiten) through the service and the staff pages, on the configured
//! backend: adding by hand (whole local days), deleting, importing a school-holiday file as
//! published (tests/fixtures/ferien_nrw_2026.ics), re-importing without doubles, refusing bad
//! files with a German message, and who may do what.

use crate::common;

use chrono::{Duration, NaiveDate};
use common::*;
use rathaus_booking::domain::BlackoutId;
use rathaus_booking::domain::holidays::HolidayChoice;
use rathaus_booking::domain::{BlackoutSource, ResourceId};
use rathaus_booking::service::blackouts::{self, ImportSummary};
use rathaus_core::Error;
use rathaus_store::audit::{self, AuditFilter};
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, csrf_of, login};
use rathaus_web::WebConfig;
use reqwest::Client;
use reqwest::multipart::{Form, Part};

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";
const FERIEN: &[u8] = include_bytes!("fixtures/ferien_nrw_2026.ics");

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn far() -> NaiveDate {
    day(2000, 1, 1)
}

#[tokio::test]
async fn a_blackout_covers_whole_local_days_and_can_be_deleted() {
    let s = setup().await;
    let hall = resource(&s, "Sporthalle", "hall", None).await;
    // Across the autumn clock change: 24 to 26 October 2026, both inclusive.
    let b = blackouts::add_blackout(
        &s.db.conn,
        Actor::User(&s.admin),
        Some(ResourceId(hall.id)),
        day(2026, 10, 24),
        day(2026, 10, 26),
        " Hallenboden ",
    )
    .await
    .unwrap();
    assert_eq!(b.starts_at.to_rfc3339(), "2026-10-23T22:00:00+00:00");
    assert_eq!(b.ends_at.to_rfc3339(), "2026-10-26T23:00:00+00:00");
    assert_eq!(b.reason, "Hallenboden");
    assert_eq!(
        blackouts::local_days(&b),
        (day(2026, 10, 24), day(2026, 10, 26))
    );
    let all = blackouts::add_blackout(
        &s.db.conn,
        Actor::User(&s.admin),
        None,
        day(2026, 12, 24),
        day(2026, 12, 24),
        "Heiligabend",
    )
    .await
    .unwrap();
    let list = blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
        .await
        .unwrap();
    assert_eq!(
        list.iter().map(|b| b.id).collect::<Vec<_>>(),
        [b.id, all.id]
    );
    // From a later day on, the earlier one is gone from the list.
    let later = blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), day(2026, 10, 27))
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    // For rules and views: the ones of the resource and those of every resource.
    let hit =
        blackouts::blackouts_between(&s.db.conn, s.f.tenant, &[hall.id], b.starts_at, all.ends_at)
            .await
            .unwrap();
    assert_eq!(hit.len(), 2);
    let other = resource(&s, "Raum", "room", None).await;
    let hit = blackouts::blackouts_between(
        &s.db.conn,
        s.f.tenant,
        &[other.id],
        b.starts_at,
        all.ends_at,
    )
    .await
    .unwrap();
    assert_eq!(hit.iter().map(|b| b.id).collect::<Vec<_>>(), [all.id]);

    blackouts::delete_blackout(&s.db.conn, Actor::User(&s.admin), BlackoutId(b.id))
        .await
        .unwrap();
    let e = blackouts::delete_blackout(&s.db.conn, Actor::User(&s.admin), BlackoutId(b.id))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound), "{e:?}");
    let events = audit::list(&s.db.conn, &s.admin, &AuditFilter::default())
        .await
        .unwrap();
    for action in ["booking.blackout.created", "booking.blackout.deleted"] {
        assert!(events.iter().any(|e| e.action == action), "{action}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_per_field_and_nothing_is_stored() {
    let s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let foreign = resource(&b, "Fremde Halle", "hall", None).await;
    let e = blackouts::add_blackout(
        &s.db.conn,
        Actor::User(&s.admin),
        Some(ResourceId(foreign.id)),
        day(2026, 5, 2),
        day(2026, 5, 1),
        "",
    )
    .await
    .unwrap_err();
    let Error::Invalid(f) = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        f.get("to").unwrap().key,
        "booking.blackouts.err.to_before_from"
    );
    assert_eq!(f.get("reason").unwrap().key, "err.required");
    assert_eq!(f.get("resource_id").unwrap().key, "err.invalid_choice");
    let e = blackouts::add_blackout(
        &s.db.conn,
        Actor::User(&s.admin),
        None,
        day(2026, 1, 1),
        day(2027, 6, 1),
        "Lang",
    )
    .await
    .unwrap_err();
    let Error::Invalid(f) = e else {
        panic!("{e:?}")
    };
    assert_eq!(f.get("to").unwrap().key, "booking.blackouts.err.too_long");
    for who in [&s.booker, &s.clerk] {
        let e = blackouts::add_blackout(
            &s.db.conn,
            Actor::User(who),
            None,
            day(2026, 1, 1),
            day(2026, 1, 1),
            "x",
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
        let e = blackouts::import_ics(&s.db.conn, Actor::User(who), None, FERIEN)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
        let e = blackouts::list_blackouts(&s.db.conn, Actor::User(who), far())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
    }
    // Another tenant's blackout answers like a missing one.
    let theirs = blackouts::add_blackout(
        &s.db.conn,
        Actor::User(&b.admin),
        None,
        day(2026, 1, 1),
        day(2026, 1, 1),
        "B",
    )
    .await
    .unwrap();
    let e = blackouts::delete_blackout(&s.db.conn, Actor::User(&s.admin), BlackoutId(theirs.id))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound), "{e:?}");
    assert!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_school_holiday_file_imports_once_and_updates_on_reimport() {
    let s = setup().await;
    let hall = resource(&s, "Sporthalle", "hall", None).await;
    let sum = blackouts::import_ics(&s.db.conn, Actor::User(&s.admin), None, FERIEN)
        .await
        .unwrap();
    // Six periods; Neujahr repeats yearly (RRULE) and is skipped.
    assert_eq!(
        sum,
        ImportSummary {
            created: 6,
            updated: 0,
            skipped: 1,
            unchanged: 0
        }
    );
    let list = blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
        .await
        .unwrap();
    assert_eq!(list.len(), 6);
    let by = |r: &str| list.iter().find(|b| b.reason.starts_with(r)).unwrap();
    // DTEND is exclusive: the Easter holidays end on Saturday 11 April.
    assert_eq!(
        blackouts::local_days(by("Osterferien")),
        (day(2026, 3, 30), day(2026, 4, 11))
    );
    assert_eq!(
        by("Osterferien").starts_at.to_rfc3339(),
        "2026-03-29T22:00:00+00:00"
    );
    assert_eq!(
        blackouts::local_days(by("Weihnachtsferien")),
        (day(2026, 12, 23), day(2027, 1, 6))
    );
    // Without DTEND: one day.
    assert_eq!(
        blackouts::local_days(by("Fronleichnam")),
        (day(2026, 6, 4), day(2026, 6, 4))
    );
    assert!(
        list.iter()
            .all(|b| b.resource_id.is_none() && !b.source_uid.is_empty())
    );

    // The same file again: nothing doubled.
    let again = blackouts::import_ics(&s.db.conn, Actor::User(&s.admin), None, FERIEN)
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportSummary {
            created: 0,
            updated: 0,
            skipped: 1,
            unchanged: 6
        }
    );
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        6
    );
    // A corrected file updates the changed period.
    let fixed = String::from_utf8(FERIEN.to_vec())
        .unwrap()
        .replace("DTEND;VALUE=DATE:20260902", "DTEND;VALUE=DATE:20260903");
    let sum = blackouts::import_ics(&s.db.conn, Actor::User(&s.admin), None, fixed.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        sum,
        ImportSummary {
            created: 0,
            updated: 1,
            skipped: 1,
            unchanged: 5
        }
    );
    let list = blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
        .await
        .unwrap();
    let summer = list
        .iter()
        .find(|b| b.reason.starts_with("Sommerferien"))
        .unwrap();
    assert_eq!(blackouts::local_days(summer).1, day(2026, 9, 2));
    // For one resource the same file makes its own periods.
    let sum = blackouts::import_ics(
        &s.db.conn,
        Actor::User(&s.admin),
        Some(ResourceId(hall.id)),
        FERIEN,
    )
    .await
    .unwrap();
    assert_eq!(sum.created, 6);
    let events = audit::list(&s.db.conn, &s.admin, &AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "booking.blackout.imported")
            .count(),
        4
    );
}

#[tokio::test]
async fn bad_files_are_refused_with_a_reason() {
    let s = setup().await;
    let big = vec![b'A'; blackouts::MAX_ICS_BYTES + 1];
    let no_events = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n".to_vec();
    for (bytes, key) in [
        (
            b"Name;Datum\nOstern;2026-04-05\n".to_vec(),
            "booking.blackouts.err.not_calendar",
        ),
        (
            vec![0xff, 0xd8, 0xff, 0xe0],
            "booking.blackouts.err.not_calendar",
        ),
        (no_events, "booking.blackouts.err.no_events"),
        (big, "booking.blackouts.err.too_large"),
    ] {
        let e = blackouts::import_ics(&s.db.conn, Actor::User(&s.admin), None, &bytes)
            .await
            .unwrap_err();
        let Error::Invalid(f) = e else {
            panic!("{e:?}")
        };
        assert_eq!(f.get("file").unwrap().key, key);
    }
    assert!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------- pages

struct Pages {
    app: TestApp,
    s: Setup,
    base: String,
}

async fn pages() -> Pages {
    let mut s = setup().await;
    let app = spawn_app(&mut s, WebConfig::default()).await;
    Pages {
        base: app.url(HOST, ""),
        app,
        s,
    }
}

impl Pages {
    async fn client(&self, email: &str) -> Client {
        let c = self.app.client(&[HOST]);
        assert_eq!(login(&c, &self.base, email, PASSWORD).await.status(), 303);
        c
    }
}

fn upload(bytes: Vec<u8>, resource_id: &str) -> Form {
    Form::new()
        .text("resource_id", resource_id.to_string())
        .part(
            "file",
            Part::bytes(bytes)
                .file_name("ferien.ics")
                .mime_str("text/calendar")
                .unwrap(),
        )
}

#[tokio::test]
async fn only_managers_reach_the_blackout_pages() {
    let p = pages().await;
    let s = &p.s;
    let b = blackouts::add_blackout(
        &s.db.conn,
        Actor::User(&s.admin),
        None,
        day(2030, 1, 1),
        day(2030, 1, 2),
        "Wartung",
    )
    .await
    .unwrap();
    let anon = p.app.client(&[HOST]);
    let r = anon
        .get(format!("{}/buchung/sperrzeiten", p.base))
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
    let booker_email = s.booker.email.clone();
    for email in [s.f.clerk_email.as_str(), booker_email.as_str()] {
        let c = p.client(email).await;
        let r = c
            .get(format!("{}/buchung/sperrzeiten", p.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{email}");
        // Their own CSRF token from another page, so that only the permission refuses.
        let html = c
            .get(format!("{}/buchung/kalender", p.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&html);
        let r = c
            .post(format!("{}/buchung/sperrzeiten", p.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("from", "2030-02-01"),
                ("to", "2030-02-01"),
                ("reason", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{email}");
        let r = c
            .post(format!("{}/buchung/sperrzeiten/{}/loeschen", p.base, b.id))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{email}");
        let r = c
            .post(format!(
                "{}/buchung/sperrzeiten/import?_csrf={csrf}",
                p.base
            ))
            .multipart(upload(FERIEN.to_vec(), ""))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{email}");
    }
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn staff_add_delete_and_upload_on_the_page() {
    let p = pages().await;
    let s = &p.s;
    let hall = resource(s, "Sporthalle Süd", "hall", None).await;
    let c = p.client(&s.f.admin_email).await;
    let r = c
        .get(format!("{}/buchung/sperrzeiten?ab=2000-01-01", p.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Sperrzeiten") && html.contains("Sporthalle Süd"),
        "{html}"
    );
    let csrf = csrf_of(&html);

    // Bad input: 422, German messages beside the fields, the input kept, nothing stored.
    let r = c
        .post(format!("{}/buchung/sperrzeiten", p.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("resource_id", &hall.id.to_string()),
            ("from", "2030-03-10"),
            ("to", "2030-03-01"),
            ("reason", "Neuer Boden"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Der letzte Tag darf nicht vor dem ersten liegen."),
        "{html}"
    );
    assert!(html.contains("id=\"f-to-error\""), "{html}");
    assert!(
        html.contains("value=\"Neuer Boden\"") && html.contains("value=\"2030-03-10\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("<option value=\"{}\" selected>", hall.id)),
        "{html}"
    );
    let r = c
        .post(format!("{}/buchung/sperrzeiten", p.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("from", "morgen"),
            ("to", ""),
            ("reason", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .is_empty()
    );

    // Good input.
    let r = c
        .post(format!("{}/buchung/sperrzeiten", p.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("resource_id", &hall.id.to_string()),
            ("from", "2030-03-01"),
            ("to", "2030-03-10"),
            ("reason", "Neuer Boden"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = c
        .get(format!(
            "{}/buchung/sperrzeiten?ab=2030-01-01&erledigt=angelegt",
            p.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Die Sperrzeit wurde gespeichert.")
            && html.contains("01.03.2030")
            && html.contains("10.03.2030"),
        "{html}"
    );
    let b = blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(b.resource_id, Some(hall.id));

    // Upload: without the CSRF token refused; a bad file gives 422 beside the file field.
    let r = c
        .post(format!("{}/buchung/sperrzeiten/import", p.base))
        .multipart(upload(FERIEN.to_vec(), ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(format!(
            "{}/buchung/sperrzeiten/import?_csrf={csrf}",
            p.base
        ))
        .multipart(upload(b"kein Kalender".to_vec(), &hall.id.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Das ist keine Kalenderdatei."), "{html}");
    assert!(html.contains("id=\"f-file-error\""), "{html}");
    let r = c
        .post(format!(
            "{}/buchung/sperrzeiten/import?_csrf={csrf}",
            p.base
        ))
        .multipart(upload(vec![b'x'; blackouts::MAX_ICS_BYTES + 10], ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Die Datei ist zu groß."));
    let r = c
        .post(format!(
            "{}/buchung/sperrzeiten/import?_csrf={csrf}",
            p.base
        ))
        .multipart(upload(FERIEN.to_vec(), ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("neu=6"), "{to}");
    let html = c
        .get(format!("{}{to}", p.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("6 neu"), "{html}");
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        7
    );

    // Delete.
    let r = c
        .post(format!("{}/buchung/sperrzeiten/{}/loeschen", p.base, b.id))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        6
    );
    let r = c
        .post(format!("{}/buchung/sperrzeiten/{}/loeschen", p.base, b.id))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let _ = Duration::days(1);
}

fn both() -> HolidayChoice {
    HolidayChoice {
        public: true,
        school: true,
    }
}

#[tokio::test]
async fn the_holidays_of_the_tenants_land_are_taken_over_once() {
    let s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let hall = resource(&s, "Sporthalle", "hall", None).await;
    let foreign = resource(&b, "Fremde Halle", "hall", None).await;

    // NW (the default Land) in 2026: 11 public holidays and 6 school breaks touching the
    // year (both Christmas breaks included).
    let sum = blackouts::take_over_holidays(&s.db.conn, Actor::User(&s.admin), None, 2026, both())
        .await
        .unwrap();
    assert_eq!(
        sum,
        ImportSummary {
            created: 17,
            ..Default::default()
        }
    );
    let list = blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
        .await
        .unwrap();
    assert_eq!(list.len(), 17);
    let good_friday = list.iter().find(|b| b.reason == "Karfreitag").unwrap();
    assert_eq!(
        blackouts::local_days(good_friday),
        (day(2026, 4, 3), day(2026, 4, 3))
    );
    assert_eq!(good_friday.resource_id, None);
    let summer = list.iter().find(|b| b.reason == "Sommerferien").unwrap();
    assert_eq!(
        blackouts::local_days(summer),
        (day(2026, 7, 20), day(2026, 9, 1))
    );
    assert!(matches!(
        BlackoutSource::of(&summer.source_uid),
        BlackoutSource::Calendar { .. }
    ));

    // Again: nothing doubles. The next year shares the Christmas break 2026/27.
    let again =
        blackouts::take_over_holidays(&s.db.conn, Actor::User(&s.admin), None, 2026, both())
            .await
            .unwrap();
    assert_eq!(
        again,
        ImportSummary {
            unchanged: 17,
            ..Default::default()
        }
    );
    let next = blackouts::take_over_holidays(&s.db.conn, Actor::User(&s.admin), None, 2027, both())
        .await
        .unwrap();
    assert_eq!((next.created, next.unchanged), (16, 1), "{next:?}");
    // A corrected date updates the blackout instead of adding one.
    let mut am: rathaus_booking::store::entity::blackout::ActiveModel = summer.clone().into();
    am.ends_at = sea_orm::Set(summer.ends_at + Duration::days(1));
    sea_orm::ActiveModelTrait::update(am, &s.db.conn)
        .await
        .unwrap();
    let fixed = blackouts::take_over_holidays(
        &s.db.conn,
        Actor::User(&s.admin),
        None,
        2026,
        HolidayChoice {
            public: false,
            school: true,
        },
    )
    .await
    .unwrap();
    assert_eq!((fixed.updated, fixed.unchanged, fixed.created), (1, 5, 0));

    // One resource: its own rows, public holidays only.
    let one = blackouts::take_over_holidays(
        &s.db.conn,
        Actor::User(&s.admin),
        Some(ResourceId(hall.id)),
        2026,
        HolidayChoice {
            public: true,
            school: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(one.created, 11);
    let all = blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
        .await
        .unwrap();
    assert_eq!(all.len(), 17 + 16 + 11);
    assert_eq!(
        all.iter()
            .filter(|b| b.resource_id == Some(hall.id))
            .count(),
        11
    );

    // The Land comes from the tenant's settings: Berlin has Frauentag (8 March).
    rathaus_store::tenants::update_settings(
        &s.db.conn,
        &b.admin,
        rathaus_store::tenants::Settings {
            name: "B",
            mfa_required: false,
            land: "BE",
        },
    )
    .await
    .unwrap();
    let cal = blackouts::holiday_calendar(&s.db.conn, Actor::User(&b.admin))
        .await
        .unwrap();
    assert_eq!(cal.land, rathaus_core::calendar::Land::BE);
    blackouts::take_over_holidays(
        &s.db.conn,
        Actor::User(&b.admin),
        None,
        2026,
        HolidayChoice {
            public: true,
            school: false,
        },
    )
    .await
    .unwrap();
    let theirs = blackouts::list_blackouts(&s.db.conn, Actor::User(&b.admin), far())
        .await
        .unwrap();
    assert!(
        theirs
            .iter()
            .any(|b| b.reason == "Internationaler Frauentag"
                && blackouts::local_days(b).0 == day(2026, 3, 8))
    );
    assert!(!theirs.iter().any(|b| b.reason == "Fronleichnam"));
    // Tenant A's list did not grow.
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        44
    );

    // The audit event is written with the change.
    let events = audit::list(&s.db.conn, &s.admin, &AuditFilter::default())
        .await
        .unwrap();
    let ev = events
        .iter()
        .find(|e| e.action == "booking.blackout.holidays_taken_over")
        .unwrap();
    assert!(ev.details.contains("\"land\":\"NW\""), "{ev:?}");

    // Refused: without booking.manage, and bad input (nothing stored).
    for who in [&s.booker, &s.clerk] {
        let e = blackouts::take_over_holidays(&s.db.conn, Actor::User(who), None, 2028, both())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
        let e = blackouts::holiday_calendar(&s.db.conn, Actor::User(who))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
    }
    let e = blackouts::take_over_holidays(
        &s.db.conn,
        Actor::User(&s.admin),
        Some(ResourceId(foreign.id)),
        1900,
        HolidayChoice::default(),
    )
    .await
    .unwrap_err();
    let Error::Invalid(f) = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        f.get("which").unwrap().key,
        "booking.blackouts.err.choose_holidays"
    );
    assert_eq!(f.get("year").unwrap().key, "err.out_of_range");
    assert_eq!(f.get("resource_id").unwrap().key, "err.invalid_choice");
    let e = blackouts::take_over_holidays(&s.db.conn, Actor::User(&s.admin), None, 2040, both())
        .await
        .unwrap_err();
    let Error::Invalid(f) = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        f.get("year").unwrap().key,
        "booking.blackouts.err.school_years"
    );
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        44
    );
}

#[tokio::test]
async fn staff_take_over_the_holidays_on_the_page() {
    let p = pages().await;
    let s = &p.s;
    let hall = resource(s, "Sporthalle Süd", "hall", None).await;
    let c = p.client(&s.f.admin_email).await;
    let html = c
        .get(format!("{}/buchung/sperrzeiten", p.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Feiertage und Schulferien des Bundeslands übernehmen")
            && html.contains("Nordrhein-Westfalen"),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let post = |form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{}/buchung/sperrzeiten/kalender", p.base);
        async move { c.post(url).form(&form).send().await.unwrap() }
    };

    // Bad input: 422, German message beside the field, what was typed kept, nothing stored.
    let r = post(vec![
        ("_csrf", csrf.clone()),
        ("resource_id", hall.id.to_string()),
        ("year", "zwanzig".into()),
        ("school_holidays", "on".into()),
    ])
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Bitte geben Sie das Jahr mit vier Ziffern ein")
            && html.contains("id=\"f-year-error\"")
            && html.contains("value=\"zwanzig\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("<option value=\"{}\" selected>", hall.id)),
        "{html}"
    );
    assert!(
        html.contains("name=\"school_holidays\" value=\"on\" checked")
            && !html.contains("name=\"public_holidays\" value=\"on\" checked"),
        "{html}"
    );
    let r = post(vec![("_csrf", csrf.clone()), ("year", "2026".into())]).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Bitte wählen Sie Feiertage, Schulferien oder beides.")
    );
    let r = post(vec![
        ("_csrf", csrf.clone()),
        ("year", "2040".into()),
        ("school_holidays", "on".into()),
    ])
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("nur für die Jahre 2026"), "{html}");
    assert!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .is_empty()
    );

    // Good input, twice: the second time nothing is new.
    for (created, unchanged) in [(17, 0), (0, 17)] {
        let r = post(vec![
            ("_csrf", csrf.clone()),
            ("year", "2026".into()),
            ("public_holidays", "on".into()),
            ("school_holidays", "on".into()),
        ])
        .await;
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_string();
        let html = c
            .get(format!("{}{to}&ab=2000-01-01", p.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(
                "Feiertage und Ferien 2026 übernommen: {created} neu, 0 geändert, {unchanged} schon vorhanden."
            )) && html.contains("Karfreitag")
                && html.contains("aus dem Ferien- und Feiertagskalender"),
            "{html}"
        );
    }
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        17
    );

    // Without booking.manage: 403, nothing stored.
    let booker_email = s.booker.email.clone();
    let c = p.client(&booker_email).await;
    let html = c
        .get(format!("{}/buchung/kalender", p.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let r = c
        .post(format!("{}/buchung/sperrzeiten/kalender", p.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("year", "2027"),
            ("public_holidays", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        blackouts::list_blackouts(&s.db.conn, Actor::User(&s.admin), far())
            .await
            .unwrap()
            .len(),
        17
    );
}
