//! The knowledge JSON API under /api/v1/knowledge: handbooks, pages with versions and
//! optimistic locking (409 on a stale `base_version`), search, onboardings and tasks.
//! Bearer token required; every error is an RFC 9457 problem document.

use crate::domain::comments::Target;
use crate::permissions::{EDIT, MANAGE, ONBOARDING, READ};
use crate::service::{self, comments, onboarding};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rathaus_core::Error;
use rathaus_core::validation::FieldErrors;
use rathaus_store::uow::Actor;
use rathaus_web::api::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, Problem};
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::{Access, AppState, Routes};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

const READERS: Access = Access::AnyOf(&[READ, EDIT, MANAGE]);

pub(crate) fn routes() -> Routes {
    Routes::new()
        .api(READERS, routes!(list_handbooks, create_handbook))
        .api(READERS, routes!(list_pages, create_page))
        .api(READERS, routes!(get_page, save_page))
        .api(READERS, routes!(page_versions))
        .api(READERS, routes!(search))
        .api(Access::AnyOf(&[ONBOARDING]), routes!(start_onboarding))
        .api(Access::AnyOf(&[READ, ONBOARDING]), routes!(patch_task))
        .api(READERS, routes!(page_comments, comment_page))
        .api(
            Access::AnyOf(&[READ, ONBOARDING]),
            routes!(task_comments, comment_task),
        )
        .api(
            Access::AnyOf(&[READ, EDIT, MANAGE, ONBOARDING]),
            routes!(delete_comment),
        )
}

fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// A department given by id or by name.
#[derive(Deserialize, ToSchema, Clone)]
#[serde(untagged)]
pub enum DepartmentRef {
    Id(i64),
    Name(String),
}

async fn department_id(
    st: &AppState,
    p: &rathaus_core::Principal,
    d: Option<DepartmentRef>,
) -> Result<Option<i64>, Error> {
    let Some(d) = d else { return Ok(None) };
    let depts = rathaus_store::accounts::list_departments(&st.db.conn, p.tenant_id).await?;
    let found = match &d {
        DepartmentRef::Id(id) => depts.iter().find(|x| x.id == *id),
        DepartmentRef::Name(n) => depts.iter().find(|x| x.name.eq_ignore_ascii_case(n.trim())),
    };
    found
        .map(|x| Some(x.id))
        .ok_or_else(|| FieldErrors::single("department", "err.invalid_choice"))
}

// ---------------------------------------------------------------- handbooks

#[derive(Serialize, ToSchema)]
pub struct HandbookOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub department_id: Option<i64>,
    pub department: Option<String>,
    /// `all`, `department` or `roles`.
    pub visibility: String,
    pub role_ids: Vec<i64>,
    pub pages: u64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHandbook {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Department id or name; required for `visibility = department`.
    pub department: Option<DepartmentRef>,
    /// `all` (default, every reader), `department` or `roles`.
    pub visibility: Option<String>,
    /// For `visibility = roles`: ids of the roles that may read it.
    #[serde(default)]
    pub role_ids: Vec<i64>,
}

/// The handbooks the caller may read.
#[utoipa::path(get, path = "/api/v1/knowledge/handbooks", tag = "knowledge", security(("bearer" = [])),
    responses(
        (status = 200, description = "Handbooks by title", body = [HandbookOut]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_handbooks(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<HandbookOut>>, ApiError> {
    let list = service::list_handbooks(&st.db.conn, Actor::Token(&p)).await?;
    Ok(Json(
        list.into_iter()
            .map(|r| HandbookOut {
                id: r.h.id,
                role_ids: crate::domain::parse_ids(&r.h.role_ids),
                title: r.h.title,
                description: r.h.description,
                department_id: r.h.department_id,
                department: r.department,
                visibility: r.h.visibility,
                pages: r.pages,
            })
            .collect(),
    ))
}

/// Creates a handbook (`knowledge.manage`).
#[utoipa::path(post, path = "/api/v1/knowledge/handbooks", tag = "knowledge", security(("bearer" = [])),
    request_body = NewHandbook,
    responses(
        (status = 201, description = "Created", body = HandbookOut),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Request too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_handbook(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewHandbook>,
) -> Result<Response, ApiError> {
    let department_id = department_id(&st, &p, b.department).await?;
    let h = service::create_handbook(
        &st.db.conn,
        Actor::Token(&p),
        service::HandbookInput {
            title: b.title,
            description: b.description,
            department_id,
            visibility: b.visibility.unwrap_or_else(|| "all".into()),
            role_ids: b.role_ids,
        },
    )
    .await?;
    Ok(created(
        format!("/wissen/handbuecher/{}", h.id),
        HandbookOut {
            id: h.id,
            role_ids: crate::domain::parse_ids(&h.role_ids),
            title: h.title,
            description: h.description,
            department_id: h.department_id,
            department: None,
            visibility: h.visibility,
            pages: 0,
        },
    ))
}

// ---------------------------------------------------------------- pages

#[derive(Serialize, ToSchema)]
pub struct PageSummary {
    pub id: i64,
    pub handbook_id: i64,
    pub title: String,
    pub version: i32,
    pub draft: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct PageOut {
    pub id: i64,
    pub handbook_id: i64,
    pub chapter_id: Option<i64>,
    pub title: String,
    pub body_markdown: String,
    /// Rendered and sanitized HTML.
    pub html: String,
    pub version: i32,
    /// The version readers confirm (raised by a major change).
    pub major_version: i32,
    pub draft: bool,
    pub requires_confirmation: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub review_due: Option<DateTime<Utc>>,
    pub outdated: bool,
    /// Ids of linked pages that are deleted or unknown.
    pub broken_links: Vec<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagesQuery {
    /// Only pages of this handbook.
    pub handbook_id: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPage {
    pub handbook_id: i64,
    pub chapter_id: Option<i64>,
    pub title: String,
    /// Markdown, at most 1 MB. Link other pages by id: `[[seite:42]]` or `[Text](seite:42)`.
    pub body_markdown: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub requires_confirmation: bool,
    /// Days between reviews (1–1826).
    pub review_days: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
    pub version: i32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageUpdate {
    /// The version this edit started from; a newer one on the server answers 409.
    pub base_version: i32,
    pub title: String,
    pub body_markdown: String,
    #[serde(default)]
    pub note: String,
    /// A major change: readers are asked to confirm again.
    #[serde(default)]
    pub major: bool,
}

#[derive(Serialize, ToSchema)]
pub struct VersionOut {
    pub version: i32,
    pub title: String,
    pub note: String,
    pub major: bool,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

/// Pages the caller may read (a handbook's, or all), by title, at most 1,000.
#[utoipa::path(get, path = "/api/v1/knowledge/pages", tag = "knowledge", security(("bearer" = [])),
    params(PagesQuery),
    responses(
        (status = 200, description = "Pages", body = [PageSummary]),
        (status = 400, description = "Unreadable query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such handbook", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_pages(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<PagesQuery>,
) -> Result<Json<Vec<PageSummary>>, ApiError> {
    let ids: Vec<i64> = match q.handbook_id {
        Some(h) => vec![h],
        None => service::list_handbooks(&st.db.conn, Actor::Token(&p))
            .await?
            .into_iter()
            .map(|r| r.h.id)
            .collect(),
    };
    let mut out = vec![];
    for h in ids {
        let v = service::handbook(&st.db.conn, Actor::Token(&p), h).await?;
        out.extend(v.pages.into_iter().map(|r| PageSummary {
            id: r.id,
            handbook_id: h,
            title: r.title,
            version: r.version,
            draft: r.draft,
            updated_at: r.updated_at,
        }));
        if out.len() >= 1000 {
            out.truncate(1000);
            break;
        }
    }
    Ok(Json(out))
}

/// Creates a page with its first version (`knowledge.edit`).
#[utoipa::path(post, path = "/api/v1/knowledge/pages", tag = "knowledge", security(("bearer" = [])),
    request_body = NewPage,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Request too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (also a body over 1 MB)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_page(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewPage>,
) -> Result<Response, ApiError> {
    let pg = service::create_page(
        &st.db.conn,
        Actor::Token(&p),
        service::PageInput {
            handbook_id: b.handbook_id,
            chapter_id: b.chapter_id,
            title: b.title,
            body: b.body_markdown,
            note: b.note,
            draft: b.draft,
            requires_confirmation: b.requires_confirmation,
            owner_user_id: None,
            owner_role_id: None,
            review_days: b.review_days,
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/knowledge/pages/{}", pg.id),
        Created {
            id: pg.id,
            version: pg.version,
        },
    ))
}

async fn page_out(st: &AppState, p: &rathaus_core::Principal, id: i64) -> Result<PageOut, Error> {
    let t = catalog(Lang::De);
    let v = service::page_view(
        &st.db.conn,
        Actor::Token(p),
        id,
        t.get("knowledge.page.deleted_link"),
    )
    .await?;
    Ok(PageOut {
        id: v.page.id,
        handbook_id: v.page.handbook_id,
        chapter_id: v.page.chapter_id,
        title: v.page.title,
        body_markdown: v.page.body,
        html: v.html,
        version: v.page.version,
        major_version: v.page.major_version,
        draft: v.page.draft,
        requires_confirmation: v.page.requires_confirmation,
        updated_at: v.page.updated_at,
        updated_by: v.page.updated_by,
        review_due: v.review_due,
        outdated: v.outdated,
        broken_links: v.broken_links,
    })
}

/// One page: Markdown, rendered HTML and version.
#[utoipa::path(get, path = "/api/v1/knowledge/pages/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Page id")),
    responses(
        (status = 200, description = "The page", body = PageOut),
        (status = 400, description = "Unreadable id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page (or not readable)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_page(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PageOut>, ApiError> {
    Ok(Json(page_out(&st, &p, id).await?))
}

/// Saves a new version made from `base_version` (`knowledge.edit`); 409 when someone saved
/// meanwhile (nothing is written; fetch the page, merge, and save again).
#[utoipa::path(put, path = "/api/v1/knowledge/pages/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Page id")),
    request_body = PageUpdate,
    responses(
        (status = 200, description = "Saved", body = PageOut),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Saved by someone else since base_version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Request too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn save_page(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<PageUpdate>,
) -> Result<Json<PageOut>, ApiError> {
    service::save_page(
        &st.db.conn,
        Actor::Token(&p),
        id,
        service::SaveInput {
            base_version: b.base_version,
            title: b.title,
            body: b.body_markdown,
            note: b.note,
            major: b.major,
            settings: None,
        },
    )
    .await?;
    Ok(Json(page_out(&st, &p, id).await?))
}

/// The versions of a page, newest first.
#[utoipa::path(get, path = "/api/v1/knowledge/pages/{id}/versions", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Page id")),
    responses(
        (status = 200, description = "Versions", body = [VersionOut]),
        (status = 400, description = "Unreadable id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
    ))]
async fn page_versions(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<VersionOut>>, ApiError> {
    let list = service::versions(&st.db.conn, Actor::Token(&p), id).await?;
    Ok(Json(
        list.into_iter()
            .map(|v| VersionOut {
                version: v.version,
                title: v.title,
                note: v.note,
                major: v.major,
                author: v.author_name,
                created_at: v.created_at,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------- search

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (German stemming).
    #[serde(default)]
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHit {
    pub id: i64,
    pub url: String,
    /// Escaped HTML, query words in `<b>`.
    pub title_html: String,
    pub snippet_html: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchOut {
    pub total: usize,
    pub hits: Vec<SearchHit>,
}

/// Pages the caller may read that match `q` (at most 50).
#[utoipa::path(get, path = "/api/v1/knowledge/search", tag = "knowledge", security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Hits, best first", body = SearchOut),
        (status = 400, description = "Unreadable query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
    ))]
async fn search(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<SearchOut>, ApiError> {
    let r =
        service::search::search(&st.db.conn, st.search.clone(), Actor::Token(&p), &q.q, 50).await?;
    Ok(Json(SearchOut {
        total: r.total,
        hits: r
            .hits
            .into_iter()
            .map(|h| SearchHit {
                id: h.id,
                url: h.url,
                title_html: h.title_html,
                snippet_html: h.snippet_html,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------- onboarding

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOnboarding {
    pub name: String,
    /// The first working day, e.g. `2027-03-01`; up to a year in the past (answered with
    /// `past: true`) or the future.
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    /// Department id or name.
    pub department: DepartmentRef,
    /// Without it, the department's default template.
    pub template_id: Option<i64>,
    /// The new colleague's staff account, when it exists.
    pub user_id: Option<i64>,
    /// `onboarding` (default; `start_date` is the first working day) or `offboarding` (a
    /// leaving colleague; `start_date` is the last working day). Picks the department's
    /// default template of that kind when no template is given.
    #[serde(default)]
    pub kind: Option<KindIn>,
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum KindIn {
    Onboarding,
    Offboarding,
}

#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub title: String,
    /// The responsible person or role.
    pub owner: String,
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
    pub done: bool,
    pub page_id: Option<i64>,
}

impl From<onboarding::Task> for TaskOut {
    fn from(t: onboarding::Task) -> Self {
        TaskOut {
            id: t.id,
            title: t.title,
            owner: t.owner_label,
            due_date: t.due_date,
            done: t.done_at.is_some(),
            page_id: t.page_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OnboardingOut {
    pub id: i64,
    pub name: String,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    pub department_id: i64,
    pub template_id: i64,
    /// `onboarding` or `offboarding` (from the template).
    pub kind: String,
    /// The start date lies in the past: tasks already due are overdue.
    pub past: bool,
    pub tasks: Vec<TaskOut>,
}

/// Starts an onboarding from a template (`knowledge.onboarding`).
#[utoipa::path(post, path = "/api/v1/knowledge/onboardings", tag = "knowledge", security(("bearer" = [])),
    request_body = NewOnboarding,
    responses(
        (status = 201, description = "Started, with its tasks", body = OnboardingOut),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Request too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn start_onboarding(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewOnboarding>,
) -> Result<Response, ApiError> {
    let department_id = department_id(&st, &p, Some(b.department))
        .await?
        .ok_or_else(|| FieldErrors::single("department", "err.invalid_choice"))?;
    let s = onboarding::start(
        &st.db.conn,
        Actor::Token(&p),
        onboarding::OnboardingInput {
            name: b.name,
            start_date: b.start_date,
            department_id,
            template_id: b.template_id,
            user_id: b.user_id,
            kind: match b.kind {
                Some(KindIn::Offboarding) => crate::domain::ChecklistKind::Offboarding,
                _ => crate::domain::ChecklistKind::Onboarding,
            },
        },
        onboarding::today(),
    )
    .await?;
    Ok(created(
        format!("/wissen/einarbeitung/{}", s.onboarding.id),
        OnboardingOut {
            id: s.onboarding.id,
            name: s.onboarding.name,
            start_date: s.onboarding.start_date,
            department_id: s.onboarding.department_id,
            template_id: s.onboarding.template_id,
            kind: s.onboarding.kind,
            past: s.past,
            tasks: s.tasks.into_iter().map(TaskOut::from).collect(),
        },
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    pub done: bool,
}

/// Marks a task done or open (its owner, the new colleague, or `knowledge.onboarding`).
#[utoipa::path(patch, path = "/api/v1/knowledge/tasks/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    request_body = TaskPatch,
    responses(
        (status = 200, description = "The task", body = TaskOut),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Request too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn patch_task(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TaskPatch>,
) -> Result<Json<TaskOut>, ApiError> {
    let t = onboarding::set_done(&st.db.conn, Actor::Token(&p), id, b.done).await?;
    Ok(Json(t.into()))
}

// ---------------------------------------------------------------- comments

#[derive(Serialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub author: String,
    /// None when the author's account is gone.
    pub author_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub body_markdown: String,
    /// Rendered and sanitized HTML.
    pub html: String,
    /// The caller may delete it (its author, a knowledge manager; on tasks also HR).
    pub may_delete: bool,
}

impl From<comments::CommentView> for CommentOut {
    fn from(c: comments::CommentView) -> Self {
        CommentOut {
            id: c.id,
            author: c.author,
            author_id: c.author_id,
            created_at: c.at,
            body_markdown: c.body,
            html: c.html,
            may_delete: c.may_delete,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Markdown, 1 to 5,000 characters. `@` followed by a colleague's e-mail address
    /// (`@anna.admin@beispielstadt.de`) mails them, when they may read the page or task.
    pub body_markdown: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedComment {
    pub id: i64,
    /// Ids of the colleagues the mentions notified by mail.
    pub notified: Vec<i64>,
}

async fn list_comments(
    st: &AppState,
    p: &rathaus_core::Principal,
    target: Target,
) -> Result<Json<Vec<CommentOut>>, ApiError> {
    let list = comments::list(&st.db.conn, Actor::Token(p), target).await?;
    Ok(Json(list.into_iter().map(CommentOut::from).collect()))
}

async fn add_comment(
    st: &AppState,
    p: &rathaus_core::Principal,
    target: Target,
    body: &str,
) -> Result<Response, ApiError> {
    let a = comments::add(&st.db.conn, Actor::Token(p), target, body).await?;
    Ok(created(
        format!("{}#kommentar-{}", target.path(), a.comment.id),
        CreatedComment {
            id: a.comment.id,
            notified: a.notified,
        },
    ))
}

/// The comments on a page, oldest first.
#[utoipa::path(get, path = "/api/v1/knowledge/pages/{id}/comments", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Page id")),
    responses(
        (status = 200, description = "Comments", body = [CommentOut]),
        (status = 400, description = "Unreadable id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page (or not readable)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn page_comments(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<CommentOut>>, ApiError> {
    list_comments(&st, &p, Target::Page(id)).await
}

/// Comments on a page the caller may read; mentions are mailed.
#[utoipa::path(post, path = "/api/v1/knowledge/pages/{id}/comments", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Page id")),
    request_body = NewComment,
    responses(
        (status = 201, description = "Stored", body = CreatedComment),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page (or not readable)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Request too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn comment_page(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NewComment>,
) -> Result<Response, ApiError> {
    add_comment(&st, &p, Target::Page(id), &b.body_markdown).await
}

/// The comments on a checklist task, oldest first.
#[utoipa::path(get, path = "/api/v1/knowledge/tasks/{id}/comments", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Comments", body = [CommentOut]),
        (status = 400, description = "Unreadable id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task (or not the caller's)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn task_comments(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<CommentOut>>, ApiError> {
    list_comments(&st, &p, Target::Task(id)).await
}

/// Comments on a checklist task the caller sees (owner, the new colleague, HR); mentions
/// are mailed.
#[utoipa::path(post, path = "/api/v1/knowledge/tasks/{id}/comments", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    request_body = NewComment,
    responses(
        (status = 201, description = "Stored", body = CreatedComment),
        (status = 400, description = "Unreadable request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacking permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Request too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn comment_task(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NewComment>,
) -> Result<Response, ApiError> {
    add_comment(&st, &p, Target::Task(id), &b.body_markdown).await
}

/// Deletes a comment (its author, a knowledge manager; on tasks also HR).
#[utoipa::path(delete, path = "/api/v1/knowledge/comments/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Unreadable id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the caller's comment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment (or not readable)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_comment(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    comments::delete(&st.db.conn, Actor::Token(&p), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
