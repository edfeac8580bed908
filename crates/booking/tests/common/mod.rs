//! Shared set-up for the booking tests: a fresh database (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL) with the module migrated, a tenant and principals.
#![allow(dead_code)]

use chrono::{DateTime, Duration, DurationRound, Utc};
use rathaus_booking::Booking;
use rathaus_booking::service::{self, Reservation, ReservationInput, Resource, ResourceInput};
use rathaus_core::{Principal, TenantId, UserId};
use rathaus_store::Db;
use rathaus_store::uow::Actor;
use rathaus_testkit::{Fixture, PASSWORD, TestDb, tenant_fixture};
use rathaus_web::Module;

pub struct Setup {
    pub db: Db,
    /// The database's owner (holds the SQLite file); None for a second tenant in it.
    pub tdb: Option<TestDb>,
    pub f: Fixture,
    pub admin: Principal,
    /// Holds `booking.book` only.
    pub booker: Principal,
    /// Another holder of `booking.book`.
    pub other: Principal,
    /// No permission at all.
    pub clerk: Principal,
    /// The file service (in memory) of direct service calls and of `spawn_app`.
    pub files: std::sync::Arc<rathaus_store::files::FileStore>,
}

pub async fn migrated() -> TestDb {
    let tdb = TestDb::new().await;
    Booking.migrate(&tdb.db).await.expect("booking migrations");
    rathaus_core::permissions::register(rathaus_booking::permissions::PERMISSIONS);
    // The mails' texts, registered by the web app or the job at start in the server.
    rathaus_booking::register_texts();
    tdb
}

pub async fn principal(db: &Db, tenant: TenantId, user: UserId) -> Principal {
    rathaus_testkit::principal(db, tenant, user).await
}

/// A staff user holding exactly `perms` (through a role of the same name).
pub async fn user_with(db: &Db, tenant: TenantId, email: &str, perms: &[&str]) -> Principal {
    rathaus_testkit::user_with(db, tenant, email, "Vera Verein", perms).await
}

/// A tenant with an admin, a clerk without permissions and two bookers.
pub async fn tenant(db: &Db, slug: &str, host: &str) -> Setup {
    let f = tenant_fixture(db, slug, host).await;
    let admin = principal(db, f.tenant, f.admin).await;
    let clerk = principal(db, f.tenant, f.clerk).await;
    let booker = user_with(
        db,
        f.tenant,
        &format!("verein@{slug}.example"),
        &[service::BOOK],
    )
    .await;
    let other = user_with(
        db,
        f.tenant,
        &format!("andere@{slug}.example"),
        &[service::BOOK],
    )
    .await;
    Setup {
        db: db.clone(),
        tdb: None,
        f,
        admin,
        booker,
        other,
        clerk,
        files: std::sync::Arc::new(
            rathaus_store::files::FileStore::from_config(
                &rathaus_store::files::FilesConfig::Memory,
            )
            .expect("in-memory file store"),
        ),
    }
}

pub async fn setup() -> Setup {
    let tdb = migrated().await;
    let mut s = tenant(&tdb.db, "a", "rathaus.a.test").await;
    s.tdb = Some(tdb);
    s
}

/// A full hour two days ahead: in the future, inside every horizon.
pub fn base() -> DateTime<Utc> {
    (Utc::now() + Duration::days(2))
        .duration_trunc(Duration::hours(1))
        .unwrap()
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    base() + Duration::minutes(minutes)
}

pub async fn resource(s: &Setup, name: &str, kind: &str, parent: Option<i64>) -> Resource {
    let mut inp = ResourceInput::new(name, kind);
    inp.parent_id = parent;
    service::create_resource(&s.db.conn, Actor::User(&s.admin), inp)
        .await
        .expect("resource")
}

pub async fn resource_with(s: &Setup, inp: ResourceInput) -> Resource {
    service::create_resource(&s.db.conn, Actor::User(&s.admin), inp)
        .await
        .expect("resource")
}

pub fn input(resource_id: i64, from: i64, to: i64) -> ReservationInput {
    ReservationInput {
        resource_id,
        title: "Training".into(),
        start: at(from),
        end: at(to),
        organisation_id: None,
    }
}

pub async fn book(
    s: &Setup,
    who: &Principal,
    resource_id: i64,
    from: i64,
    to: i64,
) -> Result<Reservation, service::ReserveError> {
    service::reserve(&s.db.conn, Actor::User(who), input(resource_id, from, to)).await
}

/// Every reservation of the tenant (through the manager's view), any status.
pub async fn all_reservations(s: &Setup) -> Vec<Reservation> {
    let now = Utc::now();
    service::list_reservations(
        &s.db.conn,
        Actor::User(&s.admin),
        None,
        now - Duration::days(1),
        now + Duration::days(365),
    )
    .await
    .unwrap()
}

/// A resource whose bookings need approval.
pub async fn approval_room(s: &Setup, name: &str) -> Resource {
    let mut inp = ResourceInput::new(name, "room");
    inp.requires_approval = true;
    resource_with(s, inp).await
}

/// A request written straight into the table, past `reserve`'s overlap check: how a request
/// overlapping a confirmed booking can exist (e.g. pending requests that do not block).
pub async fn insert_request(
    s: &Setup,
    who: &Principal,
    resource_id: i64,
    from: i64,
    to: i64,
) -> Reservation {
    use rathaus_booking::store::entity::reservation;
    use sea_orm::{ActiveModelTrait, Set};
    reservation::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        resource_id: Set(resource_id),
        title: Set("Überschneidende Anfrage".into()),
        starts_at: Set(at(from)),
        ends_at: Set(at(to)),
        status: Set(service::REQUESTED.into()),
        booked_by: Set(Some(who.user_id.0)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .expect("request")
}

/// The app with the booking module mounted as the binary mounts it, serving the test database
/// of `s` on port 0 (takes `s.tdb`, which the app then owns and drops).
pub async fn spawn_app(s: &mut Setup, cfg: rathaus_web::WebConfig) -> rathaus_testkit::TestApp {
    let modules: Vec<std::sync::Arc<dyn Module>> = vec![std::sync::Arc::new(Booking)];
    let mut st = rathaus_web::AppState::with_modules(s.db.clone(), cfg, modules);
    st.files = s.files.clone();
    rathaus_testkit::TestApp::spawn_state(s.tdb.take().expect("a fresh test database"), st).await
}

/// A client of `host` signed in as `email` (test password).
pub async fn signed_in(
    app: &rathaus_testkit::TestApp,
    host: &str,
    base: &str,
    email: &str,
) -> reqwest::Client {
    let c = app.client(&[host]);
    let r = rathaus_testkit::login(&c, base, email, PASSWORD).await;
    assert_eq!(r.status(), 303, "login of {email}");
    c
}
