//! The reads behind the Open311 API: published requests as documents, tokens, updates.
//! Only published reports, only public fields and photos.

use crate::formats::open311::{ExtendedAttributes, RequestFilter, ServiceRequest, Status};
use crate::service::{self, Category, PUBLISHED};
use crate::store::entity::{photo, report, update};
use chrono::{DateTime, Utc};
use rathaus_core::{Error, TenantId};
use rathaus_store::{accounts, db_err};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::sea_query::JoinType;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;

fn t(key: &str) -> &str {
    catalog(Lang::De).get(key)
}

/// The columns a public request needs (no blobs, no personal data).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Row {
    id: i64,
    reference: String,
    category_id: i64,
    status: String,
    is_open: bool,
    lat: f64,
    lon: f64,
    address: String,
    public_description: String,
    status_notes: String,
    department_id: Option<i64>,
    duplicate_of: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub fn row_query(tenant: TenantId) -> sea_orm::Select<report::Entity> {
    use report::Column as C;
    rathaus_store::uow::scoped::<report::Entity>(tenant)
        .select_only()
        .columns([
            C::Id,
            C::Reference,
            C::CategoryId,
            C::Status,
            C::IsOpen,
            C::Lat,
            C::Lon,
            C::Address,
            C::PublicDescription,
            C::StatusNotes,
            C::DepartmentId,
            C::DuplicateOf,
            C::CreatedAt,
            C::UpdatedAt,
        ])
}

/// Categories and department names to turn rows into documents.
pub struct Names {
    categories: HashMap<i64, Category>,
    departments: HashMap<i64, String>,
}

pub async fn names(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Names, Error> {
    let categories = service::list_categories(conn, tenant, false)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let departments = accounts::list_departments(conn, tenant)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    Ok(Names {
        categories,
        departments,
    })
}

/// Public photos of the rows, in order: report id → photo ids.
pub async fn public_photos(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    report_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>, Error> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    if report_ids.is_empty() {
        return Ok(out);
    }
    #[derive(FromQueryResult)]
    struct P {
        id: i64,
        report_id: i64,
    }
    let rows = rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .columns([photo::Column::Id, photo::Column::ReportId])
        .filter(photo::Column::ReportId.is_in(report_ids.iter().copied()))
        .filter(photo::Column::Hidden.eq(false))
        .filter(crate::service::photo_clean::cleaned())
        .order_by_asc(photo::Column::ReportId)
        .order_by_asc(photo::Column::Position)
        .order_by_asc(photo::Column::Id)
        .into_model::<P>()
        .all(conn)
        .await?;
    for p in rows {
        out.entry(p.report_id).or_default().push(p.id);
    }
    Ok(out)
}

pub fn photo_url(base: &str, id: i64) -> String {
    format!("{base}/maengel/fotos/{id}.jpg")
}

pub fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Turns rows into documents: one query for the photos, one for duplicate originals.
pub async fn documents(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    base: &str,
    rows: Vec<Row>,
    extensions: bool,
) -> Result<Vec<ServiceRequest>, Error> {
    let names = names(conn, tenant).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let photos = public_photos(conn, tenant, &ids).await?;
    let mut originals: HashMap<i64, String> = HashMap::new();
    let dup_ids: Vec<i64> = rows.iter().filter_map(|r| r.duplicate_of).collect();
    if extensions && !dup_ids.is_empty() {
        #[derive(FromQueryResult)]
        struct O {
            id: i64,
            reference: String,
        }
        for o in rathaus_store::uow::scoped::<report::Entity>(tenant)
            .select_only()
            .columns([report::Column::Id, report::Column::Reference])
            .filter(report::Column::Id.is_in(dup_ids))
            .into_model::<O>()
            .all(conn)
            .await?
        {
            originals.insert(o.id, o.reference);
        }
    }
    let none: Vec<i64> = Vec::new();
    Ok(rows
        .into_iter()
        .map(|r| {
            let cat = names.categories.get(&r.category_id);
            let pics = photos.get(&r.id).unwrap_or(&none);
            let extended_attributes = extensions.then(|| ExtendedAttributes {
                reference: r.reference.clone(),
                detailed_status: r.status.clone(),
                detailed_status_name: t(&format!("reports.status.{}", r.status)).to_string(),
                group: cat.and_then(|c| non_empty(&c.group_name)),
                media_urls: pics.iter().map(|p| photo_url(base, *p)).collect(),
                duplicate_of: r.duplicate_of.and_then(|d| originals.get(&d).cloned()),
            });
            ServiceRequest {
                service_request_id: r.reference,
                status: if r.is_open {
                    Status::Open
                } else {
                    Status::Closed
                },
                status_notes: non_empty(&r.status_notes),
                service_name: cat.map(|c| c.name.clone()),
                service_code: cat.map(|c| c.code.clone()).unwrap_or_default(),
                description: non_empty(&r.public_description),
                agency_responsible: r
                    .department_id
                    .and_then(|d| names.departments.get(&d).cloned()),
                service_notice: None,
                requested_datetime: r.created_at,
                updated_datetime: Some(r.updated_at),
                expected_datetime: None,
                address: non_empty(&r.address),
                address_id: None,
                zipcode: None,
                lat: Some(r.lat),
                long: Some(r.lon),
                media_url: pics.first().map(|p| photo_url(base, *p)),
                extended_attributes,
            }
        })
        .collect())
}

/// The published requests a filter selects, newest first. With ids, the ids override the
/// other filters (spec); otherwise the index (tenant, is_open, created_at) serves
/// `status=open|closed` and (tenant, created_at) the rest.
pub async fn select_rows(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    f: &RequestFilter,
    category_ids: &[i64],
) -> Result<Vec<Row>, Error> {
    use report::Column as C;
    let mut q = row_query(tenant).filter(C::Moderation.eq(PUBLISHED));
    if !f.service_request_ids.is_empty() {
        q = q.filter(
            C::Reference.is_in(f.service_request_ids.iter().map(|s| s.to_ascii_uppercase())),
        );
    } else {
        if let [s] = f.statuses.as_slice() {
            q = q.filter(C::IsOpen.eq(*s == Status::Open));
        }
        if !f.service_codes.is_empty() {
            q = q.filter(C::CategoryId.is_in(category_ids.iter().copied()));
        }
        if let Some(s) = f.start {
            q = q.filter(C::CreatedAt.gte(s));
        }
        if let Some(e) = f.end {
            q = q.filter(C::CreatedAt.lte(e));
        }
        if let Some(b) = f.bbox {
            q = q
                .filter(C::Lat.between(b.min_lat, b.max_lat))
                .filter(C::Lon.between(b.min_lon, b.max_lon));
        }
    }
    q.order_by_desc(C::CreatedAt)
        .order_by_desc(C::Id)
        .limit(f.limit())
        .offset(f.offset())
        .into_model::<Row>()
        .all(conn)
        .await
        .map_err(db_err)
}

/// The published request with this reference, as documents (none or one).
pub async fn published_request(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    base: &str,
    reference: &str,
    extensions: bool,
) -> Result<Vec<ServiceRequest>, Error> {
    let rows = row_query(tenant)
        .filter(report::Column::Moderation.eq(PUBLISHED))
        .filter(report::Column::Reference.eq(reference.trim().to_ascii_uppercase()))
        .into_model::<Row>()
        .all(conn)
        .await?;
    documents(conn, tenant, base, rows, extensions).await
}

/// The request an Open311 token stands for: its reference, and whether it is published.
pub async fn by_token(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<Option<(String, bool)>, Error> {
    #[derive(FromQueryResult)]
    struct T {
        reference: String,
        moderation: String,
    }
    Ok(rathaus_store::uow::scoped::<report::Entity>(tenant)
        .select_only()
        .columns([report::Column::Reference, report::Column::Moderation])
        .filter(report::Column::Open311Token.eq(token))
        .into_model::<T>()
        .one(conn)
        .await
        .map_err(db_err)?
        .map(|r| (r.reference, r.moderation == PUBLISHED)))
}

/// A public update of a published request.
#[derive(FromQueryResult)]
pub struct Update {
    pub id: i64,
    pub status: Option<String>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub reference: String,
    pub report_status: String,
}

/// Public updates of published requests from `start` (to `end`), the newest `limit`, newest
/// first.
pub async fn updates(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    limit: u64,
) -> Result<Vec<Update>, Error> {
    let rel: sea_orm::RelationDef = update::Entity::belongs_to(report::Entity)
        .from(update::Column::ReportId)
        .to(report::Column::Id)
        .into();
    // The updates are the tenant's (unit of work), so are the reports they belong to.
    let mut q = rathaus_store::uow::scoped::<update::Entity>(tenant)
        .select_only()
        .columns([
            update::Column::Id,
            update::Column::Status,
            update::Column::Text,
            update::Column::CreatedAt,
        ])
        .column_as(report::Column::Reference, "reference")
        .column_as(report::Column::Status, "report_status")
        .join(JoinType::InnerJoin, rel)
        .filter(update::Column::Public.eq(true))
        .filter(update::Column::CreatedAt.gte(start))
        .filter(report::Column::Moderation.eq(PUBLISHED));
    if let Some(e) = end {
        q = q.filter(update::Column::CreatedAt.lte(e));
    }
    q.order_by_desc(update::Column::CreatedAt)
        .order_by_desc(update::Column::Id)
        .limit(limit)
        .into_model::<Update>()
        .all(conn)
        .await
        .map_err(db_err)
}
