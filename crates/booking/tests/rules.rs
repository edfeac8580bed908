//! The rules besides "no overlap", on the configured backend: who may book which resource
//! (public, organisations, staff), opening hours, blackouts, fees per group, the cancellation
//! deadline, pending requests blocking (or not), and the mails queued with each change.

use crate::common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use common::*;
use rathaus_booking::domain::{ReservationId, ResourceId, SeriesId};
use rathaus_booking::service::rules::{self, Week};
use rathaus_booking::service::{
    self, CONFIRMED, REQUESTED, ReservationInput, ReserveError, ResourceInput,
};
use rathaus_booking::store::entity::{blackout, org_member, organisation, settings};
use rathaus_core::{Error, Principal, UserId};
use rathaus_store::entity::mail;
use rathaus_store::uow::Actor;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

fn keys(r: Result<service::Reservation, ReserveError>) -> Vec<(String, String)> {
    match r {
        Err(ReserveError::Other(Error::Invalid(f))) => {
            f.0.into_iter().map(|e| (e.field, e.key)).collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn input(resource_id: i64, start: chrono::DateTime<Utc>, minutes: i64) -> ReservationInput {
    ReservationInput {
        resource_id,
        title: "Probe".into(),
        start,
        end: start + Duration::minutes(minutes),
        organisation_id: None,
    }
}

/// Local wall-clock time in Europe/Berlin, `days` days ahead of today.
fn local(days: i64, hh: u32, mm: u32) -> chrono::DateTime<Utc> {
    let d = Utc::now().with_timezone(&Berlin).date_naive() + Duration::days(days);
    Berlin
        .from_local_datetime(&d.and_hms_opt(hh, mm, 0).expect("valid time"))
        .earliest()
        .expect("exists")
        .to_utc()
}

async fn citizen(s: &Setup, email: &str) -> Principal {
    let u = rathaus_store::accounts::create_citizen(
        &s.db.conn,
        s.f.tenant,
        "Erika Muster",
        email,
        "tulpenbeet sommerregen",
        true,
    )
    .await
    .expect("citizen");
    principal(&s.db, s.f.tenant, UserId(u.id)).await
}

async fn club(s: &Setup, name: &str, kind: &str, members: &[&Principal]) -> organisation::Model {
    let o = organisation::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        name: Set(name.into()),
        kind: Set(kind.into()),
        contact_email: Set(String::new()),
        public_name: Set(false),
        feed_token: Set(rathaus_store::random_token(24)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .expect("organisation");
    for m in members {
        org_member::ActiveModel {
            tenant_id: Set(s.f.tenant.0),
            organisation_id: Set(o.id),
            user_id: Set(m.user_id.0),
            created_at: Set(Utc::now()),
        }
        .insert(&s.db.conn)
        .await
        .expect("member");
    }
    o
}

fn with(name: &str, kind: &str, bookable_by: &str) -> ResourceInput {
    let mut i = ResourceInput::new(name, kind);
    i.bookable_by = bookable_by.into();
    i
}

#[tokio::test]
async fn who_may_book_what() {
    let s = setup().await;
    let erika = citizen(&s, "erika@a.example").await;
    let max = citizen(&s, "max@a.example").await;
    let tv = club(&s, "TV 1890", "club", &[&erika]).await;
    let public = resource_with(&s, with("Bürgerhaus", "room", rules::PUBLIC)).await;
    let orgs = resource_with(&s, with("Halle", "hall", rules::ORGANISATIONS)).await;
    let staff = resource_with(&s, with("Ratssaal", "room", rules::STAFF)).await;
    let db = &s.db.conn;

    // A citizen sees and books public resources only; the others are hidden (404).
    let seen: Vec<String> = service::list_resources(db, Actor::User(&max))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(seen, ["Bürgerhaus"]);
    let res = service::reserve(db, Actor::User(&max), input(public.id, at(0), 60))
        .await
        .expect("citizen books a public room");
    assert_eq!(res.fee_group, "citizen");
    assert_eq!(res.organisation_id, None);
    for r in [&orgs, &staff] {
        assert!(matches!(
            service::get_resource(db, Actor::User(&max), ResourceId(r.id)).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            service::reserve(db, Actor::User(&max), input(r.id, at(120), 60)).await,
            Err(ReserveError::Other(Error::Forbidden))
        ));
    }

    // A member books the organisations' hall for the club; for herself she may not.
    let seen: Vec<String> = service::list_resources(db, Actor::User(&erika))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(seen, ["Bürgerhaus", "Halle"]);
    let mut inp = input(orgs.id, at(0), 60);
    inp.organisation_id = Some(tv.id);
    let res = service::reserve(db, Actor::User(&erika), inp)
        .await
        .expect("member books");
    assert_eq!(res.organisation_id, Some(tv.id));
    assert_eq!(res.fee_group, "club");
    assert!(matches!(
        service::reserve(db, Actor::User(&erika), input(orgs.id, at(240), 60)).await,
        Err(ReserveError::Other(Error::Forbidden))
    ));
    // Not a member of that club: a field error, nothing stored.
    let mut inp = input(orgs.id, at(240), 60);
    inp.organisation_id = Some(tv.id);
    assert_eq!(
        keys(service::reserve(db, Actor::User(&max), inp).await),
        [(
            "organisation_id".to_string(),
            "booking.rules.not_member".to_string()
        )]
    );
    // The club's booking is visible to every member, not to others.
    assert!(
        service::get_reservation(db, Actor::User(&erika), ReservationId(res.id))
            .await
            .is_ok()
    );
    assert!(matches!(
        service::get_reservation(db, Actor::User(&max), ReservationId(res.id)).await,
        Err(Error::NotFound)
    ));
    // Staff-only rooms: a club cannot book them either.
    let mut inp = input(staff.id, at(0), 60);
    inp.organisation_id = Some(tv.id);
    assert!(matches!(
        service::reserve(db, Actor::User(&erika), inp).await,
        Err(ReserveError::Other(Error::Forbidden))
    ));
    // Staff with booking.book book anything, as group `staff`.
    let res = service::reserve(db, Actor::User(&s.booker), input(staff.id, at(0), 60))
        .await
        .expect("staff");
    assert_eq!(res.fee_group, "staff");
}

#[tokio::test]
async fn opening_hours_and_blackouts() {
    let s = setup().await;
    let mut inp = with("Bürgerhaus", "room", rules::PUBLIC);
    let mut week: Week = [Some((8 * 60, 22 * 60)); 7];
    week[6] = None;
    inp.opening_hours = Some(week);
    let r = resource_with(&s, inp).await;
    let db = &s.db.conn;
    // Find the next Monday and Sunday at least two days ahead.
    let mut monday = 2;
    while (Utc::now().with_timezone(&Berlin).date_naive() + Duration::days(monday))
        .format("%u")
        .to_string()
        != "1"
    {
        monday += 1;
    }
    let sunday = monday + 6;
    assert_eq!(
        keys(
            service::reserve(
                db,
                Actor::User(&s.booker),
                input(r.id, local(monday, 7, 0), 120)
            )
            .await
        ),
        [("start".to_string(), "booking.rules.closed".to_string())]
    );
    assert_eq!(
        keys(
            service::reserve(
                db,
                Actor::User(&s.booker),
                input(r.id, local(monday, 21, 0), 120)
            )
            .await
        ),
        [("start".to_string(), "booking.rules.closed".to_string())]
    );
    assert_eq!(
        keys(
            service::reserve(
                db,
                Actor::User(&s.booker),
                input(r.id, local(sunday, 10, 0), 60)
            )
            .await
        ),
        [("start".to_string(), "booking.rules.closed".to_string())]
    );
    service::reserve(
        db,
        Actor::User(&s.booker),
        input(r.id, local(monday, 8, 0), 14 * 60),
    )
    .await
    .expect("exactly the opening hours");

    // A tenant-wide blackout (school holidays) and one for this resource (maintenance).
    let day = Utc::now().with_timezone(&Berlin).date_naive() + Duration::days(monday + 1);
    let midnight = |d: NaiveDate| {
        Berlin
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .earliest()
            .unwrap()
            .to_utc()
    };
    for (resource_id, d, reason) in [
        (None, day, "Herbstferien"),
        (Some(r.id), day + Duration::days(1), "Wartung"),
    ] {
        blackout::ActiveModel {
            tenant_id: Set(s.f.tenant.0),
            resource_id: Set(resource_id),
            starts_at: Set(midnight(d)),
            ends_at: Set(midnight(d + Duration::days(1))),
            reason: Set(reason.into()),
            source_uid: Set(String::new()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (offset, reason) in [(monday + 1, "Herbstferien"), (monday + 2, "Wartung")] {
        match service::reserve(
            db,
            Actor::User(&s.booker),
            input(r.id, local(offset, 10, 0), 60),
        )
        .await
        {
            Err(ReserveError::Other(Error::Invalid(f))) => {
                assert_eq!(f.0[0].key, "booking.rules.blackout");
                assert_eq!(f.0[0].arg.as_deref(), Some(reason));
            }
            other => panic!("expected a blackout refusal, got {other:?}"),
        }
    }
    // Another resource is only affected by the tenant-wide one.
    let other = resource(&s, "Raum 2", "room", None).await;
    service::reserve(
        db,
        Actor::User(&s.booker),
        input(other.id, local(monday + 2, 10, 0), 60),
    )
    .await
    .expect("maintenance of another room does not block this one");
}

#[tokio::test]
async fn fees_per_group_and_hour() {
    let s = setup().await;
    let mut inp = with("Bürgerhaus", "room", rules::PUBLIC);
    inp.fee_schedule = [("citizen".to_string(), 1250), ("club".to_string(), 0)]
        .into_iter()
        .collect();
    let r = resource_with(&s, inp).await;
    let erika = citizen(&s, "erika@a.example").await;
    let res = service::reserve(&s.db.conn, Actor::User(&erika), input(r.id, at(0), 90))
        .await
        .unwrap();
    assert_eq!(res.fee_cents, 1875, "1.5 h at 12.50");
    assert_eq!(rules::fee_cents(&r, "club", at(0), at(120)), 0);
    assert_eq!(
        rules::fee_cents(&r, "other", at(0), at(120)),
        0,
        "unnamed group: free"
    );
    // Bad schedules are refused with the field of the group.
    let mut bad = with("Teuer", "room", rules::PUBLIC);
    bad.fee_schedule = [("citizen".to_string(), -5)].into_iter().collect();
    match service::create_resource(&s.db.conn, Actor::User(&s.admin), bad).await {
        Err(Error::Invalid(f)) => assert_eq!(f.0[0].field, "fee_citizen"),
        other => panic!("{other:?}"),
    }
    let mut bad = with("Unbekannt", "room", "everyone");
    bad.cancel_hours = -1;
    match service::create_resource(&s.db.conn, Actor::User(&s.admin), bad).await {
        Err(Error::Invalid(f)) => {
            let fields: Vec<_> = f.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["bookable_by", "cancel_hours"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn cancellation_deadline() {
    let s = setup().await;
    let mut inp = with("Bürgerhaus", "room", rules::PUBLIC);
    inp.cancel_hours = 72;
    let r = resource_with(&s, inp).await;
    let erika = citizen(&s, "erika@a.example").await;
    // at(0) is two days ahead: inside the 72-hour deadline.
    let res = service::reserve(&s.db.conn, Actor::User(&erika), input(r.id, at(0), 60))
        .await
        .unwrap();
    match service::cancel(&s.db.conn, Actor::User(&erika), ReservationId(res.id)).await {
        Err(Error::Invalid(f)) => assert_eq!(f.0[0].key, "booking.rules.cancel_deadline"),
        other => panic!("{other:?}"),
    }
    // The administration still can, and the calendar sequence rises.
    let after = service::cancel(&s.db.conn, Actor::User(&s.admin), ReservationId(res.id))
        .await
        .unwrap();
    assert_eq!(after.status, service::CANCELLED);
    assert_eq!(after.sequence, res.sequence + 1);
}

#[tokio::test]
async fn pending_requests_block_unless_turned_off() {
    let s = setup().await;
    let mut inp = with("Halle", "hall", rules::PUBLIC);
    inp.requires_approval = true;
    let r = resource_with(&s, inp).await;
    let first = service::reserve(&s.db.conn, Actor::User(&s.booker), input(r.id, at(0), 60))
        .await
        .unwrap();
    assert_eq!(first.status, REQUESTED);
    assert!(matches!(
        service::reserve(&s.db.conn, Actor::User(&s.other), input(r.id, at(0), 60)).await,
        Err(ReserveError::Conflict(_))
    ));
    settings::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        priority_order: Set("school,club,other".into()),
        pending_blocks: Set(false),
        reminder_hours: Set(24),
    }
    .insert(&s.db.conn)
    .await
    .unwrap();
    let second = service::reserve(&s.db.conn, Actor::User(&s.other), input(r.id, at(0), 60))
        .await
        .expect("a second request for the same slot");
    // Approving one makes the other unapprovable.
    let ok = service::approve(&s.db.conn, Actor::User(&s.admin), ReservationId(first.id))
        .await
        .unwrap();
    assert_eq!(ok.status, CONFIRMED);
    assert!(matches!(
        service::approve(&s.db.conn, Actor::User(&s.admin), ReservationId(second.id)).await,
        Err(ReserveError::Conflict(_))
    ));
}

#[tokio::test]
async fn mails_go_through_the_outbox() {
    let s = setup().await;
    let mut inp = with("Halle", "hall", rules::PUBLIC);
    inp.requires_approval = true;
    let hall = resource_with(&s, inp).await;
    let room = resource_with(&s, with("Raum", "room", rules::PUBLIC)).await;
    let erika = citizen(&s, "erika@a.example").await;
    let db = &s.db.conn;
    let outbox = || async {
        mail::Entity::find()
            .filter(mail::Column::TenantId.eq(s.f.tenant.0))
            .filter(mail::Column::ToAddr.eq("erika@a.example"))
            .order_by_asc(mail::Column::Id)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.subject, m.body))
            .collect::<Vec<_>>()
    };
    let confirmed = service::reserve(db, Actor::User(&erika), input(room.id, at(0), 60))
        .await
        .unwrap();
    let requested = service::reserve(db, Actor::User(&erika), input(hall.id, at(0), 60))
        .await
        .unwrap();
    service::reject(
        db,
        Actor::User(&s.admin),
        ReservationId(requested.id),
        "Hallenreinigung",
    )
    .await
    .unwrap();
    service::cancel(db, Actor::User(&erika), ReservationId(confirmed.id))
        .await
        .unwrap();
    let mails = outbox().await;
    let subjects: Vec<&str> = mails.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Buchung bestätigt: Raum",
            "Buchungsanfrage erhalten: Halle",
            "Buchungsanfrage abgelehnt: Halle",
            "Buchung storniert: Raum",
        ]
    );
    assert!(mails[2].1.contains("Hallenreinigung"));
    assert!(mails[0].1.contains(&rathaus_booking::service::notify::when(
        confirmed.starts_at,
        confirmed.ends_at
    )));
    // A reminder job waits for each reservation (24 h before by default).
    let jobs = rathaus_store::entity::job::Entity::find()
        .filter(
            rathaus_store::entity::job::Column::Kind
                .eq(rathaus_booking::service::notify::REMINDER_JOB),
        )
        .all(db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j.run_at > Utc::now()));
    // Its handler sends nothing for the cancelled reservation.
    rathaus_booking::service::notify::remind(
        db,
        s.f.tenant,
        rathaus_store::uow::Actor::system("test"),
        ReservationId(confirmed.id),
    )
    .await
    .unwrap();
    assert_eq!(outbox().await.len(), 4);
}

#[tokio::test]
async fn the_cancellation_deadline_holds_for_series_too() {
    use rathaus_booking::service::series::{self, SeriesInput};
    let s = setup().await;
    let mut inp = with("Bürgerhaus", "room", rules::PUBLIC);
    inp.cancel_hours = 72;
    let r = resource_with(&s, inp).await;
    let erika = citizen(&s, "erika@a.example").await;
    // Weekly from two days ahead: the first occurrence lies inside the deadline.
    let first = at(0).with_timezone(&Berlin).naive_local();
    let (ser, occ) = series::reserve_series(
        &s.db.conn,
        Actor::User(&erika),
        SeriesInput {
            resource_id: r.id,
            title: "Chorprobe".into(),
            dtstart_local: first,
            duration_minutes: 60,
            rrule: "FREQ=WEEKLY;COUNT=4".into(),
            exdates: vec![],
            skip_blackouts: false,
            organisation_id: None,
        },
    )
    .await
    .expect("series");
    assert_eq!(occ.len(), 4);
    let deadline = |e: Error| match e {
        Error::Invalid(f) => f.0[0].key == "booking.rules.cancel_deadline",
        _ => false,
    };
    let e = series::cancel_occurrence(&s.db.conn, Actor::User(&erika), ReservationId(occ[0].id))
        .await
        .unwrap_err();
    assert!(deadline(e));
    let e = series::cancel_from(
        &s.db.conn,
        Actor::User(&erika),
        SeriesId(ser.id),
        first.date(),
    )
    .await
    .unwrap_err();
    assert!(deadline(e));
    // A later occurrence, and the series from next week on, are still hers to cancel.
    series::cancel_occurrence(&s.db.conn, Actor::User(&erika), ReservationId(occ[2].id))
        .await
        .expect("a week ahead");
    series::cancel_from(
        &s.db.conn,
        Actor::User(&erika),
        SeriesId(ser.id),
        first.date() + Duration::days(7),
    )
    .await
    .expect("from next week");
}

#[tokio::test]
async fn a_series_gets_one_mail_with_the_series_as_calendar() {
    use rathaus_booking::service::series::{self, SeriesInput};
    let s = setup().await;
    let r = resource_with(&s, with("Bürgerhaus", "room", rules::PUBLIC)).await;
    let erika = citizen(&s, "erika@a.example").await;
    let first = at(0).with_timezone(&Berlin).naive_local();
    let (ser, occ) = series::reserve_series(
        &s.db.conn,
        Actor::User(&erika),
        SeriesInput {
            resource_id: r.id,
            title: "Chorprobe".into(),
            dtstart_local: first,
            duration_minutes: 60,
            rrule: "FREQ=WEEKLY;COUNT=5".into(),
            exdates: vec![],
            skip_blackouts: false,
            organisation_id: None,
        },
    )
    .await
    .expect("series");
    let mails = mail::Entity::find()
        .filter(mail::Column::ToAddr.eq("erika@a.example"))
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1, "one mail for five dates");
    assert_eq!(mails[0].subject, "Terminserie bestätigt: Bürgerhaus");
    assert!(
        mails[0].body.contains("Anzahl der Termine: 5"),
        "{}",
        mails[0].body
    );
    let att = rathaus_store::mail::attachments(&s.db.conn, mails[0].id)
        .await
        .unwrap();
    assert_eq!(att.len(), 1);
    let ics = String::from_utf8(att[0].content.clone()).unwrap();
    assert!(
        ics.contains(&format!("UID:series-{}@rathaus.a.test", ser.id)),
        "{ics}"
    );
    assert!(
        ics.contains("RRULE:FREQ=WEEKLY") && ics.contains("BEGIN:VTIMEZONE"),
        "{ics}"
    );
    // Moving one date sends the change with the new time.
    let moved = first + Duration::days(7) + Duration::hours(1);
    series::move_occurrence(
        &s.db.conn,
        Actor::User(&erika),
        ReservationId(occ[1].id),
        moved,
        moved + Duration::hours(1),
    )
    .await
    .expect("moved");
    let subjects: Vec<String> = mail::Entity::find()
        .filter(mail::Column::ToAddr.eq("erika@a.example"))
        .order_by_asc(mail::Column::Id)
        .all(&s.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(subjects[1], "Buchung geändert: Bürgerhaus");
}
