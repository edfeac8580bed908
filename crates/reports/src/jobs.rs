//! The module's background jobs.

use crate::service::{ReportId, retention};
use chrono::Utc;
use rathaus_core::TenantId;
use rathaus_store::{Db, jobs};

/// Erases a closed report's personal data after the retention period.
pub const ERASE: &str = retention::JOB;

pub struct Erase;

#[async_trait::async_trait]
impl jobs::Handler for Erase {
    async fn run(&self, db: &Db, job: &jobs::Job) -> std::result::Result<(), String> {
        let v: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
        let id = v["report_id"].as_i64().ok_or("payload without report_id")?;
        retention::erase(db, TenantId(job.tenant_id), ReportId(id), Utc::now())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
