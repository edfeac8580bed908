//! Season pages (`/buchung/saison`).

use crate::domain::SeasonId;
use crate::domain::SeasonRequestId;
use crate::service::season::{
    ALLOCATED, DATE_FMT, EXISTING_SHOWN, OPEN, RequestInput, SEASON_KINDS, Season, SeasonInput,
    allocate, auto_allocate, busy_text, conflicts, create_season, decline, get_season,
    list_seasons, publish, ranked_requests, set_priority_order, slot_text, status_label,
    submit_request, weekday_name,
};
use rathaus_store::uow::Actor;

use crate::http::MANAGERS;
use crate::service::orgs::Organisation;
use rathaus_web::Access::SignedIn;
use rathaus_web::Routes;

use crate::service::rules::{self};
use crate::service::{self, MANAGE, ReserveError, Resource};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
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
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------- pages

pub(crate) fn routes() -> Routes {
    Routes::new()
        // Members of an organisation take part in the season; the service refuses others.
        .get("/buchung/saison", SignedIn, list_page)
        .post("/buchung/saison", MANAGERS, create_page)
        .post("/buchung/saison/prioritaet", MANAGERS, priority_page)
        .get("/buchung/saison/{id}", SignedIn, show_page)
        .post("/buchung/saison/{id}/anfragen", SignedIn, submit_page)
        .post(
            "/buchung/saison/{id}/anfragen/{rid}/zuteilen",
            MANAGERS,
            allocate_page,
        )
        .post(
            "/buchung/saison/{id}/anfragen/{rid}/ablehnen",
            MANAGERS,
            decline_page,
        )
        .post("/buchung/saison/{id}/automatisch", MANAGERS, auto_page)
        .post(
            "/buchung/saison/{id}/veroeffentlichen",
            MANAGERS,
            publish_page,
        )
}

fn with_status(mut r: Response, code: Option<StatusCode>) -> Response {
    if let Some(c) = code {
        *r.status_mut() = c;
    }
    r
}

struct SeasonRow {
    id: i64,
    name: String,
    dates: String,
    status: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct SeasonForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct PriorityForm {
    #[serde(default)]
    prio_1: String,
    #[serde(default)]
    prio_2: String,
    #[serde(default)]
    prio_3: String,
}

impl PriorityForm {
    fn selected(&self, place: &usize, kind: &str) -> bool {
        match place {
            1 => self.prio_1 == kind,
            2 => self.prio_2 == kind,
            _ => self.prio_3 == kind,
        }
    }
}

#[derive(Template)]
#[template(path = "booking/season_list.html")]
struct ListTpl {
    l: Layout,
    rows: Vec<SeasonRow>,
    can_manage: bool,
    errs: FormErrors,
    f: SeasonForm,
    perrs: FormErrors,
    pf: PriorityForm,
    kinds: Vec<(&'static str, String)>,
    places: Vec<usize>,
}

fn date_de(v: &str) -> String {
    NaiveDate::parse_from_str(v, DATE_FMT)
        .map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_else(|_| v.to_string())
}

async fn render_list(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: SeasonForm,
    errs: FormErrors,
    pform: Option<(PriorityForm, FormErrors)>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let seasons = list_seasons(&st.db.conn, Actor::User(p)).await?;
    let (pf, perrs) = match pform {
        Some(x) => x,
        None => {
            let order: Vec<String> = rules::settings(&st.db.conn, p.tenant_id)
                .await?
                .priority_order
                .split(',')
                .map(|s| s.trim().to_string())
                .collect();
            let at = |i: usize| order.get(i).cloned().unwrap_or_default();
            (
                PriorityForm {
                    prio_1: at(0),
                    prio_2: at(1),
                    prio_3: at(2),
                },
                FormErrors::none(t),
            )
        }
    };
    let failed = errs.any() || perrs.any();
    let tpl = ListTpl {
        l: layout(st, ctx, "booking.season.title"),
        rows: seasons
            .iter()
            .map(|s| SeasonRow {
                id: s.id,
                name: s.name.clone(),
                dates: format!("{} – {}", date_de(&s.starts_on), date_de(&s.ends_on)),
                status: status_label(t, &s.status),
            })
            .collect(),
        can_manage: p.has(MANAGE),
        errs,
        f,
        perrs,
        pf,
        kinds: crate::http::pages::orgs::kinds_of(t),
        places: vec![1, 2, 3],
    };
    Ok(with_status(
        page(tpl)?,
        failed.then_some(StatusCode::UNPROCESSABLE_ENTITY),
    ))
}

async fn list_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    render_list(
        &st,
        &ctx,
        &p,
        SeasonForm::default(),
        FormErrors::none(t),
        None,
    )
    .await
}

async fn create_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<SeasonForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let inp = SeasonInput {
        name: f.name.clone(),
        starts_on: f.starts_on.clone(),
        ends_on: f.ends_on.clone(),
    };
    match create_season(&st.db.conn, Actor::User(&p), inp).await {
        Ok(s) => Ok(Redirect::to(&format!(
            "/buchung/saison/{}?notice=booking_season.created",
            s.id
        ))
        .into_response()),
        Err(e) => {
            let t = catalog(ctx.lang);
            let errs = FormErrors::from_error(t, e)?;
            render_list(&st, &ctx, &p, f, errs, None).await
        }
    }
}

async fn priority_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(pf): Form<PriorityForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let order = vec![pf.prio_1.clone(), pf.prio_2.clone(), pf.prio_3.clone()];
    match set_priority_order(&st.db.conn, Actor::User(&p), &order).await {
        Ok(_) => Ok(
            Redirect::to("/buchung/saison?notice=booking_season.priority_saved").into_response(),
        ),
        Err(e) => {
            let t = catalog(ctx.lang);
            let perrs = FormErrors::from_error(t, e)?;
            let f = SeasonForm::default();
            render_list(&st, &ctx, &p, f, FormErrors::none(t), Some((pf, perrs))).await
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct RequestForm {
    #[serde(default)]
    organisation_id: String,
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    weekday: String,
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    end_time: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    note: String,
}

impl RequestForm {
    fn org_selected(&self, id: &i64) -> bool {
        self.organisation_id.trim() == id.to_string()
    }
    fn resource_selected(&self, id: &i64) -> bool {
        self.resource_id.trim() == id.to_string()
    }
    fn weekday_selected(&self, d: &usize) -> bool {
        self.weekday.trim() == d.to_string()
    }
    fn input(&self) -> RequestInput {
        // Unparseable choices become ids and a weekday that match nothing: the service
        // then names the field.
        RequestInput {
            organisation_id: self.organisation_id.trim().parse().unwrap_or(-1),
            resource_id: self.resource_id.trim().parse().unwrap_or(-1),
            weekday: self.weekday.trim().parse().unwrap_or(-1),
            start_time: self.start_time.clone(),
            end_time: self.end_time.clone(),
            title: self.title.clone(),
            note: self.note.clone(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

struct ReqRow {
    id: i64,
    rank: usize,
    organisation: String,
    kind: String,
    resource: String,
    slot: String,
    title: String,
    note: String,
    status: String,
    /// Why it was declined.
    reason: String,
    allocated: bool,
    /// Conflicting requests, as text.
    clashes: Vec<String>,
    /// Existing bookings in the way, as text (the first few, then how many more).
    existing: Vec<String>,
}

/// A refused decision on one row: its reason field's error and what was typed.
struct Failed {
    id: i64,
    errs: FormErrors,
    reason: String,
}

#[derive(Template)]
#[template(path = "booking/season_show.html")]
struct ShowTpl {
    l: Layout,
    s: Season,
    dates: String,
    open: bool,
    can_manage: bool,
    rows: Vec<ReqRow>,
    /// The submission form: organisations and resources to choose from.
    orgs: Vec<Organisation>,
    resources: Vec<Resource>,
    weekdays: Vec<(usize, String)>,
    f: RequestForm,
    errs: FormErrors,
    failed: Option<Failed>,
    /// A refusal about the whole page (publish aborted, clash on allocation).
    general: Option<(String, Vec<String>)>,
}

impl ShowTpl {
    fn error_for(&self, id: &i64) -> Option<String> {
        self.failed
            .as_ref()
            .filter(|f| f.id == *id)
            .and_then(|f| f.errs.msg("reason"))
    }
    fn reason_for(&self, id: &i64) -> &str {
        self.failed
            .as_ref()
            .filter(|f| f.id == *id)
            .map(|f| f.reason.as_str())
            .unwrap_or("")
    }
}

struct Shown {
    f: RequestForm,
    errs: FormErrors,
    failed: Option<Failed>,
    general: Option<(String, Vec<String>)>,
    status: Option<StatusCode>,
}

impl Shown {
    fn plain(t: &'static Catalog) -> Self {
        Shown {
            f: RequestForm::default(),
            errs: FormErrors::none(t),
            failed: None,
            general: None,
            status: None,
        }
    }
}

async fn render_show(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    sh: Shown,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let s = get_season(conn, Actor::User(p), SeasonId(id)).await?;
    let ranked = ranked_requests(conn, Actor::User(p), SeasonId(s.id)).await?;
    let can_manage = p.has(MANAGE);
    let found = if can_manage {
        conflicts(conn, Actor::User(p), &s, &ranked).await?
    } else {
        BTreeMap::new()
    };
    let name_of = |rid: i64| {
        ranked
            .iter()
            .find(|x| x.request.id == rid)
            .map(|x| {
                format!(
                    "„{}“ ({}, {}, {}, {})",
                    x.request.title,
                    x.organisation.name,
                    x.resource.name,
                    slot_text(t, &x.request),
                    status_label(t, &x.request.status)
                )
            })
            .unwrap_or_default()
    };
    let rows = ranked
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let c = found.get(&x.request.id).cloned().unwrap_or_default();
            let mut existing: Vec<String> = c
                .existing
                .iter()
                .take(EXISTING_SHOWN)
                .map(|r| busy_text(t, r))
                .collect();
            if c.existing.len() > EXISTING_SHOWN {
                existing.push(t.fmt(
                    "booking.season.more",
                    &(c.existing.len() - EXISTING_SHOWN).to_string(),
                ));
            }
            ReqRow {
                id: x.request.id,
                rank: i + 1,
                organisation: x.organisation.name.clone(),
                kind: crate::http::pages::orgs::kind_label(t, &x.organisation.kind),
                resource: x.resource.name.clone(),
                slot: slot_text(t, &x.request),
                title: x.request.title.clone(),
                note: x.request.note.clone(),
                status: status_label(t, &x.request.status),
                reason: x.request.decision_reason.clone().unwrap_or_default(),
                allocated: x.request.status == ALLOCATED,
                clashes: c.requests.iter().map(|r| name_of(*r)).collect(),
                existing,
            }
        })
        .collect();
    let orgs = if can_manage {
        crate::service::orgs::list_organisations(conn, Actor::User(p)).await?
    } else {
        crate::service::orgs::my_organisations(conn, Actor::User(p)).await?
    };
    let resources = service::list_resources(conn, Actor::User(p))
        .await?
        .into_iter()
        .filter(|r| {
            r.active && SEASON_KINDS.contains(&r.kind.as_str()) && r.bookable_by != rules::STAFF
        })
        .collect();
    let failed_form = sh.errs.any();
    let tpl = ShowTpl {
        l: layout(st, ctx, "booking.season.title").with_title(s.name.clone()),
        dates: format!("{} – {}", date_de(&s.starts_on), date_de(&s.ends_on)),
        open: s.status == OPEN,
        can_manage,
        rows,
        orgs,
        resources,
        weekdays: (0..7).map(|d| (d, weekday_name(t, d as i32))).collect(),
        f: sh.f,
        errs: sh.errs,
        failed: sh.failed,
        general: sh.general,
        s,
    };
    let status = sh
        .status
        .or(failed_form.then_some(StatusCode::UNPROCESSABLE_ENTITY));
    Ok(with_status(page(tpl)?, status))
}

async fn show_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    render_show(&st, &ctx, &p, parse_id(&id)?, Shown::plain(t)).await
}

fn back(id: i64, notice: &str) -> Response {
    Redirect::to(&format!(
        "/buchung/saison/{id}?notice=booking_season.{notice}"
    ))
    .into_response()
}

/// A state refusal (season published) as the page's general message with 409.
fn conflict_shown(t: &'static Catalog, key: &str) -> Shown {
    Shown {
        general: Some((t.get(key).to_string(), vec![])),
        status: Some(StatusCode::CONFLICT),
        ..Shown::plain(t)
    }
}

async fn submit_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<RequestForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    let sh = match submit_request(&st.db.conn, Actor::User(&p), SeasonId(id), f.input()).await {
        Ok(_) => return Ok(back(id, "submitted")),
        Err(Error::Conflict(key)) => Shown {
            f,
            ..conflict_shown(t, &key)
        },
        Err(e) => Shown {
            errs: FormErrors::from_error(t, e)?,
            f,
            ..Shown::plain(t)
        },
    };
    render_show(&st, &ctx, &p, id, sh).await
}

async fn allocate_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let (id, rid) = (parse_id(&id)?, parse_id(&rid)?);
    let t = catalog(ctx.lang);
    let sh = match allocate(
        &st.db.conn,
        Actor::User(&p),
        SeasonId(id),
        SeasonRequestId(rid),
    )
    .await
    {
        Ok(_) => return Ok(back(id, "allocated")),
        Err(Error::Conflict(key)) => conflict_shown(t, &key),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            Shown {
                general: Some((errs.msg("request").unwrap_or_default(), vec![])),
                status: Some(StatusCode::CONFLICT),
                ..Shown::plain(t)
            }
        }
    };
    render_show(&st, &ctx, &p, id, sh).await
}

async fn decline_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path((id, rid)): Path<(String, String)>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let (id, rid) = (parse_id(&id)?, parse_id(&rid)?);
    let t = catalog(ctx.lang);
    let sh = match decline(
        &st.db.conn,
        Actor::User(&p),
        SeasonId(id),
        SeasonRequestId(rid),
        &f.reason,
    )
    .await
    {
        Ok(_) => return Ok(back(id, "declined")),
        Err(Error::Conflict(key)) => conflict_shown(t, &key),
        Err(e) => Shown {
            failed: Some(Failed {
                id: rid,
                errs: FormErrors::from_error(t, e)?,
                reason: f.reason,
            }),
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            ..Shown::plain(t)
        },
    };
    render_show(&st, &ctx, &p, id, sh).await
}

async fn auto_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    match auto_allocate(&st.db.conn, Actor::User(&p), SeasonId(id)).await {
        Ok(_) => Ok(back(id, "auto")),
        Err(Error::Conflict(key)) => {
            let sh = conflict_shown(catalog(ctx.lang), &key);
            render_show(&st, &ctx, &p, id, sh).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn publish_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    let e = match publish(&st.db.conn, Actor::User(&p), SeasonId(id)).await {
        Ok(_) => return Ok(back(id, "published")),
        Err(e) => e,
    };
    let (msg, slots) = match (&e.request, e.error) {
        (None, ReserveError::Other(Error::Conflict(key))) => (t.get(&key).to_string(), vec![]),
        (None, ReserveError::Other(other)) => return Err(other.into()),
        (None, ReserveError::Conflict(_)) => (t.get(service::CONFLICT_KEY).to_string(), vec![]),
        (Some(r), err) => {
            let name = format!("„{}“ ({})", r.title, slot_text(t, r));
            let (detail, slots) = match err {
                ReserveError::Conflict(busy) => (
                    t.get(service::CONFLICT_KEY).to_string(),
                    busy.iter()
                        .map(|b| crate::service::notify::when(b.start, b.end))
                        .collect(),
                ),
                ReserveError::Other(Error::Invalid(f)) => {
                    let fe = FormErrors::new(t, f.clone());
                    let msgs: Vec<String> =
                        f.0.iter()
                            .filter_map(|x| fe.msg(&x.field))
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                    (msgs.join(" "), vec![])
                }
                ReserveError::Other(Error::Conflict(key)) => (t.get(&key).to_string(), vec![]),
                ReserveError::Other(Error::Forbidden) => {
                    (t.get("booking.season.err.not_bookable").to_string(), vec![])
                }
                ReserveError::Other(other) => return Err(other.into()),
            };
            (
                format!(
                    "{} {}",
                    t.fmt("booking.season.err.publish_failed", &name),
                    detail
                ),
                slots,
            )
        }
    };
    let sh = Shown {
        general: Some((msg, slots)),
        status: Some(StatusCode::CONFLICT),
        ..Shown::plain(t)
    };
    render_show(&st, &ctx, &p, id, sh).await
}
