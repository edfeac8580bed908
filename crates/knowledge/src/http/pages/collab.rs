//! Collaboration pages: comments under pages and checklist tasks (with the task's own page),
//! deleting a comment, and a handbook's feed of page changes.

use super::{Empty, TaskLine, demote, id_of, render_page, task_line, titled, when};
use crate::domain::comments::Target;
use crate::permissions::ONBOARDING;
use crate::service::{changes, comments, onboarding};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rathaus_core::{Error, Principal};
use rathaus_store::uow::Actor;
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use serde::Deserialize;

/// A comment in the list under a page or task.
pub(super) struct CommentLine {
    pub(super) id: i64,
    pub(super) author: String,
    pub(super) when: String,
    pub(super) html: String,
    pub(super) may_delete: bool,
}

pub(super) fn comment_lines(list: Vec<comments::CommentView>) -> Vec<CommentLine> {
    list.into_iter()
        .map(|c| CommentLine {
            id: c.id,
            author: c.author,
            when: when(c.at),
            // Below the comments' own h2 and h3: a comment's headings start at h4.
            html: demote(&demote(&demote(&c.html))),
            may_delete: c.may_delete,
        })
        .collect()
}

#[derive(Deserialize)]
pub(super) struct CommentForm {
    #[serde(default)]
    body: String,
}

/// Stores a comment and goes to it, or the refused text's errors in the reader's language.
async fn add(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    target: Target,
    body: &str,
) -> Result<Result<Response, FormErrors>, HtmlError> {
    match comments::add(&st.db.conn, Actor::User(p), target, body).await {
        Ok(a) => Ok(Ok(Redirect::to(&format!(
            "{}?notice=knowledge_comment_added#kommentar-{}",
            target.path(),
            a.comment.id
        ))
        .into_response())),
        Err(Error::Invalid(fe)) => Ok(Err(FormErrors::new(catalog(ctx.lang), fe))),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn comment_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<CommentForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    match add(&st, &ctx, &p, Target::Page(id), &f.body).await? {
        Ok(r) => Ok(r),
        Err(errs) => render_page(&st, &ctx, &p, id, f.body, errs).await,
    }
}

pub(super) async fn comment_task(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<CommentForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    match add(&st, &ctx, &p, Target::Task(id), &f.body).await? {
        Ok(r) => Ok(r),
        Err(errs) => render_task(&st, &ctx, &p, id, f.body, errs).await,
    }
}

pub(super) async fn delete_comment(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(_): Form<Empty>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let target = comments::delete(&st.db.conn, Actor::User(&p), id).await?;
    Ok(Redirect::to(&format!(
        "{}?notice=knowledge_comment_deleted#kommentare",
        target.path()
    ))
    .into_response())
}

// ---------------------------------------------------------------- a task's page

#[derive(Template)]
#[template(path = "knowledge/task.html")]
struct TaskTpl {
    l: Layout,
    back: String,
    checklist: Option<String>,
    t: TaskLine,
    comments: Vec<CommentLine>,
    comment_action: String,
    comment: String,
    comment_errs: FormErrors,
}

async fn render_task(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    comment: String,
    comment_errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let failed = comment_errs.any();
    let (task, ob) = comments::task(&st.db.conn, Actor::User(p), id).await?;
    let list = comments::list(&st.db.conn, Actor::User(p), Target::Task(id)).await?;
    // The checklist's page is HR's and the colleague's; other owners go back to their tasks.
    let checklist = (p.has(ONBOARDING) || ob.user_id == Some(p.user_id.0))
        .then(|| format!("/wissen/einarbeitung/{}", ob.id));
    let title = task.title.clone();
    respond(
        page(TaskTpl {
            l: titled(
                st,
                ctx,
                "knowledge.task.title",
                t.fmt("knowledge.task.title", &title),
            ),
            back: "/wissen/aufgaben".into(),
            checklist,
            t: task_line(t, task, ob.name, onboarding::today()),
            comments: comment_lines(list),
            comment_action: format!("/wissen/aufgaben/{id}/kommentare"),
            comment,
            comment_errs,
        }),
        failed,
    )
}

pub(super) async fn show_task(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    render_task(&st, &ctx, &p, id, String::new(), FormErrors::none(t)).await
}

// ---------------------------------------------------------------- feed of changes

struct ChangeLine {
    page_id: i64,
    title: String,
    what: String,
    who: String,
    when: String,
    note: String,
}

#[derive(Template)]
#[template(path = "knowledge/changes.html")]
struct ChangesTpl {
    l: Layout,
    handbook_id: i64,
    intro: String,
    rows: Vec<ChangeLine>,
    newer: bool,
    older: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct FeedQuery {
    /// Entries older than this one (the cursor of the "older" link).
    #[serde(default)]
    vor: String,
}

pub(super) async fn changes(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let before = match q.vor.trim() {
        "" => None,
        s => Some(id_of(s)?),
    };
    let f = changes::feed(&st.db.conn, Actor::User(&p), id, before, changes::PAGE_SIZE).await?;
    let intro = match &f.department {
        Some(d) => t.fmt("knowledge.changes.intro_department", d),
        None => t.get("knowledge.changes.intro").to_string(),
    };
    page(ChangesTpl {
        l: titled(
            &st,
            &ctx,
            "knowledge.changes.title",
            t.fmt("knowledge.changes.title", &f.handbook.title),
        ),
        handbook_id: id,
        intro,
        rows: f
            .rows
            .into_iter()
            .map(|c| ChangeLine {
                page_id: c.page_id,
                what: t.fmt(&c.kind.label_key(), &c.version.to_string()),
                title: c.title,
                who: c.actor,
                when: when(c.at),
                note: c.note,
            })
            .collect(),
        newer: before.is_some(),
        older: f.next,
    })
    .map(IntoResponse::into_response)
}
