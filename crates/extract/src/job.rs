//! The `extract.file` job: load the file, extract, store the result (and optionally mark the
//! module's search document for re-indexing).

use crate::limits::Limits;
use crate::outcome::{Outcome, reason};
use crate::store;
use futures_util::StreamExt;
use rathaus_core::{Error, TenantId};
use rathaus_store::Db;
use rathaus_store::files::{FileId, FileStore};
use rathaus_store::jobs::{self, Handler, Job};
use rathaus_store::uow::{Actor, Tx};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

pub const KIND: &str = "extract.file";
const ACTOR: Actor<'static> = Actor::system(KIND);

/// Schedules the extraction of `file` in the caller's transaction (call it where the module
/// stores a document).
pub async fn enqueue(tx: &Tx<'_>, file: FileId) -> rathaus_core::Result<()> {
    enqueue_payload(tx, serde_json::json!({ "file_id": file.0 })).await
}

/// Like `enqueue`; when the text is stored, the module's search document `doc_kind`/`doc_id`
/// is queued for re-indexing (in the same transaction as the text).
pub async fn enqueue_and_reindex(
    tx: &Tx<'_>,
    file: FileId,
    doc_kind: &str,
    doc_id: i64,
) -> rathaus_core::Result<()> {
    enqueue_payload(
        tx,
        serde_json::json!({ "file_id": file.0, "reindex": { "kind": doc_kind, "id": doc_id } }),
    )
    .await
}

async fn enqueue_payload(tx: &Tx<'_>, payload: serde_json::Value) -> rathaus_core::Result<()> {
    jobs::enqueue(tx.conn(), tx.tenant(), KIND, payload, 3).await?;
    Ok(())
}

/// The job handlers of this crate, for `serve` to register.
pub fn jobs(files: Arc<FileStore>) -> Vec<(&'static str, Arc<dyn Handler>)> {
    jobs_with(files, Limits::default())
}

/// `jobs` with other limits (tests, benchmarks).
pub fn jobs_with(files: Arc<FileStore>, limits: Limits) -> Vec<(&'static str, Arc<dyn Handler>)> {
    vec![(
        KIND,
        Arc::new(Extractor { files, limits }) as Arc<dyn Handler>,
    )]
}

struct Extractor {
    files: Arc<FileStore>,
    limits: Limits,
}

#[async_trait::async_trait]
impl Handler for Extractor {
    async fn run(&self, db: &Db, job: &Job) -> Result<(), String> {
        let payload: serde_json::Value =
            serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
        let Some(id) = payload["file_id"].as_i64() else {
            return Err("bad payload: no file_id".into());
        };
        let (tenant, file) = (TenantId(job.tenant_id), FileId(id));
        let outcome = match self.load_and_extract(db, tenant, file).await {
            Ok(Some(o)) => o,
            // Deleted before its turn: nothing to do.
            Ok(None) => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Outcome::Failed { reason, detail, .. } = &outcome {
            tracing::info!(file = id, %reason, %detail, "text extraction failed");
        }
        let tx = Tx::begin(&db.conn, tenant, ACTOR)
            .await
            .map_err(|e| e.to_string())?;
        match store::save(&tx, file, &outcome).await {
            Ok(_) => {}
            Err(Error::NotFound) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
        if let (Some(kind), Some(doc)) = (
            payload["reindex"]["kind"].as_str(),
            payload["reindex"]["id"].as_i64(),
        ) {
            rathaus_search::enqueue(&tx, kind, doc, rathaus_search::Op::Upsert)
                .await
                .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())
    }
}

impl Extractor {
    /// The file spooled to a temporary file and extracted; None when it no longer exists.
    /// Err (retried) only for trouble of the storage, never for the file's content.
    async fn load_and_extract(
        &self,
        db: &Db,
        tenant: TenantId,
        file: FileId,
    ) -> Result<Option<Outcome>, String> {
        let dl = match self.files.get(&db.conn, tenant, ACTOR, file, None).await {
            Ok(d) => d,
            Err(Error::NotFound) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        if dl.meta.size > self.limits.max_input_bytes {
            return Ok(Some(Outcome::failed(
                None,
                reason::TOO_LARGE,
                format!("{} bytes", dl.meta.size),
            )));
        }
        let tmp = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let mut out = tokio::fs::File::create(tmp.path())
            .await
            .map_err(|e| e.to_string())?;
        let mut body = dl.body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| format!("reading file {file}: {e}"))?;
            out.write_all(&chunk).await.map_err(|e| e.to_string())?;
        }
        out.flush().await.map_err(|e| e.to_string())?;
        drop(out);
        Ok(Some(
            crate::extract_path(tmp.path(), Some(&dl.meta.media_type), &self.limits).await,
        ))
    }
}
