//! The map of open reports (Leaflet with a staff GeoJSON feed, and a list without
//! JavaScript), the exports of the inbox filters (CSV the way German Excel opens it, XLSX) and
//! the statistics per category and month with the median times to the first answer and to
//! closing.

use super::{
    Filter, Names, export_reports, fmt_date, fmt_time, moderation_label, place_of, priority_label,
    require_staff, status_label,
};
pub use crate::service::inbox::{
    CategoryStats, MAP_MAX, MapQuery, Stats, median_hours, open_reports, parse_bbox, statistics,
};
use crate::service::{MODERATE, Report};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result};
use rathaus_store::uow::{Actor, Scope};
use rathaus_web::ctx::Staff;
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::{AppState, export};
use serde::Deserialize;
use serde_json::json;

// ------------------------------------------------------------------ map

struct MapRow {
    id: i64,
    reference: String,
    category: String,
    place: String,
    coordinates: String,
    status: String,
    moderation: String,
}

#[derive(Template)]
#[template(path = "staff/map.html")]
struct MapTpl {
    l: Layout,
    can_moderate: bool,
    rows: Vec<MapRow>,
    full: bool,
    geojson: String,
    center: (String, String),
    zoom: u8,
    tile_url: String,
    tile_attribution: String,
    leaflet_css: &'static str,
    leaflet_js: &'static str,
}

pub(crate) async fn map_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<MapQuery>,
) -> std::result::Result<Response, HtmlError> {
    require_staff(Actor::User(&p))?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let reports = open_reports(&Scope::user(conn, &p), &q).await?;
    let names = Names::load(conn, p.tenant_id).await?;
    let settings = crate::service::settings(conn, p.tenant_id).await?;
    let n = reports.len().max(1) as f64;
    let (lat, lon) = if reports.is_empty() {
        (51.1657, 10.4515)
    } else {
        (
            reports.iter().map(|r| r.lat).sum::<f64>() / n,
            reports.iter().map(|r| r.lon).sum::<f64>() / n,
        )
    };
    let mut query = q.f.query();
    if !query.is_empty() {
        query.push('&');
    }
    let tpl = MapTpl {
        l: layout(&st, &ctx, "reports.staff.map_title"),
        can_moderate: p.has(MODERATE),
        full: reports.len() as u64 >= MAP_MAX,
        rows: reports
            .iter()
            .map(|r| MapRow {
                id: r.id,
                reference: r.reference.clone(),
                category: names.category(r.category_id),
                place: place_of(r),
                coordinates: format!("{:.5}, {:.5}", r.lat, r.lon),
                status: status_label(t, &r.status),
                moderation: moderation_label(t, &r.moderation),
            })
            .collect(),
        geojson: format!("/maengel/verwaltung/karte.json?{query}"),
        center: (format!("{lat:.6}"), format!("{lon:.6}")),
        zoom: if reports.is_empty() { 6 } else { 14 },
        tile_url: crate::http::pages::tiles::URL_TEMPLATE.to_string(),
        tile_attribution: settings.tile_attribution,
        leaflet_css: rathaus_web::assets::url("vendor/leaflet/leaflet.css"),
        leaflet_js: rathaus_web::assets::url("vendor/leaflet/leaflet.js"),
    };
    page(tpl)
}

/// GeoJSON of the open reports for the staff map (all moderation states: staff only).
pub(crate) async fn map_json(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<MapQuery>,
) -> std::result::Result<Response, HtmlError> {
    require_staff(Actor::User(&p))?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let reports = open_reports(&Scope::user(conn, &p), &q).await?;
    let names = Names::load(conn, p.tenant_id).await?;
    let features: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {
                    "id": r.id,
                    "reference": r.reference,
                    "category": names.category(r.category_id),
                    "status": status_label(t, &r.status),
                    "moderation": moderation_label(t, &r.moderation),
                    "url": format!("/maengel/verwaltung/{}", r.id),
                },
            })
        })
        .collect();
    let body = json!({"type": "FeatureCollection", "features": features});
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body.to_string(),
    )
        .into_response())
}

/// The script of the staff maps (detail mini map and map of open reports); static.
pub(crate) async fn map_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../../templates/staff/karte.js"),
    )
        .into_response()
}

// ------------------------------------------------------------------ export

pub use crate::service::inbox::EXPORT_MAX;

/// A workbook of one sheet: a bold header row that stays in view, every cell text (never a
/// formula) except the columns listed as numbers.
pub fn to_xlsx(
    sheet: &str,
    header: &[String],
    rows: &[Vec<String>],
    numeric: &[usize],
) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| Error::internal(e);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(x)?;
    let bold = Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, v) in r.iter().enumerate() {
            let number = numeric
                .contains(&c)
                .then(|| v.replace(',', ".").parse::<f64>().ok())
                .flatten();
            match number {
                Some(n) => ws.write_number(row, c as u16, n).map_err(x)?,
                None => ws.write_string(row, c as u16, v).map_err(x)?,
            };
        }
    }
    ws.set_freeze_panes(1, 0).map_err(x)?;
    wb.save_to_buffer().map_err(x)
}

fn export_header(t: &Catalog, personal: bool) -> Vec<String> {
    let mut keys = vec![
        "reports.staff.col.reference",
        "reports.staff.received",
        "reports.staff.field.category",
        "reports.staff.col.place",
        "reports.staff.col.lat",
        "reports.staff.col.lon",
        "reports.staff.field.status",
        "reports.staff.field.priority",
        "reports.staff.col.due",
        "reports.staff.field.moderation",
        "reports.staff.field.department",
        "reports.staff.field.assignee",
        "reports.staff.first_answer",
        "reports.staff.closed_at",
        "reports.staff.original",
        "reports.staff.public_text",
        "reports.staff.col.last_reply",
    ];
    if personal {
        keys.extend([
            "reports.staff.name",
            "reports.staff.email",
            "reports.staff.phone",
        ]);
    }
    keys.into_iter().map(|k| t.get(k).to_string()).collect()
}

fn export_row(t: &Catalog, names: &Names, r: &Report, personal: bool) -> Vec<String> {
    let mut v = vec![
        r.reference.clone(),
        fmt_time(&r.created_at),
        names.category(r.category_id),
        r.address.clone(),
        format!("{:.6}", r.lat),
        format!("{:.6}", r.lon),
        status_label(t, &r.status),
        priority_label(t, &r.priority),
        fmt_date(&r.due_at),
        moderation_label(t, &r.moderation),
        names.department(r.department_id),
        names.user(r.assignee_id),
        r.first_answer_at.as_ref().map(fmt_time).unwrap_or_default(),
        r.closed_at.as_ref().map(fmt_time).unwrap_or_default(),
        r.description.clone(),
        r.public_description.clone(),
        r.status_notes.clone(),
    ];
    if personal {
        v.extend([
            r.reporter_name.clone(),
            r.reporter_email.clone(),
            r.reporter_phone.clone(),
        ]);
    }
    v
}

/// The export of the filters as header and rows; the service checks the permission, drops
/// personal data unless `reports.personal_data` and records the audit event.
async fn export_table(
    st: &AppState,
    p: &Principal,
    t: &Catalog,
    f: &Filter,
    format: &str,
) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let e = export_reports(&st.db.conn, Actor::User(p), p.tenant_id, f, format).await?;
    let header = export_header(t, e.personal);
    let rows = e
        .reports
        .iter()
        .map(|r| export_row(t, &e.names, r, e.personal))
        .collect();
    Ok((header, rows))
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&Berlin).date_naive()
}

pub(crate) async fn export_csv(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(f): Query<Filter>,
) -> std::result::Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (header, rows) = export_table(&st, &p, t, &f, "csv").await?;
    Ok(export::attachment(
        export::CSV,
        &format!("maengel-{}.csv", today()),
        rathaus_web::export::csv_for_excel(&header, &rows, &[]),
    ))
}

pub(crate) async fn export_xlsx(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(f): Query<Filter>,
) -> std::result::Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (header, rows) = export_table(&st, &p, t, &f, "xlsx").await?;
    let body = to_xlsx(t.get("reports.staff.sheet"), &header, &rows, &[4, 5])?;
    Ok(export::attachment(
        export::XLSX,
        &format!("maengel-{}.xlsx", today()),
        body,
    ))
}

// ------------------------------------------------------------------ statistics

/// Hours with one decimal, German style; "–" for none.
pub fn fmt_hours(h: Option<f64>) -> String {
    match h {
        Some(h) => format!("{h:.1}").replace('.', ","),
        None => "–".to_string(),
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct PeriodQuery {
    /// `YYYY-MM-DD`, first day (local).
    #[serde(default)]
    pub von: String,
    /// `YYYY-MM-DD`, last day (local, included).
    #[serde(default)]
    pub bis: String,
}

/// The period of the query (default: the current month and the eleven before it) as UTC
/// instants [from, to).
pub fn period(q: &PeriodQuery) -> std::result::Result<(NaiveDate, NaiveDate), FieldErrors> {
    let mut errs = FieldErrors::new();
    let today = today();
    let default_from = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(11)))
        .unwrap_or(today);
    let mut parse = |field: &str, v: &str, default: NaiveDate| match v.trim() {
        "" => Some(default),
        v => {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
            if d.is_none() {
                errs.add(field, "reports.staff.err.date");
            }
            d
        }
    };
    let from = parse("von", &q.von, default_from);
    let to = parse("bis", &q.bis, today);
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            errs.add("bis", "reports.staff.err.period_order");
        } else if (t - f).num_days() > 366 * 5 {
            errs.add("bis", "reports.staff.err.period_long");
        }
    }
    match (from, to) {
        (Some(f), Some(t)) if errs.is_empty() => Ok((f, t)),
        _ => Err(errs),
    }
}

fn local_midnight(d: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    Berlin
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

pub fn period_bounds(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        local_midnight(from),
        local_midnight(to.succ_opt().unwrap_or(to)),
    )
}

struct MonthLine {
    category: String,
    month: String,
    received: u32,
    closed: u32,
}

struct CategoryLine {
    category: String,
    received: u32,
    closed: u32,
    answer: String,
    close: String,
}

#[derive(Template)]
#[template(path = "staff/stats.html")]
struct StatsTpl {
    l: Layout,
    can_moderate: bool,
    q: PeriodQuery,
    errs: FormErrors,
    months: Vec<MonthLine>,
    categories: Vec<CategoryLine>,
    total: CategoryLine,
    csv: String,
}

fn stats_lines(names: &Names, s: &Stats) -> (Vec<MonthLine>, Vec<CategoryLine>, CategoryLine) {
    let months = s
        .months
        .iter()
        .map(|((c, m), (r, cl))| MonthLine {
            category: names.category(*c),
            month: m
                .split_once('-')
                .map(|(y, mo)| format!("{mo}.{y}"))
                .unwrap_or_else(|| m.clone()),
            received: *r,
            closed: *cl,
        })
        .collect();
    let line = |name: String, c: &CategoryStats| CategoryLine {
        category: name,
        received: c.received,
        closed: c.closed,
        answer: fmt_hours(c.median_first_answer_h),
        close: fmt_hours(c.median_close_h),
    };
    let categories = s
        .categories
        .iter()
        .map(|c| line(names.category(c.category_id), c))
        .collect();
    (months, categories, line(String::new(), &s.total))
}

pub(crate) async fn stats_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<PeriodQuery>,
) -> std::result::Result<Response, HtmlError> {
    require_staff(Actor::User(&p))?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let names = Names::load(conn, p.tenant_id).await?;
    let (errs, stats, failed) = match period(&q) {
        Ok((from, to)) => {
            let (a, b) = period_bounds(from, to);
            (
                FormErrors::none(t),
                statistics(&Scope::user(conn, &p), a, b).await?,
                false,
            )
        }
        Err(e) => (FormErrors::new(t, e), Stats::default(), true),
    };
    let (months, categories, mut total) = stats_lines(&names, &stats);
    total.category = t.get("reports.staff.stats.total").to_string();
    let mut qs = url::form_urlencoded::Serializer::new(String::new());
    qs.append_pair("von", q.von.trim());
    qs.append_pair("bis", q.bis.trim());
    respond(
        page(StatsTpl {
            l: layout(&st, &ctx, "reports.staff.stats_title"),
            can_moderate: p.has(MODERATE),
            csv: format!("/maengel/verwaltung/statistik.csv?{}", qs.finish()),
            q,
            errs,
            months,
            categories,
            total,
        }),
        failed,
    )
}

pub(crate) async fn stats_csv(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<PeriodQuery>,
) -> std::result::Result<Response, HtmlError> {
    require_staff(Actor::User(&p))?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let (from, to) = period(&q).map_err(Error::Invalid)?;
    let (a, b) = period_bounds(from, to);
    let stats = statistics(&Scope::user(conn, &p), a, b).await?;
    let names = Names::load(conn, p.tenant_id).await?;
    let (months, categories, _) = stats_lines(&names, &stats);
    let header: Vec<String> = [
        "reports.staff.field.category",
        "reports.staff.stats.month",
        "reports.staff.stats.received",
        "reports.staff.stats.closed",
        "reports.staff.stats.median_answer",
        "reports.staff.stats.median_close",
    ]
    .iter()
    .map(|k| t.get(k).to_string())
    .collect();
    let mut rows: Vec<Vec<String>> = months
        .iter()
        .map(|m| {
            vec![
                m.category.clone(),
                m.month.clone(),
                m.received.to_string(),
                m.closed.to_string(),
                String::new(),
                String::new(),
            ]
        })
        .collect();
    for c in &categories {
        rows.push(vec![
            c.category.clone(),
            t.get("reports.staff.stats.period").to_string(),
            c.received.to_string(),
            c.closed.to_string(),
            c.answer.clone(),
            c.close.clone(),
        ]);
    }
    Ok(export::attachment(
        export::CSV,
        &format!("maengel-statistik-{from}-{to}.csv"),
        rathaus_web::export::csv_for_excel(&header, &rows, &[]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn medians() {
        let h = |n: i64| Duration::hours(n);
        assert_eq!(median_hours(vec![]), None);
        assert_eq!(median_hours(vec![h(5), h(1), h(3)]), Some(3.0));
        assert_eq!(median_hours(vec![h(4), h(1), h(2), h(10)]), Some(3.0));
        assert_eq!(fmt_hours(Some(2.26)), "2,3");
    }

    #[test]
    fn bbox() {
        assert_eq!(
            parse_bbox("7.1,51.3,7.3,51.5"),
            Some((7.1, 51.3, 7.3, 51.5))
        );
        assert_eq!(parse_bbox("7.1,51.3,7.3"), None);
        assert_eq!(parse_bbox("7.3,51.3,7.1,51.5"), None);
        assert_eq!(parse_bbox("x,1,2,3"), None);
        assert_eq!(parse_bbox("0,91,1,92"), None);
    }
}
