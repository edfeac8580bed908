//! Demo data through the services: handbooks with chapters and pages (one with two
//! versions that asks for read confirmation and has a comment, one due for review), one
//! onboarding template per department, and one onboarding started. The texts are in
//! `demo/data.toml`.

use crate::domain::ChecklistKind;
use crate::service::{self, onboarding};
use rathaus_core::Principal;
use rathaus_store::uow::Actor;
use rathaus_store::{Db, accounts};
use serde::Deserialize;
use std::collections::HashMap;

const DATA: &str = include_str!("demo/data.toml");

#[derive(Deserialize)]
struct Data {
    template_name: String,
    offboarding_template_name: String,
    newcomer: String,
    handbooks: Vec<HandbookData>,
    tasks: Vec<TaskData>,
    offboarding_tasks: Vec<TaskData>,
}

#[derive(Deserialize)]
struct HandbookData {
    title: String,
    description: String,
    #[serde(default)]
    department: Option<String>,
    visibility: String,
    chapters: Vec<ChapterData>,
}

#[derive(Deserialize)]
struct ChapterData {
    title: String,
    pages: Vec<PageData>,
}

#[derive(Deserialize)]
struct PageData {
    title: String,
    body: String,
    #[serde(default)]
    requires_confirmation: bool,
    review_days: Option<i32>,
    second_body: Option<String>,
    #[serde(default)]
    second_note: String,
    /// A comment under the page.
    comment: Option<String>,
}

#[derive(Deserialize)]
struct TaskData {
    title: String,
    offset_days: i32,
    owner: String,
    page: Option<String>,
}

pub async fn demo(db: &Db, admin: &Principal) -> anyhow::Result<()> {
    let data: Data = toml::from_str(DATA)?;
    let by = Actor::User(admin);
    let depts: HashMap<String, i64> = accounts::list_departments(&db.conn, admin.tenant_id)
        .await?
        .into_iter()
        .map(|d| (d.name, d.id))
        .collect();
    let roles: HashMap<String, i64> = accounts::list_roles(&db.conn, admin.tenant_id)
        .await?
        .into_iter()
        .map(|(r, _)| (r.name, r.id))
        .collect();
    let mut pages: HashMap<String, i64> = HashMap::new();
    for hb in data.handbooks {
        let department_id = hb.department.as_ref().and_then(|d| depts.get(d).copied());
        let visibility = if department_id.is_none() && hb.visibility == "department" {
            "all".to_string()
        } else {
            hb.visibility
        };
        let h = service::create_handbook(
            &db.conn,
            by,
            service::HandbookInput {
                title: hb.title,
                description: hb.description,
                department_id,
                visibility,
                role_ids: vec![],
            },
        )
        .await?;
        for ch in hb.chapters {
            let c = service::create_chapter(&db.conn, by, h.id, &ch.title).await?;
            for pg in ch.pages {
                let created = service::create_page(
                    &db.conn,
                    by,
                    service::PageInput {
                        handbook_id: h.id,
                        chapter_id: Some(c.id),
                        title: pg.title.clone(),
                        body: pg.body,
                        note: String::new(),
                        draft: false,
                        requires_confirmation: pg.requires_confirmation,
                        owner_user_id: Some(admin.user_id.0),
                        owner_role_id: None,
                        review_days: pg.review_days,
                    },
                )
                .await?;
                if let Some(second) = pg.second_body {
                    service::save_page(
                        &db.conn,
                        by,
                        created.id,
                        service::SaveInput {
                            base_version: created.version,
                            title: created.title.clone(),
                            body: second,
                            note: pg.second_note,
                            major: false,
                            settings: None,
                        },
                    )
                    .await?;
                }
                if let Some(text) = pg.comment {
                    service::comments::add(
                        &db.conn,
                        by,
                        crate::domain::comments::Target::Page(created.id),
                        &text,
                    )
                    .await?;
                }
                pages.insert(pg.title, created.id);
            }
        }
    }
    let task_inputs = |list: &[TaskData]| -> Vec<onboarding::TaskInput> {
        list.iter()
            .map(|t| onboarding::TaskInput {
                title: t.title.clone(),
                offset_days: t.offset_days,
                owner: match t.owner.strip_prefix("role:") {
                    Some(r) => roles
                        .get(r)
                        .map(|id| onboarding::Owner::Role(*id))
                        .unwrap_or(onboarding::Owner::User(admin.user_id.0)),
                    None if t.owner == "newcomer" => onboarding::Owner::Newcomer,
                    None => onboarding::Owner::User(admin.user_id.0),
                },
                page_id: t.page.as_ref().and_then(|p| pages.get(p).copied()),
            })
            .collect()
    };
    let tasks = task_inputs(&data.tasks);
    let leaving = task_inputs(&data.offboarding_tasks);
    let mut first = None;
    let mut names: Vec<(&String, &i64)> = depts.iter().collect();
    names.sort();
    for (name, id) in names {
        let t = onboarding::create_template(
            &db.conn,
            by,
            &data.template_name.replace("{department}", name),
            Some(*id),
            ChecklistKind::Onboarding,
            tasks.clone(),
        )
        .await?;
        first.get_or_insert((*id, t.id));
        onboarding::create_template(
            &db.conn,
            by,
            &data.offboarding_template_name.replace("{department}", name),
            Some(*id),
            ChecklistKind::Offboarding,
            leaving.clone(),
        )
        .await?;
    }
    if let Some((department_id, template_id)) = first {
        let today = onboarding::today();
        onboarding::start(
            &db.conn,
            by,
            onboarding::OnboardingInput {
                name: data.newcomer,
                start_date: today + chrono::Duration::days(3),
                department_id,
                template_id: Some(template_id),
                user_id: None,
                kind: ChecklistKind::Onboarding,
            },
            today,
        )
        .await?;
    }
    Ok(())
}
