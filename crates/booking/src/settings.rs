//! The tenant's booking settings (`/buchung/einstellungen`, permission `booking.manage`):
//! whether pending requests hold their slot, and when reminders go out. The season priority
//! order is set on the season page (`season::set_priority_order`).

use crate::entity::settings;
use crate::rules;
use crate::service::MANAGE;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result};
use rathaus_store::{Actor, audit, begin};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set, TransactionSession, TransactionTrait};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/buchung/einstellungen", get(show).post(save))
}

/// The latest reminder: 14 days before the start.
pub const MAX_REMINDER_HOURS: i32 = 14 * 24;

/// Stores whether pending requests block their slot and the reminder lead time (0 = no
/// reminders); the priority order keeps its value. Audited with before and after.
pub async fn update<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    pending_blocks: bool,
    reminder_hours: i32,
) -> Result<settings::Model> {
    who.require(MANAGE)?;
    if !(0..=MAX_REMINDER_HOURS).contains(&reminder_hours) {
        let mut errs = FieldErrors::new();
        errs.add_arg(
            "reminder_hours",
            "booking.settings.reminder_range",
            Some(MAX_REMINDER_HOURS),
        );
        return Err(Error::Invalid(errs));
    }
    let txn = begin(db).await?;
    let before = rules::settings(&txn, who.tenant_id).await?;
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
    .exec(&txn)
    .await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new(
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
    txn.commit().await?;
    Ok(after)
}

#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    pending_blocks: Option<String>,
    #[serde(default)]
    reminder_hours: String,
}

#[derive(Template)]
#[template(path = "booking/settings.html")]
struct SettingsTpl {
    l: Layout,
    errs: FormErrors,
    pending_blocks: bool,
    reminder_hours: String,
}

async fn show(State(st): State<AppState>, Staff(ctx, p): Staff) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let s = rules::settings(&st.db.conn, p.tenant_id).await?;
    render(
        &st,
        &ctx,
        FormErrors::none(catalog(ctx.lang)),
        s.pending_blocks,
        s.reminder_hours.to_string(),
    )
}

fn render(
    st: &AppState,
    ctx: &Ctx,
    errs: FormErrors,
    pending_blocks: bool,
    reminder_hours: String,
) -> Result<Response, HtmlError> {
    let failed = errs.any();
    respond(
        page(SettingsTpl {
            l: layout(st, ctx, "booking.settings.title"),
            errs,
            pending_blocks,
            reminder_hours,
        }),
        failed,
    )
}

async fn save(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<SettingsForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let hours = f.reminder_hours.trim().parse::<i32>().map_err(|_| {
        let mut e = FieldErrors::new();
        e.add("reminder_hours", "booking.err.number");
        Error::Invalid(e)
    });
    let result = match hours {
        Ok(h) => update(&st.db.conn, &p, f.pending_blocks.is_some(), h).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(
            Redirect::to("/buchung/einstellungen?notice=booking_settings_saved").into_response(),
        ),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render(
                &st,
                &ctx,
                errs,
                f.pending_blocks.is_some(),
                f.reminder_hours,
            )
        }
    }
}
