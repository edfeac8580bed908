//! The module's background jobs: the weekly review mail and the daily mail about checklist
//! tasks that fell due (`service::reminders`). Each run queues its successor first;
//! `schedule_all` (at migrate) queues the first runs per tenant.

use std::sync::Arc;

use rathaus_core::TenantId;
use rathaus_store::{Db, jobs};

use crate::service::reminders;

pub use reminders::{REVIEWS_JOB, TASKS_JOB};

/// The weekly review mail.
pub struct ReviewMail(());

/// The daily mail about tasks that fell due.
pub struct TaskMail(());

impl ReviewMail {
    /// The handler; registers the module's texts for its mails, since the binary starts the
    /// job worker before the web app registers them.
    pub fn new() -> Self {
        crate::register_texts();
        ReviewMail(())
    }
}

impl Default for ReviewMail {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskMail {
    /// The handler; registers the module's texts like `ReviewMail::new`.
    pub fn new() -> Self {
        crate::register_texts();
        TaskMail(())
    }
}

impl Default for TaskMail {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl jobs::Handler for ReviewMail {
    async fn run(&self, db: &Db, job: &jobs::Job) -> std::result::Result<(), String> {
        reminders::run_weekly(db, TenantId(job.tenant_id))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[async_trait::async_trait]
impl jobs::Handler for TaskMail {
    async fn run(&self, db: &Db, job: &jobs::Job) -> std::result::Result<(), String> {
        reminders::run_daily(db, TenantId(job.tenant_id))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

pub fn handlers() -> Vec<(&'static str, Arc<dyn jobs::Handler>)> {
    vec![
        (REVIEWS_JOB, Arc::new(ReviewMail::new())),
        (TASKS_JOB, Arc::new(TaskMail::new())),
    ]
}

/// Queues the first run of every recurring job for each tenant without one pending.
pub async fn schedule_all(db: &Db) -> rathaus_core::Result<usize> {
    reminders::schedule_all(db).await
}
