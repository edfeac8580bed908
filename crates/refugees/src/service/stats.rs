//! The dashboard's figures and the monthly statistics.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Scope};
use sea_orm::{ColumnTrait, DatabaseConnection, PaginatorTrait, QueryFilter, QuerySelect};

use super::places::{AccommodationDay, accommodations_on, accommodations_on_days};
use crate::store::{occupancy, person, room};

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub today: NaiveDate,
    pub on: NaiveDate,
    pub now: Vec<AccommodationDay>,
    pub at: Vec<AccommodationDay>,
    pub arrivals: u64,
    pub departures: u64,
    /// None when the reader may not see residence data.
    pub expiring: Option<u64>,
    /// The tenant's period for `expiring`, in days.
    pub expiry_days: i64,
    pub planned_move_outs: u64,
    pub repairs_ending: Vec<room::Model>,
}

impl Dashboard {
    pub fn total(list: &[AccommodationDay]) -> (i64, i64, i64) {
        list.iter().fold((0, 0, 0), |(c, o, f), a| {
            (c + a.capacity, o + a.occupied, f + a.free)
        })
    }
}

/// A month as a form or link gives it (`2026-11`), as its first day.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.is_empty() || m.len() > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
        .filter(|d| (1990..=2200).contains(&d.year()))
}

pub fn month_bounds(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = d.with_day(1).unwrap_or(d);
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    (first, next.unwrap_or(first))
}

pub async fn dashboard(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    on: Option<NaiveDate>,
) -> Result<Dashboard> {
    let v = super::require_read(by)?;
    let today = super::today();
    let on = on.unwrap_or(today);
    let (now, at) = if on == today {
        let now = accommodations_on(db, by, tenant, today).await?;
        (now.clone(), now)
    } else {
        let mut both = accommodations_on_days(db, by, tenant, &[today, on]).await?;
        let at = both.pop().unwrap_or_default();
        (both.pop().unwrap_or_default(), at)
    };
    let scope = Scope::new(db, tenant, by)?;
    let (first, next) = month_bounds(today);
    let arrivals = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::StartsOn.gte(first))
        .filter(occupancy::Column::StartsOn.lt(next))
        .count(db)
        .await?;
    let departures = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::EndsOn.gte(first))
        .filter(occupancy::Column::EndsOn.lt(next))
        .count(db)
        .await?;
    let expiry_days = super::settings::expiry_days(db, tenant).await?;
    let expiring = if v.residence {
        Some(
            scope
                .find::<person::Entity>()
                .filter(person::Column::PermitValidUntil.gte(today))
                .filter(person::Column::PermitValidUntil.lt(today + Duration::days(expiry_days)))
                .count(db)
                .await?,
        )
    } else {
        None
    };
    let planned_move_outs = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::EndsOn.gt(today))
        .filter(occupancy::Column::EndsOn.lte(today + Duration::days(30)))
        .count(db)
        .await?;
    let repairs_ending = scope
        .find::<room::Entity>()
        .filter(room::Column::ClosedUntil.gte(today))
        .filter(room::Column::ClosedUntil.lte(today + Duration::days(30)))
        .limit(50)
        .all(db)
        .await?;
    Ok(Dashboard {
        today,
        on,
        now,
        at,
        arrivals,
        departures,
        expiring,
        expiry_days,
        planned_move_outs,
        repairs_ending,
    })
}

/// The monthly statistics for the state's reporting and the council.
#[derive(Debug, Clone, Default)]
pub struct Monthly {
    pub month: NaiveDate,
    /// Persons housed on the month's last day.
    pub housed: i64,
    pub capacity: i64,
    pub arrivals: u64,
    pub departures: u64,
    /// Allocations by the state dated in the month.
    pub allocations: u64,
    /// Residence status → persons housed (only for readers of residence data).
    pub by_status: Option<BTreeMap<String, i64>>,
    pub by_nationality: Option<BTreeMap<String, i64>>,
}

pub async fn monthly(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    month: NaiveDate,
) -> Result<Monthly> {
    let v = super::require_read(by)?;
    let (first, next) = month_bounds(month);
    let last = next.pred_opt().unwrap_or(first);
    let accs = accommodations_on(db, by, tenant, last).await?;
    let scope = Scope::new(db, tenant, by)?;
    let arrivals = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::StartsOn.gte(first))
        .filter(occupancy::Column::StartsOn.lt(next))
        .count(db)
        .await?;
    let departures = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::EndsOn.gte(first))
        .filter(occupancy::Column::EndsOn.lt(next))
        .count(db)
        .await?;
    let allocations = scope
        .find::<person::Entity>()
        .filter(person::Column::AllocationDate.gte(first))
        .filter(person::Column::AllocationDate.lt(next))
        .count(db)
        .await?;
    let (mut by_status, mut by_nat) = (None, None);
    if v.residence || v.social {
        let housed: Vec<i64> = scope
            .find::<occupancy::Entity>()
            .select_only()
            .column(occupancy::Column::PersonId)
            .filter(occupancy::Column::StartsOn.lte(last))
            .filter(
                sea_orm::Condition::any()
                    .add(occupancy::Column::EndsOn.is_null())
                    .add(occupancy::Column::EndsOn.gt(last)),
            )
            .into_tuple()
            .all(db)
            .await?;
        let mut st: BTreeMap<String, i64> = BTreeMap::new();
        let mut na: BTreeMap<String, i64> = BTreeMap::new();
        for chunk in housed.chunks(5_000) {
            let rows: Vec<(String, String)> = scope
                .find::<person::Entity>()
                .select_only()
                .column(person::Column::ResidenceStatus)
                .column(person::Column::Nationality)
                .filter(person::Column::Id.is_in(chunk.to_vec()))
                .into_tuple()
                .all(db)
                .await?;
            for (s, n) in rows {
                *st.entry(s).or_default() += 1;
                *na.entry(n).or_default() += 1;
            }
        }
        if v.residence {
            by_status = Some(st);
        }
        by_nat = Some(na);
    }
    let (capacity, housed, _) = Dashboard::total(&accs);
    Ok(Monthly {
        month: first,
        housed,
        capacity,
        arrivals,
        departures,
        allocations,
        by_status,
        by_nationality: by_nat,
    })
}

/// For the start page: how many permits expire within the tenant's period, and the first day
/// after it (the person list's `ablauf_vor` filter). None for readers without
/// `refugees.read_residence`: they are not told about residence data, not refused.
pub async fn expiring_soon(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Option<(u64, NaiveDate)>> {
    if !super::visibility(by).residence {
        return Ok(None);
    }
    let today = super::today();
    let before = today + Duration::days(super::settings::expiry_days(db, tenant).await?);
    let n = Scope::new(db, tenant, by)?
        .find::<person::Entity>()
        .filter(person::Column::AnonymisedAt.is_null())
        .filter(person::Column::PermitValidUntil.gte(today))
        .filter(person::Column::PermitValidUntil.lt(before))
        .count(db)
        .await?;
    Ok(Some((n, before)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_from_forms_and_links() {
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        assert_eq!(parse_month("2026-11"), d(2026, 11));
        assert_eq!(parse_month(" 2026-3 "), d(2026, 3));
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "26-11",
            "2026-11-01",
            "x-1",
            "1200-01",
        ] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }
}
