//! The collector (`files.gc`): removes content that no reference points to once the grace
//! period has passed, temporary objects of uploads that crashed, and content objects without
//! a row (a crash between moving an upload into place and its commit).
//!
//! `delete` schedules a run for the tenant (one per hour at most); the job's handler runs for
//! the job's tenant. `schedule_all` queues a run for every tenant that stores files (a daily
//! sweep for what crashes left behind).

use super::{FileStore, backend, lock_tenant, store_err};
use crate::entity::{file_content, job};
use crate::jobs::{self, Handler, Job};
use crate::uow::{Actor, Tx};
use crate::{Db, uow};
use chrono::{DateTime, Duration, DurationRound, Utc};
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use rathaus_core::{Result, TenantId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashSet;
use std::sync::Arc;

/// The job kind of the collector.
pub const GC_JOB: &str = "files.gc";

/// What one run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Contents without references (rows and objects).
    pub contents: u64,
    /// Temporary objects of uploads that never finished.
    pub temporary: u64,
    /// Content objects without a row.
    pub orphans: u64,
}

const ACTOR: Actor<'static> = Actor::system("files.gc");
/// Contents handled per query.
const BATCH: u64 = 500;

/// Queues a collector run for `tenant` at `not_before`, rounded up to the full hour, unless
/// one is queued for that hour already.
pub(super) async fn schedule(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    not_before: DateTime<Utc>,
) -> Result<()> {
    let hour = Duration::hours(1);
    let at = not_before
        .duration_trunc(hour)
        .map(|t| if t < not_before { t + hour } else { t })
        .unwrap_or(not_before);
    let queued = uow::scoped::<job::Entity>(tenant)
        .filter(job::Column::Kind.eq(GC_JOB))
        .filter(job::Column::Status.eq(jobs::QUEUED))
        .filter(job::Column::RunAt.eq(at))
        .one(conn)
        .await?;
    if queued.is_none() {
        jobs::enqueue_at(conn, tenant, GC_JOB, serde_json::json!({}), 3, at).await?;
    }
    Ok(())
}

impl FileStore {
    /// Queues a collector run now for every tenant that stores files and has none queued
    /// (call it daily: it finds what crashed uploads left behind). Returns how many it queued.
    pub async fn schedule_all(&self, db: &Db) -> Result<u64> {
        let tenants: Vec<i64> = file_content::Entity::find()
            .select_only()
            .column(file_content::Column::TenantId)
            .distinct()
            .into_tuple()
            .all(&db.conn)
            .await?;
        let mut queued = 0;
        for t in tenants {
            let tenant = TenantId(t);
            let pending = uow::scoped::<job::Entity>(tenant)
                .filter(job::Column::Kind.eq(GC_JOB))
                .filter(job::Column::Status.eq(jobs::QUEUED))
                .one(&db.conn)
                .await?;
            if pending.is_none() {
                jobs::enqueue(&db.conn, tenant, GC_JOB, serde_json::json!({}), 3).await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Removes what is garbage in `tenant` for longer than `grace` (see the module docs).
    pub async fn gc(&self, db: &Db, tenant: TenantId, grace: Duration) -> Result<GcReport> {
        let cutoff = Utc::now() - grace;
        let report = GcReport {
            contents: self.collect_unreferenced(db, tenant, cutoff).await?,
            temporary: self.collect_temporary(tenant, cutoff).await?,
            orphans: self.collect_orphans(db, tenant, cutoff).await?,
        };
        if report != GcReport::default() {
            tracing::info!(tenant = tenant.0, ?report, "files collected");
        }
        Ok(report)
    }

    async fn collect_unreferenced(
        &self,
        db: &Db,
        tenant: TenantId,
        cutoff: DateTime<Utc>,
    ) -> Result<u64> {
        let mut removed = 0;
        let mut failed: HashSet<i64> = HashSet::new();
        loop {
            let batch = uow::scoped::<file_content::Entity>(tenant)
                .filter(file_content::Column::Refs.eq(0))
                .filter(file_content::Column::UnreferencedSince.lt(cutoff))
                .filter(file_content::Column::Id.is_not_in(failed.iter().copied()))
                .limit(BATCH)
                .all(&db.conn)
                .await?;
            if batch.is_empty() {
                return Ok(removed);
            }
            for c in batch {
                // One transaction per content, under the tenant's lock: the row goes only if
                // it is still unreferenced, and the object with it before the commit.
                let tx = Tx::begin(&db.conn, tenant, ACTOR).await?;
                lock_tenant(&tx, db.backend).await?;
                let gone = tx
                    .delete_many::<file_content::Entity>()
                    .filter(file_content::Column::Id.eq(c.id))
                    .filter(file_content::Column::Refs.eq(0))
                    .exec(tx.conn())
                    .await?
                    .rows_affected;
                if gone == 0 {
                    continue;
                }
                match delete_object(&*self.store, &backend::content_key(tenant, &c.sha256)).await {
                    Ok(()) => {
                        tx.commit().await?;
                        removed += 1;
                    }
                    Err(e) => {
                        // The row stays (rolled back); the next run tries again.
                        tracing::warn!(tenant = tenant.0, sha256 = %c.sha256, error = %e,
                            "cannot remove unreferenced content");
                        failed.insert(c.id);
                    }
                }
            }
        }
    }

    async fn collect_temporary(&self, tenant: TenantId, cutoff: DateTime<Utc>) -> Result<u64> {
        let old: Vec<ObjectMeta> = self
            .store
            .list(Some(&backend::tmp_prefix(tenant)))
            .try_filter(|m| futures_util::future::ready(m.last_modified < cutoff))
            .try_collect()
            .await
            .map_err(store_err)?;
        let mut removed = 0;
        for m in old {
            delete_object(&*self.store, &m.location)
                .await
                .map_err(store_err)?;
            removed += 1;
        }
        // The disk backend's multipart staging files (`<key>#<n>`) are not listed.
        if let super::Location::Disk(root) = &self.location {
            let dir = root.join(backend::tmp_prefix(tenant).as_ref());
            let cutoff: std::time::SystemTime = cutoff.into();
            removed += tokio::task::spawn_blocking(move || remove_old_files(&dir, cutoff))
                .await
                .map_err(rathaus_core::Error::internal_from)?;
        }
        Ok(removed)
    }

    async fn collect_orphans(
        &self,
        db: &Db,
        tenant: TenantId,
        cutoff: DateTime<Utc>,
    ) -> Result<u64> {
        let mut listing = self.store.list(Some(&backend::content_prefix(tenant)));
        let mut removed = 0;
        let mut batch: Vec<(String, Key)> = Vec::new();
        loop {
            let next = listing.next().await.transpose().map_err(store_err)?;
            if let Some(m) = &next
                && m.last_modified < cutoff
                && let Some(sha) = backend::sha256_of(&m.location)
            {
                batch.push((sha, m.location.clone()));
            }
            if batch.len() as u64 >= BATCH || (next.is_none() && !batch.is_empty()) {
                removed += self
                    .remove_orphans(db, tenant, std::mem::take(&mut batch))
                    .await?;
            }
            if next.is_none() {
                return Ok(removed);
            }
        }
    }

    /// Removes those of `candidates` that have no row, under the tenant's lock (a put moves
    /// its object into place under the same lock, before its row is visible).
    async fn remove_orphans(
        &self,
        db: &Db,
        tenant: TenantId,
        candidates: Vec<(String, Key)>,
    ) -> Result<u64> {
        let tx = Tx::begin(&db.conn, tenant, ACTOR).await?;
        lock_tenant(&tx, db.backend).await?;
        let known: HashSet<String> = tx
            .find::<file_content::Entity>()
            .filter(file_content::Column::Sha256.is_in(candidates.iter().map(|(s, _)| s.clone())))
            .select_only()
            .column(file_content::Column::Sha256)
            .into_tuple()
            .all(tx.conn())
            .await?
            .into_iter()
            .collect();
        let mut removed = 0;
        for (sha, key) in candidates {
            if !known.contains(&sha) {
                delete_object(&*self.store, &key).await.map_err(store_err)?;
                removed += 1;
            }
        }
        tx.commit().await?;
        Ok(removed)
    }
}

/// Deletes an object; one that is gone already is fine.
async fn delete_object(store: &dyn ObjectStore, key: &Key) -> object_store::Result<()> {
    match store.delete(key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes the files in `dir` (not below) last modified before `cutoff`.
fn remove_old_files(dir: &std::path::Path, cutoff: std::time::SystemTime) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let old = e
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .is_some_and(|t| t < cutoff);
        if old && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Runs the collector for the job's tenant.
struct Collector {
    files: Arc<FileStore>,
}

#[async_trait::async_trait]
impl Handler for Collector {
    async fn run(&self, db: &Db, job: &Job) -> std::result::Result<(), String> {
        self.files
            .gc(db, TenantId(job.tenant_id), self.files.grace)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                rathaus_core::Error::Internal(i) => i.chain(),
                other => other.to_string(),
            })
    }
}

/// The file service's job kinds and handlers, for the worker of `rathaus serve`.
pub fn jobs(files: Arc<FileStore>) -> Vec<(&'static str, Arc<dyn Handler>)> {
    vec![(GC_JOB, Arc::new(Collector { files }) as Arc<dyn Handler>)]
}
