//! Open311 GeoReport v2 at `/open311/v2` (issue 3, items 12–15): discovery, services,
//! service definitions, `GET`/`POST requests`, `requests/{id}`, `tokens/{token}` and the
//! FixMyStreet-style `servicerequestupdates` feed, each in `.json` and `.xml`. The documents
//! and the parameter parsing live in [`crate::formats::open311`] (pure); this file adds the database,
//! the API keys, the rate limit and the cache.
//!
//! Decisions (documented in the answers and in the tests):
//! - Mounted without session or CSRF (machine routes); the tenant comes from the Host header.
//! - `jurisdiction_id`: empty counts as absent; otherwise it must be the tenant's slug, else
//!   404 (one endpoint serves one municipality; a client that names another one is wrong).
//! - Only published reports are visible; personal data (name, e-mail, phone) and the
//!   reporter's original text never leave the service: the answers read `public_description`.
//! - `service_request_id` is the reference number (`M-2026-000123`).
//! - A `service_code` that is unknown (or inactive) answers 404, in `GET` filters too.
//! - Rate limit: per API key, the key's requests per minute in a fixed one-minute window,
//!   counted in this process (several `serve` processes each allow the limit).
//! - `GET requests` answers are cached per (tenant, origin, format, normalised query) for
//!   [`crate::service::cache::TTL`], invalidated by the tenant's generation counter, bounded by bytes;
//!   one computation per key at a time (no stampede on expiry): `crate::service::cache::Answers`.

use crate::service::ReportsState;
use axum::Extension;
use std::sync::Arc;
use crate::store::entity::{photo, report, update};
use crate::formats::open311::{
    self, Attribute, AttributeAnswer, AttributeValueOption, Datatype, Discovery, Endpoint,
    ExtendedAttributes, Format, Open311Document, Open311Error, PostId, PostResponse, RequestFilter,
    RequestUpdate, Service, ServiceDefinition, ServiceRequest, ServiceType, Status, TokenResponse,
};
use crate::service::{self, Category, NewReport, PUBLISHED, Source};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rathaus_core::{Error, TenantId};
use rathaus_store::tenants::Tenant;
use rathaus_store::{accounts, db_err};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, origin};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::sea_query::JoinType;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{BTreeMap, HashMap};

/// Largest `POST requests` body: three photos of 10 MB plus the form.
pub const POST_BODY_LIMIT: usize = 3 * 10 * 1024 * 1024 + 1024 * 1024;
/// Largest form-encoded body (without photos).
const FORM_LIMIT: usize = 256 * 1024;
/// Cached `GET requests` answers at most.
/// Entries of the updates feed at most.
const MAX_UPDATES: u64 = 1_000;


// ---------------------------------------------------------------- answers

fn t(key: &str) -> &str {
    catalog(Lang::De).get(key)
}

fn document(format: Format, status: StatusCode, body: impl Into<Body>) -> Response {
    let mut res = (status, body.into()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    // Public data without cookies: any web app may read it.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

fn errors(format: Format, errs: &[Open311Error]) -> Response {
    let status =
        StatusCode::from_u16(open311::http_status(errs)).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = document(format, status, errs.render(format));
    if status == StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    res
}

/// The format of a path that failed before its suffix was understood: the suffix if it
/// names one, else JSON.
fn guess_format(path: &str) -> Format {
    if path.to_ascii_lowercase().ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    }
}

/// A request with a control character in a field (refused by the platform before any
/// handler): Open311's error list, in the format the path asks for.
pub fn reject_input(path: &str, field: &str) -> Option<Response> {
    path.starts_with("/open311/").then(|| {
        errors(
            guess_format(path),
            &[Open311Error::bad_request(format!(
                "{} ({field})",
                catalog(Lang::De).get(rathaus_web::input::ERROR_KEY)
            ))],
        )
    })
}

fn internal(format: Format, e: &Error) -> Response {
    tracing::error!(error = %e, "open311");
    errors(
        format,
        &[Open311Error {
            code: 500,
            description: t("open311.err.internal").to_string(),
        }],
    )
}

fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

fn first<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .find(|v| !v.is_empty())
}

fn no_tenant(format: Format) -> Response {
    errors(
        format,
        &[Open311Error {
            code: 404,
            description: t("open311.err.no_tenant").to_string(),
        }],
    )
}

/// Empty `jurisdiction_id` is absent; anything else must be the tenant's slug.
fn check_jurisdiction(params: &[(String, String)], tenant: &Tenant) -> Option<Open311Error> {
    match first(params, "jurisdiction_id") {
        None => None,
        Some(j) if j.eq_ignore_ascii_case(&tenant.slug) => None,
        Some(_) => Some(Open311Error {
            code: 404,
            description: format!(
                "jurisdiction_id: {}",
                catalog(Lang::De).fmt("open311.err.jurisdiction", &tenant.slug)
            ),
        }),
    }
}

// ---------------------------------------------------------------- routing

pub(crate) async fn not_found(ctx: Ctx) -> Response {
    errors(
        guess_format(&ctx.path),
        &[Open311Error {
            code: 404,
            description: t("open311.err.no_resource").to_string(),
        }],
    )
}

pub(crate) async fn root_get(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (name, format) = match open311::parse_format(&file) {
        Ok(x) => x,
        Err(e) => return errors(guess_format(&file), &[e]),
    };
    let Some(tenant) = ctx.tenant.clone() else {
        return no_tenant(format);
    };
    let params = query_pairs(q.as_deref());
    if let Some(e) = check_jurisdiction(&params, &tenant) {
        return errors(format, &[e]);
    }
    let base = origin(&st.cfg, &headers);
    let res = match name {
        "discovery" => Ok(discovery(&tenant, &base, format)),
        "services" => services(&st, &tenant, format).await,
        "requests" => list_requests(&st, &state, &tenant, &base, &params, format).await,
        "servicerequestupdates" => request_updates(&st, &tenant, &params, format).await,
        _ => {
            return errors(
                format,
                &[Open311Error {
                    code: 404,
                    description: t("open311.err.no_resource").to_string(),
                }],
            );
        }
    };
    res.unwrap_or_else(|e| internal(format, &e))
}

// ---------------------------------------------------------------- discovery, services

/// When this API's shape last changed (discovery `changeset`).
fn changeset() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

fn discovery(tenant: &Tenant, base: &str, format: Format) -> Response {
    let d = Discovery {
        changeset: changeset(),
        contact: catalog(Lang::De).fmt("open311.discovery.contact", &tenant.name),
        key_service: t("open311.discovery.key_service").to_string(),
        endpoints: vec![Endpoint {
            specification: "http://wiki.open311.org/GeoReport_v2".into(),
            url: format!("{base}/open311/v2"),
            changeset: changeset(),
            endpoint_type: "production".into(),
            formats: vec!["text/xml".into(), "application/json".into()],
        }],
    };
    document(format, StatusCode::OK, d.render(format))
}

fn service_of(c: &Category) -> Service {
    Service {
        service_code: c.code.clone(),
        service_name: c.name.clone(),
        description: (!c.description.trim().is_empty()).then(|| c.description.clone()),
        metadata: !service::attributes_of(c).is_empty(),
        service_type: ServiceType::Realtime,
        keywords: c
            .keywords
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect(),
        group: (!c.group_name.trim().is_empty()).then(|| c.group_name.clone()),
    }
}

async fn services(st: &AppState, tenant: &Tenant, format: Format) -> Result<Response, Error> {
    let cats = service::list_categories(&st.db.conn, TenantId(tenant.id), true).await?;
    let list: Vec<Service> = cats.iter().map(service_of).collect();
    Ok(document(format, StatusCode::OK, list.render(format)))
}

fn datatype(s: &str) -> Datatype {
    match s {
        "number" => Datatype::Number,
        "datetime" => Datatype::Datetime,
        "text" => Datatype::Text,
        "singlevaluelist" => Datatype::SingleValueList,
        "multivaluelist" => Datatype::MultiValueList,
        _ => Datatype::String,
    }
}

fn definition_of(c: &Category) -> ServiceDefinition {
    ServiceDefinition {
        service_code: c.code.clone(),
        attributes: service::attributes_of(c)
            .into_iter()
            .enumerate()
            .map(|(i, a)| Attribute {
                variable: true,
                code: a.code,
                datatype: datatype(&a.datatype),
                required: a.required,
                datatype_description: None,
                order: u32::try_from(i + 1).unwrap_or(u32::MAX),
                description: a.description,
                values: a
                    .values
                    .into_iter()
                    .map(|(key, name)| AttributeValueOption { key, name })
                    .collect(),
            })
            .collect(),
    }
}

/// An active category by its code, or the spec's 404.
async fn active_category(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    code: &str,
) -> Result<Result<Category, Open311Error>, Error> {
    Ok(match service::category_by_code(conn, tenant, code).await? {
        Some(c) if c.active => Ok(c),
        _ => Err(Open311Error::unknown_service_code(
            &code.chars().take(64).collect::<String>(),
        )),
    })
}

pub(crate) async fn service_definition(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (code, format) = match open311::parse_format(&file) {
        Ok(x) => x,
        Err(e) => return errors(guess_format(&file), &[e]),
    };
    let Some(tenant) = ctx.tenant.clone() else {
        return no_tenant(format);
    };
    if let Some(e) = check_jurisdiction(&query_pairs(q.as_deref()), &tenant) {
        return errors(format, &[e]);
    }
    match active_category(&st.db.conn, TenantId(tenant.id), code).await {
        Ok(Ok(c)) => document(format, StatusCode::OK, definition_of(&c).render(format)),
        Ok(Err(e)) => errors(format, &[e]),
        Err(e) => internal(format, &e),
    }
}

// ---------------------------------------------------------------- reading requests

/// The columns a public request needs (no blobs, no personal data).
#[derive(Debug, Clone, FromQueryResult)]
struct Row {
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

fn row_query(tenant: TenantId) -> sea_orm::Select<report::Entity> {
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
struct Names {
    categories: HashMap<i64, Category>,
    departments: HashMap<i64, String>,
}

async fn names(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Names, Error> {
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
async fn public_photos(
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

fn photo_url(base: &str, id: i64) -> String {
    format!("{base}/maengel/fotos/{id}.jpg")
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Turns rows into documents: one query for the photos, one for duplicate originals.
async fn documents(
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
async fn select_rows(
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

// ---------------------------------------------------------------- the answer cache

/// Why a list could not be rendered: an Open311 error document, or a server error.
enum ListFailure {
    Document(Response),
    Server(Error),
}

impl From<Error> for ListFailure {
    fn from(e: Error) -> Self {
        ListFailure::Server(e)
    }
}

/// The cache key: tenant, origin (media URLs are absolute), format and the query with its
/// pairs sorted and empty values dropped (empty counts as absent).
fn cache_key(tenant: TenantId, base: &str, format: Format, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    pairs.sort_unstable();
    let mut key = format!("{}|{base}|{format:?}|", tenant.0);
    for (k, v) in pairs {
        key.push_str(&url::form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>());
        key.push('=');
        key.push_str(&url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>());
        key.push('&');
    }
    key
}

async fn list_requests(
    st: &AppState,
    state: &ReportsState,
    tenant: &Tenant,
    base: &str,
    params: &[(String, String)],
    format: Format,
) -> Result<Response, Error> {
    let tid = TenantId(tenant.id);
    let key = cache_key(tid, base, format, params);
    let compute = async {
        let f = match open311::parse_get_requests(params, Utc::now()) {
            Ok(f) => f,
            Err(errs) => return Err(ListFailure::Document(errors(format, &errs))),
        };
        let mut category_ids = Vec::new();
        if f.service_request_ids.is_empty() {
            let mut unknown = Vec::new();
            for code in &f.service_codes {
                match active_category(&st.db.conn, tid, code).await? {
                    Ok(c) => category_ids.push(c.id),
                    Err(e) => unknown.push(e),
                }
            }
            if !unknown.is_empty() {
                return Err(ListFailure::Document(errors(format, &unknown)));
            }
        }
        let rows = select_rows(&st.db.conn, tid, &f, &category_ids).await?;
        let docs = documents(&st.db.conn, tid, base, rows, f.extensions).await?;
        Ok(Bytes::from(docs.render(format)))
    };
    match state
        .open311_answers
        .get_or_compute(&state.generations, tid, &key, compute)
        .await {
        Ok(body) => Ok(document(format, StatusCode::OK, body)),
        Err(ListFailure::Document(r)) => Ok(r),
        Err(ListFailure::Server(e)) => Err(e),
    }
}

pub(crate) async fn one_request(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (id, format) = match open311::parse_format(&file) {
        Ok(x) => x,
        Err(e) => return errors(guess_format(&file), &[e]),
    };
    let Some(tenant) = ctx.tenant.clone() else {
        return no_tenant(format);
    };
    let params = query_pairs(q.as_deref());
    if let Some(e) = check_jurisdiction(&params, &tenant) {
        return errors(format, &[e]);
    }
    let extensions = first(&params, "extensions") == Some("true");
    let base = origin(&st.cfg, &headers);
    let tid = TenantId(tenant.id);
    let unknown = || Open311Error::unknown_request(&id.chars().take(64).collect::<String>());
    if id.len() > 64 {
        return errors(format, &[unknown()]);
    }
    let res = async {
        let rows = row_query(tid)
            .filter(report::Column::Moderation.eq(PUBLISHED))
            .filter(report::Column::Reference.eq(id.trim().to_ascii_uppercase()))
            .into_model::<Row>()
            .all(&st.db.conn)
            .await?;
        documents(&st.db.conn, tid, &base, rows, extensions).await
    }
    .await;
    match res {
        Ok(docs) if docs.is_empty() => errors(format, &[unknown()]),
        Ok(docs) => document(format, StatusCode::OK, docs.render(format)),
        Err(e) => internal(format, &e),
    }
}

pub(crate) async fn token(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (tok, format) = match open311::parse_format(&file) {
        Ok(x) => x,
        Err(e) => return errors(guess_format(&file), &[e]),
    };
    let Some(tenant) = ctx.tenant.clone() else {
        return no_tenant(format);
    };
    if let Some(e) = check_jurisdiction(&query_pairs(q.as_deref()), &tenant) {
        return errors(format, &[e]);
    }
    let unknown = || Open311Error::unknown_token(&tok.chars().take(64).collect::<String>());
    if tok.is_empty() || tok.len() > 64 {
        return errors(format, &[unknown()]);
    }
    #[derive(FromQueryResult)]
    struct T {
        reference: String,
        moderation: String,
    }
    let found = rathaus_store::uow::scoped::<report::Entity>(rathaus_core::TenantId(tenant.id))
        .select_only()
        .columns([report::Column::Reference, report::Column::Moderation])
        .filter(report::Column::Open311Token.eq(tok))
        .into_model::<T>()
        .one(&st.db.conn)
        .await;
    match found {
        Ok(Some(r)) => {
            let doc = [TokenResponse {
                token: tok.to_string(),
                service_request_id: (r.moderation == PUBLISHED).then_some(r.reference),
            }];
            document(format, StatusCode::OK, doc.render(format))
        }
        Ok(None) => errors(format, &[unknown()]),
        Err(e) => internal(format, &db_err(e)),
    }
}

// ---------------------------------------------------------------- updates feed

/// FixMyStreet's status words for ours.
fn fms_status(status: &str) -> &'static str {
    match status {
        service::NEW => "OPEN",
        service::CONFIRMED => "INVESTIGATING",
        service::IN_PROGRESS => "IN_PROGRESS",
        service::PLANNED => "ACTION_SCHEDULED",
        service::DONE => "FIXED",
        service::NOT_RESPONSIBLE => "NOT_COUNCILS_RESPONSIBILITY",
        service::DUPLICATE => "DUPLICATE",
        _ => "CLOSED",
    }
}

/// `servicerequestupdates.{fmt}?start_date=&end_date=`: public replies and status changes of
/// published requests in the window (default: the last 90 days), the newest 1,000, oldest
/// first (newest last), as FixMyStreet's Open311 extension answers.
async fn request_updates(
    st: &AppState,
    tenant: &Tenant,
    params: &[(String, String)],
    format: Format,
) -> Result<Response, Error> {
    let mut errs = Vec::new();
    let mut date = |key: &str| {
        let raw = first(params, key)?;
        let d = open311::parse_datetime(raw);
        if d.is_none() {
            errs.push(Open311Error::bad_request(format!(
                "{key}: {}",
                t("open311.err.date")
            )));
        }
        d
    };
    let start = date("start_date");
    let end = date("end_date");
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        errs.push(Open311Error::bad_request(format!(
            "start_date: {}",
            t("open311.err.start_after_end")
        )));
    }
    if !errs.is_empty() {
        return Ok(errors(format, &errs));
    }
    let end_or_now = end.unwrap_or_else(Utc::now);
    let start = start.unwrap_or(end_or_now - Duration::days(open311::DEFAULT_WINDOW_DAYS));

    #[derive(FromQueryResult)]
    struct U {
        id: i64,
        status: Option<String>,
        text: String,
        created_at: DateTime<Utc>,
        reference: String,
        report_status: String,
    }
    let rel: sea_orm::RelationDef = update::Entity::belongs_to(report::Entity)
        .from(update::Column::ReportId)
        .to(report::Column::Id)
        .into();
    let mut q = rathaus_store::uow::scoped::<update::Entity>(rathaus_core::TenantId(tenant.id))
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
        .filter(report::Column::TenantId.eq(tenant.id))
        .filter(report::Column::Moderation.eq(PUBLISHED));
    if let Some(e) = end {
        q = q.filter(update::Column::CreatedAt.lte(e));
    }
    let mut rows = q
        .order_by_desc(update::Column::CreatedAt)
        .order_by_desc(update::Column::Id)
        .limit(MAX_UPDATES)
        .into_model::<U>()
        .all(&st.db.conn)
        .await?;
    rows.reverse();
    let list: Vec<RequestUpdate> = rows
        .into_iter()
        .map(|u| {
            let status = u.status.unwrap_or(u.report_status);
            RequestUpdate {
                update_id: u.id.to_string(),
                service_request_id: u.reference,
                status: fms_status(&status).to_string(),
                external_status_code: status,
                updated_datetime: u.created_at,
                description: u.text,
                media_url: None,
            }
        })
        .collect();
    Ok(document(format, StatusCode::OK, list.render(format)))
}

// ---------------------------------------------------------------- rate limit

// ---------------------------------------------------------------- POST requests

pub(crate) async fn root_post(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    req: Request,
) -> Response {
    let (name, format) = match open311::parse_format(&file) {
        Ok(x) => x,
        Err(e) => return errors(guess_format(&file), &[e]),
    };
    if name != "requests" {
        return errors(
            format,
            &[Open311Error {
                code: 404,
                description: t("open311.err.no_resource").to_string(),
            }],
        );
    }
    let Some(tenant) = ctx.tenant.clone() else {
        return no_tenant(format);
    };
    let base = origin(&st.cfg, req.headers());
    let (mut params, photos) = match read_body(&st, req).await {
        Ok(x) => x,
        Err(e) => return errors(format, &[e]),
    };
    // The body first, then the query string: `api_key` may come from either.
    params.extend(query_pairs(q.as_deref()));
    match post_request(&st, &state, &tenant, &base, params, photos).await {
        Ok(Ok(doc)) => document(format, StatusCode::OK, [doc].render(format)),
        Ok(Err(errs)) => errors(format, &errs),
        Err(e) => internal(format, &e),
    }
}

/// Form fields and the `media` files of a form-encoded or multipart body.
async fn read_body(
    st: &AppState,
    req: Request,
) -> Result<(Vec<(String, String)>, Vec<Vec<u8>>), Open311Error> {
    let too_large = || Open311Error {
        code: 413,
        description: t("open311.err.too_large").to_string(),
    };
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let mut params = Vec::new();
    let mut photos = Vec::new();
    if multipart {
        let bad = |_| Open311Error::bad_request(t("open311.err.multipart"));
        let mut mp = Multipart::from_request(req, st).await.map_err(bad)?;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(_) => return Err(Open311Error::bad_request(t("open311.err.multipart"))),
            };
            let name = field.name().unwrap_or_default().to_string();
            if name == "media" || name == "media[]" {
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        Open311Error::bad_request(t("open311.err.multipart"))
                    }
                })?;
                if bytes.is_empty() {
                    continue;
                }
                if photos.len() >= service::MAX_PHOTOS {
                    return Err(Open311Error::bad_request(format!(
                        "media: {}",
                        catalog(Lang::De)
                            .fmt("reports.err.photo_count", &service::MAX_PHOTOS.to_string())
                    )));
                }
                photos.push(bytes.to_vec());
            } else {
                let text = field
                    .text()
                    .await
                    .map_err(|_| Open311Error::bad_request(t("open311.err.multipart")))?;
                if text.len() > FORM_LIMIT {
                    return Err(too_large());
                }
                params.push((name, text));
            }
        }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| too_large())?;
        params.extend(url::form_urlencoded::parse(&bytes).into_owned());
    }
    Ok((params, photos))
}

/// The Open311 name of a field of the service layer.
fn open311_field(field: &str, by_position: bool) -> String {
    if let Some(code) = field.strip_prefix("attr_") {
        return format!("attribute[{code}]");
    }
    match field {
        "category" => "service_code",
        "location" if by_position => "lat/long",
        "location" | "address" => "address_string",
        "name" => "first_name/last_name",
        "photos" => "media",
        other => other,
    }
    .to_string()
}

/// Checks the key, the limit, the jurisdiction, the service and the input, then submits.
/// Ok(Err(..)) is an answer in the spec's error format.
async fn post_request(
    st: &AppState,
    state: &ReportsState,
    tenant: &Tenant,
    base: &str,
    params: Vec<(String, String)>,
    photos: Vec<Vec<u8>>,
) -> Result<Result<PostResponse, Vec<Open311Error>>, Error> {
    let tid = TenantId(tenant.id);
    let key = match first(&params, "api_key") {
        Some(k) => crate::service::keys::authenticate(&st.db.conn, tid, k).await?,
        None => None,
    };
    let Some(key) = key else {
        return Ok(Err(vec![Open311Error::invalid_api_key()]));
    };
    // Per key (by its hash), with the key's own limit per minute.
    let per_minute = usize::try_from(key.rate_limit.max(1)).unwrap_or(1);
    if !state.api_key_limits.hit(tid, &key.key_hash, per_minute) {
        return Ok(Err(vec![Open311Error {
            code: 429,
            description: format!(
                "api_key: {}",
                catalog(Lang::De).fmt("open311.err.rate_limited", &key.rate_limit.to_string())
            ),
        }]));
    }
    let mut errs: Vec<Open311Error> = check_jurisdiction(&params, tenant).into_iter().collect();
    let parsed = open311::parse_post_request(&params);
    let mut cat = None;
    if let Some(code) = first(&params, "service_code") {
        match active_category(&st.db.conn, tid, code).await? {
            Ok(c) => cat = Some(c),
            Err(e) => errs.push(e),
        }
    }
    let nr = match parsed {
        Ok(nr) if errs.is_empty() => nr,
        Ok(_) => return Ok(Err(errs)),
        Err(e) => {
            errs.extend(e);
            return Ok(Err(errs));
        }
    };
    let Some(cat) = cat else {
        return Ok(Err(vec![Open311Error::unknown_service_code(
            &nr.service_code,
        )]));
    };
    let by_position = nr.position.is_some();
    let name = [nr.first_name.as_deref(), nr.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let attributes: BTreeMap<String, String> = nr
        .attributes
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                AttributeAnswer::Single(s) => s,
                AttributeAnswer::Multi(l) => l.join(","),
            };
            (k, v)
        })
        .collect();
    let inp = NewReport {
        category_id: Some(cat.id),
        position: nr.position,
        address: nr.address_string.unwrap_or_default(),
        description: nr.description.unwrap_or_default(),
        name,
        email: nr.email.unwrap_or_default(),
        phone: nr.phone.unwrap_or_default(),
        consent: true,
        photos,
        attributes,
        api_key_id: Some(key.id),
        base_url: base.to_string(),
    };
    match service::submit(&st.db.conn, &state, tid, Source::Open311, service::OPEN311_APP, inp).await {
        Ok(s) => Ok(Ok(PostResponse {
            id: match s.open311_token {
                Some(tok) => PostId::Token(tok),
                None => PostId::ServiceRequestId(s.report.reference),
            },
            service_notice: (s.report.moderation != PUBLISHED)
                .then(|| t("open311.notice.moderation").to_string()),
            account_id: None,
        })),
        Err(Error::Invalid(f)) => {
            let c = catalog(Lang::De);
            Ok(Err(f
                .0
                .iter()
                .map(|e| {
                    let text = e
                        .arg
                        .as_deref()
                        .map(|a| c.fmt(&e.key, a))
                        .unwrap_or_else(|| c.get(&e.key).to_string());
                    Open311Error::bad_request(format!(
                        "{}: {text}",
                        open311_field(&e.field, by_position)
                    ))
                })
                .collect()))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_key_sorts_and_drops_empty_values() {
        let a = vec![
            ("status".to_string(), "open".to_string()),
            ("jurisdiction_id".to_string(), "".to_string()),
            ("page".to_string(), "2".to_string()),
        ];
        let b = vec![
            ("page".to_string(), "2".to_string()),
            ("status".to_string(), " open ".to_string()),
        ];
        assert_eq!(
            cache_key(TenantId(1), "http://x", Format::Json, &a),
            cache_key(TenantId(1), "http://x", Format::Json, &b)
        );
        assert_ne!(
            cache_key(TenantId(1), "http://x", Format::Json, &a),
            cache_key(TenantId(1), "http://x", Format::Xml, &a)
        );
    }

    #[test]
    fn field_names_follow_the_spec() {
        assert_eq!(open311_field("category", true), "service_code");
        assert_eq!(open311_field("location", true), "lat/long");
        assert_eq!(open311_field("location", false), "address_string");
        assert_eq!(open311_field("attr_art", true), "attribute[art]");
        assert_eq!(open311_field("photos", true), "media");
    }
}
