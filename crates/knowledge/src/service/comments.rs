//! Comments on pages and checklist tasks, with `@address` mentions that notify by mail.
//!
//! Who may read the page (or see the task) may comment; the author, a knowledge manager
//! (and, on tasks, HR) may delete a comment. A mention mails the named colleague only when
//! they are active staff of the same tenant and may read the page or task themselves;
//! every other `@…` stays plain text. The mails go to the platform outbox in the
//! transaction that stores the comment and its audit event.

use super::{Reader, readable};
use crate::domain::comments::{self, COMMENT_MAX, MENTIONS_MAX, Target};
use crate::permissions::{MANAGE, ONBOARDING};
use crate::store::entity::{comment, onboarding, task};
use chrono::{DateTime, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, UserId};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_store::{accounts, mail};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder, Set};
use serde_json::json;

pub use crate::store::entity::comment::Model as Comment;

/// A comment as the reader sees it.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub id: i64,
    pub author: String,
    pub author_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// The Markdown as written.
    pub body: String,
    /// Rendered and sanitized; heading anchors carry the comment's id, so they cannot clash
    /// with the page's own.
    pub html: String,
    pub may_delete: bool,
}

/// A stored comment and whom its mentions notified.
#[derive(Debug)]
pub struct Added {
    pub comment: Comment,
    pub notified: Vec<i64>,
}

/// The task and its checklist, when the reader may see the task: its owner (person or role
/// holder), the colleague the checklist is for, or HR (`knowledge.onboarding`).
async fn visible_task(
    conn: &impl ConnectionTrait,
    r: &Reader<'_>,
    id: i64,
) -> Result<(task::Model, onboarding::Model)> {
    let scope = Scope::user(conn, r.p);
    let t = scope.get::<task::Entity, _>(id).await?;
    let ob = scope.get::<onboarding::Entity, _>(t.onboarding_id).await?;
    let me = r.p.user_id.0;
    let sees = t.owner_user_id == Some(me)
        || t.owner_role_id.is_some_and(|x| r.role_ids.contains(&x))
        || ob.user_id == Some(me)
        || r.p.has(ONBOARDING);
    if !sees {
        return Err(Error::NotFound);
    }
    Ok((t, ob))
}

/// The title the reader knows the target by (page title; task title with the checklist's
/// name), or `NotFound` when the reader may not see it.
async fn target_title(
    conn: &impl ConnectionTrait,
    r: &Reader<'_>,
    target: Target,
) -> Result<String> {
    match target {
        Target::Page(id) => Ok(readable(conn, r, id).await?.1.title),
        Target::Task(id) => {
            let (t, ob) = visible_task(conn, r, id).await?;
            Ok(format!("{} ({})", t.title, ob.name))
        }
    }
}

/// One task with its checklist, for the task's page.
pub async fn task(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
) -> Result<(task::Model, onboarding::Model)> {
    let r = Reader::load(db, by).await?;
    visible_task(db, &r, id).await
}

fn may_delete(p: &Principal, target: Target, c: &Comment) -> bool {
    c.author_id == Some(p.user_id.0)
        || p.has(MANAGE)
        || (matches!(target, Target::Task(_)) && p.has(ONBOARDING))
}

fn target_of(c: &Comment) -> Option<Target> {
    match (c.page_id, c.task_id) {
        (Some(p), _) => Some(Target::Page(p)),
        (None, Some(t)) => Some(Target::Task(t)),
        _ => None,
    }
}

/// Renders a comment's Markdown through the platform renderer.
fn render(id: i64, body: &str) -> Result<String> {
    let r = rathaus_web::markdown::render(body).map_err(Error::internal_from)?;
    Ok(r.html.replace(" id=\"md-", &format!(" id=\"k{id}-md-")))
}

/// The comments on a page or task, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    target: Target,
) -> Result<Vec<CommentView>> {
    let r = Reader::load(db, by).await?;
    target_title(db, &r, target).await?;
    let q = Scope::user(db, r.p).find::<comment::Entity>();
    let q = match target {
        Target::Page(id) => q.filter(comment::Column::PageId.eq(id)),
        Target::Task(id) => q.filter(comment::Column::TaskId.eq(id)),
    };
    q.order_by_asc(comment::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            Ok(CommentView {
                html: render(c.id, &c.body)?,
                may_delete: may_delete(r.p, target, &c),
                id: c.id,
                author: c.author_name,
                author_id: c.author_id,
                at: c.created_at,
                body: c.body,
            })
        })
        .collect()
}

/// Checks a comment's text: not empty, not longer than `COMMENT_MAX` characters.
fn check_body(body: &str) -> Result<String> {
    let mut errs = FieldErrors::new();
    let b = body.trim();
    if b.is_empty() {
        errs.add("body", "knowledge.err.comment_empty");
    } else if b.chars().count() > COMMENT_MAX {
        errs.add_arg("body", "knowledge.err.comment_too_long", Some(COMMENT_MAX));
    } else if b.contains('\0') {
        errs.add("body", "err.control_chars");
    }
    errs.into_result()?;
    Ok(b.to_string())
}

/// Whether the mentioned user may see the target, decided with their own permissions.
async fn may_see(conn: &impl ConnectionTrait, p: &Principal, target: Target) -> Result<bool> {
    let user = accounts::user_by_id(conn, p.tenant_id, p.user_id.0).await?;
    let r = Reader {
        p,
        department_id: user.department_id,
        role_ids: accounts::own_role_ids(conn, p).await?,
    };
    match target_title(conn, &r, target).await {
        Ok(_) => Ok(true),
        Err(Error::NotFound | Error::Forbidden) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The colleagues a comment's mentions reach: active staff of the tenant, not the author,
/// who may see the target. Unknown addresses are skipped.
async fn mentioned(
    conn: &impl ConnectionTrait,
    author: &Principal,
    target: Target,
    body: &str,
) -> Result<Vec<Principal>> {
    let mut out: Vec<Principal> = vec![];
    for addr in comments::mentions(body).into_iter().take(MENTIONS_MAX) {
        let Some(u) = accounts::find_by_email(conn, author.tenant_id, &addr).await? else {
            continue;
        };
        if u.id == author.user_id.0 || out.iter().any(|p| p.user_id.0 == u.id) {
            continue;
        }
        let Some(p) = accounts::principal(conn, author.tenant_id, UserId(u.id)).await? else {
            continue;
        };
        if p.citizen || p.email.is_empty() || !may_see(conn, &p, target).await? {
            continue;
        }
        out.push(p);
    }
    Ok(out)
}

/// The mention mail: who wrote where, the comment, and where to answer.
fn mention_mail(author: &str, target: Target, title: &str, body: &str) -> (String, String) {
    let t = catalog(Lang::De);
    let subject = t.fmt("knowledge.mail.mention_subject", author);
    let intro = t
        .fmt(&format!("knowledge.mail.mention_{}", target.kind()), author)
        .replace("{title}", title);
    let text = format!(
        "{intro}\n\n{body}\n\n{}\n",
        t.fmt("knowledge.mail.mention_open", &target.path())
    );
    (subject, text)
}

/// Adds a comment to a page or task the author may see, and mails the colleagues it
/// mentions.
pub async fn add(
    db: &DatabaseConnection,
    by: Actor<'_>,
    target: Target,
    body: &str,
) -> Result<Added> {
    let r = Reader::load(db, by).await?;
    let title = target_title(db, &r, target).await?;
    let body = check_body(body)?;
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    let (page_id, task_id) = match target {
        Target::Page(id) => (Some(id), None),
        Target::Task(id) => (None, Some(id)),
    };
    let c = tx
        .insert(comment::ActiveModel {
            page_id: Set(page_id),
            task_id: Set(task_id),
            author_id: Set(Some(r.p.user_id.0)),
            author_name: Set(r.p.name.clone()),
            body: Set(body.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    let to = mentioned(tx.conn(), r.p, target, &body).await?;
    let (subject, text) = mention_mail(&r.p.name, target, &title, &body);
    for p in &to {
        mail::queue(tx.conn(), tx.tenant(), &p.email, &subject, &text).await?;
    }
    let notified: Vec<i64> = to.iter().map(|p| p.user_id.0).collect();
    tx.audit(
        NewEvent::new("knowledge.comment_added", "knowledge_comment", Some(c.id))
            .details(json!({"on": target.kind(), "id": target.id(), "mentioned": notified})),
    )
    .await?;
    tx.commit().await?;
    Ok(Added {
        comment: c,
        notified,
    })
}

/// Deletes a comment (its author, a knowledge manager, on tasks also HR); answers what the
/// comment belonged to.
pub async fn delete(db: &DatabaseConnection, by: Actor<'_>, id: i64) -> Result<Target> {
    let r = Reader::load(db, by).await?;
    let c = Scope::user(db, r.p).get::<comment::Entity, _>(id).await?;
    let target = target_of(&c).ok_or(Error::NotFound)?;
    target_title(db, &r, target).await?;
    if !may_delete(r.p, target, &c) {
        return Err(Error::Forbidden);
    }
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    tx.delete_many::<comment::Entity>()
        .filter(comment::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("knowledge.comment_deleted", "knowledge_comment", Some(id)).details(json!({
            "on": target.kind(),
            "id": target.id(),
            "author_id": c.author_id,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(target)
}
