//! The staff pages under /wissen: handbooks, pages with editor (textarea and preview
//! button, no JavaScript needed), versions and diffs, the conflict page of a stale save,
//! reviews, search, onboardings and task lists.

mod attach;
mod collab;

use crate::domain::comments::Target;
use crate::permissions::{EDIT, MANAGE, ONBOARDING, READ};
use crate::service::{self, onboarding};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::{DateTime, NaiveDate, Utc};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::accounts;
use rathaus_store::uow::Actor;
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::{Layout, NavItem};
use rathaus_web::pages::layout;
use rathaus_web::{Access, Routes};
use serde::Deserialize;

const READERS: Access = Access::AnyOf(&[READ, EDIT, MANAGE]);
const EDITORS: Access = Access::AnyOf(&[EDIT, MANAGE]);
const MANAGERS: Access = Access::AnyOf(&[MANAGE]);
const HR: Access = Access::AnyOf(&[ONBOARDING]);
const TASKS: Access = Access::AnyOf(&[READ, ONBOARDING]);
/// Who may comment somewhere: readers of pages and the people of checklist tasks.
const COMMENTERS: Access = Access::AnyOf(&[READ, EDIT, MANAGE, ONBOARDING]);

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/wissen",
            label_key: "knowledge.nav",
            any_of: &[READ, EDIT, MANAGE],
        },
        // On the dashboard too: owners and new colleagues find their checklist tasks.
        NavItem {
            href: "/wissen/aufgaben",
            label_key: "knowledge.nav_tasks",
            any_of: &[READ, ONBOARDING],
        },
    ]
}

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/wissen", READERS, index)
        .post("/wissen/handbuecher", MANAGERS, create_handbook)
        .get("/wissen/handbuecher/{id}", READERS, show_handbook)
        .post("/wissen/handbuecher/{id}/kapitel", EDITORS, create_chapter)
        .post(
            "/wissen/handbuecher/{id}/einstellungen",
            MANAGERS,
            update_handbook,
        )
        .get("/wissen/handbuecher/{id}/neue-seite", EDITORS, new_page)
        .post("/wissen/handbuecher/{id}/neue-seite", EDITORS, create_page)
        .get("/wissen/seiten/{id}", READERS, show_page)
        .get("/wissen/seiten/{id}/bearbeiten", EDITORS, edit_page)
        .post("/wissen/seiten/{id}/bearbeiten", EDITORS, save_page)
        .get("/wissen/seiten/{id}/versionen", READERS, versions)
        .get("/wissen/seiten/{id}/vergleich", READERS, compare)
        .post("/wissen/seiten/{id}/wiederherstellen", EDITORS, restore)
        .post("/wissen/seiten/{id}/loeschen", EDITORS, delete)
        .post("/wissen/seiten/{id}/bestaetigen", READERS, confirm)
        .post("/wissen/seiten/{id}/geprueft", READERS, reviewed)
        .get("/wissen/pruefung", READERS, review_list)
        .get("/wissen/suche", READERS, search)
        .get("/wissen/einarbeitung", HR, onboardings)
        .post("/wissen/einarbeitung", HR, start_onboarding)
        .get("/wissen/einarbeitung/{id}", TASKS, show_onboarding)
        .get("/wissen/aufgaben", TASKS, my_tasks)
        .post("/wissen/aufgaben/{id}", TASKS, set_task)
        .get("/wissen/aufgaben/{id}", TASKS, collab::show_task)
        .post(
            "/wissen/seiten/{id}/kommentare",
            READERS,
            collab::comment_page,
        )
        .post(
            "/wissen/aufgaben/{id}/kommentare",
            TASKS,
            collab::comment_task,
        )
        .post(
            "/wissen/kommentare/{id}/loeschen",
            COMMENTERS,
            collab::delete_comment,
        )
        .get(
            "/wissen/handbuecher/{id}/aenderungen",
            READERS,
            collab::changes,
        )
        .post(
            "/wissen/seiten/{id}/anhaenge",
            EDITORS,
            attach::upload.layer(axum::extract::DefaultBodyLimit::max(attach::BODY_LIMIT)),
        )
        .get("/dateien/wissen/{id}", READERS, attach::download)
        .post("/wissen/anhaenge/{id}/loeschen", EDITORS, attach::delete)
}

fn id_of(s: &str) -> Result<i64, Error> {
    s.parse().map_err(|_| Error::NotFound)
}

fn when(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Berlin)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

fn day(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// Markdown headings one level down: the page's title is its only `h1`.
fn demote(html: &str) -> String {
    let mut out = html.to_string();
    for n in (1..=5).rev() {
        out = out
            .replace(&format!("<h{n}"), &format!("<h{}", n + 1))
            .replace(&format!("</h{n}>"), &format!("</h{}>", n + 1));
    }
    out
}

fn titled(st: &AppState, ctx: &Ctx, key: &str, title: String) -> Layout {
    let mut l = layout(st, ctx, key);
    l.title = title;
    l
}

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty() && s != "0")
}

// ---------------------------------------------------------------- index and handbooks

struct HandbookLine {
    id: i64,
    title: String,
    description: String,
    scope: String,
    pages: u64,
}

struct RecentLine {
    id: i64,
    title: String,
    handbook: String,
    when: String,
}

#[derive(Template)]
#[template(path = "knowledge/index.html")]
struct IndexTpl {
    l: Layout,
    rows: Vec<HandbookLine>,
    recent: Vec<RecentLine>,
    manage: bool,
    onboarding: bool,
    errs: FormErrors,
    form_title: String,
    form_description: String,
    departments: Vec<(i64, String, bool)>,
    visibilities: Vec<(&'static str, String, bool)>,
    roles: Vec<(i64, String, bool)>,
}

#[derive(Deserialize, Default)]
struct HandbookForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    role_ids: Vec<String>,
}

fn scope_label(t: &Catalog, visibility: &str, department: Option<&str>) -> String {
    match visibility {
        "department" => t.fmt("knowledge.scope.department", department.unwrap_or("")),
        "roles" => t.get("knowledge.scope.roles").to_string(),
        _ => t.get("knowledge.scope.all").to_string(),
    }
}

/// Departments, visibilities and roles of the handbook form, with the form's choice marked.
async fn choices(
    st: &AppState,
    p: &Principal,
    t: &Catalog,
    form: &HandbookForm,
) -> Result<Choices, HtmlError> {
    let d = accounts::list_departments(&st.db.conn, p.tenant_id).await?;
    let r = accounts::list_roles(&st.db.conn, p.tenant_id).await?;
    let departments = d
        .into_iter()
        .map(|d| {
            let sel = form.department == d.id.to_string();
            (d.id, d.name, sel)
        })
        .collect();
    let roles = r
        .into_iter()
        .map(|(r, _)| {
            let sel = form.role_ids.contains(&r.id.to_string());
            (r.id, r.name, sel)
        })
        .collect();
    let vis = if form.visibility.is_empty() {
        "all"
    } else {
        form.visibility.as_str()
    };
    let visibilities = ["all", "department", "roles"]
        .into_iter()
        .map(|v| {
            (
                v,
                t.get(&format!("knowledge.visibility.{v}")).to_string(),
                v == vis,
            )
        })
        .collect();
    Ok((departments, visibilities, roles))
}

type Choices = (
    Vec<(i64, String, bool)>,
    Vec<(&'static str, String, bool)>,
    Vec<(i64, String, bool)>,
);

impl HandbookForm {
    fn input(&self) -> service::HandbookInput {
        service::HandbookInput {
            title: self.title.clone(),
            description: self.description.clone(),
            department_id: match self.department.trim() {
                "" => None,
                s => Some(s.parse::<i64>().unwrap_or(-1)),
            },
            visibility: if self.visibility.is_empty() {
                "all".into()
            } else {
                self.visibility.clone()
            },
            role_ids: self
                .role_ids
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect(),
        }
    }

    fn of(h: &service::Handbook) -> HandbookForm {
        HandbookForm {
            title: h.title.clone(),
            description: h.description.clone(),
            department: h.department_id.map(|d| d.to_string()).unwrap_or_default(),
            visibility: h.visibility.clone(),
            role_ids: crate::domain::parse_ids(&h.role_ids)
                .into_iter()
                .map(|r| r.to_string())
                .collect(),
        }
    }
}

async fn render_index(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    form: HandbookForm,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let failed = errs.any();
    let list = service::list_handbooks(&st.db.conn, Actor::User(p)).await?;
    let recent = service::recent(&st.db.conn, Actor::User(p), 10).await?;
    let manage = p.has(MANAGE);
    let (departments, visibilities, roles) = if manage {
        choices(st, p, t, &form).await?
    } else {
        (vec![], vec![], vec![])
    };
    respond(
        page(IndexTpl {
            l: layout(st, ctx, "knowledge.index.title"),
            rows: list
                .into_iter()
                .map(|r| HandbookLine {
                    id: r.h.id,
                    scope: scope_label(t, &r.h.visibility, r.department.as_deref()),
                    title: r.h.title,
                    description: r.h.description,
                    pages: r.pages,
                })
                .collect(),
            recent: recent
                .into_iter()
                .map(|(r, h)| RecentLine {
                    id: r.id,
                    title: r.title,
                    handbook: h,
                    when: when(r.updated_at),
                })
                .collect(),
            manage,
            onboarding: p.has(ONBOARDING),
            errs,
            form_title: form.title,
            form_description: form.description,
            departments,
            visibilities,
            roles,
        }),
        failed,
    )
}

async fn index(State(st): State<AppState>, Staff(ctx, p): Staff) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    render_index(&st, &ctx, &p, HandbookForm::default(), FormErrors::none(t)).await
}

async fn create_handbook(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<HandbookForm>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let inp = f.input();
    match service::create_handbook(&st.db.conn, Actor::User(&p), inp).await {
        Ok(h) => Ok(Redirect::to(&format!("/wissen/handbuecher/{}", h.id)).into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_index(&st, &ctx, &p, f, errs).await
        }
    }
}

struct ChapterLine {
    title: String,
    pages: Vec<service::PageRow>,
}

#[derive(Template)]
#[template(path = "knowledge/handbook.html")]
struct HandbookTpl {
    l: Layout,
    id: i64,
    scope: String,
    description: String,
    may_edit: bool,
    manage: bool,
    loose: Vec<service::PageRow>,
    chapters: Vec<ChapterLine>,
    chapter_errs: FormErrors,
    chapter_title: String,
    errs: FormErrors,
    form_title: String,
    form_description: String,
    departments: Vec<(i64, String, bool)>,
    visibilities: Vec<(&'static str, String, bool)>,
    roles: Vec<(i64, String, bool)>,
    /// Page templates to start a new page from: (code, name).
    templates: Vec<(&'static str, String)>,
}

/// The handbook page; `settings` carries a refused settings form, `chapter` a refused chapter.
async fn render_handbook(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    chapter: (String, FormErrors),
    settings: Option<(HandbookForm, FormErrors)>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let v = service::handbook(&st.db.conn, Actor::User(p), id).await?;
    let (chapter_title, chapter_errs) = chapter;
    let (form, errs) = settings.unwrap_or_else(|| (HandbookForm::of(&v.h), FormErrors::none(t)));
    let failed = errs.any() || chapter_errs.any();
    let manage = p.has(MANAGE);
    let (departments, visibilities, roles) = if manage {
        choices(st, p, t, &form).await?
    } else {
        (vec![], vec![], vec![])
    };
    let mut pages = v.pages;
    let known: Vec<i64> = v.chapters.iter().map(|c| c.id).collect();
    let chapters = v
        .chapters
        .into_iter()
        .map(|c| ChapterLine {
            pages: pages
                .iter()
                .filter(|p| p.chapter_id == Some(c.id))
                .cloned()
                .collect(),
            title: c.title,
        })
        .collect::<Vec<_>>();
    pages.retain(|p| p.chapter_id.is_none_or(|c| !known.contains(&c)));
    respond(
        page(HandbookTpl {
            templates: crate::domain::PageTemplate::ALL
                .iter()
                .map(|tpl| (tpl.code(), t.get(&tpl.title_key()).to_string()))
                .collect(),
            l: titled(st, ctx, "knowledge.index.title", v.h.title.clone()),
            id,
            scope: scope_label(t, &v.h.visibility, v.department.as_deref()),
            description: v.h.description,
            may_edit: v.may_edit,
            manage,
            loose: pages,
            chapters,
            chapter_errs,
            chapter_title,
            errs,
            form_title: form.title,
            form_description: form.description,
            departments,
            visibilities,
            roles,
        }),
        failed,
    )
}

async fn show_handbook(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    render_handbook(
        &st,
        &ctx,
        &p,
        id,
        (String::new(), FormErrors::none(t)),
        None,
    )
    .await
}

#[derive(Deserialize)]
struct ChapterForm {
    #[serde(default)]
    chapter_title: String,
}

async fn create_chapter(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<ChapterForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    match service::create_chapter(&st.db.conn, Actor::User(&p), id, &f.chapter_title).await {
        Ok(_) => Ok(Redirect::to(&format!("/wissen/handbuecher/{id}")).into_response()),
        Err(Error::Invalid(mut fe)) => {
            // The form's field is named apart from the settings form's title.
            for e in fe.0.iter_mut() {
                e.field = "chapter_title".into();
            }
            let errs = FormErrors::new(t, fe);
            render_handbook(&st, &ctx, &p, id, (f.chapter_title, errs), None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn update_handbook(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<HandbookForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    match service::update_handbook(&st.db.conn, Actor::User(&p), id, f.input()).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/wissen/handbuecher/{id}?notice=knowledge_handbook_saved"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_handbook(
                &st,
                &ctx,
                &p,
                id,
                (String::new(), FormErrors::none(t)),
                Some((f, errs)),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- editor

#[derive(Template)]
#[template(path = "knowledge/edit.html")]
struct EditTpl {
    l: Layout,
    back: String,
    action: String,
    is_new: bool,
    base_version: i32,
    title: String,
    body: String,
    note: String,
    review_days: String,
    draft: bool,
    requires_confirmation: bool,
    major: bool,
    chapters: Vec<(i64, String, bool)>,
    owners: Vec<(i64, String, bool)>,
    owner_roles: Vec<(i64, String, bool)>,
    preview: Option<String>,
    errs: FormErrors,
}

#[derive(Deserialize, Default)]
struct PageForm {
    #[serde(default)]
    base_version: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body_markdown: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    chapter_id: String,
    #[serde(default)]
    review_days: String,
    #[serde(default)]
    owner_user_id: String,
    #[serde(default)]
    owner_role_id: String,
    draft: Option<String>,
    requires_confirmation: Option<String>,
    major: Option<String>,
    #[serde(default)]
    action: String,
}

impl PageForm {
    fn settings(&self, errs: &mut FieldErrors) -> service::PageSettings {
        let review_days = match self.review_days.trim() {
            "" => None,
            s => match s.parse::<i32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errs.add_arg(
                        "review_days",
                        "knowledge.err.review_days",
                        Some(crate::domain::REVIEW_DAYS_MAX),
                    );
                    None
                }
            },
        };
        service::PageSettings {
            chapter_id: self.chapter_id.trim().parse().ok(),
            draft: checked(&self.draft),
            requires_confirmation: checked(&self.requires_confirmation),
            owner_user_id: self.owner_user_id.trim().parse().ok(),
            owner_role_id: self.owner_role_id.trim().parse().ok(),
            review_days,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_edit(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    handbook_id: i64,
    page_id: Option<i64>,
    f: PageForm,
    preview: Option<String>,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let failed = errs.any();
    let t = catalog(ctx.lang);
    let v = service::handbook(&st.db.conn, Actor::User(p), handbook_id).await?;
    let chapters = v
        .chapters
        .iter()
        .map(|c| (c.id, c.title.clone(), f.chapter_id == c.id.to_string()))
        .collect();
    let me = p.user_id.0.to_string();
    let chosen = if f.owner_user_id.is_empty() {
        me.as_str()
    } else {
        f.owner_user_id.as_str()
    };
    let owners = accounts::list_active_staff(&st.db.conn, p.tenant_id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name, chosen == u.id.to_string()))
        .collect();
    let owner_roles = accounts::list_roles(&st.db.conn, p.tenant_id)
        .await?
        .into_iter()
        .map(|(r, _)| (r.id, r.name, f.owner_role_id == r.id.to_string()))
        .collect();
    let (title_key, back, action) = match page_id {
        Some(id) => (
            "knowledge.edit.title",
            format!("/wissen/seiten/{id}"),
            format!("/wissen/seiten/{id}/bearbeiten"),
        ),
        None => (
            "knowledge.edit.new_title",
            format!("/wissen/handbuecher/{handbook_id}"),
            format!("/wissen/handbuecher/{handbook_id}/neue-seite"),
        ),
    };
    let l = titled(st, ctx, title_key, t.fmt(title_key, &v.h.title));
    respond(
        page(EditTpl {
            l,
            back,
            action,
            is_new: page_id.is_none(),
            base_version: f.base_version.parse().unwrap_or(0),
            draft: checked(&f.draft),
            requires_confirmation: checked(&f.requires_confirmation),
            major: checked(&f.major),
            title: f.title,
            body: f.body_markdown,
            note: f.note,
            review_days: f.review_days,
            chapters,
            owners,
            owner_roles,
            preview,
            errs,
        }),
        failed,
    )
}

/// The preview of the typed text (links resolved), or the size error.
async fn preview(
    st: &AppState,
    p: &Principal,
    t: &'static Catalog,
    body: &str,
) -> Result<(Option<String>, FormErrors), HtmlError> {
    let r = service::Reader::load(&st.db.conn, Actor::User(p)).await?;
    match service::render(&st.db.conn, &r, body, t.get("knowledge.page.deleted_link")).await {
        Ok((rendered, _)) => Ok((Some(demote(&rendered.html)), FormErrors::none(t))),
        Err(Error::Invalid(_)) => {
            let mut errs = FieldErrors::new();
            errs.add_arg(
                "body_markdown",
                "knowledge.err.too_large",
                Some(rathaus_web::markdown::MAX_BYTES / 1024),
            );
            Ok((None, FormErrors::new(t, errs)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
struct NewPageQuery {
    /// A page template to start from (`process`, `checklist`, `contacts`); none: empty.
    #[serde(default)]
    vorlage: String,
}

async fn new_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<NewPageQuery>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let (title, body_markdown) = match crate::domain::PageTemplate::parse(&q.vorlage) {
        Some(tpl) => (
            t.get(&tpl.title_key()).to_string(),
            t.get(&tpl.body_key()).to_string(),
        ),
        None => Default::default(),
    };
    let f = PageForm {
        base_version: "0".into(),
        title,
        body_markdown,
        ..Default::default()
    };
    render_edit(
        &st,
        &ctx,
        &p,
        id,
        None,
        f,
        None,
        FormErrors::none(catalog(ctx.lang)),
    )
    .await
}

async fn create_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<PageForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    if f.action == "preview" {
        let (html, errs) = preview(&st, &p, t, &f.body_markdown).await?;
        return render_edit(&st, &ctx, &p, id, None, f, html, errs).await;
    }
    let mut errs = FieldErrors::new();
    let s = f.settings(&mut errs);
    let res = match errs.into_result() {
        Err(e) => Err(e),
        Ok(()) => {
            service::create_page(
                &st.db.conn,
                Actor::User(&p),
                service::PageInput {
                    handbook_id: id,
                    chapter_id: s.chapter_id,
                    title: f.title.clone(),
                    body: f.body_markdown.clone(),
                    note: f.note.clone(),
                    draft: s.draft,
                    requires_confirmation: s.requires_confirmation,
                    owner_user_id: s.owner_user_id,
                    owner_role_id: s.owner_role_id,
                    review_days: s.review_days,
                },
            )
            .await
        }
    };
    match res {
        Ok(pg) => Ok(
            Redirect::to(&format!("/wissen/seiten/{}?notice=knowledge_saved", pg.id))
                .into_response(),
        ),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_edit(&st, &ctx, &p, id, None, f, None, errs).await
        }
    }
}

async fn edit_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let (h, pg) = service::page_for_edit(&st.db.conn, Actor::User(&p), id).await?;
    let f = PageForm {
        base_version: pg.version.to_string(),
        title: pg.title,
        body_markdown: pg.body,
        note: String::new(),
        chapter_id: pg.chapter_id.map(|c| c.to_string()).unwrap_or_default(),
        review_days: pg.review_days.map(|d| d.to_string()).unwrap_or_default(),
        owner_user_id: pg.owner_user_id.map(|d| d.to_string()).unwrap_or_default(),
        owner_role_id: pg.owner_role_id.map(|d| d.to_string()).unwrap_or_default(),
        draft: pg.draft.then(|| "1".into()),
        requires_confirmation: pg.requires_confirmation.then(|| "1".into()),
        major: None,
        action: String::new(),
    };
    render_edit(
        &st,
        &ctx,
        &p,
        h.id,
        Some(id),
        f,
        None,
        FormErrors::none(catalog(ctx.lang)),
    )
    .await
}

#[derive(Template)]
#[template(path = "knowledge/conflict.html")]
struct ConflictTpl {
    l: Layout,
    id: i64,
    saved_by: String,
    diff: String,
    theirs: String,
    mine: String,
    title: String,
    note: String,
    current_version: i32,
    chapter_id: String,
    review_days: String,
    owner_user_id: String,
    owner_role_id: String,
    draft: bool,
    requires_confirmation: bool,
    major: bool,
}

async fn save_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<PageForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let (h, current) = service::page_for_edit(&st.db.conn, Actor::User(&p), id).await?;
    if f.action == "preview" {
        let (html, errs) = preview(&st, &p, t, &f.body_markdown).await?;
        return render_edit(&st, &ctx, &p, h.id, Some(id), f, html, errs).await;
    }
    let mut errs = FieldErrors::new();
    let base_version = match f.base_version.trim().parse::<i32>() {
        Ok(v) => v,
        Err(_) => {
            errs.add("base_version", "err.invalid_choice");
            0
        }
    };
    let settings = f.settings(&mut errs);
    let keep_owner = service::PageSettings {
        owner_user_id: settings.owner_user_id.or(current.owner_user_id),
        ..settings
    };
    let res = match errs.into_result() {
        Err(e) => Err(e),
        Ok(()) => {
            service::save_page(
                &st.db.conn,
                Actor::User(&p),
                id,
                service::SaveInput {
                    base_version,
                    title: f.title.clone(),
                    body: f.body_markdown.clone(),
                    note: f.note.clone(),
                    major: checked(&f.major),
                    settings: Some(keep_owner),
                },
            )
            .await
        }
    };
    match res {
        Ok(_) => Ok(
            Redirect::to(&format!("/wissen/seiten/{id}?notice=knowledge_saved")).into_response(),
        ),
        Err(Error::Conflict(k)) if k == service::CONFLICT_KEY => {
            // Someone saved meanwhile: show both texts; nothing of either is lost.
            let (_, theirs) = service::page_for_edit(&st.db.conn, Actor::User(&p), id).await?;
            let d = crate::domain::diff::words(&theirs.body, &f.body_markdown);
            let mut res = page(ConflictTpl {
                l: layout(&st, &ctx, "knowledge.conflict.title"),
                id,
                saved_by: t.fmt(
                    "knowledge.conflict.saved_by",
                    &format!("{} ({})", theirs.updated_by, when(theirs.updated_at)),
                ),
                diff: d.html,
                chapter_id: f.chapter_id.clone(),
                review_days: f.review_days.clone(),
                owner_user_id: f.owner_user_id.clone(),
                owner_role_id: f.owner_role_id.clone(),
                draft: checked(&f.draft),
                requires_confirmation: checked(&f.requires_confirmation),
                major: checked(&f.major),
                theirs: theirs.body,
                mine: f.body_markdown,
                title: f.title,
                note: f.note,
                current_version: theirs.version,
            })?;
            *res.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_edit(&st, &ctx, &p, h.id, Some(id), f, None, errs).await
        }
    }
}

// ---------------------------------------------------------------- page view

#[derive(Template)]
#[template(path = "knowledge/page.html")]
struct PageTpl {
    l: Layout,
    id: i64,
    version: i32,
    previous: i32,
    handbook_id: i64,
    handbook: String,
    chapter: Option<String>,
    draft: bool,
    outdated: bool,
    broken: String,
    meta: String,
    review: String,
    may_edit: bool,
    may_review: bool,
    toc: Vec<rathaus_web::markdown::TocEntry>,
    html: String,
    requires_confirmation: bool,
    confirmed: bool,
    confirmations: Option<Vec<String>>,
    comments: Vec<collab::CommentLine>,
    comment_action: String,
    comment: String,
    comment_errs: FormErrors,
    attachments: Vec<attach::AttachmentLine>,
    attach_errs: FormErrors,
    /// The hint under the upload field: allowed types and the limit.
    attach_hint: String,
}

async fn show_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    render_page(&st, &ctx, &p, id, String::new(), FormErrors::none(t)).await
}

/// The page with its comments; `comment` and `comment_errs` carry a refused comment.
pub(super) async fn render_page(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    comment: String,
    comment_errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    render_page_with(st, ctx, p, id, comment, comment_errs, FormErrors::none(t)).await
}

/// `render_page`, with the errors of a refused upload.
pub(super) async fn render_page_with(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    comment: String,
    comment_errs: FormErrors,
    attach_errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let failed = comment_errs.any() || attach_errs.any();
    let attachments = attach::lines(
        t,
        service::attachments::list(&st.db, Actor::User(p), id).await?,
    );
    let comments = collab::comment_lines(
        service::comments::list(&st.db.conn, Actor::User(p), Target::Page(id)).await?,
    );
    let v = service::page_view(
        &st.db.conn,
        Actor::User(p),
        id,
        t.get("knowledge.page.deleted_link"),
    )
    .await?;
    let confirmations = if v.page.requires_confirmation && v.may_review {
        Some(
            service::confirmations(&st.db.conn, Actor::User(p), id)
                .await?
                .into_iter()
                .map(|c| {
                    let mut s = t.fmt("knowledge.confirm.row", &c.name);
                    s = s.replace("{version}", &c.major_version.to_string());
                    s = s.replace("{when}", &when(c.at));
                    if !c.current {
                        s.push_str(t.get("knowledge.confirm.older"));
                    }
                    s
                })
                .collect(),
        )
    } else {
        None
    };
    let meta = t
        .fmt("knowledge.page.meta", &v.page.version.to_string())
        .replace("{who}", &v.page.updated_by)
        .replace("{when}", &when(v.page.updated_at))
        .replace("{owner}", v.owner.as_deref().unwrap_or("–"));
    let review = match (&v.page.reviewed_at, &v.page.reviewed_by, v.review_due) {
        (Some(at), by, due) => t
            .fmt("knowledge.page.reviewed", &when(*at))
            .replace("{who}", by.as_deref().unwrap_or(""))
            .replace("{due}", &due.map(when).unwrap_or_default()),
        (None, _, Some(due)) => t.fmt("knowledge.page.review_due", &when(due)),
        _ => String::new(),
    };
    let broken = if v.broken_links.is_empty() {
        String::new()
    } else {
        t.fmt(
            "knowledge.page.broken_links",
            &v.broken_links
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    respond(
        page(PageTpl {
            l: titled(st, ctx, "knowledge.index.title", v.page.title.clone()),
            id,
            version: v.page.version,
            previous: (v.page.version - 1).max(1),
            handbook_id: v.handbook.id,
            handbook: v.handbook.title,
            chapter: v.chapter,
            draft: v.page.draft,
            outdated: v.outdated,
            broken,
            meta,
            review,
            may_edit: v.may_edit,
            may_review: v.may_review,
            toc: v.toc,
            html: demote(&v.html),
            requires_confirmation: v.page.requires_confirmation,
            confirmed: v.confirmed,
            confirmations,
            comments,
            comment_action: format!("/wissen/seiten/{id}/kommentare"),
            comment,
            comment_errs,
            attachments,
            attach_errs,
            attach_hint: t.fmt(
                "knowledge.attachments.hint",
                &rathaus_store::files::human_size(
                    (st.cfg.upload_limit as u64).min(crate::domain::attachments::MAX_BYTES),
                ),
            ),
        }),
        failed,
    )
}

#[derive(Deserialize)]
struct Empty {}

async fn confirm(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(_): Form<Empty>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    service::confirm(&st.db.conn, Actor::User(&p), id).await?;
    Ok(Redirect::to(&format!("/wissen/seiten/{id}?notice=knowledge_confirmed")).into_response())
}

async fn reviewed(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(_): Form<Empty>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    service::mark_reviewed(&st.db.conn, Actor::User(&p), id).await?;
    Ok(Redirect::to(&format!("/wissen/seiten/{id}?notice=knowledge_reviewed")).into_response())
}

async fn delete(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(_): Form<Empty>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let (h, _) = service::page_for_edit(&st.db.conn, Actor::User(&p), id).await?;
    service::delete_page(&st.db.conn, Actor::User(&p), id).await?;
    Ok(Redirect::to(&format!(
        "/wissen/handbuecher/{}?notice=knowledge_deleted",
        h.id
    ))
    .into_response())
}

// ---------------------------------------------------------------- versions

struct VersionLine {
    version: i32,
    major: bool,
    when: String,
    author: String,
    note: String,
    a: bool,
    b: bool,
}

#[derive(Template)]
#[template(path = "knowledge/versions.html")]
struct VersionsTpl {
    l: Layout,
    id: i64,
    rows: Vec<VersionLine>,
    may_edit: bool,
    current: i32,
    previous: i32,
}

async fn versions(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let list = service::versions(&st.db.conn, Actor::User(&p), id).await?;
    let current = list.first().map(|v| v.version).unwrap_or(1);
    let title = list.first().map(|v| v.title.clone()).unwrap_or_default();
    let may_edit = service::may_edit_page(&st.db.conn, Actor::User(&p), id).await?;
    let n = list.len();
    page(VersionsTpl {
        l: titled(
            &st,
            &ctx,
            "knowledge.versions.title",
            t.fmt("knowledge.versions.title", &title),
        ),
        id,
        rows: list
            .into_iter()
            .enumerate()
            .map(|(i, v)| VersionLine {
                version: v.version,
                major: v.major,
                when: when(v.created_at),
                author: v.author_name,
                note: v.note,
                a: i == 1 || (n == 1 && i == 0),
                b: i == 0,
            })
            .collect(),
        may_edit,
        current,
        previous: (current - 1).max(1),
    })
}

#[derive(Deserialize)]
struct CompareQuery {
    #[serde(default)]
    a: String,
    #[serde(default)]
    b: String,
}

#[derive(Template)]
#[template(path = "knowledge/diff.html")]
struct DiffTpl {
    l: Layout,
    id: i64,
    summary: String,
    html: String,
}

async fn compare(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let a: i32 = q.a.parse().map_err(|_| Error::NotFound)?;
    let b: i32 = q.b.parse().map_err(|_| Error::NotFound)?;
    let (va, vb, d) = service::diff(&st.db.conn, Actor::User(&p), id, a, b).await?;
    let title = t
        .fmt("knowledge.diff.title", &va.version.to_string())
        .replace("{b}", &vb.version.to_string());
    let summary = t
        .fmt("knowledge.diff.summary", &d.added.to_string())
        .replace("{removed}", &d.removed.to_string());
    page(DiffTpl {
        l: titled(&st, &ctx, "knowledge.diff.title", title),
        id,
        summary,
        html: d.html,
    })
}

#[derive(Deserialize)]
struct RestoreForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    base_version: String,
}

async fn restore(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<RestoreForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let v: i32 = f.version.parse().map_err(|_| Error::NotFound)?;
    let base: i32 = f.base_version.parse().map_err(|_| Error::NotFound)?;
    let note = t.fmt("knowledge.versions.restored_note", &v.to_string());
    match service::restore(&st.db.conn, Actor::User(&p), id, v, base, &note).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/wissen/seiten/{id}?notice=knowledge_restored")).into_response(),
        ),
        Err(Error::Conflict(_)) => Ok(Redirect::to(&format!(
            "/wissen/seiten/{id}/versionen?notice=knowledge_stale"
        ))
        .into_response()),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- review and search

#[derive(Template)]
#[template(path = "knowledge/review.html")]
struct ReviewTpl {
    l: Layout,
    rows: Vec<(i64, String, String)>,
}

async fn review_list(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let rows = service::due_reviews(&st.db.conn, Actor::User(&p)).await?;
    page(ReviewTpl {
        l: layout(&st, &ctx, "knowledge.review.title"),
        rows: rows
            .into_iter()
            .map(|r| {
                let s = t
                    .fmt("knowledge.review.row", &r.handbook)
                    .replace("{due}", &when(r.due))
                    .replace("{owner}", &r.owner);
                (r.id, r.title, s)
            })
            .collect(),
    })
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "knowledge/search.html")]
struct SearchTpl {
    l: Layout,
    q: String,
    count: String,
    hits: Vec<rathaus_search::Hit>,
}

async fn search(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<SearchQuery>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let text = q.q.trim().to_string();
    let (count, hits) = if text.is_empty() {
        (String::new(), vec![])
    } else {
        let r = service::search::search(&st.db.conn, st.search.clone(), Actor::User(&p), &text, 50)
            .await?;
        (
            t.fmt("knowledge.search.count", &r.total.to_string()),
            r.hits,
        )
    };
    page(SearchTpl {
        l: layout(&st, &ctx, "knowledge.search.title"),
        q: text,
        count,
        hits,
    })
}

// ---------------------------------------------------------------- onboarding

/// A template task as (when, title, owner, page).
type TemplateTaskLine = (String, String, String, Option<i64>);

#[derive(Template)]
#[template(path = "knowledge/onboardings.html")]
struct OnboardingsTpl {
    l: Layout,
    rows: Vec<(i64, String, String)>,
    errs: FormErrors,
    name: String,
    start_date: String,
    departments: Vec<(i64, String, bool)>,
    templates: Vec<(i64, String, bool)>,
    /// Onboarding or offboarding: (code, label, selected).
    kinds: Vec<(&'static str, String, bool)>,
    /// Each template's name and its tasks.
    details: Vec<(String, Vec<TemplateTaskLine>)>,
}

#[derive(Deserialize, Default)]
struct OnboardingForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    template_id: String,
    #[serde(default)]
    kind: String,
}

async fn render_onboardings(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: OnboardingForm,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let failed = errs.any();
    let list = onboarding::list(&st.db.conn, Actor::User(p)).await?;
    let with_tasks = onboarding::templates_with_tasks(&st.db.conn, Actor::User(p)).await?;
    let details = with_tasks
        .iter()
        .map(|(x, lines)| {
            let kind = crate::domain::ChecklistKind::parse(&x.kind).unwrap_or_default();
            (
                format!("{} ({})", x.name, t.get(&kind.label_key())),
                lines
                    .iter()
                    .map(|i| {
                        let when = match i.offset_days {
                            0 => t.get("knowledge.templates.day0").to_string(),
                            d if d < 0 => t.fmt("knowledge.templates.before", &(-d).to_string()),
                            d => t.fmt("knowledge.templates.after", &d.to_string()),
                        };
                        let owner = if i.owner.is_empty() {
                            t.get("knowledge.templates.newcomer").to_string()
                        } else {
                            i.owner.clone()
                        };
                        (when, i.title.clone(), owner, i.page_id)
                    })
                    .collect(),
            )
        })
        .collect();
    let templates: Vec<onboarding::Template> = with_tasks.into_iter().map(|(x, _)| x).collect();
    let departments = accounts::list_departments(&st.db.conn, p.tenant_id).await?;
    respond(
        page(OnboardingsTpl {
            l: layout(st, ctx, "knowledge.onboarding.title"),
            rows: list
                .into_iter()
                .map(|(o, done, n)| {
                    let row_key = if o.kind == crate::domain::ChecklistKind::Offboarding.code() {
                        "knowledge.onboarding.row_leaving"
                    } else {
                        "knowledge.onboarding.row"
                    };
                    let s = t
                        .fmt(row_key, &day(o.start_date))
                        .replace("{done}", &done.to_string())
                        .replace("{n}", &n.to_string());
                    (o.id, o.name, s)
                })
                .collect(),
            errs,
            departments: departments
                .into_iter()
                .map(|d| {
                    let sel = f.department == d.id.to_string();
                    (d.id, d.name, sel)
                })
                .collect(),
            templates: templates
                .into_iter()
                .map(|x| {
                    let sel = f.template_id == x.id.to_string();
                    (x.id, x.name, sel)
                })
                .collect(),
            kinds: crate::domain::ChecklistKind::ALL
                .iter()
                .map(|k| {
                    let sel =
                        crate::domain::ChecklistKind::parse(&f.kind).unwrap_or_default() == *k;
                    (k.code(), t.get(&k.label_key()).to_string(), sel)
                })
                .collect(),
            name: f.name,
            start_date: f.start_date,
            details,
        }),
        failed,
    )
}

async fn onboardings(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    render_onboardings(
        &st,
        &ctx,
        &p,
        OnboardingForm::default(),
        FormErrors::none(catalog(ctx.lang)),
    )
    .await
}

async fn start_onboarding(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<OnboardingForm>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let mut errs = FieldErrors::new();
    let start = match NaiveDate::parse_from_str(f.start_date.trim(), "%Y-%m-%d") {
        Ok(d) => d,
        Err(_) => {
            errs.add("start_date", "knowledge.err.date");
            onboarding::today()
        }
    };
    let department_id = f.department.trim().parse::<i64>().unwrap_or(-1);
    let kind = match f.kind.trim() {
        "" => crate::domain::ChecklistKind::default(),
        k => crate::domain::ChecklistKind::parse(k).unwrap_or_else(|| {
            errs.add("kind", "err.invalid_choice");
            crate::domain::ChecklistKind::default()
        }),
    };
    let res = match errs.into_result() {
        Err(e) => Err(e),
        Ok(()) => {
            onboarding::start(
                &st.db.conn,
                Actor::User(&p),
                onboarding::OnboardingInput {
                    name: f.name.clone(),
                    start_date: start,
                    department_id,
                    template_id: f.template_id.trim().parse().ok(),
                    user_id: None,
                    kind,
                },
                onboarding::today(),
            )
            .await
        }
    };
    match res {
        Ok(s) => {
            let past = if s.past { "?vergangen=1" } else { "" };
            Ok(
                Redirect::to(&format!("/wissen/einarbeitung/{}{past}", s.onboarding.id))
                    .into_response(),
            )
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_onboardings(&st, &ctx, &p, f, errs).await
        }
    }
}

struct TaskLine {
    id: i64,
    title: String,
    context: String,
    due: String,
    overdue: bool,
    owner: String,
    status: String,
    done: bool,
    label: String,
    page_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "knowledge/tasks.html")]
struct TasksTpl {
    l: Layout,
    back: String,
    back_here: String,
    intro: String,
    past: bool,
    rows: Vec<TaskLine>,
}

fn task_line(t: &Catalog, task: onboarding::Task, context: String, today: NaiveDate) -> TaskLine {
    let overdue = onboarding::overdue(&task, today);
    let done = task.done_at.is_some();
    let status = match (&task.done_at, &task.done_by) {
        (Some(at), by) => t
            .fmt("knowledge.tasks.done_by", by.as_deref().unwrap_or(""))
            .replace("{when}", &when(*at)),
        _ => t.get("knowledge.tasks.open").to_string(),
    };
    let label = if done {
        t.fmt("knowledge.tasks.reopen_label", &task.title)
    } else {
        t.fmt("knowledge.tasks.done_label", &task.title)
    };
    TaskLine {
        id: task.id,
        due: day(task.due_date),
        overdue,
        owner: task.owner_label,
        status,
        done,
        label,
        page_id: task.page_id,
        title: task.title,
        context,
    }
}

#[derive(Deserialize)]
struct PastQuery {
    #[serde(default)]
    vergangen: String,
}

async fn show_onboarding(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<PastQuery>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let (ob, tasks) = onboarding::get(&st.db.conn, Actor::User(&p), id).await?;
    let today = onboarding::today();
    let done = tasks.iter().filter(|t| t.done_at.is_some()).count();
    let offboarding = ob.kind == crate::domain::ChecklistKind::Offboarding.code();
    let intro = t
        .fmt(
            if offboarding {
                "knowledge.onboarding.intro_leaving"
            } else {
                "knowledge.onboarding.intro"
            },
            &day(ob.start_date),
        )
        .replace("{done}", &done.to_string())
        .replace("{n}", &tasks.len().to_string());
    page(TasksTpl {
        l: titled(
            &st,
            &ctx,
            "knowledge.onboarding.title",
            t.fmt(
                if offboarding {
                    "knowledge.onboarding.of_leaving"
                } else {
                    "knowledge.onboarding.of"
                },
                &ob.name,
            ),
        ),
        back: if p.has(ONBOARDING) {
            "/wissen/einarbeitung".into()
        } else {
            "/wissen/aufgaben".into()
        },
        back_here: format!("/wissen/einarbeitung/{id}"),
        intro,
        past: q.vergangen == "1",
        rows: tasks
            .into_iter()
            .map(|x| task_line(t, x, String::new(), today))
            .collect(),
    })
}

async fn my_tasks(State(st): State<AppState>, Staff(ctx, p): Staff) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let today = onboarding::today();
    let tasks = onboarding::my_tasks(&st.db.conn, Actor::User(&p)).await?;
    page(TasksTpl {
        l: layout(&st, &ctx, "knowledge.tasks.title"),
        back: "/wissen".into(),
        back_here: "/wissen/aufgaben".into(),
        intro: String::new(),
        past: false,
        rows: tasks
            .into_iter()
            .map(|(x, name)| task_line(t, x, name, today))
            .collect(),
    })
}

#[derive(Deserialize)]
struct TaskForm {
    #[serde(default)]
    done: String,
    #[serde(default)]
    zurueck: String,
}

async fn set_task(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<TaskForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = onboarding::set_done(&st.db.conn, Actor::User(&p), id, f.done == "1").await?;
    let back = rathaus_web::pages::safe_next(&f.zurueck)
        .map(str::to_string)
        .unwrap_or_else(|| format!("/wissen/einarbeitung/{}", t.onboarding_id));
    Ok(Redirect::to(&format!("{back}#task-{id}")).into_response())
}
