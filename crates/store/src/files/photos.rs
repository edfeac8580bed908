//! Module photos on the file service (ADR 0016), written once for every module with a photo
//! table: new photos are stored as two files (the JPEG and its thumbnail) whose ids the row
//! keeps; photos stored before stay in the row's BLOB columns until the module's move job
//! puts them on the file service. Reading picks whichever the row has.
//!
//! A module declares its table with [`photo_files!`](crate::photo_files), which implements
//! [`PhotoTable`] and gives the module monomorphic functions (`put`, `forget`, `body`,
//! `enqueue_moves`, `move_batch`, `MoveJob`), so its handlers never name the entity.

use super::{FileId, FileStore, Limits, NewFile};
use crate::Db;
use crate::jobs::{self, Handler, Job};
use crate::uow::{self, Actor, TenantOwned, Tx};
use rathaus_core::{Error, Result, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};
use std::marker::PhantomData;
use std::sync::Arc;

/// A module's photo table: columns `id`, `image`/`thumb` (the old BLOBs) and
/// `image_file_id`/`thumb_file_id`.
pub trait PhotoTable: TenantOwned {
    /// The owning module, as the file service records it.
    const MODULE: &'static str;
    /// The job kind that moves BLOB photos, e.g. `reports.photos_to_files`.
    const JOB: &'static str;
    fn id() -> Self::Column;
    fn image() -> Self::Column;
    fn thumb() -> Self::Column;
    fn image_file() -> Self::Column;
    fn thumb_file() -> Self::Column;
}

const KIND: &str = "photo";
/// Re-encoded photos are a few hundred KB; the limit only guards against a broken encoder.
/// No quota: the tenant's photos were accepted before (quotas have no tenant setting yet).
const LIMITS: Limits = Limits {
    max_size: 50_000_000,
    quota: None,
};
/// Photos moved per job run; a run that leaves some queues the next one.
pub const BATCH: u64 = 200;

/// A JPEG column that may have been cleared.
type Blob = Option<Vec<u8>>;

/// The ids of a stored photo and its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoFiles {
    pub image: FileId,
    pub thumb: FileId,
}

/// Where a photo's bytes are.
#[derive(Debug)]
pub enum Body {
    /// Still in the database (stored before ADR 0016).
    Blob(Vec<u8>),
    File(FileId),
}

/// What one run of the move did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub moved: u64,
    /// Photos still in the database after the run.
    pub left: bool,
}

/// Stores the JPEG and its thumbnail. When the second put fails the first reference is
/// removed again, so a failed call leaves no reference (the collector removes the content).
pub async fn put<E: PhotoTable>(
    db: &Db,
    files: &FileStore,
    tenant: TenantId,
    by: Actor<'_>,
    image: &[u8],
    thumb: &[u8],
) -> Result<PhotoFiles> {
    let new = |name| NewFile {
        module: E::MODULE,
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

/// The JPEG of a photo (its thumbnail when `small`): the file id, or the BLOB when the photo
/// has not been moved yet.
pub async fn body<E: PhotoTable>(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
    small: bool,
) -> Result<Body> {
    let (blob, file) = if small {
        (E::thumb(), E::thumb_file())
    } else {
        (E::image(), E::image_file())
    };
    let row: Option<(Option<i64>, Blob)> = uow::scoped::<E>(tenant)
        .select_only()
        .column(file)
        .column(blob)
        .filter(E::id().eq(id))
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
async fn tenants_with_blobs<E: PhotoTable>(conn: &impl ConnectionTrait) -> Result<Vec<i64>> {
    // Not tenant-scoped on purpose: the start-up check looks at every tenant once.
    Ok(E::find()
        .select_only()
        .column(E::tenant_column())
        .distinct()
        .filter(E::image_file().is_null())
        .filter(E::image().is_not_null())
        .into_tuple()
        .all(conn)
        .await?)
}

/// Queues one move per tenant that still has BLOB photos and no move queued or running
/// (called at every start, after the migrations).
pub async fn enqueue_moves<E: PhotoTable>(db: &Db) -> Result<usize> {
    let mut n = 0;
    for t in tenants_with_blobs::<E>(&db.conn).await? {
        if !jobs::pending(&db.conn, TenantId(t), E::JOB).await? {
            jobs::enqueue(&db.conn, TenantId(t), E::JOB, serde_json::json!({}), 10).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Moves up to `limit` BLOB photos of a tenant onto the file service, each in its own
/// transaction (put both files, set the ids, clear the BLOBs). Safe to run twice and to stop
/// at any point: a photo is either moved or still in its BLOB.
pub async fn move_batch<E: PhotoTable>(
    db: &Db,
    files: &FileStore,
    tenant: TenantId,
    limit: u64,
) -> Result<Moved> {
    let ids: Vec<i64> = uow::scoped::<E>(tenant)
        .select_only()
        .column(E::id())
        .filter(E::image_file().is_null())
        .filter(E::image().is_not_null())
        .order_by_asc(E::id())
        .limit(limit + 1)
        .into_tuple()
        .all(&db.conn)
        .await?;
    let left = ids.len() as u64 > limit;
    let mut out = Moved { moved: 0, left };
    for id in ids.into_iter().take(limit as usize) {
        if move_one::<E>(db, files, tenant, id).await? {
            out.moved += 1;
        }
    }
    Ok(out)
}

async fn move_one<E: PhotoTable>(
    db: &Db,
    files: &FileStore,
    tenant: TenantId,
    id: i64,
) -> Result<bool> {
    let by = Actor::system(E::JOB);
    let row: Option<(Blob, Blob)> = uow::scoped::<E>(tenant)
        .select_only()
        .column(E::image())
        .column(E::thumb())
        .filter(E::id().eq(id))
        .filter(E::image_file().is_null())
        .into_tuple()
        .one(&db.conn)
        .await?;
    let Some((Some(image), Some(thumb))) = row else {
        // Moved or deleted meanwhile (or a row without bytes, which has nothing to move).
        return Ok(false);
    };
    let stored = put::<E>(db, files, tenant, by, &image, &thumb).await?;
    let tx = Tx::begin(&db.conn, tenant, by).await?;
    let done = tx
        .update_many::<E>()
        .col_expr(E::image_file(), Expr::value(stored.image.0))
        .col_expr(E::thumb_file(), Expr::value(stored.thumb.0))
        .col_expr(E::image(), Expr::value(Option::<Vec<u8>>::None))
        .col_expr(E::thumb(), Expr::value(Option::<Vec<u8>>::None))
        .filter(E::id().eq(id))
        .filter(E::image_file().is_null())
        .exec(tx.conn())
        .await?
        .rows_affected
        == 1;
    if done {
        tx.commit().await?;
    } else {
        drop(tx);
        forget(db, files, tenant, by, &[stored.image, stored.thumb]).await;
    }
    Ok(done)
}

/// The handler of a module's move job: one batch per run, then the next run is queued.
pub struct MoveJob<E> {
    files: Arc<FileStore>,
    table: PhantomData<fn() -> E>,
}

impl<E> MoveJob<E> {
    pub fn new(files: Arc<FileStore>) -> MoveJob<E> {
        MoveJob {
            files,
            table: PhantomData,
        }
    }
}

#[async_trait::async_trait]
impl<E: PhotoTable> Handler for MoveJob<E> {
    async fn run(&self, db: &Db, job: &Job) -> std::result::Result<(), String> {
        let tenant = TenantId(job.tenant_id);
        let m = move_batch::<E>(db, &self.files, tenant, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            tenant = tenant.0,
            job = E::JOB,
            moved = m.moved,
            more = m.left,
            "photos moved to the file service"
        );
        if m.left {
            jobs::enqueue(&db.conn, tenant, E::JOB, serde_json::json!({}), 10)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Declares a module's photo table (an entity module with `Entity` and the columns `Id`,
/// `Image`, `Thumb`, `ImageFileId`, `ThumbFileId`) and defines, in the calling module, `JOB`,
/// `put`, `forget`, `body`, `enqueue_moves`, `move_batch` and `MoveJob` for it.
#[macro_export]
macro_rules! photo_files {
    ($m:path, module = $module:literal, job = $job:literal) => {
        pub use $crate::files::photos::{Body, Moved, PhotoFiles};
        use $m as photo_table;

        /// The job that moves BLOB photos onto the file service, one run per tenant.
        pub const JOB: &str = $job;

        impl $crate::files::photos::PhotoTable for photo_table::Entity {
            const MODULE: &'static str = $module;
            const JOB: &'static str = $job;
            fn id() -> photo_table::Column {
                photo_table::Column::Id
            }
            fn image() -> photo_table::Column {
                photo_table::Column::Image
            }
            fn thumb() -> photo_table::Column {
                photo_table::Column::Thumb
            }
            fn image_file() -> photo_table::Column {
                photo_table::Column::ImageFileId
            }
            fn thumb_file() -> photo_table::Column {
                photo_table::Column::ThumbFileId
            }
        }

        /// The move job's handler for this module's photos.
        pub type MoveJob = $crate::files::photos::MoveJob<photo_table::Entity>;

        /// Stores a photo and its thumbnail on the file service.
        pub async fn put(
            db: &$crate::Db,
            files: &$crate::files::FileStore,
            tenant: ::rathaus_core::TenantId,
            by: $crate::uow::Actor<'_>,
            image: &[u8],
            thumb: &[u8],
        ) -> ::rathaus_core::Result<PhotoFiles> {
            $crate::files::photos::put::<photo_table::Entity>(db, files, tenant, by, image, thumb)
                .await
        }

        pub use $crate::files::photos::forget;

        /// Where the bytes of a photo (or its thumbnail) are.
        pub async fn body(
            conn: &impl ::sea_orm::ConnectionTrait,
            tenant: ::rathaus_core::TenantId,
            id: i64,
            small: bool,
        ) -> ::rathaus_core::Result<Body> {
            $crate::files::photos::body::<photo_table::Entity>(conn, tenant, id, small).await
        }

        /// Queues a move for every tenant with photos still in the database.
        pub async fn enqueue_moves(db: &$crate::Db) -> ::rathaus_core::Result<usize> {
            $crate::files::photos::enqueue_moves::<photo_table::Entity>(db).await
        }

        /// Moves up to `limit` photos of a tenant onto the file service.
        pub async fn move_batch(
            db: &$crate::Db,
            files: &$crate::files::FileStore,
            tenant: ::rathaus_core::TenantId,
            limit: u64,
        ) -> ::rathaus_core::Result<Moved> {
            $crate::files::photos::move_batch::<photo_table::Entity>(db, files, tenant, limit).await
        }
    };
}
