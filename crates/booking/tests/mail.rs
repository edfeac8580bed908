//! Booking mails through the outbox and the job queue to a real SMTP server
//! (`rathaus_testkit::smtp`): the confirmation with its calendar attachment, the cancellation
//! that removes the event, the receipt of a request and the rejection with its reason. The
//! attachments are parsed by the Python `icalendar` package (from target/test-venv), an
//! independent iCalendar parser.

use crate::common;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use common::{Setup, principal, resource_with, setup};
use rathaus_booking::domain::ReservationId;
use rathaus_booking::service::{self, ReservationInput, Resource, ResourceInput};
use rathaus_core::{Principal, UserId};
use rathaus_store::accounts;
use rathaus_store::uow::Actor;
use rathaus_testkit::PASSWORD;
use rathaus_testkit::smtp::{self, Received, Smtpd};

const CITIZEN: &str = "berta.buerger@example.org";

#[derive(serde::Deserialize, Debug)]
struct Event {
    uid: String,
    /// Unix seconds of DTSTART and DTEND (in UTC or with a time zone, never floating).
    start: i64,
    end: i64,
    /// Both carry a time zone (UTC or TZID), so the instants are defined.
    aware: bool,
    summary: String,
    location: String,
    status: String,
    sequence: i64,
}

#[derive(serde::Deserialize, Debug)]
struct Attachment {
    filename: Option<String>,
    content_type: String,
    disposition: Option<String>,
    /// The calendar's METHOD.
    method: Option<String>,
    events: Vec<Event>,
}

/// The attachments of every message (in the order of `Smtpd::messages`); calendar files
/// parsed with `icalendar`.
fn attachments(smtpd: &Smtpd) -> Vec<Vec<Attachment>> {
    const SCRIPT: &str = r#"
import email, email.policy, json, mailbox, os, sys
import icalendar
out = []
if os.path.isdir(sys.argv[1]):
    box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
    for key in sorted(box.keys(), key=lambda k: (box.get_message(k).get_date(), k)):
        m = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        atts = []
        for p in m.iter_attachments():
            a = {"filename": p.get_filename(), "content_type": p.get_content_type(),
                 "disposition": p.get_content_disposition(), "method": None, "events": []}
            if p.get_content_type() == "text/calendar":
                cal = icalendar.Calendar.from_ical(p.get_payload(decode=True))
                a["method"] = str(cal.get("METHOD")) if cal.get("METHOD") is not None else None
                for ev in cal.walk("VEVENT"):
                    s, e = ev.decoded("DTSTART"), ev.decoded("DTEND")
                    a["events"].append({
                        "uid": str(ev.get("UID")),
                        "start": int(s.timestamp()), "end": int(e.timestamp()),
                        "aware": s.tzinfo is not None and e.tzinfo is not None,
                        "summary": str(ev.get("SUMMARY")), "location": str(ev.get("LOCATION")),
                        "status": str(ev.get("STATUS")), "sequence": int(ev.get("SEQUENCE")),
                    })
            atts.append(a)
        out.append(atts)
print(json.dumps(out))
"#;
    let probe = smtp::run_python(
        "import importlib.util; print(importlib.util.find_spec('icalendar') is not None)",
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&probe).trim(),
        "True",
        "the Python package icalendar is not available to `{}`; run the tests with scripts/test \
         (it creates target/test-venv) or set RATHAUS_TEST_PYTHON to a Python that has it",
        smtp::python()
    );
    let out = smtp::run_python(SCRIPT, &[smtpd.maildir().as_os_str()]);
    serde_json::from_slice(&out).expect("json from python")
}

/// A confirmed citizen of the tenant (no roles, no permissions).
async fn citizen(s: &Setup) -> Principal {
    let u = accounts::create_citizen(
        &s.db.conn,
        s.f.tenant,
        "Berta Bürger",
        CITIZEN,
        PASSWORD,
        true,
    )
    .await
    .expect("citizen");
    principal(&s.db, s.f.tenant, UserId(u.id)).await
}

async fn public_resource(s: &Setup, name: &str, requires_approval: bool) -> Resource {
    let mut inp = ResourceInput::new(name, "room");
    inp.bookable_by = rathaus_booking::service::rules::PUBLIC.into();
    inp.requires_approval = requires_approval;
    resource_with(s, inp).await
}

/// 18:00 to 20:00 local time in Berlin, three days ahead (the UTC hours differ with daylight
/// saving time, so the mail must convert).
fn evening() -> (DateTime<Utc>, DateTime<Utc>, String) {
    let day = (Utc::now() + Duration::days(3))
        .with_timezone(&Berlin)
        .date_naive();
    let local = |h| {
        Berlin
            .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap()))
            .single()
            .expect("unambiguous local time")
            .with_timezone(&Utc)
    };
    let when = format!("{}, 18:00–20:00 Uhr", day.format("%d.%m.%Y"));
    (local(18), local(20), when)
}

fn input(resource_id: i64, start: DateTime<Utc>, end: DateTime<Utc>) -> ReservationInput {
    ReservationInput {
        resource_id,
        title: "Geburtstagsfeier „Oma Grete“".into(),
        start,
        end,
        organisation_id: None,
    }
}

/// The messages and their attachments, which must have arrived in this number.
fn arrived(smtpd: &Smtpd, n: usize) -> (Vec<Received>, Vec<Vec<Attachment>>) {
    let msgs = smtpd.messages();
    assert_eq!(msgs.len(), n, "{msgs:?}");
    let atts = attachments(smtpd);
    assert_eq!(atts.len(), n);
    (msgs, atts)
}

#[tokio::test]
async fn confirmation_and_cancellation_arrive_with_their_calendar_file() {
    let smtpd = Smtpd::start();
    let s = setup().await;
    let who = citizen(&s).await;
    let r = public_resource(&s, "Bürgerhaus – großer Saal", false).await;
    let (start, end, when) = evening();

    let res = service::reserve(&s.db.conn, Actor::User(&who), input(r.id, start, end))
        .await
        .expect("a citizen books a public resource");
    assert_eq!(res.status, service::CONFIRMED);
    assert!(
        smtpd.messages().is_empty(),
        "nothing sent before the job runs"
    );
    assert!(smtpd.run_mail_jobs(&s.db).await >= 1);

    let (msgs, atts) = arrived(&smtpd, 1);
    let m = &msgs[0];
    assert_eq!(m.to, CITIZEN);
    assert_eq!(m.from, smtp::FROM);
    assert_eq!(m.subject, "Buchung bestätigt: Bürgerhaus – großer Saal");
    assert_eq!(m.content_type, "multipart/mixed");
    let body = m.body.replace("\r\n", "\n");
    assert!(
        body.starts_with("Ihre Buchung ist bestätigt."),
        "German body: {body}"
    );
    assert!(
        body.contains("Ressource: Bürgerhaus – großer Saal\n"),
        "{body}"
    );
    assert!(
        body.contains("Anlass: Geburtstagsfeier „Oma Grete“\n"),
        "{body}"
    );
    assert!(
        body.contains(&format!("Zeit: {when}\n")),
        "local time {when} in {body}"
    );

    assert_eq!(atts[0].len(), 1, "{:?}", atts[0]);
    let a = &atts[0][0];
    assert_eq!(
        a.filename.as_deref(),
        Some(format!("buchung-{}.ics", res.id).as_str())
    );
    assert_eq!(a.content_type, "text/calendar");
    assert_eq!(a.disposition.as_deref(), Some("attachment"));
    assert_eq!(a.method.as_deref(), Some("PUBLISH"));
    assert_eq!(a.events.len(), 1, "{a:?}");
    let ev = &a.events[0];
    assert_eq!(ev.start, start.timestamp(), "DTSTART {ev:?}");
    assert_eq!(ev.end, end.timestamp(), "DTEND {ev:?}");
    assert!(ev.aware, "no floating times: {ev:?}");
    assert_eq!(ev.summary, "Geburtstagsfeier „Oma Grete“");
    assert_eq!(ev.location, "Bürgerhaus – großer Saal");
    assert_eq!(ev.status, "CONFIRMED");
    assert_eq!(ev.sequence, 0);
    let uid = ev.uid.clone();
    assert!(uid.contains(&res.id.to_string()), "{uid}");

    // The cancellation carries the same event, cancelled, with a higher SEQUENCE, so a
    // calendar that imported the confirmation removes it.
    let cancelled = service::cancel(&s.db.conn, Actor::User(&who), ReservationId(res.id))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, service::CANCELLED);
    assert!(smtpd.run_mail_jobs(&s.db).await >= 1);
    let (msgs, atts) = arrived(&smtpd, 2);
    let m = &msgs[1];
    assert_eq!(m.to, CITIZEN);
    assert_eq!(m.subject, "Buchung storniert: Bürgerhaus – großer Saal");
    let body = m.body.replace("\r\n", "\n");
    assert!(body.starts_with("Diese Buchung wurde storniert."), "{body}");
    assert!(body.contains(&format!("Zeit: {when}\n")), "{body}");
    assert_eq!(atts[1].len(), 1, "{:?}", atts[1]);
    let a = &atts[1][0];
    assert_eq!(
        a.filename.as_deref(),
        Some(format!("buchung-{}.ics", res.id).as_str())
    );
    assert_eq!(a.content_type, "text/calendar");
    assert_eq!(a.events.len(), 1, "{a:?}");
    let ev = &a.events[0];
    assert_eq!(ev.uid, uid, "the same event");
    assert_eq!(ev.status, "CANCELLED");
    assert_eq!(ev.sequence, 1);
    assert_eq!((ev.start, ev.end), (start.timestamp(), end.timestamp()));

    // Nothing is sent twice.
    smtpd.run_mail_jobs(&s.db).await;
    assert_eq!(smtpd.messages().len(), 2);
}

#[tokio::test]
async fn a_request_is_acknowledged_without_attachment_and_its_rejection_gives_the_reason() {
    let smtpd = Smtpd::start();
    let s = setup().await;
    let who = citizen(&s).await;
    let r = public_resource(&s, "Turnhalle Nord", true).await;
    let (start, end, when) = evening();

    let res = service::reserve(&s.db.conn, Actor::User(&who), input(r.id, start, end))
        .await
        .expect("request");
    assert_eq!(res.status, service::REQUESTED);
    assert!(smtpd.run_mail_jobs(&s.db).await >= 1);
    let (msgs, atts) = arrived(&smtpd, 1);
    let m = &msgs[0];
    assert_eq!(m.to, CITIZEN);
    assert_eq!(m.subject, "Buchungsanfrage erhalten: Turnhalle Nord");
    assert_eq!(m.content_type, "text/plain", "no attachment");
    assert!(atts[0].is_empty(), "{:?}", atts[0]);
    let body = m.body.replace("\r\n", "\n");
    assert!(
        body.starts_with("Wir haben Ihre Buchungsanfrage erhalten."),
        "{body}"
    );
    assert!(body.contains(&format!("Zeit: {when}\n")), "{body}");

    let rejected = service::reject(
        &s.db.conn,
        Actor::User(&s.admin),
        ReservationId(res.id),
        "Hallenreinigung",
    )
    .await
    .expect("reject");
    assert_eq!(rejected.status, service::REJECTED);
    assert!(smtpd.run_mail_jobs(&s.db).await >= 1);
    let (msgs, atts) = arrived(&smtpd, 2);
    let m = &msgs[1];
    assert_eq!(m.to, CITIZEN);
    assert_eq!(m.subject, "Buchungsanfrage abgelehnt: Turnhalle Nord");
    assert_eq!(m.content_type, "text/plain");
    assert!(atts[1].is_empty(), "{:?}", atts[1]);
    let body = m.body.replace("\r\n", "\n");
    assert!(
        body.starts_with("Ihre Buchungsanfrage wurde leider abgelehnt."),
        "{body}"
    );
    assert!(
        body.contains("Begründung: Hallenreinigung\n"),
        "the reason in {body}"
    );
}
