//! Views on the bookings (issue 4, item 3 and 12): a resource's day and month, the occupancy
//! grid across resources, "Freien Termin finden", and the public occupancy pages under
//! /belegung (busy times only, no titles or names).
//!
//! Every query here is set-based: one query for the resources shown, one for the halls and
//! parts that block them, one for all their reservations in the window (and one for
//! blackouts in the free-slot search), never one query per resource.

use crate::domain::ResourceId;
pub use crate::domain::time::midnight_utc;
use crate::service::rules;
use crate::service::{self, BOOK, MANAGE, MAX_MINUTES, Reservation, Resource};
use crate::service::{may, person};
use crate::store::entity::{blackout, organisation, reservation, resource};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::db_err;
use rathaus_store::uow::Actor;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, BTreeSet};

/// Resources listed at most by the free-slot search.
pub const FREE_LIMIT: usize = 200;

// ------------------------------------------------------------------ queries

/// What the grid and the free-slot search are narrowed to. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// One of `service::KINDS`.
    pub kind: Option<String>,
    /// Part of the address, any case.
    pub place: Option<String>,
    pub min_capacity: Option<i32>,
    /// Page of the grid, from 0.
    pub page: usize,
    /// Resources per page of the grid.
    pub page_size: crate::domain::GridPageSize,
}

/// A busy block of a resource, as the views show it: no title, no booker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub reservation_id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `requested` (tentative) or `confirmed`.
    pub status: String,
    /// The hall or hall part whose reservation blocks this resource; None for its own.
    pub via: Option<i64>,
    pub organisation_id: Option<i64>,
}

pub struct GridRow {
    pub resource: Resource,
    /// Busy blocks per day, Monday to Sunday.
    pub days: Vec<Vec<Block>>,
}

pub struct Grid {
    pub monday: NaiveDate,
    pub rows: Vec<GridRow>,
    /// Resources matching the filter, on all pages.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    /// Names of the halls and parts named in `Block::via`.
    pub names: BTreeMap<i64, String>,
}

/// Whether `who` sees every active resource (staff) or only those open to them.
pub fn sees_all(by: Actor<'_>) -> bool {
    may(by, BOOK) || may(by, MANAGE)
}

/// The active resources `who` may see that match `f`, by name (all pages).
pub async fn matching(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    f: &Filter,
) -> Result<Vec<Resource>> {
    let who = person(by)?;
    let mut q = rathaus_store::uow::scoped::<resource::Entity>(who.tenant_id)
        .filter(resource::Column::Active.eq(true));
    if let Some(k) = &f.kind {
        q = q.filter(resource::Column::Kind.eq(k.as_str()));
    }
    if let Some(c) = f.min_capacity {
        q = q.filter(resource::Column::Capacity.gte(c));
    }
    let all = q
        .order_by_asc(resource::Column::Name)
        .order_by_asc(resource::Column::Id)
        .all(conn)
        .await?;
    let member = if sees_all(by) {
        true
    } else {
        !rules::organisations_of(conn, by).await?.is_empty()
    };
    // The place filter runs here, not as SQL LIKE: the same case folding (umlauts too) on
    // both backends, over at most a few hundred rows.
    let place = f.place.as_deref().map(str::to_lowercase);
    Ok(all
        .into_iter()
        .filter(|r| rules::may_see(by, r, member))
        .filter(|r| {
            place
                .as_deref()
                .is_none_or(|p| r.address.to_lowercase().contains(p))
        })
        .collect())
}

/// The halls of the parts and the parts of the halls in `shown` that are not in it: their
/// reservations block the shown resources too. One query.
async fn related(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    shown: &[Resource],
) -> Result<Vec<Resource>> {
    let halls: Vec<i64> = shown
        .iter()
        .filter(|r| r.kind == service::HALL)
        .map(|r| r.id)
        .collect();
    let parents: Vec<i64> = shown.iter().filter_map(|r| r.parent_id).collect();
    if halls.is_empty() && parents.is_empty() {
        return Ok(vec![]);
    }
    let have: BTreeSet<i64> = shown.iter().map(|r| r.id).collect();
    let found = rathaus_store::uow::scoped::<resource::Entity>(tenant)
        .filter(
            Condition::any()
                .add(resource::Column::ParentId.is_in(halls))
                .add(resource::Column::Id.is_in(parents)),
        )
        .all(conn)
        .await?;
    Ok(found
        .into_iter()
        .filter(|r| !have.contains(&r.id))
        .collect())
}

/// Reservations of `ids` in one of `statuses` touching [from, to). One query over the
/// `(tenant_id, resource_id, starts_at)` index.
pub async fn reservations_in(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    ids: Vec<i64>,
    statuses: &[&str],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Reservation>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    rathaus_store::uow::scoped::<reservation::Entity>(tenant)
        .filter(reservation::Column::ResourceId.is_in(ids))
        .filter(reservation::Column::Status.is_in(statuses.iter().copied()))
        .filter(reservation::Column::StartsAt.lt(to))
        // No reservation is longer than MAX_MINUTES: bounds the index range scanned.
        .filter(reservation::Column::StartsAt.gt(from - Duration::minutes(i64::from(MAX_MINUTES))))
        .filter(reservation::Column::EndsAt.gt(from))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// For each resource of `shown`, the ids whose reservations block it: itself, its hall, its
/// parts (sibling parts do not block each other), as in `service::blocking_set`.
fn blockers(shown: &[Resource], known: &[&Resource]) -> BTreeMap<i64, Vec<i64>> {
    shown
        .iter()
        .map(|r| {
            let mut ids = vec![r.id];
            ids.extend(r.parent_id);
            if r.kind == service::HALL {
                ids.extend(
                    known
                        .iter()
                        .filter(|x| x.parent_id == Some(r.id))
                        .map(|x| x.id),
                );
            }
            (r.id, ids)
        })
        .collect()
}

/// The busy blocks of each resource in `shown` within [from, to), own and via hall or part.
pub async fn blocks_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    shown: &[Resource],
    statuses: &[&str],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(BTreeMap<i64, Vec<Block>>, BTreeMap<i64, String>)> {
    let rel = related(conn, tenant, shown).await?;
    let known: Vec<&Resource> = shown.iter().chain(rel.iter()).collect();
    let names = known.iter().map(|r| (r.id, r.name.clone())).collect();
    let ids = known.iter().map(|r| r.id).collect();
    let found = reservations_in(conn, tenant, ids, statuses, from, to).await?;
    let mut by_resource: BTreeMap<i64, Vec<&Reservation>> = BTreeMap::new();
    for x in &found {
        by_resource.entry(x.resource_id).or_default().push(x);
    }
    let out = blockers(shown, &known)
        .into_iter()
        .map(|(id, set)| {
            let mut blocks: Vec<Block> = set
                .iter()
                .flat_map(|b| by_resource.get(b).into_iter().flatten())
                .map(|x| Block {
                    reservation_id: x.id,
                    start: x.starts_at,
                    end: x.ends_at,
                    status: x.status.clone(),
                    via: (x.resource_id != id).then_some(x.resource_id),
                    organisation_id: x.organisation_id,
                })
                .collect();
            blocks.sort_by_key(|b| (b.start, b.reservation_id));
            (id, blocks)
        })
        .collect();
    Ok((out, names))
}

/// Splits blocks into the seven local days from `monday` (a block across midnight is listed
/// on each day it touches).
pub fn by_day(blocks: &[Block], first: NaiveDate, days: i64) -> Vec<Vec<Block>> {
    (0..days)
        .map(|i| {
            let d = first + Duration::days(i);
            let (lo, hi) = (midnight_utc(d), midnight_utc(d + Duration::days(1)));
            blocks
                .iter()
                .filter(|b| b.start < hi && b.end > lo)
                .cloned()
                .collect()
        })
        .collect()
}

/// The occupancy grid of one week (from local Monday `week_start`): one page of the
/// resources matching `filter`, each with its busy blocks (requested and confirmed) per day.
/// Four queries whatever the page size: resources, organisations of a non-staff viewer,
/// halls/parts, reservations.
pub async fn grid(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    filter: &Filter,
    week_start: NaiveDate,
) -> Result<Grid> {
    let who = person(by)?;
    let all = matching(conn, by, filter).await?;
    let total = all.len();
    let per_page = filter.page_size.limit();
    let pages = total.div_ceil(per_page).max(1);
    let page = filter.page.min(pages - 1);
    let shown: Vec<Resource> = all
        .into_iter()
        .skip(page.saturating_mul(per_page))
        .take(per_page)
        .collect();
    let (from, to) = (
        midnight_utc(week_start),
        midnight_utc(week_start + Duration::days(7)),
    );
    let (mut blocks, names) =
        blocks_of(conn, who.tenant_id, &shown, service::ACTIVE, from, to).await?;
    let rows = shown
        .into_iter()
        .map(|r| {
            let b = blocks.remove(&r.id).unwrap_or_default();
            GridRow {
                days: by_day(&b, week_start, 7),
                resource: r,
            }
        })
        .collect();
    Ok(Grid {
        monday: week_start,
        rows,
        total,
        page,
        pages,
        names,
    })
}

/// The resources matching `filter` that can be booked for the whole of [start, end): active,
/// duration and horizon allowed, open then (opening hours), no blackout, and no blocking
/// reservation of the resource, its hall or its parts within either side's buffer time.
/// At most `FREE_LIMIT`, by name. Five queries whatever the number of resources.
pub async fn free_resources(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    filter: &Filter,
    start_utc: DateTime<Utc>,
    end_utc: DateTime<Utc>,
) -> Result<Vec<Resource>> {
    let who = person(by)?;
    let (start, end) = (start_utc, end_utc);
    let now = Utc::now();
    let mut errs = FieldErrors::new();
    if end == start {
        errs.add("bis", "booking.err.zero_length");
    } else if end < start {
        errs.add("bis", "booking.err.end_before_start");
    } else if end - start > Duration::minutes(i64::from(MAX_MINUTES)) {
        errs.add_arg("bis", "booking.err.too_long", Some(MAX_MINUTES));
    }
    if end > start && end <= now {
        errs.add("von", "booking.err.in_past");
    }
    errs.into_result()?;
    let minutes = (end - start).num_minutes();
    let candidates: Vec<Resource> = matching(conn, by, filter)
        .await?
        .into_iter()
        .filter(|r| {
            minutes >= i64::from(r.min_minutes)
                && minutes <= i64::from(r.max_minutes)
                && start <= now + Duration::days(i64::from(r.horizon_days))
                && rules::open_at(r, start, end)
        })
        .collect();
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    // Blackouts: tenant-wide ones, and those of the candidates or their halls.
    let mut ids: Vec<i64> = candidates.iter().map(|r| r.id).collect();
    ids.extend(candidates.iter().filter_map(|r| r.parent_id));
    let closed = rathaus_store::uow::scoped::<blackout::Entity>(who.tenant_id)
        .filter(
            Condition::any()
                .add(blackout::Column::ResourceId.is_null())
                .add(blackout::Column::ResourceId.is_in(ids)),
        )
        .filter(blackout::Column::StartsAt.lt(end))
        .filter(blackout::Column::EndsAt.gt(start))
        .all(conn)
        .await?;
    if closed.iter().any(|b| b.resource_id.is_none()) {
        return Ok(vec![]);
    }
    let closed: BTreeSet<i64> = closed.iter().filter_map(|b| b.resource_id).collect();
    let candidates: Vec<Resource> = candidates
        .into_iter()
        .filter(|r| !closed.contains(&r.id) && r.parent_id.is_none_or(|p| !closed.contains(&p)))
        .collect();
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let statuses = rules::blocking_statuses(&rules::settings(conn, who.tenant_id).await?);
    let rel = related(conn, who.tenant_id, &candidates).await?;
    let known: Vec<&Resource> = candidates.iter().chain(rel.iter()).collect();
    let buffer: BTreeMap<i64, i64> = known
        .iter()
        .map(|r| (r.id, i64::from(r.buffer_minutes)))
        .collect();
    let widest = Duration::minutes(buffer.values().copied().max().unwrap_or(0));
    let found = reservations_in(
        conn,
        who.tenant_id,
        buffer.keys().copied().collect(),
        statuses,
        start - widest,
        end + widest,
    )
    .await?;
    let mut by_resource: BTreeMap<i64, Vec<&Reservation>> = BTreeMap::new();
    for x in &found {
        by_resource.entry(x.resource_id).or_default().push(x);
    }
    let sets = blockers(&candidates, &known);
    Ok(candidates
        .into_iter()
        .filter(|r| {
            let own = i64::from(r.buffer_minutes);
            let set = sets.get(&r.id).map(Vec::as_slice).unwrap_or(&[]);
            !set.iter()
                .flat_map(|b| by_resource.get(b).into_iter().flatten())
                .any(|x| {
                    // The same rule as `service::overlapping`: the wider buffer counts.
                    let gap = Duration::minutes(
                        own.max(buffer.get(&x.resource_id).copied().unwrap_or(0)),
                    );
                    x.starts_at < end + gap && x.ends_at + gap > start
                })
        })
        .take(FREE_LIMIT)
        .collect())
}

/// Resources on the public pages: active and open to the public or to organisations.
pub async fn public_resources(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<Resource>> {
    rathaus_store::uow::scoped::<resource::Entity>(tenant)
        .filter(resource::Column::Active.eq(true))
        .filter(resource::Column::BookableBy.is_in([rules::PUBLIC, rules::ORGANISATIONS]))
        .order_by_asc(resource::Column::Name)
        .order_by_asc(resource::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// The names of those organisations that agreed to appear on public views (`public_name`).
pub async fn public_org_names(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    ids: BTreeSet<i64>,
) -> Result<BTreeMap<i64, String>> {
    Ok(rathaus_store::uow::scoped::<organisation::Entity>(tenant)
        .filter(organisation::Column::Id.is_in(ids))
        .filter(organisation::Column::PublicName.eq(true))
        .all(conn)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// The resource if `who` may see it: staff every one of the tenant (inactive ones only with
/// `booking.manage`, as `service::get_resource`), others those open to them.
pub async fn visible_resource(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    id: ResourceId,
) -> Result<Resource> {
    let id = i64::from(id);
    let _who = person(by)?;
    let r = crate::service::get_resource(conn, by, ResourceId(id)).await?;
    if !sees_all(by) {
        let member = !rules::organisations_of(conn, by).await?.is_empty();
        if !rules::may_see(by, &r, member) {
            return Err(Error::Forbidden);
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, TimeZone};
    use chrono_tz::Europe::Berlin;

    fn res(opening: &str) -> Resource {
        resource::Model {
            id: 1,
            tenant_id: 1,
            name: "Halle".into(),
            kind: crate::domain::ResourceKind::Hall.to_string(),
            parent_id: None,
            capacity: None,
            requires_approval: false,
            min_minutes: 15,
            max_minutes: 1440,
            buffer_minutes: 0,
            horizon_days: 365,
            active: true,
            feed_token: String::new(),
            created_at: Utc::now(),
            address: String::new(),
            description: String::new(),
            accessibility: String::new(),
            opening_hours: opening.into(),
            bookable_by: crate::domain::BookableBy::Public.to_string(),
            fee_schedule: String::new(),
            cancel_hours: 0,
            room_id: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        Berlin.from_local_datetime(&n).single().unwrap().to_utc()
    }

    #[test]
    fn opening_hours_in_local_time() {
        let r = res("[[480,1320],[480,1320],[480,1320],[480,1320],[480,1320],[480,1320],null]");
        // 2027-03-29 is a Monday, 2027-03-28 a Sunday.
        assert!(rules::open_at(
            &r,
            at("2027-03-29 18:00"),
            at("2027-03-29 22:00")
        ));
        assert!(!rules::open_at(
            &r,
            at("2027-03-29 07:00"),
            at("2027-03-29 09:00")
        ));
        assert!(!rules::open_at(
            &r,
            at("2027-03-28 10:00"),
            at("2027-03-28 11:00")
        ));
        assert!(rules::open_at(
            &res(""),
            at("2027-03-28 10:00"),
            at("2027-03-28 11:00")
        ));
        let all = res("[[0,1440],[0,1440],[0,1440],[0,1440],[0,1440],[0,1440],[0,1440]]");
        assert!(rules::open_at(
            &all,
            at("2027-03-29 22:00"),
            at("2027-03-30 00:00")
        ));
        assert!(rules::open_at(
            &all,
            at("2027-03-29 22:00"),
            at("2027-03-30 02:00")
        ));
    }
}
