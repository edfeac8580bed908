//! Views on the bookings (issue 4, item 3 and 12): a resource's day and month, the occupancy
//! grid across resources, "Freien Termin finden", and the public occupancy pages under
//! /belegung (busy times only, no titles or names).
//!
//! Every query here is set-based: one query for the resources shown, one for the halls and
//! parts that block them, one for all their reservations in the window (and one for
//! blackouts in the free-slot search), never one query per resource.

use crate::entity::{blackout, organisation, reservation, resource};
use crate::rules;
use crate::service::{self, BOOK, MANAGE, MAX_MINUTES, Reservation, Resource};
pub use crate::time::midnight_utc;
use crate::time::{monday_of, today};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::db_err;
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Resources per page of the occupancy grid.
pub const GRID_PAGE: usize = 25;
/// Resources listed at most by the free-slot search.
pub const FREE_LIMIT: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buchung/belegung", get(grid_page))
        .route("/buchung/frei", get(free_page))
        .route("/buchung/{id}/tag", get(day_page))
        .route("/buchung/{id}/monat", get(month_page))
        .route("/belegung", get(public_list))
        .route("/belegung/{id}", get(public_week))
}

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
fn sees_all(who: &Principal) -> bool {
    who.has(BOOK) || who.has(MANAGE)
}

/// The active resources `who` may see that match `f`, by name (all pages).
pub async fn matching(
    conn: &impl ConnectionTrait,
    who: &Principal,
    f: &Filter,
) -> Result<Vec<Resource>> {
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
    let member = if sees_all(who) {
        true
    } else {
        !rules::organisations_of(conn, who).await?.is_empty()
    };
    // The place filter runs here, not as SQL LIKE: the same case folding (umlauts too) on
    // both backends, over at most a few hundred rows.
    let place = f.place.as_deref().map(str::to_lowercase);
    Ok(all
        .into_iter()
        .filter(|r| rules::may_see(who, r, member))
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
async fn reservations_in(
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
async fn blocks_of(
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
fn by_day(blocks: &[Block], first: NaiveDate, days: i64) -> Vec<Vec<Block>> {
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
    who: &Principal,
    filter: &Filter,
    week_start: NaiveDate,
) -> Result<Grid> {
    let all = matching(conn, who, filter).await?;
    let total = all.len();
    let pages = total.div_ceil(GRID_PAGE).max(1);
    let page = filter.page.min(pages - 1);
    let shown: Vec<Resource> = all
        .into_iter()
        .skip(page * GRID_PAGE)
        .take(GRID_PAGE)
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
    who: &Principal,
    filter: &Filter,
    start_utc: DateTime<Utc>,
    end_utc: DateTime<Utc>,
) -> Result<Vec<Resource>> {
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
    let candidates: Vec<Resource> = matching(conn, who, filter)
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

// ------------------------------------------------------------------ parsing and text

/// `2026-W48` → its Monday; empty → None (the caller picks the current week).
fn parse_week(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let d = crate::pages::parse_week(v);
    if d.is_none() {
        errs.add(field, "booking.views.err.week");
    }
    d
}

fn parse_date(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d.%m.%Y"))
        .ok();
    if d.is_none() {
        errs.add(field, "booking.err.date_invalid");
    }
    d
}

fn parse_time(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveTime> {
    let v = v.trim();
    if v.is_empty() {
        errs.add(field, "err.required");
        return None;
    }
    if v == "24:00" {
        // The end of the day; `to_utc` moves it to 00:00 of the next day.
        return NaiveTime::from_hms_opt(23, 59, 59);
    }
    let t = NaiveTime::parse_from_str(v, "%H:%M").ok();
    if t.is_none() {
        errs.add(field, "booking.err.time_invalid");
    }
    t
}

fn parse_capacity(errs: &mut FieldErrors, v: &str) -> Option<i32> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<i32>() {
        Ok(n) if n >= 1 => Some(n),
        Ok(_) => {
            errs.add("kapazitaet", "booking.err.positive");
            None
        }
        Err(_) => {
            errs.add("kapazitaet", "booking.err.number");
            None
        }
    }
}

fn parse_kind(errs: &mut FieldErrors, v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    if !service::KINDS.contains(&v) {
        errs.add("art", "err.invalid_choice");
        return None;
    }
    Some(v.to_string())
}

fn weekday(t: &Catalog, d: NaiveDate) -> &str {
    t.get(match d.weekday() {
        chrono::Weekday::Mon => "booking.day.mon",
        chrono::Weekday::Tue => "booking.day.tue",
        chrono::Weekday::Wed => "booking.day.wed",
        chrono::Weekday::Thu => "booking.day.thu",
        chrono::Weekday::Fri => "booking.day.fri",
        chrono::Weekday::Sat => "booking.day.sat",
        chrono::Weekday::Sun => "booking.day.sun",
    })
}

fn day_label(t: &Catalog, d: NaiveDate) -> String {
    format!("{}, {}", weekday(t, d), d.format("%d.%m.%Y"))
}

fn kind_label(t: &Catalog, kind: &str) -> String {
    t.get(&format!("booking.kind.{kind}")).to_string()
}

/// `18:00–20:00` of a block on local day `d`; a block from or into another day shows 00:00
/// or 24:00 there.
fn time_range(b: &Block, d: NaiveDate) -> String {
    let (s, e) = (b.start.with_timezone(&Berlin), b.end.with_timezone(&Berlin));
    let from = if s.date_naive() < d {
        "00:00".to_string()
    } else {
        s.format("%H:%M").to_string()
    };
    let to = if e.date_naive() > d {
        "24:00".to_string()
    } else {
        e.format("%H:%M").to_string()
    };
    format!("{from}–{to}")
}

/// `18:00–20:00 belegt (angefragt)`, with the blocking hall or part when there is one.
fn block_text(t: &Catalog, b: &Block, d: NaiveDate, names: &BTreeMap<i64, String>) -> String {
    let key = format!("booking.status.{}", b.status);
    let status = t.get(&key);
    let mut s = t
        .get("booking.views.busy")
        .replace("{time}", &time_range(b, d))
        .replace("{status}", status);
    if let Some(v) = b.via {
        s.push_str(&t.fmt(
            "booking.views.via",
            names.get(&v).map(String::as_str).unwrap_or(""),
        ));
    }
    s
}

/// A query string of the grid's and the search's filter fields, for links that keep them.
fn qs(pairs: &[(&str, &str)]) -> String {
    let mut s = url_encode_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()));
    if !s.is_empty() {
        s.insert(0, '?');
    }
    s
}

fn url_encode_pairs<'a>(pairs: impl Iterator<Item = &'a (&'a str, &'a str)>) -> String {
    let enc = |s: &str| rathaus_web::ctx::urlencode(s);
    pairs
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

struct Link {
    label: String,
    href: String,
}

fn kinds(t: &Catalog) -> Vec<(&'static str, String)> {
    service::KINDS
        .iter()
        .map(|k| (*k, kind_label(t, k)))
        .collect()
}

// ------------------------------------------------------------------ occupancy grid

#[derive(Deserialize, Default, Clone)]
pub struct GridQuery {
    #[serde(default)]
    woche: String,
    #[serde(default)]
    art: String,
    #[serde(default)]
    ort: String,
    #[serde(default)]
    kapazitaet: String,
    #[serde(default)]
    seite: String,
}

impl GridQuery {
    fn kind_selected(&self, k: &str) -> bool {
        self.art == k
    }
}

struct GridCell {
    lines: Vec<String>,
}

struct GridLine {
    id: i64,
    name: String,
    kind: String,
    capacity: String,
    address: String,
    cells: Vec<GridCell>,
}

#[derive(Template)]
#[template(path = "booking/views_grid.html")]
struct GridTpl {
    l: Layout,
    q: GridQuery,
    errs: FormErrors,
    kinds: Vec<(&'static str, String)>,
    caption: String,
    days: Vec<String>,
    rows: Vec<GridLine>,
    prev: Option<Link>,
    next: Option<Link>,
    pages: Vec<Link>,
    page_info: String,
    week: String,
    week_nav: Vec<Link>,
}

fn week_caption(t: &Catalog, monday: NaiveDate) -> String {
    t.fmt(
        "booking.week.caption",
        &monday.iso_week().week().to_string(),
    )
    .replace("{from}", &monday.format("%d.%m.%Y").to_string())
    .replace(
        "{to}",
        &(monday + Duration::days(6)).format("%d.%m.%Y").to_string(),
    )
}

async fn grid_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<GridQuery>,
) -> std::result::Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let mut errs = FieldErrors::new();
    let monday = parse_week(&mut errs, "woche", &q.woche).unwrap_or_else(|| monday_of(today()));
    let filter = Filter {
        kind: parse_kind(&mut errs, &q.art),
        place: Some(q.ort.trim().to_string()).filter(|s| !s.is_empty()),
        min_capacity: parse_capacity(&mut errs, &q.kapazitaet),
        page: q.seite.trim().parse::<usize>().unwrap_or(1).max(1) - 1,
    };
    let failed = !errs.is_empty();
    let week = crate::pages::week_param(monday);
    let mut tpl = GridTpl {
        l: layout(&st, &ctx, "booking.views.grid.title"),
        errs: FormErrors::new(t, errs),
        kinds: kinds(t),
        caption: week_caption(t, monday),
        days: (0..7)
            .map(|i| day_label(t, monday + Duration::days(i)))
            .collect(),
        rows: vec![],
        prev: None,
        next: None,
        pages: vec![],
        page_info: String::new(),
        week: week.clone(),
        week_nav: vec![],
        q: q.clone(),
    };
    if failed {
        // The form with the messages beside its fields; no table for a filter we cannot read.
        return respond(page(tpl), true);
    }
    let g = grid(&st.db.conn, &p, &filter, monday).await?;
    let link = |week: &str, page: usize| {
        let p = if page == 0 {
            String::new()
        } else {
            (page + 1).to_string()
        };
        format!(
            "/buchung/belegung{}",
            qs(&[
                ("woche", week),
                ("art", q.art.trim()),
                ("ort", q.ort.trim()),
                ("kapazitaet", q.kapazitaet.trim()),
                ("seite", &p),
            ])
        )
    };
    tpl.week_nav = [
        (monday - Duration::days(7), "booking.week.prev"),
        (monday_of(today()), "booking.week.current"),
        (monday + Duration::days(7), "booking.week.next"),
    ]
    .into_iter()
    .map(|(d, key)| Link {
        label: t.get(key).to_string(),
        href: link(&crate::pages::week_param(d), 0),
    })
    .collect();
    if g.pages > 1 {
        tpl.page_info = t
            .get("booking.views.grid.page_info")
            .replace("{page}", &(g.page + 1).to_string())
            .replace("{pages}", &g.pages.to_string())
            .replace("{total}", &g.total.to_string());
        tpl.pages = (0..g.pages)
            .map(|i| Link {
                label: (i + 1).to_string(),
                href: link(&week, i),
            })
            .collect();
        tpl.prev = (g.page > 0).then(|| Link {
            label: t.get("booking.views.grid.prev_page").to_string(),
            href: link(&week, g.page - 1),
        });
        tpl.next = (g.page + 1 < g.pages).then(|| Link {
            label: t.get("booking.views.grid.next_page").to_string(),
            href: link(&week, g.page + 1),
        });
    }
    tpl.rows = g
        .rows
        .iter()
        .map(|row| GridLine {
            id: row.resource.id,
            name: row.resource.name.clone(),
            kind: kind_label(t, &row.resource.kind),
            capacity: row
                .resource
                .capacity
                .map(|c| c.to_string())
                .unwrap_or_default(),
            address: row.resource.address.clone(),
            cells: row
                .days
                .iter()
                .enumerate()
                .map(|(i, blocks)| {
                    let d = monday + Duration::days(i as i64);
                    GridCell {
                        lines: blocks
                            .iter()
                            .map(|b| block_text(t, b, d, &g.names))
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect();
    page(tpl)
}

// ------------------------------------------------------------------ free-slot search

#[derive(Deserialize, Default, Clone)]
pub struct FreeQuery {
    #[serde(default)]
    datum: String,
    #[serde(default)]
    von: String,
    #[serde(default)]
    bis: String,
    #[serde(default)]
    art: String,
    #[serde(default)]
    ort: String,
    #[serde(default)]
    kapazitaet: String,
}

impl FreeQuery {
    fn kind_selected(&self, k: &str) -> bool {
        self.art == k
    }
}

struct FreeLine {
    name: String,
    kind: String,
    capacity: String,
    address: String,
    book: String,
    week: String,
}

#[derive(Template)]
#[template(path = "booking/views_free.html")]
struct FreeTpl {
    l: Layout,
    q: FreeQuery,
    errs: FormErrors,
    kinds: Vec<(&'static str, String)>,
    /// None before a search; the caption and the rows after one.
    result: Option<(String, Vec<FreeLine>)>,
    can_book: bool,
}

/// The local date and times of the search as UTC; "24:00" as end means next midnight.
fn search_window(
    errs: &mut FieldErrors,
    q: &FreeQuery,
) -> Option<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    let date = if q.datum.trim().is_empty() {
        errs.add("datum", "err.required");
        None
    } else {
        parse_date(errs, "datum", &q.datum)
    };
    let from = parse_time(errs, "von", &q.von);
    let to = parse_time(errs, "bis", &q.bis);
    let date = date?;
    let start = crate::pages::local_to_utc(errs, "von", date.and_time(from?));
    let end = if q.bis.trim() == "24:00" {
        Some(midnight_utc(date + Duration::days(1)))
    } else {
        crate::pages::local_to_utc(errs, "bis", date.and_time(to?))
    };
    Some((date, start?, end?))
}

async fn free_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<FreeQuery>,
) -> std::result::Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let l = layout(&st, &ctx, "booking.views.free.title");
    let searched = !(q.datum.is_empty() && q.von.is_empty() && q.bis.is_empty());
    let mut tpl = FreeTpl {
        l,
        errs: FormErrors::none(t),
        kinds: kinds(t),
        result: None,
        can_book: p.has(BOOK),
        q: q.clone(),
    };
    if !searched {
        return page(tpl);
    }
    let mut errs = FieldErrors::new();
    let filter = Filter {
        kind: parse_kind(&mut errs, &q.art),
        place: Some(q.ort.trim().to_string()).filter(|s| !s.is_empty()),
        min_capacity: parse_capacity(&mut errs, &q.kapazitaet),
        page: 0,
    };
    let window = search_window(&mut errs, &q);
    let found = match window {
        Some((date, start, end)) if errs.is_empty() => {
            match free_resources(&st.db.conn, &p, &filter, start, end).await {
                Ok(rs) => Some((date, start, end, rs)),
                Err(e) => {
                    tpl.errs = FormErrors::from_error(t, e)?;
                    None
                }
            }
        }
        _ => {
            tpl.errs = FormErrors::new(t, errs);
            None
        }
    };
    let Some((date, start, end, rs)) = found else {
        return respond(page(tpl), true);
    };
    let (s, e) = (start.with_timezone(&Berlin), end.with_timezone(&Berlin));
    let caption = t
        .get("booking.views.free.caption")
        .replace("{day}", &day_label(t, date))
        .replace("{from}", &s.format("%H:%M").to_string())
        .replace(
            "{to}",
            &if e.date_naive() > date {
                "24:00".to_string()
            } else {
                e.format("%H:%M").to_string()
            },
        );
    let week = crate::pages::week_param(date);
    let rows = rs
        .iter()
        .map(|r| FreeLine {
            name: r.name.clone(),
            kind: kind_label(t, &r.kind),
            capacity: r.capacity.map(|c| c.to_string()).unwrap_or_default(),
            address: r.address.clone(),
            // The booking form lives on the resource's week page; the extra fields let it
            // fill in the searched time.
            book: format!(
                "/buchung/{}{}",
                r.id,
                qs(&[
                    ("woche", &week),
                    ("datum", &date.format("%Y-%m-%d").to_string()),
                    ("von", &s.format("%H:%M").to_string()),
                    ("bis", &e.format("%H:%M").to_string()),
                ])
            ),
            week: format!("/buchung/{}/tag?datum={}", r.id, date.format("%Y-%m-%d")),
        })
        .collect();
    tpl.result = Some((caption, rows));
    page(tpl)
}

// ------------------------------------------------------------------ day and month of one resource

/// The resource if `who` may see it: staff every one of the tenant (inactive ones only with
/// `booking.manage`, as `service::get_resource`), others those open to them.
async fn visible_resource(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> Result<Resource> {
    let r = service::get_resource(conn, who, parse_id(id)?).await?;
    if !sees_all(who) {
        let member = !rules::organisations_of(conn, who).await?.is_empty();
        if !rules::may_see(who, &r, member) {
            return Err(Error::Forbidden);
        }
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
pub struct DayQuery {
    #[serde(default)]
    datum: String,
}

struct DayLine {
    id: i64,
    time: String,
    status: String,
    via: String,
    /// The title, for `booking.manage` only.
    title: String,
    /// A past confirmed reservation of this resource: the no-show toggle applies.
    past: bool,
    no_show: bool,
}

#[derive(Template)]
#[template(path = "booking/views_day.html")]
struct DayTpl {
    l: Layout,
    r: Resource,
    datum: String,
    errs: FormErrors,
    caption: String,
    lines: Vec<DayLine>,
    nav: Vec<Link>,
    week: String,
    month: String,
    manage: bool,
    back: String,
}

async fn day_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<DayQuery>,
) -> std::result::Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let r = visible_resource(&st.db.conn, &p, &id).await?;
    let mut errs = FieldErrors::new();
    let parsed = parse_date(&mut errs, "datum", &q.datum);
    let failed = !errs.is_empty();
    let d = parsed.unwrap_or_else(today);
    let (from, to) = (midnight_utc(d), midnight_utc(d + Duration::days(1)));
    let (mut blocks, names) = blocks_of(
        &st.db.conn,
        p.tenant_id,
        std::slice::from_ref(&r),
        service::ACTIVE,
        from,
        to,
    )
    .await?;
    let blocks = blocks.remove(&r.id).unwrap_or_default();
    let manage = p.has(MANAGE);
    // Titles and no-show flags for staff who manage: one query for the day's own ones.
    let own: BTreeMap<i64, Reservation> = if manage {
        reservations_in(
            &st.db.conn,
            p.tenant_id,
            vec![r.id],
            service::ACTIVE,
            from,
            to,
        )
        .await?
        .into_iter()
        .map(|x| (x.id, x))
        .collect()
    } else {
        BTreeMap::new()
    };
    let now = Utc::now();
    let lines = blocks
        .iter()
        .map(|b| {
            let mine = own.get(&b.reservation_id);
            DayLine {
                id: b.reservation_id,
                time: time_range(b, d),
                status: t.get(&format!("booking.status.{}", b.status)).to_string(),
                via: b
                    .via
                    .and_then(|v| names.get(&v).cloned())
                    .unwrap_or_default(),
                title: mine.map(|x| x.title.clone()).unwrap_or_default(),
                past: mine.is_some_and(|x| x.status == service::CONFIRMED && x.starts_at < now),
                no_show: mine.is_some_and(|x| x.no_show),
            }
        })
        .collect();
    let day = |x: NaiveDate| format!("/buchung/{}/tag?datum={}", r.id, x.format("%Y-%m-%d"));
    let nav = vec![
        Link {
            label: t.get("booking.views.day.prev").to_string(),
            href: day(d - Duration::days(1)),
        },
        Link {
            label: t.get("booking.views.day.today").to_string(),
            href: day(today()),
        },
        Link {
            label: t.get("booking.views.day.next").to_string(),
            href: day(d + Duration::days(1)),
        },
    ];
    let tpl = DayTpl {
        l: layout(&st, &ctx, "booking.views.day.title").with_title(r.name.clone()),
        datum: if failed {
            q.datum.clone()
        } else {
            d.format("%Y-%m-%d").to_string()
        },
        errs: FormErrors::new(t, errs),
        caption: t.fmt("booking.views.day.caption", &day_label(t, d)),
        lines,
        nav,
        week: format!("/buchung/{}?woche={}", r.id, crate::pages::week_param(d)),
        month: format!("/buchung/{}/monat?monat={}", r.id, d.format("%Y-%m")),
        manage,
        back: day(d),
        r,
    };
    respond(page(tpl), failed)
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    #[serde(default)]
    monat: String,
}

struct MonthDay {
    /// None: a day of the neighbouring month, shown empty.
    day: Option<u32>,
    href: String,
    label: String,
    lines: Vec<String>,
}

struct MonthWeek {
    label: String,
    days: Vec<MonthDay>,
}

#[derive(Template)]
#[template(path = "booking/views_month.html")]
struct MonthTpl {
    l: Layout,
    r: Resource,
    monat: String,
    errs: FormErrors,
    caption: String,
    heads: Vec<String>,
    weeks: Vec<MonthWeek>,
    nav: Vec<Link>,
    week: String,
}

fn parse_month(errs: &mut FieldErrors, v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let d = NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").ok();
    if d.is_none() {
        errs.add("monat", "booking.views.err.month");
    }
    d
}

fn next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
}

fn prev_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 1 {
        (d.year() - 1, 12)
    } else {
        (d.year(), d.month() - 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
}

async fn month_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<MonthQuery>,
) -> std::result::Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let r = visible_resource(&st.db.conn, &p, &id).await?;
    let mut errs = FieldErrors::new();
    let parsed = parse_month(&mut errs, &q.monat);
    let failed = !errs.is_empty();
    let first = parsed.unwrap_or_else(|| today().with_day(1).unwrap_or_else(today));
    let after = next_month(first);
    let grid_start = monday_of(first);
    let days = (monday_of(after - Duration::days(1)) + Duration::days(7) - grid_start).num_days();
    let (mut blocks, names) = blocks_of(
        &st.db.conn,
        p.tenant_id,
        std::slice::from_ref(&r),
        service::ACTIVE,
        midnight_utc(first),
        midnight_utc(after),
    )
    .await?;
    let blocks = blocks.remove(&r.id).unwrap_or_default();
    let per_day = by_day(&blocks, grid_start, days);
    let weeks = per_day
        .chunks(7)
        .enumerate()
        .map(|(w, chunk)| {
            let monday = grid_start + Duration::days(7 * w as i64);
            MonthWeek {
                label: t.fmt(
                    "booking.views.month.week",
                    &monday.iso_week().week().to_string(),
                ),
                days: chunk
                    .iter()
                    .enumerate()
                    .map(|(i, bs)| {
                        let d = monday + Duration::days(i as i64);
                        let inside = d >= first && d < after;
                        MonthDay {
                            day: inside.then_some(d.day()),
                            href: format!("/buchung/{}/tag?datum={}", r.id, d.format("%Y-%m-%d")),
                            label: day_label(t, d),
                            lines: if inside {
                                bs.iter().map(|b| block_text(t, b, d, &names)).collect()
                            } else {
                                vec![]
                            },
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let month = |d: NaiveDate| format!("/buchung/{}/monat?monat={}", r.id, d.format("%Y-%m"));
    let nav = vec![
        Link {
            label: t.get("booking.views.month.prev").to_string(),
            href: month(prev_month(first)),
        },
        Link {
            label: t.get("booking.views.month.current").to_string(),
            href: month(today()),
        },
        Link {
            label: t.get("booking.views.month.next").to_string(),
            href: month(after),
        },
    ];
    let month_key = format!("booking.views.month.m{}", first.month());
    let month_name = t.get(&month_key);
    let tpl = MonthTpl {
        l: layout(&st, &ctx, "booking.views.month.title").with_title(r.name.clone()),
        monat: if failed {
            q.monat.clone()
        } else {
            first.format("%Y-%m").to_string()
        },
        errs: FormErrors::new(t, errs),
        caption: t
            .get("booking.views.month.caption")
            .replace("{month}", month_name)
            .replace("{year}", &first.year().to_string()),
        heads: (0..7)
            .map(|i| weekday(t, grid_start + Duration::days(i)).to_string())
            .collect(),
        weeks,
        nav,
        week: format!(
            "/buchung/{}?woche={}",
            r.id,
            crate::pages::week_param(first)
        ),
        r,
    };
    respond(page(tpl), failed)
}

// ------------------------------------------------------------------ public occupancy

/// Resources on the public pages: active and open to the public or to organisations.
async fn public_resources(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<Resource>> {
    rathaus_store::uow::scoped::<resource::Entity>(tenant)
        .filter(resource::Column::Active.eq(true))
        .filter(resource::Column::BookableBy.is_in([rules::PUBLIC, rules::ORGANISATIONS]))
        .order_by_asc(resource::Column::Name)
        .order_by_asc(resource::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

struct PublicLine {
    id: i64,
    name: String,
    kind: String,
    address: String,
    capacity: String,
}

#[derive(Template)]
#[template(path = "booking/views_public_list.html")]
struct PublicListTpl {
    l: Layout,
    rows: Vec<PublicLine>,
}

async fn public_list(
    State(st): State<AppState>,
    ctx: Ctx,
) -> std::result::Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let t = catalog(ctx.lang);
    let rows = public_resources(&st.db.conn, tenant)
        .await?
        .into_iter()
        .map(|r| PublicLine {
            id: r.id,
            kind: kind_label(t, &r.kind),
            capacity: r.capacity.map(|c| c.to_string()).unwrap_or_default(),
            name: r.name,
            address: r.address,
        })
        .collect();
    page(PublicListTpl {
        l: layout(&st, &ctx, "booking.views.public.title"),
        rows,
    })
}

struct PublicDay {
    label: String,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "booking/views_public_week.html")]
struct PublicWeekTpl {
    l: Layout,
    r: Resource,
    kind: String,
    woche: String,
    errs: FormErrors,
    caption: String,
    days: Vec<PublicDay>,
    nav: Vec<Link>,
    /// The public iCalendar feed (ical.rs).
    ics: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PublicWeekQuery {
    #[serde(default)]
    woche: String,
}

async fn public_week(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PublicWeekQuery>,
) -> std::result::Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let t = catalog(ctx.lang);
    let id = parse_id(&id)?;
    let r = public_resources(&st.db.conn, tenant)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(Error::NotFound)?;
    let raw = q.woche;
    let mut errs = FieldErrors::new();
    let monday = parse_week(&mut errs, "woche", &raw).unwrap_or_else(|| monday_of(today()));
    let failed = !errs.is_empty();
    let (mut blocks, _) = blocks_of(
        &st.db.conn,
        tenant,
        std::slice::from_ref(&r),
        service::ACTIVE,
        midnight_utc(monday),
        midnight_utc(monday + Duration::days(7)),
    )
    .await?;
    let blocks = blocks.remove(&r.id).unwrap_or_default();
    // Organisation names only where the organisation agreed (public_name): one query.
    let org_ids: BTreeSet<i64> = blocks.iter().filter_map(|b| b.organisation_id).collect();
    let consenting: BTreeMap<i64, String> = if org_ids.is_empty() {
        BTreeMap::new()
    } else {
        rathaus_store::uow::scoped::<organisation::Entity>(tenant)
            .filter(organisation::Column::Id.is_in(org_ids))
            .filter(organisation::Column::PublicName.eq(true))
            .all(&st.db.conn)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    let days = by_day(&blocks, monday, 7)
        .iter()
        .enumerate()
        .map(|(i, bs)| {
            let d = monday + Duration::days(i as i64);
            PublicDay {
                label: day_label(t, d),
                lines: bs
                    .iter()
                    .map(|b| {
                        let key = if b.status == service::CONFIRMED {
                            "booking.views.public.busy"
                        } else {
                            "booking.views.public.tentative"
                        };
                        let mut s = t.fmt(key, &time_range(b, d));
                        if let Some(name) = b.organisation_id.and_then(|o| consenting.get(&o)) {
                            s.push_str(" – ");
                            s.push_str(name);
                        }
                        s
                    })
                    .collect(),
            }
        })
        .collect();
    let link = |d: NaiveDate, key: &str| Link {
        label: t.get(key).to_string(),
        href: format!("/belegung/{}?woche={}", r.id, crate::pages::week_param(d)),
    };
    let tpl = PublicWeekTpl {
        l: layout(&st, &ctx, "booking.views.public.title").with_title(r.name.clone()),
        kind: kind_label(t, &r.kind),
        woche: if failed {
            raw
        } else {
            crate::pages::week_param(monday)
        },
        errs: FormErrors::new(t, errs),
        caption: week_caption(t, monday),
        days,
        nav: vec![
            link(monday - Duration::days(7), "booking.week.prev"),
            link(today(), "booking.week.current"),
            link(monday + Duration::days(7), "booking.week.next"),
        ],
        ics: crate::ical::public_feed_path(&r),
        r,
    };
    respond(page(tpl), failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, TimeZone};

    fn res(opening: &str) -> Resource {
        resource::Model {
            id: 1,
            tenant_id: 1,
            name: "Halle".into(),
            kind: "hall".into(),
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
            bookable_by: "public".into(),
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

    #[test]
    fn public_and_staff_routes_do_not_clash_with_the_feed() {
        // The public feed (ical.rs) sits beside /belegung/{id}.
        let _: Router<()> = Router::new()
            .route("/belegung/{id}", get(|| async { "week" }))
            .route("/belegung/{id}/kalender.ics", get(|| async { "feed" }));
    }
}
