//! Accommodations, units, rooms and beds; free beds and occupancy on any day.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::domain::{AccommodationKind, Coded};
use crate::permissions::EDIT;
use crate::store::{accommodation, bed, occupancy, room, unit};

pub use accommodation::Model as Accommodation;
pub use room::Model as Room;

/// A new accommodation.
#[derive(Debug, Clone, Default)]
pub struct AccommodationInput {
    pub name: String,
    /// `municipal`, `rented_flat`, `container_site` or `emergency_shelter`.
    pub kind: String,
    pub address: String,
    pub landlord: String,
    pub rent_cents: Option<i64>,
    pub accessible: bool,
    pub kitchen: bool,
}

pub async fn create_accommodation(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    inp: AccommodationInput,
) -> Result<Accommodation> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, 200);
    if AccommodationKind::parse(&inp.kind).is_none() {
        errs.add("kind", "refugees.err.kind");
    }
    let address = errs.optional_text("address", &inp.address, 300);
    let landlord = errs.optional_text("landlord", &inp.landlord, 200);
    if inp.rent_cents.is_some_and(|r| r < 0) {
        errs.add("rent_cents", "refugees.err.rent");
    }
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    if tx
        .find::<accommodation::Entity>()
        .filter(accommodation::Column::Name.eq(name.clone()))
        .one(tx.conn())
        .await?
        .is_some()
    {
        return Err(FieldErrors::single("name", "refugees.err.name_taken"));
    }
    let a = tx
        .insert(accommodation::ActiveModel {
            name: Set(name),
            kind: Set(inp.kind.trim().to_string()),
            address: Set(address),
            landlord: Set(landlord),
            rent_cents: Set(inp.rent_cents),
            accessible: Set(inp.accessible),
            kitchen: Set(inp.kitchen),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    super::search::index_later(
        &tx,
        super::search::ACCOMMODATION,
        &[a.id],
        rathaus_search::Op::Upsert,
    )
    .await?;
    tx.audit(NewEvent::new(
        "refugees.accommodation_created",
        "refugees_accommodation",
        Some(a.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(a)
}

/// A new room with its beds (numbered 1..=capacity).
#[derive(Debug, Clone, Default)]
pub struct RoomInput {
    pub accommodation_id: i64,
    /// The flat or house within the accommodation, created when new.
    pub unit: String,
    pub name: String,
    pub capacity: i32,
    pub accessible: bool,
    pub ground_floor: bool,
}

pub async fn add_room(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    inp: RoomInput,
) -> Result<Room> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, 200);
    let unit_name = errs.optional_text("unit", &inp.unit, 200);
    if !(1..=500).contains(&inp.capacity) {
        errs.add_arg("capacity", "refugees.err.capacity", Some(500));
    }
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    let acc = tx
        .get::<accommodation::Entity, _>(inp.accommodation_id)
        .await?;
    let r = insert_room(
        &tx,
        &acc,
        &unit_name,
        &name,
        inp.capacity,
        inp.accessible,
        inp.ground_floor,
    )
    .await?;
    tx.audit(NewEvent::new(
        "refugees.room_created",
        "refugees_room",
        Some(r.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Inserts a room (and its unit when new) with its beds, inside the caller's transaction.
pub(crate) async fn insert_room(
    tx: &Tx<'_>,
    acc: &Accommodation,
    unit_name: &str,
    name: &str,
    capacity: i32,
    accessible: bool,
    ground_floor: bool,
) -> Result<Room> {
    let unit_id = if unit_name.is_empty() {
        None
    } else {
        let found = tx
            .find::<unit::Entity>()
            .filter(unit::Column::AccommodationId.eq(acc.id))
            .filter(unit::Column::Name.eq(unit_name))
            .one(tx.conn())
            .await?;
        Some(match found {
            Some(u) => u.id,
            None => {
                tx.insert(unit::ActiveModel {
                    accommodation_id: Set(acc.id),
                    name: Set(unit_name.to_string()),
                    ..Default::default()
                })
                .await?
                .id
            }
        })
    };
    let r = tx
        .insert(room::ActiveModel {
            accommodation_id: Set(acc.id),
            unit_id: Set(unit_id),
            name: Set(name.to_string()),
            capacity: Set(capacity),
            accessible: Set(accessible),
            ground_floor: Set(ground_floor),
            closed_from: Set(None),
            closed_until: Set(None),
            ..Default::default()
        })
        .await?;
    let beds: Vec<bed::ActiveModel> = (1..=capacity)
        .map(|n| bed::ActiveModel {
            tenant_id: Set(tx.tenant().0),
            accommodation_id: Set(acc.id),
            room_id: Set(r.id),
            number: Set(n),
            ..Default::default()
        })
        .collect();
    if !beds.is_empty() {
        bed::Entity::insert_many(beds).exec(tx.conn()).await?;
    }
    Ok(r)
}

/// Closes a room for repair from `from` to `until` (inclusive; open-ended without). Refused
/// while someone is housed there on one of those days.
pub async fn close_room(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    room_id: i64,
    from: NaiveDate,
    until: Option<NaiveDate>,
) -> Result<Room> {
    by.require(EDIT)?;
    if until.is_some_and(|u| u < from) {
        return Err(FieldErrors::single(
            "until",
            "refugees.err.until_before_from",
        ));
    }
    let tx = Tx::begin(db, tenant, by).await?;
    let r = tx.get::<room::Entity, _>(room_id).await?;
    let beds: Vec<i64> = tx
        .find::<bed::Entity>()
        .filter(bed::Column::RoomId.eq(r.id))
        .select_only()
        .column(bed::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await?;
    super::lock(tx.conn(), tenant, &[], &beds).await?;
    let mut q = tx
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::RoomId.eq(r.id))
        .filter(
            Condition::any()
                .add(occupancy::Column::EndsOn.is_null())
                .add(occupancy::Column::EndsOn.gt(from)),
        );
    if let Some(u) = until {
        q = q.filter(occupancy::Column::StartsOn.lte(u));
    }
    if q.one(tx.conn()).await?.is_some() {
        return Err(Error::Conflict("refugees.err.room_occupied".into()));
    }
    tx.update_many::<room::Entity>()
        .filter(room::Column::Id.eq(r.id))
        .col_expr(room::Column::ClosedFrom, from.into())
        .col_expr(room::Column::ClosedUntil, until.into())
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("refugees.room_closed", "refugees_room", Some(r.id))
            .details(serde_json::json!({ "from": from, "until": until })),
    )
    .await?;
    tx.commit().await?;
    Ok(room::Model {
        closed_from: Some(from),
        closed_until: until,
        ..r
    })
}

/// Whether a room is closed on day `d`.
pub fn closed_on(r: &Room, d: NaiveDate) -> bool {
    r.closed_from
        .is_some_and(|f| f <= d && r.closed_until.is_none_or(|u| d <= u))
}

/// One accommodation's figures on a day.
#[derive(Debug, Clone)]
pub struct AccommodationDay {
    pub accommodation: Accommodation,
    /// Beds in rooms open that day.
    pub capacity: i64,
    pub occupied: i64,
    pub free: i64,
}

/// Occupied beds per accommodation on each of `days`: one grouped pass over the stays per
/// two days, a sum per day.
async fn occupied_per_accommodation<C: ConnectionTrait>(
    conn: &C,
    scope_tenant: TenantId,
    days: &[NaiveDate],
) -> Result<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for (n, pair) in days.chunks(2).enumerate() {
        let (first, second) = (pair[0], *pair.last().unwrap_or(&pair[0]));
        let sum = |d: NaiveDate| {
            let covers = Expr::case(covering(d), Expr::val(1i64)).finally(Expr::val(0i64));
            Func::cast_as(Func::sum(covers), Alias::new("bigint"))
        };
        let rows: Vec<(i64, i64, i64)> =
            rathaus_store::uow::scoped::<occupancy::Entity>(scope_tenant)
                .select_only()
                .column(occupancy::Column::AccommodationId)
                .expr_as(sum(first), "a")
                .expr_as(sum(second), "b")
                .filter(occupancy::Column::StartsOn.lte(first.max(second)))
                .filter(
                    Condition::any()
                        .add(occupancy::Column::EndsOn.is_null())
                        .add(occupancy::Column::EndsOn.gt(first.min(second))),
                )
                .group_by(occupancy::Column::AccommodationId)
                .into_tuple()
                .all(conn)
                .await?;
        for (acc, a, b) in rows {
            let v = out.entry(acc).or_default();
            v.resize(n * 2, 0);
            v.push(a);
            if pair.len() == 2 {
                v.push(b);
            }
        }
    }
    Ok(out)
}

/// A stay covers day `d`: it began on or before and has not ended by then.
pub(crate) fn covering(d: NaiveDate) -> Condition {
    Condition::all()
        .add(occupancy::Column::StartsOn.lte(d))
        .add(
            Condition::any()
                .add(occupancy::Column::EndsOn.is_null())
                .add(occupancy::Column::EndsOn.gt(d)),
        )
}

/// Every accommodation with capacity, occupied and free beds on day `d`.
pub async fn accommodations_on(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    d: NaiveDate,
) -> Result<Vec<AccommodationDay>> {
    Ok(accommodations_on_days(db, by, tenant, &[d])
        .await?
        .pop()
        .unwrap_or_default())
}

/// `accommodations_on` for several days at once (the dashboard's today and chosen day): the
/// places are read once and the stays in one pass.
pub async fn accommodations_on_days(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    days: &[NaiveDate],
) -> Result<Vec<Vec<AccommodationDay>>> {
    super::require_read(by)?;
    by.require_tenant(tenant)?;
    let scope = Scope::new(db, tenant, by)?;
    let accs = scope
        .find::<accommodation::Entity>()
        .order_by_asc(accommodation::Column::Name)
        .all(db)
        .await?;
    let rooms = scope.find::<room::Entity>().all(db).await?;
    let beds: Vec<(i64, i64)> = scope
        .find::<bed::Entity>()
        .select_only()
        .column(bed::Column::AccommodationId)
        .column(bed::Column::RoomId)
        .into_tuple()
        .all(db)
        .await?;
    let occupied = occupied_per_accommodation(db, tenant, days).await?;
    Ok(days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let closed: HashSet<i64> = rooms
                .iter()
                .filter(|r| closed_on(r, *d))
                .map(|r| r.id)
                .collect();
            let mut capacity: HashMap<i64, i64> = HashMap::new();
            for (acc, room) in &beds {
                if !closed.contains(room) {
                    *capacity.entry(*acc).or_default() += 1;
                }
            }
            accs.iter()
                .map(|a| {
                    let cap = capacity.get(&a.id).copied().unwrap_or(0);
                    let occ = occupied
                        .get(&a.id)
                        .and_then(|n| n.get(i))
                        .copied()
                        .unwrap_or(0);
                    AccommodationDay {
                        capacity: cap,
                        occupied: occ,
                        free: (cap - occ).max(0),
                        accommodation: a.clone(),
                    }
                })
                .collect()
        })
        .collect())
}

/// A bed free on a day, with where it is.
#[derive(Debug, Clone)]
pub struct FreeBed {
    pub id: i64,
    pub number: i32,
    pub room_id: i64,
    pub room: String,
    pub accommodation_id: i64,
    pub accommodation: String,
}

/// The beds free on day `d` (in rooms open that day), optionally of one accommodation.
pub async fn free_beds(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    d: NaiveDate,
    accommodation_id: Option<i64>,
) -> Result<Vec<FreeBed>> {
    super::require_read(by)?;
    free_beds_in(db, tenant, d, None, accommodation_id).await
}

/// Free beds on day `d` (or for the whole stay `[d, until)` when given), without checks.
pub(crate) async fn free_beds_in<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    d: NaiveDate,
    until: Option<Option<NaiveDate>>,
    accommodation_id: Option<i64>,
) -> Result<Vec<FreeBed>> {
    let mut rq = rathaus_store::uow::scoped::<room::Entity>(tenant);
    let mut bq = rathaus_store::uow::scoped::<bed::Entity>(tenant);
    let mut oq = rathaus_store::uow::scoped::<occupancy::Entity>(tenant)
        .select_only()
        .column(occupancy::Column::BedId)
        .filter(
            Condition::any()
                .add(occupancy::Column::EndsOn.is_null())
                .add(occupancy::Column::EndsOn.gt(d)),
        );
    oq = match until {
        Some(Some(u)) => oq.filter(occupancy::Column::StartsOn.lt(u)),
        Some(None) => oq,
        None => oq.filter(occupancy::Column::StartsOn.lte(d)),
    };
    if let Some(a) = accommodation_id {
        rq = rq.filter(room::Column::AccommodationId.eq(a));
        bq = bq.filter(bed::Column::AccommodationId.eq(a));
        oq = oq.filter(occupancy::Column::AccommodationId.eq(a));
    }
    let rooms: BTreeMap<i64, Room> = rq.all(conn).await?.into_iter().map(|r| (r.id, r)).collect();
    let accs: HashMap<i64, String> = rathaus_store::uow::scoped::<accommodation::Entity>(tenant)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let taken: HashSet<i64> = oq
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let stay = crate::domain::Stay {
        starts_on: d,
        ends_on: until.unwrap_or(d.succ_opt()),
    };
    let beds = bq
        .order_by_asc(bed::Column::RoomId)
        .order_by_asc(bed::Column::Number)
        .all(conn)
        .await?;
    Ok(beds
        .into_iter()
        .filter(|b| !taken.contains(&b.id))
        .filter_map(|b| {
            let r = rooms.get(&b.room_id)?;
            if r.closed_from
                .is_some_and(|f| stay.meets_closure(f, r.closed_until))
            {
                return None;
            }
            Some(FreeBed {
                id: b.id,
                number: b.number,
                room_id: r.id,
                room: r.name.clone(),
                accommodation_id: b.accommodation_id,
                accommodation: accs.get(&b.accommodation_id).cloned().unwrap_or_default(),
            })
        })
        .collect())
}

/// A room with its beds and who holds each on a day.
#[derive(Debug, Clone)]
pub struct RoomView {
    pub room: Room,
    pub unit: String,
    pub closed: bool,
    /// (bed id, number, occupant person id)
    pub beds: Vec<(i64, i32, Option<i64>)>,
}

/// An accommodation's rooms and beds with their occupants on day `d`.
pub async fn accommodation_rooms(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    d: NaiveDate,
) -> Result<(Accommodation, Vec<RoomView>)> {
    super::require_read(by)?;
    let scope = Scope::new(db, tenant, by)?;
    let acc = scope.get::<accommodation::Entity, _>(id).await?;
    let units: HashMap<i64, String> = scope
        .find::<unit::Entity>()
        .filter(unit::Column::AccommodationId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let rooms = scope
        .find::<room::Entity>()
        .filter(room::Column::AccommodationId.eq(id))
        .order_by_asc(room::Column::Name)
        .all(db)
        .await?;
    let beds = scope
        .find::<bed::Entity>()
        .filter(bed::Column::AccommodationId.eq(id))
        .order_by_asc(bed::Column::Number)
        .all(db)
        .await?;
    let holders: HashMap<i64, i64> = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::AccommodationId.eq(id))
        .filter(occupancy::Column::StartsOn.lte(d))
        .filter(
            Condition::any()
                .add(occupancy::Column::EndsOn.is_null())
                .add(occupancy::Column::EndsOn.gt(d)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.bed_id, o.person_id))
        .collect();
    let mut out: Vec<RoomView> = rooms
        .into_iter()
        .map(|r| RoomView {
            unit: r
                .unit_id
                .and_then(|u| units.get(&u).cloned())
                .unwrap_or_default(),
            closed: closed_on(&r, d),
            beds: Vec::new(),
            room: r,
        })
        .collect();
    for b in beds {
        if let Some(rv) = out.iter_mut().find(|rv| rv.room.id == b.room_id) {
            rv.beds.push((b.id, b.number, holders.get(&b.id).copied()));
        }
    }
    out.sort_by(|a, b| (&a.unit, &a.room.name).cmp(&(&b.unit, &b.room.name)));
    Ok((acc, out))
}

/// Rooms where a household of `size` with these needs fits from day `d` on: open, enough
/// beds free for good, accessible or on the ground floor when needed.
pub async fn rooms_fitting(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    d: NaiveDate,
    size: usize,
    needs_access: bool,
    needs_ground: bool,
) -> Result<Vec<(FreeBed, usize)>> {
    super::require_read(by)?;
    let free = free_beds_in(db, tenant, d, Some(None), None).await?;
    let rooms: HashMap<i64, Room> = Scope::new(db, tenant, by)?
        .find::<room::Entity>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut per_room: BTreeMap<i64, (FreeBed, usize)> = BTreeMap::new();
    for b in free {
        per_room
            .entry(b.room_id)
            .and_modify(|e| e.1 += 1)
            .or_insert((b, 1));
    }
    Ok(per_room
        .into_values()
        .filter(|(b, n)| {
            let r = rooms.get(&b.room_id);
            *n >= size
                && (!needs_access || r.is_some_and(|r| r.accessible))
                && (!needs_ground || r.is_some_and(|r| r.ground_floor || r.accessible))
        })
        .collect())
}
