//! Demo data: a small realistic file plan (Ratsangelegenheiten, Bauordnung, Personal,
//! Wohngeld, Hundesteuer), a few files of each kind with cases and follow-ups, and — where a
//! file store is at hand (`sample_documents`) — short text documents that the search finds.
//! The data (German titles and texts) lives in `demo/demo.toml`; this file only writes it.

use crate::service::disposal::demo::DueFile;
use crate::service::documents::{self, DocumentInput};
use crate::service::files::{self, FileInput};
use crate::service::follow_ups::{self, FollowUpInput};
use crate::service::plan::{self, PlanItemInput};
use crate::store::entity::{document, file};
use rathaus_core::Principal;
use rathaus_store::Db;
use rathaus_store::files::{FileStore, Limits};
use rathaus_store::uow::{Actor, scoped};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

/// The data file, parsed when the demo runs.
const DATA: &str = include_str!("demo/demo.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    plan: Vec<PlanItem>,
    files: Vec<DemoFile>,
    due_files: Vec<DueFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanItem {
    code: String,
    title: String,
    retention_years: u32,
    retention_start: String,
    disposition: String,
}

/// An open file with what belongs into it.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DemoFile {
    plan: String,
    kind: String,
    title: String,
    subject_name: String,
    subject_birth_date: String,
    application_on: String,
    approval_end_on: String,
    dog_name: String,
    dog_breed: String,
    dog_list_dog: bool,
    dog_tag: String,
    dog_registered_on: String,
    dog_tax_class: String,
    cases: Vec<String>,
    follow_ups: Vec<FollowUp>,
    /// Sub-files (Teilakten) of a personnel file.
    sub_files: Vec<SubFile>,
    /// Text documents, filed by `sample_documents`.
    documents: Vec<Document>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowUp {
    due_on: String,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubFile {
    sub_kind: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    title: String,
    #[serde(default)]
    direction: String,
    text: String,
}

fn data() -> anyhow::Result<Data> {
    Ok(toml::from_str(DATA)?)
}

impl DemoFile {
    fn input(&self) -> FileInput {
        FileInput {
            plan_code: self.plan.clone(),
            kind: self.kind.clone(),
            title: self.title.clone(),
            subject_name: self.subject_name.clone(),
            subject_birth_date: self.subject_birth_date.clone(),
            application_on: self.application_on.clone(),
            approval_end_on: self.approval_end_on.clone(),
            dog_name: self.dog_name.clone(),
            dog_breed: self.dog_breed.clone(),
            dog_list_dog: self.dog_list_dog,
            dog_tag: self.dog_tag.clone(),
            dog_registered_on: self.dog_registered_on.clone(),
            dog_tax_class: self.dog_tax_class.clone(),
            ..Default::default()
        }
    }
}

/// The plan, files, cases and follow-ups (no document contents: see `sample_documents`);
/// nothing if the tenant already has a plan.
pub async fn demo(db: &Db, admin: &Principal) -> anyhow::Result<()> {
    let by = Actor::User(admin);
    let t = admin.tenant_id;
    if !plan::list(&db.conn, by, t).await?.is_empty() {
        return Ok(());
    }
    let data = data()?;
    for p in &data.plan {
        plan::create(
            &db.conn,
            by,
            t,
            &PlanItemInput {
                code: p.code.clone(),
                title: p.title.clone(),
                retention_years: p.retention_years.to_string(),
                retention_start: p.retention_start.clone(),
                disposition: p.disposition.clone(),
            },
        )
        .await?;
    }
    for d in &data.files {
        let f = files::create(&db.conn, by, t, &d.input()).await?;
        for s in &d.sub_files {
            let input = FileInput {
                parent_id: Some(f.id),
                sub_kind: s.sub_kind.clone(),
                title: s.title.clone(),
                ..d.input()
            };
            files::create(&db.conn, by, t, &input).await?;
        }
        for c in &d.cases {
            files::create_case(&db.conn, by, t, f.id, c).await?;
        }
        for u in &d.follow_ups {
            let input = FollowUpInput {
                due_on: u.due_on.clone(),
                note: u.note.clone(),
                user_id: Some(admin.user_id.0),
                ..Default::default()
            };
            follow_ups::create(&db.conn, by, t, f.id, &input).await?;
        }
    }
    crate::service::disposal::demo::due_files(db, admin, &data.due_files).await?;
    Ok(())
}

/// Files the demo's text documents into the demo files (needs the file store: `serve --demo`
/// calls it through `Module::demo_files`, tests directly). A document whose
/// title its file already has is skipped, so it may run at every demo start; a file that is
/// missing (renamed or deleted in the demo) gets none. Returns how many it filed.
pub async fn sample_documents(
    db: &Db,
    store: &FileStore,
    admin: &Principal,
) -> anyhow::Result<usize> {
    let by = Actor::User(admin);
    let t = admin.tenant_id;
    let mut filed = 0;
    for d in data()?.files {
        if d.documents.is_empty() {
            continue;
        }
        let Some(f) = scoped::<file::Entity>(t)
            .filter(file::Column::Title.eq(d.title.as_str()))
            .order_by_asc(file::Column::Id)
            .one(&db.conn)
            .await?
        else {
            continue;
        };
        for doc in d.documents {
            let there = scoped::<document::Entity>(t)
                .filter(document::Column::FileId.eq(f.id))
                .filter(document::Column::Title.eq(doc.title.as_str()))
                .count(&db.conn)
                .await?;
            if there > 0 {
                continue;
            }
            let data = bytes::Bytes::from(doc.text.into_bytes());
            documents::add(
                db,
                store,
                by,
                t,
                f.id,
                &DocumentInput {
                    title: doc.title.clone(),
                    direction: doc.direction,
                    ..Default::default()
                },
                Limits {
                    max_size: 1_000_000,
                    quota: None,
                },
                &format!("{}.txt", doc.title),
                futures_util::stream::iter([Ok(data)]),
            )
            .await?;
            filed += 1;
        }
    }
    Ok(filed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_and_documents_name_their_files() {
        let d = data().unwrap();
        assert!(d.plan.len() > 10);
        assert!(d.files.iter().filter(|f| !f.documents.is_empty()).count() >= 5);
        assert_eq!(d.due_files.len(), 5);
        assert!(
            d.files
                .iter()
                .flat_map(|f| &f.documents)
                .all(|doc| !doc.title.is_empty() && !doc.text.is_empty())
        );
    }
}
