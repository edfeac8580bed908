//! Statistics and fee pages (`/buchung/statistik`, `/buchung/gebuehren`).

use crate::domain::ReservationId;
use crate::formats::fees::*;
use crate::service::stats::{
    FEES_SHOWN, FeeRow, MonthUsage, YEARS, fee_period, fees, fees_export, toggle_no_show,
    utilisation,
};
use rathaus_store::uow::Actor;

use crate::http::MANAGERS;
use rathaus_web::Routes;

use crate::service::MANAGE;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result};
use rathaus_web::AppState;
use rathaus_web::ctx::Staff;
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::{layout, safe_next};
use serde::Deserialize;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/buchung/statistik", MANAGERS, stats_page)
        .post(
            "/buchung/reservierung/{id}/nicht-genutzt",
            MANAGERS,
            no_show_toggle,
        )
        .get("/buchung/gebuehren", MANAGERS, fees_page)
        .get("/buchung/gebuehren.csv", MANAGERS, fees_csv_download)
        .get("/buchung/gebuehren.xlsx", MANAGERS, fees_xlsx_download)
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
    let usage = utilisation(&st.db.conn, Actor::User(&p), year).await?;
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
    let after = toggle_no_show(&st.db.conn, Actor::User(&p), ReservationId(id)).await?;
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
    let rows = fees(&st.db.conn, Actor::User(&p), from, to).await?;
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
        fees_export(&st.db.conn, Actor::User(p), from, to, format).await?,
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

/// The fees list as CSV the way German Excel opens it (see `formats::fees::csv_lines`).
pub fn fees_csv(t: &Catalog, rows: &[FeeRow]) -> Vec<u8> {
    let lines = csv_lines(rows, &|g| group_label(t, g));
    rathaus_web::export::csv_for_excel(&headers(t), &lines, CSV_NUMBERS)
}

/// The fees list as an Excel workbook (see `formats::fees::xlsx`).
pub fn fees_xlsx(t: &Catalog, rows: &[FeeRow]) -> Result<Vec<u8>> {
    xlsx(&headers(t), t.get("booking.fees.sheet"), rows, &|g| {
        group_label(t, g)
    })
}
