//! The module's background jobs: the daily anonymisation after the deletion period. Each
//! job re-queues its next run; `schedule_all` (at migrate) queues the first one per tenant.

use std::sync::Arc;

use rathaus_core::TenantId;
use rathaus_store::{Db, jobs};

use crate::service::retention;

pub use retention::JOB as ANONYMISE;

pub struct Anonymise;

#[async_trait::async_trait]
impl jobs::Handler for Anonymise {
    async fn run(&self, db: &Db, job: &jobs::Job) -> std::result::Result<(), String> {
        retention::run_daily(db, TenantId(job.tenant_id))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

pub fn handlers() -> Vec<(&'static str, Arc<dyn jobs::Handler>)> {
    vec![(ANONYMISE, Arc::new(Anonymise))]
}

/// Queues the first run of every recurring job for each tenant without one pending.
pub async fn schedule_all(db: &Db) -> rathaus_core::Result<usize> {
    retention::schedule_all(db).await
}
