//! Onboarding checklists: templates per department with tasks due relative to the start
//! date, and per new colleague a checklist with real dates and owners.
//!
//! A start date in the past is allowed (colleagues are sometimes registered late), the
//! answer says so (`past`) and the tasks already due show as overdue; a start more than
//! a year away in either direction is refused as a typing error.

use crate::domain::{self};
use crate::permissions::{MANAGE, ONBOARDING, READ};
use crate::store::entity::{onboarding, task, template, template_task};
use chrono::{Duration, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result};
use rathaus_store::accounts;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, QueryFilter, QueryOrder, Set};
use serde_json::json;
use std::collections::HashMap;

pub use crate::store::entity::onboarding::Model as Onboarding;
pub use crate::store::entity::task::Model as Task;
pub use crate::store::entity::template::Model as Template;

/// How far from today a start date may lie.
pub const START_RANGE_DAYS: i64 = 366;

/// Who does a template task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Role(i64),
    User(i64),
    /// The new colleague.
    Newcomer,
}

#[derive(Debug, Clone)]
pub struct TaskInput {
    pub title: String,
    /// Days from the start date (−5: five days before).
    pub offset_days: i32,
    pub owner: Owner,
    pub page_id: Option<i64>,
}

/// Creates a checklist template (`knowledge.manage`). A department's first template is its
/// default.
pub async fn create_template(
    db: &DatabaseConnection,
    by: Actor<'_>,
    name: &str,
    department_id: Option<i64>,
    kind: domain::ChecklistKind,
    tasks: Vec<TaskInput>,
) -> Result<Template> {
    by.require(MANAGE)?;
    let p = super::principal(by)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", name, domain::TITLE_MAX);
    if tasks.is_empty() {
        errs.add("tasks", "knowledge.err.no_tasks");
    }
    for (i, t) in tasks.iter().enumerate() {
        errs.text(&format!("tasks.{i}.title"), &t.title, 300);
        if t.offset_days.abs() > domain::OFFSET_DAYS_MAX {
            errs.add_arg(
                &format!("tasks.{i}.offset_days"),
                "knowledge.err.offset_range",
                Some(domain::OFFSET_DAYS_MAX),
            );
        }
    }
    if let Some(d) = department_id
        && !accounts::list_departments(db, p.tenant_id)
            .await?
            .iter()
            .any(|x| x.id == d)
    {
        errs.add("department", "err.invalid_choice");
    }
    errs.into_result()?;
    let tx = Tx::begin(db, p.tenant_id, by).await?;
    let has_default = tx
        .find::<template::Entity>()
        .filter(match department_id {
            Some(d) => template::Column::DepartmentId.eq(d),
            None => template::Column::DepartmentId.is_null(),
        })
        .filter(template::Column::Kind.eq(kind.code()))
        .filter(template::Column::IsDefault.eq(true))
        .one(tx.conn())
        .await?
        .is_some();
    let t = tx
        .insert(template::ActiveModel {
            name: Set(name),
            department_id: Set(department_id),
            is_default: Set(!has_default),
            kind: Set(kind.code().into()),
            ..Default::default()
        })
        .await?;
    for (i, inp) in tasks.into_iter().enumerate() {
        let (kind, role, user) = match inp.owner {
            Owner::Role(r) => ("role", Some(r), None),
            Owner::User(u) => ("user", None, Some(u)),
            Owner::Newcomer => ("newcomer", None, None),
        };
        tx.insert(template_task::ActiveModel {
            template_id: Set(t.id),
            title: Set(inp.title.trim().to_string()),
            offset_days: Set(inp.offset_days),
            owner_kind: Set(kind.into()),
            owner_role_id: Set(role),
            owner_user_id: Set(user),
            page_id: Set(inp.page_id),
            position: Set(i as i32),
            ..Default::default()
        })
        .await?;
    }
    tx.audit(
        NewEvent::new(
            "knowledge.template_created",
            "knowledge_template",
            Some(t.id),
        )
        .details(json!({"name": t.name, "department_id": department_id, "kind": kind.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// The templates, by name.
pub async fn templates(db: &DatabaseConnection, by: Actor<'_>) -> Result<Vec<Template>> {
    let p = super::principal(by)?;
    if !(p.has(ONBOARDING) || p.has(MANAGE)) {
        return Err(Error::Forbidden);
    }
    Ok(Scope::user(db, p)
        .find::<template::Entity>()
        .order_by_asc(template::Column::Name)
        .all(db)
        .await?)
}

/// A template task as the template list shows it.
pub struct TemplateLine {
    pub title: String,
    pub offset_days: i32,
    /// The role's or person's name; empty for the new colleague.
    pub owner: String,
    pub page_id: Option<i64>,
}

/// The templates with their tasks in order (`knowledge.onboarding` or `knowledge.manage`).
pub async fn templates_with_tasks(
    db: &DatabaseConnection,
    by: Actor<'_>,
) -> Result<Vec<(Template, Vec<TemplateLine>)>> {
    let list = templates(db, by).await?;
    let p = super::principal(by)?;
    let scope = Scope::user(db, p);
    let items = scope
        .find::<template_task::Entity>()
        .order_by_asc(template_task::Column::Position)
        .all(db)
        .await?;
    let roles: HashMap<i64, String> = accounts::list_roles(db, p.tenant_id)
        .await?
        .into_iter()
        .map(|(r, _)| (r.id, r.name))
        .collect();
    let users: HashMap<i64, String> = accounts::users_by_ids(
        db,
        p.tenant_id,
        items
            .iter()
            .filter_map(|t| t.owner_user_id)
            .collect::<Vec<_>>(),
    )
    .await?
    .into_iter()
    .map(|u| (u.id, u.name))
    .collect();
    Ok(list
        .into_iter()
        .map(|t| {
            let lines = items
                .iter()
                .filter(|i| i.template_id == t.id)
                .map(|i| TemplateLine {
                    title: i.title.clone(),
                    offset_days: i.offset_days,
                    owner: match i.owner_kind.as_str() {
                        "user" => i.owner_user_id.and_then(|u| users.get(&u).cloned()),
                        "role" => i.owner_role_id.and_then(|r| roles.get(&r).cloned()),
                        _ => None,
                    }
                    .unwrap_or_default(),
                    page_id: i.page_id,
                })
                .collect();
            (t, lines)
        })
        .collect())
}

pub struct OnboardingInput {
    pub name: String,
    pub start_date: NaiveDate,
    pub department_id: i64,
    pub template_id: Option<i64>,
    /// The new colleague's account, when it exists already.
    pub user_id: Option<i64>,
    /// Which default template to use when none is given (a given template brings its own).
    pub kind: domain::ChecklistKind,
}

/// A started onboarding with its tasks; `past` when the start date lies before today.
#[derive(Debug)]
pub struct Started {
    pub onboarding: Onboarding,
    pub tasks: Vec<Task>,
    pub past: bool,
}

/// Starts an onboarding (`knowledge.onboarding`): the template's tasks with real dates and
/// owners. Without a template the department's default is used.
pub async fn start(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: OnboardingInput,
    today: NaiveDate,
) -> Result<Started> {
    by.require(ONBOARDING)?;
    let p = super::principal(by)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, domain::TITLE_MAX);
    if (inp.start_date - today).num_days().abs() > START_RANGE_DAYS {
        errs.add_arg(
            "start_date",
            "knowledge.err.start_range",
            Some(START_RANGE_DAYS),
        );
    }
    if !accounts::list_departments(db, p.tenant_id)
        .await?
        .iter()
        .any(|x| x.id == inp.department_id)
    {
        errs.add("department", "err.invalid_choice");
    }
    let newcomer = match inp.user_id {
        Some(u) => match accounts::user_by_id(db, p.tenant_id, u).await {
            Ok(u) => Some(u),
            Err(_) => {
                errs.add("user_id", "err.invalid_choice");
                None
            }
        },
        None => None,
    };
    errs.into_result()?;
    let tx = Tx::begin(db, p.tenant_id, by).await?;
    let tpl = match inp.template_id {
        Some(t) => tx
            .get::<template::Entity, _>(t)
            .await
            .map_err(|_| FieldErrors::single("template_id", "err.invalid_choice"))?,
        None => tx
            .find::<template::Entity>()
            .filter(template::Column::DepartmentId.eq(inp.department_id))
            .filter(template::Column::Kind.eq(inp.kind.code()))
            .filter(template::Column::IsDefault.eq(true))
            .one(tx.conn())
            .await?
            .ok_or_else(|| FieldErrors::single("template_id", "knowledge.err.no_template"))?,
    };
    let items = tx
        .find::<template_task::Entity>()
        .filter(template_task::Column::TemplateId.eq(tpl.id))
        .order_by_asc(template_task::Column::Position)
        .all(tx.conn())
        .await?;
    let roles: HashMap<i64, String> = accounts::list_roles(tx.conn(), p.tenant_id)
        .await?
        .into_iter()
        .map(|(r, _)| (r.id, r.name))
        .collect();
    let user_ids: Vec<i64> = items.iter().filter_map(|t| t.owner_user_id).collect();
    let users: HashMap<i64, String> = accounts::users_by_ids(tx.conn(), p.tenant_id, user_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let ob = tx
        .insert(onboarding::ActiveModel {
            name: Set(name.clone()),
            start_date: Set(inp.start_date),
            department_id: Set(inp.department_id),
            template_id: Set(tpl.id),
            user_id: Set(newcomer.as_ref().map(|u| u.id)),
            created_by: Set(p.name.clone()),
            created_at: Set(Utc::now()),
            kind: Set(tpl.kind.clone()),
            ..Default::default()
        })
        .await?;
    let mut tasks = vec![];
    for it in items {
        let due = domain::due_date(inp.start_date, it.offset_days)
            .ok_or_else(|| FieldErrors::single("start_date", "knowledge.err.offset_range"))?;
        let (user, label) = match it.owner_kind.as_str() {
            "user" => (
                it.owner_user_id,
                it.owner_user_id
                    .and_then(|u| users.get(&u).cloned())
                    .unwrap_or_default(),
            ),
            "newcomer" => (newcomer.as_ref().map(|u| u.id), name.clone()),
            _ => (
                None,
                it.owner_role_id
                    .and_then(|r| roles.get(&r).cloned())
                    .unwrap_or_default(),
            ),
        };
        tasks.push(
            tx.insert(task::ActiveModel {
                onboarding_id: Set(ob.id),
                title: Set(it.title),
                due_date: Set(due),
                owner_kind: Set(it.owner_kind),
                owner_role_id: Set(it.owner_role_id),
                owner_user_id: Set(user),
                owner_label: Set(label),
                page_id: Set(it.page_id),
                position: Set(it.position),
                done_at: Set(None),
                done_by: Set(None),
                ..Default::default()
            })
            .await?,
        );
    }
    tx.audit(
        NewEvent::new("knowledge.onboarding_started", "knowledge_onboarding", Some(ob.id))
            .details(json!({"template_id": tpl.id, "kind": tpl.kind, "start_date": inp.start_date.to_string(), "tasks": tasks.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(Started {
        past: inp.start_date < today,
        onboarding: ob,
        tasks,
    })
}

/// Onboardings, newest start first (`knowledge.onboarding`).
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
) -> Result<Vec<(Onboarding, usize, usize)>> {
    by.require(ONBOARDING)?;
    let p = super::principal(by)?;
    let scope = Scope::user(db, p);
    let obs = scope
        .find::<onboarding::Entity>()
        .order_by_desc(onboarding::Column::StartDate)
        .all(db)
        .await?;
    let tasks = scope
        .find::<task::Entity>()
        .filter(task::Column::OnboardingId.is_in(obs.iter().map(|o| o.id)))
        .all(db)
        .await?;
    Ok(obs
        .into_iter()
        .map(|o| {
            let mine: Vec<&Task> = tasks.iter().filter(|t| t.onboarding_id == o.id).collect();
            let done = mine.iter().filter(|t| t.done_at.is_some()).count();
            let n = mine.len();
            (o, done, n)
        })
        .collect())
}

/// One onboarding with its tasks: for HR (`knowledge.onboarding`) and the new colleague.
pub async fn get(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
) -> Result<(Onboarding, Vec<Task>)> {
    let p = super::principal(by)?;
    let scope = Scope::user(db, p);
    let ob = scope.get::<onboarding::Entity, _>(id).await?;
    if !(p.has(ONBOARDING) || ob.user_id == Some(p.user_id.0)) {
        return Err(Error::NotFound);
    }
    let tasks = scope
        .find::<task::Entity>()
        .filter(task::Column::OnboardingId.eq(id))
        .order_by_asc(task::Column::DueDate)
        .order_by_asc(task::Column::Position)
        .all(db)
        .await?;
    Ok((ob, tasks))
}

/// The open and done tasks the user owns (by person or role), with the onboarding's name.
pub async fn my_tasks(db: &DatabaseConnection, by: Actor<'_>) -> Result<Vec<(Task, String)>> {
    let p = super::principal(by)?;
    if !(p.has(READ) || p.has(ONBOARDING)) {
        return Err(Error::Forbidden);
    }
    let roles = accounts::own_role_ids(db, p).await?;
    let scope = Scope::user(db, p);
    let tasks = scope
        .find::<task::Entity>()
        .filter(
            Condition::any()
                .add(task::Column::OwnerUserId.eq(p.user_id.0))
                .add(task::Column::OwnerRoleId.is_in(roles)),
        )
        .order_by_asc(task::Column::DueDate)
        .all(db)
        .await?;
    let names: HashMap<i64, String> = scope
        .find::<onboarding::Entity>()
        .filter(onboarding::Column::Id.is_in(tasks.iter().map(|t| t.onboarding_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(tasks
        .into_iter()
        .map(|t| {
            let n = names.get(&t.onboarding_id).cloned().unwrap_or_default();
            (t, n)
        })
        .collect())
}

/// Marks a task done or open again: its owner (person, role holder, the new colleague) or
/// HR.
pub async fn set_done(db: &DatabaseConnection, by: Actor<'_>, id: i64, done: bool) -> Result<Task> {
    let p = super::principal(by)?;
    let roles = accounts::own_role_ids(db, p).await?;
    let tx = Tx::begin(db, p.tenant_id, by).await?;
    let t = tx.get::<task::Entity, _>(id).await?;
    let ob = tx.get::<onboarding::Entity, _>(t.onboarding_id).await?;
    let owns = t.owner_user_id == Some(p.user_id.0)
        || t.owner_role_id.is_some_and(|r| roles.contains(&r))
        || ob.user_id == Some(p.user_id.0);
    if !(owns || p.has(ONBOARDING)) {
        return Err(Error::NotFound);
    }
    let (at, who) = if done {
        (Some(Utc::now()), Some(p.name.clone()))
    } else {
        (None, None)
    };
    tx.update_many::<task::Entity>()
        .col_expr(task::Column::DoneAt, Expr::value(at))
        .col_expr(task::Column::DoneBy, Expr::value(who))
        .filter(task::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new(
            if done {
                "knowledge.task_done"
            } else {
                "knowledge.task_reopened"
            },
            "knowledge_task",
            Some(id),
        )
        .details(json!({"onboarding_id": t.onboarding_id})),
    )
    .await?;
    let t = tx.get::<task::Entity, _>(id).await?;
    tx.commit().await?;
    Ok(t)
}

/// Whether a task is overdue on `today`.
pub fn overdue(t: &Task, today: NaiveDate) -> bool {
    t.done_at.is_none() && t.due_date < today
}

/// Today in the municipality's time zone is close enough to UTC for due dates: a day's
/// shift at midnight is harmless for a checklist.
pub fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(1)).date_naive()
}

/// For the staff dashboard: the user's open checklist tasks due within a week (and whether
/// one is overdue); none for a user without the module.
pub async fn due_soon(db: &DatabaseConnection, by: Actor<'_>) -> Result<(u64, bool)> {
    let tasks = match my_tasks(db, by).await {
        Ok(t) => t,
        Err(Error::Forbidden) => return Ok((0, false)),
        Err(e) => return Err(e),
    };
    let today = chrono::Utc::now().date_naive();
    let open: Vec<_> = tasks
        .iter()
        .filter(|(t, _)| t.done_at.is_none() && t.due_date <= today + chrono::Duration::days(7))
        .collect();
    let overdue = open.iter().any(|(t, _)| t.due_date < today);
    Ok((open.len() as u64, overdue))
}
