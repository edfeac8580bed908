//! Documents in the platform search: title, tags and the extracted text of the current
//! version. Each document carries the visibility term of its access class, so the search
//! service filters restricted kinds before counting hits or cutting snippets.

use super::access::Filter;
use crate::domain::{AccessClass, Coded};
use crate::store::entity::{document, file};
use async_trait::async_trait;
use rathaus_core::{Error, Result, TenantId};
use rathaus_extract::store::entity as extract_text;
use rathaus_search::{Doc, DocField, DocKind, DocSource, SearchRequest, visibility};
use rathaus_store::Db;
use rathaus_store::uow::{Actor, scoped};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use std::sync::Arc;

/// The kind's name: facet value, outbox kind and `search.kind.records.document` label.
pub const KIND: &str = "records.document";

/// The module's own term of an access class (the reader holds it when `Filter` allows the
/// class: for the sickness sub-file that needs two permissions).
pub fn class_term(c: AccessClass) -> String {
    format!("records:{}", c.code())
}

/// Who may find a document of this class: the module's term, and for classes that one
/// permission opens also that permission's term (so the staff-wide search finds them too).
pub fn visible_to(c: AccessClass) -> Vec<String> {
    let mut v = vec![class_term(c)];
    if let [one] = c.permissions() {
        v.push(visibility::permission(one));
    }
    v
}

/// The page of a document's file.
pub fn url(file_id: i64, document_id: i64) -> String {
    format!("/akten/akte/{file_id}#dokument-{document_id}")
}

pub struct DocumentDocs;

async fn docs(db: &Db, tenant: TenantId, rows: Vec<document::Model>) -> anyhow::Result<Vec<Doc>> {
    let file_ids: Vec<i64> = rows.iter().map(|d| d.file_id).collect();
    let refs: Vec<i64> = rows.iter().map(|d| d.file_ref).collect();
    let files: HashMap<i64, file::Model> = scoped::<file::Entity>(tenant)
        .filter(file::Column::Id.is_in(file_ids))
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let texts: HashMap<i64, String> = scoped::<extract_text::Entity>(tenant)
        .filter(extract_text::Column::FileId.is_in(refs))
        .filter(extract_text::Column::Status.eq("ok"))
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|t| (t.file_id, t.text))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|d| {
            let f = files.get(&d.file_id)?;
            let class = AccessClass::parse(&d.access)?;
            let mut tags: Vec<String> = crate::domain::normalize_tags(&d.tags);
            tags.push(f.file_number.clone());
            Some(Doc {
                id: d.id,
                tenant,
                url: url(f.id, d.id),
                body: texts.get(&d.file_ref).cloned().unwrap_or_default(),
                tags,
                date: d.doc_date.and_hms_opt(12, 0, 0).map(|t| t.and_utc()),
                department: None,
                visible_to: visible_to(class),
                title: d.title,
            })
        })
        .collect())
}

#[async_trait]
impl DocSource for DocumentDocs {
    fn kind(&self) -> DocKind {
        DocKind {
            name: KIND,
            fields: &[
                DocField::Title,
                DocField::Body,
                DocField::Tags,
                DocField::Date,
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
        let rows = scoped::<document::Entity>(tenant)
            .filter(document::Column::Id.gt(after_id))
            .order_by_asc(document::Column::Id)
            .limit(n)
            .all(&db.conn)
            .await?;
        docs(db, tenant, rows).await
    }

    async fn load(&self, db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        let rows = scoped::<document::Entity>(tenant)
            .filter(document::Column::Id.is_in(ids.iter().copied()))
            .all(&db.conn)
            .await?;
        docs(db, tenant, rows).await
    }
}

/// One search hit: the document, its file, the title and a snippet (HTML-escaped, query
/// words in `<b>`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub document_id: i64,
    pub file_id: i64,
    pub title: String,
    pub snippet: String,
    #[serde(skip)]
    pub title_html: String,
    #[serde(skip)]
    pub url: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Found {
    pub total: usize,
    pub hits: Vec<Hit>,
}

/// Searches the documents the reader may open: the reader's terms are exactly those of the
/// access classes `Filter` allows.
pub async fn search(
    db: &Db,
    index: Arc<rathaus_search::SearchService>,
    by: Actor<'_>,
    tenant: TenantId,
    text: &str,
    limit: usize,
    offset: usize,
) -> Result<Found> {
    let filter = Filter::of(by);
    filter.require_any()?;
    by.require_tenant(tenant)?;
    let reader = filter.search_terms();
    let text_owned = text.to_string();
    let res = tokio::task::spawn_blocking(move || {
        index.search(&SearchRequest {
            tenant,
            reader: &reader,
            text: &text_owned,
            kinds: &[KIND],
            limit,
            offset,
        })
    })
    .await
    .map_err(Error::internal_from)?
    .map_err(|e| Error::internal(format!("{e:#}")))?;
    // The file of each hit, from the table (again through the filter: the index may lag).
    let ids: Vec<i64> = res.hits.iter().map(|h| h.id).collect();
    let docs: HashMap<i64, document::Model> = scoped::<document::Entity>(tenant)
        .filter(filter.documents())
        .filter(document::Column::Id.is_in(ids))
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let hits = res
        .hits
        .into_iter()
        .filter_map(|h| {
            let d = docs.get(&h.id)?;
            Some(Hit {
                document_id: d.id,
                file_id: d.file_id,
                title: d.title.clone(),
                snippet: h.snippet_html,
                title_html: h.title_html,
                url: h.url,
            })
        })
        .collect();
    Ok(Found {
        total: res.total,
        hits,
    })
}
