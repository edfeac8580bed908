//! The page of one series (`/buchung/serien/{id}`) and its forms.

use crate::domain::{ReservationId, SeriesId};
use crate::service::series::{
    Series, approve_series, cancel_from, cancel_occurrence, describe, get_series, is_active,
    local_of, move_occurrence, reject_series, stored_dtstart,
};
use rathaus_store::uow::Actor;

use crate::http::MANAGERS;
use rathaus_web::Access::SignedIn;
use rathaus_web::Routes;

use crate::service::{self, Busy, CONFIRMED, MANAGE, REQUESTED, ReserveError};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use serde::Deserialize;

// ---------------------------------------------------------------- pages

pub(crate) fn routes() -> Routes {
    Routes::new()
        // The booker (and the booking organisation's members) handle their own series.
        .get("/buchung/serien/{id}", SignedIn, show)
        .post(
            "/buchung/serien/{id}/absagen-ab",
            SignedIn,
            cancel_from_page,
        )
        .post("/buchung/serien/{id}/genehmigen", MANAGERS, approve_page)
        .post("/buchung/serien/{id}/ablehnen", MANAGERS, reject_page)
        .post(
            "/buchung/serien/{id}/termine/{rid}/absagen",
            SignedIn,
            cancel_one_page,
        )
        .post(
            "/buchung/serien/{id}/termine/{rid}/verschieben",
            SignedIn,
            move_page,
        )
}

struct OccRow {
    id: i64,
    day: String,
    time: String,
    status: String,
    active: bool,
    /// Prefilled values of the move form (local date, start, end).
    date: String,
    start: String,
    end: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct MoveForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct FromForm {
    #[serde(default)]
    from: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// What failed on the page: which form (and for a move, which occurrence), its field errors,
/// what was typed.
enum Failed {
    Move(i64, FormErrors, MoveForm),
    From(FormErrors, String),
    Reject(FormErrors, String),
}

#[derive(Template)]
#[template(path = "booking/series_show.html")]
struct ShowTpl {
    l: Layout,
    s: Series,
    resource: String,
    rule: String,
    time: String,
    status: String,
    rows: Vec<OccRow>,
    can_manage: bool,
    pending: bool,
    active: bool,
    failed: Option<Failed>,
    from_value: String,
    reason_value: String,
    /// A refusal about the series as a whole (conflicts, decided already), with slots.
    general: Option<(String, Vec<String>)>,
    empty_errs: FormErrors,
}

impl ShowTpl {
    fn move_errs(&self, id: &i64) -> &FormErrors {
        match &self.failed {
            Some(Failed::Move(i, e, _)) if i == id => e,
            _ => &self.empty_errs,
        }
    }
    fn move_value(&self, id: &i64, field: &str) -> String {
        let row = self.rows.iter().find(|r| r.id == *id);
        match &self.failed {
            Some(Failed::Move(i, _, f)) if i == id => match field {
                "date" => f.date.clone(),
                "start" => f.start.clone(),
                _ => f.end.clone(),
            },
            _ => row
                .map(|r| match field {
                    "date" => r.date.clone(),
                    "start" => r.start.clone(),
                    _ => r.end.clone(),
                })
                .unwrap_or_default(),
        }
    }
    fn cancel_from_errs(&self) -> &FormErrors {
        match &self.failed {
            Some(Failed::From(e, _)) => e,
            _ => &self.empty_errs,
        }
    }
    fn reject_errs(&self) -> &FormErrors {
        match &self.failed {
            Some(Failed::Reject(e, _)) => e,
            _ => &self.empty_errs,
        }
    }
    fn any_failed(&self) -> bool {
        self.failed.is_some()
    }
}

fn status_label(t: &Catalog, status: &str) -> String {
    t.get(&format!("booking.status.{status}")).to_string()
}

fn weekday_label(t: &Catalog, d: NaiveDate) -> String {
    use chrono::Datelike;
    let key = match d.weekday() {
        chrono::Weekday::Mon => "booking.day.mon",
        chrono::Weekday::Tue => "booking.day.tue",
        chrono::Weekday::Wed => "booking.day.wed",
        chrono::Weekday::Thu => "booking.day.thu",
        chrono::Weekday::Fri => "booking.day.fri",
        chrono::Weekday::Sat => "booking.day.sat",
        chrono::Weekday::Sun => "booking.day.sun",
    };
    format!("{}, {}", t.get(key), d.format("%d.%m.%Y"))
}

fn busy_text(t: &Catalog, b: &Busy) -> String {
    let (s, e) = (local_of(b.start), local_of(b.end));
    format!(
        "{}, {}–{} ({})",
        weekday_label(t, s.date()),
        s.format("%H:%M"),
        e.format("%H:%M"),
        status_label(t, &b.status)
    )
}

async fn render(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    failed: Option<Failed>,
    general: Option<(String, Vec<String>)>,
    code: Option<axum::http::StatusCode>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (s, list) = get_series(&st.db.conn, Actor::User(p), SeriesId(id)).await?;
    let r = service::find_resource(&st.db.conn, p.tenant_id, s.resource_id).await?;
    let rows = list
        .iter()
        .map(|x| {
            let (a, b) = (local_of(x.starts_at), local_of(x.ends_at));
            OccRow {
                id: x.id,
                day: weekday_label(t, a.date()),
                time: format!("{}–{}", a.format("%H:%M"), b.format("%H:%M")),
                status: status_label(t, &x.status),
                active: is_active(x),
                date: a.format("%Y-%m-%d").to_string(),
                start: a.format("%H:%M").to_string(),
                end: b.format("%H:%M").to_string(),
            }
        })
        .collect();
    let dt = stored_dtstart(&s);
    let time = dt
        .map(|d| {
            let e = d + Duration::minutes(i64::from(s.duration_minutes));
            format!(
                "{}–{} ({})",
                d.format("%H:%M"),
                e.format("%H:%M"),
                t.fmt("booking.series.first", &d.format("%d.%m.%Y").to_string())
            )
        })
        .unwrap_or_default();
    let (from_value, reason_value) = match &failed {
        Some(Failed::From(_, v)) => (v.clone(), String::new()),
        Some(Failed::Reject(_, v)) => (String::new(), v.clone()),
        _ => (String::new(), String::new()),
    };
    let tpl = ShowTpl {
        l: layout(st, ctx, "booking.series.title").with_title(format!(
            "{}: {}",
            t.get("booking.series.title"),
            s.title
        )),
        resource: r.name,
        rule: describe(t, &s),
        time,
        status: status_label(t, &s.status),
        pending: list.iter().any(|x| x.status == REQUESTED),
        active: s.status == REQUESTED || s.status == CONFIRMED,
        can_manage: p.has(MANAGE),
        rows,
        s,
        failed,
        from_value,
        reason_value,
        general,
        empty_errs: FormErrors::none(t),
    };
    let mut res = page(tpl)?;
    if let Some(c) = code {
        *res.status_mut() = c;
    }
    Ok(res)
}

async fn show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    render(&st, &ctx, &p, parse_id(&id)?, None, None, None).await
}

fn back(id: i64, notice: &str) -> Response {
    Redirect::to(&format!(
        "/buchung/serien/{id}?notice=booking_series.{notice}"
    ))
    .into_response()
}

/// A refusal that concerns the series as a whole, shown above the forms with 409.
fn general_of(t: &Catalog, e: ReserveError) -> Result<(String, Vec<String>), Error> {
    match e {
        ReserveError::Conflict(busy) => Ok((
            t.get(service::CONFLICT_KEY).to_string(),
            busy.iter().map(|b| busy_text(t, b)).collect(),
        )),
        ReserveError::Other(Error::Conflict(key)) => Ok((t.get(&key).to_string(), vec![])),
        ReserveError::Other(e) => Err(e),
    }
}

const UNPROCESSABLE: Option<axum::http::StatusCode> =
    Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
const CONFLICT: Option<axum::http::StatusCode> = Some(axum::http::StatusCode::CONFLICT);

async fn cancel_one_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    let (id, rid) = (parse_id(&id)?, parse_id(&rid)?);
    let t = catalog(ctx.lang);
    // The occurrence must belong to the series in the path.
    let (_, list) = get_series(&st.db.conn, Actor::User(&p), SeriesId(id)).await?;
    if !list.iter().any(|x| x.id == rid) {
        return Err(Error::NotFound.into());
    }
    match cancel_occurrence(&st.db.conn, Actor::User(&p), ReservationId(rid)).await {
        Ok(_) => Ok(back(id, "occurrence_cancelled")),
        Err(e) => {
            let g = general_of(t, ReserveError::Other(e))?;
            render(&st, &ctx, &p, id, None, Some(g), CONFLICT).await
        }
    }
}

async fn cancel_from_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<FromForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    // Unknown or foreign series answer 404 before the input is looked at.
    get_series(&st.db.conn, Actor::User(&p), SeriesId(id)).await?;
    let from = match NaiveDate::parse_from_str(f.from.trim(), "%Y-%m-%d") {
        Ok(d) => d,
        Err(_) => {
            let key = if f.from.trim().is_empty() {
                "err.required"
            } else {
                "booking.err.date_invalid"
            };
            let errs = FormErrors::new(t, field_error("from", key));
            let failed = Failed::From(errs, f.from);
            return render(&st, &ctx, &p, id, Some(failed), None, UNPROCESSABLE).await;
        }
    };
    match cancel_from(&st.db.conn, Actor::User(&p), SeriesId(id), from).await {
        Ok(_) => Ok(back(id, "cancelled_from")),
        Err(e) => {
            let g = general_of(t, ReserveError::Other(e))?;
            render(&st, &ctx, &p, id, None, Some(g), CONFLICT).await
        }
    }
}

fn field_error(field: &str, key: &str) -> FieldErrors {
    let mut e = FieldErrors::new();
    e.add(field, key);
    e
}

fn parse_move(f: &MoveForm) -> std::result::Result<(NaiveDateTime, NaiveDateTime), FieldErrors> {
    let mut errs = FieldErrors::new();
    let date = NaiveDate::parse_from_str(f.date.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        errs.add(
            "date",
            if f.date.trim().is_empty() {
                "err.required"
            } else {
                "booking.err.date_invalid"
            },
        );
    }
    let time = |errs: &mut FieldErrors, field: &str, v: &str| {
        let v = v.trim();
        let t = NaiveTime::parse_from_str(v, "%H:%M").ok();
        if t.is_none() {
            errs.add(
                field,
                if v.is_empty() {
                    "err.required"
                } else {
                    "booking.err.time_invalid"
                },
            );
        }
        t
    };
    let start = time(&mut errs, "start", &f.start);
    let end = time(&mut errs, "end", &f.end);
    match (date, start, end) {
        (Some(d), Some(s), Some(e)) if errs.is_empty() => Ok((d.and_time(s), d.and_time(e))),
        _ => Err(errs),
    }
}

async fn move_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path((id, rid)): Path<(String, String)>,
    Form(f): Form<MoveForm>,
) -> Result<Response, HtmlError> {
    let (id, rid) = (parse_id(&id)?, parse_id(&rid)?);
    let t = catalog(ctx.lang);
    let (_, list) = get_series(&st.db.conn, Actor::User(&p), SeriesId(id)).await?;
    if !list.iter().any(|x| x.id == rid) {
        return Err(Error::NotFound.into());
    }
    let result = match parse_move(&f) {
        Err(errs) => Err(ReserveError::Other(Error::Invalid(errs))),
        Ok((s, e)) => move_occurrence(&st.db.conn, Actor::User(&p), ReservationId(rid), s, e)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(back(id, "occurrence_moved")),
        Err(ReserveError::Other(Error::Invalid(errs))) => {
            let failed = Failed::Move(rid, FormErrors::new(t, errs), f);
            render(&st, &ctx, &p, id, Some(failed), None, UNPROCESSABLE).await
        }
        Err(e) => {
            let g = general_of(t, e)?;
            render(&st, &ctx, &p, id, None, Some(g), CONFLICT).await
        }
    }
}

async fn approve_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    match approve_series(&st.db.conn, Actor::User(&p), SeriesId(id)).await {
        Ok(_) => Ok(back(id, "approved")),
        Err(e) => {
            let g = general_of(t, e)?;
            render(&st, &ctx, &p, id, None, Some(g), CONFLICT).await
        }
    }
}

async fn reject_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    match reject_series(&st.db.conn, Actor::User(&p), SeriesId(id), &f.reason).await {
        Ok(_) => Ok(back(id, "rejected")),
        Err(Error::Invalid(errs)) => {
            let failed = Failed::Reject(FormErrors::new(t, errs), f.reason);
            render(&st, &ctx, &p, id, Some(failed), None, UNPROCESSABLE).await
        }
        Err(e) => {
            let g = general_of(t, ReserveError::Other(e))?;
            render(&st, &ctx, &p, id, None, Some(g), CONFLICT).await
        }
    }
}
