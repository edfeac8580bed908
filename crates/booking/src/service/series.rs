//! Recurring series (issue 4, item 4): an RRULE with wall-clock semantics in Europe/Berlin,
//! booked as one row in `booking_series` plus one reservation per occurrence, in one
//! transaction under the same lock as single bookings; then cancelled or moved one occurrence
//! at a time, or from a date on, and approved or rejected as a whole.
//!
//! Expansion runs in a floating frame: the local start is handed to the rrule crate as if it
//! were UTC, so "every Tuesday 18:00" stays 18:00 on the wall clock across both clock changes.
//! Only then is each local start mapped to Europe/Berlin; a start that does not exist (spring)
//! or exists twice (autumn) is refused naming its date, as single bookings are (pages.rs).

use crate::domain::{OrganisationId, ResourceId};
use crate::domain::{ReservationId, SeriesId};
use crate::service::rules::{self, Booker};
use crate::service::{
    self, Busy, CANCELLED, CONFIRMED, MANAGE, NOT_REQUESTED_KEY, REJECTED, REQUESTED, Reservation,
    ReserveError, Resource,
};
use crate::service::{may, person};
use crate::store::entity::{reservation, series};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::db_err;
use rathaus_store::uow::{Actor, Tx};
use rathaus_web::i18n::Catalog;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::BTreeSet;

pub use series::Model as Series;

/// The most occurrences one series may have (issue 4, bad input).
pub const MAX_OCCURRENCES: usize = 1000;
/// The most exception dates one series may list.
pub const MAX_EXDATES: usize = 1000;
/// Frequencies a series may use; a slot repeats by the day, not by the hour.
pub const FREQS: &[&str] = &["DAILY", "WEEKLY", "MONTHLY"];
/// The most characters of an RRULE.
pub const MAX_RRULE: usize = 500;

/// How local starts are written in `booking_series` (`dtstart_local`, `exdates`).
const LOCAL_FMT: &str = "%Y-%m-%dT%H:%M";

// ---------------------------------------------------------------- expansion

/// An exception: a whole local day (every occurrence starting that day) or one local start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExDate {
    Day(NaiveDate),
    At(NaiveDateTime),
}

impl ExDate {
    /// `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM` (also with `:SS` or a space for the `T`).
    pub fn parse(s: &str) -> Option<ExDate> {
        let s = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(ExDate::Day(d));
        }
        ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(ExDate::At)
    }

    fn matches(&self, local: NaiveDateTime) -> bool {
        match self {
            ExDate::Day(d) => local.date() == *d,
            ExDate::At(t) => local == *t,
        }
    }
}

/// One occurrence: its wall-clock start and the real instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub local_start: NaiveDateTime,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// An RRULE checked and normalised: UNTIL (if any) as a local end, and the rule as stored
/// (UNTIL in UTC with `Z`, as RFC 5545 wants it next to a DTSTART with TZID).
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule parts other than UNTIL, upper case, in the order given.
    parts: Vec<(String, String)>,
    /// The last local instant an occurrence may start at.
    pub until_local: Option<NaiveDateTime>,
    pub count: Option<u32>,
}

fn day_text(d: NaiveDateTime) -> String {
    d.format("%d.%m.%Y %H:%M").to_string()
}

/// Europe/Berlin wall-clock time → UTC, or the translation key why not.
fn berlin(local: NaiveDateTime) -> std::result::Result<DateTime<Utc>, &'static str> {
    match Berlin.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(..) => Err("booking.series.err.local_ambiguous"),
        chrono::LocalResult::None => Err("booking.series.err.local_gap"),
    }
}

pub fn local_of(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&Berlin).naive_local()
}

impl Rule {
    /// Parses `FREQ=WEEKLY;BYDAY=TU;UNTIL=20280627` (an `RRULE:` prefix is allowed). Errors
    /// name the field `rrule`.
    pub fn parse(s: &str) -> Result<Rule> {
        let bad = |key: &str| FieldErrors::single("rrule", key);
        let s = s.trim();
        let s = s
            .strip_prefix("RRULE:")
            .or_else(|| s.strip_prefix("rrule:"))
            .unwrap_or(s);
        if s.is_empty() {
            return Err(bad("booking.series.err.rrule_required"));
        }
        if s.chars().count() > MAX_RRULE || s.contains(['\n', '\r']) {
            return Err(bad("booking.series.err.rrule_invalid"));
        }
        let mut parts = vec![];
        let mut until_local = None;
        let mut count = None;
        let mut seen = BTreeSet::new();
        for part in s.split(';').filter(|p| !p.trim().is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(bad("booking.series.err.rrule_invalid"));
            };
            let (k, v) = (k.trim().to_ascii_uppercase(), v.trim().to_ascii_uppercase());
            if !seen.insert(k.clone()) {
                return Err(bad("booking.series.err.rrule_invalid"));
            }
            match k.as_str() {
                "FREQ" if !FREQS.contains(&v.as_str()) => {
                    return Err(bad("booking.series.err.rrule_freq"));
                }
                // The time of day comes from the start; sub-daily parts would add others.
                "BYHOUR" | "BYMINUTE" | "BYSECOND" | "DTSTART" => {
                    return Err(bad("booking.series.err.rrule_invalid"));
                }
                "UNTIL" => {
                    until_local =
                        Some(parse_until(&v).ok_or_else(|| bad("booking.series.err.rrule_until"))?);
                    continue;
                }
                "COUNT" => {
                    let n: u32 = v
                        .parse()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| bad("booking.series.err.rrule_invalid"))?;
                    count = Some(n);
                }
                _ => {}
            }
            parts.push((k, v));
        }
        if !seen.contains("FREQ") {
            return Err(bad("booking.series.err.rrule_freq"));
        }
        if until_local.is_none() && count.is_none() {
            return Err(bad("booking.series.err.rrule_no_end"));
        }
        if until_local.is_some() && count.is_some() {
            return Err(bad("booking.series.err.rrule_invalid"));
        }
        if count.is_some_and(|c| c as usize > MAX_OCCURRENCES) {
            return Err(one_arg(
                "rrule",
                "booking.series.err.too_many",
                MAX_OCCURRENCES,
            ));
        }
        Ok(Rule {
            parts,
            until_local,
            count,
        })
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The rule as stored: UNTIL as the UTC instant of the local end, with `Z`.
    pub fn to_rrule_string(&self) -> String {
        let mut out: Vec<String> = self.parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Some(u) = self.until_local {
            // An UNTIL inside the autumn hour is taken at its earlier instant, one in the
            // spring gap an hour later: either keeps every occurrence up to it.
            let utc = Berlin
                .from_local_datetime(&u)
                .earliest()
                .or_else(|| {
                    Berlin
                        .from_local_datetime(&(u + Duration::hours(1)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&u));
            out.insert(
                1.min(out.len()),
                format!("UNTIL={}", utc.format("%Y%m%dT%H%M%SZ")),
            );
        }
        out.join(";")
    }

    /// The same rule ending on `last_day` (inclusive, local) instead of its COUNT or UNTIL.
    pub fn ending_on(&self, last_day: NaiveDate) -> Rule {
        Rule {
            parts: self
                .parts
                .iter()
                .filter(|(k, _)| k != "COUNT")
                .cloned()
                .collect(),
            until_local: Some(last_day.and_time(end_of_day())),
            count: None,
        }
    }

    /// Local starts of the rule from `dtstart`, at most `limit` of them. Errors name `rrule`.
    fn local_starts(&self, dtstart: NaiveDateTime, limit: usize) -> Result<Vec<NaiveDateTime>> {
        let floating = |t: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&t);
        let text = self
            .parts
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";");
        let invalid = || FieldErrors::single("rrule", "booking.series.err.rrule_invalid");
        let mut rule: rrule::RRule<rrule::Unvalidated> = text.parse().map_err(|_| invalid())?;
        if let Some(u) = self.until_local {
            if u < dtstart {
                return Err(FieldErrors::single(
                    "rrule",
                    "booking.series.err.until_before_start",
                ));
            }
            rule = rule.until(floating(u));
        }
        let set = rule.build(floating(dtstart)).map_err(|_| invalid())?;
        let limit = u16::try_from(limit).unwrap_or(u16::MAX);
        let found = set.all(limit);
        Ok(found.dates.iter().map(|d| d.naive_utc()).collect())
    }
}

/// One field error with an argument, as an error.
fn one_arg(field: &str, key: &str, arg: impl ToString) -> Error {
    let mut e = FieldErrors::new();
    e.add_arg(field, key, Some(arg));
    Error::Invalid(e)
}

fn end_of_day() -> NaiveTime {
    NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)
}

/// UNTIL as a local instant: a date means through the end of that day; a date-time without
/// `Z` is local; with `Z` it is UTC and taken to Berlin.
fn parse_until(v: &str) -> Option<NaiveDateTime> {
    if let Some(utc) = v.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(local_of(Utc.from_utc_datetime(&t)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y%m%d") {
        return Some(d.and_time(end_of_day()));
    }
    NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()
}

/// Expands a series: local start `dtstart_local`, `duration_minutes` long, repeating by
/// `rrule`, without the occurrences `exdates` name. Each start keeps its wall-clock time in
/// Europe/Berlin; the end lies `duration_minutes` real minutes after it. Refuses (field
/// errors): a malformed rule or one without end (`rrule`), more than `MAX_OCCURRENCES`
/// occurrences (`rrule`), a start that does not exist or exists twice on its day (`start`,
/// naming the day), a duration out of range (`end`). The excluded local starts are returned
/// too (those that matched an occurrence).
pub fn expand(
    dtstart_local: NaiveDateTime,
    duration_minutes: i32,
    rrule: &str,
    exdates: &[ExDate],
) -> Result<(Vec<Occurrence>, Vec<NaiveDateTime>)> {
    let mut errs = FieldErrors::new();
    if !(1..=service::MAX_MINUTES).contains(&duration_minutes) {
        errs.add_arg(
            "end",
            "booking.err.minutes_range",
            Some(service::MAX_MINUTES),
        );
    }
    if dtstart_local.second() != 0 || dtstart_local.nanosecond() != 0 {
        errs.add("start", "booking.err.whole_minutes");
    }
    if exdates.len() > MAX_EXDATES {
        errs.add_arg(
            "exdates",
            "booking.series.err.too_many_exdates",
            Some(MAX_EXDATES),
        );
    }
    let rule = match Rule::parse(rrule) {
        Ok(r) => Some(r),
        Err(Error::Invalid(e)) => {
            errs.0.extend(e.0);
            None
        }
        Err(e) => return Err(e),
    };
    errs.into_result()?;
    let Some(rule) = rule else {
        return Err(Error::internal("rule missing"));
    };
    // Exceptions can remove one occurrence each (at most one per day): expand that many more.
    let raw = rule.local_starts(dtstart_local, MAX_OCCURRENCES + 1 + exdates.len())?;
    let (kept, excluded): (Vec<_>, Vec<_>) = raw
        .into_iter()
        .partition(|t| !exdates.iter().any(|x| x.matches(*t)));
    if kept.len() > MAX_OCCURRENCES {
        return Err(one_arg(
            "rrule",
            "booking.series.err.too_many",
            MAX_OCCURRENCES,
        ));
    }
    if kept.is_empty() {
        return Err(FieldErrors::single("rrule", "booking.series.err.empty"));
    }
    let len = Duration::minutes(i64::from(duration_minutes));
    let mut out = Vec::with_capacity(kept.len());
    for t in kept {
        match berlin(t) {
            Ok(start) => out.push(Occurrence {
                local_start: t,
                start,
                end: start + len,
            }),
            Err(key) => {
                return Err(one_arg("start", key, day_text(t)));
            }
        }
    }
    // A series must not overlap itself (a 25-hour slot repeated daily).
    if out.windows(2).any(|w| w[1].start < w[0].end) {
        return Err(FieldErrors::single(
            "end",
            "booking.series.err.self_overlap",
        ));
    }
    Ok((out, excluded))
}

/// Local starts written as `booking_series.exdates` holds them.
fn exdates_text(list: &[NaiveDateTime]) -> String {
    list.iter()
        .map(|t| t.format(LOCAL_FMT).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The local starts a series' `exdates` column lists.
pub fn stored_exdates(s: &Series) -> Vec<NaiveDateTime> {
    s.exdates
        .split(',')
        .filter_map(|x| NaiveDateTime::parse_from_str(x.trim(), LOCAL_FMT).ok())
        .collect()
}

/// The local start of a series' first occurrence.
pub fn stored_dtstart(s: &Series) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(&s.dtstart_local, LOCAL_FMT).ok()
}

// ---------------------------------------------------------------- booking a series

/// What a booker enters for a series.
#[derive(Debug, Clone)]
pub struct SeriesInput {
    pub resource_id: i64,
    pub title: String,
    /// Wall-clock start of the first occurrence in Europe/Berlin.
    pub dtstart_local: NaiveDateTime,
    pub duration_minutes: i32,
    /// RRULE value, e.g. `FREQ=WEEKLY;BYDAY=TU;UNTIL=20280627`.
    pub rrule: String,
    pub exdates: Vec<ExDate>,
    /// Occurrences that fall on a blackout (school holidays, maintenance) are left out
    /// instead of refusing the series: "Tuesdays from September to June except holidays".
    pub skip_blackouts: bool,
    pub organisation_id: Option<i64>,
}

/// Checks, plans and inserts a series inside a transaction that already holds the lock on
/// `set` (the blocking set of `r`, from `service::lock_blocking_set`); for season allocation,
/// which books many series in one transaction. `season_id` links the series to its season.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_series_locked(
    tx: &Tx<'_>,
    by: Actor<'_>,
    r: &Resource,
    set: &[Resource],
    booker: &Booker,
    inp: &SeriesInput,
    season_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(Series, Vec<Reservation>), ReserveError> {
    let who = person(by)?;
    let mut errs = FieldErrors::new();
    let title = errs.text("title", &inp.title, 200);
    let expanded = expand(
        inp.dtstart_local,
        inp.duration_minutes,
        &inp.rrule,
        &inp.exdates,
    );
    errs.into_result()?;
    let (mut occ, mut excluded) = expanded?;
    let rule = Rule::parse(&inp.rrule)?;
    if let Some(first) = occ.first()
        && first.start < now
    {
        return Err(FieldErrors::single("start", "booking.err.in_past").into());
    }
    let (Some(first), Some(last)) = (occ.first().cloned(), occ.last().cloned()) else {
        return Err(FieldErrors::single("rrule", "booking.series.err.empty").into());
    };
    // One query for the blackouts of the whole span, used to skip and to check.
    let blackouts = rules::blackouts_in(tx.conn(), r, first.start, last.end).await?;
    if inp.skip_blackouts {
        let (keep, hit): (Vec<_>, Vec<_>) = occ.into_iter().partition(|o| {
            !blackouts
                .iter()
                .any(|b| b.starts_at < o.end && b.ends_at > o.start)
        });
        occ = keep;
        excluded.extend(hit.iter().map(|o| o.local_start));
        excluded.sort();
        if occ.is_empty() {
            return Err(FieldErrors::single("rrule", "booking.series.err.empty").into());
        }
    }
    for o in &occ {
        if let Err(e) = rules::check_slot_against(r, o.start, o.end, now, &blackouts) {
            return Err(name_the_day(e, o.local_start).into());
        }
    }
    let settings = rules::settings(tx.conn(), who.tenant_id).await?;
    let statuses = rules::blocking_statuses(&settings);
    let clash = conflicts(tx.conn(), who.tenant_id, r, set, statuses, &occ, None).await?;
    if !clash.is_empty() {
        return Err(ReserveError::Conflict(clash));
    }
    let status = if r.requires_approval {
        REQUESTED
    } else {
        CONFIRMED
    };
    let s = series::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        resource_id: Set(r.id),
        title: Set(title.clone()),
        dtstart_local: Set(inp.dtstart_local.format(LOCAL_FMT).to_string()),
        duration_minutes: Set(inp.duration_minutes),
        rrule: Set(rule.to_rrule_string()),
        exdates: Set(exdates_text(&excluded)),
        status: Set(status.to_string()),
        sequence: Set(0),
        booked_by: Set(Some(who.user_id.0)),
        organisation_id: Set(booker.organisation_id),
        season_id: Set(season_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(tx.conn())
    .await
    .map_err(db_err)?;
    let mut rows = Vec::with_capacity(occ.len());
    for o in &occ {
        rows.push(reservation::ActiveModel {
            tenant_id: Set(who.tenant_id.0),
            resource_id: Set(r.id),
            title: Set(title.clone()),
            starts_at: Set(o.start),
            ends_at: Set(o.end),
            status: Set(status.to_string()),
            booked_by: Set(Some(who.user_id.0)),
            created_at: Set(now),
            series_id: Set(Some(s.id)),
            organisation_id: Set(booker.organisation_id),
            sequence: Set(0),
            fee_cents: Set(rules::fee_cents(r, &booker.fee_group, o.start, o.end)),
            fee_group: Set(booker.fee_group.clone()),
            no_show: Set(false),
            ..Default::default()
        });
    }
    // Chunks keep each statement under SQLite's and PostgreSQL's bind-parameter limits.
    for chunk in rows.chunks(200) {
        reservation::Entity::insert_many(chunk.to_vec())
            .exec(tx.conn())
            .await
            .map_err(db_err)?;
    }
    let created = series_reservations(tx.conn(), who.tenant_id, SeriesId(s.id)).await?;
    tx.audit(
        NewEvent::new("booking.series.created", "booking_series", Some(s.id)).details(json!({
            "resource_id": r.id, "resource": r.name, "title": s.title,
            "dtstart_local": s.dtstart_local, "duration_minutes": s.duration_minutes,
            "rrule": s.rrule, "exdates": s.exdates, "status": s.status,
            "organisation_id": s.organisation_id, "occurrences": created.len(),
            "season_id": season_id,
        })),
    )
    .await?;
    Ok((s, created))
}

/// A field error of one occurrence, with a second error on `rrule` naming its day (the
/// first message alone would not say which of many dates is meant).
fn name_the_day(e: Error, local: NaiveDateTime) -> Error {
    match e {
        Error::Invalid(mut f) => {
            f.add_arg(
                "rrule",
                "booking.series.err.occurrence_refused",
                Some(day_text(local)),
            );
            Error::Invalid(f)
        }
        other => other,
    }
}

/// Active reservations of `set` (in `statuses`) in the way of any occurrence, without the
/// reservations of series `own` (when re-checking an existing series). One range query for
/// the whole series; the buffer rule is `service::overlapping`'s.
async fn conflicts<C: ConnectionTrait>(
    txn: &C,
    tenant: TenantId,
    r: &Resource,
    set: &[Resource],
    statuses: &[&str],
    occ: &[Occurrence],
    own: Option<(i64, &[i64])>,
) -> Result<Vec<Busy>> {
    let (Some(first), Some(last)) = (occ.first(), occ.last()) else {
        return Ok(vec![]);
    };
    let candidates = service::overlapping(
        txn,
        tenant,
        set,
        statuses,
        r.buffer_minutes,
        first.start,
        last.end,
    )
    .await?;
    let buffer_of = |id: i64| {
        set.iter()
            .find(|x| x.id == id)
            .map(|x| x.buffer_minutes)
            .unwrap_or(0)
    };
    let mut out: Vec<Busy> = vec![];
    for x in candidates {
        if let Some((_, ids)) = own
            && ids.contains(&x.id)
        {
            continue;
        }
        let gap = Duration::minutes(i64::from(r.buffer_minutes.max(buffer_of(x.resource_id))));
        if occ
            .iter()
            .any(|o| x.starts_at < o.end + gap && x.ends_at + gap > o.start)
        {
            out.push(Busy::from(&x));
        }
    }
    Ok(out)
}

/// Books a recurring series: one transaction, the resource's blocking set locked once, every
/// occurrence checked against the resource's rules (`rules::check_slot`) and against active
/// reservations (`rules::blocking_statuses`). Any conflict refuses the whole series with all
/// slots in the way; otherwise the series and one reservation per occurrence are stored
/// (`requested` where the resource needs approval, else `confirmed`) with one audit event.
pub async fn reserve_series(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: SeriesInput,
) -> Result<(Series, Vec<Reservation>), ReserveError> {
    let who = person(by)?;
    let now = Utc::now();
    // Cheap checks before the lock: a malformed rule never waits for it.
    let mut errs = FieldErrors::new();
    errs.text("title", &inp.title, 200);
    if let Err(Error::Invalid(e)) = expand(
        inp.dtstart_local,
        inp.duration_minutes,
        &inp.rrule,
        &inp.exdates,
    ) {
        errs.0.extend(e.0);
    }
    errs.into_result()?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let r = service::get_resource(tx.conn(), by, ResourceId(inp.resource_id)).await?;
    let booker =
        rules::booker_for(tx.conn(), by, &r, inp.organisation_id.map(OrganisationId)).await?;
    let set = service::lock_blocking_set(tx.conn(), who.tenant_id, &r).await?;
    let out = insert_series_locked(&tx, by, &r, &set, &booker, &inp, None, now).await?;
    crate::service::notify::series_mail(tx.conn(), &r, &out.0, &out.1, None).await?;
    tx.commit().await?;
    Ok(out)
}

/// Series waiting for a decision, by first occurrence (permission `booking.manage`), at most
/// `service::QUEUE_PAGE * 2`.
pub async fn pending_series(conn: &impl ConnectionTrait, by: Actor<'_>) -> Result<Vec<Series>> {
    let who = person(by)?;
    by.require(MANAGE)?;
    rathaus_store::uow::scoped::<series::Entity>(who.tenant_id)
        .filter(series::Column::Status.eq(REQUESTED))
        .order_by_asc(series::Column::DtstartLocal)
        .order_by_asc(series::Column::Id)
        .limit(service::QUEUE_PAGE * 2)
        .all(conn)
        .await
        .map_err(db_err)
}

// ---------------------------------------------------------------- reading

/// The reservations of a series by start, any status.
pub async fn series_reservations(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    series_id: SeriesId,
) -> Result<Vec<Reservation>> {
    let series_id = i64::from(series_id);
    rathaus_store::uow::scoped::<reservation::Entity>(tenant)
        .filter(reservation::Column::SeriesId.eq(series_id))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

async fn find_series(conn: &impl ConnectionTrait, tenant: TenantId, id: i64) -> Result<Series> {
    rathaus_store::uow::scoped_by_id::<series::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// May `who` see and change series `s`: its booker, a member of its organisation, or staff
/// with `booking.manage`. Everyone else is told it does not exist.
async fn may_handle(conn: &impl ConnectionTrait, by: Actor<'_>, s: &Series) -> Result<()> {
    let who = person(by)?;
    if may(by, MANAGE) || s.booked_by == Some(who.user_id.0) {
        return Ok(());
    }
    if let Some(org) = s.organisation_id
        && rules::organisations_of(conn, by).await?.contains(&org)
    {
        return Ok(());
    }
    Err(Error::NotFound)
}

/// A series with its reservations, for whoever may handle it.
pub async fn get_series(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    id: SeriesId,
) -> Result<(Series, Vec<Reservation>)> {
    let id = i64::from(id);
    let who = person(by)?;
    let s = find_series(conn, who.tenant_id, id).await?;
    may_handle(conn, by, &s).await?;
    let list = series_reservations(conn, who.tenant_id, SeriesId(id)).await?;
    Ok((s, list))
}

// ---------------------------------------------------------------- changes

/// Opens a change of series `id`: finds it, checks who may, locks its resource's blocking
/// set, then reads the series again (a competitor may have changed it before the lock).
async fn open_series<C: ConnectionTrait>(
    txn: &C,
    by: Actor<'_>,
    id: i64,
) -> Result<(Series, Resource, Vec<Resource>)> {
    let who = person(by)?;
    let first = find_series(txn, who.tenant_id, id).await?;
    may_handle(txn, by, &first).await?;
    let r = service::find_resource(txn, who.tenant_id, first.resource_id).await?;
    let set = service::lock_blocking_set(txn, who.tenant_id, &r).await?;
    let s = find_series(txn, who.tenant_id, id).await?;
    Ok((s, r, set))
}

/// The series of reservation `reservation_id`, opened for a change; NotFound for a
/// reservation that belongs to no series.
async fn open_occurrence<C: ConnectionTrait>(
    txn: &C,
    by: Actor<'_>,
    reservation_id: i64,
) -> Result<(Series, Resource, Vec<Resource>, Reservation)> {
    let who = person(by)?;
    let res =
        rathaus_store::uow::scoped_by_id::<reservation::Entity, _>(who.tenant_id, reservation_id)
            .one(txn)
            .await?
            .ok_or(Error::NotFound)?;
    let sid = res.series_id.ok_or(Error::NotFound)?;
    let (s, r, set) = open_series(txn, by, sid).await?;
    let res = reservation::Entity::find_by_id(reservation_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((s, r, set, res))
}

pub fn is_active(r: &Reservation) -> bool {
    r.status == REQUESTED || r.status == CONFIRMED
}

async fn bump_series<C: ConnectionTrait>(
    txn: &C,
    s: &Series,
    status: Option<&str>,
    rrule: Option<String>,
    exdates: Option<String>,
) -> Result<Series> {
    let mut am: series::ActiveModel = s.clone().into();
    am.sequence = Set(s.sequence + 1);
    am.updated_at = Set(Utc::now());
    if let Some(st) = status {
        am.status = Set(st.to_string());
    }
    if let Some(r) = rrule {
        am.rrule = Set(r);
    }
    if let Some(x) = exdates {
        am.exdates = Set(x);
    }
    am.update(txn).await.map_err(db_err)
}

async fn set_status<C: ConnectionTrait>(
    txn: &C,
    by: Actor<'_>,
    res: &Reservation,
    status: &str,
    reason: Option<String>,
) -> Result<Reservation> {
    let who = person(by)?;
    let mut am: reservation::ActiveModel = res.clone().into();
    am.status = Set(status.to_string());
    am.sequence = Set(res.sequence + 1);
    am.updated_at = Set(Some(Utc::now()));
    if status == CONFIRMED || status == REJECTED {
        am.decision_reason = Set(reason);
        am.decided_by = Set(Some(who.user_id.0));
        am.decided_at = Set(Some(Utc::now()));
    }
    am.update(txn).await.map_err(db_err)
}

fn audit_event(action: &str, s: &Series, details: serde_json::Value) -> NewEvent {
    NewEvent::new(action, "booking_series", Some(s.id)).details(details)
}

/// Cancels one occurrence of a series: the reservation becomes `cancelled`, its local start
/// an EXDATE of the series; both SEQUENCEs rise. Cancelling a cancelled one changes nothing.
pub async fn cancel_occurrence(
    db: &DatabaseConnection,
    by: Actor<'_>,
    reservation_id: ReservationId,
) -> Result<Reservation> {
    let reservation_id = i64::from(reservation_id);
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (s, r, _, res) = open_occurrence(tx.conn(), by, reservation_id).await?;
    if res.status == CANCELLED {
        return Ok(res);
    }
    if !is_active(&res) {
        return Err(Error::Conflict("booking.err.not_active".into()));
    }
    crate::service::check_cancel_deadline(by, &r, res.starts_at, Utc::now())?;
    let after = set_status(tx.conn(), by, &res, CANCELLED, None).await?;
    let mut ex = stored_exdates(&s);
    ex.push(local_of(res.starts_at));
    ex.sort();
    ex.dedup();
    let s2 = bump_series(tx.conn(), &s, None, None, Some(exdates_text(&ex))).await?;
    tx.audit(audit_event(
        "booking.series.occurrence_cancelled",
        &s2,
        json!({"reservation_id": res.id, "start": res.starts_at, "end": res.ends_at,
                   "status_before": res.status, "exdates": s2.exdates}),
    ))
    .await?;
    crate::service::notify::cancelled(tx.conn(), &r, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Cancels a series from local day `from` on: its active occurrences starting that day or
/// later become `cancelled` and the rule ends the day before (UNTIL). From the first
/// occurrence's day or earlier the whole series is cancelled. Returns the series and the
/// reservations cancelled now.
pub async fn cancel_from(
    db: &DatabaseConnection,
    by: Actor<'_>,
    series_id: SeriesId,
    from: NaiveDate,
) -> Result<(Series, Vec<Reservation>)> {
    let series_id = i64::from(series_id);
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (s, r, _) = open_series(tx.conn(), by, series_id).await?;
    if s.status == CANCELLED || s.status == REJECTED {
        return Err(Error::Conflict("booking.err.not_active".into()));
    }
    let all = series_reservations(tx.conn(), who.tenant_id, SeriesId(s.id)).await?;
    // The deadline holds for the first occurrence that would be cancelled.
    let now = Utc::now();
    if let Some(first) = all
        .iter()
        .filter(|x| is_active(x) && x.starts_at > now && local_of(x.starts_at).date() >= from)
        .map(|x| x.starts_at)
        .min()
    {
        crate::service::check_cancel_deadline(by, &r, first, now)?;
    }
    let first_day = stored_dtstart(&s)
        .map(|d| d.date())
        .into_iter()
        .chain(all.iter().map(|r| local_of(r.starts_at).date()))
        .min();
    let whole = first_day.is_none_or(|d| from <= d);
    let mut cancelled = vec![];
    for r in all
        .iter()
        .filter(|r| is_active(r) && (whole || local_of(r.starts_at).date() >= from))
    {
        cancelled.push(set_status(tx.conn(), by, r, CANCELLED, None).await?);
    }
    let s2 = if whole {
        bump_series(tx.conn(), &s, Some(CANCELLED), None, None).await?
    } else {
        let rule = Rule::parse(&s.rrule)?;
        let ending = rule.ending_on(from - Duration::days(1));
        bump_series(tx.conn(), &s, None, Some(ending.to_rrule_string()), None).await?
    };
    tx.audit(audit_event(
        "booking.series.cancelled_from",
        &s2,
        json!({"from": from, "whole": whole, "cancelled": cancelled.len(),
                   "rrule_before": s.rrule, "rrule": s2.rrule, "status": s2.status}),
    ))
    .await?;
    tx.commit().await?;
    Ok((s2, cancelled))
}

/// Moves one occurrence to new local times (Europe/Berlin), checked like a booking (rules,
/// conflicts under the lock, its own slot excluded); its SEQUENCE rises, its fee follows the
/// new length, and its old start becomes an EXDATE of the rule (the moved occurrence stays
/// in the series as an extra date).
pub async fn move_occurrence(
    db: &DatabaseConnection,
    by: Actor<'_>,
    reservation_id: ReservationId,
    new_start_local: NaiveDateTime,
    new_end_local: NaiveDateTime,
) -> Result<Reservation, ReserveError> {
    let reservation_id = i64::from(reservation_id);
    let who = person(by)?;
    let now = Utc::now();
    let mut errs = FieldErrors::new();
    let start = crate::domain::time::local_to_utc(&mut errs, "start", new_start_local);
    let end = crate::domain::time::local_to_utc(&mut errs, "end", new_end_local);
    if let (Some(s), Some(e)) = (start, end) {
        if e == s {
            errs.add("end", "booking.err.zero_length");
        } else if e < s {
            errs.add("end", "booking.err.end_before_start");
        } else if s < now {
            errs.add("start", "booking.err.in_past");
        }
    }
    if new_start_local.second() != 0 || new_end_local.second() != 0 {
        errs.add("start", "booking.err.whole_minutes");
    }
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (s, r, set, res) = open_occurrence(tx.conn(), by, reservation_id).await?;
    errs.into_result()?;
    let (Some(start), Some(end)) = (start, end) else {
        return Err(Error::internal("times missing").into());
    };
    if !is_active(&res) {
        return Err(Error::Conflict("booking.err.not_active".into()).into());
    }
    rules::check_slot(tx.conn(), &r, start, end, now).await?;
    let settings = rules::settings(tx.conn(), who.tenant_id).await?;
    let occ = [Occurrence {
        local_start: new_start_local,
        start,
        end,
    }];
    let own = [res.id];
    let clash = conflicts(
        tx.conn(),
        who.tenant_id,
        &r,
        &set,
        rules::blocking_statuses(&settings),
        &occ,
        Some((s.id, &own)),
    )
    .await?;
    if !clash.is_empty() {
        return Err(ReserveError::Conflict(clash));
    }
    let mut am: reservation::ActiveModel = res.clone().into();
    am.starts_at = Set(start);
    am.ends_at = Set(end);
    am.sequence = Set(res.sequence + 1);
    am.fee_cents = Set(rules::fee_cents(&r, &res.fee_group, start, end));
    am.updated_at = Set(Some(now));
    let after = am.update(tx.conn()).await.map_err(db_err)?;
    let old_local = local_of(res.starts_at);
    let mut ex = stored_exdates(&s);
    let s2 = if expanded_contains(&s, old_local) && !ex.contains(&old_local) {
        ex.push(old_local);
        ex.sort();
        bump_series(tx.conn(), &s, None, None, Some(exdates_text(&ex))).await?
    } else {
        s.clone()
    };
    tx.audit(audit_event(
        "booking.series.occurrence_moved",
        &s2,
        json!({"reservation_id": res.id, "start_before": res.starts_at,
                   "end_before": res.ends_at, "start": start, "end": end}),
    ))
    .await?;
    crate::service::notify::changed(tx.conn(), &r, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Whether the series' rule yields `local` (it was no moved occurrence already).
fn expanded_contains(s: &Series, local: NaiveDateTime) -> bool {
    let Some(dt) = stored_dtstart(s) else {
        return false;
    };
    Rule::parse(&s.rrule)
        .and_then(|r| r.local_starts(dt, MAX_OCCURRENCES + MAX_EXDATES + 1))
        .is_ok_and(|v| v.contains(&local))
}

/// Opens a decision on a whole series (permission `booking.manage`): refused unless some
/// occurrence is still an open request.
async fn open_decision(
    tx: &Tx<'_>,
    by: Actor<'_>,
    id: i64,
) -> Result<(Series, Resource, Vec<Resource>, Vec<Reservation>)> {
    let who = person(by)?;
    tx.require(MANAGE)?;
    let (s, r, set) = open_series(tx.conn(), by, id).await?;
    let pending: Vec<Reservation> = series_reservations(tx.conn(), who.tenant_id, SeriesId(s.id))
        .await?
        .into_iter()
        .filter(|x| x.status == REQUESTED)
        .collect();
    if pending.is_empty() {
        return Err(Error::Conflict(NOT_REQUESTED_KEY.into()));
    }
    Ok((s, r, set, pending))
}

/// Approves every open occurrence of a series at once (permission `booking.manage`): all
/// become `confirmed`, and so does the series. Refused with all slots in the way when a
/// confirmed reservation now overlaps any of them (checked under the lock).
pub async fn approve_series(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: SeriesId,
) -> Result<(Series, Vec<Reservation>), ReserveError> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (s, r, set, pending) = open_decision(&tx, by, id).await?;
    let occ: Vec<Occurrence> = pending
        .iter()
        .map(|x| Occurrence {
            local_start: local_of(x.starts_at),
            start: x.starts_at,
            end: x.ends_at,
        })
        .collect();
    let ids: Vec<i64> = pending.iter().map(|x| x.id).collect();
    let clash = conflicts(
        tx.conn(),
        who.tenant_id,
        &r,
        &set,
        &[CONFIRMED],
        &occ,
        Some((s.id, &ids)),
    )
    .await?;
    if !clash.is_empty() {
        return Err(ReserveError::Conflict(clash));
    }
    let mut out = vec![];
    for x in &pending {
        out.push(set_status(tx.conn(), by, x, CONFIRMED, None).await?);
    }
    let s2 = bump_series(tx.conn(), &s, Some(CONFIRMED), None, None).await?;
    tx.audit(audit_event(
        "booking.series.approved",
        &s2,
        json!({"resource_id": r.id, "title": s.title, "occurrences": out.len()}),
    ))
    .await?;
    crate::service::notify::series_mail(tx.conn(), &r, &s2, &out, None).await?;
    tx.commit().await?;
    Ok((s2, out))
}

/// Rejects every open occurrence of a series with a reason (permission `booking.manage`;
/// 1 to `service::MAX_REASON` characters): all become `rejected`, and so does the series.
pub async fn reject_series(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: SeriesId,
    reason: &str,
) -> Result<(Series, Vec<Reservation>)> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let reason = errs.text("reason", reason, service::MAX_REASON);
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (s, r, _, pending) = open_decision(&tx, by, id).await?;
    errs.into_result()?;
    let mut out = vec![];
    for x in &pending {
        out.push(set_status(tx.conn(), by, x, REJECTED, Some(reason.clone())).await?);
    }
    let s2 = bump_series(tx.conn(), &s, Some(REJECTED), None, None).await?;
    tx.audit(audit_event(
        "booking.series.rejected",
        &s2,
        json!({"resource_id": r.id, "title": s.title, "occurrences": out.len(),
                   "reason": reason}),
    ))
    .await?;
    crate::service::notify::series_mail(tx.conn(), &r, &s2, &out, Some(&reason)).await?;
    tx.commit().await?;
    Ok((s2, out))
}

// ---------------------------------------------------------------- the rule in words

fn weekday_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "MO" => "booking.day.mon",
        "TU" => "booking.day.tue",
        "WE" => "booking.day.wed",
        "TH" => "booking.day.thu",
        "FR" => "booking.day.fri",
        "SA" => "booking.day.sat",
        "SU" => "booking.day.sun",
        _ => return None,
    })
}

/// The rule in German (or English) words, e.g. "wöchentlich; Di; bis 27.06.2028".
pub fn describe(t: &Catalog, s: &Series) -> String {
    let Ok(rule) = Rule::parse(&s.rrule) else {
        return s.rrule.clone();
    };
    let interval: u32 = rule
        .value("INTERVAL")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let freq = rule.value("FREQ").unwrap_or("WEEKLY").to_ascii_lowercase();
    let mut out = vec![if interval > 1 {
        t.fmt(
            &format!("booking.series.every.{freq}"),
            &interval.to_string(),
        )
    } else {
        t.get(&format!("booking.series.freq.{freq}")).to_string()
    }];
    if let Some(days) = rule.value("BYDAY") {
        let words: Vec<String> = days
            .split(',')
            .map(|d| {
                // "1TU" (the first Tuesday of the month) keeps its number.
                let code = d.trim_start_matches(['+', '-', '0', '1', '2', '3', '4', '5']);
                let prefix = &d[..d.len() - code.len()];
                match weekday_key(code) {
                    Some(k) if prefix.is_empty() => t.get(k).to_string(),
                    Some(k) => format!("{prefix}. {}", t.get(k)),
                    None => d.to_string(),
                }
            })
            .collect();
        out.push(words.join(", "));
    }
    if let Some(c) = rule.count {
        out.push(t.fmt("booking.series.count", &c.to_string()));
    }
    if let Some(u) = rule.until_local {
        out.push(t.fmt("booking.series.until", &u.format("%d.%m.%Y").to_string()));
    }
    out.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn weekly_slot_keeps_its_wall_clock_time_across_both_changes() {
        let (occ, _) = expand(
            local("2027-09-07T18:00"),
            120,
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20280627",
            &[],
        )
        .unwrap();
        assert_eq!(occ.first().unwrap().local_start, local("2027-09-07T18:00"));
        assert_eq!(occ.last().unwrap().local_start, local("2028-06-27T18:00"));
        assert!(
            occ.iter()
                .all(|o| o.local_start.format("%H:%M").to_string() == "18:00")
        );
        // Summer time: 16:00 UTC; winter time: 17:00 UTC.
        assert_eq!(occ[0].start.format("%H:%M").to_string(), "16:00");
        let winter = occ
            .iter()
            .find(|o| o.local_start.date() == NaiveDate::from_ymd_opt(2027, 12, 7).unwrap())
            .unwrap();
        assert_eq!(winter.start.format("%H:%M").to_string(), "17:00");
        assert!(
            occ.iter()
                .all(|o| o.end - o.start == Duration::minutes(120))
        );
    }

    #[test]
    fn malformed_endless_and_huge_rules_are_refused() {
        let dt = local("2027-09-07T18:00");
        for (rule, key) in [
            (
                "FREQ=WEEKLY;BYDAY=XX;COUNT=3",
                "booking.series.err.rrule_invalid",
            ),
            ("nonsense", "booking.series.err.rrule_invalid"),
            ("FREQ=HOURLY;COUNT=3", "booking.series.err.rrule_freq"),
            ("FREQ=WEEKLY", "booking.series.err.rrule_no_end"),
            ("FREQ=DAILY;COUNT=1001", "booking.series.err.too_many"),
            ("FREQ=DAILY;UNTIL=20350101", "booking.series.err.too_many"),
            ("FREQ=DAILY;UNTIL=2035", "booking.series.err.rrule_until"),
            ("", "booking.series.err.rrule_required"),
        ] {
            let e = expand(dt, 60, rule, &[]).unwrap_err();
            let Error::Invalid(f) = e else {
                panic!("{rule}")
            };
            assert_eq!(f.get("rrule").map(|x| x.key.as_str()), Some(key), "{rule}");
        }
        let (occ, _) = expand(dt, 60, "FREQ=DAILY;COUNT=1000", &[]).unwrap();
        assert_eq!(occ.len(), MAX_OCCURRENCES);
    }

    #[test]
    fn a_start_in_the_spring_gap_is_refused_naming_its_day() {
        let e = expand(local("2027-03-21T02:30"), 60, "FREQ=WEEKLY;COUNT=3", &[]).unwrap_err();
        let Error::Invalid(f) = e else { panic!() };
        let err = f.get("start").unwrap();
        assert_eq!(err.key, "booking.series.err.local_gap");
        assert_eq!(err.arg.as_deref(), Some("28.03.2027 02:30"));
    }

    #[test]
    fn exdates_and_until_in_utc() {
        let (occ, ex) = expand(
            local("2027-09-07T18:00"),
            60,
            "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4",
            &[
                ExDate::parse("2027-09-14").unwrap(),
                ExDate::parse("2027-09-21T18:00").unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(occ.len(), 2);
        assert_eq!(
            ex,
            vec![local("2027-09-14T18:00"), local("2027-09-21T18:00")]
        );
        let r = Rule::parse("FREQ=WEEKLY;BYDAY=TU;UNTIL=20280627").unwrap();
        assert_eq!(
            r.to_rrule_string(),
            "FREQ=WEEKLY;UNTIL=20280627T215959Z;BYDAY=TU"
        );
        let again = Rule::parse(&r.to_rrule_string()).unwrap();
        assert_eq!(again.until_local, r.until_local);
        let cut = r.ending_on(NaiveDate::from_ymd_opt(2027, 12, 31).unwrap());
        assert_eq!(
            cut.to_rrule_string(),
            "FREQ=WEEKLY;UNTIL=20271231T225959Z;BYDAY=TU"
        );
    }
}
