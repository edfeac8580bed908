//! Demo data for `rathaus serve --demo`: three accommodations with rooms and beds, persons in
//! households with past, current and planned stays, one room closed for repair. Written
//! through the services as the demo's administrator (audited like any other change).

use chrono::Duration;
use rathaus_core::Principal;
use rathaus_store::Db;
use rathaus_store::uow::{Actor, Scope};
use sea_orm::PaginatorTrait;

use crate::service::occupancy::{CheckIn, check_in};
use crate::service::persons::{PersonInput, create_household, create_person};
use crate::service::places::{
    AccommodationInput, RoomInput, add_room, close_room, create_accommodation,
};
use crate::service::today;
use crate::store::{accommodation, bed};

#[derive(serde::Deserialize)]
struct Data {
    accommodations: Vec<Acc>,
    people: Vec<P>,
}

#[derive(serde::Deserialize)]
struct Acc {
    name: String,
    kind: String,
    address: String,
}

#[derive(serde::Deserialize)]
struct P {
    surname: String,
    given: String,
    born: toml::value::Datetime,
    sex: String,
    nationality: String,
    status: String,
    valid_days: Option<i64>,
    #[serde(default)]
    needs: Vec<String>,
}

fn born(d: &toml::value::Datetime) -> Option<chrono::NaiveDate> {
    d.date.and_then(|x| {
        chrono::NaiveDate::from_ymd_opt(i32::from(x.year), u32::from(x.month), u32::from(x.day))
    })
}

pub async fn demo(db: &Db, admin: &Principal) -> anyhow::Result<()> {
    let tenant = admin.tenant_id;
    let by = Actor::User(admin);
    let conn = &db.conn;
    // Once per tenant.
    if Scope::new(conn, tenant, by)?
        .find::<accommodation::Entity>()
        .count(conn)
        .await?
        > 0
    {
        return Ok(());
    }
    let data: Data = toml::from_str(include_str!("demo.toml"))?;
    let t = today();
    let mut accs = Vec::new();
    for a in &data.accommodations {
        let (name, kind, addr) = (a.name.as_str(), a.kind.as_str(), a.address.as_str());
        let a = create_accommodation(
            conn,
            by,
            tenant,
            AccommodationInput {
                name: name.into(),
                kind: kind.into(),
                address: addr.into(),
                landlord: if kind == "rented_flat" {
                    "Wohnbau GmbH".into()
                } else {
                    String::new()
                },
                rent_cents: (kind == "rented_flat").then_some(89_000),
                accessible: kind == "municipal",
                kitchen: true,
            },
        )
        .await?;
        accs.push(a.id);
    }
    let mut rooms = Vec::new();
    for (acc, unit, name, cap, access) in [
        (accs[0], "", "EG 01", 3, true),
        (accs[0], "", "EG 02", 2, true),
        (accs[0], "", "OG 11", 4, false),
        (accs[1], "Modul A", "A1", 2, false),
        (accs[1], "Modul A", "A2", 2, false),
        (accs[2], "Whg. 3", "Zimmer 1", 2, false),
        (accs[0], "", "EG 03", 4, true),
    ] {
        let r = add_room(
            conn,
            by,
            tenant,
            RoomInput {
                accommodation_id: acc,
                unit: unit.into(),
                name: name.into(),
                capacity: cap,
                accessible: access,
                ground_floor: access,
            },
        )
        .await?;
        rooms.push(r.id);
    }
    // Room A2 is under repair for the next two weeks.
    close_room(conn, by, tenant, rooms[4], t, Some(t + Duration::days(14))).await?;
    let mut ids = Vec::new();
    for p in &data.people {
        let m = create_person(
            conn,
            by,
            tenant,
            PersonInput {
                surname: Some(p.surname.clone()),
                given_names: Some(p.given.clone()),
                birth_date: Some(born(&p.born)),
                sex: Some(p.sex.clone()),
                nationality: Some(p.nationality.clone()),
                languages: Some(String::new()),
                residence_status: Some(p.status.clone()),
                permit_valid_until: Some(p.valid_days.map(|d| t + Duration::days(d))),
                needs: Some(p.needs.clone()),
                allocation_date: Some(Some(t - Duration::days(200))),
                ..Default::default()
            },
        )
        .await?;
        ids.push(m.id);
    }
    create_household(conn, by, tenant, "BG-2024-017", &ids[0..3]).await?;
    create_household(conn, by, tenant, "BG-2025-003", &ids[3..5]).await?;
    let beds_of = |room: i64| async move {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
        Scope::new(conn, tenant, by)?
            .find::<bed::Entity>()
            .filter(bed::Column::RoomId.eq(room))
            .order_by_asc(bed::Column::Number)
            .all(conn)
            .await
            .map(|v| v.into_iter().map(|b| b.id).collect::<Vec<_>>())
            .map_err(anyhow::Error::from)
    };
    let eg01 = beds_of(rooms[0]).await?;
    let eg02 = beds_of(rooms[1]).await?;
    let og11 = beds_of(rooms[2]).await?;
    let a1 = beds_of(rooms[3]).await?;
    let flat = beds_of(rooms[5]).await?;
    let stays = [
        (ids[0], eg01[0], -300, None),
        (ids[1], eg01[1], -300, None),
        (ids[2], eg01[2], -100, None),
        (ids[3], eg02[0], -150, None),
        (ids[4], eg02[1], -150, None),
        // Reza lived in the container first, then moved to the flat.
        (ids[5], a1[0], -700, Some(-200)),
        (ids[5], flat[0], -200, Some(20)),
        (ids[6], og11[0], -60, None),
        // Sami arrives next week.
        (ids[7], og11[1], 7, None),
    ];
    for (person, bed, from, until) in stays {
        check_in(
            conn,
            by,
            tenant,
            CheckIn {
                person_id: person,
                bed_id: bed,
                from: t + Duration::days(from),
                until: until.map(|u: i64| t + Duration::days(u)),
            },
        )
        .await?;
    }
    Ok(())
}
