//! What the public sees of the reports: the list, the map's GeoJSON, the feed's rows and
//! the photos of published reports. Only published reports, only public fields.

use crate::service::notify::status_label;
use crate::service::{self, PUBLISHED, PhotoId, ReportId, Status};
use crate::store::entity::{photo, report};
use chrono::{DateTime, Utc};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::db_err;
use rathaus_web::i18n::catalog;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query as Sql};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use serde_json::json;
use std::collections::HashMap;

/// Features of one GeoJSON answer at most (newest first).
pub const MAX_FEATURES: u64 = 500;

/// A status filter: all, open, closed or one status.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusFilter {
    All,
    Open,
    Closed,
    One(Status),
}

pub fn parse_status(s: &str) -> Option<StatusFilter> {
    match s.trim() {
        "" => Some(StatusFilter::All),
        "offen" | "open" => Some(StatusFilter::Open),
        "erledigt" | "geschlossen" | "closed" => Some(StatusFilter::Closed),
        x => x.parse::<Status>().ok().map(StatusFilter::One),
    }
}

pub fn status_cond(f: &StatusFilter) -> Condition {
    match f {
        StatusFilter::All => Condition::all(),
        StatusFilter::Open => Condition::all().add(report::Column::IsOpen.eq(true)),
        StatusFilter::Closed => Condition::all().add(report::Column::IsOpen.eq(false)),
        StatusFilter::One(s) => Condition::all().add(report::Column::Status.eq(s.as_str())),
    }
}

#[derive(Debug, FromQueryResult)]
pub struct Row {
    pub id: i64,
    pub reference: String,
    pub category_id: i64,
    pub status: String,
    pub public_description: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
pub struct GeoRow {
    pub reference: String,
    pub category_id: i64,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    pub created_at: DateTime<Utc>,
}

/// Reports in a viewport the probe counts up to; fewer: the viewport is sparse.
pub const DENSE: u64 = 20_000;

/// Candidate ids looked at per query in a sparse viewport.
pub const CHUNK: u64 = 1_000;
/// Most map cells a viewport is read by (a quarter of the town is about 70); a larger one is
/// read by position.
pub const MAX_CELLS: usize = 400;

pub fn geo_filters(
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

/// The newest published reports in the viewport, at most [`MAX_FEATURES`].
///
/// A viewport of at most [`MAX_CELLS`] map cells (a street, a quarter) is read in its cells
/// (index `(cell, created_at, lat, lon, tenant_id, id)`), newest first within a time window that
/// widens until the map is full or nothing is left out ([`WINDOWS`]): each step reads only
/// the reports of those cells in that window, however dense the town centre nearby is.
///
/// A larger viewport (the whole town) has two plans, chosen by a probe on the position index
/// (index only, at most [`DENSE`] entries):
/// - sparse viewport: all candidate ids are known from the probe; the rows are read newest id
///   first in chunks until enough match the filters;
/// - dense viewport: the receipt-time index is walked newest first with the position as a
///   plain filter (`lat + 0` keeps the planner off the position index, which would otherwise
///   collect and sort every report in the box), stopping after 500 matches.
pub async fn geojson_rows(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
    category: Option<i64>,
    status: &StatusFilter,
    dense_at: u64,
) -> rathaus_core::Result<Vec<GeoRow>> {
    if let Some(cells) =
        crate::domain::geo::cells_covering((min_lat, min_lon, max_lat, max_lon), MAX_CELLS)
    {
        return in_cells(
            conn,
            tenant,
            &cells,
            (min_lon, min_lat, max_lon, max_lat),
            category,
            status,
        )
        .await;
    }
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
        sel.filter(in_box_unindexed((min_lon, min_lat, max_lon, max_lat)))
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

/// The map's box as a condition no planner answers from the position index (`lat + 0.0`):
/// the caller's index decides the order, the box only filters.
fn in_box_unindexed(
    (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(
            Expr::col(report::Column::Lat)
                .add(0.0)
                .between(min_lat, max_lat),
        )
        .add(
            Expr::col(report::Column::Lon)
                .add(0.0)
                .between(min_lon, max_lon),
        )
}

/// Days back a cell viewport looks first, then further; `None`: all of it.
const WINDOWS: [Option<i64>; 4] = [Some(30), Some(180), Some(730), None];

/// The newest reports of a viewport read in its map cells (see [`geojson_rows`]). A window
/// that fills the map holds the newest reports of all, since everything outside it is older.
/// Each step takes the newest ids from the cell index alone (`(cell, created_at, lat, lon,
/// tenant_id, id)`, nothing read from the table), then reads those rows with the map's filters.
async fn in_cells(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    cells: &[i64],
    (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
    category: Option<i64>,
    status: &StatusFilter,
) -> rathaus_core::Result<Vec<GeoRow>> {
    // `+ 0` on the tenant and the position: the planners would otherwise take an index led by
    // the tenant (the position or receipt-time one) and read a whole latitude band or the
    // town's newest; the cell index is led by the cell, and holds the rest to check.
    let of_tenant = || rathaus_store::uow::scoped_unindexed::<report::Entity>(tenant);
    let now = Utc::now();
    let mut out: Vec<GeoRow> = Vec::new();
    for window in WINDOWS {
        out.clear();
        let mut offset = 0;
        loop {
            let mut ids = of_tenant()
                .select_only()
                .column(report::Column::Id)
                .filter(report::Column::Cell.is_in(cells.iter().copied()))
                .filter(in_box_unindexed((min_lon, min_lat, max_lon, max_lat)));
            if let Some(days) = window {
                ids = ids.filter(report::Column::CreatedAt.gte(now - chrono::Duration::days(days)));
            }
            let ids: Vec<i64> = ids
                .order_by_desc(report::Column::CreatedAt)
                .order_by_desc(report::Column::Id)
                .limit(CHUNK)
                .offset(offset)
                .into_tuple()
                .all(conn)
                .await?;
            let last = (ids.len() as u64) < CHUNK;
            if !ids.is_empty() {
                let rows: Vec<GeoRow> = geo_filters(of_tenant(), category, status)
                    .filter(report::Column::Id.is_in(ids))
                    .order_by_desc(report::Column::CreatedAt)
                    .order_by_desc(report::Column::Id)
                    .limit(MAX_FEATURES - out.len() as u64)
                    .into_model::<GeoRow>()
                    .all(conn)
                    .await?;
                out.extend(rows);
            }
            if out.len() as u64 >= MAX_FEATURES {
                return Ok(out);
            }
            if last {
                break;
            }
            offset += CHUNK;
        }
    }
    Ok(out)
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

pub async fn geojson_body(
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
                    "open": r.status.parse::<Status>().is_ok_and(Status::is_open),
                    "created": r.created_at.date_naive().to_string(),
                }
            })
        })
        .collect();
    serde_json::to_string(&json!({"type": "FeatureCollection", "features": features}))
        .map_err(Error::internal)
}

#[derive(Debug, FromQueryResult)]
pub struct PhotoInfo {
    pub report_id: i64,
    pub hidden: bool,
    pub sha256: String,
}

/// A re-encoded photo's report and state, without its bytes.
pub async fn photo_info(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: PhotoId,
) -> rathaus_core::Result<PhotoInfo> {
    rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .columns([
            photo::Column::ReportId,
            photo::Column::Hidden,
            photo::Column::Sha256,
        ])
        .filter(photo::Column::Id.eq(id.0))
        .filter(crate::service::photo_clean::cleaned())
        .into_model::<PhotoInfo>()
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// One page of the public list (`PAGE_SIZE + 1` rows tell whether there is a next page),
/// newest first, after `cursor` (created at, id).
pub async fn list_rows(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    status: &StatusFilter,
    category: Option<i64>,
    (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    cursor: Option<(DateTime<Utc>, i64)>,
    limit: u64,
) -> Result<Vec<Row>> {
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
        .filter(status_cond(status));
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
    sel.order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .limit(limit)
        .into_model::<Row>()
        .all(conn)
        .await
        .map_err(db_err)
}

/// A published report in the Atom feed.
#[derive(Debug, FromQueryResult)]
pub struct FeedRow {
    pub reference: String,
    pub category_id: i64,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    pub public_description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The newest published reports (of one category), at most `limit`.
pub async fn feed_rows(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    category: Option<i64>,
    limit: u64,
) -> Result<Vec<FeedRow>> {
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
    sel.order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .limit(limit)
        .into_model::<FeedRow>()
        .all(conn)
        .await
        .map_err(db_err)
}

/// Whether the report is published.
pub async fn is_published(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    report_id: ReportId,
) -> Result<bool> {
    Ok(
        rathaus_store::uow::scoped_by_id::<report::Entity, _>(tenant, report_id)
            .select_only()
            .column(report::Column::Moderation)
            .into_tuple::<String>()
            .one(conn)
            .await
            .map_err(db_err)?
            .is_some_and(|m| m == PUBLISHED),
    )
}

/// `minLon,minLat,maxLon,maxLat` within WGS 84, min ≤ max.
pub fn parse_bbox(s: &str) -> Option<(f64, f64, f64, f64)> {
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
