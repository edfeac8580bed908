//! Organisations on the configured backend (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): create and edit, members by e-mail, who may see and change
//! what (anonymous, without permission, member, non-member, another tenant), audit events,
//! and booking an organisations-only resource for one's organisation.

use crate::common;

use common::*;
use rathaus_booking::domain::{OrganisationId, ReservationId};
use rathaus_booking::service::orgs::{self, OrgInput};
use rathaus_booking::service::{self, MANAGE, ReservationInput, ReserveError, ResourceInput};
use rathaus_core::{Error, Principal, UserId};
use rathaus_store::accounts;
use rathaus_store::entity::audit_event;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, post_form};
use rathaus_web::WebConfig;
use reqwest::Client;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

fn club(name: &str) -> OrgInput {
    OrgInput {
        name: name.into(),
        kind: "club".into(),
        contact_email: "vorstand@tsv.example".into(),
        public_name: false,
    }
}

/// A confirmed citizen account (no permissions).
async fn citizen(s: &Setup, email: &str) -> Principal {
    let u = accounts::create_citizen(&s.db.conn, s.f.tenant, "Clara Club", email, PASSWORD, true)
        .await
        .expect("citizen");
    principal(&s.db, s.f.tenant, UserId(u.id)).await
}

fn field_key(e: &Error, field: &str) -> String {
    match e {
        Error::Invalid(f) => f.get(field).map(|x| x.key.clone()).unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

async fn audit_count(s: &Setup, action: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(s.f.tenant.0))
        .filter(audit_event::Column::Action.eq(action))
        .count(&s.db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn create_edit_and_members() {
    let s = setup().await;
    let db = &s.db.conn;
    // Without booking.manage nobody creates or edits.
    for who in [&s.booker, &s.clerk] {
        let e = orgs::create_organisation(db, Actor::User(who), club("TSV"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden), "{e:?}");
    }
    // Bad input: every field named, nothing stored.
    let bad = OrgInput {
        name: " ".into(),
        kind: "party".into(),
        contact_email: "kein-at".into(),
        public_name: false,
    };
    let e = orgs::create_organisation(db, Actor::User(&s.admin), bad)
        .await
        .unwrap_err();
    assert_eq!(field_key(&e, "name"), "err.required");
    assert_eq!(field_key(&e, "kind"), "err.invalid_choice");
    assert_eq!(field_key(&e, "contact_email"), "err.email");
    assert!(
        orgs::list_organisations(db, Actor::User(&s.admin))
            .await
            .unwrap()
            .is_empty()
    );

    let o = orgs::create_organisation(db, Actor::User(&s.admin), club(" TSV Musterstadt "))
        .await
        .unwrap();
    assert_eq!(o.name, "TSV Musterstadt");
    assert_eq!(o.feed_token.len(), 32, "a random feed token is set");
    let mut inp = club("TSV Musterstadt 1890");
    inp.kind = "school".into();
    inp.public_name = true;
    let o = orgs::update_organisation(db, Actor::User(&s.admin), OrganisationId(o.id), inp)
        .await
        .unwrap();
    assert_eq!((o.kind.as_str(), o.public_name), ("school", true));
    let e = orgs::update_organisation(db, Actor::User(&s.booker), OrganisationId(o.id), club("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden));

    // Members by the e-mail of an existing account: a citizen and a staff member.
    let clara = citizen(&s, "clara@a.example").await;
    orgs::add_member(
        db,
        Actor::User(&s.admin),
        OrganisationId(o.id),
        " Clara@A.example ",
    )
    .await
    .unwrap();
    orgs::add_member(
        db,
        Actor::User(&s.admin),
        OrganisationId(o.id),
        &s.booker.email,
    )
    .await
    .unwrap();
    let e = orgs::add_member(
        db,
        Actor::User(&s.admin),
        OrganisationId(o.id),
        "clara@a.example",
    )
    .await
    .unwrap_err();
    assert_eq!(field_key(&e, "email"), "booking.orgs.err.already_member");
    let e = orgs::add_member(
        db,
        Actor::User(&s.admin),
        OrganisationId(o.id),
        "niemand@a.example",
    )
    .await
    .unwrap_err();
    assert_eq!(field_key(&e, "email"), "booking.orgs.err.no_account");
    let e = orgs::add_member(
        db,
        Actor::User(&s.booker),
        OrganisationId(o.id),
        "clara@a.example",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden));
    let members = orgs::members(db, Actor::User(&clara), OrganisationId(o.id))
        .await
        .unwrap();
    assert_eq!(members.len(), 2);

    // Members see their own; a non-member sees nothing of it.
    let mine = orgs::my_organisations(db, Actor::User(&clara))
        .await
        .unwrap();
    assert_eq!(mine.iter().map(|o| o.id).collect::<Vec<_>>(), vec![o.id]);
    assert!(
        orgs::my_organisations(db, Actor::User(&s.other))
            .await
            .unwrap()
            .is_empty()
    );
    let e = orgs::get_organisation(db, Actor::User(&s.other), OrganisationId(o.id))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound));
    let e = orgs::list_organisations(db, Actor::User(&clara))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden));

    // Removing: the member loses access; removing again is NotFound.
    orgs::remove_member(
        db,
        Actor::User(&s.admin),
        OrganisationId(o.id),
        clara.user_id.0,
    )
    .await
    .unwrap();
    assert!(
        orgs::my_organisations(db, Actor::User(&clara))
            .await
            .unwrap()
            .is_empty()
    );
    let e = orgs::remove_member(
        db,
        Actor::User(&s.admin),
        OrganisationId(o.id),
        clara.user_id.0,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NotFound));

    // Another tenant's manager does not find it.
    let b = tenant(&s.db, "b", HOST_B).await;
    let e = orgs::get_organisation(db, Actor::User(&b.admin), OrganisationId(o.id))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound));
    let e = orgs::add_member(
        db,
        Actor::User(&b.admin),
        OrganisationId(o.id),
        "clara@a.example",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NotFound));

    for (action, n) in [
        ("booking.organisation.created", 1),
        ("booking.organisation.updated", 1),
        ("booking.organisation.member_added", 2),
        ("booking.organisation.member_removed", 1),
    ] {
        assert_eq!(audit_count(&s, action).await, n, "{action}");
    }
}

#[tokio::test]
async fn members_book_for_their_organisation() {
    let s = setup().await;
    let db = &s.db.conn;
    let mut inp = ResourceInput::new("Vereinsheim", "room");
    inp.bookable_by = "organisations".into();
    let room = resource_with(&s, inp).await;
    let o = orgs::create_organisation(db, Actor::User(&s.admin), club("TSV"))
        .await
        .unwrap();
    let clara = citizen(&s, "clara@a.example").await;
    let outsider = citizen(&s, "otto@a.example").await;
    orgs::add_member(
        db,
        Actor::User(&s.admin),
        OrganisationId(o.id),
        "clara@a.example",
    )
    .await
    .unwrap();
    let slot = |org: Option<i64>, from: i64| ReservationInput {
        resource_id: room.id,
        title: "Vorstandssitzung".into(),
        start: at(from),
        end: at(from + 60),
        organisation_id: org,
    };
    let res = service::reserve(db, Actor::User(&clara), slot(Some(o.id), 0))
        .await
        .unwrap();
    assert_eq!(res.organisation_id, Some(o.id));
    assert_eq!(res.fee_group, "club");
    // A non-member cannot book for it, nor without an organisation.
    match service::reserve(db, Actor::User(&outsider), slot(Some(o.id), 120)).await {
        Err(ReserveError::Other(e)) => {
            assert_eq!(field_key(&e, "organisation_id"), "booking.rules.not_member")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        service::reserve(db, Actor::User(&outsider), slot(None, 120)).await,
        Err(ReserveError::Other(Error::Forbidden))
    ));
    // The member sees the organisation's booking.
    assert!(
        service::get_reservation(db, Actor::User(&clara), ReservationId(res.id))
            .await
            .is_ok()
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
        signed_in(&self.app, HOST, &self.base, email).await
    }
}

async fn get(c: &Client, url: String) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn organisation_pages() {
    let p = pages().await;
    let db = &p.s.db.conn;
    let manager = user_with(&p.s.db, p.s.f.tenant, "verwaltung@a.example", &[MANAGE]).await;
    let o = orgs::create_organisation(db, Actor::User(&p.s.admin), club("TSV Musterstadt"))
        .await
        .unwrap();
    let b = tenant(&p.s.db, "b", HOST_B).await;
    let foreign =
        orgs::create_organisation(&b.db.conn, Actor::User(&b.admin), club("Fremder Verein"))
            .await
            .unwrap();
    let clara = citizen(&p.s, "clara@a.example").await;
    orgs::add_member(
        db,
        Actor::User(&p.s.admin),
        OrganisationId(o.id),
        &clara.email,
    )
    .await
    .unwrap();
    let list = format!("{}/buchung/organisationen", p.base);
    let show = format!("{list}/{}", o.id);
    let actions = [
        "/buchung/organisationen".to_string(),
        format!("/buchung/organisationen/{}", o.id),
        format!("/buchung/organisationen/{}/mitglieder", o.id),
        format!(
            "/buchung/organisationen/{}/mitglieder/{}/entfernen",
            o.id, clara.user_id.0
        ),
    ];

    // Anonymous: to the login.
    let anon = p.app.client(&[HOST]);
    for url in [&list, &show] {
        let r = anon.get(url.as_str()).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with("/login"), "{url}");
    }
    for a in &actions {
        let r = post_form(&anon, &p.base, "/login", a, &[("name", "x")]).await;
        assert_eq!((r.status().as_u16(), location(&r)), (303, "/login".into()));
    }

    // No permission, no membership: 403 for the list and the forms, 404 for the detail.
    let clerk = p.client(&p.s.f.clerk_email).await;
    assert_eq!(get(&clerk, list.clone()).await.0, 403);
    assert_eq!(get(&clerk, show.clone()).await.0, 404);
    for a in &actions {
        let r = post_form(&clerk, &p.base, "/staff", a, &[("name", "x")]).await;
        assert_eq!(r.status(), 403, "{a}");
    }

    // A member: "Meine Organisationen", the detail with members, no edit form; forms 403.
    let member = p.client(&clara.email).await;
    let (status, body) = get(&member, list.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Meine Organisationen") && body.contains("TSV Musterstadt"));
    assert!(!body.contains("Organisation anlegen"));
    let (status, body) = get(&member, show.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Clara Club") && !body.contains("Organisation bearbeiten"));
    for a in &actions {
        let r = post_form(
            &member,
            &p.base,
            "/buchung/organisationen",
            a,
            &[("name", "x")],
        )
        .await;
        assert_eq!(r.status(), 403, "{a}");
    }

    // A manager: bad input is 422 with German messages and the input kept; then created.
    let mgr = p.client(&manager.email).await;
    let fields = [
        ("name", "Grundschule Am Park"),
        ("kind", "verein"),
        ("contact_email", "sekretariat"),
    ];
    let r = post_form(
        &mgr,
        &p.base,
        "/buchung/organisationen",
        &actions[0],
        &fields,
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Bitte wählen Sie einen Eintrag aus der Liste."),
        "{body}"
    );
    assert!(body.contains("Bitte geben Sie eine gültige E-Mail-Adresse ein"));
    assert!(
        body.contains("value=\"Grundschule Am Park\"") && body.contains("value=\"sekretariat\"")
    );
    assert_eq!(
        orgs::list_organisations(db, Actor::User(&manager))
            .await
            .unwrap()
            .len(),
        1
    );
    let fields = [
        ("name", "Grundschule Am Park"),
        ("kind", "school"),
        ("contact_email", "sekretariat@schule.example"),
        ("public_name", "on"),
    ];
    let r = post_form(
        &mgr,
        &p.base,
        "/buchung/organisationen",
        &actions[0],
        &fields,
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("notice=booking_orgs.created"));
    let (status, body) = get(&mgr, list.clone()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Grundschule Am Park") && body.contains("<caption"));

    // Members by e-mail: unknown address 422 beside the field; then added and removed.
    let show_path = format!("/buchung/organisationen/{}", o.id);
    let r = post_form(
        &mgr,
        &p.base,
        &show_path,
        &actions[2],
        &[("email", "wer@a.example")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("Zu dieser E-Mail-Adresse gibt es kein aktives Konto"));
    assert!(body.contains("value=\"wer@a.example\""));
    let r = post_form(
        &mgr,
        &p.base,
        &show_path,
        &actions[2],
        &[("email", &p.s.booker.email)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        orgs::members(db, Actor::User(&manager), OrganisationId(o.id))
            .await
            .unwrap()
            .len(),
        2
    );
    let r = post_form(&mgr, &p.base, &show_path, &actions[3], &[]).await;
    assert_eq!(r.status(), 303);
    assert!(
        orgs::my_organisations(db, Actor::User(&clara))
            .await
            .unwrap()
            .is_empty()
    );
    // Edit: an empty name is refused beside the field.
    let r = post_form(
        &mgr,
        &p.base,
        &show_path,
        &actions[1],
        &[
            ("name", ""),
            ("kind", "club"),
            ("contact_email", "a@b.example"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Bitte füllen Sie dieses Feld aus.")
    );

    // Another tenant's organisation: 404, also for posts.
    assert_eq!(get(&mgr, format!("{list}/{}", foreign.id)).await.0, 404);
    let a = format!("/buchung/organisationen/{}/mitglieder", foreign.id);
    let r = post_form(
        &mgr,
        &p.base,
        &show_path,
        &a,
        &[("email", &p.s.booker.email)],
    )
    .await;
    assert_eq!(r.status(), 404);
}
