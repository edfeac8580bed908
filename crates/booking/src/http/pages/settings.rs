//! The settings page (`/buchung/einstellungen`).

use crate::service::settings::update;
use rathaus_store::uow::Actor;

use crate::http::MANAGERS;
use rathaus_web::Routes;

use crate::permissions::MANAGE;
use crate::service::rules;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use serde::Deserialize;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/buchung/einstellungen", MANAGERS, show)
        .post("/buchung/einstellungen", MANAGERS, save)
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
        Ok(h) => update(&st.db.conn, Actor::User(&p), f.pending_blocks.is_some(), h).await,
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
