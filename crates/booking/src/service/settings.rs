//! The tenant's booking settings (`/buchung/einstellungen`, permission `booking.manage`):
//! whether pending requests hold their slot, and when reminders go out. The season priority
//! order is set on the season page (`season::set_priority_order`).

use crate::permissions::MANAGE;
use crate::service::person;
use crate::service::rules;
use crate::store::entity::settings;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use serde_json::json;

/// The latest reminder: 14 days before the start.
pub const MAX_REMINDER_HOURS: i32 = 14 * 24;

/// Stores whether pending requests block their slot and the reminder lead time (0 = no
/// reminders); the priority order keeps its value. Audited with before and after.
pub async fn update(
    db: &DatabaseConnection,
    by: Actor<'_>,
    pending_blocks: bool,
    reminder_hours: i32,
) -> Result<settings::Model> {
    let who = person(by)?;
    by.require(MANAGE)?;
    if !(0..=MAX_REMINDER_HOURS).contains(&reminder_hours) {
        let mut errs = FieldErrors::new();
        errs.add_arg(
            "reminder_hours",
            "booking.settings.reminder_range",
            Some(MAX_REMINDER_HOURS),
        );
        return Err(Error::Invalid(errs));
    }
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let before = rules::settings(tx.conn(), who.tenant_id).await?;
    let after = settings::Model {
        pending_blocks,
        reminder_hours,
        ..before.clone()
    };
    settings::Entity::insert(settings::ActiveModel {
        tenant_id: Set(after.tenant_id),
        priority_order: Set(after.priority_order.clone()),
        pending_blocks: Set(after.pending_blocks),
        reminder_hours: Set(after.reminder_hours),
    })
    .on_conflict(
        OnConflict::column(settings::Column::TenantId)
            .update_columns([
                settings::Column::PendingBlocks,
                settings::Column::ReminderHours,
            ])
            .to_owned(),
    )
    .exec(tx.conn())
    .await?;
    tx.audit(NewEvent::new(
            "booking.settings.changed",
            "booking_settings",
            Some(who.tenant_id.0),
        )
        .details(json!({
            "before": {"pending_blocks": before.pending_blocks, "reminder_hours": before.reminder_hours},
            "after": {"pending_blocks": pending_blocks, "reminder_hours": reminder_hours},
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
