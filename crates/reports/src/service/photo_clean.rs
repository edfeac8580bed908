//! Report photos in two steps (issue 15, item 10). A submission is accepted after the cheap
//! checks of each upload's header (type by content, size, dimensions, a JPEG's completeness);
//! the upload as sent waits in quarantine on the file service, and the job [`JOB`] decodes and
//! re-encodes it (which drops EXIF, GPS and anything else hidden in the file), stores the
//! picture and its thumbnail, and removes the upload. Until then the photo is neither listed
//! nor served, to the public or to staff. An upload that passes the header checks but does not
//! decode is removed with an audit event; the report stays.
//!
//! The job runner works one job at a time, so at most one picture is decoded per process in
//! the background, however many citizens submit at once; and a re-encoding waits while photo
//! submissions keep coming in (up to 10 s), so a burst gets both cores.

use crate::service::photo_files;
use crate::service::{By, PHOTO_BOUNDS, PHOTO_FIT, PHOTO_MAX_ALLOC, PhotoId, ReportsState};
use crate::store::entity::photo;
use rathaus_core::audit::NewEvent;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::Db;
use rathaus_store::files::{FileId, FileStore, Limits, NewFile};
use rathaus_store::images::{self, ImageError};
use rathaus_store::jobs::{self, Handler, Job};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use serde_json::json;
use std::sync::Arc;

/// Re-encodes one quarantined photo.
pub const JOB: &str = "reports.photo_clean";
/// The file kind of an upload as sent (never served).
const KIND: &str = "photo-upload";
/// Attempts before the job gives up (a failing file service, not a bad picture: that one is
/// removed on the first attempt).
const ATTEMPTS: i32 = 5;
/// Quality of the re-encoded JPEGs.
const QUALITY: u8 = 82;

/// The condition of a photo that may be listed and served: re-encoded, not in quarantine.
pub(crate) fn cleaned() -> SimpleExpr {
    photo::Column::QuarantineFileId.is_null()
}

/// How many photos of a report still wait to be re-encoded.
pub async fn pending(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    report_id: crate::service::ReportId,
) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .filter(photo::Column::ReportId.eq(report_id.0))
        .filter(photo::Column::QuarantineFileId.is_not_null())
        .count(conn)
        .await?)
}

/// Width and height of an upload after the header checks, or why it is refused.
pub fn check(bytes: &[u8]) -> std::result::Result<(u32, u32), ImageError> {
    images::check_header(bytes, &PHOTO_BOUNDS, PHOTO_MAX_ALLOC)
}

/// Stores an upload as sent (it commits its own file reference, as every put does).
pub async fn quarantine(
    db: &Db,
    files: &FileStore,
    tenant: TenantId,
    by: By<'_>,
    bytes: &[u8],
) -> Result<FileId> {
    let new = NewFile {
        module: "reports",
        kind: KIND,
        original_name: "upload",
    };
    let limits = Limits {
        max_size: PHOTO_BOUNDS.max_bytes as u64,
        quota: None,
    };
    Ok(files.put(db, tenant, by, new, limits, bytes).await?.id)
}

/// Queues the re-encoding of a photo (in the transaction that inserts its row).
pub async fn enqueue(conn: &impl ConnectionTrait, tenant: TenantId, id: PhotoId) -> Result<()> {
    jobs::enqueue(conn, tenant, JOB, json!({ "photo_id": id }), ATTEMPTS).await?;
    Ok(())
}

/// What one run did with a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Re-encoded and now listed.
    Cleaned,
    /// Not a picture after all: removed, with an audit event.
    Rejected,
    /// Cleaned or deleted meanwhile: nothing to do.
    Gone,
}

/// Re-encodes a quarantined photo, or removes it when it does not decode.
pub async fn clean(
    db: &Db,
    files: &FileStore,
    state: &ReportsState,
    tenant: TenantId,
    id: PhotoId,
) -> Result<Outcome> {
    let by = Actor::system(JOB);
    let row = rathaus_store::uow::scoped_by_id::<photo::Entity, _>(tenant, id)
        .one(&db.conn)
        .await?;
    let Some((report_id, Some(upload))) = row.map(|r| (r.report_id, r.quarantine_file_id)) else {
        return Ok(Outcome::Gone);
    };
    let upload = FileId(upload);
    let bytes = match files
        .read_all(&db.conn, tenant, by, upload, PHOTO_BOUNDS.max_bytes as u64)
        .await
    {
        Ok(b) => b,
        // Larger than any accepted upload: not one this module stored.
        Err(Error::Invalid(_)) => {
            return reject(
                db,
                files,
                tenant,
                id,
                report_id,
                upload,
                ImageError::TooLarge,
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    // Submissions first: during a burst the cores take new reports, the photos wait.
    state.quiet_for_photos().await;
    let encoded = tokio::task::spawn_blocking(move || {
        images::reencode_jpeg(
            &bytes,
            &PHOTO_BOUNDS,
            PHOTO_MAX_ALLOC,
            PHOTO_FIT,
            crate::service::THUMB_FIT,
            QUALITY,
        )
    })
    .await
    .map_err(Error::internal)?;
    let p = match encoded {
        Ok(p) => p,
        Err(e) => return reject(db, files, tenant, id, report_id, upload, e).await,
    };
    let stored = photo_files::put(db, files, tenant, by, &p.jpeg, &p.thumb).await?;
    let tx = Tx::begin(&db.conn, tenant, by).await?;
    let set = tx
        .update_many::<photo::Entity>()
        .col_expr(photo::Column::ImageFileId, Expr::value(stored.image.0))
        .col_expr(photo::Column::ThumbFileId, Expr::value(stored.thumb.0))
        .col_expr(photo::Column::Sha256, Expr::value(p.sha256))
        .col_expr(photo::Column::Width, Expr::value(p.width as i32))
        .col_expr(photo::Column::Height, Expr::value(p.height as i32))
        .col_expr(
            photo::Column::QuarantineFileId,
            Expr::value(Option::<i64>::None),
        )
        .filter(photo::Column::Id.eq(id.0))
        .filter(photo::Column::QuarantineFileId.eq(upload.0))
        .exec(tx.conn())
        .await?
        .rows_affected;
    if set != 1 {
        drop(tx);
        photo_files::forget(db, files, tenant, by, &[stored.image, stored.thumb]).await;
        return Ok(Outcome::Gone);
    }
    forget_upload(files, &tx, upload).await?;
    tx.commit().await?;
    state.generations.bump(tenant);
    Ok(Outcome::Cleaned)
}

/// Removes a photo whose upload is no picture, and its upload, with the reason in the audit.
async fn reject(
    db: &Db,
    files: &FileStore,
    tenant: TenantId,
    id: PhotoId,
    report_id: i64,
    upload: FileId,
    why: ImageError,
) -> Result<Outcome> {
    let tx = Tx::begin(&db.conn, tenant, Actor::system(JOB)).await?;
    let gone = tx
        .delete_many::<photo::Entity>()
        .filter(photo::Column::Id.eq(id.0))
        .filter(photo::Column::QuarantineFileId.eq(upload.0))
        .exec(tx.conn())
        .await?
        .rows_affected;
    if gone != 1 {
        return Ok(Outcome::Gone);
    }
    forget_upload(files, &tx, upload).await?;
    tx.audit(
        NewEvent::new("reports.photo.rejected", "reports_report", Some(report_id))
            .details(json!({"photo_id": id, "reason": format!("{why:?}")})),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant = tenant.0, photo = id.0, reason = ?why, "report photo rejected after its header checks");
    Ok(Outcome::Rejected)
}

async fn forget_upload(files: &FileStore, tx: &Tx<'_>, upload: FileId) -> Result<()> {
    match files.delete(tx, upload).await {
        Ok(()) | Err(Error::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The job's handler.
pub struct CleanJob {
    files: Arc<FileStore>,
    state: Arc<ReportsState>,
}

impl CleanJob {
    pub fn new(files: Arc<FileStore>, state: Arc<ReportsState>) -> CleanJob {
        CleanJob { files, state }
    }
}

#[async_trait::async_trait]
impl Handler for CleanJob {
    async fn run(&self, db: &Db, job: &Job) -> std::result::Result<(), String> {
        let v: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
        let id = v["photo_id"].as_i64().ok_or("payload without photo_id")?;
        clean(
            db,
            &self.files,
            &self.state,
            TenantId(job.tenant_id),
            PhotoId(id),
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}
