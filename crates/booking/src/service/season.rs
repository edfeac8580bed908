//! Season allocation, "Hallenbelegung" (issue 4, item 5). Staff with `booking.manage` open a
//! season (local dates, both inclusive); while it is `open`, members of an organisation ask
//! for weekly slots of halls, hall parts and fields. Staff allocate or decline each request
//! (by hand, or automatically in the tenant's priority order, e.g. schools before clubs
//! before others, then by submission time), see conflicts side by side, and publish the
//! plan: one transaction that books a confirmed weekly series per allocated request (through
//! `series::insert_series_locked`, skipping blackout days) and mails each organisation. Any
//! refused request aborts the whole publish; a published season is read-only.
//!
//! Pages: `/buchung/saison` (seasons; form to open one, priority settings),
//! `/buchung/saison/{id}` (managers: allocation; members: their requests and the form).

use crate::domain::OrganisationId;
use crate::domain::{RequestStatus, SeasonStatus};
use crate::domain::{SeasonId, SeasonRequestId};
use crate::service::rules::{self, Booker};
use crate::service::series::{self, SeriesInput};
use crate::service::{self, CONFIRMED, MANAGE, Reservation, ReserveError, Resource};
use crate::service::{may, person};
use crate::store::entity::{organisation, reservation, resource, season, season_request, settings};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Tx};
use rathaus_store::{db_err, mail};
use rathaus_web::i18n::{Catalog, Lang, catalog};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

pub use season::Model as Season;
pub use season_request::Model as SeasonRequest;

// The stored texts of the domain enums (`domain::kinds`), for queries on the text columns.
pub const OPEN: &str = SeasonStatus::Open.as_str();
pub const PUBLISHED: &str = SeasonStatus::Published.as_str();
pub const PENDING: &str = RequestStatus::Pending.as_str();
pub const ALLOCATED: &str = RequestStatus::Allocated.as_str();
pub const DECLINED: &str = RequestStatus::Declined.as_str();
/// Resource kinds a season allocates (weekly training slots).
pub const SEASON_KINDS: &[&str] = &[
    service::HALL,
    service::HALL_PART,
    crate::domain::ResourceKind::Field.as_str(),
];
/// Weekday codes of the RRULE, Monday first (the request's `weekday` is the index).
pub const BYDAY: &[&str] = &["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/// The longest season: a bit more than a year.
pub const MAX_SEASON_DAYS: i64 = 400;
pub const MAX_NOTE: usize = 500;
pub const MAX_REASON: usize = 500;
/// How many existing bookings in the way one request lists by name.
pub const EXISTING_SHOWN: usize = 3;

pub const DATE_FMT: &str = "%Y-%m-%d";

// ---------------------------------------------------------------- service: seasons

/// What staff enter for a season: local dates `YYYY-MM-DD`, both inclusive.
#[derive(Debug, Clone, Default)]
pub struct SeasonInput {
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
}

fn parse_date(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.is_empty() {
        errs.add(field, "err.required");
        return None;
    }
    let d = NaiveDate::parse_from_str(v, DATE_FMT).ok();
    if d.is_none() {
        errs.add(field, "booking.err.date_invalid");
    }
    d
}

fn season_dates(s: &Season) -> Result<(NaiveDate, NaiveDate)> {
    let p = |v: &str| NaiveDate::parse_from_str(v, DATE_FMT).map_err(Error::internal);
    Ok((p(&s.starts_on)?, p(&s.ends_on)?))
}

/// Opens a season (permission `booking.manage`). Errors: name, dates that are no dates, an
/// end before the start (`ends_on`), longer than `MAX_SEASON_DAYS`.
pub async fn create_season(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: SeasonInput,
) -> Result<Season> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, 200);
    let from = parse_date(&mut errs, "starts_on", &inp.starts_on);
    let to = parse_date(&mut errs, "ends_on", &inp.ends_on);
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            errs.add("ends_on", "booking.season.err.dates_reversed");
        } else if (t - f).num_days() > MAX_SEASON_DAYS {
            errs.add_arg(
                "ends_on",
                "booking.season.err.too_long",
                Some(MAX_SEASON_DAYS),
            );
        }
    }
    errs.into_result()?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(Error::internal("dates missing"));
    };
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let s = season::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        name: Set(name),
        starts_on: Set(from.format(DATE_FMT).to_string()),
        ends_on: Set(to.format(DATE_FMT).to_string()),
        status: Set(OPEN.into()),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(tx.conn())
    .await?;
    tx.audit(
        NewEvent::new("booking.season.created", "booking_season", Some(s.id)).details(json!({
            "name": s.name, "starts_on": s.starts_on, "ends_on": s.ends_on,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// Managers and members of an organisation take part in seasons; everyone else is refused.
async fn require_participant(conn: &impl ConnectionTrait, by: Actor<'_>) -> Result<Vec<i64>> {
    let _who = person(by)?;
    let orgs = rules::organisations_of(conn, by).await?;
    if may(by, MANAGE) || !orgs.is_empty() {
        Ok(orgs)
    } else {
        Err(Error::Forbidden)
    }
}

/// The seasons of the tenant, the latest first (managers and organisation members).
pub async fn list_seasons(conn: &impl ConnectionTrait, by: Actor<'_>) -> Result<Vec<Season>> {
    let who = person(by)?;
    require_participant(conn, by).await?;
    rathaus_store::uow::scoped::<season::Entity>(who.tenant_id)
        .order_by_desc(season::Column::StartsOn)
        .order_by_desc(season::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

async fn find_season(conn: &impl ConnectionTrait, tenant: TenantId, id: i64) -> Result<Season> {
    rathaus_store::uow::scoped_by_id::<season::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// One season (managers and organisation members).
pub async fn get_season(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    id: SeasonId,
) -> Result<Season> {
    let id = i64::from(id);
    let who = person(by)?;
    require_participant(conn, by).await?;
    find_season(conn, who.tenant_id, id).await
}

fn require_open(s: &Season) -> Result<()> {
    if s.status == OPEN {
        Ok(())
    } else {
        Err(Error::Conflict("booking.season.err.published".into()))
    }
}

// ---------------------------------------------------------------- service: requests

/// What an organisation member asks for: a weekly slot, local times `HH:MM`.
#[derive(Debug, Clone, Default)]
pub struct RequestInput {
    pub organisation_id: i64,
    pub resource_id: i64,
    /// 0 = Monday .. 6 = Sunday; anything else is refused.
    pub weekday: i32,
    pub start_time: String,
    pub end_time: String,
    pub title: String,
    pub note: String,
}

/// `HH:MM`, exactly five characters (the column's width), 00:00 to 23:59.
fn parse_hhmm(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveTime> {
    let v = v.trim();
    if v.is_empty() {
        errs.add(field, "err.required");
        return None;
    }
    let t = (v.len() == 5)
        .then(|| NaiveTime::parse_from_str(v, "%H:%M").ok())
        .flatten();
    if t.is_none() {
        errs.add(field, "booking.season.err.time");
    }
    t
}

fn minutes(t: NaiveTime) -> u32 {
    t.hour() * 60 + t.minute()
}

/// The dates of the season that fall on `weekday` (0 = Monday).
fn dates_on(from: NaiveDate, to: NaiveDate, weekday: i32) -> Vec<NaiveDate> {
    let mut d = from;
    while d.weekday().num_days_from_monday() as i32 != weekday && d <= to {
        d += Duration::days(1);
    }
    let mut out = vec![];
    while d <= to {
        out.push(d);
        d += Duration::days(7);
    }
    out
}

/// Submits a request for an organisation while the season is open: the submitter must be a
/// member (or a manager); the resource a hall, hall part or field of the tenant that is not
/// for staff only. Times must exist on every date of the season (no clock-change gap) and
/// fit the resource's opening hours and duration limits.
pub async fn submit_request(
    db: &DatabaseConnection,
    by: Actor<'_>,
    season_id: SeasonId,
    inp: RequestInput,
) -> Result<SeasonRequest> {
    let season_id = i64::from(season_id);
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let orgs = require_participant(tx.conn(), by).await?;
    let s = find_season(tx.conn(), who.tenant_id, season_id).await?;
    require_open(&s)?;
    let mut errs = FieldErrors::new();
    let org = rathaus_store::uow::scoped_by_id::<organisation::Entity, _>(
        who.tenant_id,
        inp.organisation_id,
    )
    .one(tx.conn())
    .await?
    .filter(|o| may(by, MANAGE) || orgs.contains(&o.id));
    if org.is_none() {
        errs.add("organisation_id", "booking.rules.not_member");
    }
    let r = rathaus_store::uow::scoped_by_id::<resource::Entity, _>(who.tenant_id, inp.resource_id)
        .one(tx.conn())
        .await?
        .filter(|r| {
            r.active && SEASON_KINDS.contains(&r.kind.as_str()) && r.bookable_by != rules::STAFF
        });
    if r.is_none() {
        errs.add("resource_id", "err.invalid_choice");
    }
    let weekday_ok = (0..7).contains(&inp.weekday);
    if !weekday_ok {
        errs.add("weekday", "booking.season.err.weekday");
    }
    let start = parse_hhmm(&mut errs, "start_time", &inp.start_time);
    let end = parse_hhmm(&mut errs, "end_time", &inp.end_time);
    if let (Some(a), Some(b)) = (start, end) {
        if a == b {
            errs.add("end_time", "booking.err.zero_length");
        } else if b < a {
            errs.add("end_time", "booking.err.end_before_start");
        }
    }
    let title = errs.text("title", &inp.title, 200);
    let note = errs.optional_text("note", &inp.note, MAX_NOTE);
    if let (Some(r), Some(a), Some(b), true, true) = (&r, start, end, weekday_ok, errs.is_empty()) {
        let len = i64::from(minutes(b) - minutes(a));
        if len < i64::from(r.min_minutes) {
            errs.add_arg("end_time", "booking.err.too_short", Some(r.min_minutes));
        } else if len > i64::from(r.max_minutes) {
            errs.add_arg("end_time", "booking.err.too_long", Some(r.max_minutes));
        }
        if let Some(w) = rules::opening_hours(r) {
            let open =
                w[inp.weekday as usize].is_some_and(|(o, c)| o <= minutes(a) && minutes(b) <= c);
            if !open {
                errs.add("start_time", "booking.rules.closed");
            }
        }
        // 02:30 on the spring-forward Sunday does not exist, 02:30 in autumn twice.
        let (from, to) = season_dates(&s)?;
        for d in dates_on(from, to, inp.weekday) {
            for (field, t) in [("start_time", a), ("end_time", b)] {
                let local = d.and_time(t);
                if !matches!(
                    Berlin.from_local_datetime(&local),
                    chrono::LocalResult::Single(_)
                ) && errs.get(field).is_none()
                {
                    let key = if Berlin.from_local_datetime(&local).earliest().is_some() {
                        "booking.series.err.local_ambiguous"
                    } else {
                        "booking.series.err.local_gap"
                    };
                    errs.add_arg(field, key, Some(local.format("%d.%m.%Y %H:%M")));
                }
            }
        }
    }
    errs.into_result()?;
    let (Some(org), Some(r), Some(a), Some(b)) = (org, r, start, end) else {
        return Err(Error::internal("request input missing"));
    };
    let req = season_request::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        season_id: Set(s.id),
        organisation_id: Set(org.id),
        resource_id: Set(r.id),
        title: Set(title),
        weekday: Set(inp.weekday),
        start_time: Set(a.format("%H:%M").to_string()),
        end_time: Set(b.format("%H:%M").to_string()),
        status: Set(PENDING.into()),
        note: Set(note),
        submitted_by: Set(Some(who.user_id.0)),
        series_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(tx.conn())
    .await?;
    tx.audit(
        NewEvent::new(
            "booking.season.request_submitted",
            "booking_season_request",
            Some(req.id),
        )
        .details(request_json(&req)),
    )
    .await?;
    tx.commit().await?;
    Ok(req)
}

fn request_json(r: &SeasonRequest) -> serde_json::Value {
    json!({
        "season_id": r.season_id, "organisation_id": r.organisation_id,
        "resource_id": r.resource_id, "title": r.title, "weekday": r.weekday,
        "start_time": r.start_time, "end_time": r.end_time, "status": r.status,
        "note": r.note,
    })
}

/// The kinds in allocation order, from the tenant's settings (unknown kinds last).
pub fn priority_ranks(s: &settings::Model) -> BTreeMap<String, usize> {
    s.priority_order
        .split(',')
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .enumerate()
        .map(|(i, k)| (k, i))
        .collect()
}

/// A request with what the pages and the allocation need to know about it.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub request: SeasonRequest,
    pub organisation: organisation::Model,
    pub resource: Resource,
}

/// The requests of a season in allocation order: by the priority of the organisation's kind
/// (tenant settings), then by submission time. Managers see all, members their own
/// organisations' requests.
pub async fn ranked_requests(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    season_id: SeasonId,
) -> Result<Vec<Ranked>> {
    let season_id = i64::from(season_id);
    let who = person(by)?;
    let orgs = require_participant(conn, by).await?;
    let s = find_season(conn, who.tenant_id, season_id).await?;
    let mut q = rathaus_store::uow::scoped::<season_request::Entity>(who.tenant_id)
        .filter(season_request::Column::SeasonId.eq(s.id));
    if !may(by, MANAGE) {
        q = q.filter(season_request::Column::OrganisationId.is_in(orgs));
    }
    let reqs = q.all(conn).await?;
    rank(conn, who.tenant_id, reqs).await
}

async fn rank(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    reqs: Vec<SeasonRequest>,
) -> Result<Vec<Ranked>> {
    let org_ids: BTreeSet<i64> = reqs.iter().map(|r| r.organisation_id).collect();
    let orgs: BTreeMap<i64, organisation::Model> =
        rathaus_store::uow::scoped::<organisation::Entity>(tenant)
            .filter(organisation::Column::Id.is_in(org_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
    let res_ids: BTreeSet<i64> = reqs.iter().map(|r| r.resource_id).collect();
    let resources: BTreeMap<i64, Resource> = rathaus_store::uow::scoped::<resource::Entity>(tenant)
        .filter(resource::Column::Id.is_in(res_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let ranks = priority_ranks(&rules::settings(conn, tenant).await?);
    let mut out: Vec<Ranked> = reqs
        .into_iter()
        .filter_map(|r| {
            Some(Ranked {
                organisation: orgs.get(&r.organisation_id)?.clone(),
                resource: resources.get(&r.resource_id)?.clone(),
                request: r,
            })
        })
        .collect();
    out.sort_by_key(|x| {
        (
            ranks
                .get(&x.organisation.kind)
                .copied()
                .unwrap_or(usize::MAX),
            x.request.created_at,
            x.request.id,
        )
    });
    Ok(out)
}

/// Do reservations of `a` and `b` block each other: the same resource, or a hall and one of
/// its parts (sibling parts do not), as `service::blocking_set` has it.
fn blocks(a: &Resource, b: &Resource) -> bool {
    a.id == b.id || a.parent_id == Some(b.id) || b.parent_id == Some(a.id)
}

/// Two requests want the same place at the same time of the same weekday.
fn clash(a: &Ranked, b: &Ranked) -> bool {
    a.request.id != b.request.id
        && a.request.weekday == b.request.weekday
        && blocks(&a.resource, &b.resource)
        // `HH:MM` strings compare like the times they are.
        && a.request.start_time < b.request.end_time
        && b.request.start_time < a.request.end_time
}

/// What stands in a request's way.
#[derive(Debug, Clone, Default)]
pub struct Conflicts {
    /// Other requests of the season (ids) for the same place and time.
    pub requests: Vec<i64>,
    /// Existing active bookings of the place inside the season at that weekday and time.
    pub existing: Vec<Reservation>,
}

/// The weekly occurrences of a request within the season as UTC instants (times that do not
/// exist on a date are left out here; submission refuses them).
fn occurrences(s: &Season, r: &SeasonRequest) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    let (from, to) = season_dates(s)?;
    let t = |v: &str| NaiveTime::parse_from_str(v, "%H:%M").map_err(Error::internal);
    let (a, b) = (t(&r.start_time)?, t(&r.end_time)?);
    Ok(dates_on(from, to, r.weekday)
        .into_iter()
        .filter_map(|d| {
            let s = Berlin.from_local_datetime(&d.and_time(a)).earliest()?;
            let e = Berlin.from_local_datetime(&d.and_time(b)).latest()?;
            Some((s.to_utc(), e.to_utc()))
        })
        .collect())
}

/// The conflicts of every request of the season (by request id), for the allocation page.
pub async fn conflicts(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    s: &Season,
    ranked: &[Ranked],
) -> Result<BTreeMap<i64, Conflicts>> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let (from, to) = season_dates(s)?;
    let (lo, hi) = (day_start(from), day_start(to + Duration::days(1)));
    let settings = rules::settings(conn, who.tenant_id).await?;
    let statuses = rules::blocking_statuses(&settings);
    // The season's own published series are no conflict of the plan they came from.
    let own: BTreeSet<i64> = ranked.iter().filter_map(|x| x.request.series_id).collect();
    let mut out = BTreeMap::new();
    for x in ranked {
        let mut c = Conflicts {
            requests: ranked
                .iter()
                .filter(|y| y.request.status != DECLINED && clash(x, y))
                .map(|y| y.request.id)
                .collect(),
            existing: vec![],
        };
        if x.request.status != DECLINED && x.request.series_id.is_none() {
            let set = service::blocking_set(conn, who.tenant_id, &x.resource).await?;
            let occ = occurrences(s, &x.request)?;
            let found = service::overlapping(
                conn,
                who.tenant_id,
                &set,
                statuses,
                x.resource.buffer_minutes,
                lo,
                hi,
            )
            .await?;
            let gap = |rid: i64| {
                let b = set
                    .iter()
                    .find(|r| r.id == rid)
                    .map(|r| r.buffer_minutes)
                    .unwrap_or(0);
                Duration::minutes(i64::from(b.max(x.resource.buffer_minutes)))
            };
            c.existing = found
                .into_iter()
                .filter(|e| !e.series_id.is_some_and(|sid| own.contains(&sid)))
                .filter(|e| {
                    let g = gap(e.resource_id);
                    occ.iter()
                        .any(|(a, b)| e.starts_at < *b + g && e.ends_at + g > *a)
                })
                .collect();
        }
        out.insert(x.request.id, c);
    }
    Ok(out)
}

/// Local midnight of `d` in UTC (midnight exists every day in Europe/Berlin).
fn day_start(d: NaiveDate) -> DateTime<Utc> {
    let local = d.and_time(NaiveTime::MIN);
    Berlin
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.to_utc())
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// Opens a decision on one request: the season must still be open.
async fn open_request(
    tx: &Tx<'_>,
    by: Actor<'_>,
    season_id: i64,
    id: i64,
) -> Result<(Season, SeasonRequest)> {
    let who = person(by)?;
    tx.require(MANAGE)?;
    let s = find_season(tx.conn(), who.tenant_id, season_id).await?;
    let r = rathaus_store::uow::scoped_by_id::<season_request::Entity, _>(who.tenant_id, id)
        .filter(season_request::Column::SeasonId.eq(s.id))
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    require_open(&s)?;
    Ok((s, r))
}

async fn set_status(
    tx: &Tx<'_>,
    by: Actor<'_>,
    before: &SeasonRequest,
    status: &str,
    reason: Option<&str>,
    action: &str,
) -> Result<SeasonRequest> {
    let _who = person(by)?;
    let mut am: season_request::ActiveModel = before.clone().into();
    am.status = Set(status.to_string());
    am.decision_reason = Set(reason.map(str::to_string));
    let after = am.update(tx.conn()).await?;
    tx.audit(
        NewEvent::new(action, "booking_season_request", Some(before.id)).details(json!({
            "season_id": before.season_id, "title": before.title,
            "organisation_id": before.organisation_id,
            "status_before": before.status, "status": status, "reason": reason,
        })),
    )
    .await?;
    Ok(after)
}

/// Allocates a request (permission `booking.manage`, season open). Refused with a field
/// error on `request` naming the other request when it clashes with one already allocated.
/// Existing bookings in the way do not stop it (they may still be cancelled); publishing
/// checks them.
pub async fn allocate(
    db: &DatabaseConnection,
    by: Actor<'_>,
    season_id: SeasonId,
    id: SeasonRequestId,
) -> Result<SeasonRequest> {
    let season_id = i64::from(season_id);
    let id = i64::from(id);
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (_, before) = open_request(&tx, by, season_id, id).await?;
    let all = tx
        .find::<season_request::Entity>()
        .filter(season_request::Column::SeasonId.eq(season_id))
        .all(tx.conn())
        .await?;
    let ranked = rank(tx.conn(), who.tenant_id, all).await?;
    if let Some(me) = ranked.iter().find(|x| x.request.id == id)
        && let Some(other) = ranked
            .iter()
            .find(|y| y.request.status == ALLOCATED && clash(me, y))
    {
        let mut errs = FieldErrors::new();
        errs.add_arg(
            "request",
            "booking.season.err.clashes_allocated",
            Some(format!(
                "„{}“ ({})",
                other.request.title, other.organisation.name
            )),
        );
        return Err(Error::Invalid(errs));
    }
    let after = set_status(
        &tx,
        by,
        &before,
        ALLOCATED,
        None,
        "booking.season.request_allocated",
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Declines a request with a reason (permission `booking.manage`, season open; 1 to
/// `MAX_REASON` characters). The reason goes to the organisation's contact address and into
/// the audit trail.
pub async fn decline(
    db: &DatabaseConnection,
    by: Actor<'_>,
    season_id: SeasonId,
    id: SeasonRequestId,
    reason: &str,
) -> Result<SeasonRequest> {
    let season_id = i64::from(season_id);
    let id = i64::from(id);
    let who = person(by)?;
    let mut errs = FieldErrors::new();
    let reason = errs.text("reason", reason, MAX_REASON);
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (s, before) = open_request(&tx, by, season_id, id).await?;
    errs.into_result()?;
    let after = set_status(
        &tx,
        by,
        &before,
        DECLINED,
        Some(&reason),
        "booking.season.request_declined",
    )
    .await?;
    let org = organisation::Entity::find_by_id(before.organisation_id)
        .one(tx.conn())
        .await?;
    if let Some(org) = org.filter(|o| !o.contact_email.is_empty()) {
        let t = catalog(Lang::De);
        let body = format!(
            "{}\n\n{}: {}\n{}: {}\n{}: {}\n\n{}\n",
            t.get("booking.season.mail.declined"),
            t.get("booking.season.field.season"),
            s.name,
            t.get("booking.mail.title"),
            before.title,
            t.get("booking.season.field.slot"),
            slot_text(t, &before),
            t.fmt("booking.season.mail.reason", &reason),
        );
        mail::queue(
            tx.conn(),
            who.tenant_id,
            &org.contact_email,
            &t.fmt("booking.season.mail.declined_subject", &s.name),
            &body,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// What the automatic allocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoResult {
    pub allocated: usize,
    pub declined: usize,
}

/// Automatic allocation (permission `booking.manage`, season open): goes through the pending
/// requests in priority order; one that clashes with a request allocated before it (by hand
/// or in this run) or with an existing booking is declined, every other one allocated.
/// Decisions taken already stay; staff can change single ones afterwards.
pub async fn auto_allocate(
    db: &DatabaseConnection,
    by: Actor<'_>,
    season_id: SeasonId,
) -> Result<AutoResult> {
    let season_id = i64::from(season_id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let s = find_season(tx.conn(), who.tenant_id, season_id).await?;
    require_open(&s)?;
    let all = tx
        .find::<season_request::Entity>()
        .filter(season_request::Column::SeasonId.eq(s.id))
        .all(tx.conn())
        .await?;
    let ranked = rank(tx.conn(), who.tenant_id, all).await?;
    let found = conflicts(tx.conn(), by, &s, &ranked).await?;
    let t = catalog(Lang::De);
    let mut taken: Vec<&Ranked> = ranked
        .iter()
        .filter(|x| x.request.status == ALLOCATED)
        .collect();
    let mut out = AutoResult::default();
    for x in ranked.iter().filter(|x| x.request.status == PENDING) {
        let blocker = taken.iter().find(|y| clash(x, y)).copied();
        let existing = found
            .get(&x.request.id)
            .is_some_and(|c| !c.existing.is_empty());
        let reason = match (blocker, existing) {
            (Some(y), _) => Some(t.fmt(
                "booking.season.auto.clash",
                &format!("„{}“ ({})", y.request.title, y.organisation.name),
            )),
            (None, true) => Some(t.get("booking.season.auto.existing").to_string()),
            (None, false) => None,
        };
        match reason {
            Some(reason) => {
                set_status(
                    &tx,
                    by,
                    &x.request,
                    DECLINED,
                    Some(&reason),
                    "booking.season.request_declined",
                )
                .await?;
                out.declined += 1;
            }
            None => {
                set_status(
                    &tx,
                    by,
                    &x.request,
                    ALLOCATED,
                    None,
                    "booking.season.request_allocated",
                )
                .await?;
                taken.push(x);
                out.allocated += 1;
            }
        }
    }
    tx.audit(
        NewEvent::new(
            "booking.season.auto_allocated",
            "booking_season",
            Some(s.id),
        )
        .details(json!({"allocated": out.allocated, "declined": out.declined})),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// Stores the allocation order of organisation kinds (permission `booking.manage`): every
/// kind of `rules::ORG_KINDS` exactly once, else a field error on `priority`.
pub async fn set_priority_order(
    db: &DatabaseConnection,
    by: Actor<'_>,
    order: &[String],
) -> Result<settings::Model> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let distinct: BTreeSet<&str> = order.iter().map(|s| s.as_str()).collect();
    let valid = order.len() == rules::ORG_KINDS.len()
        && distinct.len() == order.len()
        && order.iter().all(|k| rules::ORG_KINDS.contains(&k.as_str()));
    if !valid {
        return Err(FieldErrors::single(
            "priority",
            "booking.season.err.priority",
        ));
    }
    let value = order.join(",");
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let before = rules::settings(tx.conn(), who.tenant_id).await?;
    // Upsert: the row may not exist yet; the other settings keep their values.
    settings::Entity::insert(settings::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        priority_order: Set(value.clone()),
        pending_blocks: Set(before.pending_blocks),
        reminder_hours: Set(before.reminder_hours),
    })
    .on_conflict(
        OnConflict::column(settings::Column::TenantId)
            .update_column(settings::Column::PriorityOrder)
            .to_owned(),
    )
    .exec(tx.conn())
    .await?;
    tx.audit(
        NewEvent::new(
            "booking.settings.priority_changed",
            "booking_settings",
            Some(who.tenant_id.0),
        )
        .details(json!({"before": before.priority_order, "after": value})),
    )
    .await?;
    let after = rules::settings(tx.conn(), who.tenant_id).await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------- publishing

/// Why publishing stopped: the request that could not be booked (None for the season as a
/// whole) and the refusal (a conflict with the slots in the way, or the platform's error).
#[derive(Debug)]
pub struct PublishError {
    pub request: Option<SeasonRequest>,
    pub error: ReserveError,
}

impl From<Error> for PublishError {
    fn from(e: Error) -> Self {
        PublishError {
            request: None,
            error: ReserveError::Other(e),
        }
    }
}

/// The first local start of a request's series: its weekday on or after the season's start,
/// and after `now` (a season published late starts with the next week).
fn first_start(
    s: &Season,
    r: &SeasonRequest,
    now: DateTime<Utc>,
) -> Result<Option<chrono::NaiveDateTime>> {
    let (from, to) = season_dates(s)?;
    let t = NaiveTime::parse_from_str(&r.start_time, "%H:%M").map_err(Error::internal)?;
    Ok(dates_on(from, to, r.weekday)
        .into_iter()
        .map(|d| d.and_time(t))
        .find(|l| {
            Berlin
                .from_local_datetime(l)
                .earliest()
                .is_some_and(|u| u.to_utc() > now)
        }))
}

/// Publishes the season (permission `booking.manage`): in ONE transaction, claims the season
/// (only one publish can win), books one weekly series per allocated request for its
/// organisation (fee group = organisation kind, status confirmed, blackout days left out as
/// EXDATEs, UNTIL = the season's last day), declines the requests still pending, and queues a
/// mail to each organisation's contact address. Any request that cannot be booked aborts
/// everything and is named in the error.
pub async fn publish(
    db: &DatabaseConnection,
    by: Actor<'_>,
    season_id: SeasonId,
) -> std::result::Result<Vec<series::Series>, PublishError> {
    let season_id = i64::from(season_id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let now = Utc::now();
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let s = find_season(tx.conn(), who.tenant_id, season_id).await?;
    let claimed = rathaus_store::uow::scoped_update::<season::Entity>(who.tenant_id)
        .col_expr(season::Column::Status, Expr::value(PUBLISHED))
        .col_expr(season::Column::PublishedAt, Expr::value(now))
        .filter(season::Column::Id.eq(s.id))
        .filter(season::Column::Status.eq(OPEN))
        .exec(tx.conn())
        .await
        .map_err(db_err)?;
    if claimed.rows_affected != 1 {
        return Err(Error::Conflict("booking.season.err.published".into()).into());
    }
    let (_, last_day) = season_dates(&s)?;
    let all = tx
        .find::<season_request::Entity>()
        .filter(season_request::Column::SeasonId.eq(s.id))
        .all(tx.conn())
        .await
        .map_err(db_err)?;
    let ranked = rank(tx.conn(), who.tenant_id, all).await?;
    let allocated: Vec<&Ranked> = ranked
        .iter()
        .filter(|x| x.request.status == ALLOCATED)
        .collect();
    // Every blocking set at once, in id order: locking set after set could deadlock with a
    // single booking that locks two of them in the other order.
    let mut sets = Vec::with_capacity(allocated.len());
    let mut ids = BTreeSet::new();
    for x in &allocated {
        let set = service::blocking_set(tx.conn(), who.tenant_id, &x.resource).await?;
        ids.extend(set.iter().map(|r| r.id));
        sets.push(set);
    }
    service::lock_resources(
        tx.conn(),
        who.tenant_id,
        &ids.into_iter().collect::<Vec<_>>(),
    )
    .await?;
    let mut created = vec![];
    // Per organisation: (allocated slots text, declined texts).
    let mut per_org: BTreeMap<i64, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let t = catalog(Lang::De);
    for (x, set) in allocated.iter().zip(sets) {
        let fail = |error: ReserveError| PublishError {
            request: Some(x.request.clone()),
            error,
        };
        let booker: Booker = rules::booker_for(
            tx.conn(),
            by,
            &x.resource,
            Some(OrganisationId(x.organisation.id)),
        )
        .await
        .map_err(|e| fail(e.into()))?;
        let Some(dtstart) = first_start(&s, &x.request, now)? else {
            return Err(fail(
                FieldErrors::single("request", "booking.season.err.no_dates").into(),
            ));
        };
        let t0 =
            NaiveTime::parse_from_str(&x.request.start_time, "%H:%M").map_err(Error::internal)?;
        let t1 =
            NaiveTime::parse_from_str(&x.request.end_time, "%H:%M").map_err(Error::internal)?;
        let inp = SeriesInput {
            resource_id: x.resource.id,
            title: x.request.title.clone(),
            dtstart_local: dtstart,
            duration_minutes: (minutes(t1) as i32) - (minutes(t0) as i32),
            rrule: format!(
                "FREQ=WEEKLY;BYDAY={};UNTIL={}",
                BYDAY
                    .get(x.request.weekday as usize)
                    .copied()
                    .unwrap_or("MO"),
                last_day.format("%Y%m%d")
            ),
            exdates: vec![],
            skip_blackouts: true,
            organisation_id: Some(x.organisation.id),
        };
        let (mut sr, occ) = series::insert_series_locked(
            &tx,
            by,
            &x.resource,
            &set,
            &booker,
            &inp,
            Some(s.id),
            now,
        )
        .await
        .map_err(fail)?;
        // Allocated by staff: confirmed even where single bookings of the resource need
        // approval (the allocation was the approval).
        if sr.status != CONFIRMED {
            crate::store::entity::series::Entity::update_many()
                .col_expr(
                    crate::store::entity::series::Column::Status,
                    Expr::value(CONFIRMED),
                )
                .filter(crate::store::entity::series::Column::Id.eq(sr.id))
                .exec(tx.conn())
                .await
                .map_err(db_err)?;
            rathaus_store::uow::scoped_update::<reservation::Entity>(who.tenant_id)
                .col_expr(reservation::Column::Status, Expr::value(CONFIRMED))
                .filter(reservation::Column::SeriesId.eq(sr.id))
                .exec(tx.conn())
                .await
                .map_err(db_err)?;
            sr.status = CONFIRMED.to_string();
        }
        let mut am: season_request::ActiveModel = x.request.clone().into();
        am.series_id = Set(Some(sr.id));
        am.update(tx.conn()).await.map_err(db_err)?;
        per_org
            .entry(x.organisation.id)
            .or_default()
            .0
            .push(format!(
                "{}: {}, {} ({})",
                x.resource.name,
                slot_text(t, &x.request),
                x.request.title,
                t.fmt("booking.season.mail.count", &occ.len().to_string()),
            ));
        created.push(sr);
    }
    for x in ranked.iter().filter(|x| x.request.status != ALLOCATED) {
        if x.request.status == PENDING {
            set_status(
                &tx,
                by,
                &x.request,
                DECLINED,
                Some(t.get("booking.season.auto.not_allocated")),
                "booking.season.request_declined",
            )
            .await?;
        }
        per_org
            .entry(x.organisation.id)
            .or_default()
            .1
            .push(format!(
                "{}: {}, {}",
                x.resource.name,
                slot_text(t, &x.request),
                x.request.title
            ));
    }
    for (org_id, (yes, no)) in &per_org {
        let Some(org) = ranked
            .iter()
            .map(|x| &x.organisation)
            .find(|o| o.id == *org_id)
            .filter(|o| !o.contact_email.is_empty())
        else {
            continue;
        };
        let mut body = format!("{}\n\n", t.fmt("booking.season.mail.published", &s.name));
        if !yes.is_empty() {
            body.push_str(&format!("{}\n", t.get("booking.season.mail.allocated")));
            for l in yes {
                body.push_str(&format!("- {l}\n"));
            }
            body.push('\n');
        }
        if !no.is_empty() {
            body.push_str(&format!("{}\n", t.get("booking.season.mail.not_allocated")));
            for l in no {
                body.push_str(&format!("- {l}\n"));
            }
            body.push('\n');
        }
        body.push_str(&format!("{}\n", t.get("booking.mail.footer")));
        mail::queue(
            tx.conn(),
            who.tenant_id,
            &org.contact_email,
            &t.fmt("booking.season.mail.subject", &s.name),
            &body,
        )
        .await?;
    }
    tx.audit(
        NewEvent::new("booking.season.published", "booking_season", Some(s.id)).details(json!({
            "name": s.name, "series": created.iter().map(|x| x.id).collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

// ---------------------------------------------------------------- texts

pub fn weekday_name(t: &Catalog, d: i32) -> String {
    match BYDAY.get(d as usize) {
        Some(code) => t
            .get(&format!("booking.season.weekday.{}", code.to_lowercase()))
            .to_string(),
        None => "?".into(),
    }
}

/// "dienstags 18:00–20:00 Uhr".
pub fn slot_text(t: &Catalog, r: &SeasonRequest) -> String {
    format!(
        "{} {}–{} Uhr",
        weekday_name(t, r.weekday),
        r.start_time,
        r.end_time
    )
}

pub fn status_label(t: &Catalog, s: &str) -> String {
    t.get(&format!("booking.season.status.{s}")).to_string()
}

/// "Training: 01.09.2026, 18:00–20:00 Uhr (bestätigt)" for staff (who may see titles).
pub fn busy_text(t: &Catalog, r: &Reservation) -> String {
    format!(
        "{}: {} ({})",
        r.title,
        crate::service::notify::when(r.starts_at, r.ends_at),
        t.get(&format!("booking.status.{}", r.status))
    )
}
