//! The archive hand-over of `A` and `B` files (xdomea 3.0.0), one offer per Aussonderung:
//!
//! `offered` --0502 appraisal--> `appraised` --0503 hand-over ZIP--> `handed_over`
//! --0506 import confirmed for every handed-over file--> `completed`; an appraisal that
//! destroys every file goes straight to `completed`. Files appraised `V` are deleted right
//! after the appraisal, archived files once the archive's 0506 confirms their import, each
//! with a deletion record. 0504 and 0507 receipts are recorded in the audit chain. The state
//! machine is enforced here: a message that does not fit the offer's state is a conflict
//! and changes nothing.

use super::messages::{self, Parties, Primary, file_object, message_error, read_error};
use super::{
    APPRAISED, ERR_IS_V, ERR_NONE_SELECTED, ERR_NOT_CLOSED, ERR_NOT_DUE, ERR_OFFERED, ERR_SUB_FILE,
    ERR_UNKNOWN_FILE, HANDED_OVER, IMPORT_FAILED, IMPORTED, OFFERED, Reason, check_sub_files,
    delete_file, disposition_of,
};
use crate::domain::{Appraisal, Coded, Disposition, FileState, OfferState};
use crate::permissions::DISPOSAL;
use crate::service::access::Filter;
use crate::service::files::OBJECT;
use crate::service::{actor_label, today};
use crate::store::entity::{file, offer, offer_file, plan_item};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::files::{FileId, FileStore};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_xdomea::{self as x, Message};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The object type of an offer's own audit events (id: the process id).
pub const OFFER_OBJECT: &str = "records.offer";

pub const ERR_STATE: &str = "records.disposal.err.state";
pub const ERR_BEFORE_HANDOVER: &str = "records.disposal.err.before_handover";
pub const ERR_OTHER_PROCESS: &str = "records.disposal.err.other_process";
pub const ERR_UNDECIDED: &str = "records.disposal.err.undecided";
pub const ERR_APPRAISAL_B: &str = "records.disposal.err.appraisal_b";
pub const ERR_NOT_HANDED_OVER: &str = "records.disposal.err.not_handed_over";
pub const ERR_HIDDEN_FILES: &str = "records.disposal.err.hidden_files";
pub const ERR_RECEIPT_TYPE: &str = "records.disposal.err.receipt_type";

/// An offer in the list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OfferSummary {
    pub id: String,
    pub state: OfferState,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub files: u64,
}

/// One offered file with what became of it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OfferedFile {
    pub file_id: i64,
    pub file_number: String,
    pub title: String,
    pub disposition: Option<Disposition>,
    pub appraisal: Option<Appraisal>,
    pub handed_over_at: Option<DateTime<Utc>>,
    pub import_confirmed: bool,
    pub archive_id: Option<String>,
    pub import_error: Option<String>,
    /// The file was deleted (after the appraisal or the import).
    pub deleted: bool,
}

/// An offer with its files.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OfferView {
    #[serde(flatten)]
    pub offer: OfferSummary,
    pub files: Vec<OfferedFile>,
}

fn state_of(o: &offer::Model) -> OfferState {
    OfferState::parse(&o.state).unwrap_or(OfferState::Offered)
}

fn summary(o: &offer::Model, files: u64) -> OfferSummary {
    OfferSummary {
        id: o.id.clone(),
        state: state_of(o),
        created_at: o.created_at,
        created_by: o.created_by.clone(),
        updated_at: o.updated_at,
        files,
    }
}

/// Offers the selected due `A`/`B` files to the archive: one offer (process), the files go
/// to `offered`. Files not due, not closed, already offered, `V` files, sub-files and files
/// the reader may not open are refused (422, nothing changes).
pub async fn create(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    file_ids: &[i64],
) -> Result<String> {
    by.require(DISPOSAL)?;
    let filter = Filter::of(by);
    filter.require_any()?;
    let ids: BTreeSet<i64> = file_ids.iter().copied().collect();
    if ids.is_empty() || ids.len() > 5_000 {
        return Err(FieldErrors::single("file_ids", ERR_NONE_SELECTED));
    }
    let tx = Tx::begin(db, tenant, by).await?;
    let mut rows = Vec::new();
    for chunk in ids.iter().copied().collect::<Vec<_>>().chunks(500) {
        rows.extend(
            tx.find::<file::Entity>()
                .filter(filter.files())
                .filter(file::Column::Id.is_in(chunk.iter().copied()))
                .all(tx.conn())
                .await?,
        );
    }
    let plans: HashMap<i64, plan_item::Model> = tx
        .find::<plan_item::Entity>()
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut errs = FieldErrors::new();
    let found: BTreeSet<i64> = rows.iter().map(|f| f.id).collect();
    for id in ids.difference(&found) {
        errs.add_arg("file_ids", ERR_UNKNOWN_FILE, Some(id));
    }
    let on = today();
    for f in &rows {
        let key = if f.parent_id.is_some() {
            Some(ERR_SUB_FILE)
        } else if f.state == FileState::Open.code() {
            Some(ERR_NOT_CLOSED)
        } else if f.state != FileState::Closed.code() {
            Some(ERR_OFFERED)
        } else if plans
            .get(&f.plan_item_id)
            .is_none_or(|p| disposition_of(p) == Disposition::V)
        {
            Some(ERR_IS_V)
        } else if f.retention_until.is_none_or(|u| u >= on) {
            Some(ERR_NOT_DUE)
        } else {
            None
        };
        if let Some(k) = key {
            errs.add_arg("file_ids", k, Some(&f.file_number));
        }
    }
    errs.into_result()?;
    for f in &rows {
        check_sub_files(&tx, &filter, f).await?;
    }
    let id = x::ProcessId::new_random().to_string();
    let now = Utc::now();
    tx.insert(offer::ActiveModel {
        id: Set(id.clone()),
        state: Set(OfferState::Offered.code().to_string()),
        created_at: Set(now),
        created_by: Set(actor_label(by)),
        updated_at: Set(now),
        ..Default::default()
    })
    .await?;
    for f in &rows {
        tx.insert(offer_file::ActiveModel {
            offer_id: Set(id.clone()),
            file_id: Set(f.id),
            appraisal: Set(None),
            appraised_at: Set(None),
            handed_over_at: Set(None),
            import_confirmed: Set(false),
            archive_id: Set(None),
            import_error: Set(None),
            file_number: Set(Some(f.file_number.clone())),
            ..Default::default()
        })
        .await?;
        // Guarded by the state: a concurrent offer of the same file changes nothing here.
        let n = tx
            .update_many::<file::Entity>()
            .col_expr(file::Column::State, Expr::value(FileState::Offered.code()))
            .filter(
                sea_orm::Condition::any()
                    .add(file::Column::Id.eq(f.id))
                    .add(file::Column::ParentId.eq(f.id)),
            )
            .filter(file::Column::State.eq(FileState::Closed.code()))
            .exec(tx.conn())
            .await?
            .rows_affected;
        if n == 0 {
            return Err(Error::Conflict(ERR_OFFERED.into()));
        }
        tx.audit(
            NewEvent::new(OFFERED, OBJECT, Some(f.id)).details(serde_json::json!({
                "file_number": f.file_number,
                "offer_id": id,
            })),
        )
        .await?;
    }
    tx.audit(
        NewEvent::new("records.offer.created", OFFER_OBJECT, Some(&id))
            .details(serde_json::json!({ "files": rows.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The offers, newest first.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<OfferSummary>> {
    by.require(DISPOSAL)?;
    Filter::of(by).require_any()?;
    let s = Scope::new(db, tenant, by)?;
    let offers = s
        .find::<offer::Entity>()
        .order_by_desc(offer::Column::CreatedAt)
        .limit(200)
        .all(s.conn())
        .await?;
    let counts: HashMap<String, i64> = s
        .find::<offer_file::Entity>()
        .select_only()
        .column(offer_file::Column::OfferId)
        .column_as(offer_file::Column::Id.count(), "n")
        .group_by(offer_file::Column::OfferId)
        .into_tuple::<(String, i64)>()
        .all(s.conn())
        .await?
        .into_iter()
        .collect();
    Ok(offers
        .iter()
        .map(|o| summary(o, counts.get(&o.id).copied().unwrap_or(0).max(0) as u64))
        .collect())
}

/// An offer's rows and live files; refused when a live file of it is hidden from the reader.
struct Loaded {
    offer: offer::Model,
    rows: Vec<offer_file::Model>,
    files: HashMap<i64, file::Model>,
    plans: HashMap<i64, plan_item::Model>,
}

async fn load<C: sea_orm::ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    by: Actor<'_>,
    id: &str,
) -> Result<Loaded> {
    let pid = messages::process_id(id)?;
    let s = Scope::new(conn, tenant, by)?;
    let o = s
        .find::<offer::Entity>()
        .filter(offer::Column::Id.eq(pid.to_string()))
        .one(s.conn())
        .await?
        .ok_or(Error::NotFound)?;
    let rows = s
        .find::<offer_file::Entity>()
        .filter(offer_file::Column::OfferId.eq(&o.id))
        .order_by_asc(offer_file::Column::Id)
        .all(s.conn())
        .await?;
    let filter = Filter::of(by);
    let ids: Vec<i64> = rows.iter().map(|r| r.file_id).collect();
    let mut files = HashMap::new();
    let mut live = 0u64;
    for chunk in ids.chunks(500) {
        live += s
            .find::<file::Entity>()
            .filter(file::Column::Id.is_in(chunk.iter().copied()))
            .count(s.conn())
            .await?;
        for f in s
            .find::<file::Entity>()
            .filter(filter.files())
            .filter(file::Column::Id.is_in(chunk.iter().copied()))
            .all(s.conn())
            .await?
        {
            files.insert(f.id, f);
        }
    }
    if live != files.len() as u64 {
        return Err(Error::Conflict(ERR_HIDDEN_FILES.into()));
    }
    let plans = s
        .find::<plan_item::Entity>()
        .all(s.conn())
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(Loaded {
        offer: o,
        rows,
        files,
        plans,
    })
}

/// An offer with its files (deleted ones by their deletion record).
pub async fn get(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
) -> Result<OfferView> {
    by.require(DISPOSAL)?;
    Filter::of(by).require_any()?;
    let l = load(db, tenant, by, id).await?;
    let files = l
        .rows
        .iter()
        .map(|r| {
            let f = l.files.get(&r.file_id);
            let (file_number, title) = match f {
                Some(f) => (f.file_number.clone(), f.title.clone()),
                None => (r.file_number.clone().unwrap_or_default(), String::new()),
            };
            OfferedFile {
                file_id: r.file_id,
                file_number,
                title,
                disposition: f
                    .and_then(|f| l.plans.get(&f.plan_item_id))
                    .map(disposition_of),
                appraisal: r.appraisal.as_deref().and_then(Appraisal::parse),
                handed_over_at: r.handed_over_at,
                import_confirmed: r.import_confirmed,
                archive_id: r.archive_id.clone(),
                import_error: r.import_error.clone(),
                deleted: f.is_none(),
            }
        })
        .collect();
    Ok(OfferView {
        offer: summary(&l.offer, l.rows.len() as u64),
        files,
    })
}

/// Builds the xdomea files of the offer's live files (all of them, or those `keep` picks).
async fn record_files(
    tx: &Tx<'_>,
    l: &Loaded,
    process: x::ProcessId,
    keep: impl Fn(&offer_file::Model) -> bool,
    primaries: &mut Vec<Primary>,
) -> Result<Vec<x::RecordFile>> {
    let mut out = Vec::new();
    for r in l.rows.iter().filter(|r| keep(r)) {
        let Some(f) = l.files.get(&r.file_id) else {
            continue;
        };
        let plan = l
            .plans
            .get(&f.plan_item_id)
            .ok_or_else(|| Error::internal("plan item of an offered file is missing"))?;
        out.push(messages::record_file(tx, process, f, plan, primaries).await?);
    }
    Ok(out)
}

/// The 0501 offer message (the same text every time: its time is the offer's).
pub async fn message_0501(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
    archive_name: &str,
) -> Result<(String, String)> {
    by.require(DISPOSAL)?;
    Filter::of(by).require_any()?;
    // A read-only transaction: one consistent view of the offer's files.
    let tx = Tx::begin(db, tenant, by).await?;
    let l = load(tx.conn(), tenant, by, id).await?;
    let process = messages::process_id(&l.offer.id)?;
    let parties = Parties::of(&tx, archive_name).await?;
    let mut primaries = Vec::new();
    let files = record_files(&tx, &l, process, |_| true, &mut primaries).await?;
    if files.is_empty() {
        return Err(Error::Conflict(ERR_STATE.into()));
    }
    let msg = x::Offer {
        header: parties.header(process, l.offer.created_at),
        request_receipt: true,
        files,
    };
    let xml = msg.to_xml().map_err(Error::internal_from)?;
    drop(tx);
    Ok((msg.file_name(), xml))
}

/// What the archive's appraisal did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AppraisalOutcome {
    pub archive: Vec<String>,
    pub destroyed: Vec<String>,
    /// The 0505 receipt (XML) answering the appraisal.
    #[serde(skip)]
    pub receipt_xml: String,
    #[serde(skip)]
    pub receipt_name: String,
}

/// Imports the archive's 0502 appraisal: every offered file must be decided (`A` or `V`),
/// no other file may be named; refused messages change nothing (422). Files appraised `V`
/// are deleted afterwards, each in its own transaction with a deletion record. Answers with
/// the 0505 receipt.
pub async fn appraise(
    db: &DatabaseConnection,
    files_store: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
    body: &[u8],
) -> Result<AppraisalOutcome> {
    by.require(DISPOSAL)?;
    Filter::of(by).require_any()?;
    let xml = x::unpack_message(body).map_err(read_error)?;
    let msg = x::read_appraisal(&xml).map_err(read_error)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let l = load(tx.conn(), tenant, by, id).await?;
    let process = messages::process_id(&l.offer.id)?;
    if msg.header.process_id != process {
        return Err(message_error(ERR_OTHER_PROCESS));
    }
    if state_of(&l.offer) != OfferState::Offered {
        return Err(Error::Conflict(ERR_STATE.into()));
    }
    let by_object: HashMap<x::ObjectId, &offer_file::Model> = l
        .rows
        .iter()
        .map(|r| (file_object(process, r.file_id), r))
        .collect();
    msg.check_offered(by_object.keys().copied())
        .map_err(read_error)?;
    let decided: HashMap<x::ObjectId, x::Disposition> = msg
        .decisions
        .iter()
        .map(|d| (d.id, d.disposition))
        .collect();
    if decided.values().any(|d| *d == x::Disposition::B) {
        return Err(message_error(ERR_APPRAISAL_B));
    }
    if by_object.keys().any(|k| !decided.contains_key(k)) {
        return Err(message_error(ERR_UNDECIDED));
    }
    let now = Utc::now();
    let mut outcome_archive = Vec::new();
    let mut destroy = Vec::new();
    for (obj, r) in &by_object {
        let appraisal = match decided.get(obj) {
            Some(x::Disposition::V) => Appraisal::Destroy,
            _ => Appraisal::Archive,
        };
        tx.update_many::<offer_file::Entity>()
            .col_expr(offer_file::Column::Appraisal, Expr::value(appraisal.code()))
            .col_expr(offer_file::Column::AppraisedAt, Expr::value(now))
            .filter(offer_file::Column::Id.eq(r.id))
            .exec(tx.conn())
            .await?;
        let number = r.file_number.clone().unwrap_or_default();
        tx.audit(
            NewEvent::new(APPRAISED, OBJECT, Some(r.file_id)).details(serde_json::json!({
                "file_number": number,
                "offer_id": l.offer.id,
                "appraisal": appraisal.code(),
            })),
        )
        .await?;
        match appraisal {
            Appraisal::Archive => outcome_archive.push(number),
            Appraisal::Destroy => destroy.push(r.file_id),
        }
    }
    let next = if outcome_archive.is_empty() {
        OfferState::Completed
    } else {
        OfferState::Appraised
    };
    set_state(&tx, &l.offer.id, OfferState::Offered, next).await?;
    let parties = Parties::of(&tx, "").await?;
    tx.audit(
        NewEvent::new("records.offer.appraised", OFFER_OBJECT, Some(&l.offer.id)).details(
            serde_json::json!({ "archive": outcome_archive.len(), "destroy": destroy.len() }),
        ),
    )
    .await?;
    tx.commit().await?;
    let destroyed = delete_appraised(db, files_store, by, tenant, &l.offer.id).await?;
    outcome_archive.sort();
    let receipt = x::Receipt {
        kind: x::ReceiptKind::Appraisal,
        header: x::Header {
            process_id: process,
            created_at: Utc::now(),
            sender: parties.own,
            recipient: msg.header.sender.clone(),
        },
    };
    Ok(AppraisalOutcome {
        archive: outcome_archive,
        destroyed,
        receipt_xml: receipt.to_xml().map_err(Error::internal_from)?,
        receipt_name: receipt.file_name(),
    })
}

/// Deletes the files of an offer the archive appraised `V` that still exist, each in its own
/// transaction (also resumes an appraisal whose deletions were interrupted).
pub async fn delete_appraised(
    db: &DatabaseConnection,
    files_store: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
) -> Result<Vec<String>> {
    by.require(DISPOSAL)?;
    let filter = Filter::of(by);
    let rows = {
        let s = Scope::new(db, tenant, by)?;
        s.find::<offer_file::Entity>()
            .filter(offer_file::Column::OfferId.eq(id))
            .filter(offer_file::Column::Appraisal.eq(Appraisal::Destroy.code()))
            .all(s.conn())
            .await?
    };
    let mut out = Vec::new();
    for r in rows {
        let tx = Tx::begin(db, tenant, by).await?;
        let Some(f) = tx
            .find::<file::Entity>()
            .filter(filter.files())
            .filter(file::Column::Id.eq(r.file_id))
            .one(tx.conn())
            .await?
        else {
            continue;
        };
        let plan = tx.get::<plan_item::Entity, _>(f.plan_item_id).await?;
        delete_file(
            &tx,
            files_store,
            &f,
            &plan,
            Reason::Appraisal,
            Some(id),
            &|_| false,
        )
        .await?;
        tx.commit().await?;
        out.push(f.file_number);
    }
    out.sort();
    Ok(out)
}

async fn set_state(tx: &Tx<'_>, id: &str, from: OfferState, to: OfferState) -> Result<()> {
    let n = tx
        .update_many::<offer::Entity>()
        .col_expr(offer::Column::State, Expr::value(to.code()))
        .col_expr(offer::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(offer::Column::Id.eq(id))
        .filter(offer::Column::State.eq(from.code()))
        .exec(tx.conn())
        .await?
        .rows_affected;
    if n == 0 {
        return Err(Error::Conflict(ERR_STATE.into()));
    }
    Ok(())
}

/// A 0503 hand-over being streamed: its ZIP name and the body.
pub struct HandOverStream {
    pub name: String,
    pub body: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
}

/// The 0503 hand-over of the files appraised for the archive, as a ZIP with the message and
/// every version of their documents, streamed (one chunk at a time, never the whole ZIP in
/// memory). The first download moves the offer and its files to `handed_over` (audited);
/// later downloads of a handed-over offer send the same files again.
pub async fn handover(
    db: &DatabaseConnection,
    files_store: Arc<FileStore>,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
    archive_name: &str,
) -> Result<HandOverStream> {
    by.require(DISPOSAL)?;
    Filter::of(by).require_any()?;
    let tx = Tx::begin(db, tenant, by).await?;
    let l = load(tx.conn(), tenant, by, id).await?;
    let process = messages::process_id(&l.offer.id)?;
    let state = state_of(&l.offer);
    if !matches!(state, OfferState::Appraised | OfferState::HandedOver) {
        return Err(Error::Conflict(ERR_STATE.into()));
    }
    let archived =
        |r: &offer_file::Model| r.appraisal.as_deref() == Some(Appraisal::Archive.code());
    let mut primaries = Vec::new();
    let files = record_files(&tx, &l, process, archived, &mut primaries).await?;
    if files.is_empty() {
        return Err(Error::Conflict(ERR_STATE.into()));
    }
    let parties = Parties::of(&tx, archive_name).await?;
    let msg = x::HandOver {
        header: parties.header(process, Utc::now()),
        request_receipt: true,
        request_archive_ids: true,
        files,
    };
    if state == OfferState::Appraised {
        let now = Utc::now();
        for r in l.rows.iter().filter(|r| archived(r)) {
            tx.update_many::<offer_file::Entity>()
                .col_expr(offer_file::Column::HandedOverAt, Expr::value(now))
                .filter(offer_file::Column::Id.eq(r.id))
                .exec(tx.conn())
                .await?;
            tx.update_many::<file::Entity>()
                .col_expr(
                    file::Column::State,
                    Expr::value(FileState::HandedOver.code()),
                )
                .filter(
                    sea_orm::Condition::any()
                        .add(file::Column::Id.eq(r.file_id))
                        .add(file::Column::ParentId.eq(r.file_id)),
                )
                .exec(tx.conn())
                .await?;
            tx.audit(NewEvent::new(HANDED_OVER, OBJECT, Some(r.file_id)).details(
                serde_json::json!({
                    "file_number": r.file_number,
                    "offer_id": l.offer.id,
                }),
            ))
            .await?;
        }
        set_state(
            &tx,
            &l.offer.id,
            OfferState::Appraised,
            OfferState::HandedOver,
        )
        .await?;
    }
    tx.commit().await?;

    let (writer, reader) = tokio::io::duplex(64 * 1024);
    let conn = db.clone();
    tokio::spawn(async move {
        let run = async {
            let mut zip = x::AsyncHandOverZip::new(writer, &msg)
                .await
                .map_err(Error::internal_from)?;
            let mut seen = std::collections::HashSet::new();
            for p in &primaries {
                if !seen.insert(p.zip_name.clone()) {
                    continue;
                }
                let dl = files_store
                    .get(
                        &conn,
                        tenant,
                        Actor::system("records.disposal.handover"),
                        FileId(p.file_ref),
                        None,
                    )
                    .await?;
                let mut r = tokio_util::io::StreamReader::new(dl.body);
                zip.add_document(&p.zip_name, &mut r)
                    .await
                    .map_err(Error::internal_from)?;
            }
            zip.finish().await.map_err(Error::internal_from)?;
            Ok::<(), Error>(())
        };
        if let Err(e) = run.await {
            tracing::error!(error = %e, "records: the 0503 hand-over ZIP stopped");
        }
    });
    Ok(HandOverStream {
        name: x::handover_zip_name(process),
        body: Box::pin(tokio_util::io::ReaderStream::with_capacity(
            reader,
            64 * 1024,
        )),
    })
}

/// What a receipt or import confirmation did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReceiptOutcome {
    /// `0504`, `0506` or `0507`.
    pub message: String,
    /// Files whose import the archive confirmed (deleted now).
    pub imported: Vec<String>,
    /// Files whose import failed (kept, with the archive's error).
    pub failed: Vec<String>,
    pub state: OfferState,
}

/// Takes a message of the archive about this offer: a 0504 (offer received), 0507
/// (hand-over received) or 0506 (import confirmation per file). A 0506 before the hand-over,
/// or a 0507 before it, is a conflict; an object the offer did not hand over is refused (422).
/// A successful import deletes the file with a deletion record; a failed one keeps the file
/// and records the archive's error.
pub async fn receipt(
    db: &DatabaseConnection,
    files_store: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
    body: &[u8],
) -> Result<ReceiptOutcome> {
    by.require(DISPOSAL)?;
    Filter::of(by).require_any()?;
    let xml = x::unpack_message(body).map_err(read_error)?;
    let kind = x::message_type(&xml).map_err(read_error)?;
    // Deletions after the appraisal that were interrupted are finished first (idempotent).
    delete_appraised(
        db,
        files_store,
        by,
        tenant,
        &messages::process_id(id)?.to_string(),
    )
    .await?;
    let tx = Tx::begin(db, tenant, by).await?;
    let l = load(tx.conn(), tenant, by, id).await?;
    let process = messages::process_id(&l.offer.id)?;
    let state = state_of(&l.offer);
    match kind {
        x::MessageType::OfferReceipt | x::MessageType::HandOverReceipt => {
            let rk = if kind == x::MessageType::OfferReceipt {
                x::ReceiptKind::Offer
            } else {
                x::ReceiptKind::HandOver
            };
            let r = x::read_receipt(&xml, rk).map_err(read_error)?;
            if r.header.process_id != process {
                return Err(message_error(ERR_OTHER_PROCESS));
            }
            if rk == x::ReceiptKind::HandOver
                && !matches!(state, OfferState::HandedOver | OfferState::Completed)
            {
                return Err(Error::Conflict(ERR_BEFORE_HANDOVER.into()));
            }
            tx.audit(
                NewEvent::new("records.offer.receipt", OFFER_OBJECT, Some(&l.offer.id))
                    .details(serde_json::json!({ "message": kind.code() })),
            )
            .await?;
            tx.commit().await?;
            Ok(ReceiptOutcome {
                message: kind.code().to_string(),
                imported: vec![],
                failed: vec![],
                state,
            })
        }
        x::MessageType::ImportConfirmation => {
            let c = x::read_import_confirmation(&xml).map_err(read_error)?;
            if c.header.process_id != process {
                return Err(message_error(ERR_OTHER_PROCESS));
            }
            if !matches!(state, OfferState::HandedOver) {
                return Err(Error::Conflict(ERR_BEFORE_HANDOVER.into()));
            }
            let handed: HashMap<x::ObjectId, &offer_file::Model> = l
                .rows
                .iter()
                .filter(|r| r.handed_over_at.is_some())
                .map(|r| (file_object(process, r.file_id), r))
                .collect();
            let unknown: Vec<x::ObjectId> = c
                .results
                .iter()
                .map(|r| r.id)
                .filter(|i| !handed.contains_key(i))
                .collect();
            if let Some(first) = unknown.first() {
                let mut errs = FieldErrors::new();
                errs.add_arg(messages::FIELD, ERR_NOT_HANDED_OVER, Some(first));
                return Err(Error::Invalid(errs));
            }
            let mut imported = Vec::new();
            let mut failed = Vec::new();
            let mut to_delete = Vec::new();
            for res in &c.results {
                let Some(r) = handed.get(&res.id) else {
                    continue;
                };
                let number = r.file_number.clone().unwrap_or_default();
                if res.success {
                    tx.update_many::<offer_file::Entity>()
                        .col_expr(offer_file::Column::ImportConfirmed, Expr::value(true))
                        .col_expr(
                            offer_file::Column::ArchiveId,
                            Expr::value(res.archive_id.clone()),
                        )
                        .col_expr(offer_file::Column::ImportError, Expr::value(None::<String>))
                        .filter(offer_file::Column::Id.eq(r.id))
                        .exec(tx.conn())
                        .await?;
                    tx.audit(NewEvent::new(IMPORTED, OBJECT, Some(r.file_id)).details(
                        serde_json::json!({
                            "file_number": number,
                            "offer_id": l.offer.id,
                            "archive_id": res.archive_id,
                        }),
                    ))
                    .await?;
                    to_delete.push(r.file_id);
                    imported.push(number);
                } else {
                    let err: String = res
                        .error
                        .clone()
                        .unwrap_or_default()
                        .chars()
                        .take(1000)
                        .collect();
                    tx.update_many::<offer_file::Entity>()
                        .col_expr(offer_file::Column::ImportError, Expr::value(err.clone()))
                        .filter(offer_file::Column::Id.eq(r.id))
                        .exec(tx.conn())
                        .await?;
                    tx.audit(
                        NewEvent::new(IMPORT_FAILED, OBJECT, Some(r.file_id)).details(
                            serde_json::json!({
                                "file_number": number,
                                "offer_id": l.offer.id,
                                "error": err,
                            }),
                        ),
                    )
                    .await?;
                    failed.push(number);
                }
            }
            tx.audit(
                NewEvent::new("records.offer.receipt", OFFER_OBJECT, Some(&l.offer.id)).details(
                    serde_json::json!({
                        "message": kind.code(),
                        "imported": imported.len(),
                        "failed": failed.len(),
                    }),
                ),
            )
            .await?;
            tx.commit().await?;
            delete_imported(db, files_store, by, tenant, &l.offer.id).await?;
            let state = finish_if_done(db, by, tenant, &l.offer.id).await?;
            Ok(ReceiptOutcome {
                message: kind.code().to_string(),
                imported,
                failed,
                state,
            })
        }
        _ => Err(message_error(ERR_RECEIPT_TYPE)),
    }
}

/// Deletes the handed-over files whose import was confirmed and that still exist (each in
/// its own transaction; resumes an interrupted one).
pub async fn delete_imported(
    db: &DatabaseConnection,
    files_store: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
) -> Result<Vec<String>> {
    by.require(DISPOSAL)?;
    let filter = Filter::of(by);
    let rows = {
        let s = Scope::new(db, tenant, by)?;
        s.find::<offer_file::Entity>()
            .filter(offer_file::Column::OfferId.eq(id))
            .filter(offer_file::Column::ImportConfirmed.eq(true))
            .all(s.conn())
            .await?
    };
    let mut out = Vec::new();
    for r in rows {
        let tx = Tx::begin(db, tenant, by).await?;
        let Some(f) = tx
            .find::<file::Entity>()
            .filter(filter.files())
            .filter(file::Column::Id.eq(r.file_id))
            .one(tx.conn())
            .await?
        else {
            continue;
        };
        let plan = tx.get::<plan_item::Entity, _>(f.plan_item_id).await?;
        delete_file(
            &tx,
            files_store,
            &f,
            &plan,
            Reason::Archived,
            Some(id),
            &|_| false,
        )
        .await?;
        tx.commit().await?;
        out.push(f.file_number);
    }
    Ok(out)
}

/// `completed` once every handed-over file's import is confirmed.
async fn finish_if_done(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
) -> Result<OfferState> {
    let tx = Tx::begin(db, tenant, by).await?;
    let open = tx
        .find::<offer_file::Entity>()
        .filter(offer_file::Column::OfferId.eq(id))
        .filter(offer_file::Column::HandedOverAt.is_not_null())
        .filter(offer_file::Column::ImportConfirmed.eq(false))
        .count(tx.conn())
        .await?;
    if open > 0 {
        return Ok(OfferState::HandedOver);
    }
    set_state(&tx, id, OfferState::HandedOver, OfferState::Completed).await?;
    tx.audit(NewEvent::new(
        "records.offer.completed",
        OFFER_OBJECT,
        Some(id),
    ))
    .await?;
    tx.commit().await?;
    Ok(OfferState::Completed)
}

/// The 0505 receipt of an appraised offer again (for the page: the archive gets it with
/// every download).
pub async fn message_0505(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: &str,
    archive_name: &str,
) -> Result<(String, String)> {
    by.require(DISPOSAL)?;
    Filter::of(by).require_any()?;
    let tx = Tx::begin(db, tenant, by).await?;
    let l = load(tx.conn(), tenant, by, id).await?;
    if state_of(&l.offer) == OfferState::Offered {
        return Err(Error::Conflict(ERR_STATE.into()));
    }
    let process = messages::process_id(&l.offer.id)?;
    let parties = Parties::of(&tx, archive_name).await?;
    let receipt = x::Receipt {
        kind: x::ReceiptKind::Appraisal,
        header: parties.header(process, l.offer.updated_at),
    };
    let xml = receipt.to_xml().map_err(Error::internal_from)?;
    Ok((receipt.file_name(), xml))
}
