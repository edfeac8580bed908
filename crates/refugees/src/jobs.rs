//! The module's background jobs: the daily anonymisation after the deletion period and the
//! weekly reminder mail. Each job re-queues its next run; `schedule_all` (at migrate) queues
//! the first one per tenant.

use std::sync::Arc;

use rathaus_core::TenantId;
use rathaus_store::{Db, jobs};

use crate::service::{reminders, retention};

pub use reminders::JOB as REMINDERS;
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

/// The weekly reminder mail.
pub struct Reminders(());

impl Reminders {
    /// The handler; registers the module's texts for its mails, since the binary starts the
    /// job worker before the web app registers them.
    pub fn new() -> Self {
        crate::register_texts();
        Reminders(())
    }
}

impl Default for Reminders {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl jobs::Handler for Reminders {
    async fn run(&self, db: &Db, job: &jobs::Job) -> std::result::Result<(), String> {
        reminders::run_weekly(db, TenantId(job.tenant_id))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

pub fn handlers() -> Vec<(&'static str, Arc<dyn jobs::Handler>)> {
    vec![
        (ANONYMISE, Arc::new(Anonymise)),
        (REMINDERS, Arc::new(Reminders::new())),
    ]
}

/// Queues the first run of every recurring job for each tenant without one pending.
pub async fn schedule_all(db: &Db) -> rathaus_core::Result<usize> {
    Ok(retention::schedule_all(db).await? + reminders::schedule_all(db).await?)
}
