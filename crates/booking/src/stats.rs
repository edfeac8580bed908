//! Statistics and money (issue 4, items 10 and 11), for staff with `booking.manage`:
//! utilisation per resource and month (/buchung/statistik), marking a past booking as not
//! used (no-show), and the fees list for the treasury (/buchung/gebuehren) with CSV and XLSX
//! downloads. Fees are not computed here: each reservation carries the fee fixed when it was
//! booked (`fee_cents`, `fee_group`).

use crate::entity::{organisation, reservation, resource};
use crate::rules;
use crate::service::{CONFIRMED, MANAGE, MAX_MINUTES, Reservation, Resource};
use crate::views::midnight_utc;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::{Actor, audit, begin};
use rathaus_web::AppState;
use rathaus_web::ctx::Staff;
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::{layout, safe_next};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionSession, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buchung/statistik", get(stats_page))
        .route(
            "/buchung/reservierung/{id}/nicht-genutzt",
            post(no_show_toggle),
        )
        .route("/buchung/gebuehren", get(fees_page))
        .route("/buchung/gebuehren.csv", get(fees_csv_download))
        .route("/buchung/gebuehren.xlsx", get(fees_xlsx_download))
}

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
    who: &Principal,
    year: i32,
) -> Result<Vec<Usage>> {
    who.require(MANAGE)?;
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
pub async fn toggle_no_show<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
) -> Result<Reservation> {
    who.require(MANAGE)?;
    let txn = begin(db).await?;
    let mut q = rathaus_store::uow::scoped_by_id::<reservation::Entity, _>(who.tenant_id, id);
    // Two managers toggling at once must not both read the old value: row lock on
    // PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers.
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    let before = q.one(&txn).await?.ok_or(Error::NotFound)?;
    if before.status != CONFIRMED || before.starts_at > Utc::now() {
        return Err(Error::Conflict(NOT_PAST_KEY.into()));
    }
    let mut am: reservation::ActiveModel = before.clone().into();
    am.no_show = Set(!before.no_show);
    am.updated_at = Set(Some(Utc::now()));
    let after = am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
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
    txn.commit().await?;
    Ok(after)
}

// ------------------------------------------------------------------ fees

/// The longest period the fees list covers at once.
pub const MAX_FEE_DAYS: i64 = 366;
/// Rows the fees page shows; the downloads hold all.
pub const FEES_SHOWN: usize = 500;

/// One line of the treasury's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRow {
    pub reservation_id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub resource: String,
    /// The booking person's name ("" when the account is gone).
    pub booker: String,
    pub organisation: String,
    pub minutes: i64,
    pub fee_group: String,
    pub fee_cents: i64,
    pub no_show: bool,
}

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
    who: &Principal,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<FeeRow>> {
    who.require(MANAGE)?;
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

/// `1234,50`: cents as euros with a decimal comma.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02}", c / 100, c % 100)
}

/// `2,50`: minutes as hours with two decimals and a decimal comma.
pub fn hours(minutes: i64) -> String {
    euros((minutes * 100 + 30) / 60)
}

fn group_label(t: &Catalog, g: &str) -> String {
    if g.is_empty() {
        return String::new();
    }
    let key = format!("booking.stats.group.{g}");
    match t.get(&key) {
        v if v == key => g.to_string(),
        v => v.to_string(),
    }
}

fn headers(t: &Catalog) -> Vec<&str> {
    [
        "date",
        "start",
        "end",
        "resource",
        "booker",
        "organisation",
        "hours",
        "group",
        "fee",
        "id",
    ]
    .iter()
    .map(|k| {
        t.get(match *k {
            "date" => "booking.fees.col.date",
            "start" => "booking.fees.col.start",
            "end" => "booking.fees.col.end",
            "resource" => "booking.fees.col.resource",
            "booker" => "booking.fees.col.booker",
            "organisation" => "booking.fees.col.organisation",
            "hours" => "booking.fees.col.hours",
            "group" => "booking.fees.col.group",
            "fee" => "booking.fees.col.fee",
            _ => "booking.fees.col.id",
        })
    })
    .collect()
}

/// The fees list as CSV the way German Excel opens it: UTF-8 with BOM, `;` between fields,
/// decimal comma, CRLF line ends.
pub fn fees_csv(t: &Catalog, rows: &[FeeRow]) -> Vec<u8> {
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let (s, e) = (r.start.with_timezone(&Berlin), r.end.with_timezone(&Berlin));
            vec![
                s.format("%d.%m.%Y").to_string(),
                s.format("%H:%M").to_string(),
                e.format("%H:%M").to_string(),
                r.resource.clone(),
                r.booker.clone(),
                r.organisation.clone(),
                hours(r.minutes),
                group_label(t, &r.fee_group),
                euros(r.fee_cents),
                r.reservation_id.to_string(),
            ]
        })
        .collect();
    // Hours, fee and number stay numbers (a refund is `-5,00`, not text).
    rathaus_web::export::csv_for_excel(&headers(t), &lines, &[6, 8, 9])
}

/// The fees list as an Excel workbook: real dates and numbers (hours, euros), text as text
/// (never a formula), a bold header row that stays in view.
pub fn fees_xlsx(t: &Catalog, rows: &[FeeRow]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| Error::internal(e);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(t.get("booking.fees.sheet")).map_err(x)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let money = Format::new().set_num_format("#,##0.00 \"€\"");
    let num = Format::new().set_num_format("0.00");
    for (c, h) in headers(t).iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let (s, e) = (r.start.with_timezone(&Berlin), r.end.with_timezone(&Berlin));
        let d =
            ExcelDateTime::from_ymd(s.year() as u16, s.month() as u8, s.day() as u8).map_err(x)?;
        ws.write_datetime_with_format(row, 0, &d, &date)
            .map_err(x)?;
        ws.write_string(row, 1, s.format("%H:%M").to_string())
            .map_err(x)?;
        ws.write_string(row, 2, e.format("%H:%M").to_string())
            .map_err(x)?;
        ws.write_string(row, 3, &r.resource).map_err(x)?;
        ws.write_string(row, 4, &r.booker).map_err(x)?;
        ws.write_string(row, 5, &r.organisation).map_err(x)?;
        ws.write_number_with_format(row, 6, r.minutes as f64 / 60.0, &num)
            .map_err(x)?;
        ws.write_string(row, 7, group_label(t, &r.fee_group))
            .map_err(x)?;
        ws.write_number_with_format(row, 8, r.fee_cents as f64 / 100.0, &money)
            .map_err(x)?;
        ws.write_number(row, 9, r.reservation_id as f64)
            .map_err(x)?;
    }
    ws.set_freeze_panes(1, 0).map_err(x)?;
    for (c, w) in [12, 8, 8, 28, 24, 28, 10, 16, 14, 14].iter().enumerate() {
        ws.set_column_width(c as u16, *w).map_err(x)?;
    }
    wb.save_to_buffer().map_err(x)
}

// ------------------------------------------------------------------ pages

fn this_year() -> i32 {
    Utc::now().with_timezone(&Berlin).year()
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    #[serde(default)]
    jahr: String,
}

struct StatCell {
    percent: String,
    detail: String,
}

struct StatLine {
    id: i64,
    name: String,
    cells: Vec<StatCell>,
    total: StatCell,
}

#[derive(Template)]
#[template(path = "booking/stats_year.html")]
struct StatsTpl {
    l: Layout,
    jahr: String,
    errs: FormErrors,
    caption: String,
    months: Vec<String>,
    rows: Vec<StatLine>,
    prev: String,
    next: String,
}

fn cell(t: &Catalog, u: &MonthUsage) -> StatCell {
    StatCell {
        percent: u
            .percent()
            .map(|p| format!("{p} %"))
            .unwrap_or_else(|| "–".into()),
        detail: t
            .get("booking.stats.detail")
            .replace("{hours}", &hours(u.booked_minutes))
            .replace("{count}", &u.count.to_string())
            .replace("{no_show}", &u.no_shows.to_string()),
    }
}

async fn stats_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<YearQuery>,
) -> std::result::Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let raw = q.jahr.trim();
    let year = if raw.is_empty() {
        Ok(this_year())
    } else {
        raw.parse::<i32>()
            .ok()
            .filter(|y| YEARS.contains(y))
            .ok_or(())
    };
    let mut tpl = StatsTpl {
        l: layout(&st, &ctx, "booking.stats.title"),
        jahr: raw.to_string(),
        errs: FormErrors::none(t),
        caption: String::new(),
        months: (1..=12)
            .map(|m| t.get(&format!("booking.views.month.m{m}")).to_string())
            .collect(),
        rows: vec![],
        prev: String::new(),
        next: String::new(),
    };
    let Ok(year) = year else {
        tpl.errs = FormErrors::new(t, {
            let mut e = FieldErrors::new();
            e.add("jahr", "booking.stats.err.year");
            e
        });
        return respond(page(tpl), true);
    };
    let usage = utilisation(&st.db.conn, &p, year).await?;
    tpl.jahr = year.to_string();
    tpl.caption = t.fmt("booking.stats.caption", &year.to_string());
    tpl.prev = format!("/buchung/statistik?jahr={}", year - 1);
    tpl.next = format!("/buchung/statistik?jahr={}", year + 1);
    tpl.rows = usage
        .iter()
        .map(|u| StatLine {
            id: u.resource.id,
            name: u.resource.name.clone(),
            cells: u.months.iter().map(|m| cell(t, m)).collect(),
            total: cell(t, &u.year),
        })
        .collect();
    page(tpl)
}

#[derive(Deserialize, Default)]
pub struct BackForm {
    #[serde(default)]
    zurueck: String,
}

async fn no_show_toggle(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<BackForm>,
) -> std::result::Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let after = toggle_no_show(&st.db.conn, &p, id).await?;
    let notice = if after.no_show {
        "booking_stats.no_show_set"
    } else {
        "booking_stats.no_show_unset"
    };
    let back = safe_next(f.zurueck.trim()).unwrap_or("/buchung/statistik");
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{sep}notice={notice}")).into_response())
}

#[derive(Deserialize, Default, Clone)]
pub struct FeesQuery {
    #[serde(default)]
    von: String,
    #[serde(default)]
    bis: String,
}

/// The period of the fees list; empty fields: the current month.
fn fees_period(q: &FeesQuery) -> std::result::Result<(NaiveDate, NaiveDate), FieldErrors> {
    let mut errs = FieldErrors::new();
    let today = Utc::now().with_timezone(&Berlin).date_naive();
    let first = today.with_day(1).unwrap_or(today);
    let mut date = |field: &str, v: &str, default: NaiveDate| {
        let v = v.trim();
        if v.is_empty() {
            return Some(default);
        }
        let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(v, "%d.%m.%Y"))
            .ok();
        if d.is_none() {
            errs.add(field, "booking.err.date_invalid");
        }
        d
    };
    let from = date("von", &q.von, first);
    let last = (first + Duration::days(32)).with_day(1).unwrap_or(today) - Duration::days(1);
    let to = date("bis", &q.bis, last);
    match (from, to) {
        (Some(f), Some(t)) if errs.is_empty() => match fee_period(f, t) {
            Ok(()) => Ok((f, t)),
            Err(Error::Invalid(e)) => Err(e),
            Err(_) => Err(errs),
        },
        _ => Err(errs),
    }
}

struct FeeLine {
    id: i64,
    date: String,
    time: String,
    resource: String,
    booker: String,
    hours: String,
    group: String,
    fee: String,
    no_show: bool,
}

#[derive(Template)]
#[template(path = "booking/stats_fees.html")]
struct FeesTpl {
    l: Layout,
    q: FeesQuery,
    errs: FormErrors,
    caption: String,
    rows: Vec<FeeLine>,
    total: String,
    more: bool,
    csv: String,
    xlsx: String,
}

async fn fees_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<FeesQuery>,
) -> std::result::Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let mut tpl = FeesTpl {
        l: layout(&st, &ctx, "booking.fees.title"),
        errs: FormErrors::none(t),
        caption: String::new(),
        rows: vec![],
        total: String::new(),
        more: false,
        csv: String::new(),
        xlsx: String::new(),
        q: q.clone(),
    };
    let (from, to) = match fees_period(&q) {
        Ok(p) => p,
        Err(e) => {
            tpl.errs = FormErrors::new(t, e);
            return respond(page(tpl), true);
        }
    };
    let rows = fees(&st.db.conn, &p, from, to).await?;
    let (von, bis) = (from.format("%Y-%m-%d"), to.format("%Y-%m-%d"));
    tpl.q = FeesQuery {
        von: von.to_string(),
        bis: bis.to_string(),
    };
    tpl.csv = format!("/buchung/gebuehren.csv?von={von}&bis={bis}");
    tpl.xlsx = format!("/buchung/gebuehren.xlsx?von={von}&bis={bis}");
    tpl.caption = t
        .get("booking.fees.caption")
        .replace("{from}", &from.format("%d.%m.%Y").to_string())
        .replace("{to}", &to.format("%d.%m.%Y").to_string());
    tpl.total = euros(rows.iter().map(|r| r.fee_cents).sum());
    tpl.more = rows.len() > FEES_SHOWN;
    tpl.rows = rows
        .iter()
        .take(FEES_SHOWN)
        .map(|r| {
            let (s, e) = (r.start.with_timezone(&Berlin), r.end.with_timezone(&Berlin));
            FeeLine {
                id: r.reservation_id,
                date: s.format("%d.%m.%Y").to_string(),
                time: format!("{}–{}", s.format("%H:%M"), e.format("%H:%M")),
                resource: r.resource.clone(),
                booker: match (r.organisation.is_empty(), r.booker.is_empty()) {
                    (false, false) => format!("{} ({})", r.organisation, r.booker),
                    (false, true) => r.organisation.clone(),
                    _ => r.booker.clone(),
                },
                hours: hours(r.minutes),
                group: group_label(t, &r.fee_group),
                fee: euros(r.fee_cents),
                no_show: r.no_show,
            }
        })
        .collect();
    page(tpl)
}

/// The fee list as a download: it names the people who booked, so it leaves the system only
/// with an audit event (who, which period, how many rows, which format).
pub async fn fees_export<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    who: &Principal,
    from: NaiveDate,
    to: NaiveDate,
    format: &str,
) -> Result<Vec<FeeRow>> {
    let rows = fees(db, who, from, to).await?;
    let txn = begin(db).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("booking.fees_exported", "booking_reservation", None::<i64>).details(
            json!({"format": format, "from": from.to_string(), "to": to.to_string(), "rows": rows.len()}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(rows)
}

/// A download's rows, or the fees page with the messages when the period is unreadable.
async fn download_rows(
    st: &AppState,
    p: &Principal,
    q: &FeesQuery,
    format: &str,
) -> std::result::Result<(NaiveDate, NaiveDate, Vec<FeeRow>), Error> {
    p.require(MANAGE)?;
    let (from, to) = fees_period(q).map_err(Error::Invalid)?;
    Ok((
        from,
        to,
        fees_export(&st.db.conn, p, from, to, format).await?,
    ))
}

async fn fees_csv_download(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<FeesQuery>,
) -> std::result::Result<Response, HtmlError> {
    let (from, to, rows) = download_rows(&st, &p, &q, "csv").await?;
    let body = fees_csv(catalog(ctx.lang), &rows);
    Ok(rathaus_web::export::attachment(
        rathaus_web::export::CSV,
        &format!("gebuehren-{from}-{to}.csv"),
        body,
    ))
}

async fn fees_xlsx_download(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<FeesQuery>,
) -> std::result::Result<Response, HtmlError> {
    let (from, to, rows) = download_rows(&st, &p, &q, "xlsx").await?;
    let body = fees_xlsx(catalog(ctx.lang), &rows)?;
    Ok(rathaus_web::export::attachment(
        rathaus_web::export::XLSX,
        &format!("gebuehren-{from}-{to}.xlsx"),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_hours_have_a_decimal_comma() {
        assert_eq!(euros(0), "0,00");
        assert_eq!(euros(1250), "12,50");
        assert_eq!(euros(-5), "-0,05");
        assert_eq!(hours(90), "1,50");
        assert_eq!(hours(20), "0,33");
    }
}
