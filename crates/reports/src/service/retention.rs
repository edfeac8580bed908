//! Data protection (DSGVO Art. 5 (1) e): a reporter's name, e-mail address and phone number
//! and the followers' addresses are needed only while a report is worked on. When a report is
//! closed, a job is scheduled for `RETENTION_DAYS` later that erases them (the report itself,
//! without personal data, stays public). Reopening makes the job a no-op; closing again
//! schedules a new one.

use crate::service::ReportId;
use crate::store::entity::{follower, report};
use chrono::{DateTime, Duration, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Tx};
use rathaus_store::{Db, jobs};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde_json::json;

pub const JOB: &str = "reports.erase_personal_data";
/// Days after closing until the personal data is erased.
pub const RETENTION_DAYS: i64 = 180;

/// Schedules the erasure of a report closed at `closed_at` (inside the closing transaction).
pub async fn schedule(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    report_id: ReportId,
    closed_at: DateTime<Utc>,
) -> Result<()> {
    jobs::enqueue_at(
        conn,
        tenant,
        JOB,
        json!({ "report_id": report_id }),
        5,
        closed_at + Duration::days(RETENTION_DAYS),
    )
    .await?;
    Ok(())
}

/// Erases the personal data of a report if it is still closed and was closed long enough ago;
/// returns whether it did.
pub async fn erase(
    db: &Db,
    tenant: TenantId,
    report_id: ReportId,
    now: DateTime<Utc>,
) -> Result<bool> {
    let tx = Tx::begin(&db.conn, tenant, Actor::system("retention")).await?;
    let r = match tx.get::<report::Entity, _>(report_id).await {
        Ok(r) => r,
        Err(Error::NotFound) => return Ok(false),
        Err(e) => return Err(e),
    };
    let due = r
        .closed_at
        .is_some_and(|c| !r.is_open && c + Duration::days(RETENTION_DAYS) <= now);
    if !due {
        return Ok(false);
    }
    let mut am: report::ActiveModel = r.into();
    am.reporter_name = Set(String::new());
    am.reporter_email = Set(String::new());
    am.reporter_phone = Set(String::new());
    am.update(tx.conn()).await?;
    let removed = tx
        .delete_many::<follower::Entity>()
        .filter(follower::Column::ReportId.eq(report_id.0))
        .exec(tx.conn())
        .await?
        .rows_affected;
    tx.audit(
        NewEvent::new(
            "reports.personal_data.erased",
            "reports_report",
            Some(report_id),
        )
        .details(json!({"followers_removed": removed})),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
