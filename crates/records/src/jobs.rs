//! The module's background jobs: the daily follow-up mail. It queues its next run itself;
//! `schedule_all` (at migrate) queues the first one per tenant.

use std::sync::Arc;

use rathaus_core::TenantId;
use rathaus_store::{Db, jobs};

use crate::service::follow_up_mail;

pub use follow_up_mail::JOB as FOLLOW_UP_MAIL;

/// The daily follow-up mail.
pub struct FollowUpMail(());

impl FollowUpMail {
    /// The handler; registers the module's texts for its mails, since the binary starts the
    /// job worker before the web app registers them.
    pub fn new() -> Self {
        crate::register_texts();
        FollowUpMail(())
    }
}

impl Default for FollowUpMail {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl jobs::Handler for FollowUpMail {
    async fn run(&self, db: &Db, job: &jobs::Job) -> std::result::Result<(), String> {
        follow_up_mail::run_daily(db, TenantId(job.tenant_id))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

pub fn handlers() -> Vec<(&'static str, Arc<dyn jobs::Handler>)> {
    vec![(FOLLOW_UP_MAIL, Arc::new(FollowUpMail::new()))]
}

/// Queues the first run of every recurring job for each tenant without one waiting.
pub async fn schedule_all(db: &Db) -> rathaus_core::Result<usize> {
    follow_up_mail::schedule_all(db).await
}

/// How often the consume folder is looked at.
pub const CONSUME_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Watches the consume folder (`records_consume_dir`) until the server stops.
pub async fn watch_consume_folder(
    root: std::path::PathBuf,
    mut ctx: rathaus_web::module::Background,
) {
    use crate::service::consume::{Consumer, SETTLE};
    let limits = ctx.limits;
    if let Err(e) = tokio::fs::create_dir_all(&root).await {
        tracing::error!(folder = %root.display(), error = %e, "cannot create the consume folder (setting records_consume_dir)");
    }
    tracing::info!(folder = %root.display(), "watching the E-Akte consume folder");
    let mut consumer = Consumer::new(root, limits, SETTLE);
    let mut failing = false;
    loop {
        match consumer.scan(&ctx.db, &ctx.files).await {
            Ok(_) => failing = false,
            Err(e) => {
                // Said once per outage, not every few seconds.
                if !failing {
                    tracing::warn!(error = %e, "scanning the consume folder failed; trying again");
                }
                failing = true;
            }
        }
        if ctx.pause(CONSUME_EVERY).await {
            break;
        }
    }
}
