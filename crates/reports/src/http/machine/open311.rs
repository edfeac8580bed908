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

use crate::formats::open311::{
    self, Attribute, AttributeAnswer, AttributeValueOption, Datatype, Discovery, Endpoint, Format,
    Open311Document, Open311Error, PostId, PostResponse, RequestUpdate, Service, ServiceDefinition,
    ServiceType, TokenResponse,
};
use crate::service::ReportsState;
use crate::service::open311::{documents, select_rows};
use crate::service::{self, AttributeType, Category, NewReport, PUBLISHED, Source, Status};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rathaus_core::{Error, TenantId};
use rathaus_store::tenants::Tenant;
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, origin};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;
use std::sync::Arc;

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
    let texts = catalog(Lang::De);
    let errs: Vec<Open311Error> = errs
        .iter()
        .cloned()
        .map(|e| e.translate(|key, arg| texts.fmt(key, arg)))
        .collect();
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
    match s.parse::<AttributeType>() {
        Ok(AttributeType::Number) => Datatype::Number,
        Ok(AttributeType::Datetime) => Datatype::Datetime,
        Ok(AttributeType::Text) => Datatype::Text,
        Ok(AttributeType::SingleValueList) => Datatype::SingleValueList,
        Ok(AttributeType::MultiValueList) => Datatype::MultiValueList,
        Ok(AttributeType::String) | Err(_) => Datatype::String,
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
        .await
    {
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
    let res = service::open311::published_request(&st.db.conn, tid, &base, id, extensions).await;
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
    let found = service::open311::by_token(&st.db.conn, TenantId(tenant.id), tok).await;
    match found {
        Ok(Some((reference, published))) => {
            let doc = [TokenResponse {
                token: tok.to_string(),
                service_request_id: published.then_some(reference),
            }];
            document(format, StatusCode::OK, doc.render(format))
        }
        Ok(None) => errors(format, &[unknown()]),
        Err(e) => internal(format, &e),
    }
}

// ---------------------------------------------------------------- updates feed

/// FixMyStreet's status words for ours.
fn fms_status(status: &str) -> &'static str {
    match status.parse::<Status>() {
        Ok(Status::New) => "OPEN",
        Ok(Status::Confirmed) => "INVESTIGATING",
        Ok(Status::InProgress) => "IN_PROGRESS",
        Ok(Status::Planned) => "ACTION_SCHEDULED",
        Ok(Status::Done) => "FIXED",
        Ok(Status::NotResponsible) => "NOT_COUNCILS_RESPONSIBILITY",
        Ok(Status::Duplicate) => "DUPLICATE",
        Ok(Status::Rejected) | Err(_) => "CLOSED",
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

    let mut rows =
        service::open311::updates(&st.db.conn, TenantId(tenant.id), start, end, MAX_UPDATES)
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
    match service::submit(
        &st.db,
        &st.files,
        state,
        tid,
        Source::Open311,
        service::OPEN311_APP,
        inp,
    )
    .await
    {
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
