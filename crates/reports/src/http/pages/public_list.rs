//! The public view of published reports (issue 3, item 7): the list with filters and a map
//! (`GET /maengel`), one report (`GET /maengel/{reference}`), the map's GeoJSON
//! (`GET /maengel/karte.geojson`), the Atom feed (`GET /maengel/feed.atom`) and the photos
//! (`GET /maengel/fotos/{id}.jpg`, `/maengel/fotos/{id}/klein.jpg`).
//!
//! Nothing personal is ever shown: only the moderated public description, category, status,
//! dates, position, public replies and photos moderation has not hidden. Reports waiting for
//! moderation or hidden by it answer 404 (staff with `reports.handle`/`reports.moderate`
//! may see their photos).

use super::{
    HtmlResult, MapCfg, PhotoRow, UpdateRow, assets, category_names, excerpt, fmt_date, map_cfg,
    public_updates, status_label, tenant_of,
};
use crate::formats::atom;
use crate::service::ReportsState;
pub use crate::service::public::viewport_references;
use crate::service::public::{StatusFilter, geojson_body, parse_bbox, parse_status, photo_info};
use crate::service::{self, HANDLE, MODERATE, Status};
use crate::service::{CategoryId, PhotoId, ReportId};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, TenantId};
use rathaus_store::files::FileStore;
use rathaus_web::AppState;
use rathaus_web::api::{Problem, problem};
use rathaus_web::ctx::{Ctx, origin};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::{fmt_time, layout};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Reports per page of the list.
pub const PAGE_SIZE: u64 = 25;
pub use crate::service::public::MAX_FEATURES;
/// Entries of the Atom feed.
pub const FEED_SIZE: u64 = 50;

// ---------------------------------------------------------------- filters

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

pub(crate) async fn list_page(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> HtmlResult {
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

    let mut rows = service::public::list_rows(
        &st.db.conn,
        tenant,
        &status,
        category,
        (from, to),
        cursor,
        PAGE_SIZE + 1,
    )
    .await?;
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
            open: r.status.parse::<Status>().is_ok_and(Status::is_open),
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
    for s in Status::ALL {
        statuses.push(Opt {
            value: s.to_string(),
            label: status_label(t, s.as_str()),
            selected: status == StatusFilter::One(*s),
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
            gj.append_pair("status", s.as_str());
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

pub(crate) async fn detail(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
    Path(reference): Path<String>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let r = service::published(&st.db.conn, tenant, &reference).await?;
    let category = service::category(&st.db.conn, tenant, CategoryId(r.category_id))
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let photos = service::photos_of(&st.db.conn, tenant, ReportId(r.id), false)
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
        .await
    {
        Ok(body) => geo_response(body),
        Err(e) => rathaus_web::api::ApiError(e).into_response(),
    }
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
    let rows = service::public::feed_rows(&st.db.conn, tenant, category, FEED_SIZE).await?;
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

/// A stored photo (or its thumbnail) as a JPEG answer with its ETag (the picture's SHA-256);
/// 304 without reading the bytes when the browser has it.
#[allow(clippy::too_many_arguments)]
async fn jpeg(
    conn: &impl ConnectionTrait,
    files: &FileStore,
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
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    Ok((h, photo_body(conn, files, tenant, id, small).await?).into_response())
}

/// The bytes of a photo (its thumbnail when `small`): streamed from the file service, or
/// from the database for a photo not moved yet (ADR 0016).
pub(crate) async fn photo_body(
    conn: &impl ConnectionTrait,
    files: &FileStore,
    tenant: TenantId,
    id: i64,
    small: bool,
) -> Result<(HeaderMap, axum::body::Body), Error> {
    let mut h = HeaderMap::new();
    match service::photo_files::body(conn, tenant, id, small).await? {
        service::photo_files::Body::Blob(b) => Ok((h, axum::body::Body::from(b))),
        service::photo_files::Body::File(f) => {
            let dl = files.get(conn, tenant, PHOTO_READER, f, None).await?;
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(dl.meta.size));
            Ok((h, axum::body::Body::from_stream(dl.body)))
        }
    }
}

/// Who reads a photo from the file service: the handler has checked the visitor already.
const PHOTO_READER: rathaus_store::uow::Actor<'static> =
    rathaus_store::uow::Actor::system("reports.photo");

/// A photo behind a status link: its report's, never a hidden one.
pub(crate) async fn status_jpeg(
    conn: &impl ConnectionTrait,
    files: &FileStore,
    headers: &HeaderMap,
    tenant: TenantId,
    report_id: i64,
    id: i64,
    small: bool,
) -> HtmlResult {
    let p = photo_info(conn, tenant, PhotoId(id)).await?;
    if p.report_id != report_id || p.hidden {
        return Err(Error::NotFound.into());
    }
    jpeg(conn, files, headers, tenant, id, &p.sha256, small, false).await
}

async fn picture(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    id: i64,
    small: bool,
) -> HtmlResult {
    let tenant = tenant_of(ctx)?;
    let p = photo_info(&st.db.conn, tenant, PhotoId(id)).await?;
    let staff = ctx
        .staff()
        .is_some_and(|u| u.tenant_id == tenant && (u.has(HANDLE) || u.has(MODERATE)));
    let published =
        service::public::is_published(&st.db.conn, tenant, ReportId(p.report_id)).await?;
    let public = published && !p.hidden;
    if !(public || staff) {
        return Err(Error::NotFound.into());
    }
    jpeg(
        &st.db.conn,
        &st.files,
        headers,
        tenant,
        id,
        &p.sha256,
        small,
        public,
    )
    .await
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
        assert_eq!(parse_status("done"), Some(StatusFilter::One(Status::Done)));
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
