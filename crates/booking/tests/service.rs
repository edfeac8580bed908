//! The booking service's rules on the configured backend (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): bad input, halls and their parts, buffer time, approval,
//! cancellation, tenant isolation and permissions.

use crate::common;

use chrono::Duration;
use common::*;
use rathaus_booking::domain::{ReservationId, ResourceId};
use rathaus_booking::service::{
    self, Busy, CONFIRMED, REQUESTED, ReservationInput, ReserveError, ResourceInput,
};
use rathaus_core::Error;
use rathaus_store::audit::{self, AuditFilter};
use rathaus_store::uow::Actor;

/// The (field, key) pairs of a validation error.
fn fields(e: Error) -> Vec<(String, String)> {
    match e {
        Error::Invalid(f) => f.0.into_iter().map(|e| (e.field, e.key)).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn invalid(r: Result<service::Reservation, ReserveError>) -> Vec<(String, String)> {
    match r {
        Err(ReserveError::Other(e)) => fields(e),
        Err(ReserveError::Conflict(c)) => panic!("expected Invalid, got conflict {c:?}"),
        Ok(r) => panic!("expected Invalid, got {r:?}"),
    }
}

fn conflict(r: Result<service::Reservation, ReserveError>) -> Vec<Busy> {
    match r {
        Err(ReserveError::Conflict(c)) => {
            assert!(!c.is_empty());
            c
        }
        Err(ReserveError::Other(e)) => panic!("expected a conflict, got {e:?}"),
        Ok(r) => panic!("expected a conflict, got {r:?}"),
    }
}

fn pair(f: &str, k: &str) -> (String, String) {
    (f.to_string(), k.to_string())
}

#[tokio::test]
async fn bad_resources_are_refused_and_nothing_is_stored() {
    let s = setup().await;
    let db = &s.db.conn;
    let hall = resource(&s, "Sporthalle Nord", "hall", None).await;
    let room = resource(&s, "Sitzungssaal", "room", None).await;
    let foreign = {
        let b = tenant(&s.db, "b", "rathaus.b.test").await;
        resource(&b, "Fremde Halle", "hall", None).await
    };

    let cases: Vec<(ResourceInput, Vec<(String, String)>)> = vec![
        (
            ResourceInput::new("  ", "hall"),
            vec![pair("name", "err.required")],
        ),
        (
            ResourceInput::new("Halle", "schwimmbad"),
            vec![pair("kind", "err.invalid_choice")],
        ),
        (
            ResourceInput::new("Drittel", "hall_part"),
            vec![pair("parent_id", "err.required")],
        ),
        (
            ResourceInput {
                parent_id: Some(room.id),
                ..ResourceInput::new("Drittel", "hall_part")
            },
            vec![pair("parent_id", "booking.err.parent_not_hall")],
        ),
        (
            ResourceInput {
                parent_id: Some(foreign.id),
                ..ResourceInput::new("Drittel", "hall_part")
            },
            vec![pair("parent_id", "booking.err.parent_not_hall")],
        ),
        (
            ResourceInput {
                parent_id: Some(hall.id),
                ..ResourceInput::new("Raum", "room")
            },
            vec![pair("parent_id", "booking.err.parent_only_parts")],
        ),
        (
            ResourceInput {
                capacity: Some(0),
                min_minutes: 60,
                max_minutes: 30,
                buffer_minutes: -1,
                horizon_days: 0,
                ..ResourceInput::new("Raum", "room")
            },
            vec![
                pair("capacity", "booking.err.positive"),
                pair("max_minutes", "booking.err.max_below_min"),
                pair("buffer_minutes", "booking.err.buffer_range"),
                pair("horizon_days", "booking.err.horizon_range"),
            ],
        ),
        (
            ResourceInput {
                max_minutes: service::MAX_MINUTES + 1,
                ..ResourceInput::new("Raum", "room")
            },
            vec![pair("max_minutes", "booking.err.minutes_range")],
        ),
    ];
    for (inp, want) in cases {
        let e = service::create_resource(db, Actor::User(&s.admin), inp)
            .await
            .unwrap_err();
        assert_eq!(fields(e), want);
    }
    let names: Vec<String> = service::list_resources(db, Actor::User(&s.admin))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["Sitzungssaal", "Sporthalle Nord"]);
}

#[tokio::test]
async fn bad_reservations_are_refused_and_nothing_is_stored() {
    let s = setup().await;
    let db = &s.db.conn;
    let room = resource_with(
        &s,
        ResourceInput {
            min_minutes: 30,
            max_minutes: 180,
            horizon_days: 30,
            ..ResourceInput::new("Sitzungssaal", "room")
        },
    )
    .await;
    let closed = resource_with(
        &s,
        ResourceInput {
            active: false,
            ..ResourceInput::new("Geschlossener Raum", "room")
        },
    )
    .await;
    let foreign = {
        let b = tenant(&s.db, "b", "rathaus.b.test").await;
        resource(&b, "Fremder Raum", "room", None).await
    };
    let audit_before = audit::list(db, &s.admin, &AuditFilter::default())
        .await
        .unwrap()
        .len();

    let cases: Vec<(ReservationInput, Vec<(String, String)>)> = vec![
        (
            input(room.id, 60, 0),
            vec![pair("end", "booking.err.end_before_start")],
        ),
        (
            input(room.id, 60, 60),
            vec![pair("end", "booking.err.zero_length")],
        ),
        (
            ReservationInput {
                title: " ".into(),
                ..input(room.id, 0, 60)
            },
            vec![pair("title", "err.required")],
        ),
        (
            ReservationInput {
                start: at(0) + Duration::seconds(30),
                ..input(room.id, 0, 60)
            },
            vec![pair("start", "booking.err.whole_minutes")],
        ),
        (
            ReservationInput {
                start: at(0) - Duration::days(3),
                end: at(60) - Duration::days(3),
                ..input(room.id, 0, 60)
            },
            vec![pair("start", "booking.err.in_past")],
        ),
        (
            input(room.id, 0, 15),
            vec![pair("end", "booking.err.too_short")],
        ),
        (
            input(room.id, 0, 181),
            vec![pair("end", "booking.err.too_long")],
        ),
        (
            ReservationInput {
                start: at(0) + Duration::days(31),
                end: at(60) + Duration::days(31),
                ..input(room.id, 0, 60)
            },
            vec![pair("start", "booking.err.beyond_horizon")],
        ),
        (
            input(closed.id, 0, 60),
            vec![pair("resource_id", "booking.err.inactive")],
        ),
    ];
    for (inp, want) in cases {
        assert_eq!(
            invalid(service::reserve(db, Actor::User(&s.booker), inp).await),
            want
        );
    }
    // A resource of another tenant, or none at all: not found.
    for id in [foreign.id, 999_999] {
        let r = book(&s, &s.booker, id, 0, 60).await;
        assert!(
            matches!(r, Err(ReserveError::Other(Error::NotFound))),
            "{r:?}"
        );
    }
    // Exactly the limits are fine; nothing of the refused attempts was stored or audited.
    assert!(all_reservations(&s).await.is_empty());
    let audit_after = audit::list(db, &s.admin, &AuditFilter::default())
        .await
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after);
    book(&s, &s.booker, room.id, 0, 30).await.unwrap();
    book(&s, &s.booker, room.id, 60, 240).await.unwrap();
    assert_eq!(all_reservations(&s).await.len(), 2);
    // The conflict error maps to the platform's Conflict with a translation key.
    let e: Error = book(&s, &s.other, room.id, 0, 30).await.unwrap_err().into();
    assert!(matches!(e, Error::Conflict(ref k) if k == service::CONFLICT_KEY));
}

#[tokio::test]
async fn a_hall_blocks_its_parts_and_a_part_the_hall_but_siblings_are_free() {
    let s = setup().await;
    let hall = resource(&s, "Dreifachhalle", "hall", None).await;
    let p1 = resource(&s, "Drittel 1", "hall_part", Some(hall.id)).await;
    let p2 = resource(&s, "Drittel 2", "hall_part", Some(hall.id)).await;
    let field = resource(&s, "Sportplatz", "field", None).await;

    // Part 1 booked: the hall is taken, part 2 and another resource are free.
    let first = book(&s, &s.booker, p1.id, 0, 90).await.unwrap();
    let c = conflict(book(&s, &s.other, hall.id, 60, 120).await);
    assert_eq!(
        c,
        vec![Busy {
            resource_id: p1.id,
            start: at(0),
            end: at(90),
            status: CONFIRMED.into()
        }]
    );
    conflict(book(&s, &s.other, p1.id, 30, 60).await);
    book(&s, &s.other, p2.id, 0, 90).await.unwrap();
    book(&s, &s.other, field.id, 0, 90).await.unwrap();
    // Adjacent (end = start) is no overlap.
    book(&s, &s.other, hall.id, 90, 150).await.unwrap();
    // The whole hall booked: every part is taken.
    for p in [&p1, &p2] {
        let c = conflict(book(&s, &s.booker, p.id, 120, 180).await);
        assert_eq!(c[0].resource_id, hall.id);
    }
    // Availability of the hall shows its parts' bookings; a part shows the hall's, not its
    // sibling's.
    let busy = service::availability(
        &s.db.conn,
        Actor::User(&s.booker),
        ResourceId(hall.id),
        at(-60),
        at(300),
    )
    .await
    .unwrap();
    assert_eq!(busy.len(), 3, "{busy:?}");
    let busy = service::availability(
        &s.db.conn,
        Actor::User(&s.booker),
        ResourceId(p1.id),
        at(-60),
        at(300),
    )
    .await
    .unwrap();
    let ids: Vec<i64> = busy.iter().map(|b| b.resource_id).collect();
    assert_eq!(ids, [p1.id, hall.id]);
    // Outside the window: nothing.
    assert!(
        service::availability(
            &s.db.conn,
            Actor::User(&s.booker),
            ResourceId(p1.id),
            at(300),
            at(600)
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert_eq!(first.status, CONFIRMED);
}

#[tokio::test]
async fn buffer_time_keeps_a_gap_on_either_side() {
    let s = setup().await;
    let hall = resource_with(
        &s,
        ResourceInput {
            buffer_minutes: 30,
            ..ResourceInput::new("Halle", "hall")
        },
    )
    .await;
    let part = resource(&s, "Hallendrittel", "hall_part", Some(hall.id)).await;
    book(&s, &s.booker, hall.id, 120, 180).await.unwrap();
    // Within 30 minutes before or after: refused.
    conflict(book(&s, &s.other, hall.id, 60, 100).await);
    conflict(book(&s, &s.other, hall.id, 200, 260).await);
    // The hall's buffer also applies to a part's booking next to it (either side's buffer).
    conflict(book(&s, &s.other, part.id, 190, 250).await);
    // Exactly the buffer apart: fine.
    book(&s, &s.other, hall.id, 30, 90).await.unwrap();
    book(&s, &s.other, part.id, 210, 270).await.unwrap();
}

#[tokio::test]
async fn approval_makes_a_tentative_request_that_still_blocks() {
    let s = setup().await;
    let hall = resource_with(
        &s,
        ResourceInput {
            requires_approval: true,
            ..ResourceInput::new("Sporthalle", "hall")
        },
    )
    .await;
    let room = resource(&s, "Besprechungsraum", "room", None).await;
    let r = book(&s, &s.booker, hall.id, 0, 60).await.unwrap();
    assert_eq!(r.status, REQUESTED);
    assert_eq!(r.booked_by, Some(s.booker.user_id.0));
    let c = conflict(book(&s, &s.other, hall.id, 0, 60).await);
    assert_eq!(c[0].status, REQUESTED);
    assert_eq!(
        book(&s, &s.booker, room.id, 0, 60).await.unwrap().status,
        CONFIRMED
    );
}

#[tokio::test]
async fn cancelling_frees_the_slot_and_only_the_booker_or_staff_may() {
    let s = setup().await;
    let db = &s.db.conn;
    let room = resource(&s, "Trauzimmer", "room", None).await;
    let r = book(&s, &s.booker, room.id, 0, 60).await.unwrap();
    conflict(book(&s, &s.other, room.id, 0, 60).await);

    // Someone else's reservation is not there for another booker or a clerk.
    for who in [&s.other, &s.clerk] {
        assert!(matches!(
            service::cancel(db, Actor::User(who), ReservationId(r.id)).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            service::get_reservation(db, Actor::User(who), ReservationId(r.id)).await,
            Err(Error::NotFound)
        ));
    }
    assert_eq!(
        service::get_reservation(db, Actor::User(&s.booker), ReservationId(r.id))
            .await
            .unwrap()
            .title,
        "Training"
    );
    let c = service::cancel(db, Actor::User(&s.booker), ReservationId(r.id))
        .await
        .unwrap();
    assert_eq!(c.status, service::CANCELLED);
    // Again: no change, no error.
    assert_eq!(
        service::cancel(db, Actor::User(&s.booker), ReservationId(r.id))
            .await
            .unwrap()
            .status,
        service::CANCELLED
    );
    let r2 = book(&s, &s.other, room.id, 0, 60).await.unwrap();
    // booking.manage may cancel anyone's.
    service::cancel(db, Actor::User(&s.admin), ReservationId(r2.id))
        .await
        .unwrap();
    assert!(
        service::availability(
            db,
            Actor::User(&s.booker),
            ResourceId(room.id),
            at(0),
            at(60)
        )
        .await
        .unwrap()
        .is_empty()
    );

    let actions: Vec<String> = audit::list(db, &s.admin, &AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("booking."))
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "booking.reservation.cancelled",
            "booking.reservation.created",
            "booking.reservation.cancelled",
            "booking.reservation.created",
            "booking.resource.created",
        ]
    );
    assert!(audit::verify(db).await.unwrap().is_ok());
}

#[tokio::test]
async fn another_tenants_objects_are_not_found() {
    let s = setup().await;
    let db = &s.db.conn;
    let b = tenant(&s.db, "b", "rathaus.b.test").await;
    let theirs = resource(&b, "Halle B", "hall", None).await;
    let their_res = book(&b, &b.booker, theirs.id, 0, 60).await.unwrap();
    let ours = resource(&s, "Halle A", "hall", None).await;

    assert!(matches!(
        service::get_resource(db, Actor::User(&s.admin), ResourceId(theirs.id)).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        service::availability(
            db,
            Actor::User(&s.admin),
            ResourceId(theirs.id),
            at(0),
            at(60)
        )
        .await,
        Err(Error::NotFound)
    ));
    for r in [
        service::get_reservation(db, Actor::User(&s.admin), ReservationId(their_res.id)).await,
        service::cancel(db, Actor::User(&s.admin), ReservationId(their_res.id)).await,
    ] {
        assert!(matches!(r, Err(Error::NotFound)), "{r:?}");
    }
    let list = service::list_resources(db, Actor::User(&s.admin))
        .await
        .unwrap();
    assert_eq!(list.iter().map(|r| r.id).collect::<Vec<_>>(), [ours.id]);
    // The same slot in the other tenant does not conflict.
    book(&s, &s.booker, ours.id, 0, 60).await.unwrap();
    assert_eq!(all_reservations(&s).await.len(), 1);
    assert_eq!(
        service::get_reservation(db, Actor::User(&b.admin), ReservationId(their_res.id))
            .await
            .unwrap()
            .status,
        CONFIRMED
    );
}

#[tokio::test]
async fn permissions_are_checked_first() {
    let s = setup().await;
    let db = &s.db.conn;
    let room = resource(&s, "Raum", "room", None).await;
    // No booking.book: refused even for a slot that would be fine, or input that is bad.
    let r = book(&s, &s.clerk, room.id, 0, 60).await;
    assert!(
        matches!(r, Err(ReserveError::Other(Error::Forbidden))),
        "{r:?}"
    );
    let r = book(&s, &s.clerk, room.id, 60, 0).await;
    assert!(
        matches!(r, Err(ReserveError::Other(Error::Forbidden))),
        "{r:?}"
    );
    // booking.book alone does not manage resources.
    for who in [&s.clerk, &s.booker] {
        assert!(matches!(
            service::create_resource(db, Actor::User(who), ResourceInput::new("X", "room")).await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            service::update_resource(
                db,
                Actor::User(who),
                ResourceId(room.id),
                ResourceInput::new("X", "room")
            )
            .await,
            Err(Error::Forbidden)
        ));
    }
    assert!(all_reservations(&s).await.is_empty());
    assert_eq!(
        service::list_resources(db, Actor::User(&s.admin))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn editing_a_resource_keeps_the_blocking_structure_sound() {
    let s = setup().await;
    let db = &s.db.conn;
    let hall = resource(&s, "Halle", "hall", None).await;
    let part = resource(&s, "Drittel", "hall_part", Some(hall.id)).await;
    let room = resource(&s, "Raum", "room", None).await;
    book(&s, &s.booker, room.id, 0, 60).await.unwrap();

    // A hall with parts stays a hall; a resource with reservations ahead keeps its kind.
    let e = service::update_resource(
        db,
        Actor::User(&s.admin),
        ResourceId(hall.id),
        ResourceInput::new("Halle", "room"),
    )
    .await
    .unwrap_err();
    assert_eq!(fields(e), [pair("kind", "booking.err.hall_has_parts")]);
    let e = service::update_resource(
        db,
        Actor::User(&s.admin),
        ResourceId(room.id),
        ResourceInput::new("Raum", "hall"),
    )
    .await
    .unwrap_err();
    assert_eq!(fields(e), [pair("kind", "booking.err.structure_in_use")]);
    // A part cannot be its own hall.
    let e = service::update_resource(
        db,
        Actor::User(&s.admin),
        ResourceId(hall.id),
        ResourceInput {
            parent_id: Some(hall.id),
            ..ResourceInput::new("Halle", "hall_part")
        },
    )
    .await
    .unwrap_err();
    assert!(fields(e).contains(&pair("parent_id", "booking.err.parent_not_hall")));

    // Deactivated: hidden from bookers, not bookable; staff still see it.
    let closed = service::update_resource(
        db,
        Actor::User(&s.admin),
        ResourceId(part.id),
        ResourceInput {
            parent_id: Some(hall.id),
            active: false,
            ..ResourceInput::new("Drittel (gesperrt)", "hall_part")
        },
    )
    .await
    .unwrap();
    assert!(!closed.active);
    assert_eq!(
        invalid(book(&s, &s.booker, part.id, 0, 60).await),
        [pair("resource_id", "booking.err.inactive")]
    );
    assert!(matches!(
        service::get_resource(db, Actor::User(&s.booker), ResourceId(part.id)).await,
        Err(Error::NotFound)
    ));
    assert_eq!(
        service::list_resources(db, Actor::User(&s.booker))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        service::list_resources(db, Actor::User(&s.admin))
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn availability_windows_are_checked() {
    let s = setup().await;
    let room = resource(&s, "Raum", "room", None).await;
    for (from, to, key) in [
        (at(60), at(0), "booking.err.end_before_start"),
        (at(0), at(0), "booking.err.end_before_start"),
        (
            at(0),
            at(0) + Duration::days(367),
            "booking.err.window_too_wide",
        ),
    ] {
        let e = service::availability(
            &s.db.conn,
            Actor::User(&s.booker),
            ResourceId(room.id),
            from,
            to,
        )
        .await
        .unwrap_err();
        assert_eq!(fields(e), [pair("to", key)]);
    }
    // Busy slots carry no title.
    book(&s, &s.booker, room.id, 0, 60).await.unwrap();
    let busy = service::availability(
        &s.db.conn,
        Actor::User(&s.other),
        ResourceId(room.id),
        at(0),
        at(60),
    )
    .await
    .unwrap();
    let json = serde_json::to_value(&busy).unwrap();
    assert!(!json.to_string().contains("Training"), "{json}");
}

#[tokio::test]
async fn requests_are_approved_or_rejected_by_managers_only() {
    let s = setup().await;
    let db = &s.db.conn;
    let room = approval_room(&s, "Sitzungssaal").await;
    let a = book(&s, &s.booker, room.id, 0, 60).await.unwrap();
    let b = book(&s, &s.booker, room.id, 120, 180).await.unwrap();
    assert_eq!(
        (a.status.as_str(), b.status.as_str()),
        (REQUESTED, REQUESTED)
    );
    let queue: Vec<i64> = service::list_requests(db, Actor::User(&s.admin))
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(queue, [a.id, b.id]);

    // Bookers and clerks may not decide, nor see the queue.
    for who in [&s.booker, &s.clerk] {
        assert!(matches!(
            service::approve(db, Actor::User(who), ReservationId(a.id)).await,
            Err(ReserveError::Other(Error::Forbidden))
        ));
        assert!(matches!(
            service::reject(db, Actor::User(who), ReservationId(a.id), "Nein").await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            service::list_requests(db, Actor::User(who)).await,
            Err(Error::Forbidden)
        ));
    }

    // Approved: confirmed, with who and when; a second decision is a conflict.
    let ok = service::approve(db, Actor::User(&s.admin), ReservationId(a.id))
        .await
        .unwrap();
    assert_eq!(ok.status, CONFIRMED);
    assert_eq!(ok.decided_by, Some(s.admin.user_id.0));
    assert!(ok.decided_at.is_some() && ok.decision_reason.is_none());
    for r in [
        service::approve(db, Actor::User(&s.admin), ReservationId(a.id))
            .await
            .map_err(Error::from),
        service::reject(db, Actor::User(&s.admin), ReservationId(a.id), "Zu spät").await,
    ] {
        match r {
            Err(Error::Conflict(k)) => assert_eq!(k, service::NOT_REQUESTED_KEY),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    // A rejection needs a reason of at most 500 characters; nothing changes without one.
    for (reason, key) in [("  ", "err.required"), (&*"x".repeat(501), "err.too_long")] {
        let e = service::reject(db, Actor::User(&s.admin), ReservationId(b.id), reason)
            .await
            .unwrap_err();
        assert_eq!(fields(e), [pair("reason", key)]);
    }
    let still = service::get_reservation(db, Actor::User(&s.admin), ReservationId(b.id))
        .await
        .unwrap();
    assert_eq!(still, b);
    let no = service::reject(
        db,
        Actor::User(&s.admin),
        ReservationId(b.id),
        " Halle wird renoviert ",
    )
    .await
    .unwrap();
    assert_eq!(no.status, service::REJECTED);
    assert_eq!(no.decision_reason.as_deref(), Some("Halle wird renoviert"));
    assert_eq!(no.decided_by, Some(s.admin.user_id.0));
    // The rejected slot is free again; the queue is empty.
    book(&s, &s.other, room.id, 120, 180).await.unwrap();
    let queue = service::list_requests(db, Actor::User(&s.admin))
        .await
        .unwrap();
    assert_eq!(queue.len(), 1, "only the new request");

    let events = audit::list(db, &s.admin, &AuditFilter::default())
        .await
        .unwrap();
    let approved = events
        .iter()
        .find(|e| e.action == "booking.reservation.approved")
        .expect("approval audited");
    assert_eq!(approved.object_id, Some(a.id.to_string()));
    let rejected = events
        .iter()
        .find(|e| e.action == "booking.reservation.rejected")
        .expect("rejection audited");
    assert_eq!(rejected.object_id, Some(b.id.to_string()));
    assert!(rejected.details.contains("Halle wird renoviert"));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action.starts_with("booking.reservation.")
                && e.action != "booking.reservation.created")
            .count(),
        2,
        "refused decisions leave no event"
    );
    assert!(audit::verify(db).await.unwrap().is_ok());
}

#[tokio::test]
async fn approving_rechecks_confirmed_bookings() {
    let s = setup().await;
    let db = &s.db.conn;
    let hall = resource(&s, "Dreifachhalle", "hall", None).await;
    let mut part = ResourceInput::new("Hallendrittel A", "hall_part");
    part.parent_id = Some(hall.id);
    part.requires_approval = true;
    let part = resource_with(&s, part).await;
    let first = book(&s, &s.booker, part.id, 0, 120).await.unwrap();
    // A second request overlapping the first, on the whole hall.
    let second = insert_request(&s, &s.other, hall.id, 60, 180).await;

    service::approve(db, Actor::User(&s.admin), ReservationId(first.id))
        .await
        .unwrap();
    let c = conflict(service::approve(db, Actor::User(&s.admin), ReservationId(second.id)).await);
    assert_eq!(
        c,
        [Busy::from(
            &service::get_reservation(db, Actor::User(&s.admin), ReservationId(first.id))
                .await
                .unwrap()
        )]
    );
    let still = service::get_reservation(db, Actor::User(&s.admin), ReservationId(second.id))
        .await
        .unwrap();
    assert_eq!(still.status, REQUESTED);
    assert!(still.decided_by.is_none());
    // It can still be rejected.
    service::reject(
        db,
        Actor::User(&s.admin),
        ReservationId(second.id),
        "Halle belegt",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn another_tenants_requests_are_not_found_for_decisions() {
    let s = setup().await;
    let db = &s.db.conn;
    let room = approval_room(&s, "Sitzungssaal").await;
    let r = book(&s, &s.booker, room.id, 0, 60).await.unwrap();
    let b = tenant(&s.db, "b", "rathaus.b.test").await;
    assert!(matches!(
        service::approve(db, Actor::User(&b.admin), ReservationId(r.id)).await,
        Err(ReserveError::Other(Error::NotFound))
    ));
    assert!(matches!(
        service::reject(db, Actor::User(&b.admin), ReservationId(r.id), "Nein").await,
        Err(Error::NotFound)
    ));
    // Unknown ids too, even without a reason.
    assert!(matches!(
        service::reject(db, Actor::User(&s.admin), ReservationId(i64::MAX), "").await,
        Err(Error::NotFound)
    ));
    assert!(
        service::list_requests(db, Actor::User(&b.admin))
            .await
            .unwrap()
            .is_empty()
    );
    let after = service::get_reservation(db, Actor::User(&s.admin), ReservationId(r.id))
        .await
        .unwrap();
    assert_eq!(after, r);
}
