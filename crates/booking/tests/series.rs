//! Recurring series on the configured backend (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): wall-clock times across both clock changes, refused rules,
//! exceptions and blackouts, conflicts, changes of one occurrence or from a date on,
//! approval of a whole series, who may do what, and no double booking under concurrency.
//!
//! Dates are taken from next year on (September to June), so the tests do not depend on
//! today's date; the test resources look ten years ahead.

use crate::common;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Europe::Berlin;
use common::*;
use rathaus_booking::domain::{ReservationId, SeriesId};
use rathaus_booking::service::series::{self, ExDate, SeriesInput};
use rathaus_booking::service::{
    self, CANCELLED, CONFIRMED, REJECTED, REQUESTED, Reservation, ReserveError, Resource,
    ResourceInput,
};
use rathaus_booking::store::entity::{blackout, series as series_entity};
use rathaus_core::{Error, Principal};
use rathaus_store::uow::Actor;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The first `wd` on or after `d`.
fn on_or_after(d: NaiveDate, wd: Weekday) -> NaiveDate {
    let mut d = d;
    while d.weekday() != wd {
        d += Duration::days(1);
    }
    d
}

/// The last Sunday of `month` in `year`: the day the clocks change (March, October).
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap() - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// Next year's season: the first Tuesday of September (2027-09-07 for a test run in 2026).
fn season_start() -> NaiveDate {
    let y = Utc::now().year() + 1;
    on_or_after(NaiveDate::from_ymd_opt(y, 9, 1).unwrap(), Weekday::Tue)
}

fn at_time(d: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    d.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

/// A hall that may be booked ten years ahead, with a fee for staff bookings.
async fn hall(s: &Setup, name: &str, approval: bool) -> Resource {
    let mut inp = ResourceInput::new(name, service::HALL);
    inp.horizon_days = service::MAX_HORIZON_DAYS;
    inp.requires_approval = approval;
    inp.fee_schedule = BTreeMap::from([("staff".to_string(), 1200)]);
    resource_with(s, inp).await
}

fn weekly(r: &Resource, start: NaiveDateTime, rule: &str) -> SeriesInput {
    SeriesInput {
        resource_id: r.id,
        title: "Training Handball".into(),
        dtstart_local: start,
        duration_minutes: 120,
        rrule: rule.into(),
        exdates: vec![],
        skip_blackouts: false,
        organisation_id: None,
    }
}

/// (field, key, arg) of a validation error.
fn invalid<T: std::fmt::Debug>(
    r: Result<T, ReserveError>,
) -> Vec<(String, String, Option<String>)> {
    match r {
        Err(ReserveError::Other(Error::Invalid(f))) => {
            f.0.into_iter().map(|e| (e.field, e.key, e.arg)).collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn has_key(errs: &[(String, String, Option<String>)], field: &str, key: &str) -> bool {
    errs.iter().any(|(f, k, _)| f == field && k == key)
}

async fn count_series(s: &Setup) -> u64 {
    series_entity::Entity::find()
        .count(&s.db.conn)
        .await
        .unwrap()
}

async fn count_reservations(s: &Setup) -> u64 {
    rathaus_booking::store::entity::reservation::Entity::find()
        .count(&s.db.conn)
        .await
        .unwrap()
}

fn local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&Berlin).naive_local()
}

async fn series_row(s: &Setup, id: i64) -> series::Series {
    series_entity::Entity::find_by_id(id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_weekly_slot_stays_at_18_00_across_both_clock_changes() {
    let s = setup().await;
    let h = hall(&s, "Halle Nord", false).await;
    let first = season_start();
    let last = on_or_after(
        NaiveDate::from_ymd_opt(first.year() + 1, 6, 24).unwrap(),
        Weekday::Tue,
    );
    let rule = format!("FREQ=WEEKLY;BYDAY=TU;UNTIL={}", last.format("%Y%m%d"));
    let (ser, list) = series::reserve_series(
        &s.db.conn,
        Actor::User(&s.booker),
        weekly(&h, at_time(first, 18, 0), &rule),
    )
    .await
    .expect("series");
    let weeks = (last - first).num_days() / 7 + 1;
    assert_eq!(list.len() as i64, weeks);
    assert_eq!(ser.status, CONFIRMED);
    assert_eq!(
        ser.dtstart_local,
        at_time(first, 18, 0).format("%Y-%m-%dT%H:%M").to_string()
    );
    // The stored rule ends at the UTC instant of the last day's end (RFC 5545 with TZID).
    assert!(
        ser.rrule.contains("UNTIL=") && ser.rrule.contains('Z'),
        "{}",
        ser.rrule
    );
    for r in &list {
        let l = local(r.starts_at);
        assert_eq!((l.hour(), l.minute()), (18, 0), "{l}");
        assert_eq!(l.weekday(), Weekday::Tue);
        assert_eq!(r.ends_at - r.starts_at, Duration::hours(2));
        assert_eq!(r.series_id, Some(ser.id));
        assert_eq!(r.status, CONFIRMED);
        assert_eq!(r.fee_group, "staff");
        assert_eq!(r.fee_cents, 2400);
        // Summer time: UTC+2; winter time: UTC+1.
        let offset = (l - r.starts_at.naive_utc()).num_hours();
        let summer = r.starts_at
            > Berlin
                .from_local_datetime(&at_time(last_sunday(first.year() + 1, 3), 3, 0))
                .unwrap()
            || r.starts_at
                < Berlin
                    .from_local_datetime(&at_time(last_sunday(first.year(), 10), 2, 0))
                    .earliest()
                    .unwrap();
        assert_eq!(offset, if summer { 2 } else { 1 }, "{l}");
    }
    assert_eq!(local(list[0].starts_at).date(), first);
    assert_eq!(local(list.last().unwrap().starts_at).date(), last);
    // One audit event for the whole series; the chain holds.
    let events = rathaus_store::audit::list(
        &s.db.conn,
        &s.admin,
        &rathaus_store::audit::AuditFilter::default(),
    )
    .await
    .unwrap();
    let n = events
        .iter()
        .filter(|e| e.action == "booking.series.created")
        .count();
    assert_eq!(n, 1);
    assert!(
        rathaus_store::audit::verify(&s.db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn a_start_in_the_spring_gap_refuses_the_series_naming_its_day() {
    let s = setup().await;
    let h = hall(&s, "Halle", false).await;
    let change = last_sunday(season_start().year() + 1, 3);
    let inp = SeriesInput {
        duration_minutes: 60,
        ..weekly(
            &h,
            at_time(change - Duration::days(14), 2, 30),
            "FREQ=WEEKLY;COUNT=4",
        )
    };
    let errs = invalid(series::reserve_series(&s.db.conn, Actor::User(&s.booker), inp).await);
    let (_, _, arg) = errs
        .iter()
        .find(|(f, k, _)| f == "start" && k == "booking.series.err.local_gap")
        .expect("gap error");
    assert_eq!(
        arg.as_deref(),
        Some(format!("{} 02:30", change.format("%d.%m.%Y")).as_str())
    );
    assert_eq!(
        (count_series(&s).await, count_reservations(&s).await),
        (0, 0)
    );
}

#[tokio::test]
async fn malformed_endless_and_huge_rules_are_refused_and_nothing_is_stored() {
    let s = setup().await;
    let h = hall(&s, "Halle", false).await;
    let start = at_time(season_start(), 18, 0);
    for (rule, key) in [
        (
            "FREQ=WEEKLY;BYDAY=TUESDAY;COUNT=3",
            "booking.series.err.rrule_invalid",
        ),
        ("jeden Dienstag", "booking.series.err.rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=TU", "booking.series.err.rrule_no_end"),
        ("FREQ=DAILY;COUNT=1001", "booking.series.err.too_many"),
        ("FREQ=DAILY;UNTIL=20991231", "booking.series.err.too_many"),
        ("FREQ=MINUTELY;COUNT=3", "booking.series.err.rrule_freq"),
    ] {
        let errs = invalid(
            series::reserve_series(&s.db.conn, Actor::User(&s.booker), weekly(&h, start, rule))
                .await,
        );
        assert!(has_key(&errs, "rrule", key), "{rule}: {errs:?}");
    }
    // A series in the past, a title missing.
    let mut inp = weekly(
        &h,
        at_time(NaiveDate::from_ymd_opt(2020, 1, 7).unwrap(), 18, 0),
        "FREQ=WEEKLY;COUNT=2",
    );
    let errs =
        invalid(series::reserve_series(&s.db.conn, Actor::User(&s.booker), inp.clone()).await);
    assert!(has_key(&errs, "start", "booking.err.in_past"), "{errs:?}");
    inp.dtstart_local = start;
    inp.title = " ".into();
    let errs = invalid(series::reserve_series(&s.db.conn, Actor::User(&s.booker), inp).await);
    assert!(has_key(&errs, "title", "err.required"), "{errs:?}");
    assert_eq!(
        (count_series(&s).await, count_reservations(&s).await),
        (0, 0)
    );
}

#[tokio::test]
async fn exdates_and_blackouts_leave_occurrences_out() {
    let s = setup().await;
    let h = hall(&s, "Halle", false).await;
    let first = season_start();
    let start = at_time(first, 18, 0);
    let mut inp = weekly(&h, start, "FREQ=WEEKLY;BYDAY=TU;COUNT=6");
    inp.exdates = vec![
        ExDate::Day(first + Duration::days(7)),
        ExDate::At(at_time(first + Duration::days(14), 18, 0)),
        // Matches no occurrence: ignored.
        ExDate::Day(first + Duration::days(1)),
    ];
    let (ser, list) = series::reserve_series(&s.db.conn, Actor::User(&s.booker), inp)
        .await
        .unwrap();
    assert_eq!(list.len(), 4);
    let days: Vec<NaiveDate> = list.iter().map(|r| local(r.starts_at).date()).collect();
    assert!(!days.contains(&(first + Duration::days(7))));
    assert!(!days.contains(&(first + Duration::days(14))));
    assert_eq!(
        series::stored_exdates(&ser),
        vec![
            at_time(first + Duration::days(7), 18, 0),
            at_time(first + Duration::days(14), 18, 0)
        ]
    );

    // Autumn holidays: a blackout over the fourth Tuesday of another hall's series.
    let h2 = hall(&s, "Halle Süd", false).await;
    let holiday = first + Duration::days(21);
    blackout::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(None),
        starts_at: Set(Berlin
            .from_local_datetime(&at_time(holiday, 0, 0))
            .unwrap()
            .to_utc()),
        ends_at: Set(Berlin
            .from_local_datetime(&at_time(holiday + Duration::days(1), 0, 0))
            .unwrap()
            .to_utc()),
        reason: Set("Herbstferien".into()),
        source_uid: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    let inp = weekly(&h2, start, "FREQ=WEEKLY;BYDAY=TU;COUNT=6");
    // Without skip_blackouts the series is refused, naming the day.
    let errs =
        invalid(series::reserve_series(&s.db.conn, Actor::User(&s.booker), inp.clone()).await);
    assert!(
        has_key(&errs, "start", "booking.rules.blackout"),
        "{errs:?}"
    );
    let day = errs
        .iter()
        .find(|(f, k, _)| f == "rrule" && k == "booking.series.err.occurrence_refused")
        .and_then(|(_, _, a)| a.clone())
        .unwrap();
    assert_eq!(day, format!("{} 18:00", holiday.format("%d.%m.%Y")));
    // With it, the holiday becomes an exception of the series.
    let (ser, list) = series::reserve_series(
        &s.db.conn,
        Actor::User(&s.booker),
        SeriesInput {
            skip_blackouts: true,
            ..inp
        },
    )
    .await
    .unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(series::stored_exdates(&ser), vec![at_time(holiday, 18, 0)]);
}

#[tokio::test]
async fn conflicts_name_every_slot_in_the_way_and_store_nothing() {
    let s = setup().await;
    let h = hall(&s, "Halle", false).await;
    let part = resource(&s, "Drittel", service::HALL_PART, Some(h.id)).await;
    let first = season_start();
    let (_, taken) = series::reserve_series(
        &s.db.conn,
        Actor::User(&s.other),
        SeriesInput {
            duration_minutes: 60,
            ..weekly(
                &h,
                at_time(first + Duration::days(7), 19, 0),
                "FREQ=WEEKLY;INTERVAL=2;COUNT=2",
            )
        },
    )
    .await
    .unwrap();
    let before = count_reservations(&s).await;
    // A part of the hall, Tuesdays 18:00–20:00: weeks 2 and 4 collide with the hall's.
    let r = series::reserve_series(
        &s.db.conn,
        Actor::User(&s.booker),
        SeriesInput {
            resource_id: part.id,
            ..weekly(&h, at_time(first, 18, 0), "FREQ=WEEKLY;COUNT=5")
        },
    )
    .await;
    match r {
        Err(ReserveError::Conflict(c)) => {
            assert_eq!(c.len(), 2, "{c:?}");
            assert_eq!(c[0].start, taken[0].starts_at);
            assert_eq!(c[1].start, taken[1].starts_at);
            assert!(c.iter().all(|b| b.resource_id == h.id));
        }
        other => panic!("expected conflict, got {other:?}"),
    }
    assert_eq!(count_reservations(&s).await, before);
    assert_eq!(count_series(&s).await, 1);
}

async fn five_tuesdays(
    s: &Setup,
    h: &Resource,
    who: &Principal,
) -> (series::Series, Vec<Reservation>) {
    series::reserve_series(
        &s.db.conn,
        Actor::User(who),
        weekly(
            h,
            at_time(season_start(), 18, 0),
            "FREQ=WEEKLY;BYDAY=TU;COUNT=5",
        ),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn one_occurrence_is_cancelled_or_moved() {
    let s = setup().await;
    let h = hall(&s, "Halle", false).await;
    let (ser, list) = five_tuesdays(&s, &h, &s.booker).await;

    // Cancel the second: its slot is free again, both SEQUENCEs rise, EXDATE recorded.
    let c = series::cancel_occurrence(
        &s.db.conn,
        Actor::User(&s.booker),
        ReservationId(list[1].id),
    )
    .await
    .unwrap();
    assert_eq!((c.status.as_str(), c.sequence), (CANCELLED, 1));
    let after = series_row(&s, ser.id).await;
    assert_eq!(after.sequence, ser.sequence + 1);
    assert_eq!(
        series::stored_exdates(&after),
        vec![local(list[1].starts_at)]
    );
    let single = service::ReservationInput {
        resource_id: h.id,
        title: "Einzeltermin".into(),
        start: list[1].starts_at,
        end: list[1].ends_at,
        organisation_id: None,
    };
    service::reserve(&s.db.conn, Actor::User(&s.other), single)
        .await
        .expect("slot is free again");
    // Cancelling again changes nothing.
    let again = series::cancel_occurrence(
        &s.db.conn,
        Actor::User(&s.booker),
        ReservationId(list[1].id),
    )
    .await
    .unwrap();
    assert_eq!(again.sequence, 1);

    // Move the third an hour later on the same day.
    let l = local(list[2].starts_at);
    let moved = series::move_occurrence(
        &s.db.conn,
        Actor::User(&s.booker),
        ReservationId(list[2].id),
        l + Duration::hours(1),
        l + Duration::hours(3),
    )
    .await
    .unwrap();
    assert_eq!(local(moved.starts_at), l + Duration::hours(1));
    assert_eq!(moved.sequence, 1);
    assert_eq!(moved.series_id, Some(ser.id));
    // Onto the single booking of the second week: a conflict, nothing changes.
    let l1 = local(list[1].starts_at);
    match series::move_occurrence(
        &s.db.conn,
        Actor::User(&s.booker),
        ReservationId(list[2].id),
        l1,
        l1 + Duration::hours(2),
    )
    .await
    {
        Err(ReserveError::Conflict(c)) => assert_eq!(c.len(), 1),
        other => panic!("expected conflict, got {other:?}"),
    }
    // Into its own old slot: allowed (it does not block itself); end before start refused.
    let errs = invalid(
        series::move_occurrence(
            &s.db.conn,
            Actor::User(&s.booker),
            ReservationId(list[2].id),
            l,
            l - Duration::hours(1),
        )
        .await,
    );
    assert!(has_key(&errs, "end", "booking.err.end_before_start"));
    // A local time in the spring gap is refused.
    let gap = at_time(last_sunday(season_start().year() + 1, 3), 2, 30);
    let errs = invalid(
        series::move_occurrence(
            &s.db.conn,
            Actor::User(&s.booker),
            ReservationId(list[2].id),
            gap,
            gap + Duration::hours(2),
        )
        .await,
    );
    assert!(has_key(&errs, "start", "booking.err.local_gap"), "{errs:?}");
}

#[tokio::test]
async fn a_series_is_cancelled_from_a_date_on_or_as_a_whole() {
    let s = setup().await;
    let h = hall(&s, "Halle", false).await;
    let (ser, list) = five_tuesdays(&s, &h, &s.booker).await;
    let from = local(list[3].starts_at).date();
    let (after, cancelled) =
        series::cancel_from(&s.db.conn, Actor::User(&s.booker), SeriesId(ser.id), from)
            .await
            .unwrap();
    assert_eq!(cancelled.len(), 2);
    assert_eq!(after.status, CONFIRMED);
    assert_eq!(after.sequence, 1);
    assert!(!after.rrule.contains("COUNT"), "{}", after.rrule);
    let rule = series::Rule::parse(&after.rrule).unwrap();
    assert_eq!(rule.until_local.unwrap().date(), from - Duration::days(1));
    let now: Vec<_> = series::series_reservations(&s.db.conn, s.f.tenant, SeriesId(ser.id))
        .await
        .unwrap();
    let statuses: Vec<&str> = now.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(
        statuses,
        [CONFIRMED, CONFIRMED, CONFIRMED, CANCELLED, CANCELLED]
    );

    // From before the first occurrence: the whole series.
    let (after, cancelled) = series::cancel_from(
        &s.db.conn,
        Actor::User(&s.booker),
        SeriesId(ser.id),
        from - Duration::days(60),
    )
    .await
    .unwrap();
    assert_eq!(cancelled.len(), 3);
    assert_eq!(after.status, CANCELLED);
    // A cancelled series cannot be cancelled again.
    let e = series::cancel_from(&s.db.conn, Actor::User(&s.booker), SeriesId(ser.id), from)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
}

#[tokio::test]
async fn only_the_booker_an_organisation_member_or_a_manager_may_change_a_series() {
    let s = setup().await;
    let h = hall(&s, "Halle", false).await;
    let (ser, list) = five_tuesdays(&s, &h, &s.booker).await;
    let day = local(list[4].starts_at).date();
    let l = local(list[4].starts_at);
    for who in [&s.other, &s.clerk] {
        assert!(matches!(
            series::get_series(&s.db.conn, Actor::User(who), SeriesId(ser.id)).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            series::cancel_occurrence(&s.db.conn, Actor::User(who), ReservationId(list[0].id))
                .await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            series::cancel_from(&s.db.conn, Actor::User(who), SeriesId(ser.id), day).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            series::move_occurrence(
                &s.db.conn,
                Actor::User(who),
                ReservationId(list[0].id),
                l,
                l + Duration::hours(1)
            )
            .await,
            Err(ReserveError::Other(Error::NotFound))
        ));
        assert!(matches!(
            series::approve_series(&s.db.conn, Actor::User(who), SeriesId(ser.id)).await,
            Err(ReserveError::Other(Error::Forbidden))
        ));
    }
    // The clerk may not book a staff-only hall at all (nor see it).
    let r = series::reserve_series(
        &s.db.conn,
        Actor::User(&s.clerk),
        weekly(&h, l + Duration::days(7), "FREQ=WEEKLY;COUNT=2"),
    )
    .await;
    assert!(
        matches!(
            r,
            Err(ReserveError::Other(Error::Forbidden | Error::NotFound))
        ),
        "{r:?}"
    );
    // Another tenant's series is unknown even to its admin.
    let b = tenant(&s.db, "b", "rathaus.b.test").await;
    assert!(matches!(
        series::get_series(&s.db.conn, Actor::User(&b.admin), SeriesId(ser.id)).await,
        Err(Error::NotFound)
    ));
    // The manager may.
    series::cancel_occurrence(&s.db.conn, Actor::User(&s.admin), ReservationId(list[0].id))
        .await
        .unwrap();
    assert_eq!(
        series::get_series(&s.db.conn, Actor::User(&s.booker), SeriesId(ser.id))
            .await
            .unwrap()
            .1
            .len(),
        5
    );
}

#[tokio::test]
async fn a_series_needing_approval_is_approved_or_rejected_as_a_whole() {
    let s = setup().await;
    let h = hall(&s, "Halle mit Genehmigung", true).await;
    let (ser, list) = five_tuesdays(&s, &h, &s.booker).await;
    assert_eq!(ser.status, REQUESTED);
    assert!(list.iter().all(|r| r.status == REQUESTED));
    assert!(matches!(
        series::approve_series(&s.db.conn, Actor::User(&s.booker), SeriesId(ser.id)).await,
        Err(ReserveError::Other(Error::Forbidden))
    ));
    // One occurrence cancelled first: the rest are approved.
    series::cancel_occurrence(
        &s.db.conn,
        Actor::User(&s.booker),
        ReservationId(list[0].id),
    )
    .await
    .unwrap();
    let (after, approved) =
        series::approve_series(&s.db.conn, Actor::User(&s.admin), SeriesId(ser.id))
            .await
            .unwrap();
    assert_eq!((after.status.as_str(), approved.len()), (CONFIRMED, 4));
    assert!(
        approved
            .iter()
            .all(|r| r.status == CONFIRMED && r.decided_by == Some(s.admin.user_id.0))
    );
    // Decided already.
    let e = series::reject_series(
        &s.db.conn,
        Actor::User(&s.admin),
        SeriesId(ser.id),
        "Belegt",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");

    // A second series: a reason is required, then all are rejected with it.
    let (ser2, _) = series::reserve_series(
        &s.db.conn,
        Actor::User(&s.other),
        weekly(
            &h,
            at_time(season_start() + Duration::days(1), 18, 0),
            "FREQ=WEEKLY;COUNT=3",
        ),
    )
    .await
    .unwrap();
    let e = series::reject_series(&s.db.conn, Actor::User(&s.admin), SeriesId(ser2.id), "  ")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    let (after, rejected) = series::reject_series(
        &s.db.conn,
        Actor::User(&s.admin),
        SeriesId(ser2.id),
        "Halle wird renoviert",
    )
    .await
    .unwrap();
    assert_eq!((after.status.as_str(), rejected.len()), (REJECTED, 3));
    assert!(
        rejected
            .iter()
            .all(|r| r.decision_reason.as_deref() == Some("Halle wird renoviert"))
    );
}

#[tokio::test]
async fn approval_rechecks_confirmed_bookings_in_the_way() {
    let s = setup().await;
    let h = hall(&s, "Halle", true).await;
    let (ser, list) = five_tuesdays(&s, &h, &s.booker).await;
    // A confirmed booking written past the overlap check (as when pending requests do not
    // block): approval must refuse and name it.
    use rathaus_booking::store::entity::reservation;
    reservation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(h.id),
        title: Set("Dazwischen".into()),
        starts_at: Set(list[2].starts_at),
        ends_at: Set(list[2].ends_at),
        status: Set(CONFIRMED.into()),
        booked_by: Set(Some(s.other.user_id.0)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    match series::approve_series(&s.db.conn, Actor::User(&s.admin), SeriesId(ser.id)).await {
        Err(ReserveError::Conflict(c)) => assert_eq!(c.len(), 1),
        other => panic!("expected conflict, got {other:?}"),
    }
    let now = series::series_reservations(&s.db.conn, s.f.tenant, SeriesId(ser.id))
        .await
        .unwrap();
    assert!(now.iter().all(|r| r.status == REQUESTED));
}

const TASKS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn exactly_one_of_twenty_concurrent_overlapping_series_wins() {
    let s = setup().await;
    let h = hall(&s, "Dreifachhalle", false).await;
    let part = resource(&s, "Drittel 1", service::HALL_PART, Some(h.id)).await;
    let bookers = Arc::new([s.booker.clone(), s.other.clone(), s.admin.clone()]);
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = tokio::task::JoinSet::new();
    let first = season_start();
    for i in 0..TASKS {
        let (db, barrier, bookers) = (s.db.clone(), barrier.clone(), bookers.clone());
        // Every pair overlaps: the hall or its part, weekly on the same Tuesdays, start
        // times at most 45 minutes apart for two-hour slots.
        let resource_id = if i % 3 == 0 { h.id } else { part.id };
        let start = at_time(first, 18, 0) + Duration::minutes((i as i64 % 4) * 15);
        let inp = SeriesInput {
            resource_id,
            ..weekly(&h, start, "FREQ=WEEKLY;COUNT=10")
        };
        tasks.spawn(async move {
            barrier.wait().await;
            series::reserve_series(&db.conn, Actor::User(&bookers[i % 3]), inp).await
        });
    }
    let (mut won, mut refused) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok((_, list)) => {
                assert_eq!(list.len(), 10);
                won += 1;
            }
            Err(ReserveError::Conflict(c)) => {
                assert_eq!(c.len(), 10, "{c:?}");
                refused += 1;
            }
            Err(ReserveError::Other(e)) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!((won, refused), (1, TASKS - 1));
    assert_eq!(count_series(&s).await, 1);
    assert_eq!(count_reservations(&s).await, 10);
    assert!(
        rathaus_store::audit::verify(&s.db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}

// ---------------------------------------------------------------- the series page

mod page {
    use super::*;
    use rathaus_booking::Booking;
    use rathaus_testkit::{PASSWORD, TestApp, login, post_form};
    use rathaus_web::{AppState, Module, WebConfig};

    const HOST: &str = "rathaus.a.test";

    async fn status_and_location(r: reqwest::Response) -> (u16, String) {
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        (r.status().as_u16(), loc)
    }

    #[tokio::test]
    async fn the_series_page_shows_and_changes_a_series_for_those_allowed() {
        let mut s = setup().await;
        let h = hall(&s, "Halle Ost", true).await;
        let (ser, list) = five_tuesdays(&s, &h, &s.booker).await;
        let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Booking)];
        let st = AppState::with_modules(s.db.clone(), WebConfig::default(), modules);
        let app = TestApp::spawn_state(s.tdb.take().unwrap(), st).await;
        let base = app.url(HOST, "");
        let page = format!("/buchung/serien/{}", ser.id);
        let cancel_one = format!("{page}/termine/{}/absagen", list[0].id);
        let move_one = format!("{page}/termine/{}/verschieben", list[1].id);
        let from = format!("{page}/absagen-ab");
        let approve = format!("{page}/genehmigen");
        let reject = format!("{page}/ablehnen");

        // Anonymous: to the login, GET and POST alike.
        let anon = app.client(&[HOST]);
        let (code, loc) =
            status_and_location(anon.get(format!("{base}{page}")).send().await.unwrap()).await;
        assert_eq!(code, 303);
        assert!(loc.starts_with("/login"), "{loc}");
        for action in [&cancel_one, &move_one, &from, &approve, &reject] {
            let r = post_form(&anon, &base, "/login", action, &[]).await;
            assert_eq!(r.status(), 303, "{action}");
        }

        // Without permission (the clerk) or someone else's series (another booker): 404.
        for email in [s.f.clerk_email.clone(), s.other.email.clone()] {
            let c = app.client(&[HOST]);
            assert_eq!(login(&c, &base, &email, PASSWORD).await.status(), 303);
            let r = c.get(format!("{base}{page}")).send().await.unwrap();
            assert_eq!(r.status(), 404, "{email}");
            for action in [&cancel_one, &from] {
                let r = post_form(&c, &base, "/staff", action, &[("from", "2030-01-01")]).await;
                assert_eq!(r.status(), 404, "{email} {action}");
            }
            for action in [&approve, &reject] {
                let r = post_form(&c, &base, "/staff", action, &[("reason", "x")]).await;
                assert_eq!(r.status(), 403, "{email} {action}");
            }
        }

        // The booker: the page, a real table, the forms with CSRF fields.
        let c = app.client(&[HOST]);
        assert_eq!(
            login(&c, &base, &s.booker.email, PASSWORD).await.status(),
            303
        );
        let body = c
            .get(format!("{base}{page}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("<caption"), "{body}");
        assert!(
            body.contains("wöchentlich") && body.contains("5 Termine"),
            "{body}"
        );
        assert!(body.contains("18:00–20:00"));
        assert!(body.contains("name=\"_csrf\""));
        assert!(!body.contains("Alle offenen Termine genehmigen"));
        // Bad input: 422, German message beside the field, input kept, nothing changed.
        let r = post_form(
            &c,
            &base,
            &page,
            &move_one,
            &[("date", "31.02.2030"), ("start", "18:00"), ("end", "20:00")],
        )
        .await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("gültiges Datum") && body.contains("value=\"31.02.2030\""),
            "{body}"
        );
        let r = post_form(&c, &base, &page, &from, &[("from", "")]).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("aria-invalid=\"true\""));
        // Move, cancel one, cancel from a date: each redirects back with a notice.
        let l = local(list[1].starts_at);
        let fields = [
            ("date", l.format("%Y-%m-%d").to_string()),
            ("start", "19:00".to_string()),
            ("end", "21:00".to_string()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (code, loc) =
            status_and_location(post_form(&c, &base, &page, &move_one, &fields).await).await;
        assert_eq!(
            (code, loc.contains("occurrence_moved")),
            (303, true),
            "{loc}"
        );
        let (code, _) =
            status_and_location(post_form(&c, &base, &page, &cancel_one, &[]).await).await;
        assert_eq!(code, 303);
        let day = local(list[4].starts_at).format("%Y-%m-%d").to_string();
        let (code, _) = status_and_location(
            post_form(&c, &base, &page, &from, &[("from", day.as_str())]).await,
        )
        .await;
        assert_eq!(code, 303);
        let now = series::series_reservations(&s.db.conn, s.f.tenant, SeriesId(ser.id))
            .await
            .unwrap();
        let statuses: Vec<&str> = now.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(
            statuses,
            [CANCELLED, REQUESTED, REQUESTED, REQUESTED, CANCELLED]
        );
        assert_eq!(local(now[1].starts_at).hour(), 19);

        // The manager: reject needs a reason (422 beside the field), approve confirms all.
        let m = app.client(&[HOST]);
        assert_eq!(
            login(&m, &base, &s.f.admin_email, PASSWORD).await.status(),
            303
        );
        let body = m
            .get(format!("{base}{page}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("Alle offenen Termine genehmigen"), "{body}");
        let r = post_form(&m, &base, &page, &reject, &[("reason", "")]).await;
        assert_eq!(r.status(), 422);
        let (code, loc) =
            status_and_location(post_form(&m, &base, &page, &approve, &[]).await).await;
        assert_eq!((code, loc.contains("approved")), (303, true), "{loc}");
        let body = m
            .get(format!("{base}{loc}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("Die Serie wurde genehmigt"), "{body}");
        // Decided already: 409 with the message.
        let r = post_form(&m, &base, &page, &approve, &[]).await;
        assert_eq!(r.status(), 409);
    }
}
