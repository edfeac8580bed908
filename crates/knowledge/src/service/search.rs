//! Pages in the platform search: title and Markdown text, visible to the readers of their
//! handbook (all holders of `knowledge.read`, the department's members, the named roles;
//! managers always; drafts only managers). Every save enqueues the page in its transaction.

use super::{Reader, Visibility};
use crate::permissions::{MANAGE, READ};
use crate::store::entity::{attachment, handbook, page};
use async_trait::async_trait;
use rathaus_core::{Error, Result, TenantId};
use rathaus_extract::store::entity as extract_text;
use rathaus_search::{Doc, DocField, DocKind, DocSource, Op, Results, SearchRequest, visibility};
use rathaus_store::Db;
use rathaus_store::uow::{Actor, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// The kind's name: facet value, outbox kind and `search.kind.knowledge.page` label.
pub const KIND: &str = "knowledge.page";

/// The visibility term of a role's holders (the platform's terms have none for roles).
pub fn role_term(id: i64) -> String {
    format!("role:{id}")
}

/// Records that page `id` changed, in the caller's transaction.
pub async fn index_later(tx: &Tx<'_>, id: i64) -> Result<()> {
    rathaus_search::enqueue(tx, KIND, id, Op::Upsert).await
}

/// Who may find pages of this handbook.
pub fn visible_to(h: &handbook::Model, draft: bool) -> Vec<String> {
    let mut v = vec![visibility::permission(MANAGE)];
    if draft {
        return v;
    }
    match Visibility::parse(&h.visibility) {
        Some(Visibility::All) => v.push(visibility::permission(READ)),
        Some(Visibility::Department) => {
            if let Some(d) = h.department_id {
                v.push(visibility::department(d));
            }
        }
        Some(Visibility::Roles) => v.extend(
            crate::domain::parse_ids(&h.role_ids)
                .into_iter()
                .map(role_term),
        ),
        None => {}
    }
    v
}

/// Loads pages for the index.
pub struct PageDocs;

async fn docs(db: &Db, tenant: TenantId, rows: Vec<page::Model>) -> anyhow::Result<Vec<Doc>> {
    let hbs: HashMap<i64, handbook::Model> = rathaus_store::uow::scoped::<handbook::Entity>(tenant)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let depts: HashMap<i64, String> = rathaus_store::accounts::list_departments(&db.conn, tenant)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    // The names of attached files are found with their page, and so is the text extracted
    // from attached documents (once the extraction job has stored it).
    let mut files: HashMap<i64, Vec<String>> = HashMap::new();
    let mut file_pages: Vec<(i64, i64)> = Vec::new();
    for a in rathaus_store::uow::scoped::<attachment::Entity>(tenant)
        .filter(attachment::Column::PageId.is_in(rows.iter().map(|p| p.id)))
        .order_by_asc(attachment::Column::Id)
        .all(&db.conn)
        .await?
    {
        files.entry(a.page_id).or_default().push(a.name);
        file_pages.push((a.file_id, a.page_id));
    }
    let mut texts: HashMap<i64, String> = HashMap::new();
    if !file_pages.is_empty() {
        let extracted: HashMap<i64, String> =
            rathaus_store::uow::scoped::<extract_text::Entity>(tenant)
                .filter(extract_text::Column::FileId.is_in(file_pages.iter().map(|f| f.0)))
                .filter(extract_text::Column::Status.eq(rathaus_extract::Status::Ok.as_str()))
                .all(&db.conn)
                .await?
                .into_iter()
                .map(|t| (t.file_id, t.text))
                .collect();
        for (file_id, page_id) in file_pages {
            if let Some(t) = extracted.get(&file_id) {
                let body = texts.entry(page_id).or_default();
                body.push_str("\n\n");
                body.push_str(t);
            }
        }
    }
    Ok(rows
        .into_iter()
        .filter(|p| p.deleted_at.is_none())
        .filter_map(|p| {
            let h = hbs.get(&p.handbook_id)?;
            let mut tags = vec![h.title.clone()];
            tags.extend(files.remove(&p.id).unwrap_or_default());
            Some(Doc {
                id: p.id,
                tenant,
                url: crate::domain::links::url(p.id),
                tags,
                date: Some(p.updated_at),
                department: h.department_id.and_then(|d| depts.get(&d).cloned()),
                visible_to: visible_to(h, p.draft),
                title: p.title,
                body: match texts.remove(&p.id) {
                    Some(t) => p.body + &t,
                    None => p.body,
                },
            })
        })
        .collect())
}

#[async_trait]
impl DocSource for PageDocs {
    fn kind(&self) -> DocKind {
        DocKind {
            name: KIND,
            fields: &[
                DocField::Title,
                DocField::Body,
                DocField::Tags,
                DocField::Date,
                DocField::Department,
            ],
        }
    }

    async fn load_batch(
        &self,
        db: &Db,
        tenant: TenantId,
        after_id: i64,
        n: u64,
    ) -> anyhow::Result<Vec<Doc>> {
        let rows = rathaus_store::uow::scoped::<page::Entity>(tenant)
            .filter(page::Column::Id.gt(after_id))
            .order_by_asc(page::Column::Id)
            .limit(n)
            .all(&db.conn)
            .await?;
        docs(db, tenant, rows).await
    }

    async fn load(&self, db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        let rows = rathaus_store::uow::scoped::<page::Entity>(tenant)
            .filter(page::Column::Id.is_in(ids.iter().copied()))
            .all(&db.conn)
            .await?;
        docs(db, tenant, rows).await
    }
}

/// Searches the pages the reader may open (the platform's terms plus department and roles).
pub async fn search(
    db: &DatabaseConnection,
    index: std::sync::Arc<rathaus_search::SearchService>,
    by: Actor<'_>,
    text: &str,
    limit: usize,
) -> Result<Results> {
    let r = Reader::load(db, by).await?;
    if !(r.p.has(READ) || r.manages()) {
        return Err(Error::Forbidden);
    }
    let mut reader = rathaus_web::search::reader_terms(r.p);
    reader.extend(r.extra_terms());
    let tenant = r.p.tenant_id;
    let text = text.to_string();
    tokio::task::spawn_blocking(move || {
        index.search(&SearchRequest {
            tenant,
            reader: &reader,
            text: &text,
            kinds: &[KIND],
            limit,
            offset: 0,
        })
    })
    .await
    .map_err(Error::internal_from)?
    .map_err(|e| Error::internal(format!("{e:#}")))
}
