//! "Meine Buchungen" (`/buchung/meine`): every signed-in user's upcoming reservations and
//! those of their organisations, with a cancel button each (the service enforces the
//! cancellation deadline and who may cancel).

use crate::domain::ReservationId;
use rathaus_store::uow::Actor;
use rathaus_web::Access::SignedIn;
use rathaus_web::Routes;

use crate::service;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use rathaus_core::{Error, Principal};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/buchung/meine", SignedIn, show)
        // Bookers cancel their own; the service checks whose it is and the deadline.
        .post("/buchung/reservierung/{id}/stornieren", SignedIn, cancel)
}

/// How far ahead the page lists.
const AHEAD_DAYS: i64 = 366;
/// The most rows the page shows (a club's weekly series over a season stays below).
const LIMIT: u64 = 300;

struct Row {
    id: i64,
    resource: String,
    when: String,
    title: String,
    holder: String,
    status: String,
    fee: String,
    series_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "booking/mine.html")]
struct MineTpl {
    l: Layout,
    rows: Vec<Row>,
    /// A refused cancellation: the message (e.g. past the deadline).
    error: Option<String>,
}

async fn render(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    error: Option<String>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let now = Utc::now();
    let service::Upcoming {
        reservations: mine,
        resource_names: names,
        organisation_names: orgs,
    } = service::upcoming_of(
        &st.db.conn,
        Actor::User(p),
        now,
        Duration::days(AHEAD_DAYS),
        LIMIT,
    )
    .await?;
    let rows = mine
        .into_iter()
        .map(|r| Row {
            id: r.id,
            resource: names.get(&r.resource_id).cloned().unwrap_or_default(),
            when: crate::service::notify::when(r.starts_at, r.ends_at),
            title: r.title.clone(),
            holder: r
                .organisation_id
                .and_then(|o| orgs.get(&o).cloned())
                .unwrap_or_else(|| t.get("booking.mine.me").to_string()),
            status: t.get(&format!("booking.status.{}", r.status)).to_string(),
            fee: if r.fee_cents > 0 {
                crate::service::notify::euros(r.fee_cents)
            } else {
                "–".into()
            },
            series_id: r.series_id,
        })
        .collect();
    let mut res = page(MineTpl {
        l: layout(st, ctx, "booking.mine.title"),
        rows,
        error: error.clone(),
    })?;
    if error.is_some() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn show(State(st): State<AppState>, Staff(ctx, p): Staff) -> Result<Response, HtmlError> {
    render(&st, &ctx, &p, None).await
}

#[derive(serde::Deserialize)]
pub struct Empty {}

async fn cancel(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(_): Form<Empty>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    match service::cancel(&st.db.conn, Actor::User(&p), ReservationId(id)).await {
        Ok(_) => Ok(Redirect::to("/buchung/meine?notice=booking_cancelled").into_response()),
        Err(Error::Invalid(errs)) => {
            let t = catalog(ctx.lang);
            let msg = FormErrors::new(t, errs).msg("id").map(|m| m.to_string());
            render(&st, &ctx, &p, msg).await
        }
        Err(e) => Err(e.into()),
    }
}
