//! Shared set-up for the refugees tests: a fresh database (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL) with the module migrated, a tenant and principals.
#![allow(dead_code)]

pub mod xlsx;

use chrono::NaiveDate;
use rathaus_core::Principal;
use rathaus_refugees::Refugees;
use rathaus_refugees::permissions::*;
use rathaus_refugees::service::persons::{PersonInput, create_person};
use rathaus_refugees::service::places::{
    AccommodationInput, Room, RoomInput, add_room, create_accommodation,
};
use rathaus_store::Db;
use rathaus_store::uow::Actor;
use rathaus_testkit::{Fixture, TestDb, tenant_fixture};
use rathaus_web::Module;

pub struct Setup {
    pub db: Db,
    pub tdb: Option<TestDb>,
    pub f: Fixture,
    pub admin: Principal,
    /// `refugees.edit` and `refugees.read_basic`.
    pub clerk: Principal,
    pub other_clerk: Principal,
    /// `refugees.read_basic` only.
    pub caretaker: Principal,
    /// `refugees.read_social`.
    pub social: Principal,
    /// `refugees.read_residence`.
    pub office: Principal,
    /// No permission.
    pub nobody: Principal,
}

pub async fn migrated() -> TestDb {
    let tdb = TestDb::new().await;
    Refugees
        .migrate(&tdb.db)
        .await
        .expect("refugees migrations");
    rathaus_core::permissions::register(PERMISSIONS);
    rathaus_refugees::register_texts();
    tdb
}

pub async fn tenant(db: &Db, slug: &str, host: &str) -> Setup {
    let f = tenant_fixture(db, slug, host).await;
    let admin = rathaus_testkit::principal(db, f.tenant, f.admin).await;
    let nobody = rathaus_testkit::principal(db, f.tenant, f.clerk).await;
    let u = |e: &str, p: &'static [&'static str]| {
        let email = format!("{e}@{slug}.example");
        let db = db.clone();
        let t = f.tenant;
        async move { rathaus_testkit::user_with(&db, t, &email, "Test Person", p).await }
    };
    Setup {
        clerk: u("clerk1", &[EDIT, READ_BASIC]).await,
        other_clerk: u("clerk2", &[EDIT, READ_BASIC]).await,
        caretaker: u("hausmeister", &[READ_BASIC]).await,
        social: u("sozial", &[READ_SOCIAL]).await,
        office: u("abh", &[READ_RESIDENCE]).await,
        db: db.clone(),
        tdb: None,
        f,
        admin,
        nobody,
    }
}

pub async fn setup() -> Setup {
    let tdb = migrated().await;
    let mut s = tenant(&tdb.db, "a", "a.refugees.test").await;
    s.tdb = Some(tdb);
    s
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

pub async fn accommodation(s: &Setup, name: &str) -> i64 {
    create_accommodation(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        AccommodationInput {
            name: name.into(),
            kind: "municipal".into(),
            address: "Hauptstraße 1".into(),
            ..Default::default()
        },
    )
    .await
    .expect("accommodation")
    .id
}

pub async fn room(s: &Setup, acc: i64, name: &str, beds: i32) -> Room {
    add_room(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        RoomInput {
            accommodation_id: acc,
            unit: String::new(),
            name: name.into(),
            capacity: beds,
            accessible: false,
            ground_floor: false,
        },
    )
    .await
    .expect("room")
}

pub async fn person(s: &Setup, surname: &str) -> i64 {
    create_person(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        PersonInput {
            surname: Some(surname.into()),
            given_names: Some("Amir".into()),
            birth_date: Some(Some(d("1990-05-01"))),
            residence_status: Some("duldung".into()),
            permit_valid_until: Some(Some(d("2027-01-31"))),
            notes: Some("Braucht Dolmetscher".into()),
            ..Default::default()
        },
    )
    .await
    .expect("person")
    .id
}

/// The bed ids of a room, by number.
pub async fn beds(s: &Setup, room_id: i64) -> Vec<i64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    rathaus_refugees::store::bed::Entity::find()
        .filter(rathaus_refugees::store::bed::Column::RoomId.eq(room_id))
        .order_by_asc(rathaus_refugees::store::bed::Column::Number)
        .all(&s.db.conn)
        .await
        .expect("beds")
        .into_iter()
        .map(|b| b.id)
        .collect()
}
