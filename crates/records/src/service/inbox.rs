//! The inbox: scans uploaded into a department's inbox, assigned to a file with one action.

use super::actor_label;
use super::documents::{DocumentInput, FILES_KIND_INBOX, FILES_MODULE};
use super::files::{FileQuery, OBJECT, by_number};
use crate::domain::{Coded, Direction, FileState};
use crate::permissions::MANAGE;
use crate::store::entity::{document, file, inbox_item, version};
use bytes::Bytes;
use chrono::Utc;
use futures_util::Stream;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::files::{FileStore, Limits, NewFile};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_store::{Db, accounts};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};

/// The department inboxes a user may choose besides the general one: their own department;
/// an admin (or the system) every department of the tenant. By name.
pub async fn departments(db: &Db, by: Actor<'_>, tenant: TenantId) -> Result<Vec<(i64, String)>> {
    by.require(MANAGE)?;
    let all = accounts::list_departments(&db.conn, tenant).await?;
    let own = match by.principal() {
        Some(p) if !p.is_admin => Some(
            accounts::user_by_id(&db.conn, tenant, p.user_id.0)
                .await?
                .department_id,
        ),
        _ => None,
    };
    Ok(all
        .into_iter()
        .filter(|d| own.is_none_or(|o| o == Some(d.id)))
        .map(|d| (d.id, d.name))
        .collect())
}

/// The inbox a user works in when they did not choose one: their department's, else the
/// general one.
pub async fn default_department(db: &Db, by: Actor<'_>, tenant: TenantId) -> Result<Option<i64>> {
    Ok(match by.principal() {
        Some(p) => {
            accounts::user_by_id(&db.conn, tenant, p.user_id.0)
                .await?
                .department_id
        }
        None => None,
    })
}

/// A field error unless the user may use this department's inbox (None, the general inbox,
/// is open to every clerk).
async fn check_department(
    db: &Db,
    by: Actor<'_>,
    tenant: TenantId,
    department_id: Option<i64>,
) -> Result<()> {
    let Some(d) = department_id else {
        return Ok(());
    };
    if departments(db, by, tenant)
        .await?
        .iter()
        .any(|(id, _)| *id == d)
    {
        Ok(())
    } else {
        Err(FieldErrors::single("department", ERR_DEPARTMENT))
    }
}

/// A department the user may not choose.
pub const ERR_DEPARTMENT: &str = "records.err.department";

/// Stores a scan in the inbox of `department_id` (None: the general inbox), which the user
/// must be allowed to choose.
#[allow(clippy::too_many_arguments)]
pub async fn upload<S>(
    db: &Db,
    files: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    department_id: Option<i64>,
    limits: Limits,
    name: &str,
    body: S,
) -> Result<inbox_item::Model>
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    by.require(MANAGE)?;
    check_department(db, by, tenant, department_id).await?;
    let body = super::documents::non_empty_body(body).await?;
    let meta = files
        .put_stream(
            db,
            tenant,
            by,
            NewFile {
                module: FILES_MODULE,
                kind: FILES_KIND_INBOX,
                original_name: name,
            },
            limits,
            body,
        )
        .await?;
    let tx = Tx::begin(&db.conn, tenant, by).await?;
    let row = tx
        .insert(inbox_item::ActiveModel {
            department_id: Set(department_id),
            file_ref: Set(meta.id.0),
            name: Set(meta.original_name.clone()),
            size: Set(i64::try_from(meta.size).map_err(Error::internal)?),
            sha256: Set(meta.sha256.clone()),
            mime: Set(meta.media_type.clone()),
            uploaded_by: Set(actor_label(by)),
            uploaded_at: Set(Utc::now()),
            document_id: Set(None),
            assigned_at: Set(None),
            ..Default::default()
        })
        .await?;
    tx.audit(
        NewEvent::new("records.inbox.added", "records.inbox", Some(row.id))
            .details(serde_json::json!({ "name": row.name, "size": row.size })),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The unassigned scans of one inbox: a department's, or the general one (None); a
/// department the user may not choose is a field error.
pub async fn list(
    db: &Db,
    by: Actor<'_>,
    tenant: TenantId,
    department_id: Option<i64>,
) -> Result<Vec<inbox_item::Model>> {
    by.require(MANAGE)?;
    check_department(db, by, tenant, department_id).await?;
    let s = Scope::new(&db.conn, tenant, by)?;
    let q = s
        .find::<inbox_item::Entity>()
        .filter(inbox_item::Column::DocumentId.is_null())
        .filter(match department_id {
            Some(d) => inbox_item::Column::DepartmentId.eq(d),
            None => inbox_item::Column::DepartmentId.is_null(),
        });
    Ok(q.order_by_asc(inbox_item::Column::UploadedAt)
        .all(s.conn())
        .await?)
}

/// An assignment's text matches several open files; the page offers them.
pub const ERR_AMBIGUOUS: &str = "records.err.file_ambiguous";

/// The most files offered when an assignment's text matches several.
pub const MAX_MATCHES: usize = 10;

/// The open files the user may see whose Aktenzeichen, title or subject's name contains
/// `text`, newest first (at most `MAX_MATCHES`), and how many there are.
pub async fn matching_files(
    db: &Db,
    by: Actor<'_>,
    tenant: TenantId,
    text: &str,
) -> Result<(u64, Vec<file::Model>)> {
    by.require(MANAGE)?;
    let (n, mut rows) = super::files::list(
        &db.conn,
        by,
        tenant,
        &FileQuery {
            state: Some(FileState::Open),
            q: text.trim().to_string(),
            ..Default::default()
        },
    )
    .await?;
    rows.truncate(MAX_MATCHES);
    Ok((n, rows))
}

/// The file an assignment names: the one with this Aktenzeichen, else the only open file
/// whose Aktenzeichen, title or subject's name contains the text.
async fn file_named(db: &Db, by: Actor<'_>, tenant: TenantId, text: &str) -> Result<file::Model> {
    match by_number(&db.conn, by, tenant, text).await {
        Err(Error::NotFound) => {}
        found => return found,
    }
    let (n, mut rows) = matching_files(db, by, tenant, text).await?;
    match n {
        0 => Err(FieldErrors::single(
            "file_number",
            "records.err.file_unknown",
        )),
        1 if !rows.is_empty() => Ok(rows.remove(0)),
        n => {
            let mut e = FieldErrors::new();
            e.add_arg("file_number", ERR_AMBIGUOUS, Some(n));
            Err(Error::Invalid(e))
        }
    }
}

/// Files a scan into the file named by its Aktenzeichen, or by a part of it, its title or
/// its subject's name when only one open file matches, as a new document (the stored
/// content is reused: no second upload).
pub async fn assign(
    db: &Db,
    by: Actor<'_>,
    tenant: TenantId,
    item_id: i64,
    file_number: &str,
    input: &DocumentInput,
) -> Result<i64> {
    by.require(MANAGE)?;
    if file_number.trim().is_empty() {
        return Err(FieldErrors::single("file_number", "err.required"));
    }
    let f = file_named(db, by, tenant, file_number).await?;
    // A scan in a department's inbox the user may not choose does not exist for them.
    let pre = Scope::new(&db.conn, tenant, by)?
        .get::<inbox_item::Entity, _>(item_id)
        .await?;
    check_department(db, by, tenant, pre.department_id)
        .await
        .map_err(|e| match e {
            Error::Invalid(_) => Error::NotFound,
            e => e,
        })?;
    if f.state != FileState::Open.code() {
        return Err(Error::Conflict(super::files::ERR_NOT_OPEN.into()));
    }
    let tx = Tx::begin(&db.conn, tenant, by).await?;
    let item = tx.get::<inbox_item::Entity, _>(item_id).await?;
    if item.document_id.is_some() {
        return Err(Error::Conflict("records.err.already_assigned".into()));
    }
    let title = if input.title.trim().is_empty() {
        item.name
            .rsplit_once('.')
            .map(|(a, _)| a.to_string())
            .unwrap_or_else(|| item.name.clone())
    } else {
        input.title.trim().chars().take(300).collect()
    };
    let doc = tx
        .insert(document::ActiveModel {
            file_id: Set(f.id),
            case_id: Set(None),
            access: Set(f.access.clone()),
            title: Set(title),
            doc_date: Set(super::today()),
            direction: Set(Direction::Incoming.code().to_string()),
            tags: Set(crate::domain::normalize_tags(&input.tags).join(",")),
            current_version: Set(1),
            file_ref: Set(item.file_ref),
            created_at: Set(Utc::now()),
            created_by: Set(actor_label(by)),
            ..Default::default()
        })
        .await?;
    tx.insert(version::ActiveModel {
        document_id: Set(doc.id),
        version: Set(1),
        file_ref: Set(item.file_ref),
        name: Set(item.name.clone()),
        size: Set(item.size),
        sha256: Set(item.sha256.clone()),
        mime: Set(item.mime.clone()),
        uploaded_by_id: Set(by.principal().map(|p| p.user_id.0)),
        uploaded_by: Set(item.uploaded_by.clone()),
        uploaded_at: Set(item.uploaded_at),
        ..Default::default()
    })
    .await?;
    tx.update_many::<inbox_item::Entity>()
        .col_expr(inbox_item::Column::DocumentId, Expr::value(doc.id))
        .col_expr(inbox_item::Column::AssignedAt, Expr::value(Utc::now()))
        .filter(inbox_item::Column::Id.eq(item.id))
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("records.document.added", OBJECT, Some(f.id)).details(serde_json::json!({
            "document_id": doc.id,
            "version": 1,
            "sha256": item.sha256,
            "inbox_item": item.id,
        })),
    )
    .await?;
    rathaus_search::enqueue(&tx, super::search::KIND, doc.id, rathaus_search::Op::Upsert).await?;
    rathaus_extract::enqueue_and_reindex(
        &tx,
        rathaus_store::files::FileId(item.file_ref),
        super::search::KIND,
        doc.id,
    )
    .await?;
    tx.commit().await?;
    Ok(doc.id)
}
