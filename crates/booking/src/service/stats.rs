//! Statistics and money (issue 4, items 10 and 11), for staff with `booking.manage`:
//! utilisation per resource and month (/buchung/statistik), marking a past booking as not
//! used (no-show), and the fees list for the treasury (/buchung/gebuehren) with CSV and XLSX
//! downloads. Fees are not computed here: each reservation carries the fee fixed when it was
//! booked (`fee_cents`, `fee_group`).

pub use crate::formats::fees::FeeRow;

use crate::domain::ReservationId;
use crate::service::person;
use crate::service::rules;
use crate::service::views::midnight_utc;
use crate::service::{CONFIRMED, MANAGE, MAX_MINUTES, Reservation, Resource};
use crate::store::entity::{organisation, reservation, resource};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

// ------------------------------------------------------------------ utilisation

/// Where a resource has no opening hours, utilisation is measured against 08:00–22:00.
pub const DEFAULT_OPEN: (u32, u32) = (8 * 60, 22 * 60);
/// Years the statistics answer for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthUsage {
    /// Confirmed booked minutes within the month.
    pub booked_minutes: i64,
    /// Minutes the resource is open in the month (see `open_minutes`).
    pub open_minutes: i64,
    /// Confirmed reservations starting in the month, and how many of them were not used.
    pub count: u32,
    pub no_shows: u32,
}

impl MonthUsage {
    /// Booked share of the open time in whole percent; None when the resource is never open.
    pub fn percent(&self) -> Option<i64> {
        (self.open_minutes > 0)
            .then(|| (self.booked_minutes * 100 + self.open_minutes / 2) / self.open_minutes)
    }

    fn add(&mut self, o: &MonthUsage) {
        self.booked_minutes += o.booked_minutes;
        self.open_minutes += o.open_minutes;
        self.count += o.count;
        self.no_shows += o.no_shows;
    }
}

pub struct Usage {
    pub resource: Resource,
    /// January to December.
    pub months: [MonthUsage; 12],
    pub year: MonthUsage,
}

/// Open minutes of `r` on the local days [first, after): its opening hours per weekday, or
/// 08:00–22:00 every day when it has none. Wall-clock minutes (a day of the clock change
/// counts like any other).
pub fn open_minutes(r: &Resource, first: NaiveDate, after: NaiveDate) -> i64 {
    let week = rules::opening_hours(r);
    first
        .iter_days()
        .take_while(|d| *d < after)
        .map(|d| {
            let window = match &week {
                Some(w) => w[d.weekday().num_days_from_monday() as usize],
                None => Some(DEFAULT_OPEN),
            };
            window.map_or(0, |(a, b)| i64::from(b.saturating_sub(a)))
        })
        .sum()
}

fn month_start(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

/// Utilisation of every resource of the tenant in `year` (local calendar months), by name
/// (permission `booking.manage`). Two queries: the resources, and the confirmed
/// reservations of the year (four columns each).
pub async fn utilisation(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    year: i32,
) -> Result<Vec<Usage>> {
    let who = person(by)?;
    by.require(MANAGE)?;
    if !YEARS.contains(&year) {
        return Err(FieldErrors::single("jahr", "booking.stats.err.year"));
    }
    let resources = rathaus_store::uow::scoped::<resource::Entity>(who.tenant_id)
        .order_by_asc(resource::Column::Name)
        .order_by_asc(resource::Column::Id)
        .all(conn)
        .await?;
    let bounds: Vec<DateTime<Utc>> = (1..=13)
        .map(|m| {
            if m == 13 {
                midnight_utc(month_start(year + 1, 1))
            } else {
                midnight_utc(month_start(year, m))
            }
        })
        .collect();
    let (from, to) = (bounds[0], bounds[12]);
    let rows: Vec<(i64, DateTime<Utc>, DateTime<Utc>, bool)> = rathaus_store::uow::scoped::<
        reservation::Entity,
    >(who.tenant_id)
    .select_only()
    .column(reservation::Column::ResourceId)
    .column(reservation::Column::StartsAt)
    .column(reservation::Column::EndsAt)
    .column(reservation::Column::NoShow)
    .filter(reservation::Column::Status.eq(CONFIRMED))
    .filter(reservation::Column::StartsAt.lt(to))
    .filter(reservation::Column::StartsAt.gt(from - Duration::minutes(i64::from(MAX_MINUTES))))
    .filter(reservation::Column::EndsAt.gt(from))
    .into_tuple()
    .all(conn)
    .await?;
    let mut per: BTreeMap<i64, [MonthUsage; 12]> = BTreeMap::new();
    for (rid, s, e, no_show) in rows {
        let months = per.entry(rid).or_default();
        for m in 0..12 {
            let (lo, hi) = (bounds[m], bounds[m + 1]);
            let overlap = (e.min(hi) - s.max(lo)).num_minutes();
            if overlap > 0 {
                months[m].booked_minutes += overlap;
            }
            if s >= lo && s < hi {
                months[m].count += 1;
                months[m].no_shows += u32::from(no_show);
            }
        }
    }
    Ok(resources
        .into_iter()
        .map(|r| {
            let mut months = per.remove(&r.id).unwrap_or_default();
            let mut total = MonthUsage::default();
            for (i, m) in months.iter_mut().enumerate() {
                let first = month_start(year, i as u32 + 1);
                let after = if i == 11 {
                    month_start(year + 1, 1)
                } else {
                    month_start(year, i as u32 + 2)
                };
                m.open_minutes = open_minutes(&r, first, after);
                total.add(m);
            }
            Usage {
                resource: r,
                months,
                year: total,
            }
        })
        .collect())
}

// ------------------------------------------------------------------ no-show

/// Translation key of the refusal to mark a reservation that is not a past confirmed one.
pub const NOT_PAST_KEY: &str = "booking.stats.err.not_past";

/// Marks a past confirmed reservation as not used, or takes the mark back (toggle;
/// permission `booking.manage`), with its audit event in the same transaction. Another
/// tenant's reservation is NotFound; a future, requested, cancelled or rejected one a
/// Conflict.
pub async fn toggle_no_show(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: ReservationId,
) -> Result<Reservation> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let mut q = rathaus_store::uow::scoped_by_id::<reservation::Entity, _>(who.tenant_id, id);
    // Two managers toggling at once must not both read the old value: row lock on
    // PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers.
    if tx.conn().get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    let before = q.one(tx.conn()).await?.ok_or(Error::NotFound)?;
    if before.status != CONFIRMED || before.starts_at > Utc::now() {
        return Err(Error::Conflict(NOT_PAST_KEY.into()));
    }
    let mut am: reservation::ActiveModel = before.clone().into();
    am.no_show = Set(!before.no_show);
    am.updated_at = Set(Some(Utc::now()));
    let after = am.update(tx.conn()).await?;
    tx.audit(
        NewEvent::new(
            "booking.reservation.no_show",
            "booking_reservation",
            Some(id),
        )
        .details(json!({
            "resource_id": before.resource_id, "start": before.starts_at,
            "end": before.ends_at, "before": before.no_show, "after": after.no_show,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ------------------------------------------------------------------ fees

/// The longest period the fees list covers at once.
pub const MAX_FEE_DAYS: i64 = 366;
/// Rows the fees page shows; the downloads hold all.
pub const FEES_SHOWN: usize = 500;

/// Checks a period of local dates (both inclusive) for the fees list.
pub fn fee_period(from: NaiveDate, to: NaiveDate) -> Result<()> {
    let mut errs = FieldErrors::new();
    if to < from {
        errs.add("bis", "booking.err.end_before_start");
    } else if (to - from).num_days() >= MAX_FEE_DAYS {
        errs.add_arg("bis", "booking.err.window_too_wide", Some(MAX_FEE_DAYS));
    }
    errs.into_result()
}

/// Confirmed reservations starting on the local days `from` to `to` (both inclusive), by
/// start, with their fee (permission `booking.manage`). Four queries: reservations,
/// resources, organisations, users.
pub async fn fees(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<FeeRow>> {
    let who = person(by)?;
    by.require(MANAGE)?;
    fee_period(from, to)?;
    let tenant = who.tenant_id;
    let found = rathaus_store::uow::scoped::<reservation::Entity>(tenant)
        .filter(reservation::Column::Status.eq(CONFIRMED))
        .filter(reservation::Column::StartsAt.gte(midnight_utc(from)))
        .filter(reservation::Column::StartsAt.lt(midnight_utc(to + Duration::days(1))))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .all(conn)
        .await?;
    let names = resource_names(conn, tenant).await?;
    let org_ids: BTreeSet<i64> = found.iter().filter_map(|r| r.organisation_id).collect();
    let orgs: BTreeMap<i64, String> = if org_ids.is_empty() {
        BTreeMap::new()
    } else {
        rathaus_store::uow::scoped::<organisation::Entity>(tenant)
            .filter(organisation::Column::Id.is_in(org_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    let user_ids: BTreeSet<i64> = found.iter().filter_map(|r| r.booked_by).collect();
    let users: BTreeMap<i64, String> =
        rathaus_store::accounts::users_by_ids(conn, tenant, user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
    Ok(found
        .into_iter()
        .map(|r| FeeRow {
            reservation_id: r.id,
            start: r.starts_at,
            end: r.ends_at,
            resource: names.get(&r.resource_id).cloned().unwrap_or_default(),
            booker: r
                .booked_by
                .and_then(|u| users.get(&u).cloned())
                .unwrap_or_default(),
            organisation: r
                .organisation_id
                .and_then(|o| orgs.get(&o).cloned())
                .unwrap_or_default(),
            minutes: (r.ends_at - r.starts_at).num_minutes(),
            fee_group: r.fee_group,
            fee_cents: r.fee_cents,
            no_show: r.no_show,
        })
        .collect())
}

async fn resource_names(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<BTreeMap<i64, String>> {
    Ok(rathaus_store::uow::scoped::<resource::Entity>(tenant)
        .select_only()
        .column(resource::Column::Id)
        .column(resource::Column::Name)
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// The fee list as a download: it names the people who booked, so it leaves the system only
/// with an audit event (who, which period, how many rows, which format).
pub async fn fees_export(
    db: &DatabaseConnection,
    by: Actor<'_>,
    from: NaiveDate,
    to: NaiveDate,
    format: &str,
) -> Result<Vec<FeeRow>> {
    let who = person(by)?;
    let rows = fees(db, by, from, to).await?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    tx.audit(NewEvent::new("booking.fees_exported", "booking_reservation", None::<i64>).details(
            json!({"format": format, "from": from.to_string(), "to": to.to_string(), "rows": rows.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(rows)
}
