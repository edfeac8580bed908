//! The JSON API under /api/v1/refugees: import, accommodations, persons, free beds,
//! occupancy and statistics. Bearer token (`ApiUser`); errors are RFC 9457 problem documents.
//! What a person's record shows depends on the token owner's read permissions.

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::uow::Actor;
use rathaus_web::api::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, Problem};
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::{AppState, Routes};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{EDITORS, IMPORTERS, READERS};
use crate::service::imports::{self, MAX_FILE_BYTES, Outcome};
use crate::service::occupancy::{CheckIn, check_in};
use crate::service::persons::{self, PersonFilter, PersonInput, PersonView};
use crate::service::{places, stats, today};

pub(crate) fn routes() -> Routes {
    let (schemas, paths, upload) = routes!(post_import);
    Routes::new()
        .api(
            IMPORTERS,
            (
                schemas,
                paths,
                upload.layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 256 * 1024)),
            ),
        )
        .api(READERS, routes!(list_accommodations))
        .api(READERS, routes!(list_persons))
        .api(EDITORS, routes!(create_person))
        .api(READERS, routes!(get_person))
        .api(EDITORS, routes!(patch_person))
        .api(READERS, routes!(free_beds))
        .api(EDITORS, routes!(create_occupancy))
        .api(READERS, routes!(statistics))
}

fn date(errs: &mut FieldErrors, field: &str, v: &Option<String>) -> Option<NaiveDate> {
    v.as_deref()
        .and_then(|s| crate::service::parse_date(errs, field, s))
}

// ---------------------------------------------------------------- import

/// The upload: the workbook or CSV, and optionally a column mapping.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the multipart body
pub struct ImportUpload {
    /// XLSX, ODS or CSV (German Excel: `;`, Windows-1252).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// JSON: `{"header_row": 3, "columns": [{"header": "Name", "field": "surname"}]}`.
    mapping: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true` (default): only the report; `false`: commit when there is no error.
    pub dry_run: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportError {
    pub sheet: String,
    /// The row number as Excel shows it.
    pub row: Option<u32>,
    /// The column's header as written in the file.
    pub column: Option<String>,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReportWarning {
    pub sheet: String,
    pub rows: Vec<u32>,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    pub rows_total: usize,
    pub rows_ok: usize,
    pub committed: bool,
    pub errors: Vec<ReportError>,
    pub warnings: Vec<ReportWarning>,
}

impl From<Outcome> for ImportReport {
    fn from(o: Outcome) -> Self {
        let t = catalog(Lang::De);
        ImportReport {
            rows_total: o.rows_total,
            rows_ok: o.rows_ok,
            committed: o.committed,
            errors: o
                .errors
                .iter()
                .map(|l| ReportError {
                    sheet: l.sheet.clone(),
                    row: l.rows.first().copied(),
                    column: l.column.clone(),
                    message: super::message(t, l),
                })
                .collect(),
            warnings: o
                .warnings
                .iter()
                .map(|l| ReportWarning {
                    sheet: l.sheet.clone(),
                    rows: l.rows.clone(),
                    message: super::message(t, l),
                })
                .collect(),
        }
    }
}

fn invalid(field: &str, key: &str) -> ApiError {
    ApiError(FieldErrors::single(field, key))
}

/// Imports the accommodation lists: a dry run gives the row report; with `dry_run=false` and
/// no errors everything goes in, else 422 with the report and nothing written.
#[utoipa::path(
    post,
    path = "/api/v1/refugees/imports",
    tag = "refugees",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The row report (committed when asked and clean)", body = ImportReport),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission refugees.import", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Errors in the file (the report), or no file or no spreadsheet (a problem)", content(
            (ImportReport = "application/json"),
            (Problem = "application/problem+json"),
        )),
        (status = 409, description = "A stay meets one already stored", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn post_import(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    p.require(crate::permissions::IMPORT)?;
    let mut mp = Multipart::from_request(req, &st)
        .await
        .map_err(|_| invalid("file", "err.required"))?;
    let (mut data, mut mapping) = (Vec::new(), None);
    loop {
        match mp.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => {
                data = f
                    .bytes()
                    .await
                    .map_err(|_| invalid("file", "import.err.corrupt"))?
                    .to_vec();
            }
            Ok(Some(f)) if f.name() == Some("mapping") => {
                let text = f.text().await.unwrap_or_default();
                if !text.trim().is_empty() {
                    mapping = Some(rathaus_import::Mapping::from_json(&text).map_err(|e| {
                        let mut errs = FieldErrors::new();
                        errs.add_arg("mapping", e.key(), e.arg());
                        ApiError(Error::Invalid(errs))
                    })?);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return Err(invalid("file", "import.err.corrupt")),
        }
    }
    if data.is_empty() {
        return Err(invalid("file", "err.required"));
    }
    let commit = q.dry_run == Some(false);
    let out = imports::import(
        &st.db.conn,
        Actor::Token(&p),
        p.tenant_id,
        &data,
        mapping,
        commit,
    )
    .await?;
    let status = if commit && !out.errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ImportReport::from(out))).into_response())
}

// ---------------------------------------------------------------- accommodations and beds

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// The day, `YYYY-MM-DD` (default today).
    pub at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccommodationOut {
    pub id: i64,
    pub name: String,
    /// `municipal`, `rented_flat`, `container_site` or `emergency_shelter`.
    pub kind: String,
    pub address: String,
    /// Beds in rooms open that day.
    pub capacity: i64,
    pub occupied: i64,
    pub free: i64,
}

/// Accommodations with capacity, occupied and free beds on a day.
#[utoipa::path(
    get,
    path = "/api/v1/refugees/accommodations",
    tag = "refugees",
    security(("bearer" = [])),
    params(AtQuery),
    responses(
        (status = 200, description = "Accommodations by name", body = [AccommodationOut]),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No read permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_accommodations(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<AtQuery>,
) -> Result<Json<Vec<AccommodationOut>>, ApiError> {
    let mut errs = FieldErrors::new();
    let at = date(&mut errs, "at", &q.at).unwrap_or_else(today);
    errs.into_result()?;
    let list = places::accommodations_on(&st.db.conn, Actor::Token(&p), p.tenant_id, at).await?;
    Ok(Json(
        list.into_iter()
            .map(|a| AccommodationOut {
                id: a.accommodation.id,
                name: a.accommodation.name,
                kind: a.accommodation.kind,
                address: a.accommodation.address,
                capacity: a.capacity,
                occupied: a.occupied,
                free: a.free,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FreeQuery {
    /// The day, `YYYY-MM-DD` (default today).
    pub free_at: Option<String>,
    pub accommodation_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct BedOut {
    pub id: i64,
    pub number: i32,
    pub room_id: i64,
    pub room: String,
    pub accommodation_id: i64,
    pub accommodation: String,
}

/// The beds free on a day (rooms closed for repair left out).
#[utoipa::path(
    get,
    path = "/api/v1/refugees/beds",
    tag = "refugees",
    security(("bearer" = [])),
    params(FreeQuery),
    responses(
        (status = 200, description = "Free beds", body = [BedOut]),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No read permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn free_beds(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<FreeQuery>,
) -> Result<Json<Vec<BedOut>>, ApiError> {
    let mut errs = FieldErrors::new();
    let at = date(&mut errs, "free_at", &q.free_at).unwrap_or_else(today);
    errs.into_result()?;
    let list = places::free_beds(
        &st.db.conn,
        Actor::Token(&p),
        p.tenant_id,
        at,
        q.accommodation_id,
    )
    .await?;
    Ok(Json(
        list.into_iter()
            .map(|b| BedOut {
                id: b.id,
                number: b.number,
                room_id: b.room_id,
                room: b.room,
                accommodation_id: b.accommodation_id,
                accommodation: b.accommodation,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------- persons

#[derive(Serialize, ToSchema)]
pub struct PlaceOut {
    pub occupancy_id: i64,
    pub accommodation_id: i64,
    pub accommodation: String,
    pub room_id: i64,
    pub room: String,
    pub bed_id: i64,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub until: Option<NaiveDate>,
}

/// Social work's fields (permission `refugees.read_social`).
#[derive(Serialize, ToSchema)]
pub struct SocialOut {
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<NaiveDate>,
    pub sex: String,
    pub nationality: String,
    pub languages: String,
    pub phone: String,
    pub needs: Vec<String>,
    pub notes: String,
}

/// The foreigners office's fields (permission `refugees.read_residence`).
#[derive(Serialize, ToSchema)]
pub struct ResidenceOut {
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<NaiveDate>,
    pub nationality: String,
    /// `gestattung`, `duldung`, `erlaubnis`, `para24`, `buema`, `niederlassung`, `other`.
    pub status: String,
    pub paragraph: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub allocation_date: Option<NaiveDate>,
    pub allocation_ref: String,
    pub benefits_ref: String,
}

/// A person as the token owner may see them: `social` and `residence` only with their
/// permissions.
#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    pub id: i64,
    /// The data was erased after the deletion period: names and the personal fields are
    /// empty; nationality, status and stays remain for the statistics.
    pub anonymised: bool,
    pub surname: String,
    pub given_names: String,
    pub household_id: Option<i64>,
    /// Where the person lives today.
    pub place: Option<PlaceOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social: Option<SocialOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residence: Option<ResidenceOut>,
    /// Only on the single record: every stay, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<PlaceOut>>,
}

fn place_out(p: persons::Place) -> PlaceOut {
    PlaceOut {
        occupancy_id: p.occupancy_id,
        accommodation_id: p.accommodation_id,
        accommodation: p.accommodation,
        room_id: p.room_id,
        room: p.room,
        bed_id: p.bed_id,
        from: p.starts_on,
        until: p.ends_on,
    }
}

fn person_out(v: PersonView) -> PersonOut {
    PersonOut {
        id: v.id,
        anonymised: v.anonymised,
        surname: v.surname,
        given_names: v.given_names,
        household_id: v.household_id,
        place: v.place.map(place_out),
        social: v.social.map(|s| SocialOut {
            birth_date: s.birth_date,
            sex: s.sex,
            nationality: s.nationality,
            languages: s.languages,
            phone: s.phone,
            needs: s
                .needs
                .iter()
                .map(|n| crate::domain::Coded::code(*n).to_string())
                .collect(),
            notes: s.notes,
        }),
        residence: v.residence.map(|r| ResidenceOut {
            birth_date: r.birth_date,
            nationality: r.nationality,
            status: r.status,
            paragraph: r.paragraph,
            valid_until: r.valid_until,
            allocation_date: r.allocation_date,
            allocation_ref: r.allocation_ref,
            benefits_ref: r.benefits_ref,
        }),
        history: None,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Part of the surname or given names.
    pub q: Option<String>,
    /// Living there today.
    pub accommodation_id: Option<i64>,
    /// Residence status code (needs `refugees.read_residence`).
    pub status: Option<String>,
    /// `YYYY-MM-DD` (needs `refugees.read_residence`).
    pub permit_expires_before: Option<String>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Rows to skip, at most 1,000,000,000.
    #[param(maximum = 1_000_000_000)]
    pub offset: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonOut>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

/// The largest `offset` the person list takes (as documented in its schema).
const MAX_OFFSET: u64 = 1_000_000_000;

/// Persons, filtered (the filters combine), by name.
#[utoipa::path(
    get,
    path = "/api/v1/refugees/persons",
    tag = "refugees",
    security(("bearer" = [])),
    params(PersonQuery),
    responses(
        (status = 200, description = "A page of persons with the total", body = PersonPage),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No read permission, or filtering by residence data without it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_persons(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<PersonQuery>,
) -> Result<Json<PersonPage>, ApiError> {
    let mut errs = FieldErrors::new();
    let expires = date(&mut errs, "permit_expires_before", &q.permit_expires_before);
    let status = q
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(s) = &status
        && <crate::domain::ResidenceStatus as crate::domain::Coded>::parse(s).is_none()
    {
        errs.add("status", "refugees.import.unknown_status");
    }
    let offset = errs.in_range("offset", q.offset.unwrap_or(0), 0..=MAX_OFFSET);
    let limit = u64::from(errs.in_range("limit", q.limit.unwrap_or(50), 1..=500));
    errs.into_result()?;
    let f = PersonFilter {
        q: q.q.unwrap_or_default(),
        accommodation_id: q.accommodation_id,
        status,
        permit_expires_before: expires,
        offset,
        limit,
        ..Default::default()
    };
    let (items, total) =
        persons::list_persons(&st.db.conn, Actor::Token(&p), p.tenant_id, &f).await?;
    Ok(Json(PersonPage {
        items: items.into_iter().map(person_out).collect(),
        total,
        limit,
        offset,
    }))
}

/// A new person or a change: dates as `YYYY-MM-DD`. On PATCH absent fields stay; on POST
/// `surname`, `given_names` and `birth_date` are required.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PersonIn {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub birth_date: Option<String>,
    /// `female`, `male`, `diverse` or empty.
    pub sex: Option<String>,
    pub nationality: Option<String>,
    pub languages: Option<String>,
    pub phone: Option<String>,
    /// Residence data (needs `refugees.read_residence` too).
    pub residence_status: Option<String>,
    pub residence_paragraph: Option<String>,
    pub permit_valid_until: Option<String>,
    pub allocation_date: Option<String>,
    pub allocation_ref: Option<String>,
    pub benefits_ref: Option<String>,
    /// `wheelchair`, `ground_floor`, `infants`.
    pub needs: Option<Vec<String>>,
    pub notes: Option<String>,
    pub household_id: Option<i64>,
}

fn person_input(b: PersonIn) -> Result<PersonInput, ApiError> {
    let mut errs = FieldErrors::new();
    let opt_date = |errs: &mut FieldErrors, f: &str, v: &Option<String>| {
        v.as_ref().map(|s| crate::service::parse_date(errs, f, s))
    };
    let inp = PersonInput {
        birth_date: opt_date(&mut errs, "birth_date", &b.birth_date),
        permit_valid_until: opt_date(&mut errs, "permit_valid_until", &b.permit_valid_until),
        allocation_date: opt_date(&mut errs, "allocation_date", &b.allocation_date),
        surname: b.surname,
        given_names: b.given_names,
        sex: b.sex,
        nationality: b.nationality,
        languages: b.languages,
        phone: b.phone,
        residence_status: b.residence_status,
        residence_paragraph: b.residence_paragraph,
        allocation_ref: b.allocation_ref,
        benefits_ref: b.benefits_ref,
        needs: b.needs,
        notes: b.notes,
        household_id: b.household_id.map(Some),
    };
    errs.into_result()?;
    Ok(inp)
}

/// Creates a person (permission `refugees.edit`; residence data also `refugees.read_residence`).
#[utoipa::path(
    post,
    path = "/api/v1/refugees/persons",
    tag = "refugees",
    security(("bearer" = [])),
    request_body = PersonIn,
    responses(
        (status = 201, description = "Created", body = PersonOut),
        (status = 400, description = "Unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_person(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<PersonIn>,
) -> Result<Response, ApiError> {
    let inp = person_input(b)?;
    let m = persons::create_person(&st.db.conn, Actor::Token(&p), p.tenant_id, inp).await?;
    let v = persons::view(m, crate::service::visibility(Actor::Token(&p)), None);
    Ok((StatusCode::CREATED, Json(person_out(v))).into_response())
}

async fn read(p: &Principal, st: &AppState, id: i64) -> Result<PersonOut, ApiError> {
    let (v, history) = persons::read_person(&st.db.conn, Actor::Token(p), p.tenant_id, id).await?;
    let mut out = person_out(v);
    out.history = Some(history.into_iter().map(place_out).collect());
    Ok(out)
}

/// A person's record with every stay; the read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/refugees/persons/{id}",
    tag = "refugees",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Person id")),
    responses(
        (status = 200, description = "The person", body = PersonOut),
        (status = 400, description = "Malformed path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No read permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_person(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PersonOut>, ApiError> {
    Ok(Json(read(&p, &st, id).await?))
}

/// Changes a person (permission `refugees.edit`; residence data also
/// `refugees.read_residence`). Absent fields stay as stored; the change is audited with the
/// names of the changed fields.
#[utoipa::path(
    patch,
    path = "/api/v1/refugees/persons/{id}",
    tag = "refugees",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Person id")),
    request_body = PersonIn,
    responses(
        (status = 200, description = "The changed person", body = PersonOut),
        (status = 400, description = "Unreadable body or path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person was anonymised after the deletion period", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn patch_person(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<PersonIn>,
) -> Result<Json<PersonOut>, ApiError> {
    let inp = person_input(b)?;
    let m = persons::update_person(&st.db.conn, Actor::Token(&p), p.tenant_id, id, inp).await?;
    let v = persons::view(m, crate::service::visibility(Actor::Token(&p)), None);
    Ok(Json(person_out(v)))
}

// ---------------------------------------------------------------- occupancy

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupancyIn {
    pub person_id: i64,
    pub bed_id: i64,
    /// Check-in day, `YYYY-MM-DD` (also in the future).
    pub from: String,
    /// Move-out day (exclusive: the bed is free again that day), `YYYY-MM-DD`.
    pub until: Option<String>,
}

/// Checks a person into a bed for `from`..`until`; 409 when the bed is taken (or the person
/// housed elsewhere, or the room closed) on any of those days.
#[utoipa::path(
    post,
    path = "/api/v1/refugees/occupancies",
    tag = "refugees",
    security(("bearer" = [])),
    request_body = OccupancyIn,
    responses(
        (status = 201, description = "Checked in", body = PlaceOut),
        (status = 400, description = "Unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission refugees.edit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown person or bed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bed is taken on one of the days", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_occupancy(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<OccupancyIn>,
) -> Result<Response, ApiError> {
    let mut errs = FieldErrors::new();
    let from = crate::service::parse_date(&mut errs, "from", &b.from);
    if b.from.trim().is_empty() {
        errs.add("from", "err.required");
    }
    let until = date(&mut errs, "until", &b.until);
    errs.into_result()?;
    let Some(from) = from else {
        return Err(invalid("from", "err.required"));
    };
    let o = check_in(
        &st.db.conn,
        Actor::Token(&p),
        p.tenant_id,
        CheckIn {
            person_id: b.person_id,
            bed_id: b.bed_id,
            from,
            until,
        },
    )
    .await?;
    let (v, _) = persons::read_person(&st.db.conn, Actor::Token(&p), p.tenant_id, o.person_id)
        .await
        .map_err(ApiError)?;
    let place = persons::Place {
        occupancy_id: o.id,
        accommodation_id: o.accommodation_id,
        room_id: o.room_id,
        bed_id: o.bed_id,
        starts_on: o.starts_on,
        ends_on: o.ends_on,
        ..v.place.unwrap_or_default()
    };
    Ok((StatusCode::CREATED, Json(place_out(place))).into_response())
}

// ---------------------------------------------------------------- statistics

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM` (default this month).
    pub month: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Statistics {
    /// `YYYY-MM`.
    pub month: String,
    /// Persons housed on the month's last day.
    pub housed: i64,
    pub capacity: i64,
    pub arrivals: u64,
    pub departures: u64,
    pub allocations: u64,
    /// Status code → persons (only with `refugees.read_residence`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_status: Option<std::collections::BTreeMap<String, i64>>,
    /// Nationality → persons (with social or residence read permission).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_nationality: Option<std::collections::BTreeMap<String, i64>>,
}

/// Monthly figures for the state's reporting and the council.
#[utoipa::path(
    get,
    path = "/api/v1/refugees/statistics",
    tag = "refugees",
    security(("bearer" = [])),
    params(MonthQuery),
    responses(
        (status = 200, description = "The month's figures", body = Statistics),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No read permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid month", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn statistics(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> Result<Json<Statistics>, ApiError> {
    let month = match q.month.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => today(),
        Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| invalid("month", "refugees.err.month"))?,
    };
    let m = stats::monthly(&st.db.conn, Actor::Token(&p), p.tenant_id, month).await?;
    Ok(Json(Statistics {
        month: m.month.format("%Y-%m").to_string(),
        housed: m.housed,
        capacity: m.capacity,
        arrivals: m.arrivals,
        departures: m.departures,
        allocations: m.allocations,
        by_status: m.by_status,
        by_nationality: m.by_nationality,
    }))
}
