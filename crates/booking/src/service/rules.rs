//! The rules a slot must satisfy besides "no overlap": who may book a resource (and as what
//! fee group), when it is open, blackout periods, and what it costs. Series, season
//! allocation and single bookings all go through these functions, so the rules hold the same
//! everywhere.

use crate::domain::OrganisationId;
use crate::domain::{BookableBy, FeeGroup, OrgKind};
use crate::service::{BOOK, CONFIRMED, MANAGE, REQUESTED, Resource};
use crate::service::{may, person};
use crate::store::entity::{blackout, org_member, organisation, settings};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::db_err;
use rathaus_store::uow::Actor;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;

// The stored texts of the domain enums (`domain::kinds`), for queries on the text columns.
pub const PUBLIC: &str = BookableBy::Public.as_str();
pub const ORGANISATIONS: &str = BookableBy::Organisations.as_str();
pub const STAFF: &str = BookableBy::Staff.as_str();
/// Values of `booking_resources.bookable_by`.
pub const BOOKABLE_BY: &[&str] = &[PUBLIC, ORGANISATIONS, STAFF];

/// Kinds of organisation; each is also a fee group and a season priority class.
pub const ORG_KINDS: &[&str] = &[
    OrgKind::School.as_str(),
    OrgKind::Club.as_str(),
    OrgKind::Other.as_str(),
];
/// Fee groups a fee schedule can price.
pub const FEE_GROUPS: &[&str] = &[
    FeeGroup::Staff.as_str(),
    FeeGroup::School.as_str(),
    FeeGroup::Club.as_str(),
    FeeGroup::Other.as_str(),
    FeeGroup::Citizen.as_str(),
];

/// Who a reservation is booked as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booker {
    /// The organisation booked for; its members see the booking and its feed holds it.
    pub organisation_id: Option<i64>,
    /// One of `FEE_GROUPS`.
    pub fee_group: String,
    /// Booked by staff with `booking.book` (internal use).
    pub staff: bool,
}

/// Organisation ids `who` is a member of.
pub async fn organisations_of(conn: &impl ConnectionTrait, by: Actor<'_>) -> Result<Vec<i64>> {
    let who = person(by)?;
    rathaus_store::uow::scoped::<org_member::Entity>(who.tenant_id)
        .select_only()
        .column(org_member::Column::OrganisationId)
        .filter(org_member::Column::UserId.eq(who.user_id.0))
        .order_by_asc(org_member::Column::OrganisationId)
        .into_tuple::<i64>()
        .all(conn)
        .await
        .map_err(db_err)
}

/// May `who` book `r`, and as whom? With an organisation: `who` must be a member (or manage
/// bookings) and the resource open to organisations or the public. Without one: staff with
/// `booking.book` may book anything, everyone else (a citizen) only public resources.
pub async fn booker_for(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    r: &Resource,
    organisation_id: Option<OrganisationId>,
) -> Result<Booker> {
    let organisation_id = organisation_id.map(i64::from);
    let who = person(by)?;
    who.require_tenant(rathaus_core::TenantId(r.tenant_id))?;
    if let Some(org_id) = organisation_id {
        let org =
            rathaus_store::uow::scoped_by_id::<organisation::Entity, _>(who.tenant_id, org_id)
                .one(conn)
                .await?;
        let member = match &org {
            Some(_) if may(by, MANAGE) => true,
            Some(_) => organisations_of(conn, by).await?.contains(&org_id),
            None => false,
        };
        let Some(org) = org.filter(|_| member) else {
            return Err(FieldErrors::single(
                "organisation_id",
                "booking.rules.not_member",
            ));
        };
        if r.bookable_by == STAFF && !may(by, MANAGE) {
            return Err(Error::Forbidden);
        }
        return Ok(Booker {
            organisation_id: Some(org.id),
            fee_group: org.kind,
            staff: false,
        });
    }
    if may(by, BOOK) || may(by, MANAGE) {
        return Ok(Booker {
            organisation_id: None,
            fee_group: FeeGroup::Staff.to_string(),
            staff: true,
        });
    }
    if r.bookable_by == PUBLIC {
        return Ok(Booker {
            organisation_id: None,
            fee_group: FeeGroup::Citizen.to_string(),
            staff: false,
        });
    }
    Err(Error::Forbidden)
}

/// May `who` see (and try to book) `r` at all? Used to filter lists for non-staff.
pub fn may_see(by: Actor<'_>, r: &Resource, member_of_any: bool) -> bool {
    may(by, BOOK)
        || may(by, MANAGE)
        || r.bookable_by == PUBLIC
        || (r.bookable_by == ORGANISATIONS && member_of_any)
}

/// Opening hours: Monday..Sunday, each closed or [from, to) in minutes after local midnight.
pub type Week = [Option<(u32, u32)>; 7];

/// Parses `booking_resources.opening_hours`; "" (or anything unreadable) = always open.
pub fn opening_hours(r: &Resource) -> Option<Week> {
    if r.opening_hours.trim().is_empty() {
        return None;
    }
    let days: Vec<Option<(u32, u32)>> = serde_json::from_str(&r.opening_hours).ok()?;
    days.try_into().ok()
}

/// Formats a week of opening hours for storage; None = always open.
pub fn opening_hours_json(w: Option<&Week>) -> String {
    w.map(|w| serde_json::to_string(&w.to_vec()).unwrap_or_default())
        .unwrap_or_default()
}

/// "HH:MM-HH:MM" (24:00 allowed as end) or "" (closed) for one weekday; None when the text
/// is no such window.
pub fn parse_day_hours(s: &str) -> Option<Option<(u32, u32)>> {
    let s = s.trim();
    if s.is_empty() || s == "-" {
        return Some(None);
    }
    let (a, b) = s.split_once(['-', '–'])?;
    let minutes = |t: &str| -> Option<u32> {
        let t = t.trim();
        if t == "24:00" {
            return Some(24 * 60);
        }
        let t = NaiveTime::parse_from_str(t, "%H:%M").ok()?;
        Some(t.hour() * 60 + t.minute())
    };
    let (a, b) = (minutes(a)?, minutes(b)?);
    (a < b).then_some(Some((a, b)))
}

/// "08:00–22:00" for a day's window.
pub fn format_day_hours(d: Option<(u32, u32)>) -> String {
    match d {
        None => String::new(),
        Some((a, b)) => format!("{:02}:{:02}–{:02}:{:02}", a / 60, a % 60, b / 60, b % 60),
    }
}

/// Whether `r` is open for the whole of [start, end): within one local day's opening window
/// (an end at local midnight counts as 24:00), or spanning two days open through midnight.
/// Always true without opening hours. Pure, so lists can check many resources in memory.
pub fn open_at(r: &Resource, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    opening_hours(r).is_none_or(|w| within_opening_hours(&w, start, end))
}

fn within_opening_hours(w: &Week, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let part = |t: DateTime<Utc>, is_end: bool| {
        let l = t.with_timezone(&Berlin).naive_local();
        let m = l.hour() * 60 + l.minute();
        if is_end && m == 0 {
            (l.date() - Duration::days(1), 24 * 60)
        } else {
            (l.date(), m)
        }
    };
    let day = |d: NaiveDate| w[d.weekday().num_days_from_monday() as usize];
    let within = |d: NaiveDate, a: u32, b: u32| day(d).is_some_and(|(f, t)| f <= a && b <= t);
    let (d0, m0) = part(start, false);
    let (d1, m1) = part(end, true);
    if d0 == d1 {
        return within(d0, m0, m1);
    }
    d1 == d0 + Duration::days(1) && within(d0, m0, 24 * 60) && within(d1, 0, m1)
}

/// Blackouts touching [start, end) for `r` (its own, its hall's, and the tenant-wide ones).
pub async fn blackouts_in(
    conn: &impl ConnectionTrait,
    r: &Resource,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<blackout::Model>> {
    let mut ids = vec![r.id];
    ids.extend(r.parent_id);
    rathaus_store::uow::scoped::<blackout::Entity>(rathaus_core::TenantId(r.tenant_id))
        .filter(
            sea_orm::Condition::any()
                .add(blackout::Column::ResourceId.is_null())
                .add(blackout::Column::ResourceId.is_in(ids)),
        )
        .filter(blackout::Column::StartsAt.lt(end))
        .filter(blackout::Column::EndsAt.gt(start))
        .order_by_asc(blackout::Column::StartsAt)
        .all(conn)
        .await
        .map_err(db_err)
}

/// The checks of one slot against the resource's own rules: bookable, duration, horizon,
/// opening hours, blackouts. Errors name the field `start` or `end`.
pub async fn check_slot(
    conn: &impl ConnectionTrait,
    r: &Resource,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    check_slot_rules(r, start, end, now)?;
    check_slot_against(
        r,
        start,
        end,
        now,
        &blackouts_in(conn, r, start, end).await?,
    )
}

/// `check_slot` with the blackouts already loaded (`blackouts_in` over a span covering the
/// slot): a series checks all its occurrences against one query instead of one each.
pub fn check_slot_against(
    r: &Resource,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    blackouts: &[blackout::Model],
) -> Result<()> {
    check_slot_rules(r, start, end, now)?;
    match blackouts
        .iter()
        .find(|b| b.starts_at < end && b.ends_at > start)
    {
        Some(b) => {
            let mut errs = FieldErrors::new();
            errs.add_arg("start", "booking.rules.blackout", Some(&b.reason));
            Err(Error::Invalid(errs))
        }
        None => Ok(()),
    }
}

/// The rules that need no database: bookable, duration, horizon, opening hours.
fn check_slot_rules(
    r: &Resource,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut errs = FieldErrors::new();
    if !r.active {
        errs.add("resource_id", "booking.err.inactive");
    }
    let minutes = (end - start).num_minutes();
    if minutes < i64::from(r.min_minutes) {
        errs.add_arg("end", "booking.err.too_short", Some(r.min_minutes));
    } else if minutes > i64::from(r.max_minutes) {
        errs.add_arg("end", "booking.err.too_long", Some(r.max_minutes));
    }
    if start > now + Duration::days(i64::from(r.horizon_days)) {
        errs.add_arg("start", "booking.err.beyond_horizon", Some(r.horizon_days));
    }
    if !open_at(r, start, end) {
        errs.add("start", "booking.rules.closed");
    }
    errs.into_result()
}

/// Fee in cents from `r.fee_schedule` (JSON fee group -> cents per hour), pro rata per minute,
/// rounded to whole cents. A group the schedule does not name pays nothing.
pub fn fee_cents(r: &Resource, fee_group: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let rate = fee_schedule(r).get(fee_group).copied().unwrap_or(0);
    let minutes = (end - start).num_minutes().max(0);
    (rate * minutes + 30) / 60
}

/// The parsed fee schedule; "" or unreadable = free for everyone.
pub fn fee_schedule(r: &Resource) -> BTreeMap<String, i64> {
    serde_json::from_str(&r.fee_schedule).unwrap_or_default()
}

/// The tenant's booking settings, defaults when none are stored.
pub async fn settings(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<settings::Model> {
    Ok(settings::Entity::find_by_id(tenant.0)
        .one(conn)
        .await?
        .unwrap_or(settings::Model {
            tenant_id: tenant.0,
            priority_order: "school,club,other".into(),
            pending_blocks: true,
            reminder_hours: 24,
        }))
}

/// Statuses that block a slot: pending requests block tentatively unless the tenant turned
/// that off.
pub fn blocking_statuses(s: &settings::Model) -> &'static [&'static str] {
    if s.pending_blocks {
        &[REQUESTED, CONFIRMED]
    } else {
        &[CONFIRMED]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .map(|n| n.and_local_timezone(Berlin).single().map(|t| t.to_utc()))
            .ok()
            .flatten()
            .expect("valid local time in test")
    }

    #[test]
    fn day_hours_parse() {
        assert_eq!(parse_day_hours("08:00-22:00"), Some(Some((480, 1320))));
        assert_eq!(parse_day_hours("18:00–24:00"), Some(Some((1080, 1440))));
        assert_eq!(parse_day_hours(""), Some(None));
        assert!(parse_day_hours("22:00-08:00").is_none());
        assert!(parse_day_hours("8 bis 10").is_none());
    }

    #[test]
    fn opening_hours_hold_in_local_time() {
        let mut w: Week = [Some((480, 1320)); 7];
        w[6] = None; // closed on Sunday
        // 2027-03-28 is the spring-forward Sunday; 2027-03-29 a Monday.
        assert!(within_opening_hours(
            &w,
            at("2027-03-29 08:00"),
            at("2027-03-29 22:00")
        ));
        assert!(!within_opening_hours(
            &w,
            at("2027-03-29 07:30"),
            at("2027-03-29 09:00")
        ));
        assert!(!within_opening_hours(
            &w,
            at("2027-03-28 10:00"),
            at("2027-03-28 11:00")
        ));
        assert!(!within_opening_hours(
            &w,
            at("2027-03-29 21:00"),
            at("2027-03-30 09:00")
        ));
        let all: Week = [Some((0, 1440)); 7];
        assert!(within_opening_hours(
            &all,
            at("2027-03-29 18:00"),
            at("2027-03-30 00:00")
        ));
        assert!(within_opening_hours(
            &all,
            at("2027-03-29 22:00"),
            at("2027-03-30 02:00")
        ));
    }
}
