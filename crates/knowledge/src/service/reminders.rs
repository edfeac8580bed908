//! The module's mails on a schedule (issue 14, items 3 and 9): every Monday morning each
//! page owner (the owner person and the members of the owner role) gets the pages they
//! answer for that are due for review, and every morning the owners of checklist tasks that
//! fell due get those tasks, each task once (`notified_at`). The texts come from the locale
//! files (German: the clerks of a German municipality); the mails go through the platform's
//! outbox in one transaction with the audit event that records them.
//!
//! Each run queues its successor *before* doing its work, so that a failing run (a retry
//! later, or given up) does not end the chain until the next restart; the successor is only
//! queued when none is queued yet, so retries of the same run queue no duplicates.

use rathaus_core::calendar::next_run_berlin;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::{Principal, Result, TenantId, UserId};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_store::{Db, accounts, jobs, mail};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};
use serde_json::json;

use super::{Handbook, Reader};
use crate::domain;
use crate::store::entity::{handbook, onboarding, page, task};

/// The job kind of the weekly review mail.
pub const REVIEWS_JOB: &str = "knowledge.review_mail";
/// The job kind of the daily mail about tasks that fell due.
pub const TASKS_JOB: &str = "knowledge.task_mail";

/// Monday morning, Europe/Berlin: the week's reviews before work starts.
const REVIEW_DAY: Weekday = Weekday::Mon;
const RUN_HOUR: u32 = 6;

/// The most entries one mail names; the rest are counted.
pub const MAX_NAMED: usize = 100;

const ACTOR: Actor<'static> = Actor::system("knowledge.reminders");

/// Today in Europe/Berlin (the due dates are the municipality's days).
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Berlin).date_naive()
}

/// Queues the first run of both mails for every tenant without one queued or running (at
/// migrate; a tenant made later gets its runs at the next start).
pub async fn schedule_all(db: &Db) -> Result<usize> {
    let now = Utc::now();
    Ok(jobs::schedule_for_all_tenants(
        &db.conn,
        REVIEWS_JOB,
        next_run_berlin(now, RUN_HOUR, 0, Some(REVIEW_DAY)),
    )
    .await?
        + jobs::schedule_for_all_tenants(
            &db.conn,
            TASKS_JOB,
            next_run_berlin(now, RUN_HOUR, 0, None),
        )
        .await?)
}

/// One weekly run: next week's run queued first, then the mails.
pub async fn run_weekly(db: &Db, tenant: TenantId) -> Result<usize> {
    let next = next_run_berlin(Utc::now(), RUN_HOUR, 1, Some(REVIEW_DAY));
    jobs::queue_successor(&db.conn, tenant, REVIEWS_JOB, next).await?;
    send_reviews(&db.conn, tenant, Utc::now()).await
}

/// One daily run: tomorrow's run queued first, then the mails.
pub async fn run_daily(db: &Db, tenant: TenantId) -> Result<usize> {
    let next = next_run_berlin(Utc::now(), RUN_HOUR, 1, None);
    jobs::queue_successor(&db.conn, tenant, TASKS_JOB, next).await?;
    send_tasks(&db.conn, tenant, today()).await
}

fn de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// The active staff of the tenant with a mail address, as principals.
async fn staff(conn: &DatabaseConnection, tenant: TenantId) -> Result<Vec<Principal>> {
    let mut out = Vec::new();
    for u in accounts::list_active_staff(conn, tenant).await? {
        if u.email.is_empty() {
            continue;
        }
        if let Some(p) = accounts::principal(conn, tenant, UserId(u.id)).await?
            && !p.citizen
        {
            out.push(p);
        }
    }
    Ok(out)
}

/// A mail of lines: subject, intro, at most `MAX_NAMED` lines, the count of the rest and a
/// closing paragraph.
fn compose(prefix: &str, lines: &[String]) -> (String, String) {
    let t = catalog(Lang::De);
    let subject = t.fmt(&format!("{prefix}_subject"), &lines.len().to_string());
    let mut b = format!("{}\n\n", t.get(&format!("{prefix}_intro")));
    for l in lines.iter().take(MAX_NAMED) {
        b.push_str(&format!("- {l}\n"));
    }
    let more = lines.len().saturating_sub(MAX_NAMED);
    if more > 0 {
        b.push_str(&format!(
            "{}\n",
            t.fmt("knowledge.mail.more", &more.to_string())
        ));
    }
    b.push_str(&format!("\n{}\n", t.get(&format!("{prefix}_footer"))));
    (subject, b)
}

/// Mails each owner the pages they answer for and may read that are due for review at
/// `now`, and records the run; returns how many mails were queued.
pub async fn send_reviews(
    db: &DatabaseConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<usize> {
    let scope = Scope::system(db, tenant, "knowledge.reminders");
    let pages: Vec<page::Model> = scope
        .find::<page::Entity>()
        .filter(page::Column::DeletedAt.is_null())
        .filter(page::Column::ReviewDays.is_not_null())
        .order_by_asc(page::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|pg| {
            domain::is_outdated(
                domain::review_due(pg.review_days, pg.reviewed_at, pg.created_at),
                now,
            )
        })
        .collect();
    let mut mails = Vec::new();
    if !pages.is_empty() {
        let hbs: HashMap<i64, Handbook> = scope
            .find::<handbook::Entity>()
            .all(db)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let t = catalog(Lang::De);
        for p in staff(db, tenant).await? {
            let r = Reader::load(db, Actor::User(&p)).await?;
            let mut due: Vec<(DateTime<Utc>, String)> = pages
                .iter()
                .filter(|pg| r.owns(pg))
                .filter_map(|pg| {
                    let h = hbs.get(&pg.handbook_id)?;
                    let at = domain::review_due(pg.review_days, pg.reviewed_at, pg.created_at)?;
                    r.may_read_page(h, pg).then(|| {
                        let line = t
                            .fmt(
                                "knowledge.mail.review_line",
                                &de(at.with_timezone(&Berlin).date_naive()),
                            )
                            .replace("{title}", &pg.title)
                            .replace("{handbook}", &h.title)
                            .replace("{path}", &format!("/wissen/seiten/{}", pg.id));
                        (at, line)
                    })
                })
                .collect();
            if due.is_empty() {
                continue;
            }
            due.sort_by_key(|d| d.0);
            let lines: Vec<String> = due.into_iter().map(|d| d.1).collect();
            mails.push((
                p.email.clone(),
                p.user_id.0,
                compose("knowledge.mail.review", &lines),
            ));
        }
    }
    let tx = Tx::begin(db, tenant, ACTOR).await?;
    for (to, _, (subject, body)) in &mails {
        mail::queue(tx.conn(), tenant, to, subject, body).await?;
    }
    tx.audit(
        NewEvent::new("knowledge.review_mails_sent", "knowledge_page", None::<i64>).details(
            json!({
                "at": now,
                "recipients": mails.iter().map(|m| m.1).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(mails.len())
}

/// Mails the owners of every open task due on or before `today` that was not mailed yet
/// (the owner person; every member of the owner role; the colleague the checklist is for,
/// when it is linked to their account), one mail per person, and marks the tasks mailed —
/// also those nobody could be told of, so that no task is mailed twice. Returns how many
/// mails were queued.
pub async fn send_tasks(
    db: &DatabaseConnection,
    tenant: TenantId,
    today: NaiveDate,
) -> Result<usize> {
    let scope = Scope::system(db, tenant, "knowledge.reminders");
    let due = scope
        .find::<task::Entity>()
        .filter(task::Column::DoneAt.is_null())
        .filter(task::Column::NotifiedAt.is_null())
        .filter(task::Column::DueDate.lte(today))
        .order_by_asc(task::Column::DueDate)
        .order_by_asc(task::Column::Id)
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let obs: HashMap<i64, onboarding::Model> = scope
        .find::<onboarding::Entity>()
        .filter(onboarding::Column::Id.is_in(due.iter().map(|t| t.onboarding_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let t = catalog(Lang::De);
    // Per recipient (by user id, in a stable order) their lines.
    let mut to: BTreeMap<i64, (String, Vec<String>)> = BTreeMap::new();
    for p in staff(db, tenant).await? {
        let roles = accounts::own_role_ids(db, &p).await?;
        let me = p.user_id.0;
        for tk in &due {
            let Some(ob) = obs.get(&tk.onboarding_id) else {
                continue;
            };
            let owns = match tk.owner_kind.as_str() {
                "newcomer" => ob.user_id == Some(me),
                _ => {
                    tk.owner_user_id == Some(me)
                        || tk.owner_role_id.is_some_and(|r| roles.contains(&r))
                }
            };
            if !owns {
                continue;
            }
            let line = t
                .fmt("knowledge.mail.task_line", &de(tk.due_date))
                .replace("{title}", &tk.title)
                .replace("{name}", &ob.name)
                .replace("{path}", &format!("/wissen/aufgaben/{}", tk.id));
            to.entry(me)
                .or_insert_with(|| (p.email.clone(), Vec::new()))
                .1
                .push(line);
        }
    }
    let ids: Vec<i64> = due.iter().map(|t| t.id).collect();
    let tx = Tx::begin(db, tenant, ACTOR).await?;
    for (email, lines) in to.values() {
        let (subject, body) = compose("knowledge.mail.task", lines);
        mail::queue(tx.conn(), tenant, email, &subject, &body).await?;
    }
    tx.update_many::<task::Entity>()
        .col_expr(task::Column::NotifiedAt, Expr::value(Some(Utc::now())))
        .filter(task::Column::Id.is_in(ids.clone()))
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("knowledge.task_mails_sent", "knowledge_task", None::<i64>).details(json!({
            "on": today,
            "tasks": ids,
            "recipients": to.keys().collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(to.len())
}
