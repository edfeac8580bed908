//! The JSON API under /api/v1/programme: measures, moves, the board, concerns, meetings.
//! Bearer token required (`ApiUser`); every error is an RFC 9457 problem document.

use crate::permissions::{COORDINATE, EDIT, READ};
use crate::service::concerns::{self, ConcernInput, ConcernPatch};
use crate::service::measures::{self, Filter, MeasureInput, Sort};
use crate::service::moves::{self, MoveInput};
use crate::service::{self, Concern, Measure, MeetingItem, Phase, meetings};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};

use rathaus_core::validation::FieldErrors;
use rathaus_store::uow::Actor;
use rathaus_web::api::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, Problem};
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::{Access, AppState, Routes};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

// ---------------------------------------------------------------- types

/// A measure (a card on the board).
#[derive(Serialize, ToSchema)]
pub struct MeasureOut {
    pub id: i64,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub source: String,
    pub department: String,
    pub departments: String,
    /// `citizen_services`, `internal_processes`, `infrastructure`, `smart_city` or `ozg`.
    pub category: String,
    /// `small`, `medium` or `large`.
    pub size: String,
    /// 1–5.
    pub benefit: i32,
    /// 1–5.
    pub effort: i32,
    /// `benefit × (6 − effort)`, 1–25.
    pub priority: i32,
    pub responsible_id: Option<i64>,
    pub responsible_name: String,
    pub planned_start: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub funding: String,
    pub links: String,
    pub tags: String,
    pub module_link: String,
    /// The key of its phase (`geplant`).
    pub phase: String,
    /// Its place within the phase (smaller is higher).
    pub position: i64,
    /// Rises with every change; send it with a move or change to be told of a conflict.
    pub version: i32,
    pub phase_since: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MeasureOut {
    fn new(m: Measure, phases: &[Phase]) -> Self {
        let phase = measures::phase_of(phases, m.phase_id)
            .map(|p| p.key.clone())
            .unwrap_or_default();
        MeasureOut {
            id: m.id,
            title: m.title,
            description: m.description,
            source: m.source,
            department: m.department,
            departments: m.departments,
            category: m.category,
            size: m.size,
            benefit: m.benefit,
            effort: m.effort,
            priority: m.priority,
            responsible_id: m.responsible_id,
            responsible_name: m.responsible_name,
            planned_start: m.planned_start,
            due: m.due,
            funding: m.funding,
            links: m.links,
            tags: m.tags,
            module_link: m.module_link,
            phase,
            position: m.position,
            version: m.version,
            phase_since: m.phase_since,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new measure; it starts in the first phase.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasure {
    pub title: String,
    pub department: String,
    pub description: Option<String>,
    pub category: Option<String>,
    /// 1–5 (default 3).
    pub benefit: Option<i32>,
    /// 1–5 (default 3).
    pub effort: Option<i32>,
    pub size: Option<String>,
    pub source: Option<String>,
    pub responsible_id: Option<i64>,
    pub planned_start: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub funding: Option<String>,
    pub tags: Option<String>,
}

/// A change of a measure: only the fields sent change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurePatch {
    pub title: Option<String>,
    pub department: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub benefit: Option<i32>,
    pub effort: Option<i32>,
    pub size: Option<String>,
    pub source: Option<String>,
    pub responsible_id: Option<i64>,
    pub planned_start: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub funding: Option<String>,
    pub tags: Option<String>,
    /// The version the change was made against: a 409 when it changed meanwhile.
    pub version: Option<i32>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Phase key, e.g. `geplant`.
    pub phase: Option<String>,
    pub department: Option<String>,
    /// Page, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Items per page, 1–500 (default 100).
    pub per_page: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct MeasurePage {
    pub items: Vec<MeasureOut>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// Where to move a card.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The target phase's key.
    pub phase: String,
    /// The card it goes before; omitted: the end of the phase.
    pub before_id: Option<i64>,
    /// The card's version the client saw: a 409 when it was moved meanwhile.
    pub version: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct MovedOut {
    pub card: MeasureOut,
    /// Moved beyond the WIP limit of a phase that only warns.
    pub warning: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CardOut {
    pub id: i64,
    pub title: String,
    pub department: String,
    pub priority: i32,
    pub responsible_name: String,
    pub due: Option<NaiveDate>,
    pub version: i32,
    pub open_concerns: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ColumnOut {
    pub key: String,
    pub name: String,
    pub wip_limit: Option<i32>,
    pub wip_warn_only: bool,
    pub cards: Vec<CardOut>,
}

#[derive(Serialize, ToSchema)]
pub struct BoardOut {
    pub phases: Vec<ColumnOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConcern {
    /// At most 10,000 characters.
    pub text: String,
    /// `concern`, `resistance`, `risk` or `idea`.
    pub kind: String,
    pub measure_id: Option<i64>,
    /// Who raised it is shown only to the coordinator.
    #[serde(default)]
    pub anonymous: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcernChange {
    /// `open`, `addressed` or `resolved`.
    pub status: Option<String>,
    pub response: Option<String>,
    pub kind: Option<String>,
    pub text: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConcernOut {
    pub id: i64,
    pub measure_id: Option<i64>,
    pub kind: String,
    pub text: String,
    /// Empty for an anonymous concern unless the caller coordinates.
    pub raised_by_name: String,
    pub anonymous: bool,
    pub status: String,
    pub response: String,
    pub created_at: DateTime<Utc>,
}

impl From<Concern> for ConcernOut {
    fn from(c: Concern) -> Self {
        ConcernOut {
            id: c.id,
            measure_id: c.measure_id,
            kind: c.kind,
            text: c.text,
            raised_by_name: c.raised_by_name,
            anonymous: c.anonymous,
            status: c.status,
            response: c.response,
            created_at: c.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    /// `YYYY-MM-DD`; one meeting per day.
    pub date: String,
    pub place: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgendaItemOut {
    pub id: i64,
    /// `moved`, `new`, `overdue`, `decision`, `concern` or `added`.
    pub kind: String,
    pub title: String,
    pub measure_id: Option<i64>,
    pub concern_id: Option<i64>,
    /// Markdown.
    pub minutes: String,
}

impl From<MeetingItem> for AgendaItemOut {
    fn from(i: MeetingItem) -> Self {
        AgendaItemOut {
            id: i.id,
            kind: i.kind,
            title: i.title,
            measure_id: i.measure_id,
            concern_id: i.concern_id,
            minutes: i.minutes,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeetingOut {
    pub id: i64,
    pub date: NaiveDate,
    pub place: String,
    /// The agenda covers the changes after this instant.
    pub since: DateTime<Utc>,
    pub agenda: Vec<AgendaItemOut>,
    /// Markdown.
    pub minutes: String,
    pub attendance: String,
}

fn meeting_out(m: service::Meeting, items: Vec<MeetingItem>) -> MeetingOut {
    MeetingOut {
        id: m.id,
        date: m.date,
        place: m.place,
        since: m.since,
        agenda: items.into_iter().map(Into::into).collect(),
        minutes: m.minutes,
        attendance: m.attendance,
    }
}

fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

// ---------------------------------------------------------------- handlers

/// Adds a measure to the catalogue (permission `programme.edit`); it starts in the first phase.
#[utoipa::path(
    post,
    path = "/api/v1/programme/measures",
    tag = "programme",
    security(("bearer" = [])),
    request_body = NewMeasure,
    responses(
        (status = 201, description = "Created", body = MeasureOut),
        (status = 400, description = "Unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.edit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (e.g. scores outside 1–5)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_measure(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewMeasure>,
) -> Result<Response, ApiError> {
    let inp = MeasureInput {
        title: b.title,
        department: b.department,
        description: b.description.unwrap_or_default(),
        category: b.category.unwrap_or_default(),
        benefit: b.benefit.map(|v| v.to_string()).unwrap_or_default(),
        effort: b.effort.map(|v| v.to_string()).unwrap_or_default(),
        size: b.size.unwrap_or_default(),
        source: b.source.unwrap_or_default(),
        responsible_id: b.responsible_id.map(|v| v.to_string()).unwrap_or_default(),
        planned_start: opt_date(b.planned_start),
        due: opt_date(b.due),
        funding: b.funding.unwrap_or_default(),
        tags: b.tags.unwrap_or_default(),
        ..Default::default()
    };
    let by = Actor::Token(&p);
    let (m, first) = measures::create(&st.db.conn, Some(&st.live), by, p.tenant_id, &inp).await?;
    Ok(created(
        format!("/api/v1/programme/measures/{}", m.id),
        MeasureOut::new(m, &[first]),
    ))
}

/// Measures of the catalogue by priority, filtered by phase and department, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/programme/measures",
    tag = "programme",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of measures", body = MeasurePage),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown phase or page size outside 1–500", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_measures(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<MeasurePage>, ApiError> {
    let by = Actor::Token(&p);
    let phases = service::phases(&st.db.conn, by, p.tenant_id).await?;
    let mut f = Filter {
        department: q.department.clone(),
        ..Default::default()
    };
    if let Some(k) = q.phase.as_deref().filter(|k| !k.is_empty()) {
        let ph = phases
            .iter()
            .find(|p| p.key == k)
            .ok_or_else(|| FieldErrors::single("phase", "programme.err.unknown_phase"))?;
        f.phase_id = Some(ph.id);
    }
    let mut errs = FieldErrors::new();
    let per_page = errs.in_range(
        "per_page",
        q.per_page.unwrap_or(measures::PAGE_SIZE),
        1..=500,
    );
    let page = errs.in_range("page", q.page.unwrap_or(1), 1..=1_000_000);
    errs.into_result()?;
    let (rows, total) = measures::list(
        &st.db.conn,
        by,
        p.tenant_id,
        &f,
        Sort::Priority,
        page - 1,
        per_page,
    )
    .await?;
    Ok(Json(MeasurePage {
        items: rows
            .into_iter()
            .map(|m| MeasureOut::new(m, &phases))
            .collect(),
        total,
        page,
        per_page,
    }))
}

/// One measure.
#[utoipa::path(
    get,
    path = "/api/v1/programme/measures/{id}",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Measure id")),
    responses(
        (status = 200, description = "The measure", body = MeasureOut),
        (status = 400, description = "Malformed path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_measure(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MeasureOut>, ApiError> {
    let by = Actor::Token(&p);
    let m = measures::get(&st.db.conn, by, p.tenant_id, id).await?;
    let phases = service::phases(&st.db.conn, by, p.tenant_id).await?;
    Ok(Json(MeasureOut::new(m, &phases)))
}

/// Changes a measure (permission `programme.edit`); only the fields sent change.
#[utoipa::path(
    patch,
    path = "/api/v1/programme/measures/{id}",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Measure id")),
    request_body = MeasurePatch,
    responses(
        (status = 200, description = "The changed measure", body = MeasureOut),
        (status = 400, description = "Malformed path or body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.edit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile (version)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn patch_measure(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MeasurePatch>,
) -> Result<Json<MeasureOut>, ApiError> {
    let by = Actor::Token(&p);
    let old = measures::get(&st.db.conn, by, p.tenant_id, id).await?;
    let mut inp = MeasureInput::of(&old);
    let set = |v: Option<String>, to: &mut String| {
        if let Some(v) = v {
            *to = v;
        }
    };
    set(b.title, &mut inp.title);
    set(b.department, &mut inp.department);
    set(b.description, &mut inp.description);
    set(b.category, &mut inp.category);
    set(b.size, &mut inp.size);
    set(b.source, &mut inp.source);
    set(b.funding, &mut inp.funding);
    set(b.tags, &mut inp.tags);
    set(b.benefit.map(|v| v.to_string()), &mut inp.benefit);
    set(b.effort.map(|v| v.to_string()), &mut inp.effort);
    set(
        b.responsible_id.map(|v| v.to_string()),
        &mut inp.responsible_id,
    );
    set(
        b.planned_start.map(|d| d.to_string()),
        &mut inp.planned_start,
    );
    set(b.due.map(|d| d.to_string()), &mut inp.due);
    let m = measures::update(
        &st.db.conn,
        Some(&st.live),
        by,
        p.tenant_id,
        id,
        &inp,
        b.version,
    )
    .await?;
    let phases = service::phases(&st.db.conn, by, p.tenant_id).await?;
    Ok(Json(MeasureOut::new(m, &phases)))
}

/// Moves a card to a phase, before another card or to the end (permission `programme.edit`).
#[utoipa::path(
    post,
    path = "/api/v1/programme/measures/{id}/move",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Measure id")),
    request_body = MoveBody,
    responses(
        (status = 200, description = "Moved", body = MovedOut),
        (status = 400, description = "Malformed path or body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.edit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown card (or deleted meanwhile)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by the WIP limit, or the card was moved meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown phase or before_id", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn move_measure(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MoveBody>,
) -> Result<Json<MovedOut>, ApiError> {
    let inp = MoveInput {
        phase: b.phase,
        before_id: b.before_id,
        version: b.version,
    };
    let m = moves::move_card(
        &st.db.conn,
        Some(&st.live),
        Actor::Token(&p),
        p.tenant_id,
        id,
        &inp,
    )
    .await?;
    let phase = m.phase.clone();
    Ok(Json(MovedOut {
        card: MeasureOut::new(m.card, &[phase]),
        warning: m.warning,
    }))
}

/// The board: phases in order, each with its WIP limit and its cards in order.
#[utoipa::path(
    get,
    path = "/api/v1/programme/board",
    tag = "programme",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The board", body = BoardOut),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.read", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn board(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<BoardOut>, ApiError> {
    let by = Actor::Token(&p);
    let phases = service::phases(&st.db.conn, by, p.tenant_id).await?;
    let cards = measures::cards(&st.db.conn, by, p.tenant_id, &Filter::default()).await?;
    let open = measures::open_concern_counts(&st.db.conn, by, p.tenant_id).await?;
    let t = catalog(Lang::De);
    let mut cols: Vec<ColumnOut> = phases
        .iter()
        .map(|ph| ColumnOut {
            key: ph.key.clone(),
            name: service::phase_name(t, ph),
            wip_limit: ph.wip_limit,
            wip_warn_only: ph.wip_warn_only,
            cards: vec![],
        })
        .collect();
    for c in cards {
        if let Some(i) = phases.iter().position(|ph| ph.id == c.phase_id) {
            cols[i].cards.push(CardOut {
                open_concerns: open.get(&c.id).copied().unwrap_or(0),
                id: c.id,
                title: c.title,
                department: c.department,
                priority: c.priority,
                responsible_name: c.responsible_name,
                due: c.due,
                version: c.version,
            });
        }
    }
    Ok(Json(BoardOut { phases: cols }))
}

/// Records a concern, resistance, risk or idea (permission `programme.edit`).
#[utoipa::path(
    post,
    path = "/api/v1/programme/concerns",
    tag = "programme",
    security(("bearer" = [])),
    request_body = NewConcern,
    responses(
        (status = 201, description = "Recorded", body = ConcernOut),
        (status = 400, description = "Unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.edit", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (text too long, unknown kind or measure)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_concern(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewConcern>,
) -> Result<Response, ApiError> {
    let inp = ConcernInput {
        text: b.text,
        kind: b.kind,
        measure_id: b.measure_id,
        anonymous: b.anonymous,
    };
    let by = Actor::Token(&p);
    let c = concerns::create(&st.db.conn, Some(&st.live), by, p.tenant_id, &inp).await?;
    Ok(created(
        format!("/api/v1/programme/concerns/{}", c.id),
        ConcernOut::from(concerns::shown(by, c)),
    ))
}

/// Changes a concern: status, response (the coordinator or whoever raised it).
#[utoipa::path(
    patch,
    path = "/api/v1/programme/concerns/{id}",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Concern id")),
    request_body = ConcernChange,
    responses(
        (status = 200, description = "Changed", body = ConcernOut),
        (status = 400, description = "Malformed path or body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither coordinator nor the one who raised it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn patch_concern(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ConcernChange>,
) -> Result<Json<ConcernOut>, ApiError> {
    let patch = ConcernPatch {
        status: b.status,
        response: b.response,
        kind: b.kind,
        text: b.text,
    };
    let by = Actor::Token(&p);
    let c = concerns::update(&st.db.conn, Some(&st.live), by, p.tenant_id, id, &patch).await?;
    Ok(Json(concerns::shown(by, c).into()))
}

/// Plans a meeting (permission `programme.coordinate`) with its agenda generated from the
/// changes since the previous meeting.
#[utoipa::path(
    post,
    path = "/api/v1/programme/meetings",
    tag = "programme",
    security(("bearer" = [])),
    request_body = NewMeeting,
    responses(
        (status = 201, description = "Planned, with its agenda", body = MeetingOut),
        (status = 400, description = "Unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.coordinate", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date, or a meeting on that date exists", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_meeting(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewMeeting>,
) -> Result<Response, ApiError> {
    let place = b.place.unwrap_or_default();
    let (m, items) =
        meetings::create(&st.db.conn, Actor::Token(&p), p.tenant_id, &b.date, &place).await?;
    Ok(created(
        format!("/api/v1/programme/meetings/{}", m.id),
        meeting_out(m, items),
    ))
}

/// A meeting with its agenda and minutes.
#[utoipa::path(
    get,
    path = "/api/v1/programme/meetings/{id}",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "The meeting", body = MeetingOut),
        (status = 400, description = "Malformed path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission programme.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_meeting(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MeetingOut>, ApiError> {
    let (m, items) = meetings::get(&st.db.conn, Actor::Token(&p), p.tenant_id, id).await?;
    Ok(Json(meeting_out(m, items)))
}

const READERS: Access = Access::AnyOf(&[READ]);
const EDITORS: Access = Access::AnyOf(&[EDIT]);
const COORDINATORS: Access = Access::AnyOf(&[COORDINATE]);

pub(crate) fn routes() -> Routes {
    Routes::new()
        .api(EDITORS, routes!(create_measure))
        .api(READERS, routes!(list_measures))
        .api(READERS, routes!(get_measure))
        .api(EDITORS, routes!(patch_measure))
        .api(EDITORS, routes!(move_measure))
        .api(READERS, routes!(board))
        .api(EDITORS, routes!(create_concern))
        .api(EDITORS, routes!(patch_concern))
        .api(COORDINATORS, routes!(create_meeting))
        .api(READERS, routes!(get_meeting))
}
