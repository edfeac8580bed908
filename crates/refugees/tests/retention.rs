//! Deletion periods: the daily job anonymises persons whose last stay ended more than
//! `RETENTION_YEARS` ago and who have no current or future stay; the monthly statistics stay
//! the same; a second run changes nothing; every run leaves a deletion record; the job is
//! queued once per tenant and re-queues itself.

use crate::common;

use chrono::{Datelike, Duration, NaiveDate};
use common::*;
use rathaus_core::Error;
use rathaus_refugees::service::occupancy::{CheckIn, check_in};
use rathaus_refugees::service::persons::{self, ANONYMISED, PersonInput};
use rathaus_refugees::service::retention::{self, JOB};
use rathaus_refugees::service::settings::DEFAULT_RETENTION_YEARS as RETENTION_YEARS;
use rathaus_refugees::service::{stats, today};
use rathaus_refugees::store::person;
use rathaus_store::entity::{audit_event, job};
use rathaus_store::jobs::Handler;
use rathaus_store::uow::Actor;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

async fn stay(s: &Setup, p: i64, bed: i64, from: NaiveDate, until: Option<NaiveDate>) {
    check_in(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        CheckIn {
            person_id: p,
            bed_id: bed,
            from,
            until,
        },
    )
    .await
    .unwrap();
}

async fn row(s: &Setup, id: i64) -> person::Model {
    person::Entity::find_by_id(id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap()
}

/// Figures of a month as the admin sees them, comparable.
async fn figures(s: &Setup, month: NaiveDate) -> String {
    let m = stats::monthly(&s.db.conn, Actor::User(&s.admin), s.f.tenant, month)
        .await
        .unwrap();
    format!(
        "{} {} {} {} {} {:?} {:?}",
        m.housed,
        m.capacity,
        m.arrivals,
        m.departures,
        m.allocations,
        m.by_status,
        m.by_nationality
    )
}

#[tokio::test]
async fn persons_who_left_long_ago_are_anonymised_and_statistics_stay() {
    let s = setup().await;
    let acc = accommodation(&s, "Gemeinschaftsunterkunft Süd").await;
    let r = room(&s, acc, "1", 4).await;
    let b = beds(&s, r.id).await;
    let today = today();
    let years = |n: i32| NaiveDate::from_ymd_opt(today.year() - n, today.month(), 1).unwrap();

    // Left four years ago: anonymised.
    let old = persons::create_person(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        PersonInput {
            surname: Some("Haddad".into()),
            given_names: Some("Samir".into()),
            birth_date: Some(Some(d("1980-02-03"))),
            nationality: Some("syrisch".into()),
            languages: Some("Arabisch".into()),
            phone: Some("0151 1234567".into()),
            residence_status: Some("erlaubnis".into()),
            residence_paragraph: Some("§ 25 Abs. 2".into()),
            allocation_date: Some(Some(years(5) + Duration::days(3))),
            allocation_ref: Some("ZW-2021-17".into()),
            benefits_ref: Some("AsylbLG 4711".into()),
            needs: Some(vec!["wheelchair".into()]),
            notes: Some("Braucht Dolmetscher".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let h = persons::create_household(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        "BG-1",
        &[old],
    )
    .await
    .unwrap();
    stay(&s, old, b[0], years(5), Some(years(4))).await;
    // Left one year ago: kept.
    let recent = person(&s, "Karimi").await;
    stay(&s, recent, b[1], years(3), Some(years(1))).await;
    // Left five years ago but comes back next month: kept.
    let back = person(&s, "Nouri").await;
    stay(&s, back, b[2], years(6), Some(years(5))).await;
    stay(&s, back, b[2], today + Duration::days(40), None).await;
    // Lives there now: kept.
    let now = person(&s, "Rahimi").await;
    stay(&s, now, b[3], years(4), None).await;

    let months = [years(5), years(5) + Duration::days(200), years(4)];
    let mut before = Vec::new();
    for m in months {
        before.push(figures(&s, m).await);
    }

    let out = retention::anonymise(&s.db.conn, s.f.tenant, today)
        .await
        .unwrap();
    assert_eq!(out.anonymised, 1);
    assert_eq!(out.cutoff, retention::cutoff(today, RETENTION_YEARS));
    assert_eq!(out.retention_years, RETENTION_YEARS);
    assert_eq!(out.cutoff.year(), today.year() - RETENTION_YEARS);

    let m = row(&s, old).await;
    assert!(m.anonymised_at.is_some());
    assert_eq!(
        (m.surname.as_str(), m.given_names.as_str(), m.birth_date),
        ("", "", None)
    );
    for f in [
        &m.sex,
        &m.languages,
        &m.phone,
        &m.residence_paragraph,
        &m.allocation_ref,
        &m.benefits_ref,
        &m.needs,
        &m.notes,
    ] {
        assert!(f.is_empty(), "{m:?}");
    }
    assert_eq!((m.household_id, m.permit_valid_until), (None, None));
    // What the statistics count stays.
    assert_eq!(
        (m.nationality.as_str(), m.residence_status.as_str()),
        ("syrisch", "erlaubnis")
    );
    assert!(m.allocation_date.is_some());
    let hh = rathaus_refugees::store::household::Entity::find_by_id(h.id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hh.head_person_id, None);
    for id in [recent, back, now] {
        let m = row(&s, id).await;
        assert!(m.anonymised_at.is_none() && !m.surname.is_empty(), "{m:?}");
        assert!(m.birth_date.is_some());
    }
    for (m, b) in months.iter().zip(&before) {
        assert_eq!(&figures(&s, *m).await, b, "month {m}");
    }

    // The record says so and can no longer be changed or housed.
    let (v, history) = persons::read_person(&s.db.conn, Actor::User(&s.admin), s.f.tenant, old)
        .await
        .unwrap();
    assert!(v.anonymised);
    assert_eq!(history.len(), 1);
    let e = persons::update_person(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        old,
        PersonInput {
            surname: Some("Haddad".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, Error::Conflict(ref k) if k == ANONYMISED),
        "{e:?}"
    );
    let e = check_in(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        CheckIn {
            person_id: old,
            bed_id: b[0],
            from: today + Duration::days(400),
            until: None,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, Error::Conflict(ref k) if k == ANONYMISED),
        "{e:?}"
    );

    // A second run changes nothing more.
    let stamp = row(&s, old).await.anonymised_at;
    let out = retention::anonymise(&s.db.conn, s.f.tenant, today)
        .await
        .unwrap();
    assert_eq!(out.anonymised, 0);
    assert_eq!(row(&s, old).await.anonymised_at, stamp);
    for (m, b) in months.iter().zip(&before) {
        assert_eq!(&figures(&s, *m).await, b, "month {m}");
    }

    // Each run left its deletion record, by the system, with the count and the period.
    let records = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("refugees.persons_anonymised"))
        .order_by_asc(audit_event::Column::Seq)
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(records.len(), 2);
    let d0: serde_json::Value = serde_json::from_str(&records[0].details).unwrap();
    let d1: serde_json::Value = serde_json::from_str(&records[1].details).unwrap();
    assert_eq!(
        (d0["count"].as_i64(), d1["count"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(d0["retention_years"].as_i64(), Some(RETENTION_YEARS as i64));
    assert_eq!(
        d0["moved_out_before"].as_str(),
        Some(out.cutoff.to_string().as_str())
    );
    assert_eq!(records[0].tenant_id, s.f.tenant.0);
    assert!(records[0].actor_id.is_none());
    assert!(
        rathaus_store::audit::verify(&s.db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn the_daily_job_is_queued_once_per_tenant_and_requeues_itself() {
    let tdb = migrated().await;
    let a = tenant(&tdb.db, "a", "a.refugees.test").await;
    let b = tenant(&tdb.db, "b", "b.refugees.test").await;
    let queued = |t: rathaus_core::TenantId| {
        let db = tdb.db.clone();
        async move {
            job::Entity::find()
                .filter(job::Column::Kind.eq(JOB))
                .filter(job::Column::TenantId.eq(t.0))
                .filter(job::Column::Status.eq("queued"))
                .all(&db.conn)
                .await
                .unwrap()
        }
    };
    rathaus_refugees::jobs::schedule_all(&tdb.db).await.unwrap();
    // At start-up again (migrate runs at every start): nothing more.
    rathaus_refugees::jobs::schedule_all(&tdb.db).await.unwrap();
    let ja = queued(a.f.tenant).await;
    assert_eq!((ja.len(), queued(b.f.tenant).await.len()), (1, 1));
    assert!(ja[0].run_at > chrono::Utc::now());

    // The night has come: the handler runs the tenant's anonymisation and queues the next
    // day's run.
    let mut due: job::ActiveModel = ja[0].clone().into();
    due.run_at = sea_orm::Set(chrono::Utc::now() - Duration::seconds(1));
    sea_orm::ActiveModelTrait::update(due, &tdb.db.conn)
        .await
        .unwrap();
    rathaus_refugees::jobs::Anonymise
        .run(&tdb.db, &ja[0])
        .await
        .unwrap();
    rathaus_store::jobs::complete(&tdb.db.conn, ja[0].id)
        .await
        .unwrap();
    let next = queued(a.f.tenant).await;
    assert_eq!(next.len(), 1);
    assert_ne!(next[0].id, ja[0].id);
    // The next day's night (at least the rest of this day away).
    assert!(next[0].run_at - chrono::Utc::now() > Duration::hours(2));
    let records = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("refugees.persons_anonymised"))
        .all(&tdb.db.conn)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].tenant_id, a.f.tenant.0);
}
