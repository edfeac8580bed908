//! Mails to the booker, queued in the outbox inside the transaction that made the change, so
//! a mail goes out exactly when the change committed. German: bookers are citizens, clubs and
//! colleagues of a German municipality.

use crate::domain::ReservationId;
use crate::formats::ical;
use crate::service::feeds;

use crate::service::{CANCELLED, CONFIRMED, REJECTED, REQUESTED, Reservation, Resource};
use crate::store::entity::{reservation, resource, settings};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Scope};
use rathaus_store::{accounts, mail};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::ConnectionTrait;

/// The German catalogue. The module's texts are in it: the web app registers them
/// (`AppState::with_modules`), the binary's `module_texts()` for module commands, and the
/// reminder job when the binary registers it (`Reminder::new`), before any job runs.
pub(crate) fn texts() -> &'static rathaus_web::i18n::Catalog {
    catalog(Lang::De)
}

/// "Di., 01.09.2026, 18:00–20:00 Uhr" in Europe/Berlin.
pub fn when(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let (s, e) = (start.with_timezone(&Berlin), end.with_timezone(&Berlin));
    if s.date_naive() == e.date_naive() {
        format!("{}–{} Uhr", s.format("%d.%m.%Y, %H:%M"), e.format("%H:%M"))
    } else {
        format!(
            "{} Uhr – {} Uhr",
            s.format("%d.%m.%Y, %H:%M"),
            e.format("%d.%m.%Y, %H:%M")
        )
    }
}

/// The booker's address, if the account still exists.
async fn booker_email(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    res: &Reservation,
) -> Option<String> {
    let id = res.booked_by?;
    accounts::user_by_id(conn, tenant, id)
        .await
        .ok()
        .map(|u| u.email)
        .filter(|e| !e.is_empty())
}

/// The mail text: the message, then one "label: value" line per fact, then `extra`.
fn compose(key: &str, facts: &[(&str, String)], extra: Option<&str>) -> String {
    let t = texts();
    let mut b = format!("{}\n\n", t.get(key));
    for (label, value) in facts {
        b.push_str(&format!("{}: {value}\n", t.get(label)));
    }
    if let Some(x) = extra {
        b.push_str(&format!("\n{x}\n"));
    }
    b.push_str(&format!("\n{}\n", t.get("booking.mail.footer")));
    b
}

/// Resource, purpose and address of a reservation as mail facts.
fn facts<'a>(r: &Resource, res: &Reservation) -> Vec<(&'a str, String)> {
    let mut f = vec![
        ("booking.mail.resource", r.name.clone()),
        ("booking.mail.title", res.title.clone()),
    ];
    if !r.address.is_empty() {
        f.push(("booking.mail.address", r.address.clone()));
    }
    f
}

fn body(key: &str, r: &Resource, res: &Reservation, extra: Option<&str>) -> String {
    let mut f = facts(r, res);
    f.insert(2, ("booking.mail.when", when(res.starts_at, res.ends_at)));
    if res.fee_cents > 0 {
        f.push(("booking.mail.fee", euros(res.fee_cents)));
    }
    compose(key, &f, extra)
}

/// "12,50 €".
pub fn euros(cents: i64) -> String {
    format!("{} €", crate::formats::fees::euros(cents))
}

async fn send(
    conn: &impl ConnectionTrait,
    r: &Resource,
    res: &Reservation,
    subject_key: &str,
    body_key: &str,
    extra: Option<&str>,
    with_ics: bool,
) -> Result<()> {
    let tenant = TenantId(res.tenant_id);
    let Some(to) = booker_email(conn, tenant, res).await else {
        return Ok(());
    };
    let t = texts();
    let subject = format!("{}: {}", t.get(subject_key), r.name);
    let text = body(body_key, r, res, extra);
    if with_ics {
        let ics = ics(conn, r, vec![res.clone()], None).await?;
        mail::queue_with_attachment(
            conn,
            tenant,
            &to,
            &subject,
            &text,
            mail::Attachment {
                filename: format!("buchung-{}.ics", res.id),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                content: ics.into_bytes(),
            },
        )
        .await?;
    } else {
        mail::queue(conn, tenant, &to, &subject, &text).await?;
    }
    Ok(())
}

/// After `reserve`: a confirmation (with the .ics) or the receipt of a request; and the
/// reminder job where the tenant wants reminders.
pub async fn created(
    conn: &impl ConnectionTrait,
    s: &settings::Model,
    r: &Resource,
    res: &Reservation,
) -> Result<()> {
    match res.status.as_str() {
        CONFIRMED => {
            send(
                conn,
                r,
                res,
                "booking.mail.confirmed_subject",
                "booking.mail.confirmed",
                None,
                true,
            )
            .await?
        }
        REQUESTED => {
            send(
                conn,
                r,
                res,
                "booking.mail.requested_subject",
                "booking.mail.requested",
                None,
                false,
            )
            .await?
        }
        _ => {}
    }
    schedule_reminder(conn, s, res).await
}

/// After a decision on a request.
pub async fn decided(conn: &impl ConnectionTrait, r: &Resource, res: &Reservation) -> Result<()> {
    match res.status.as_str() {
        CONFIRMED => {
            send(
                conn,
                r,
                res,
                "booking.mail.approved_subject",
                "booking.mail.approved",
                None,
                true,
            )
            .await
        }
        REJECTED => {
            let t = texts();
            let reason = format!(
                "{}: {}",
                t.get("booking.mail.reason"),
                res.decision_reason.as_deref().unwrap_or("")
            );
            send(
                conn,
                r,
                res,
                "booking.mail.rejected_subject",
                "booking.mail.rejected",
                Some(&reason),
                false,
            )
            .await
        }
        _ => Ok(()),
    }
}

/// After a cancellation: the notice carries the .ics with STATUS:CANCELLED, so a calendar
/// that imported the confirmation removes the event.
pub async fn cancelled(conn: &impl ConnectionTrait, r: &Resource, res: &Reservation) -> Result<()> {
    if res.status != CANCELLED {
        return Ok(());
    }
    send(
        conn,
        r,
        res,
        "booking.mail.cancelled_subject",
        "booking.mail.cancelled",
        None,
        true,
    )
    .await
}

/// After a reservation was moved: the new time, with the updated .ics (higher SEQUENCE).
pub async fn changed(conn: &impl ConnectionTrait, r: &Resource, res: &Reservation) -> Result<()> {
    send(
        conn,
        r,
        res,
        "booking.mail.changed_subject",
        "booking.mail.changed",
        None,
        true,
    )
    .await
}

/// After a series was booked (or decided): one mail for the whole series, with the series as
/// one calendar event (RRULE/EXDATE), instead of one mail per occurrence.
pub async fn series_mail(
    conn: &impl ConnectionTrait,
    r: &Resource,
    s: &crate::store::entity::series::Model,
    occurrences: &[Reservation],
    reason: Option<&str>,
) -> Result<()> {
    let Some(first) = occurrences.first() else {
        return Ok(());
    };
    let tenant = TenantId(s.tenant_id);
    let Some(to) = booker_email(conn, tenant, first).await else {
        return Ok(());
    };
    let t = texts();
    let (subject_key, body_key) = match s.status.as_str() {
        REJECTED => (
            "booking.mail.series_rejected_subject",
            "booking.mail.series_rejected",
        ),
        CONFIRMED => (
            "booking.mail.series_confirmed_subject",
            "booking.mail.series_confirmed",
        ),
        _ => (
            "booking.mail.series_requested_subject",
            "booking.mail.series_requested",
        ),
    };
    let active = occurrences
        .iter()
        .filter(|x| x.status == CONFIRMED || x.status == REQUESTED)
        .count();
    let fee: i64 = occurrences
        .iter()
        .filter(|x| x.status == CONFIRMED || x.status == REQUESTED)
        .map(|x| x.fee_cents)
        .sum();
    let mut f = facts(r, first);
    f.insert(
        2,
        ("booking.mail.first", when(first.starts_at, first.ends_at)),
    );
    f.insert(
        3,
        ("booking.mail.rule", crate::service::series::describe(t, s)),
    );
    f.insert(4, ("booking.mail.count", active.to_string()));
    if fee > 0 {
        f.push(("booking.mail.fee_total", euros(fee)));
    }
    let reason = reason.map(|x| format!("{}: {x}", t.get("booking.mail.reason")));
    let text = compose(body_key, &f, reason.as_deref());
    let subject = format!("{}: {}", t.get(subject_key), r.name);
    if s.status == REJECTED {
        mail::queue(conn, tenant, &to, &subject, &text).await?;
    } else {
        let cal = ics(conn, r, occurrences.to_vec(), Some(s)).await?;
        mail::queue_with_attachment(
            conn,
            tenant,
            &to,
            &subject,
            &text,
            mail::Attachment {
                filename: format!("serie-{}.ics", s.id),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                content: cal.into_bytes(),
            },
        )
        .await?;
    }
    Ok(())
}

/// Job kind of the reminder mail; the job checks the reservation is still active when it runs.
pub const REMINDER_JOB: &str = "booking.reminder";

async fn schedule_reminder(
    conn: &impl ConnectionTrait,
    s: &settings::Model,
    res: &Reservation,
) -> Result<()> {
    if s.reminder_hours <= 0 {
        return Ok(());
    }
    let at = res.starts_at - chrono::Duration::hours(i64::from(s.reminder_hours));
    if at <= Utc::now() {
        return Ok(());
    }
    rathaus_store::jobs::enqueue_at(
        conn,
        TenantId(res.tenant_id),
        REMINDER_JOB,
        serde_json::json!({"reservation_id": res.id}),
        5,
        at,
    )
    .await?;
    Ok(())
}

/// Runs a reminder job for `by` (the job's system actor): mails the booker if the
/// reservation is still confirmed and ahead. The mail is queued in the outbox, which sends it.
pub async fn remind(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    by: Actor<'_>,
    reservation_id: ReservationId,
) -> Result<()> {
    let reservation_id = i64::from(reservation_id);
    let scope = Scope::new(conn, tenant, by)?;
    let Ok(res) = scope.get::<reservation::Entity, _>(reservation_id).await else {
        return Ok(());
    };
    if res.status != CONFIRMED || res.starts_at <= Utc::now() {
        return Ok(());
    }
    let r = scope.get::<resource::Entity, _>(res.resource_id).await?;
    send(
        conn,
        &r,
        &res,
        "booking.mail.reminder_subject",
        "booking.mail.reminder",
        None,
        false,
    )
    .await
}

/// The attachment: the same calendar the feeds write (same UIDs with the tenant's stable
/// host, VTIMEZONE, SEQUENCE, STATUS; a series as RRULE/EXDATE), so a calendar that imported
/// the mail and subscribed to a feed keeps one event.
pub async fn ics(
    conn: &impl ConnectionTrait,
    r: &Resource,
    reservations: Vec<Reservation>,
    series: Option<&crate::store::entity::series::Model>,
) -> Result<String> {
    let host = rathaus_store::tenants::uid_host(conn, TenantId(r.tenant_id)).await?;
    let d = ical::FeedData {
        name: r.name.clone(),
        view: ical::View::Private,
        from: DateTime::<Utc>::MIN_UTC,
        to: DateTime::<Utc>::MAX_UTC,
        reservations: reservations.iter().map(feeds::event_of).collect(),
        series: series.into_iter().map(feeds::series_event_of).collect(),
        resources: [(r.id, r.name.clone())].into_iter().collect(),
        public_orgs: Default::default(),
        busy_label: String::new(),
    };
    Ok(ical::calendar(&d, &host))
}
