//! Background jobs of the booking module: the reminder mail before a booking starts.

use crate::domain::ReservationId;
use crate::service::notify::remind;
use rathaus_core::TenantId;
use rathaus_store::uow::Actor;

/// How the audit log and the unit of work name the reminder job.
const REMINDER_REASON: &str = "booking.reminder job";

/// The worker side of `REMINDER_JOB` (`service::notify::REMINDER_JOB`).
pub struct Reminder(());

impl Reminder {
    /// The handler; registers the module's texts for its mails, since the binary starts the
    /// job worker before the web app registers them.
    pub fn new() -> Self {
        crate::register_texts();
        Reminder(())
    }
}

impl Default for Reminder {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl rathaus_store::jobs::Handler for Reminder {
    async fn run(
        &self,
        db: &rathaus_store::Db,
        job: &rathaus_store::jobs::Job,
    ) -> std::result::Result<(), String> {
        let v: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
        let id = v["reservation_id"]
            .as_i64()
            .ok_or("payload without reservation_id")?;
        remind(
            &db.conn,
            TenantId(job.tenant_id),
            Actor::system(REMINDER_REASON),
            ReservationId(id),
        )
        .await
        .map_err(|e| e.to_string())
    }
}
