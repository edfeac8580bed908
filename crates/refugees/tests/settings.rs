//! The deletion period per tenant: editors change it on the settings page (linked from the
//! dashboard), bad input is a German 422 that keeps the input, other roles get 403, the change
//! is audited, and the anonymisation job applies the tenant's period.

use crate::common;

use chrono::{Datelike, NaiveDate};
use common::*;
use rathaus_refugees::Refugees;
use rathaus_refugees::service::occupancy::{CheckIn, check_in};
use rathaus_refugees::service::{retention, settings, today};
use rathaus_store::entity::audit_event;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, login, post_form};
use rathaus_web::{AppState, Module, WebConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::sync::Arc;

const HOST: &str = "a.refugees.test";
const HOST_B: &str = "b.refugees.test";
const PAGE: &str = "/unterbringung/einstellungen";

#[tokio::test]
async fn editors_set_the_deletion_period_and_the_job_applies_it() {
    let tdb = migrated().await;
    let s = tenant(&tdb.db, "a", HOST).await;
    let b = tenant(&tdb.db, "b", HOST_B).await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Refugees)];
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");

    // Someone who moved out four years ago.
    let acc = accommodation(&s, "Gemeinschaftsunterkunft Süd").await;
    let r = room(&s, acc, "1", 1).await;
    let bed = beds(&s, r.id).await[0];
    let p = person(&s, "Haddad").await;
    let t = today();
    let years = |n: i32| NaiveDate::from_ymd_opt(t.year() - n, t.month(), 1).unwrap();
    check_in(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        CheckIn {
            person_id: p,
            bed_id: bed,
            from: years(6),
            until: Some(years(4)),
        },
    )
    .await
    .unwrap();

    // The clerk finds the page on the dashboard; the default is three years.
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &s.clerk.email, PASSWORD).await;
    let dash = clerk
        .get(format!("{base}/unterbringung"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dash.contains(&format!("href=\"{PAGE}\"")), "{dash}");
    let html = clerk
        .get(format!("{base}{PAGE}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Löschfrist in Jahren"), "{html}");
    assert!(html.contains("value=\"3\""), "{html}");

    // Bad input: 422, German message, input kept, nothing stored.
    for bad in ["0", "31", "drei", ""] {
        let r = post_form(
            &clerk,
            &base,
            PAGE,
            PAGE,
            &[("retention_years", bad), ("expiry_days", "90")],
        )
        .await;
        assert_eq!(r.status(), 422, "{bad}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Bitte eine ganze Zahl von Jahren zwischen 1 und 30 angeben."),
            "{html}"
        );
        assert!(html.contains(&format!("value=\"{bad}\"")), "{html}");
    }
    assert_eq!(
        settings::retention_years(&s.db.conn, s.f.tenant)
            .await
            .unwrap(),
        3
    );

    // Five years: saved, shown, audited; the person who left four years ago stays.
    let r = post_form(
        &clerk,
        &base,
        PAGE,
        PAGE,
        &[("retention_years", "5"), ("expiry_days", "90")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("{PAGE}?gespeichert=1"));
    let html = clerk
        .get(format!("{base}{to}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("gespeichert") && html.contains("value=\"5\""),
        "{html}"
    );
    let out = retention::anonymise(&s.db.conn, s.f.tenant, t)
        .await
        .unwrap();
    assert_eq!((out.anonymised, out.retention_years), (0, 5));
    // The other tenant keeps the default.
    assert_eq!(
        settings::retention_years(&s.db.conn, b.f.tenant)
            .await
            .unwrap(),
        3
    );
    // Back to two years: anonymised at the next run.
    let r = post_form(
        &clerk,
        &base,
        PAGE,
        PAGE,
        &[("retention_years", "2"), ("expiry_days", "90")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let out = retention::anonymise(&s.db.conn, s.f.tenant, t)
        .await
        .unwrap();
    assert_eq!((out.anonymised, out.retention_years), (1, 2));

    // The record, the list and the accommodation on a past day show the marker, not the name.
    for path in [
        format!("/unterbringung/personen/{p}"),
        "/unterbringung/personen".to_string(),
        format!("/unterbringung/unterkuenfte/{acc}?datum={}", years(5)),
        format!(
            "/unterbringung/unterkuenfte/{acc}/belegungsliste?datum={}",
            years(5)
        ),
    ] {
        let r = clerk.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("anonymisiert") && !html.contains("Haddad"),
            "{path}: {html}"
        );
    }

    let ev = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("refugees.settings_changed"))
        .order_by_asc(audit_event::Column::Seq)
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].actor_label, s.clerk.email);
    let v: serde_json::Value = serde_json::from_str(&ev[1].details).unwrap();
    assert_eq!(
        v["retention_years"],
        serde_json::json!({"before": 5, "after": 2})
    );

    // Readers without `refugees.edit`: no link, 403 on the page and the form.
    let office = app.client(&[HOST]);
    login(&office, &base, &s.office.email, PASSWORD).await;
    let dash = office
        .get(format!("{base}/unterbringung"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!dash.contains(PAGE));
    let r = office.get(format!("{base}{PAGE}")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = post_form(
        &office,
        &base,
        "/unterbringung",
        PAGE,
        &[("retention_years", "1")],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(
        settings::update(
            &s.db.conn,
            Actor::User(&s.caretaker),
            s.f.tenant,
            &settings::SettingsText {
                retention_years: "1".into(),
                expiry_days: "30".into(),
            }
        )
        .await
        .is_err()
    );
    assert_eq!(
        settings::retention_years(&s.db.conn, s.f.tenant)
            .await
            .unwrap(),
        2
    );
}

/// The period for expiring permits (issue 12, section 5: configurable, 90 days by default):
/// set on the same page, checked for its range, applied to the dashboard and the weekly mail,
/// and named in their texts.
#[tokio::test]
async fn the_expiry_period_is_set_per_tenant_and_used_by_dashboard_and_mail() {
    let tdb = migrated().await;
    let s = tenant(&tdb.db, "a", HOST).await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Refugees)];
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &s.admin.email, PASSWORD).await;
    let get = |path: &str| {
        let c = clerk.clone();
        let url = format!("{base}{path}");
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };

    let html = get(PAGE).await;
    assert!(html.contains("value=\"90\""), "{html}");
    assert!(
        get("/unterbringung")
            .await
            .contains("die in 90 Tagen ablaufen")
    );

    // Out of range or not a number: 422 with the German message, both inputs kept.
    for bad in ["6", "366", "neunzig"] {
        let r = post_form(
            &clerk,
            &base,
            PAGE,
            PAGE,
            &[("retention_years", "4"), ("expiry_days", bad)],
        )
        .await;
        assert_eq!(r.status(), 422, "{bad}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Bitte eine ganze Zahl von Tagen zwischen 7 und 365 angeben."),
            "{html}"
        );
        assert!(html.contains(&format!("value=\"{bad}\"")), "{html}");
        assert!(html.contains("value=\"4\""), "{html}");
    }
    assert_eq!(
        settings::current(&s.db.conn, s.f.tenant).await.unwrap(),
        settings::Settings::default()
    );

    // 30 days: a permit ending in 60 days is no longer listed.
    let r = post_form(
        &clerk,
        &base,
        PAGE,
        PAGE,
        &[("retention_years", "3"), ("expiry_days", "30")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        settings::expiry_days(&s.db.conn, s.f.tenant).await.unwrap(),
        30
    );
    let soon = person(&s, "Karimi").await;
    let later = person(&s, "Nazari").await;
    for (id, days) in [(soon, 10), (later, 60)] {
        rathaus_refugees::service::persons::update_person(
            &s.db.conn,
            Actor::User(&s.admin),
            s.f.tenant,
            id,
            rathaus_refugees::service::persons::PersonInput {
                permit_valid_until: Some(Some(today() + chrono::Duration::days(days))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let dash = get("/unterbringung").await;
    assert!(dash.contains("die in 30 Tagen ablaufen"), "{dash}");
    let d = rathaus_refugees::service::stats::dashboard(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        None,
    )
    .await
    .unwrap();
    assert_eq!((d.expiring, d.expiry_days), (Some(1), 30));

    // The start page names them for readers of residence data, linking to the filtered list;
    // the caretaker (names only) gets no line.
    let before = (today() + chrono::Duration::days(30)).format("%Y-%m-%d");
    let items = Refugees.dashboard(&s.db, &s.admin).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].count, 1);
    assert_eq!(
        items[0].href,
        format!("/unterbringung/personen?ablauf_vor={before}")
    );
    assert!(
        Refugees
            .dashboard(&s.db, &s.caretaker)
            .await
            .unwrap()
            .is_empty()
    );
    let start = get("/staff").await;
    assert!(
        start.contains("1 Aufenthaltstitel laufen innerhalb der eingestellten Frist ab"),
        "{start}"
    );
    let list = get(&items[0].href).await;
    assert!(
        list.contains("Karimi") && !list.contains("Nazari"),
        "{list}"
    );
    let r = rathaus_refugees::service::reminders::reminders_for(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        today(),
    )
    .await
    .unwrap();
    assert_eq!(r.expiring.total, 1);
    let (_, body) = rathaus_refugees::service::reminders::compose(&r, today());
    assert!(
        body.contains("Aufenthaltstitel, die in den nächsten 30 Tagen ablaufen: 1"),
        "{body}"
    );
    assert!(
        body.contains("Geplante Auszüge in den nächsten 30 Tagen: 0"),
        "{body}"
    );
    assert!(
        body.contains("Karimi") && !body.contains("Nazari"),
        "{body}"
    );
}
