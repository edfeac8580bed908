//! The service on both backends: submission checks, reference numbers, moderation, workflow,
//! duplicates and followers.

use crate::common;

use common::*;
use rathaus_reports::service::{self, CategoryId, Change, ReportId, Source};

#[tokio::test]
async fn a_web_report_gets_a_reference_and_is_published() {
    let s = setup().await;
    let a = submit(&s, "strassenschaden", INSIDE).await;
    let b = submit(&s, "strassenschaden", INSIDE).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(a.report.reference.starts_with(&format!("M-{year}-")));
    assert_ne!(a.report.reference, b.report.reference);
    assert_eq!(a.report.moderation, service::PUBLISHED);
    assert_eq!(a.report.status, service::NEW);
    let found = service::by_status_token(&s.db.conn, s.tenant(), &a.status_token)
        .await
        .unwrap();
    assert_eq!(found.id, a.report.id);
}

async fn count(s: &Setup) -> usize {
    use rathaus_reports::store::entity::report;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    report::Entity::find()
        .filter(report::Column::TenantId.eq(s.tenant().0))
        .count(&s.db.conn)
        .await
        .unwrap() as usize
}

fn field_keys(e: rathaus_core::Error) -> Vec<(String, String)> {
    match e {
        rathaus_core::Error::Invalid(errs) => {
            errs.0.into_iter().map(|f| (f.field, f.key)).collect()
        }
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_is_stored() {
    let s = setup().await;
    let before = count(&s).await;
    let cases: Vec<(&str, service::NewReport, &str, &str)> = vec![
        (
            "outside",
            report(&s, "gully", OUTSIDE),
            "location",
            "reports.err.outside_boundary",
        ),
        (
            "no category",
            service::NewReport {
                category_id: None,
                ..report(&s, "gully", INSIDE)
            },
            "category",
            "reports.err.category_missing",
        ),
        (
            "latitude 91",
            report(&s, "gully", (91.0, 7.19)),
            "location",
            "reports.err.latitude_range",
        ),
        (
            "5000 chars",
            service::NewReport {
                description: "x".repeat(5000),
                ..report(&s, "gully", INSIDE)
            },
            "description",
            "reports.err.description_long",
        ),
        (
            "html",
            service::NewReport {
                description: "Loch <script>alert(1)</script>".into(),
                ..report(&s, "gully", INSIDE)
            },
            "description",
            "reports.err.markup",
        ),
        (
            "pdf as photo",
            service::NewReport {
                photos: vec![b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n".to_vec()],
                ..report(&s, "gully", INSIDE)
            },
            "photos",
            "reports.err.image_type",
        ),
        (
            "no location",
            service::NewReport {
                position: None,
                ..report(&s, "gully", INSIDE)
            },
            "location",
            "reports.err.location_missing",
        ),
        (
            "unknown address",
            service::NewReport {
                position: None,
                address: "Nirgendwostraße 99".into(),
                ..report(&s, "gully", INSIDE)
            },
            "address",
            "reports.err.address_unknown",
        ),
        (
            "no consent",
            service::NewReport {
                consent: false,
                ..report(&s, "gully", INSIDE)
            },
            "consent",
            "reports.err.consent",
        ),
        (
            "bad e-mail",
            service::NewReport {
                email: "nicht-mail".into(),
                ..report(&s, "gully", INSIDE)
            },
            "email",
            "err.email",
        ),
        (
            "unknown attribute value",
            service::NewReport {
                attributes: [("art".to_string(), "krater".to_string())].into(),
                ..report(&s, "strassenschaden", INSIDE)
            },
            "attr_art",
            "reports.err.attribute_value",
        ),
    ];
    for (name, inp, field, key) in cases {
        let err = service::submit(
            &s.db,
            &s.files,
            s.st(),
            s.tenant(),
            Source::Web,
            service::CITIZEN,
            inp,
        )
        .await
        .expect_err(name);
        let keys = field_keys(err);
        assert!(
            keys.iter().any(|(f, k)| f == field && k.starts_with(key)),
            "{name}: {keys:?}"
        );
    }
    assert_eq!(count(&s).await, before, "nothing stored");
}

#[tokio::test]
async fn a_typed_address_is_resolved_against_the_street_directory() {
    let s = setup().await;
    let inp = service::NewReport {
        position: None,
        address: "Marktstrasse 10".into(),
        ..report(&s, "beleuchtung", INSIDE)
    };
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    assert!((r.lat - 51.3962).abs() < 1e-6, "{}", r.lat);
    assert!((r.lon - 7.191).abs() < 1e-6, "{}", r.lon);
}

#[tokio::test]
async fn without_the_proof_of_work_a_report_waits_for_moderation() {
    let s = setup().await;
    let held = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::WebNoJs,
        service::CITIZEN,
        report(&s, "muell", INSIDE),
    )
    .await
    .unwrap();
    assert_eq!(held.report.moderation, service::PENDING);
    assert!(
        service::published(&s.db.conn, s.tenant(), &held.report.reference)
            .await
            .is_err()
    );
    // The moderator publishes it with the personal detail taken out; the original stays.
    let after = service::moderate(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.moderator),
        s.moderator.tenant_id,
        ReportId(held.report.id),
        service::Moderation {
            publish: Some(true),
            public_description: Some("Müll am Waldrand".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(after.moderation, service::PUBLISHED);
    assert_eq!(after.public_description, "Müll am Waldrand");
    assert_eq!(after.description, "Schlagloch vor der Einfahrt");
    // A handler may not moderate, a moderator may not change the status.
    assert!(
        service::moderate(
            &s.db.conn,
            s.st(),
            rathaus_store::uow::Actor::User(&s.handler),
            s.handler.tenant_id,
            ReportId(held.report.id),
            Default::default()
        )
        .await
        .is_err()
    );
    assert!(
        service::change(
            &s.db.conn,
            s.st(),
            rathaus_store::uow::Actor::User(&s.moderator),
            s.moderator.tenant_id,
            ReportId(held.report.id),
            Change::default()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn open_reports_of_the_same_category_nearby_are_found() {
    let s = setup().await;
    let a = submit(&s, "gully", INSIDE).await;
    // ~30 m north: found; another category: not; 200 m away: not.
    let near = (INSIDE.0 + 0.00027, INSIDE.1);
    submit(&s, "muell", near).await;
    submit(&s, "gully", (INSIDE.0 + 0.0018, INSIDE.1)).await;
    let p = rathaus_reports::domain::geo::Point::new(near.0, near.1).unwrap();
    let found = service::nearby(
        &s.db.conn,
        s.tenant(),
        CategoryId(s.category("gully").id),
        p,
        50.0,
        5,
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].report.id, a.report.id);
    assert!(found[0].distance_m > 25.0 && found[0].distance_m < 35.0);
    // Closed reports are not offered.
    service::change(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.handler),
        s.handler.tenant_id,
        ReportId(a.report.id),
        Change {
            status: Some(service::DONE.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let found = service::nearby(
        &s.db.conn,
        s.tenant(),
        CategoryId(s.category("gully").id),
        p,
        50.0,
        5,
    )
    .await
    .unwrap();
    assert!(found.is_empty());
}

#[tokio::test]
async fn the_workflow_records_answers_closing_and_duplicates() {
    let s = setup().await;
    let mut original = report(&s, "gully", INSIDE);
    original.email = "erste@example.org".into();
    let original = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        original,
    )
    .await
    .unwrap()
    .report;
    let mut dup = report(&s, "gully", INSIDE);
    dup.email = "zweite@example.org".into();
    let dup = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        dup,
    )
    .await
    .unwrap();
    service::confirm_follower(
        &s.db.conn,
        s.tenant(),
        &follower_token(&s, dup.report.id).await,
    )
    .await
    .unwrap();

    let r = service::change(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.handler),
        s.handler.tenant_id,
        ReportId(original.id),
        Change {
            status: Some(service::IN_PROGRESS.into()),
            public_reply: "Wir kümmern uns.".into(),
            internal_note: "Kanal-TV bestellen".into(),
            priority: Some("high".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(r.first_answer_at.is_some());
    assert!(r.closed_at.is_none());
    assert_eq!(r.status_notes, "Wir kümmern uns.");
    let public = service::updates(&s.db.conn, s.tenant(), ReportId(original.id), false)
        .await
        .unwrap();
    let all = service::updates(&s.db.conn, s.tenant(), ReportId(original.id), true)
        .await
        .unwrap();
    assert_eq!((public.len(), all.len()), (1, 2));

    // A duplicate needs its original, closes, and its followers move over.
    let err = service::change(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.handler),
        s.handler.tenant_id,
        ReportId(dup.report.id),
        Change {
            status: Some(service::DUPLICATE.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(field_keys(err)[0].0, "duplicate_of");
    let closed = service::change(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.handler),
        s.handler.tenant_id,
        ReportId(dup.report.id),
        Change {
            status: Some(service::DUPLICATE.into()),
            duplicate_of: Some(original.reference.to_lowercase()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!closed.is_open && closed.closed_at.is_some());
    assert_eq!(closed.duplicate_of, Some(original.id));
    let followers = followers_of(&s, original.id).await;
    assert!(
        followers
            .iter()
            .any(|f| f.email == "zweite@example.org" && f.confirmed_at.is_some()),
        "{followers:?}"
    );
    // The clerk without permission can do nothing.
    assert!(
        service::change(
            &s.db.conn,
            s.st(),
            rathaus_store::uow::Actor::User(&s.clerk),
            s.clerk.tenant_id,
            ReportId(original.id),
            Change::default()
        )
        .await
        .is_err()
    );
}

async fn followers_of(
    s: &Setup,
    report_id: i64,
) -> Vec<rathaus_reports::store::entity::follower::Model> {
    use rathaus_reports::store::entity::follower;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    follower::Entity::find()
        .filter(follower::Column::ReportId.eq(report_id))
        .all(&s.db.conn)
        .await
        .unwrap()
}

async fn follower_token(s: &Setup, report_id: i64) -> String {
    followers_of(s, report_id).await[0].token.clone()
}

#[tokio::test]
async fn parallel_submissions_get_distinct_reference_numbers() {
    let s = setup().await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = s.db.clone();
        let tenant = s.tenant();
        let inp = report(&s, "gully", INSIDE);
        let module = s.module.clone();
        let files = s.files.clone();
        tasks.push(tokio::spawn(async move {
            service::submit(
                &db,
                &files,
                module.state(),
                tenant,
                Source::Web,
                service::CITIZEN,
                inp,
            )
            .await
            .map(|x| x.report.reference)
        }));
    }
    let mut refs = Vec::new();
    for t in tasks {
        refs.push(t.await.unwrap().unwrap());
    }
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), 20);
}

#[tokio::test]
async fn another_tenants_report_is_not_found() {
    let s = setup().await;
    let b = tenant(&s.db, "b", "rathaus.b.test").await;
    let r = submit(&s, "gully", INSIDE).await;
    assert!(
        service::get(
            &rathaus_store::uow::Scope::user(&s.db.conn, &b.admin),
            ReportId(r.report.id)
        )
        .await
        .is_err()
    );
    assert!(
        service::change(
            &s.db.conn,
            s.st(),
            rathaus_store::uow::Actor::User(&b.admin),
            b.admin.tenant_id,
            ReportId(r.report.id),
            Change::default()
        )
        .await
        .is_err()
    );
    assert!(
        service::by_status_token(&s.db.conn, b.tenant(), &r.status_token)
            .await
            .is_err()
    );
    assert!(
        service::published(&s.db.conn, b.tenant(), &r.report.reference)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn personal_data_is_erased_after_the_retention_period() {
    let s = setup().await;
    let mut inp = report(&s, "gully", INSIDE);
    inp.name = "Erika Muster".into();
    inp.email = "erika@example.org".into();
    inp.phone = "0123 456".into();
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    let now = chrono::Utc::now();
    let later =
        now + chrono::Duration::days(rathaus_reports::service::retention::RETENTION_DAYS + 1);
    // Still open: nothing happens, even long after.
    assert!(
        !rathaus_reports::service::retention::erase(&s.db, s.tenant(), ReportId(r.id), later)
            .await
            .unwrap()
    );
    service::change(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.handler),
        s.handler.tenant_id,
        ReportId(r.id),
        Change {
            status: Some(service::DONE.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Closed, but not long enough ago.
    assert!(
        !rathaus_reports::service::retention::erase(&s.db, s.tenant(), ReportId(r.id), now)
            .await
            .unwrap()
    );
    assert!(
        rathaus_reports::service::retention::erase(&s.db, s.tenant(), ReportId(r.id), later)
            .await
            .unwrap()
    );
    let after = service::find(&s.db.conn, s.tenant(), ReportId(r.id))
        .await
        .unwrap();
    assert_eq!(
        (
            after.reporter_name.as_str(),
            after.reporter_email.as_str(),
            after.reporter_phone.as_str()
        ),
        ("", "", "")
    );
    assert!(followers_of(&s, r.id).await.is_empty());
}

/// A Nominatim stand-in on port 0 that knows one address and records what it was asked.
async fn fake_nominatim() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::RawQuery;
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = asked.clone();
    let app = axum::Router::new().route(
        "/search",
        axum::routing::get(move |RawQuery(q): RawQuery| {
            let log = log.clone();
            async move {
                let q = q.unwrap_or_default();
                log.lock().unwrap().push(q.clone());
                let body = if q.contains("Feldweg") {
                    r#"[{"lat":"51.4101","lon":"7.2003","display_name":"Feldweg, Beispielstadt"}]"#
                } else {
                    "[]"
                };
                ([("content-type", "application/json")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/search"), asked)
}

#[tokio::test]
async fn an_address_the_directory_lacks_is_asked_of_the_configured_geocoder() {
    // The fake geocoder listens on loopback: allowed here as an operator would allow an
    // internal geocoder (tests/ssrf.rs shows the default refusing it).
    rathaus_store::outbound::configure(rathaus_store::outbound::Policy {
        allow_http: true,
        allow_hosts: vec!["127.0.0.1".into()],
    });
    let s = setup().await;
    let (url, asked) = fake_nominatim().await;
    let mut inp = report(&s, "muell", INSIDE);
    inp.position = None;
    inp.address = "Feldweg 2".into();
    // Without a geocoder the address is unknown.
    let err = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(field_keys(err)[0].0, "address");
    let cur = service::settings(&s.db.conn, s.tenant()).await.unwrap();
    service::update_settings(
        &s.db.conn,
        rathaus_store::uow::Actor::User(&s.manager),
        s.manager.tenant_id,
        service::SettingsInput {
            tile_url: cur.tile_url,
            tile_attribution: cur.tile_attribution,
            geocoder_url: url,
            duplicate_radius_m: 50,
            answer_days: 3,
            moderate_all: false,
        },
    )
    .await
    .unwrap();
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    assert!((r.lat - 51.4101).abs() < 1e-9 && (r.lon - 7.2003).abs() < 1e-9);
    let q = asked.lock().unwrap().join("\n");
    assert!(
        q.contains("q=Feldweg+2") && q.contains("bounded=1") && q.contains("viewbox="),
        "{q}"
    );
    // A place the geocoder does not know stays an error next to the address field.
    let mut unknown = report(&s, "muell", INSIDE);
    unknown.position = None;
    unknown.address = "Gibtsnichtweg 1".into();
    let err = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        unknown,
    )
    .await
    .unwrap_err();
    assert_eq!(field_keys(err)[0].1, "reports.err.address_unknown");
}
