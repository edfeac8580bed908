//! Resource photos on the platform's file service (ADR 0016): new photos are stored there, the
//! row keeps the two file ids; photos stored before stay in their BLOB columns until the job
//! `booking.photos_to_files` moves them. Reading picks whichever the row has.

use crate::store::entity::photo;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::Db;
use rathaus_store::files::{FileId, FileStore, Limits, NewFile};
use rathaus_store::jobs::{self, Handler, Job};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::sync::Arc;

/// The job that moves BLOB photos onto the file service, one run per tenant.
pub const JOB: &str = "booking.photos_to_files";
const MODULE: &str = "booking";
const KIND: &str = "photo";
/// Re-encoded photos are a few hundred KB; the limit only guards against a broken encoder.
/// No quota: the tenant's photos were accepted before (quotas have no tenant setting yet).
const LIMITS: Limits = Limits {
    max_size: 50_000_000,
    quota: None,
};
/// Photos moved per job run; a run that leaves some queues the next one.
const BATCH: u64 = 200;
const JOB_ACTOR: Actor<'static> = Actor::system(JOB);

/// A JPEG column that may have been cleared.
type Blob = Option<Vec<u8>>;

/// The ids of a stored photo and its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoFiles {
    pub image: FileId,
    pub thumb: FileId,
}

/// Stores the JPEG and its thumbnail. When the second put fails the first reference is
/// removed again, so a failed call leaves no reference (the collector removes the content).
pub async fn put(
    db: &Db,
    files: &FileStore,
    tenant: TenantId,
    by: Actor<'_>,
    image: &[u8],
    thumb: &[u8],
) -> Result<PhotoFiles> {
    let new = |name| NewFile {
        module: MODULE,
        kind: KIND,
        original_name: name,
    };
    let img = files
        .put(db, tenant, by, new("foto.jpg"), LIMITS, image)
        .await?;
    match files
        .put(db, tenant, by, new("foto-klein.jpg"), LIMITS, thumb)
        .await
    {
        Ok(th) => Ok(PhotoFiles {
            image: img.id,
            thumb: th.id,
        }),
        Err(e) => {
            forget(db, files, tenant, by, &[img.id]).await;
            Err(e)
        }
    }
}

/// Removes references whose row was never written (its transaction failed): best effort,
/// a failure is logged (the reference then stays until an operator removes it).
pub async fn forget(db: &Db, files: &FileStore, tenant: TenantId, by: Actor<'_>, ids: &[FileId]) {
    let run = async {
        let tx = Tx::begin(&db.conn, tenant, by).await?;
        for id in ids {
            match files.delete(&tx, *id).await {
                Ok(()) | Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        tx.commit().await
    };
    if let Err(e) = run.await {
        tracing::warn!(error = %e, ?ids, "removing the file references of an unsaved photo failed");
    }
}

/// Where a photo's bytes are.
#[derive(Debug)]
pub enum Body {
    /// Still in the database (stored before ADR 0016).
    Blob(Vec<u8>),
    File(FileId),
}

/// The JPEG of a photo (its thumbnail when `small`): the file id, or the BLOB when the photo
/// has not been moved yet.
pub async fn body(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
    small: bool,
) -> Result<Body> {
    let (blob, file) = if small {
        (photo::Column::Thumb, photo::Column::ThumbFileId)
    } else {
        (photo::Column::Image, photo::Column::ImageFileId)
    };
    let row: Option<(Option<i64>, Option<Vec<u8>>)> =
        rathaus_store::uow::scoped::<photo::Entity>(tenant)
            .select_only()
            .column(file)
            .column(blob)
            .filter(photo::Column::Id.eq(id))
            .into_tuple()
            .one(conn)
            .await?;
    match row {
        Some((Some(f), _)) => Ok(Body::File(FileId(f))),
        Some((None, Some(b))) => Ok(Body::Blob(b)),
        _ => Err(Error::NotFound),
    }
}

/// Tenants with photos still in the database.
async fn tenants_with_blobs(conn: &impl ConnectionTrait) -> Result<Vec<i64>> {
    // Not tenant-scoped on purpose: the start-up check looks at every tenant once.
    Ok(photo::Entity::find()
        .select_only()
        .column(photo::Column::TenantId)
        .distinct()
        .filter(photo::Column::ImageFileId.is_null())
        .filter(photo::Column::Image.is_not_null())
        .into_tuple()
        .all(conn)
        .await?)
}

/// Queues one move per tenant that still has BLOB photos and no move queued or running
/// (called at every start, after the migrations).
pub async fn enqueue_moves(db: &Db) -> Result<usize> {
    let mut n = 0;
    for t in tenants_with_blobs(&db.conn).await? {
        if !jobs::pending(&db.conn, TenantId(t), JOB).await? {
            jobs::enqueue(&db.conn, TenantId(t), JOB, serde_json::json!({}), 10).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// What one run of the move did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub moved: u64,
    /// Photos still in the database after the run.
    pub left: bool,
}

/// Moves up to `limit` BLOB photos of a tenant onto the file service, each in its own
/// transaction (put both files, set the ids, clear the BLOBs). Safe to run twice and to stop
/// at any point: a photo is either moved or still in its BLOB.
pub async fn move_batch(db: &Db, files: &FileStore, tenant: TenantId, limit: u64) -> Result<Moved> {
    let ids: Vec<i64> = rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .column(photo::Column::Id)
        .filter(photo::Column::ImageFileId.is_null())
        .filter(photo::Column::Image.is_not_null())
        .order_by_asc(photo::Column::Id)
        .limit(limit + 1)
        .into_tuple()
        .all(&db.conn)
        .await?;
    let left = ids.len() as u64 > limit;
    let mut out = Moved { moved: 0, left };
    for id in ids.into_iter().take(limit as usize) {
        if move_one(db, files, tenant, id).await? {
            out.moved += 1;
        }
    }
    Ok(out)
}

async fn move_one(db: &Db, files: &FileStore, tenant: TenantId, id: i64) -> Result<bool> {
    let row: Option<(Blob, Blob)> = rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .column(photo::Column::Image)
        .column(photo::Column::Thumb)
        .filter(photo::Column::Id.eq(id))
        .filter(photo::Column::ImageFileId.is_null())
        .into_tuple()
        .one(&db.conn)
        .await?;
    let Some((Some(image), Some(thumb))) = row else {
        // Moved or deleted meanwhile (or a row without bytes, which has nothing to move).
        return Ok(false);
    };
    let stored = put(db, files, tenant, JOB_ACTOR, &image, &thumb).await?;
    let tx = Tx::begin(&db.conn, tenant, JOB_ACTOR).await?;
    let done = tx
        .update_many::<photo::Entity>()
        .col_expr(photo::Column::ImageFileId, Expr::value(stored.image.0))
        .col_expr(photo::Column::ThumbFileId, Expr::value(stored.thumb.0))
        .col_expr(photo::Column::Image, Expr::value(Option::<Vec<u8>>::None))
        .col_expr(photo::Column::Thumb, Expr::value(Option::<Vec<u8>>::None))
        .filter(photo::Column::Id.eq(id))
        .filter(photo::Column::ImageFileId.is_null())
        .exec(tx.conn())
        .await?
        .rows_affected
        == 1;
    if done {
        tx.commit().await?;
    } else {
        drop(tx);
        forget(db, files, tenant, JOB_ACTOR, &[stored.image, stored.thumb]).await;
    }
    Ok(done)
}

/// The handler of `booking.photos_to_files`: one batch per run, then the next run is queued.
pub struct MoveJob {
    files: Arc<FileStore>,
}

impl MoveJob {
    pub fn new(files: Arc<FileStore>) -> MoveJob {
        MoveJob { files }
    }
}

#[async_trait::async_trait]
impl Handler for MoveJob {
    async fn run(&self, db: &Db, job: &Job) -> std::result::Result<(), String> {
        let tenant = TenantId(job.tenant_id);
        let m = move_batch(db, &self.files, tenant, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            tenant = tenant.0,
            moved = m.moved,
            more = m.left,
            "resource photos moved to the file service"
        );
        if m.left {
            jobs::enqueue(&db.conn, tenant, JOB, serde_json::json!({}), 10)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
