//! Occupancy views: grid, free-slot search, day and month of one resource, the public pages.

use crate::domain::ResourceId;
use crate::service::views::{
    Block, Filter, blocks_of, by_day, free_resources, grid, public_org_names, public_resources,
    reservations_in, visible_resource,
};
use rathaus_store::uow::Actor;

use rathaus_web::Access::{Public, SignedIn};
use rathaus_web::Routes;

use crate::domain::GridPageSize;
pub use crate::domain::time::midnight_utc;
use crate::domain::time::{monday_of, today};
use crate::service::{self, BOOK, MANAGE, Reservation, Resource};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::Error;
use rathaus_core::validation::FieldErrors;
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) fn routes() -> Routes {
    Routes::new()
        // Every signed-in user sees what they may book; the service filters.
        .get("/buchung/belegung", SignedIn, grid_page)
        .get("/buchung/frei", SignedIn, free_page)
        .get("/buchung/{id}/tag", SignedIn, day_page)
        .get("/buchung/{id}/monat", SignedIn, month_page)
        .get("/belegung", Public, public_list)
        .get("/belegung/{id}", Public, public_week)
}

// ------------------------------------------------------------------ parsing and text

/// `2026-W48` → its Monday; empty → None (the caller picks the current week).
fn parse_week(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let d = crate::http::pages::resources::parse_week(v);
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
    /// Resources per page: `25` (default), `50`, `100` or `alle`.
    #[serde(default)]
    anzahl: String,
}

impl GridQuery {
    fn kind_selected(&self, k: &str) -> bool {
        self.art == k
    }

    fn size_selected(&self, s: &str) -> bool {
        self.anzahl.trim() == s || (self.anzahl.trim().is_empty() && s == "25")
    }
}

fn parse_page_size(errs: &mut FieldErrors, v: &str) -> GridPageSize {
    match v.trim() {
        "" => GridPageSize::default(),
        v => v.parse().unwrap_or_else(|_| {
            errs.add("anzahl", "err.invalid_choice");
            GridPageSize::default()
        }),
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
    /// The page sizes offered (value, label).
    sizes: Vec<(&'static str, String)>,
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
        page_size: parse_page_size(&mut errs, &q.anzahl),
    };
    let failed = !errs.is_empty();
    let week = crate::http::pages::resources::week_param(monday);
    let mut tpl = GridTpl {
        l: layout(&st, &ctx, "booking.views.grid.title"),
        errs: FormErrors::new(t, errs),
        kinds: kinds(t),
        sizes: GridPageSize::ALL
            .iter()
            .map(|z| {
                let v = z.as_str();
                let label = match z {
                    GridPageSize::All => t.get("booking.views.grid.all").to_string(),
                    _ => v.to_string(),
                };
                (v, label)
            })
            .collect(),
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
    let g = grid(&st.db.conn, Actor::User(&p), &filter, monday).await?;
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
                ("anzahl", q.anzahl.trim()),
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
        href: link(&crate::http::pages::resources::week_param(d), 0),
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
    let start = crate::http::pages::resources::local_to_utc(errs, "von", date.and_time(from?));
    let end = if q.bis.trim() == "24:00" {
        Some(midnight_utc(date + Duration::days(1)))
    } else {
        crate::http::pages::resources::local_to_utc(errs, "bis", date.and_time(to?))
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
        ..Filter::default()
    };
    let window = search_window(&mut errs, &q);
    let found = match window {
        Some((date, start, end)) if errs.is_empty() => {
            match free_resources(&st.db.conn, Actor::User(&p), &filter, start, end).await {
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
    let week = crate::http::pages::resources::week_param(date);
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
    let r = visible_resource(&st.db.conn, Actor::User(&p), ResourceId(parse_id(&id)?)).await?;
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
        week: format!(
            "/buchung/{}?woche={}",
            r.id,
            crate::http::pages::resources::week_param(d)
        ),
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
    let r = visible_resource(&st.db.conn, Actor::User(&p), ResourceId(parse_id(&id)?)).await?;
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
            crate::http::pages::resources::week_param(first)
        ),
        r,
    };
    respond(page(tpl), failed)
}

// ------------------------------------------------------------------ public occupancy

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
        public_org_names(&st.db.conn, tenant, org_ids).await?
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
        href: format!(
            "/belegung/{}?woche={}",
            r.id,
            crate::http::pages::resources::week_param(d)
        ),
    };
    let tpl = PublicWeekTpl {
        l: layout(&st, &ctx, "booking.views.public.title").with_title(r.name.clone()),
        kind: kind_label(t, &r.kind),
        woche: if failed {
            raw
        } else {
            crate::http::pages::resources::week_param(monday)
        },
        errs: FormErrors::new(t, errs),
        caption: week_caption(t, monday),
        days,
        nav: vec![
            link(monday - Duration::days(7), "booking.week.prev"),
            link(today(), "booking.week.current"),
            link(monday + Duration::days(7), "booking.week.next"),
        ],
        ics: crate::service::feeds::public_feed_path(&r),
        r,
    };
    respond(page(tpl), failed)
}
