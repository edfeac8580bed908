//! The public view of published reports (issue 3, item 7): the list with filters and a map
//! (`GET /maengel`), one report (`GET /maengel/{reference}`), the map's GeoJSON
//! (`GET /maengel/karte.geojson`), the Atom feed (`GET /maengel/feed.atom`) and the photos
//! (`GET /maengel/fotos/{id}.jpg`, `/maengel/fotos/{id}/klein.jpg`).
//!
//! Nothing personal is ever shown: only the moderated public description, category, status,
//! dates, position, public replies and photos moderation has not hidden. Reports waiting for
//! moderation or hidden by it answer 404 (staff with `reports.handle`/`reports.moderate`
//! may see their photos).

use crate::service::ReportsState;
use axum::Extension;
use std::sync::Arc;
use super::{
    HtmlResult, MapCfg, PhotoRow, UpdateRow, assets, category_names, excerpt, fmt_date, map_cfg,
    public_updates, status_label, tenant_of,
};
use crate::store::entity::{photo, report};
use crate::service::{self, HANDLE, MODERATE, PUBLISHED};
use crate::formats::atom; 
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, TenantId};
use rathaus_store::db_err;
use rathaus_web::AppState;
use rathaus_web::api::{Problem, problem};
use rathaus_web::ctx::{Ctx, origin};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::{fmt_time, layout};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query as Sql};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// Reports per page of the list.
pub const PAGE_SIZE: u64 = 25;
/// Features of one GeoJSON answer at most (newest first).
pub const MAX_FEATURES: u64 = 500;
/// Entries of the Atom feed.
pub const FEED_SIZE: u64 = 50;


// ---------------------------------------------------------------- filters

/// A status filter: all, open, closed or one status.
#[derive(Debug, Clone, PartialEq)]
enum StatusFilter {
    All,
    Open,
    Closed,
    One(String),
}

fn parse_status(s: &str) -> Option<StatusFilter> {
    match s.trim() {
        "" => Some(StatusFilter::All),
        "offen" | "open" => Some(StatusFilter::Open),
        "erledigt" | "geschlossen" | "closed" => Some(StatusFilter::Closed),
        x if service::STATUSES.contains(&x) => Some(StatusFilter::One(x.to_string())),
        _ => None,
    }
}

fn status_cond(f: &StatusFilter) -> Condition {
    match f {
        StatusFilter::All => Condition::all(),
        StatusFilter::Open => Condition::all().add(report::Column::IsOpen.eq(true)),
        StatusFilter::Closed => Condition::all().add(report::Column::IsOpen.eq(false)),
        StatusFilter::One(s) => Condition::all().add(report::Column::Status.eq(s.as_str())),
    }
}

/// A date `YYYY-MM-DD` as midnight Europe/Berlin in UTC (`end`: the following midnight).
fn day_start(s: &str, end: bool) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let d = if end { d.succ_opt()? } else { d };
    let midnight = d.and_hms_opt(0, 0, 0)?;
    chrono_tz::Europe::Berlin
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

// ---------------------------------------------------------------- the list

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    kategorie: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    von: String,
    #[serde(default)]
    bis: String,
    /// Keyset cursor: `{created_at micros}_{id}` of the last row of the previous page.
    #[serde(default)]
    nach: String,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    id: i64,
    reference: String,
    category_id: i64,
    status: String,
    public_description: String,
    created_at: DateTime<Utc>,
}

struct ListRow {
    reference: String,
    category: String,
    status: String,
    open: bool,
    created: String,
    description: String,
}

struct Opt {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "public/list.html")]
struct ListTpl {
    l: Layout,
    a: super::Assets,
    map: MapCfg,
    categories: Vec<Opt>,
    statuses: Vec<Opt>,
    q: ListQuery,
    errs: FormErrors,
    rows: Vec<ListRow>,
    next: Option<String>,
    first_page: Option<String>,
    geojson_filter: String,
}

fn query_string(q: &ListQuery, nach: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("kategorie", &q.kategorie),
        ("status", &q.status),
        ("von", &q.von),
        ("bis", &q.bis),
    ] {
        if !v.trim().is_empty() {
            s.append_pair(k, v.trim());
        }
    }
    if !nach.is_empty() {
        s.append_pair("nach", nach);
    }
    s.finish()
}

pub(crate) async fn list_page(State(st): State<AppState>, Extension(state): Extension<Arc<ReportsState>>, ctx: Ctx, Query(q): Query<ListQuery>) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let cats = service::list_categories(&st.db.conn, tenant, false).await?;
    let mut errs = FieldErrors::new();
    let category = match q.kategorie.trim() {
        "" => None,
        c => match c.parse::<i64>() {
            Ok(id) if cats.iter().any(|x| x.id == id) => Some(id),
            _ => {
                errs.add("kategorie", "reports.err.category_unknown");
                None
            }
        },
    };
    let status = parse_status(&q.status).unwrap_or_else(|| {
        errs.add("status", "reports.err.status");
        StatusFilter::All
    });
    let mut bound = |field: &str, value: &str, end: bool| match value.trim() {
        "" => None,
        v => day_start(v, end).or_else(|| {
            errs.add(field, "reports.public.err_date");
            None
        }),
    };
    let from = bound("von", &q.von, false);
    let to = bound("bis", &q.bis, true);
    let cursor = q.nach.split_once('_').and_then(|(a, b)| {
        let micros: i64 = a.parse().ok()?;
        Some((
            DateTime::from_timestamp_micros(micros)?,
            b.parse::<i64>().ok()?,
        ))
    });

    let mut sel = rathaus_store::uow::scoped::<report::Entity>(tenant)
        .select_only()
        .columns([
            report::Column::Id,
            report::Column::Reference,
            report::Column::CategoryId,
            report::Column::Status,
            report::Column::PublicDescription,
            report::Column::CreatedAt,
        ])
        .filter(report::Column::Moderation.eq(PUBLISHED))
        .filter(status_cond(&status));
    if let Some(c) = category {
        sel = sel.filter(report::Column::CategoryId.eq(c));
    }
    if let Some(f) = from {
        sel = sel.filter(report::Column::CreatedAt.gte(f));
    }
    if let Some(u) = to {
        sel = sel.filter(report::Column::CreatedAt.lt(u));
    }
    if let Some((at, id)) = cursor {
        sel = sel.filter(
            Condition::any().add(report::Column::CreatedAt.lt(at)).add(
                Condition::all()
                    .add(report::Column::CreatedAt.eq(at))
                    .add(report::Column::Id.lt(id)),
            ),
        );
    }
    let mut rows: Vec<Row> = sel
        .order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .limit(PAGE_SIZE + 1)
        .into_model::<Row>()
        .all(&st.db.conn)
        .await
        .map_err(db_err)?;
    let more = rows.len() as u64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next = match rows.last() {
        Some(r) if more => Some(query_string(
            &q,
            &format!("{}_{}", r.created_at.timestamp_micros(), r.id),
        )),
        _ => None,
    };
    let names: HashMap<i64, String> = cats.iter().map(|c| (c.id, c.name.clone())).collect();
    let list = rows
        .into_iter()
        .map(|r| ListRow {
            category: names.get(&r.category_id).cloned().unwrap_or_default(),
            open: service::is_open_status(&r.status),
            status: status_label(t, &r.status),
            created: fmt_date(&r.created_at),
            description: excerpt(&r.public_description, 200),
            reference: r.reference,
        })
        .collect();
    let categories = cats
        .iter()
        .filter(|c| c.active)
        .map(|c| Opt {
            value: c.id.to_string(),
            label: c.name.clone(),
            selected: category == Some(c.id),
        })
        .collect();
    let mut statuses = vec![
        Opt {
            value: String::new(),
            label: t.get("reports.public.status_all").to_string(),
            selected: status == StatusFilter::All,
        },
        Opt {
            value: "offen".into(),
            label: t.get("reports.public.status_open").to_string(),
            selected: status == StatusFilter::Open,
        },
        Opt {
            value: "erledigt".into(),
            label: t.get("reports.public.status_closed").to_string(),
            selected: status == StatusFilter::Closed,
        },
    ];
    for s in service::STATUSES {
        statuses.push(Opt {
            value: s.to_string(),
            label: status_label(t, s),
            selected: status == StatusFilter::One(s.to_string()),
        });
    }
    let map = map_cfg(&st.db.conn, &state, tenant).await?;
    let mut gj = url::form_urlencoded::Serializer::new(String::new());
    if let Some(c) = category {
        gj.append_pair("category", &c.to_string());
    }
    match &status {
        StatusFilter::All => {}
        StatusFilter::Open => {
            gj.append_pair("status", "open");
        }
        StatusFilter::Closed => {
            gj.append_pair("status", "closed");
        }
        StatusFilter::One(s) => {
            gj.append_pair("status", s);
        }
    }
    let errs = FormErrors::new(t, errs);
    let failed = errs.any();
    let first_page = (!q.nach.is_empty()).then(|| query_string(&q, ""));
    respond(
        page(ListTpl {
            l: layout(&st, &ctx, "reports.public.list_title"),
            a: assets(),
            map,
            categories,
            statuses,
            q,
            errs,
            rows: list,
            next,
            first_page,
            geojson_filter: gj.finish(),
        }),
        failed,
    )
}

// ---------------------------------------------------------------- one report

#[derive(Template)]
#[template(path = "public/detail.html")]
struct DetailTpl {
    l: Layout,
    a: super::Assets,
    map: MapCfg,
    reference: String,
    category: String,
    status: String,
    open: bool,
    created: String,
    description: String,
    lat: String,
    lon: String,
    updates: Vec<UpdateRow>,
    photos: Vec<PhotoRow>,
}

pub(crate) async fn detail(State(st): State<AppState>, Extension(state): Extension<Arc<ReportsState>>, ctx: Ctx, Path(reference): Path<String>) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let r = service::published(&st.db.conn, tenant, &reference).await?;
    let category = service::category(&st.db.conn, tenant, r.category_id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let photos = service::photos_of(&st.db.conn, tenant, r.id, false)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, p)| PhotoRow {
            full: format!("/maengel/fotos/{}.jpg", p.id),
            thumb: format!("/maengel/fotos/{}/klein.jpg", p.id),
            alt: t.fmt("reports.public.photo_alt", &(i + 1).to_string()),
        })
        .collect();
    let updates = public_updates(&st.db.conn, t, tenant, r.id).await?;
    let l = layout(&st, &ctx, "reports.public.detail_title").with_title(format!(
        "{} {}",
        t.get("reports.public.detail_title"),
        r.reference
    ));
    page(DetailTpl {
        l,
        a: assets(),
        map: map_cfg(&st.db.conn, &state, tenant).await?,
        category,
        status: status_label(t, &r.status),
        open: r.is_open,
        created: fmt_time(&r.created_at),
        description: r.public_description,
        lat: format!("{:.6}", r.lat),
        lon: format!("{:.6}", r.lon),
        updates,
        photos,
        reference: r.reference,
    })
}

// ---------------------------------------------------------------- GeoJSON

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GeoQuery {
    #[serde(default)]
    bbox: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    status: String,
}

#[derive(Debug, FromQueryResult)]
struct GeoRow {
    reference: String,
    category_id: i64,
    status: String,
    lat: f64,
    lon: f64,
    created_at: DateTime<Utc>,
}

fn bad_request(t: &rathaus_web::i18n::Catalog, key: &str) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        Problem {
            kind: "about:blank".into(),
            title: t.get("reports.geojson.err.title").into(),
            status: 400,
            detail: Some(t.get(key).to_string()),
            errors: vec![],
        },
    )
}

/// `minLon,minLat,maxLon,maxLat` within WGS 84, min ≤ max.
fn parse_bbox(s: &str) -> Option<(f64, f64, f64, f64)> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let [a, b, c, d] = v[..] else { return None };
    let ok = [a, b, c, d].iter().all(|x| x.is_finite())
        && (-180.0..=180.0).contains(&a)
        && (-180.0..=180.0).contains(&c)
        && (-90.0..=90.0).contains(&b)
        && (-90.0..=90.0).contains(&d)
        && a <= c
        && b <= d;
    ok.then_some((a, b, c, d))
}

/// Grid cells per side of a viewport: a box is widened to whole cells of the largest
/// power-of-two size (in degrees) that fits this many times into it.
const GRID: f64 = 4.0;

/// `bbox` widened outwards to the grid of its size (see [`GRID`]), within WGS 84.
fn snap_bbox((min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64)) -> (f64, f64, f64, f64) {
    fn step(span: f64) -> f64 {
        let s = (span / GRID).max(1e-6);
        2f64.powf(s.log2().floor())
    }
    let (sx, sy) = (step(max_lon - min_lon), step(max_lat - min_lat));
    (
        ((min_lon / sx).floor() * sx).max(-180.0),
        ((min_lat / sy).floor() * sy).max(-90.0),
        ((max_lon / sx).ceil() * sx).min(180.0),
        ((max_lat / sy).ceil() * sy).min(90.0),
    )
}


fn geo_response(body: axum::body::Bytes) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=10"),
    );
    res
}

pub(crate) async fn geojson(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
    Query(q): Query<GeoQuery>,
) -> Response {
    let t = catalog(ctx.lang);
    let bad_request = |key: &str| bad_request(t, key);
    let Some(tenant) = ctx.tenant_id() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some((min_lon, min_lat, max_lon, max_lat)) = parse_bbox(&q.bbox) else {
        return bad_request("reports.geojson.err.bbox");
    };
    let category = match q.category.trim() {
        "" => None,
        c => match c.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return bad_request("reports.geojson.err.category"),
        },
    };
    let Some(status) = parse_status(&q.status) else {
        return bad_request("reports.geojson.err.status");
    };
    // The box is widened to a grid (as map tile servers do): panning and zooming a little
    // asks for the same cells, which the cache then answers.
    let (min_lon, min_lat, max_lon, max_lat) = snap_bbox((min_lon, min_lat, max_lon, max_lat));
    let key = format!(
        "{min_lon},{min_lat},{max_lon},{max_lat}|{}|{}",
        category.unwrap_or(0),
        q.status.trim()
    );
    let compute = async {
        geojson_body(
            &st.db.conn,
            tenant,
            (min_lon, min_lat, max_lon, max_lat),
            category,
            &status,
        )
        .await
        .map(axum::body::Bytes::from)
    };
    match state
        .map_answers
        .get_or_compute(&state.generations, tenant, &key, compute)
        .await {
        Ok(body) => geo_response(body),
        Err(e) => rathaus_web::api::ApiError(e).into_response(),
    }
}

/// Reports in a viewport the probe counts up to; fewer: the viewport is sparse.
const DENSE: u64 = 20_000;
/// Candidate ids looked at per query in a sparse viewport.
const CHUNK: u64 = 1_000;

fn geo_filters(
    sel: sea_orm::Select<report::Entity>,
    category: Option<i64>,
    status: &StatusFilter,
) -> sea_orm::Select<report::Entity> {
    let mut sel = sel
        .select_only()
        .columns([
            report::Column::Reference,
            report::Column::CategoryId,
            report::Column::Status,
            report::Column::Lat,
            report::Column::Lon,
            report::Column::CreatedAt,
        ])
        .filter(report::Column::Moderation.eq(PUBLISHED))
        .filter(status_cond(status));
    if let Some(c) = category {
        sel = sel.filter(report::Column::CategoryId.eq(c));
    }
    sel
}

/// The newest published reports in the viewport, at most [`MAX_FEATURES`]. Two plans, chosen
/// by a probe on the position index (index only, at most [`DENSE`] entries):
/// - sparse viewport (a street): all candidate ids are known from the probe; the rows are
///   read newest id first in chunks until enough match the filters;
/// - dense viewport (the town): the receipt-time index is walked newest first with the
///   position as a plain filter (`lat + 0` keeps the planner off the position index, which
///   would otherwise collect and sort every report in the box), stopping after 500 matches.
async fn geojson_rows(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
    category: Option<i64>,
    status: &StatusFilter,
    dense_at: u64,
) -> rathaus_core::Result<Vec<GeoRow>> {
    // The ids in the box, from the position index alone.
    let in_box = || {
        rathaus_store::uow::scoped::<report::Entity>(tenant)
            .select_only()
            .column(report::Column::Id)
            .filter(report::Column::Lat.between(min_lat, max_lat))
            .filter(report::Column::Lon.between(min_lon, max_lon))
    };
    // Counted up to `dense_at` inside the database: no row travels.
    let probe = Sql::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(in_box().limit(dense_at).into_query(), "probe")
        .to_owned();
    let found: i64 = match conn.query_one(&probe).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    let found = u64::try_from(found).unwrap_or(0);
    if found < dense_at {
        let mut out: Vec<GeoRow> = Vec::new();
        let mut offset = 0;
        while offset < found && (out.len() as u64) < MAX_FEATURES {
            let ids = in_box()
                .order_by_desc(report::Column::Id)
                .limit(CHUNK)
                .offset(offset)
                .into_query();
            // `tenant_id + 0`: the ids are the plan (primary key), not a tenant index scan.
            let rows: Vec<GeoRow> = geo_filters(report::Entity::find(), category, status)
                .filter(report::Column::Id.in_subquery(ids))
                .filter(Expr::col(report::Column::TenantId).add(0).eq(tenant.0))
                .order_by_desc(report::Column::Id)
                .limit(MAX_FEATURES - out.len() as u64)
                .into_model::<GeoRow>()
                .all(conn)
                .await?;
            out.extend(rows);
            offset += CHUNK;
        }
        return Ok(out);
    }
    // SQLite would take the position index for a plain range and sort every report in the
    // box; `+ 0.0` keeps it on the receipt-time index. PostgreSQL estimates a plain range well
    // (with `+ 0.0` it would scan the whole table) — but only when it sees the numbers: a
    // prepared statement's generic plan cannot tell a street from the whole town and always
    // sorts the box. So PostgreSQL gets the box as literals (finite, range-checked floats).
    let sel = geo_filters(
        rathaus_store::uow::scoped::<report::Entity>(tenant),
        category,
        status,
    );
    let sel = if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        sel.filter(
            Expr::col(report::Column::Lat)
                .add(0.0)
                .between(min_lat, max_lat),
        )
        .filter(
            Expr::col(report::Column::Lon)
                .add(0.0)
                .between(min_lon, max_lon),
        )
    } else {
        let all_finite = [min_lat, max_lat, min_lon, max_lon]
            .iter()
            .all(|v| v.is_finite());
        if !all_finite {
            return Ok(Vec::new());
        }
        sel.filter(Expr::cust(format!(
            "\"reports_reports\".\"lat\" BETWEEN {min_lat:?} AND {max_lat:?} \
             AND \"reports_reports\".\"lon\" BETWEEN {min_lon:?} AND {max_lon:?}"
        )))
    };
    sel.order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .limit(MAX_FEATURES)
        .into_model::<GeoRow>()
        .all(conn)
        .await
        .map_err(db_err)
}

/// The references the map shows for a viewport (`bbox` as in the URL, `status` as the
/// `status` parameter), with the dense plan from `dense_at` reports in the box on; for tests of
/// both plans.
pub async fn viewport_references(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    bbox: &str,
    category: Option<i64>,
    status: &str,
    dense_at: u64,
) -> rathaus_core::Result<Vec<String>> {
    let (Some(b), Some(st)) = (parse_bbox(bbox), parse_status(status)) else {
        return Err(FieldErrors::single(
            "bbox",
            "reports.err.coordinate_invalid",
        ));
    };
    Ok(
        geojson_rows(conn, tenant, b, category, &st, std::cmp::max(dense_at, 1))
            .await?
            .into_iter()
            .map(|r| r.reference)
            .collect(),
    )
}

async fn geojson_body(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    bbox: (f64, f64, f64, f64),
    category: Option<i64>,
    status: &StatusFilter,
) -> rathaus_core::Result<String> {
    let rows = geojson_rows(conn, tenant, bbox, category, status, DENSE).await?;
    let names: HashMap<i64, String> = service::list_categories(conn, tenant, false)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let t = catalog(rathaus_web::i18n::Lang::De);
    let features: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {
                    "url": format!("/maengel/{}", r.reference),
                    "reference": r.reference,
                    "category": names.get(&r.category_id).cloned().unwrap_or_default(),
                    "status": r.status,
                    "status_label": status_label(t, &r.status),
                    "open": service::is_open_status(&r.status),
                    "created": r.created_at.date_naive().to_string(),
                }
            })
        })
        .collect();
    serde_json::to_string(&json!({"type": "FeatureCollection", "features": features}))
        .map_err(Error::internal)
}

// ---------------------------------------------------------------- Atom

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FeedQuery {
    #[serde(default)]
    category: String,
}

pub(crate) async fn feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<FeedQuery>,
) -> std::result::Result<Response, HtmlError> {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(rathaus_web::i18n::Lang::De);
    let category = match q.category.trim() {
        "" => None,
        c => Some(c.parse::<i64>().map_err(|_| Error::NotFound)?),
    };
    let mut sel = rathaus_store::uow::scoped::<report::Entity>(tenant)
        .select_only()
        .columns([
            report::Column::Reference,
            report::Column::CategoryId,
            report::Column::Status,
            report::Column::Lat,
            report::Column::Lon,
            report::Column::PublicDescription,
            report::Column::CreatedAt,
            report::Column::UpdatedAt,
        ])
        .filter(report::Column::Moderation.eq(PUBLISHED));
    if let Some(c) = category {
        sel = sel.filter(report::Column::CategoryId.eq(c));
    }
    #[derive(FromQueryResult)]
    struct FeedRow {
        reference: String,
        category_id: i64,
        status: String,
        lat: f64,
        lon: f64,
        public_description: String,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
    let rows: Vec<FeedRow> = sel
        .order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .limit(FEED_SIZE)
        .into_model::<FeedRow>()
        .all(&st.db.conn)
        .await
        .map_err(db_err)?;
    let names = category_names(&st.db.conn, tenant).await?;
    let base = origin(&st.cfg, &headers);
    let host = base.split("://").nth(1).unwrap_or("localhost").to_string();
    let tenant_name = ctx
        .tenant
        .as_ref()
        .map(|x| x.name.clone())
        .unwrap_or_default();
    let entries: Vec<atom::Entry> = rows
        .into_iter()
        .map(|r| {
            let cat = names.get(&r.category_id).cloned().unwrap_or_default();
            atom::Entry {
                id: format!(
                    "tag:{host},{}:maengel/{}",
                    r.created_at.format("%Y"),
                    r.reference
                ),
                title: format!("{} – {} ({})", r.reference, cat, status_label(t, &r.status)),
                updated: r.updated_at,
                link: format!("{base}/maengel/{}", r.reference),
                summary: r.public_description,
                category: Some(cat),
                lat: Some(r.lat),
                lon: Some(r.lon),
            }
        })
        .collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(Utc::now);
    let self_link = match category {
        Some(c) => format!("{base}/maengel/feed.atom?category={c}"),
        None => format!("{base}/maengel/feed.atom"),
    };
    let doc = atom::render(&atom::Feed {
        id: format!("tag:{host},2026:maengel"),
        title: format!("{} – {}", t.get("reports.public.feed_title"), tenant_name),
        link_self: self_link,
        link_alternate: format!("{base}/maengel"),
        updated,
        author: tenant_name,
        entries,
    });
    let mut res = doc.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(atom::CONTENT_TYPE),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}

// ---------------------------------------------------------------- photos

#[derive(Debug, FromQueryResult)]
struct PhotoInfo {
    report_id: i64,
    hidden: bool,
    sha256: String,
}

/// A photo's report and state, without its bytes.
async fn photo_info(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
) -> rathaus_core::Result<PhotoInfo> {
    rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .columns([
            photo::Column::ReportId,
            photo::Column::Hidden,
            photo::Column::Sha256,
        ])
        .filter(photo::Column::Id.eq(id))
        .into_model::<PhotoInfo>()
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// A stored photo (or its thumbnail) as a JPEG answer with its ETag (the picture's SHA-256);
/// 304 without reading the bytes when the browser has it.
async fn jpeg(
    conn: &impl ConnectionTrait,
    headers: &HeaderMap,
    tenant: TenantId,
    id: i64,
    sha256: &str,
    small: bool,
    public: bool,
) -> HtmlResult {
    let etag = if small {
        format!("\"{sha256}-klein\"")
    } else {
        format!("\"{sha256}\"")
    };
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if public {
            "public, max-age=3600"
        } else {
            "private, max-age=3600"
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if rathaus_web::conditional::not_modified(headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let column = if small {
        photo::Column::Thumb
    } else {
        photo::Column::Image
    };
    let bytes: Vec<u8> = rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .column(column)
        .filter(photo::Column::Id.eq(id))
        .into_tuple()
        .one(conn)
        .await
        .map_err(db_err)?
        .ok_or(Error::NotFound)?;
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    Ok((h, bytes).into_response())
}

/// A photo behind a status link: its report's, never a hidden one.
pub(crate) async fn status_jpeg(
    conn: &impl ConnectionTrait,
    headers: &HeaderMap,
    tenant: TenantId,
    report_id: i64,
    id: i64,
    small: bool,
) -> HtmlResult {
    let p = photo_info(conn, tenant, id).await?;
    if p.report_id != report_id || p.hidden {
        return Err(Error::NotFound.into());
    }
    jpeg(conn, headers, tenant, id, &p.sha256, small, false).await
}

async fn picture(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    id: i64,
    small: bool,
) -> HtmlResult {
    let tenant = tenant_of(ctx)?;
    let p = photo_info(&st.db.conn, tenant, id).await?;
    let staff = ctx
        .staff()
        .is_some_and(|u| u.tenant_id == tenant && (u.has(HANDLE) || u.has(MODERATE)));
    let published = rathaus_store::uow::scoped_by_id::<report::Entity, _>(tenant, p.report_id)
        .select_only()
        .column(report::Column::Moderation)
        .into_tuple::<String>()
        .one(&st.db.conn)
        .await
        .map_err(db_err)?
        .is_some_and(|m| m == PUBLISHED);
    let public = published && !p.hidden;
    if !(public || staff) {
        return Err(Error::NotFound.into());
    }
    jpeg(&st.db.conn, headers, tenant, id, &p.sha256, small, public).await
}

pub(crate) async fn photo_full(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> HtmlResult {
    let id = file
        .strip_suffix(".jpg")
        .and_then(|s| s.parse().ok())
        .ok_or(Error::NotFound)?;
    picture(&st, &ctx, &headers, id, false).await
}

pub(crate) async fn photo_thumb(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HtmlResult {
    let id = id.parse().map_err(|_| Error::NotFound)?;
    picture(&st, &ctx, &headers, id, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bboxes_are_checked() {
        assert_eq!(parse_bbox("7,51,7.5,51.5"), Some((7.0, 51.0, 7.5, 51.5)));
        assert_eq!(parse_bbox("7,51,7.5"), None);
        assert_eq!(parse_bbox("7,91,7.5,51.5"), None);
        assert_eq!(parse_bbox("8,51,7.5,51.5"), None);
        assert_eq!(parse_bbox("a,b,c,d"), None);
        assert_eq!(parse_bbox("NaN,51,7.5,51.5"), None);
    }

    #[test]
    fn viewports_snap_outwards_to_a_grid_of_their_size() {
        let a = snap_bbox((7.1880, 51.3990, 7.2000, 51.4080));
        assert!(a.0 <= 7.1880 && a.1 <= 51.3990 && a.2 >= 7.2000 && a.3 >= 51.4080);
        // At most a cell (a quarter of the box) wider on each side.
        assert!(a.2 - a.0 < (7.2000 - 7.1880) * 2.0);
        // A little panning: the same cells.
        assert_eq!(snap_bbox((7.1881, 51.3991, 7.2001, 51.4081)), a);
        let world = snap_bbox((-180.0, -90.0, 180.0, 90.0));
        assert_eq!(world, (-180.0, -90.0, 180.0, 90.0));
    }

    #[test]
    fn status_filters() {
        assert_eq!(parse_status(""), Some(StatusFilter::All));
        assert_eq!(parse_status("offen"), Some(StatusFilter::Open));
        assert_eq!(parse_status("done"), Some(StatusFilter::One("done".into())));
        assert_eq!(parse_status("kaputt"), None);
    }

    #[test]
    fn days_are_berlin_midnights() {
        let d = day_start("2026-07-01", false).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-06-30T22:00:00+00:00");
        let e = day_start("2026-01-31", true).unwrap();
        assert_eq!(e.to_rfc3339(), "2026-01-31T23:00:00+00:00");
        assert!(day_start("31.01.2026", false).is_none());
    }
}
