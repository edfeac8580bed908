//! Check-in, check-out and moves as dated records. A bed is never held by two persons on the
//! same day and a person never holds two beds: both are checked inside the transaction after
//! the person and bed rows are locked (PostgreSQL) or under SQLite's single write lock, like
//! booking's reservations.

use chrono::{NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, QueryFilter, Set};

use crate::domain::{Need, Stay, needs_from};
use crate::permissions::EDIT;
use crate::store::{bed, occupancy, person, room};

pub use occupancy::Model as Occupancy;

pub const BED_TAKEN: &str = "refugees.err.bed_taken";
pub const PERSON_HOUSED: &str = "refugees.err.person_housed";
pub const ROOM_CLOSED: &str = "refugees.err.room_closed";

/// A check-in: `person_id` into `bed_id` from `from` (inclusive) until `until` (the move-out
/// day, exclusive; open-ended without).
#[derive(Debug, Clone, Copy)]
pub struct CheckIn {
    pub person_id: i64,
    pub bed_id: i64,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

fn overlapping(stay: Stay) -> Condition {
    let mut c = Condition::all().add(
        Condition::any()
            .add(occupancy::Column::EndsOn.is_null())
            .add(occupancy::Column::EndsOn.gt(stay.starts_on)),
    );
    if let Some(e) = stay.ends_on {
        c = c.add(occupancy::Column::StartsOn.lt(e));
    }
    c
}

/// Inserts one stay after checking bed, room and person, inside the caller's transaction
/// (which has locked the person and the bed). `except` is an occupancy being replaced.
pub(crate) async fn place(
    tx: &Tx<'_>,
    person_id: i64,
    bed_id: i64,
    stay: Stay,
    except: Option<i64>,
) -> Result<Occupancy> {
    let b = tx.get::<bed::Entity, _>(bed_id).await?;
    let r = tx.get::<room::Entity, _>(b.room_id).await?;
    if tx
        .get::<person::Entity, _>(person_id)
        .await?
        .anonymised_at
        .is_some()
    {
        return Err(Error::Conflict(super::persons::ANONYMISED.into()));
    }
    if let Some(f) = r.closed_from
        && stay.meets_closure(f, r.closed_until)
    {
        return Err(Error::Conflict(ROOM_CLOSED.into()));
    }
    let mut q = tx
        .find::<occupancy::Entity>()
        .filter(overlapping(stay))
        .filter(
            Condition::any()
                .add(occupancy::Column::BedId.eq(bed_id))
                .add(occupancy::Column::PersonId.eq(person_id)),
        );
    if let Some(x) = except {
        q = q.filter(occupancy::Column::Id.ne(x));
    }
    if let Some(o) = q.one(tx.conn()).await? {
        return Err(Error::Conflict(
            if o.bed_id == bed_id {
                BED_TAKEN
            } else {
                PERSON_HOUSED
            }
            .into(),
        ));
    }
    tx.insert(occupancy::ActiveModel {
        person_id: Set(person_id),
        bed_id: Set(bed_id),
        room_id: Set(r.id),
        accommodation_id: Set(b.accommodation_id),
        starts_on: Set(stay.starts_on),
        ends_on: Set(stay.ends_on),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .await
}

fn check_dates(from: NaiveDate, until: Option<NaiveDate>) -> Result<Stay> {
    if until.is_some_and(|u| u <= from) {
        return Err(FieldErrors::single("until", "refugees.err.out_before_in"));
    }
    Ok(Stay {
        starts_on: from,
        ends_on: until,
    })
}

pub async fn check_in(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    c: CheckIn,
) -> Result<Occupancy> {
    by.require(EDIT)?;
    let stay = check_dates(c.from, c.until)?;
    let tx = Tx::begin(db, tenant, by).await?;
    super::lock(tx.conn(), tenant, &[c.person_id], &[c.bed_id]).await?;
    let o = place(&tx, c.person_id, c.bed_id, stay, None).await?;
    tx.audit(
        NewEvent::new("refugees.checked_in", "refugees_person", Some(c.person_id))
            .details(serde_json::json!({ "bed_id": c.bed_id, "from": c.from, "until": c.until })),
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

/// Ends a stay on `on` (the move-out day). Refused before its check-in day, and when a
/// later end would run into someone else's stay in the bed.
pub async fn check_out(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    occupancy_id: i64,
    on: NaiveDate,
) -> Result<Occupancy> {
    by.require(EDIT)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let o = tx.get::<occupancy::Entity, _>(occupancy_id).await?;
    super::lock(tx.conn(), tenant, &[o.person_id], &[o.bed_id]).await?;
    if on <= o.starts_on {
        return Err(FieldErrors::single("until", "refugees.err.out_before_in"));
    }
    let extends = o.ends_on.is_some_and(|e| on > e);
    if extends {
        let stay = Stay {
            starts_on: o.starts_on,
            ends_on: Some(on),
        };
        let clash = tx
            .find::<occupancy::Entity>()
            .filter(overlapping(stay))
            .filter(occupancy::Column::BedId.eq(o.bed_id))
            .filter(occupancy::Column::Id.ne(o.id))
            .one(tx.conn())
            .await?;
        if clash.is_some() {
            return Err(Error::Conflict(BED_TAKEN.into()));
        }
    }
    tx.update_many::<occupancy::Entity>()
        .filter(occupancy::Column::Id.eq(o.id))
        .col_expr(occupancy::Column::EndsOn, Some(on).into())
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("refugees.checked_out", "refugees_person", Some(o.person_id))
            .details(serde_json::json!({ "occupancy_id": o.id, "on": on })),
    )
    .await?;
    tx.commit().await?;
    Ok(occupancy::Model {
        ends_on: Some(on),
        ..o
    })
}

/// The stay of a person covering day `d`.
async fn stay_on(tx: &Tx<'_>, person_id: i64, d: NaiveDate) -> Result<Option<Occupancy>> {
    Ok(tx
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::PersonId.eq(person_id))
        .filter(overlapping(Stay {
            starts_on: d,
            ends_on: d.succ_opt(),
        }))
        .one(tx.conn())
        .await?)
}

/// Moves a person into `to_bed` on day `on`: the current stay ends that day, the new one
/// starts (and ends when the old one was planned to end).
async fn move_one(tx: &Tx<'_>, person_id: i64, to_bed: i64, on: NaiveDate) -> Result<Occupancy> {
    let current = stay_on(tx, person_id, on).await?;
    let until = current.as_ref().and_then(|c| c.ends_on);
    if let Some(c) = &current {
        if c.bed_id == to_bed {
            return Err(FieldErrors::single("bed_id", "refugees.err.same_bed"));
        }
        if c.starts_on == on {
            // Moved on the day of arrival: the stay changes its bed.
            tx.delete_many::<occupancy::Entity>()
                .filter(occupancy::Column::Id.eq(c.id))
                .exec(tx.conn())
                .await?;
        } else {
            tx.update_many::<occupancy::Entity>()
                .filter(occupancy::Column::Id.eq(c.id))
                .col_expr(occupancy::Column::EndsOn, Some(on).into())
                .exec(tx.conn())
                .await?;
        }
    }
    place(
        tx,
        person_id,
        to_bed,
        Stay {
            starts_on: on,
            ends_on: until,
        },
        None,
    )
    .await
}

pub async fn move_person(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    person_id: i64,
    to_bed: i64,
    on: NaiveDate,
) -> Result<Occupancy> {
    by.require(EDIT)?;
    let tx = Tx::begin(db, tenant, by).await?;
    super::lock(tx.conn(), tenant, &[person_id], &[to_bed]).await?;
    let o = move_one(&tx, person_id, to_bed, on).await?;
    tx.audit(
        NewEvent::new("refugees.moved", "refugees_person", Some(person_id))
            .details(serde_json::json!({ "bed_id": to_bed, "on": on })),
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

/// Moves every member of a household into free beds of one room on day `on` (households move
/// together). Refused when the room has fewer beds free for good than members.
pub async fn move_household(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    household_id: i64,
    to_room: i64,
    on: NaiveDate,
) -> Result<usize> {
    by.require(EDIT)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let members: Vec<i64> = tx
        .find::<person::Entity>()
        .filter(person::Column::HouseholdId.eq(household_id))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    if members.is_empty() {
        return Err(Error::NotFound);
    }
    let r = tx.get::<room::Entity, _>(to_room).await?;
    let mut beds: Vec<i64> = tx
        .find::<bed::Entity>()
        .filter(bed::Column::RoomId.eq(r.id))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    beds.sort_unstable();
    super::lock(tx.conn(), tenant, &members, &beds).await?;
    let free =
        super::places::free_beds_in(tx.conn(), tenant, on, Some(None), Some(r.accommodation_id))
            .await?
            .into_iter()
            .filter(|b| b.room_id == r.id)
            .map(|b| b.id)
            .collect::<Vec<_>>();
    if let Some(f) = r.closed_from
        && (Stay {
            starts_on: on,
            ends_on: None,
        })
        .meets_closure(f, r.closed_until)
    {
        return Err(Error::Conflict(ROOM_CLOSED.into()));
    }
    if free.len() < members.len() {
        return Err(Error::Conflict("refugees.err.room_too_small".into()));
    }
    for (p, b) in members.iter().zip(free) {
        move_one(&tx, *p, b, on).await?;
    }
    tx.audit(
        NewEvent::new(
            "refugees.household_moved",
            "refugees_household",
            Some(household_id),
        )
        .details(serde_json::json!({ "room_id": to_room, "on": on, "members": members.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(members.len())
}

/// Whether any member needs an accessible room or the ground floor.
pub fn household_needs(needs: &[String]) -> (bool, bool) {
    let all: Vec<Need> = needs.iter().flat_map(|n| needs_from(n)).collect();
    (
        all.contains(&Need::Wheelchair),
        all.contains(&Need::GroundFloor) || all.contains(&Need::Wheelchair),
    )
}
