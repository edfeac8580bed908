//! The weekly reminder mail, through the outbox to a real local SMTP server: every holder of
//! `refugees.read_residence` gets the expiring permits, planned move-outs and ending repairs;
//! nobody else gets a mail; the run is audited and re-queues itself for next Monday; a retried
//! run mails nobody twice.

use crate::common;

use chrono::{Datelike, Duration, Weekday};
use common::*;
use rathaus_refugees::service::occupancy::{CheckIn, check_in};
use rathaus_refugees::service::persons::{PersonInput, create_person};
use rathaus_refugees::service::places::close_room;
use rathaus_refugees::service::reminders::{self, JOB};
use rathaus_refugees::service::today;
use rathaus_store::entity::{audit_event, job};
use rathaus_store::jobs::Handler;
use rathaus_store::uow::Actor;
use rathaus_testkit::smtp::Smtpd;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

async fn person_until(s: &Setup, surname: &str, given: &str, days: i64) -> i64 {
    create_person(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        PersonInput {
            surname: Some(surname.into()),
            given_names: Some(given.into()),
            birth_date: Some(Some(d("1988-09-09"))),
            residence_status: Some("gestattung".into()),
            permit_valid_until: Some(Some(today() + Duration::days(days))),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn residence_readers_get_the_weekly_reminders_by_mail_and_nobody_else() {
    let smtpd = Smtpd::start();
    let s = setup().await;
    let today = today();
    let de = |d: chrono::NaiveDate| d.format("%d.%m.%Y").to_string();

    let acc = accommodation(&s, "Containeranlage Nord").await;
    let r1 = room(&s, acc, "1.01", 2).await;
    let r2 = room(&s, acc, "1.02", 2).await;
    // Expires in 20 days: listed. In 200 days: not.
    let soon = person_until(&s, "Rahimi", "Farid", 20).await;
    person_until(&s, "Sultani", "Mina", 200).await;
    // Moves out in 10 days: listed.
    let bed = beds(&s, r1.id).await[0];
    check_in(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        CheckIn {
            person_id: soon,
            bed_id: bed,
            from: today - Duration::days(100),
            until: Some(today + Duration::days(10)),
        },
    )
    .await
    .unwrap();
    // Repair ends in 15 days: listed.
    close_room(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        r2.id,
        today,
        Some(today + Duration::days(15)),
    )
    .await
    .unwrap();

    // What the foreigners office is reminded of.
    let r = reminders::reminders_for(&s.db.conn, Actor::User(&s.office), s.f.tenant, today)
        .await
        .unwrap();
    assert_eq!(
        (r.expiring.total, r.move_outs.total, r.repairs.total),
        (1, 1, 1)
    );
    // Without the right, nothing (the caretaker and social work).
    for p in [&s.caretaker, &s.social] {
        assert!(
            reminders::reminders_for(&s.db.conn, Actor::User(p), s.f.tenant, today)
                .await
                .is_err()
        );
    }

    // The job as the worker runs it: queued at migrate for next Monday, mails through the
    // outbox, the next Monday queued.
    rathaus_refugees::jobs::schedule_all(&s.db).await.unwrap();
    let queued = job::Entity::find()
        .filter(job::Column::Kind.eq(JOB))
        .filter(job::Column::TenantId.eq(s.f.tenant.0))
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let berlin = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&chrono_tz::Europe::Berlin);
    assert_eq!(berlin(queued[0].run_at).weekday(), Weekday::Mon);
    // Monday has come: the run is due and runs.
    let mut due: job::ActiveModel = queued[0].clone().into();
    due.run_at = Set(chrono::Utc::now() - Duration::seconds(1));
    let due = due.update(&s.db.conn).await.unwrap();
    rathaus_refugees::jobs::Reminders::new()
        .run(&s.db, &due)
        .await
        .unwrap();
    rathaus_store::jobs::complete(&s.db.conn, queued[0].id)
        .await
        .unwrap();
    let next = job::Entity::find()
        .filter(job::Column::Kind.eq(JOB))
        .filter(job::Column::Status.eq("queued"))
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(berlin(next[0].run_at).weekday(), Weekday::Mon);
    assert_ne!(next[0].id, queued[0].id);
    assert!(next[0].run_at > chrono::Utc::now());

    assert!(smtpd.run_mail_jobs(&s.db).await >= 2);
    let got = smtpd.messages();
    let mut to: Vec<&str> = got.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    let mut want = vec![s.admin.email.as_str(), s.office.email.as_str()];
    want.sort_unstable();
    assert_eq!(to, want, "{got:?}");
    for m in &got {
        assert_eq!(
            m.subject,
            format!("Unterbringung: Fristen ab {}", de(today))
        );
        let b = &m.body;
        for needle in [
            "Aufenthaltstitel, die in den nächsten 90 Tagen ablaufen: 1",
            &format!("- Rahimi, Farid: {}", de(today + Duration::days(20))),
            "Geplante Auszüge in den nächsten 30 Tagen: 1",
            &format!(
                "- Rahimi, Farid (Containeranlage Nord · 1.01): {}",
                de(today + Duration::days(10))
            ),
            "Zimmer, deren Sperrung (Reparatur) in den nächsten 30 Tagen endet: 1",
            &format!(
                "- Containeranlage Nord · 1.02: {}",
                de(today + Duration::days(15))
            ),
            "jeden Montag",
        ] {
            assert!(b.contains(needle), "{needle:?} not in\n{b}");
        }
        assert!(!b.contains("Sultani"), "{b}");
    }

    // The run is recorded with its recipients.
    let ev = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("refugees.reminders_mailed"))
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&ev[0].details).unwrap();
    assert_eq!(v["recipients"].as_array().unwrap().len(), 2);

    // The queue retries the run (its mails were committed, its completion was lost): nobody
    // is mailed twice, no second run is recorded, and still one next run is queued.
    rathaus_refugees::jobs::Reminders::new()
        .run(&s.db, &due)
        .await
        .unwrap();
    assert_eq!(smtpd.run_mail_jobs(&s.db).await, 0);
    assert_eq!(smtpd.messages().len(), 2);
    assert_eq!(
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("refugees.reminders_mailed"))
            .all(&s.db.conn)
            .await
            .unwrap()
            .len(),
        1
    );
    let queued_now = job::Entity::find()
        .filter(job::Column::Kind.eq(JOB))
        .filter(job::Column::Status.eq("queued"))
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(queued_now.len(), 1);

    // With nothing to remind of, no mail.
    let later = today + Duration::days(400);
    assert_eq!(
        reminders::send(&s.db.conn, s.f.tenant, later)
            .await
            .unwrap(),
        0
    );
}
