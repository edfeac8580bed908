//! Retention and disposal (issue 11, items 11 and 12): the due list, the deletion run for
//! `V` files and the archive hand-over of `A`/`B` files with xdomea 3.0.0 (`offers`).
//!
//! Every function needs `records.disposal` and sees only the files the reader's access
//! filter opens. A file is deleted all or nothing in its own transaction (documents, their
//! versions' references on the file store, cases, follow-ups, sub-files), leaving a row in
//! `records_deletions` (Aktenzeichen, title, dates, reason; never content) and an audit event
//! under the file's object, so the file's history in the audit chain ends with its deletion.
//! A deletion run that stops half-way can simply be run again: files already gone are
//! skipped, the rest are deleted.

pub mod demo;
pub mod messages;
pub mod offers;

use super::access::Filter;
use super::files::OBJECT;
use super::{actor_label, today};
use crate::domain::{AccessClass, Coded, Disposition, FileKind, FileState};
use crate::permissions::DISPOSAL;
use crate::store::entity::{
    case, deletion, document, file, follow_up, inbox_item, offer_file, plan_item, version,
};
use chrono::{NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::files::{FileId, FileStore};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{BTreeSet, HashMap};

/// Audit actions (object `records.file`, id the file's).
pub const DELETED: &str = "records.file.deleted";
pub const OFFERED: &str = "records.file.offered";
pub const APPRAISED: &str = "records.file.appraised";
pub const HANDED_OVER: &str = "records.file.handed_over";
pub const IMPORTED: &str = "records.file.imported";
pub const IMPORT_FAILED: &str = "records.file.import_failed";

/// Error keys (translated in `locales/disposal.*.toml`).
pub const ERR_NOT_DUE: &str = "records.disposal.err.not_due";
pub const ERR_NOT_CLOSED: &str = "records.disposal.err.not_closed";
pub const ERR_NOT_V: &str = "records.disposal.err.not_v";
pub const ERR_IS_V: &str = "records.disposal.err.is_v";
pub const ERR_OFFERED: &str = "records.disposal.err.offered";
pub const ERR_SUB_FILE: &str = "records.disposal.err.sub_file";
pub const ERR_HIDDEN_SUB_FILES: &str = "records.disposal.err.hidden_sub_files";
pub const ERR_NONE_SELECTED: &str = "records.disposal.err.none_selected";
pub const ERR_UNKNOWN_FILE: &str = "records.disposal.err.unknown_file";

/// Why a file was deleted (`records_deletions.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A `V` file at the end of its retention (deletion run).
    Retention,
    /// The archive appraised the offered file for destruction (0502).
    Appraisal,
    /// The archive confirmed the import (0506).
    Archived,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::Retention => "retention",
            Reason::Appraisal => "appraisal",
            Reason::Archived => "archived",
        }
    }
}

/// Filters of the due list.
#[derive(Debug, Clone)]
pub struct DueQuery {
    /// Files whose retention ended before this date (`retention_until < at`).
    pub at: NaiveDate,
    pub plan_item_id: Option<i64>,
    pub disposition: Option<Disposition>,
    pub limit: u64,
    pub offset: u64,
}

impl DueQuery {
    pub fn at(at: NaiveDate) -> DueQuery {
        DueQuery {
            at,
            plan_item_id: None,
            disposition: None,
            limit: 100,
            offset: 0,
        }
    }
}

/// One due file.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DueFile {
    pub id: i64,
    pub file_number: String,
    pub title: String,
    pub kind: FileKind,
    pub plan_item_id: i64,
    pub plan_code: String,
    pub plan_title: String,
    pub disposition: Disposition,
    pub closed_on: Option<NaiveDate>,
    pub retention_until: Option<NaiveDate>,
}

/// How many due files one plan item has.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DueGroup {
    pub plan_item_id: i64,
    pub plan_code: String,
    pub plan_title: String,
    pub disposition: Disposition,
    pub count: u64,
}

/// The due list: the counts by plan item (and so by disposition) and one page of files.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DueList {
    pub at: NaiveDate,
    pub total: u64,
    pub groups: Vec<DueGroup>,
    pub files: Vec<DueFile>,
}

/// The tenant's plan items by id.
async fn plan_items<C: sea_orm::ConnectionTrait>(
    conn: &C,
    s: sea_orm::Select<plan_item::Entity>,
) -> Result<HashMap<i64, plan_item::Model>> {
    Ok(s.all(conn).await?.into_iter().map(|p| (p.id, p)).collect())
}

fn disposition_of(p: &plan_item::Model) -> Disposition {
    Disposition::parse(&p.disposition).unwrap_or(Disposition::B)
}

fn due_file(f: file::Model, p: &plan_item::Model) -> DueFile {
    DueFile {
        id: f.id,
        kind: FileKind::parse(&f.kind).unwrap_or(FileKind::General),
        file_number: f.file_number,
        title: f.title,
        plan_item_id: p.id,
        plan_code: p.code.clone(),
        plan_title: p.title.clone(),
        disposition: disposition_of(p),
        closed_on: f.closed_on,
        retention_until: f.retention_until,
    }
}

/// The closed main files (sub-files go with their main file) whose retention ended before
/// `q.at`, that the reader may open.
pub async fn due(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    q: &DueQuery,
) -> Result<DueList> {
    by.require(DISPOSAL)?;
    let filter = Filter::of(by);
    filter.require_any()?;
    let s = Scope::new(db, tenant, by)?;
    let plans = plan_items(s.conn(), s.find::<plan_item::Entity>()).await?;
    let mut sel = s
        .find::<file::Entity>()
        .filter(filter.files())
        .filter(file::Column::State.eq(FileState::Closed.code()))
        .filter(file::Column::ParentId.is_null())
        .filter(file::Column::RetentionUntil.lt(q.at));
    if let Some(p) = q.plan_item_id {
        sel = sel.filter(file::Column::PlanItemId.eq(p));
    }
    if let Some(d) = q.disposition {
        let ids: Vec<i64> = plans
            .values()
            .filter(|p| disposition_of(p) == d)
            .map(|p| p.id)
            .collect();
        sel = sel.filter(file::Column::PlanItemId.is_in(ids));
    }
    let counts: Vec<(i64, i64)> = sel
        .clone()
        .select_only()
        .column(file::Column::PlanItemId)
        .column_as(file::Column::Id.count(), "n")
        .group_by(file::Column::PlanItemId)
        .into_tuple()
        .all(s.conn())
        .await?;
    let mut groups: Vec<DueGroup> = counts
        .into_iter()
        .filter_map(|(pid, n)| {
            plans.get(&pid).map(|p| DueGroup {
                plan_item_id: p.id,
                plan_code: p.code.clone(),
                plan_title: p.title.clone(),
                disposition: disposition_of(p),
                count: u64::try_from(n).unwrap_or(0),
            })
        })
        .collect();
    groups.sort_by(|a, b| a.plan_code.cmp(&b.plan_code));
    let total = groups.iter().map(|g| g.count).sum();
    let rows = sel
        .order_by_asc(file::Column::RetentionUntil)
        .order_by_asc(file::Column::Id)
        .limit(q.limit)
        .offset(q.offset)
        .all(s.conn())
        .await?;
    let files = rows
        .into_iter()
        .filter_map(|f| {
            let p = plans.get(&f.plan_item_id)?.clone();
            Some(due_file(f, &p))
        })
        .collect();
    Ok(DueList {
        at: q.at,
        total,
        groups,
        files,
    })
}

/// Why one selected file cannot be deleted now (a translation key), or None.
fn deletion_refusal(
    f: &file::Model,
    plan: &plan_item::Model,
    on: NaiveDate,
) -> Option<&'static str> {
    if f.parent_id.is_some() {
        return Some(ERR_SUB_FILE);
    }
    if f.state != FileState::Closed.code() {
        return Some(if f.state == FileState::Open.code() {
            ERR_NOT_CLOSED
        } else {
            ERR_OFFERED
        });
    }
    if disposition_of(plan) != Disposition::V {
        return Some(ERR_NOT_V);
    }
    if f.retention_until.is_none_or(|u| u >= on) {
        return Some(ERR_NOT_DUE);
    }
    None
}

/// One file of the confirmation step: what would be deleted, or why not.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub file: DueFile,
    /// A translation key when the file cannot be deleted.
    pub refusal: Option<String>,
}

/// The confirmation step of a deletion run: the selected files the reader may open, each
/// with the reason it cannot be deleted (if any). Changes nothing.
pub async fn deletion_candidates(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    ids: &[i64],
) -> Result<Vec<Candidate>> {
    by.require(DISPOSAL)?;
    let filter = Filter::of(by);
    filter.require_any()?;
    let s = Scope::new(db, tenant, by)?;
    let plans = plan_items(s.conn(), s.find::<plan_item::Entity>()).await?;
    let on = today();
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows = s
            .find::<file::Entity>()
            .filter(filter.files())
            .filter(file::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(file::Column::FileNumber)
            .all(s.conn())
            .await?;
        for f in rows {
            let Some(p) = plans.get(&f.plan_item_id) else {
                continue;
            };
            let refusal = deletion_refusal(&f, p, on).map(str::to_string);
            out.push(Candidate {
                file: due_file(f, p),
                refusal,
            });
        }
    }
    Ok(out)
}

/// What a deletion run did.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct RunReport {
    /// Aktenzeichen of the files deleted now.
    pub deleted: Vec<String>,
    /// Selected files that no longer exist (deleted by an earlier, interrupted run).
    pub already_gone: u64,
    /// Files left alone, with the reason (translation key).
    pub refused: Vec<Refused>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Refused {
    pub id: i64,
    pub file_number: String,
    pub reason: String,
}

/// Deletes the selected due `V` files, each in its own transaction.
pub async fn run_deletion(
    db: &DatabaseConnection,
    files: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    ids: &[i64],
) -> Result<RunReport> {
    run_deletion_with(db, files, by, tenant, ids, &|_| false).await
}

/// `run_deletion` with a fault hook: `fail(file_id)` true makes the deletion of that file
/// fail half-way (after its documents were removed inside the transaction), as a crash or a
/// lost connection would. The run stops with the error; that file is left whole. Used by the
/// tests; the application passes no hook.
pub async fn run_deletion_with(
    db: &DatabaseConnection,
    files: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    ids: &[i64],
    fail: &(dyn Fn(i64) -> bool + Sync),
) -> Result<RunReport> {
    by.require(DISPOSAL)?;
    let filter = Filter::of(by);
    filter.require_any()?;
    if ids.is_empty() {
        return Err(rathaus_core::validation::FieldErrors::single(
            "file_ids",
            ERR_NONE_SELECTED,
        ));
    }
    let on = today();
    let mut report = RunReport::default();
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    for id in unique {
        let tx = Tx::begin(db, tenant, by).await?;
        let Some(f) = tx
            .find::<file::Entity>()
            .filter(filter.files())
            .filter(file::Column::Id.eq(id))
            .one(tx.conn())
            .await?
        else {
            report.already_gone += 1;
            continue;
        };
        let plan = tx.get::<plan_item::Entity, _>(f.plan_item_id).await?;
        if let Some(key) = deletion_refusal(&f, &plan, on) {
            report.refused.push(Refused {
                id,
                file_number: f.file_number.clone(),
                reason: key.to_string(),
            });
            continue;
        }
        if let Err(e) = check_sub_files(&tx, &filter, &f).await {
            report.refused.push(Refused {
                id,
                file_number: f.file_number.clone(),
                reason: match e {
                    Error::Conflict(k) => k,
                    e => return Err(e),
                },
            });
            continue;
        }
        delete_file(&tx, files, &f, &plan, Reason::Retention, None, fail).await?;
        tx.commit().await?;
        report.deleted.push(f.file_number);
    }
    Ok(report)
}

/// Refuses a file with sub-files the reader may not open (they would go with it).
pub(crate) async fn check_sub_files(tx: &Tx<'_>, filter: &Filter, f: &file::Model) -> Result<()> {
    let all = tx
        .find::<file::Entity>()
        .filter(file::Column::ParentId.eq(f.id))
        .count(tx.conn())
        .await?;
    let seen = tx
        .find::<file::Entity>()
        .filter(filter.files())
        .filter(file::Column::ParentId.eq(f.id))
        .count(tx.conn())
        .await?;
    if all != seen {
        return Err(Error::Conflict(ERR_HIDDEN_SUB_FILES.into()));
    }
    Ok(())
}

/// Deletes a file with its sub-files in the caller's transaction, with deletion records and
/// audit events (one per file). The caller checked permission, visibility and state.
pub(crate) async fn delete_file(
    tx: &Tx<'_>,
    files: &FileStore,
    f: &file::Model,
    plan: &plan_item::Model,
    reason: Reason,
    offer_id: Option<&str>,
    fail: &(dyn Fn(i64) -> bool + Sync),
) -> Result<()> {
    let subs = tx
        .find::<file::Entity>()
        .filter(file::Column::ParentId.eq(f.id))
        .all(tx.conn())
        .await?;
    for sub in &subs {
        delete_one(tx, files, sub, plan, reason, offer_id, &|_| false).await?;
    }
    delete_one(tx, files, f, plan, reason, offer_id, fail).await
}

async fn delete_one(
    tx: &Tx<'_>,
    files: &FileStore,
    f: &file::Model,
    plan: &plan_item::Model,
    reason: Reason,
    offer_id: Option<&str>,
    fail: &(dyn Fn(i64) -> bool + Sync),
) -> Result<()> {
    let docs = tx
        .find::<document::Entity>()
        .filter(document::Column::FileId.eq(f.id))
        .all(tx.conn())
        .await?;
    let doc_ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
    let mut refs: BTreeSet<i64> = docs.iter().map(|d| d.file_ref).collect();
    let mut versions = 0u64;
    for chunk in doc_ids.chunks(500) {
        let vs = tx
            .find::<version::Entity>()
            .filter(version::Column::DocumentId.is_in(chunk.iter().copied()))
            .all(tx.conn())
            .await?;
        versions += vs.len() as u64;
        refs.extend(vs.iter().map(|v| v.file_ref));
    }
    tx.delete_many::<follow_up::Entity>()
        .filter(follow_up::Column::FileId.eq(f.id))
        .exec(tx.conn())
        .await?;
    for chunk in doc_ids.chunks(500) {
        tx.delete_many::<inbox_item::Entity>()
            .filter(inbox_item::Column::DocumentId.is_in(chunk.iter().copied()))
            .exec(tx.conn())
            .await?;
        tx.delete_many::<version::Entity>()
            .filter(version::Column::DocumentId.is_in(chunk.iter().copied()))
            .exec(tx.conn())
            .await?;
    }
    tx.delete_many::<document::Entity>()
        .filter(document::Column::FileId.eq(f.id))
        .exec(tx.conn())
        .await?;
    if fail(f.id) {
        return Err(Error::internal("deletion interrupted (injected fault)"));
    }
    tx.delete_many::<case::Entity>()
        .filter(case::Column::FileId.eq(f.id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<file::Entity>()
        .filter(file::Column::Id.eq(f.id))
        .exec(tx.conn())
        .await?;
    for r in &refs {
        files.delete(tx, FileId(*r)).await?;
    }
    for d in &doc_ids {
        rathaus_search::enqueue(tx, super::search::KIND, *d, rathaus_search::Op::Delete).await?;
    }
    tx.insert(deletion::ActiveModel {
        file_number: Set(f.file_number.clone()),
        title: Set(f.title.clone()),
        kind: Set(f.kind.clone()),
        plan_code: Set(plan.code.clone()),
        opened_on: Set(f.opened_on),
        closed_on: Set(f.closed_on),
        retention_until: Set(f.retention_until),
        reason: Set(reason.code().to_string()),
        offer_id: Set(offer_id.map(str::to_string)),
        deleted_at: Set(Utc::now()),
        deleted_by: Set(actor_label(tx.actor())),
        ..Default::default()
    })
    .await?;
    tx.audit(
        NewEvent::new(DELETED, OBJECT, Some(f.id)).details(serde_json::json!({
            "file_number": f.file_number,
            "reason": reason.code(),
            "offer_id": offer_id,
            "documents": doc_ids.len(),
            "versions": versions,
        })),
    )
    .await
}

/// The deletion records the reader may see (by the kinds their access opens), newest first.
pub async fn deletions(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    limit: u64,
) -> Result<Vec<deletion::Model>> {
    by.require(DISPOSAL)?;
    let filter = Filter::of(by);
    filter.require_any()?;
    let kinds: Vec<&str> = FileKind::ALL
        .iter()
        .filter(|k| filter.allows(AccessClass::of(**k, None)))
        .map(|k| k.code())
        .collect();
    let s = Scope::new(db, tenant, by)?;
    Ok(s.find::<deletion::Entity>()
        .filter(deletion::Column::Kind.is_in(kinds))
        .order_by_desc(deletion::Column::DeletedAt)
        .order_by_desc(deletion::Column::Id)
        .limit(limit)
        .all(s.conn())
        .await?)
}

/// The offered-file rows of a file (its offers), for the file's history.
pub async fn offers_of_file(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    file_id: i64,
) -> Result<Vec<offer_file::Model>> {
    by.require(DISPOSAL)?;
    let s = Scope::new(db, tenant, by)?;
    Ok(s.find::<offer_file::Entity>()
        .filter(offer_file::Column::FileId.eq(file_id))
        .all(s.conn())
        .await?)
}
