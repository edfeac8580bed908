//! The file service of every module: uploads are streamed (never whole in memory) to a
//! temporary object while their SHA-256 and size are computed, then moved to their content
//! address `t/<tenant>/sha256/<ab>/<cd>/<hash>`; identical uploads of a tenant are stored once.
//!
//! - `files` holds the references (one per upload: original name, owning module and kind,
//!   size, hash, media type sniffed from the content); `file_contents` holds each distinct
//!   content of a tenant once with its reference count. The quota counts distinct contents.
//! - Backends: a directory on the local disk (`<data_dir>/files`) or an S3-compatible bucket,
//!   both through `object_store` (`FilesConfig`).
//! - An upload that fails half-way (stream error, size limit or quota exceeded, the client
//!   gone) leaves nothing behind: no row, no temporary object (a dropped upload is cleaned up
//!   in the background; after a crash the collector removes the rest).
//! - Content that lost its last reference is removed by the job `files.gc` a grace period
//!   later (see `gc.rs`).
//!
//! Changes to a tenant's contents are serialised: on SQLite by the write lock of the
//! transaction, on PostgreSQL by a transaction-scoped advisory lock per tenant. The object is
//! moved into place (or the collector removes it) while that lock is held, so a put and the
//! collector never disagree about whether a content exists.
//!
//! The service checks no module permission: the module's service does that before it calls
//! `put`, `get` or `delete` (and passes the tenant's limits).

mod backend;
mod gc;
pub mod photos;
pub mod range;
mod upload;

pub use backend::{FilesConfig, Location, S3Config};
pub use gc::{GC_JOB, GcReport, jobs};
pub use range::ByteRange;

use crate::entity::{file, file_content};
use crate::uow::{Actor, Scope, Tx};
use crate::{Backend, Db};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;
use tokio::io::AsyncRead;

/// The field name of the service's input errors.
pub const FIELD: &str = "file";
/// Translation keys of the errors a user sees.
pub const ERR_TOO_LARGE: &str = "files.err.too_large";
pub const ERR_QUOTA: &str = "files.err.quota";
pub const ERR_INCOMPLETE: &str = "files.err.incomplete";
pub const ERR_RANGE: &str = "files.err.range";

/// How many leading bytes the media type is sniffed from.
const SNIFF_BYTES: usize = 8192;
/// Size of one part written to the disk (no minimum there).
const DISK_PART: usize = 1 << 20;
/// Chunk size of a download from the disk.
const READ_CHUNK: usize = 256 * 1024;
/// Size of one part of an S3 multipart upload (S3's minimum is 5 MiB).
const S3_PART: usize = 5 << 20;

/// A stored file (a reference to a content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub i64);

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What the service knows about a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    pub id: FileId,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// Sniffed from the content (magic bytes), never taken from the client.
    pub media_type: String,
    /// The client's file name without any directory part or control characters (may be empty).
    pub original_name: String,
    /// The module that owns the file (`reports`) and what it is there (`photo`).
    pub module: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

impl From<file::Model> for FileMeta {
    fn from(m: file::Model) -> Self {
        FileMeta {
            id: FileId(m.id),
            size: u64::try_from(m.size).unwrap_or(0),
            sha256: m.sha256,
            media_type: m.media_type,
            original_name: m.original_name,
            module: m.module,
            kind: m.kind,
            created_at: m.created_at,
        }
    }
}

/// The owner and name of a new file.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    /// The owning module (`reports`, `booking`, `records`): lower-case ASCII, digits, `_-.`.
    pub module: &'a str,
    /// What the file is in that module (`photo`, `document`, `import`): same characters.
    pub kind: &'a str,
    /// The client's file name; only its last path component is kept.
    pub original_name: &'a str,
}

/// The limits of one upload, from the tenant's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest upload in bytes.
    pub max_size: u64,
    /// The most bytes of distinct contents the tenant may store (None: no quota).
    pub quota: Option<u64>,
}

/// A download: the file, the bytes served and the stream of them.
pub struct Download {
    pub meta: FileMeta,
    /// The bytes of the file in `body` (end exclusive): the whole file or the requested range.
    pub range: Range<u64>,
    /// Whether a range was requested and served (HTTP 206 with `Content-Range`).
    pub partial: bool,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .field("partial", &self.partial)
            .finish_non_exhaustive()
    }
}

/// The file service on one backend. Cheap to share (`Arc<FileStore>`).
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    location: Location,
    part_size: usize,
    grace: chrono::Duration,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("location", &self.location)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

fn store_err(e: object_store::Error) -> Error {
    Error::internal_from(e)
}

fn too_large(max: u64) -> Error {
    let mut e = FieldErrors::new();
    e.add_arg(FIELD, ERR_TOO_LARGE, Some(human_size(max)));
    Error::Invalid(e)
}

fn over_quota(quota: u64) -> Error {
    let mut e = FieldErrors::new();
    e.add_arg(FIELD, ERR_QUOTA, Some(human_size(quota)));
    Error::Invalid(e)
}

/// `20 MB`, `512 KB`, `7 Bytes`: the limit in an error message (decimal units, rounded down).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    for (n, unit) in UNITS {
        if bytes >= n {
            return format!("{} {unit}", bytes / n);
        }
    }
    format!("{bytes} Bytes")
}

impl FileStore {
    /// Opens the configured backend (the disk directory is created when missing).
    pub fn from_config(cfg: &FilesConfig) -> Result<FileStore> {
        let (store, location) = backend::open(cfg)?;
        let part_size = match location {
            Location::Disk(_) | Location::Memory => DISK_PART,
            Location::S3 { .. } => S3_PART,
        };
        Ok(FileStore {
            store,
            location,
            part_size,
            grace: chrono::Duration::hours(1),
        })
    }

    /// The default backend: `<data_dir>/files` on the local disk.
    pub fn disk(data_dir: &std::path::Path) -> Result<FileStore> {
        FileStore::from_config(&FilesConfig::Disk {
            root: data_dir.join(crate::backup::FILES_DIR),
        })
    }

    /// How long content without references is kept before the collector removes it
    /// (default one hour).
    pub fn with_grace(mut self, grace: chrono::Duration) -> FileStore {
        self.grace = grace;
        self
    }

    pub fn grace(&self) -> chrono::Duration {
        self.grace
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// What `rathaus backup` must tell about the files: None when the backup holds them
    /// (disk), else where their backup is described.
    pub fn backup_note(&self) -> Option<String> {
        match &self.location {
            Location::Disk(_) => None,
            Location::Memory => Some("the files are kept in memory only".to_string()),
            Location::S3 { bucket } => Some(format!(
                "the stored files are in the S3 bucket {bucket} and not in this backup; back the \
                 bucket up with versioning or replication (docs/operations.md, \"Files: disk and S3\")"
            )),
        }
    }

    /// The underlying object store (tests, tools).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// Stores an upload read from `body`. See `put_stream`.
    pub async fn put<R>(
        &self,
        db: &Db,
        tenant: TenantId,
        by: Actor<'_>,
        new: NewFile<'_>,
        limits: Limits,
        body: R,
    ) -> Result<FileMeta>
    where
        R: AsyncRead + Send + Unpin,
    {
        let stream = tokio_util::io::ReaderStream::with_capacity(body, 64 * 1024);
        self.put_stream(db, tenant, by, new, limits, stream).await
    }

    /// Stores an upload streamed from `body`: at most a few parts of it are in memory at any
    /// time. Fails with `Error::Invalid` (`files.err.too_large` when it exceeds
    /// `limits.max_size`, `files.err.quota` when the tenant's quota would be exceeded,
    /// `files.err.incomplete` when the stream fails), leaving nothing behind.
    pub async fn put_stream<S>(
        &self,
        db: &Db,
        tenant: TenantId,
        by: Actor<'_>,
        new: NewFile<'_>,
        limits: Limits,
        body: S,
    ) -> Result<FileMeta>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        by.require_tenant(tenant)?;
        check_name("module", new.module)?;
        check_name("kind", new.kind)?;
        let mut body = std::pin::pin!(body);
        let mut up =
            upload::Upload::new(self.store.clone(), backend::tmp_key(tenant), self.part_size);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    tracing::info!(error = %e, "upload stream failed");
                    up.discard().await;
                    return Err(FieldErrors::single(FIELD, ERR_INCOMPLETE));
                }
            };
            size = size.saturating_add(chunk.len() as u64);
            if size > limits.max_size {
                up.discard().await;
                return Err(too_large(limits.max_size));
            }
            hasher.update(&chunk);
            if head.len() < SNIFF_BYTES {
                let n = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..n]);
            }
            if let Err(e) = up.write(chunk).await {
                up.discard().await;
                return Err(store_err(e));
            }
        }
        if let Err(e) = up.finish().await {
            up.discard().await;
            return Err(store_err(e));
        }
        let sha256 = hex::encode(hasher.finalize());
        let stored = Stored {
            sha256,
            size,
            media_type: sniff(&head),
        };
        match self
            .record(db, tenant, by, new, limits, &stored, &mut up)
            .await
        {
            Ok(meta) => Ok(meta),
            Err(e) => {
                up.discard().await;
                Err(e)
            }
        }
    }

    /// Records the upload (content row and reference) and moves the temporary object to its
    /// content address, all under the tenant's lock.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        db: &Db,
        tenant: TenantId,
        by: Actor<'_>,
        new: NewFile<'_>,
        limits: Limits,
        stored: &Stored,
        up: &mut upload::Upload,
    ) -> Result<FileMeta> {
        let size = i64::try_from(stored.size).map_err(Error::internal)?;
        let now = Utc::now();
        let tx = Tx::begin(&db.conn, tenant, by).await?;
        lock_tenant(&tx, db.backend).await?;
        let existing = tx
            .find::<file_content::Entity>()
            .filter(file_content::Column::Sha256.eq(&stored.sha256))
            .one(tx.conn())
            .await?;
        let referenced = existing.as_ref().is_some_and(|c| c.refs > 0);
        if !referenced && let Some(quota) = limits.quota {
            let used = usage_in(tx.conn(), tenant).await?;
            if used.saturating_add(stored.size) > quota {
                return Err(over_quota(quota));
            }
        }
        match &existing {
            Some(c) => {
                tx.update_many::<file_content::Entity>()
                    .col_expr(
                        file_content::Column::Refs,
                        Expr::col(file_content::Column::Refs).add(1),
                    )
                    .col_expr(
                        file_content::Column::UnreferencedSince,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .filter(file_content::Column::Id.eq(c.id))
                    .exec(tx.conn())
                    .await?;
            }
            None => {
                tx.insert(file_content::ActiveModel {
                    sha256: Set(stored.sha256.clone()),
                    size: Set(size),
                    media_type: Set(stored.media_type.clone()),
                    refs: Set(1),
                    created_at: Set(now),
                    unreferenced_since: Set(None),
                    ..Default::default()
                })
                .await?;
            }
        }
        // The media type of the content already stored wins (same bytes, same sniff; an
        // older row may have been sniffed by an older version).
        let media_type = existing
            .as_ref()
            .map(|c| c.media_type.clone())
            .unwrap_or_else(|| stored.media_type.clone());
        let row = tx
            .insert(file::ActiveModel {
                sha256: Set(stored.sha256.clone()),
                size: Set(size),
                media_type: Set(media_type),
                original_name: Set(clean_name(new.original_name)),
                module: Set(new.module.to_string()),
                kind: Set(new.kind.to_string()),
                created_at: Set(now),
                ..Default::default()
            })
            .await?;
        tx.audit(
            NewEvent::new("file.stored", "file", Some(row.id)).details(serde_json::json!({
                "module": row.module,
                "kind": row.kind,
                "size": stored.size,
                "sha256": stored.sha256,
                "media_type": row.media_type,
            })),
        )
        .await?;
        let key = backend::content_key(tenant, &stored.sha256);
        match self.store.head(&key).await {
            // Stored before (by another upload, or left by a crash after the move).
            Ok(_) => up.discard().await,
            Err(object_store::Error::NotFound { .. }) => {
                self.store.rename(up.key(), &key).await.map_err(store_err)?;
                up.moved();
            }
            Err(e) => return Err(store_err(e)),
        }
        tx.commit().await?;
        Ok(row.into())
    }

    /// A file's metadata; another tenant's file is `NotFound`.
    pub async fn metadata<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: TenantId,
        by: Actor<'_>,
        id: FileId,
    ) -> Result<FileMeta> {
        let scope = Scope::new(conn, tenant, by)?;
        Ok(scope.get::<file::Entity, _>(id.0).await?.into())
    }

    /// Streams a file, or the requested byte range of it (`Error::Invalid` with
    /// `files.err.range` when the range selects nothing: HTTP 416).
    pub async fn get<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: TenantId,
        by: Actor<'_>,
        id: FileId,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        let meta = self.metadata(conn, tenant, by, id).await?;
        let (range, partial) = match range {
            None => (0..meta.size, false),
            Some(r) => (
                r.resolve(meta.size)
                    .ok_or_else(|| FieldErrors::single(FIELD, ERR_RANGE))?,
                true,
            ),
        };
        let key = backend::content_key(tenant, &meta.sha256);
        if range.is_empty() {
            // An empty file: nothing to read.
            return Ok(Download {
                meta,
                range,
                partial,
                body: futures_util::stream::empty().boxed(),
            });
        }
        let mut opts = GetOptions::new();
        if partial {
            opts = opts.with_range(Some(GetRange::Bounded(range.clone())));
        }
        let got = self.store.get_opts(&key, opts).await.map_err(store_err)?;
        let body = match got.payload {
            // The disk backend hands out the open file: read it in larger chunks than
            // object_store's 8 KiB (one blocking read per chunk).
            object_store::GetResultPayload::File(file, _) => {
                use tokio::io::{AsyncReadExt, AsyncSeekExt};
                let mut f = tokio::fs::File::from_std(file);
                f.seek(std::io::SeekFrom::Start(got.range.start))
                    .await
                    .map_err(Error::internal_from)?;
                let len = got.range.end - got.range.start;
                tokio_util::io::ReaderStream::with_capacity(f.take(len), READ_CHUNK).boxed()
            }
            object_store::GetResultPayload::Stream(s) => s.map_err(std::io::Error::other).boxed(),
        };
        Ok(Download {
            meta,
            range,
            partial,
            body,
        })
    }

    /// A whole file in memory, for work that needs all of it at once (decoding a picture);
    /// `Error::Invalid` (`files.err.too_large`) when it is larger than `max` bytes.
    pub async fn read_all<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: TenantId,
        by: Actor<'_>,
        id: FileId,
        max: u64,
    ) -> Result<Vec<u8>> {
        use futures_util::TryStreamExt;
        let dl = self.get(conn, tenant, by, id, None).await?;
        if dl.meta.size > max {
            return Err(FieldErrors::single(FIELD, ERR_TOO_LARGE));
        }
        let cap = usize::try_from(dl.meta.size).map_err(Error::internal)?;
        dl.body
            .try_fold(Vec::with_capacity(cap), |mut out, chunk| async move {
                out.extend_from_slice(&chunk);
                Ok(out)
            })
            .await
            .map_err(Error::internal_from)
    }

    /// Deletes a file (the reference) in the caller's transaction, with its audit event. The
    /// content goes with its last reference: the collector removes it after the grace period
    /// (a `files.gc` job is scheduled here). Another tenant's file is `NotFound`.
    pub async fn delete(&self, tx: &Tx<'_>, id: FileId) -> Result<()> {
        let row = tx.get::<file::Entity, _>(id.0).await?;
        tx.delete_many::<file::Entity>()
            .filter(file::Column::Id.eq(row.id))
            .exec(tx.conn())
            .await?;
        let now = Utc::now();
        tx.update_many::<file_content::Entity>()
            .col_expr(
                file_content::Column::Refs,
                Expr::col(file_content::Column::Refs).sub(1),
            )
            .filter(file_content::Column::Sha256.eq(&row.sha256))
            .filter(file_content::Column::Refs.gt(0))
            .exec(tx.conn())
            .await?;
        let gone = tx
            .update_many::<file_content::Entity>()
            .col_expr(file_content::Column::UnreferencedSince, Expr::value(now))
            .filter(file_content::Column::Sha256.eq(&row.sha256))
            .filter(file_content::Column::Refs.eq(0))
            .filter(file_content::Column::UnreferencedSince.is_null())
            .exec(tx.conn())
            .await?
            .rows_affected
            > 0;
        tx.audit(
            NewEvent::new("file.deleted", "file", Some(row.id)).details(serde_json::json!({
                "module": row.module,
                "kind": row.kind,
                "size": row.size,
                "sha256": row.sha256,
            })),
        )
        .await?;
        if gone {
            gc::schedule(tx.conn(), tx.tenant(), now + self.grace).await?;
        }
        Ok(())
    }

    /// Bytes of distinct contents the tenant stores (what the quota counts).
    pub async fn usage<C: ConnectionTrait>(&self, conn: &C, tenant: TenantId) -> Result<u64> {
        usage_in(conn, tenant).await
    }
}

struct Stored {
    sha256: String,
    size: u64,
    media_type: String,
}

async fn usage_in<C: ConnectionTrait>(conn: &C, tenant: TenantId) -> Result<u64> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
    let used: Option<i64> = crate::uow::scoped::<file_content::Entity>(tenant)
        .filter(file_content::Column::Refs.gt(0))
        .select_only()
        .column_as(Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"), "used")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(u64::try_from(used.unwrap_or(0)).unwrap_or(0))
}

/// Serialises the changes to a tenant's contents (puts and the collector). SQLite: the
/// transaction already holds the write lock. PostgreSQL: an advisory lock until commit.
async fn lock_tenant(tx: &Tx<'_>, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        tx.conn()
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1, $2)",
                [LOCK_CLASS.into(), lock_key(tx.tenant()).into()],
            ))
            .await?;
    }
    Ok(())
}

/// The first key of the advisory lock: "FILE".
const LOCK_CLASS: i32 = 0x4649_4c45;

fn lock_key(tenant: TenantId) -> i32 {
    // Tenant ids fit; should one not, two tenants share a lock, which is only slower.
    (tenant.0 & 0x7fff_ffff) as i32
}

/// Module and kind names: short, lower-case, fixed by the calling code.
fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::internal(format!("files: bad {what} name {name:?}")))
    }
}

/// The last path component of a client's file name, without control characters, at most
/// 255 characters.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim();
    if trimmed == "." || trimmed == ".." {
        return String::new();
    }
    trimmed.chars().take(255).collect()
}

/// The media type of a content from its first bytes (magic numbers; UTF-8 text without NUL
/// is `text/plain`; anything else `application/octet-stream`).
pub fn sniff(head: &[u8]) -> String {
    if let Some(t) = infer::get(head) {
        return t.mime_type().to_string();
    }
    if !head.is_empty() && !head.contains(&0) {
        let text = match std::str::from_utf8(head) {
            Ok(_) => true,
            // Cut in the middle of a character at the end of the sniffed bytes.
            Err(e) => e.error_len().is_none() && head.len() == SNIFF_BYTES,
        };
        if text {
            return "text/plain".into();
        }
    }
    "application/octet-stream".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_only_the_last_component() {
        assert_eq!(clean_name("C:\\Users\\x\\Antrag.pdf"), "Antrag.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name(".."), "");
        assert_eq!(clean_name("x/"), "");
        assert_eq!(clean_name(&"ä".repeat(300)).chars().count(), 255);
    }

    #[test]
    fn sniffs_from_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff("Grüße aus der Verwaltung".as_bytes()), "text/plain");
        assert_eq!(sniff(b"\0\x01\x02"), "application/octet-stream");
        assert_eq!(sniff(b""), "application/octet-stream");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(20_000_000), "20 MB");
        assert_eq!(human_size(1_500), "1 KB");
        assert_eq!(human_size(7), "7 Bytes");
    }

    #[test]
    fn module_names_are_checked() {
        assert!(check_name("module", "reports").is_ok());
        assert!(check_name("module", "Reports").is_err());
        assert!(check_name("module", "").is_err());
        assert!(check_name("module", "a/b").is_err());
    }
}
