//! The records JSON API under /api/v1/records: the file plan, files, documents with
//! versions (multipart uploads onto the platform's file store), downloads with byte ranges,
//! the permission-filtered search and a file's access log. Bearer token required; every
//! error is an RFC 9457 problem document.

use super::READERS;
use crate::domain::{Coded, FileKind, FileState};
use crate::permissions::MANAGE;
use crate::service::documents::{self, DocumentInput, Stored};
use crate::service::files::{self, AccessEntry, FileInput, FileQuery};
use crate::service::{plan, search};
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rathaus_core::Error;
use rathaus_core::validation::FieldErrors;
use rathaus_store::files::{ByteRange, Limits};
use rathaus_store::uow::Actor;
use rathaus_web::api::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, Problem};
use rathaus_web::{Access, AppState, Routes};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

const MANAGERS: Access = Access::AnyOf(&[MANAGE]);

pub(crate) fn routes() -> Routes {
    Routes::new()
        .api(READERS, routes!(list_plan_items, create_plan_item))
        .api(READERS, routes!(list_files, create_file))
        .api(READERS, routes!(get_file))
        .api(MANAGERS, routes!(close_file))
        .api(READERS, routes!(access_log))
        .api(MANAGERS, routes!(upload_document))
        .api(MANAGERS, routes!(upload_version))
        .api(READERS, routes!(document_content))
        .api(READERS, routes!(search_documents))
}

fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// The upload limits of the API (the installation's multipart limit).
pub(crate) fn limits(st: &AppState) -> Limits {
    Limits {
        max_size: st.cfg.upload_limit as u64,
        quota: None,
    }
}

// ---------------------------------------------------------------- plan

#[derive(Serialize, ToSchema)]
pub struct PlanItemOut {
    pub id: i64,
    pub code: String,
    pub parent_id: Option<i64>,
    pub title: String,
    pub retention_years: i32,
    /// `closing`, `dog_deregistered`, `leaving` or `approval_end`.
    pub retention_start: String,
    /// `A` (archive), `B` (appraise) or `V` (destroy).
    pub disposition: String,
}

impl From<plan::PlanItem> for PlanItemOut {
    fn from(m: plan::PlanItem) -> Self {
        PlanItemOut {
            id: m.id,
            code: m.code,
            parent_id: m.parent_id,
            title: m.title,
            retention_years: m.retention_years,
            retention_start: m.retention_start,
            disposition: m.disposition,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlanItem {
    /// Dotted KGSt code, e.g. `022.31`; the parent follows from the prefix.
    pub code: String,
    pub title: String,
    pub retention_years: i32,
    /// `A`, `B` or `V`.
    pub disposition: String,
    /// `closing` (default), `dog_deregistered`, `leaving` or `approval_end`.
    pub retention_start: Option<String>,
}

/// The file plan, by code.
#[utoipa::path(get, path = "/api/v1/records/plan-items", tag = "records", security(("bearer" = [])),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Plan items by code", body = [PlanItemOut]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_plan_items(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<PlanItemOut>>, ApiError> {
    let rows = plan::list(&st.db.conn, Actor::Token(&p), p.tenant_id).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Adds a plan item (`records.manage`); a code in use is refused (422).
#[utoipa::path(post, path = "/api/v1/records/plan-items", tag = "records", security(("bearer" = [])),
    request_body = NewPlanItem,
    responses(
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Created", body = PlanItemOut),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or code in use", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_plan_item(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewPlanItem>,
) -> Result<Response, ApiError> {
    let row = plan::create(
        &st.db.conn,
        Actor::Token(&p),
        p.tenant_id,
        &plan::PlanItemInput {
            code: b.code,
            title: b.title,
            retention_years: b.retention_years.to_string(),
            retention_start: b.retention_start.unwrap_or_default(),
            disposition: b.disposition,
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/records/plan-items/{}", row.id),
        PlanItemOut::from(row),
    ))
}

// ---------------------------------------------------------------- files

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub name: String,
    pub birth_date: Option<NaiveDate>,
}

/// Kind-specific fields (all optional).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewFile {
    pub plan_code: String,
    pub title: String,
    /// `general`, `wohngeld`, `dog` or `personnel`.
    pub kind: String,
    pub subject: Option<Subject>,
    /// The main personnel file of a sub-file (with `sub_kind`).
    pub parent_id: Option<i64>,
    /// `bewerbung`, `vertrag`, `beurteilungen`, `krankheit`, `sonstiges`.
    pub sub_kind: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub application_on: Option<NaiveDate>,
    pub approval_end_on: Option<NaiveDate>,
    pub dog_name: Option<String>,
    pub dog_breed: Option<String>,
    #[serde(default)]
    pub dog_list_dog: bool,
    pub dog_tag: Option<String>,
    pub dog_registered_on: Option<NaiveDate>,
    pub dog_deregistered_on: Option<NaiveDate>,
    pub dog_tax_class: Option<String>,
    pub leaving_on: Option<NaiveDate>,
}

fn d(v: Option<NaiveDate>) -> String {
    v.map(|d| d.to_string()).unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub struct FileCreated {
    pub id: i64,
    /// The Aktenzeichen.
    pub file_number: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileOut {
    pub id: i64,
    pub file_number: String,
    pub title: String,
    pub kind: String,
    pub sub_kind: Option<String>,
    pub parent_id: Option<i64>,
    pub state: String,
    pub plan_item_id: i64,
    pub subject_name: Option<String>,
    pub subject_birth_date: Option<NaiveDate>,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub retention_start_on: Option<NaiveDate>,
    pub retention_until: Option<NaiveDate>,
}

impl From<files::File> for FileOut {
    fn from(f: files::File) -> Self {
        FileOut {
            id: f.id,
            file_number: f.file_number,
            title: f.title,
            kind: f.kind,
            sub_kind: f.sub_kind,
            parent_id: f.parent_id,
            state: f.state,
            plan_item_id: f.plan_item_id,
            subject_name: f.subject_name,
            subject_birth_date: f.subject_birth_date,
            opened_on: f.opened_on,
            closed_on: f.closed_on,
            retention_start_on: f.retention_start_on,
            retention_until: f.retention_until,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RecordVersionOut {
    pub version: i32,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    pub mime: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct DocumentOut {
    pub id: i64,
    pub title: String,
    pub doc_date: NaiveDate,
    pub direction: String,
    pub tags: Vec<String>,
    pub case_id: Option<i64>,
    pub current_version: i32,
    pub versions: Vec<RecordVersionOut>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseOut {
    pub id: i64,
    pub title: String,
    pub opened_on: NaiveDate,
}

#[derive(Serialize, ToSchema)]
pub struct FileDetail {
    #[serde(flatten)]
    pub file: FileOut,
    pub plan_code: String,
    pub cases: Vec<CaseOut>,
    pub documents: Vec<DocumentOut>,
    pub sub_files: Vec<FileOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileListQuery {
    /// `general`, `wohngeld`, `dog`, `personnel`
    pub kind: Option<String>,
    /// `open`, `closed`, `offered`, `handed_over`, `destroyed`
    pub state: Option<String>,
    pub plan_item_id: Option<i64>,
    /// Part of the Aktenzeichen, title or subject's name.
    pub q: Option<String>,
    /// Page, from 0 to 100,000.
    #[param(minimum = 0, maximum = 100_000)]
    pub page: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct FileList {
    /// Files the caller may open that match (restricted kinds are not counted for others).
    pub total: u64,
    pub files: Vec<FileOut>,
}

/// The files the caller may open (50 per page).
#[utoipa::path(get, path = "/api/v1/records/files", tag = "records", security(("bearer" = [])),
    params(FileListQuery),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Files, newest first", body = FileList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Page out of range", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_files(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<FileListQuery>,
) -> Result<Json<FileList>, ApiError> {
    let mut errs = rathaus_core::validation::FieldErrors::new();
    let page = errs.in_range("page", q.page.unwrap_or(0), 0..=100_000);
    errs.into_result()?;
    let query = FileQuery {
        kind: q.kind.as_deref().and_then(FileKind::parse),
        state: q.state.as_deref().and_then(FileState::parse),
        plan_item_id: q.plan_item_id,
        q: q.q.unwrap_or_default(),
        page,
    };
    let (total, rows) = files::list(&st.db.conn, Actor::Token(&p), p.tenant_id, &query).await?;
    Ok(Json(FileList {
        total,
        files: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a file (`records.manage` and the kind's permission) with the next Aktenzeichen.
#[utoipa::path(post, path = "/api/v1/records/files", tag = "records", security(("bearer" = [])),
    request_body = NewFile,
    responses(
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Created", body = FileCreated),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_file(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewFile>,
) -> Result<Response, ApiError> {
    let subject = b.subject.unwrap_or_default();
    let input = FileInput {
        plan_code: b.plan_code,
        title: b.title,
        kind: b.kind,
        subject_name: subject.name,
        subject_birth_date: d(subject.birth_date),
        parent_id: b.parent_id,
        sub_kind: b.sub_kind.unwrap_or_default(),
        department_id: None,
        opened_on: d(b.opened_on),
        application_on: d(b.application_on),
        approval_end_on: d(b.approval_end_on),
        dog_name: b.dog_name.unwrap_or_default(),
        dog_breed: b.dog_breed.unwrap_or_default(),
        dog_list_dog: b.dog_list_dog,
        dog_tag: b.dog_tag.unwrap_or_default(),
        dog_registered_on: d(b.dog_registered_on),
        dog_deregistered_on: d(b.dog_deregistered_on),
        dog_tax_class: b.dog_tax_class.unwrap_or_default(),
        leaving_on: d(b.leaving_on),
    };
    let f = files::create(&st.db.conn, Actor::Token(&p), p.tenant_id, &input).await?;
    Ok(created(
        format!("/api/v1/records/files/{}", f.id),
        FileCreated {
            id: f.id,
            file_number: f.file_number,
        },
    ))
}

/// A file with its cases, documents (with versions) and sub-files; opening a restricted
/// file is recorded in its access log. Files of a kind the caller may not open: 404.
#[utoipa::path(get, path = "/api/v1/records/files/{id}", tag = "records", security(("bearer" = [])),
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The file", body = FileDetail),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file (or not visible)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_file(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FileDetail>, ApiError> {
    let v = files::open(&st.db.conn, Actor::Token(&p), p.tenant_id, id).await?;
    let documents = v
        .documents
        .iter()
        .map(|doc| DocumentOut {
            id: doc.id,
            title: doc.title.clone(),
            doc_date: doc.doc_date,
            direction: doc.direction.clone(),
            tags: crate::domain::normalize_tags(&doc.tags),
            case_id: doc.case_id,
            current_version: doc.current_version,
            versions: v
                .versions
                .iter()
                .filter(|x| x.document_id == doc.id)
                .map(|x| RecordVersionOut {
                    version: x.version,
                    name: x.name.clone(),
                    size: x.size,
                    sha256: x.sha256.clone(),
                    mime: x.mime.clone(),
                    uploaded_by: x.uploaded_by.clone(),
                    uploaded_at: x.uploaded_at.to_rfc3339(),
                })
                .collect(),
        })
        .collect();
    Ok(Json(FileDetail {
        plan_code: v.plan.code.clone(),
        cases: v
            .cases
            .iter()
            .map(|c| CaseOut {
                id: c.id,
                title: c.title.clone(),
                opened_on: c.opened_on,
            })
            .collect(),
        documents,
        sub_files: v.sub_files.into_iter().map(Into::into).collect(),
        file: v.file.into(),
    }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CloseFile {
    /// Default: today.
    pub closed_on: Option<NaiveDate>,
}

/// Closes an open file; its retention dates follow from the plan item's rule.
#[utoipa::path(post, path = "/api/v1/records/files/{id}/close", tag = "records", security(("bearer" = [])),
    params(("id" = i64, Path, description = "File id")),
    request_body = CloseFile,
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The closed file", body = FileOut),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The file is not open", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    ))]
async fn close_file(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CloseFile>,
) -> Result<Json<FileOut>, ApiError> {
    let f = files::close(
        &st.db.conn,
        Actor::Token(&p),
        p.tenant_id,
        id,
        &d(b.closed_on),
    )
    .await?;
    Ok(Json(f.into()))
}

/// Who opened the file or downloaded its documents (the read audit), newest first.
#[utoipa::path(get, path = "/api/v1/records/files/{id}/access-log", tag = "records", security(("bearer" = [])),
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Read events", body = [AccessEntry]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
    ))]
async fn access_log(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<AccessEntry>>, ApiError> {
    Ok(Json(
        files::access_log(&st.db.conn, Actor::Token(&p), p.tenant_id, id).await?,
    ))
}

// ---------------------------------------------------------------- documents

/// The multipart body of an upload.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the multipart body
pub struct DocumentUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Default: the file name.
    title: Option<String>,
    /// `YYYY-MM-DD`, default today.
    doc_date: Option<String>,
    /// `incoming` (default), `outgoing`, `internal`.
    direction: Option<String>,
    /// Comma-separated.
    tags: Option<String>,
    case_id: Option<i64>,
}

/// The multipart body of a new version.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the multipart body
pub struct VersionUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// When given, the document must belong to this file.
    file_id: Option<i64>,
}

/// A multipart upload read into its parts: the file (name, bytes) and the text fields.
pub(crate) struct Parts {
    pub files: Vec<(String, bytes::Bytes)>,
    pub fields: Vec<(String, String)>,
}

impl Parts {
    pub fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// Reads a multipart body (already bounded by the platform's upload limit).
pub(crate) async fn read_parts(st: &AppState, req: axum::extract::Request) -> Result<Parts, Error> {
    let bad = || FieldErrors::single("file", "records.err.upload");
    let mut mp = Multipart::from_request(req, st).await.map_err(|_| bad())?;
    let mut parts = Parts {
        files: vec![],
        fields: vec![],
    };
    while let Some(f) = mp.next_field().await.map_err(|_| bad())? {
        let name = f.name().unwrap_or_default().to_string();
        if let Some(fname) = f.file_name().map(str::to_string) {
            let data = f.bytes().await.map_err(|_| bad())?;
            // A browser sends an empty part for an empty file input.
            if fname.is_empty() && data.is_empty() {
                continue;
            }
            parts.files.push((fname, data));
        } else {
            let text = f.text().await.map_err(|_| bad())?;
            parts.fields.push((name, text));
        }
    }
    Ok(parts)
}

fn body_of(
    data: bytes::Bytes,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    futures_util::stream::iter([Ok(data)])
}

fn opt_id(errs: &mut FieldErrors, field: &str, v: &str) -> Option<i64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let n = v.parse::<i64>().ok();
    if n.is_none() {
        errs.add(field, "records.err.choice");
    }
    n
}

/// Files a document (multipart `file`, `title`, …) into an open file.
#[utoipa::path(post, path = "/api/v1/records/files/{id}/documents", tag = "records", security(("bearer" = [])),
    params(("id" = i64, Path, description = "File id")),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Stored", body = Stored),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The file is closed or handed over", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No file, 0 bytes, over the limit or invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn upload_document(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    p.require(MANAGE)?;
    let parts = read_parts(&st, req).await?;
    let mut errs = FieldErrors::new();
    let case_id = opt_id(&mut errs, "case_id", &parts.get("case_id"));
    errs.into_result()?;
    let Some((name, data)) = parts.files.into_iter().next() else {
        return Err(ApiError(FieldErrors::single("file", "err.required")));
    };
    let input = DocumentInput {
        title: parts
            .fields
            .iter()
            .find(|(n, _)| n == "title")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        doc_date: parts
            .fields
            .iter()
            .find(|(n, _)| n == "doc_date")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        direction: parts
            .fields
            .iter()
            .find(|(n, _)| n == "direction")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        tags: parts
            .fields
            .iter()
            .find(|(n, _)| n == "tags")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        case_id,
    };
    let stored = documents::add(
        &st.db,
        &st.files,
        Actor::Token(&p),
        p.tenant_id,
        id,
        &input,
        limits(&st),
        &name,
        body_of(data),
    )
    .await?;
    Ok(created(
        format!("/api/v1/records/documents/{}/content", stored.id),
        stored,
    ))
}

/// Uploads a new version of a document (multipart `file`).
#[utoipa::path(post, path = "/api/v1/records/documents/{id}/versions", tag = "records", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Document id")),
    request_body(content = VersionUpload, content_type = "multipart/form-data"),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Stored", body = Stored),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The file is closed or handed over", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No file, 0 bytes, another file's document", body = Problem, content_type = "application/problem+json"),
    ))]
async fn upload_version(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    p.require(MANAGE)?;
    let parts = read_parts(&st, req).await?;
    let mut errs = FieldErrors::new();
    let file_id = opt_id(&mut errs, "file_id", &parts.get("file_id"));
    errs.into_result()?;
    let Some((name, data)) = parts.files.into_iter().next() else {
        return Err(ApiError(FieldErrors::single("file", "err.required")));
    };
    let stored = documents::add_version(
        &st.db,
        &st.files,
        Actor::Token(&p),
        p.tenant_id,
        id,
        file_id,
        limits(&st),
        &name,
        body_of(data),
    )
    .await?;
    Ok(created(
        format!("/api/v1/records/documents/{}/content", stored.id),
        stored,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// A version number; default the current one.
    pub version: Option<i32>,
}

/// Streams a document's content (the current or a given version); `Range: bytes=…` gives
/// 206. Downloads of restricted kinds are recorded in the file's access log.
#[utoipa::path(get, path = "/api/v1/records/documents/{id}/content", tag = "records", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Document id"), ContentQuery),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The content, with the media type sniffed when it was stored (e.g. application/pdf, text/plain)", content_type = "*/*"),
        (status = 206, description = "The requested range, with the same media type", content_type = "*/*"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document or version", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "Range not satisfiable", body = Problem, content_type = "application/problem+json"),
    ))]
async fn document_content(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(ByteRange::parse);
    let (_doc, ver, dl) = documents::download(
        &st.db,
        &st.files,
        Actor::Token(&p),
        p.tenant_id,
        id,
        q.version,
        range,
    )
    .await
    .map_err(|e| match e {
        Error::Invalid(f) if f.get("file").is_some_and(|x| x.key == "files.err.range") => {
            ApiError(Error::Invalid(f))
        }
        e => ApiError(e),
    })?;
    Ok(download_response(&ver.name, &ver.mime, dl))
}

/// The HTTP answer of a download: 200 or 206 with `Content-Range`, attachment disposition.
pub(crate) fn download_response(
    name: &str,
    mime: &str,
    dl: rathaus_store::files::Download,
) -> Response {
    let status = if dl.partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let len = dl.range.end - dl.range.start;
    let mut res = Response::new(Body::from_stream(dl.body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if dl.partial
        && let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {}-{}/{}",
            dl.range.start,
            dl.range.end.saturating_sub(1),
            dl.meta.size
        ))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Some(v) = rathaus_web::export::content_disposition(name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

// ---------------------------------------------------------------- search

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    pub q: String,
    /// Default 20, at most 100.
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// Searches title, tags and extracted text of the documents the caller may open; hits and
/// the total never include restricted kinds the caller lacks.
#[utoipa::path(get, path = "/api/v1/records/search", tag = "records", security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Hits", body = search::Found),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
    ))]
async fn search_documents(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<search::Found>, ApiError> {
    let found = search::search(
        &st.db,
        st.search.clone(),
        Actor::Token(&p),
        p.tenant_id,
        &q.q,
        q.limit.unwrap_or(20).clamp(1, 100),
        q.offset.unwrap_or(0).min(10_000),
    )
    .await?;
    Ok(Json(found))
}
