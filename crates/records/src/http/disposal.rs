//! Retention and the archive hand-over over HTTP: the JSON API under
//! /api/v1/records/disposal (in the OpenAPI document) and the pages under
//! /akten/aussonderung. Everything needs `records.disposal`; the services filter the files
//! each reader may open.

use crate::domain::Disposition;
use crate::permissions::DISPOSAL;
use crate::service::disposal::offers::{
    self, AppraisalOutcome, OfferSummary, OfferView, ReceiptOutcome,
};
use crate::service::disposal::{self, DueList, DueQuery, RunReport};
use crate::service::today;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rathaus_core::Error;
use rathaus_core::validation::FieldErrors;
use rathaus_store::uow::Actor;
use rathaus_web::api::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, Problem};
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::{Access, AppState, Routes};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

mod pages;

pub(crate) const DISPOSERS: Access = Access::AnyOf(&[DISPOSAL]);

/// The largest archive message taken (XML or its ZIP).
const MAX_MESSAGE: usize = 16 << 20;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .api(DISPOSERS, routes!(due))
        .api(DISPOSERS, routes!(list_deletions, run_deletion))
        .api(DISPOSERS, routes!(list_offers, create_offer))
        .api(DISPOSERS, routes!(get_offer))
        .api(DISPOSERS, routes!(message_0501))
        .api(DISPOSERS, routes!(appraisal))
        .api(DISPOSERS, routes!(handover_zip))
        .api(DISPOSERS, routes!(receipt))
        .merge(pages::routes())
}

/// The navigation entry (only for holders of `records.disposal`).
pub fn nav() -> rathaus_web::layout::NavItem {
    rathaus_web::layout::NavItem {
        href: "/akten/aussonderung",
        label_key: "records.disposal.nav",
        any_of: &[DISPOSAL],
    }
}

/// The archive's name in the messages' header (the installation's German text).
pub(crate) fn archive_name() -> String {
    catalog(Lang::De)
        .get("records.disposal.archive_name")
        .to_string()
}

fn xml_response(name: &str, xml: String) -> Response {
    let mut res = (StatusCode::OK, xml).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

pub(crate) fn zip_response(s: offers::HandOverStream) -> Response {
    let mut res = Response::new(Body::from_stream(s.body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", s.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn message_body(b: &Bytes) -> Result<&[u8], Error> {
    if b.is_empty() {
        return Err(FieldErrors::single("message", "records.disposal.err.empty"));
    }
    if b.len() > MAX_MESSAGE {
        return Err(FieldErrors::single(
            "message",
            "records.disposal.err.too_large",
        ));
    }
    Ok(b)
}

// ---------------------------------------------------------------- due list

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueParams {
    /// `YYYY-MM-DD`: files whose retention ended before this day; default today.
    pub at: Option<NaiveDate>,
    pub plan_item_id: Option<i64>,
    /// `A`, `B` or `V`.
    pub disposition: Option<Disposition>,
    /// 1 to 1,000, default 100.
    pub limit: Option<u64>,
    /// 0 to 1,000,000.
    pub offset: Option<u64>,
}

/// The due list: closed files whose retention ended before `at`, with counts by plan item
/// and disposition; only files the caller may open.
#[utoipa::path(get, path = "/api/v1/records/disposal/due", tag = "records", security(("bearer" = [])),
    params(DueParams),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Due files", body = DueList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    ))]
async fn due(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<DueParams>,
) -> Result<Json<DueList>, ApiError> {
    let mut errs = FieldErrors::new();
    let limit = errs.in_range("limit", q.limit.unwrap_or(100), 1..=1000);
    let offset = errs.in_range("offset", q.offset.unwrap_or(0), 0..=1_000_000);
    errs.into_result()?;
    let list = disposal::due(
        &st.db.conn,
        Actor::Token(&p),
        p.tenant_id,
        &DueQuery {
            at: q.at.unwrap_or_else(today),
            plan_item_id: q.plan_item_id,
            disposition: q.disposition,
            limit,
            offset,
        },
    )
    .await?;
    Ok(Json(list))
}

// ---------------------------------------------------------------- deletions

#[derive(Serialize, ToSchema)]
pub struct DeletionOut {
    pub file_number: String,
    pub title: String,
    pub kind: String,
    pub plan_code: String,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub retention_until: Option<NaiveDate>,
    /// `retention` (V file), `appraisal` (archive appraised V) or `archived` (import confirmed).
    pub reason: String,
    pub offer_id: Option<String>,
    pub deleted_at: chrono::DateTime<chrono::Utc>,
    pub deleted_by: String,
}

/// The deletion records (what remains of deleted files: Aktenzeichen, title, dates), newest
/// first, at most 500.
#[utoipa::path(get, path = "/api/v1/records/disposal/deletions", tag = "records", security(("bearer" = [])),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Deletion records", body = [DeletionOut]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_deletions(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<DeletionOut>>, ApiError> {
    let rows = disposal::deletions(&st.db.conn, Actor::Token(&p), p.tenant_id, 500).await?;
    Ok(Json(
        rows.into_iter()
            .map(|d| DeletionOut {
                file_number: d.file_number,
                title: d.title,
                kind: d.kind,
                plan_code: d.plan_code,
                opened_on: d.opened_on,
                closed_on: d.closed_on,
                retention_until: d.retention_until,
                reason: d.reason,
                offer_id: d.offer_id,
                deleted_at: d.deleted_at,
                deleted_by: d.deleted_by,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileIds {
    /// Ids of due files.
    pub file_ids: Vec<i64>,
}

/// Runs the deletion of the selected due `V` files: each file all or nothing in its own
/// transaction, with a deletion record; files already deleted are skipped, so an
/// interrupted run is simply repeated.
#[utoipa::path(post, path = "/api/v1/records/disposal/deletions", tag = "records", security(("bearer" = [])),
    request_body = FileIds,
    responses(
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "What was deleted, skipped or refused", body = RunReport),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No file selected", body = Problem, content_type = "application/problem+json"),
    ))]
async fn run_deletion(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<FileIds>,
) -> Result<Json<RunReport>, ApiError> {
    let r = disposal::run_deletion(
        &st.db.conn,
        &st.files,
        Actor::Token(&p),
        p.tenant_id,
        &b.file_ids,
    )
    .await?;
    Ok(Json(r))
}

// ---------------------------------------------------------------- offers

#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The offer's id: the xdomea process id (UUID).
    pub id: String,
}

/// The offers, newest first.
#[utoipa::path(get, path = "/api/v1/records/disposal/offers", tag = "records", security(("bearer" = [])),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Offers", body = [OfferSummary]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_offers(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<OfferSummary>>, ApiError> {
    Ok(Json(
        offers::list(&st.db.conn, Actor::Token(&p), p.tenant_id).await?,
    ))
}

/// Offers due `A`/`B` files to the archive; the files go to `offered`. Files not due, not
/// closed, already offered or `V` are refused (422, nothing changes).
#[utoipa::path(post, path = "/api/v1/records/disposal/offers", tag = "records", security(("bearer" = [])),
    request_body = FileIds,
    responses(
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Created", body = Created),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A file was offered meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Files not due, not closed, already offered or V", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_offer(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<FileIds>,
) -> Result<Response, ApiError> {
    let id = offers::create(&st.db.conn, Actor::Token(&p), p.tenant_id, &b.file_ids).await?;
    let mut res = (StatusCode::CREATED, Json(Created { id: id.clone() })).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/records/disposal/offers/{id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// An offer with its files and what became of each.
#[utoipa::path(get, path = "/api/v1/records/disposal/offers/{id}", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "Offer (process) id")),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The offer", body = OfferView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The offer holds files the caller may not open", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_offer(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OfferView>, ApiError> {
    Ok(Json(
        offers::get(&st.db.conn, Actor::Token(&p), p.tenant_id, &id).await?,
    ))
}

/// The xdomea 0501 offer message (Anbietung) of the offer.
#[utoipa::path(get, path = "/api/v1/records/disposal/offers/{id}/message-0501.xml", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "Offer (process) id")),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The 0501 message", content_type = "application/xml"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No file left to offer", body = Problem, content_type = "application/problem+json"),
    ))]
async fn message_0501(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (name, xml) = offers::message_0501(
        &st.db.conn,
        Actor::Token(&p),
        p.tenant_id,
        &id,
        &archive_name(),
    )
    .await?;
    Ok(xml_response(&name, xml))
}

/// Imports the archive's 0502 appraisal (XML, or its xdomea ZIP) and answers with the 0505
/// receipt. Every offered file must be decided `A` or `V`; files appraised `V` are deleted
/// with a deletion record. An invalid message, or one naming files not offered, is refused
/// (422) and changes nothing; an offer not in state `offered` is a conflict (409).
#[utoipa::path(post, path = "/api/v1/records/disposal/offers/{id}/appraisal", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "Offer (process) id")),
    request_body(content = String, content_type = "application/xml", description = "The 0502 message"),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The 0505 receipt", content_type = "application/xml"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The offer was already appraised", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid message or files not offered", body = Problem, content_type = "application/problem+json"),
    ))]
async fn appraisal(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = message_body(&body)?;
    let out: AppraisalOutcome = offers::appraise(
        &st.db.conn,
        &st.files,
        Actor::Token(&p),
        p.tenant_id,
        &id,
        body,
    )
    .await?;
    Ok(xml_response(&out.receipt_name, out.receipt_xml))
}

/// The 0503 hand-over (Aussonderung): a ZIP with the message and the documents of every
/// file appraised for the archive, streamed. The first download moves the files to
/// `handed_over`.
#[utoipa::path(get, path = "/api/v1/records/disposal/offers/{id}/handover.zip", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "Offer (process) id")),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The 0503 ZIP", content_type = "application/zip"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not appraised yet, or nothing to hand over", body = Problem, content_type = "application/problem+json"),
    ))]
async fn handover_zip(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let s = offers::handover(
        &st.db.conn,
        st.files.clone(),
        Actor::Token(&p),
        p.tenant_id,
        &id,
        &archive_name(),
    )
    .await?;
    Ok(zip_response(s))
}

/// Takes a message of the archive: 0504 (offer received), 0507 (hand-over received) or 0506
/// (import confirmation). A 0506 or 0507 before the hand-over is a conflict (409); a 0506
/// naming files not handed over is refused (422). A confirmed import deletes the file with a
/// deletion record; a failed one keeps it and records the error.
#[utoipa::path(post, path = "/api/v1/records/disposal/offers/{id}/receipt", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "Offer (process) id")),
    request_body(content = String, content_type = "application/xml", description = "A 0504, 0506 or 0507 message"),
    responses(
        (status = 400, description = "Malformed request (query, path or body)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of the documented type", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "What the message did", body = ReceiptOutcome),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message does not fit the offer's state", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid message", body = Problem, content_type = "application/problem+json"),
    ))]
async fn receipt(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Json<ReceiptOutcome>, ApiError> {
    let body = message_body(&body)?;
    Ok(Json(
        offers::receipt(
            &st.db.conn,
            &st.files,
            Actor::Token(&p),
            p.tenant_id,
            &id,
            body,
        )
        .await?,
    ))
}
