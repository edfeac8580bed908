//! Staff side of the Mängelmelder (issue 3, items 8–11) under /maengel/verwaltung: the inbox
//! with filters and keyset paging (default: the user's department and what is assigned to
//! them), the moderation queue, the overdue view and bulk actions. One report, its workflow
//! and moderation forms and the staff photos are in `staff/detail.rs`; the map, the exports
//! and the statistics in `staff/data.rs`.
//!
//! Every handler forwards to the service, which checks the permission again; the pages
//! themselves answer 403 to anybody holding neither `reports.handle` nor `reports.moderate`.
//!
//! Overdue: `due_at` is the answer deadline (working days after receipt, set on submission);
//! staff may set another due date with their answer. A report is overdue while it is open and
//! its due date has passed; the list says whether the answer or the (staff-set) date is late.

pub mod data;
pub mod detail;
pub mod entry;

pub use crate::service::inbox::*;

use crate::service::ReportsState;
use crate::service::{self, HANDLE, MODERATE, Report};
use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::{Error, Principal};
use rathaus_store::uow::{Actor, Scope};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::{Layout, NavItem};
use rathaus_web::pages::layout;
use std::sync::Arc;

pub const INBOX: &str = "/maengel/verwaltung";

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: INBOX,
            label_key: "reports.staff.nav",
            any_of: &[HANDLE, MODERATE],
        },
        NavItem {
            href: "/maengel/einstellungen",
            label_key: "reports.admin.nav",
            any_of: &[service::MANAGE],
        },
    ]
}

pub use rathaus_web::pages::parse_id;

pub use crate::service::notify::status_label;

pub fn priority_label(t: &Catalog, p: &str) -> String {
    t.get(&format!("reports.priority.{p}")).to_string()
}

pub fn moderation_label(t: &Catalog, m: &str) -> String {
    t.get(&format!("reports.staff.moderation.{m}")).to_string()
}

pub fn fmt_time(t: &DateTime<Utc>) -> String {
    rathaus_web::pages::fmt_time(t)
}

pub fn fmt_date(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Berlin).format("%d.%m.%Y").to_string()
}

/// A date field (`YYYY-MM-DD`) as the end of that day in Europe/Berlin.
pub fn end_of_local_day(d: NaiveDate) -> Option<DateTime<Utc>> {
    let local = d.and_hms_opt(23, 59, 0)?;
    Berlin
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

pub fn is_overdue(r: &Report, now: DateTime<Utc>) -> bool {
    r.is_open && r.due_at < now
}

// ------------------------------------------------------------------ filters

// ------------------------------------------------------------------ inbox page

pub struct Row {
    pub id: i64,
    pub reference: String,
    pub category: String,
    pub place: String,
    pub status: String,
    pub priority: String,
    pub due: String,
    /// "Antwort überfällig" / "Frist überschritten", or "".
    pub late: String,
    pub moderation: String,
    pub pending: bool,
    pub checked: bool,
}

pub fn place_of(r: &Report) -> String {
    if r.address.trim().is_empty() {
        format!("{:.5}, {:.5}", r.lat, r.lon)
    } else {
        r.address.clone()
    }
}

pub fn row_of(t: &Catalog, names: &Names, r: &Report, now: DateTime<Utc>) -> Row {
    let late = if is_overdue(r, now) {
        if r.first_answer_at.is_none() {
            t.get("reports.staff.late_answer").to_string()
        } else {
            t.get("reports.staff.late_due").to_string()
        }
    } else {
        String::new()
    };
    Row {
        id: r.id,
        reference: r.reference.clone(),
        category: names.category(r.category_id),
        place: place_of(r),
        status: status_label(t, &r.status),
        priority: priority_label(t, &r.priority),
        due: fmt_date(&r.due_at),
        late,
        moderation: moderation_label(t, &r.moderation),
        pending: r.moderation == service::PENDING,
        checked: false,
    }
}

#[derive(Template)]
#[template(path = "staff/inbox.html")]
struct InboxTpl {
    l: Layout,
    view: &'static str,
    f: Filter,
    rows: Vec<Row>,
    next: Option<String>,
    paged: bool,
    own_department: String,
    departments: Vec<(i64, String)>,
    categories: Vec<(i64, String)>,
    statuses: Vec<(&'static str, String)>,
    staff: Vec<(i64, String)>,
    can_handle: bool,
    can_moderate: bool,
    changed: Option<String>,
    bulk: BulkInput,
    bulk_error: Option<String>,
    errs: FormErrors,
    filter_query: String,
}

impl InboxTpl {
    fn sel(&self, field: &str, v: &str) -> bool {
        let cur = match field {
            "bereich" => &self.f.bereich,
            "person" => &self.f.person,
            "status" => &self.f.status,
            "kategorie" => &self.f.kategorie,
            "moderation" => &self.f.moderation,
            "sortierung" => &self.f.sortierung,
            "aktion" => &self.bulk.aktion,
            "b_status" => &self.bulk.status,
            "b_department" => &self.bulk.department_id,
            "b_assignee" => &self.bulk.assignee_id,
            _ => return false,
        };
        cur.trim() == v
    }
    fn sel_id(&self, field: &str, id: &i64) -> bool {
        self.sel(field, &id.to_string())
    }
}

async fn render_inbox(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    view: &'static str,
    f: Filter,
    bulk: BulkInput,
    bulk_error: Option<(FormErrors, Option<String>)>,
) -> std::result::Result<Response, HtmlError> {
    require_staff(Actor::User(p))?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let scope = Scope::user(conn, p);
    let names = Names::load(conn, p.tenant_id).await?;
    let (reports, next) = page_of(&scope, &f).await?;
    let now = Utc::now();
    let rows = reports
        .iter()
        .map(|r| {
            let mut row = row_of(t, &names, r, now);
            row.checked = bulk.ids.contains(&r.id);
            row
        })
        .collect();
    let own = own_department(&scope).await?;
    let title = match view {
        "moderation" => "reports.staff.moderation_title",
        "overdue" => "reports.staff.overdue_title",
        _ => "reports.staff.title",
    };
    let failed = bulk_error.is_some();
    let (errs, general) = match bulk_error {
        Some((e, g)) => (e, g),
        None => (FormErrors::none(t), None),
    };
    let changed = f
        .geaendert
        .parse::<u64>()
        .ok()
        .map(|n| t.fmt("reports.staff.bulk.done", &n.to_string()));
    respond(
        page(InboxTpl {
            l: layout(st, ctx, title),
            view,
            filter_query: f.query(),
            paged: !f.nach.is_empty(),
            f,
            rows,
            next,
            own_department: names.department(own),
            departments: names
                .departments
                .iter()
                .map(|d| (d.id, d.name.clone()))
                .collect(),
            categories: names
                .categories
                .iter()
                .map(|c| (c.id, c.name.clone()))
                .collect(),
            statuses: service::STATUSES
                .iter()
                .map(|s| (*s, status_label(t, s)))
                .collect(),
            staff: names.staff.iter().map(|u| (u.id, u.name.clone())).collect(),
            can_handle: p.has(HANDLE),
            can_moderate: p.has(MODERATE),
            changed,
            bulk,
            bulk_error: general,
            errs,
        }),
        failed,
    )
}

pub(crate) async fn inbox(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(f): Query<Filter>,
) -> std::result::Result<Response, HtmlError> {
    let view = if f.overdue() { "overdue" } else { "inbox" };
    render_inbox(&st, &ctx, &p, view, f, BulkInput::default(), None).await
}

/// Reports waiting for a moderator, of every department.
pub(crate) async fn moderation_queue(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(mut f): Query<Filter>,
) -> std::result::Result<Response, HtmlError> {
    p.require(MODERATE)?;
    if f.bereich.is_empty() {
        f.bereich = "alle".into();
    }
    if f.status.is_empty() {
        f.status = "alle".into();
    }
    f.moderation = service::PENDING.into();
    render_inbox(&st, &ctx, &p, "moderation", f, BulkInput::default(), None).await
}

/// Open reports past their due date, of every department unless filtered.
pub(crate) async fn overdue(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(mut f): Query<Filter>,
) -> std::result::Result<Response, HtmlError> {
    if f.bereich.is_empty() {
        f.bereich = "alle".into();
    }
    f.ueberfaellig = "1".into();
    if f.sortierung.is_empty() {
        f.sortierung = "faellig".into();
    }
    render_inbox(&st, &ctx, &p, "overdue", f, BulkInput::default(), None).await
}

// ------------------------------------------------------------------ bulk actions

pub(crate) async fn bulk(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    headers: axum::http::HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> std::result::Result<Response, HtmlError> {
    require_staff(Actor::User(&p))?;
    let t = catalog(ctx.lang);
    let (b, f) = bulk_input(&pairs);
    let base = rathaus_web::ctx::origin(&st.cfg, &headers);
    match run_bulk(&st.db.conn, &state, Actor::User(&p), p.tenant_id, &b, &base).await {
        Ok(n) => {
            let mut q = f.query();
            if !q.is_empty() {
                q.push('&');
            }
            Ok(Redirect::to(&format!("{INBOX}?{q}geaendert={n}")).into_response())
        }
        Err(BulkError::Form(e)) => {
            let errs = FormErrors::new(t, e);
            render_inbox(&st, &ctx, &p, "inbox", f, b, Some((errs, None))).await
        }
        Err(BulkError::Report(reference, e)) => {
            let reason = match &e {
                Error::Invalid(fe) => {
                    fe.0.first()
                        .map(|x| match &x.arg {
                            Some(a) => t.fmt(&x.key, a),
                            None => t.get(&x.key).to_string(),
                        })
                        .unwrap_or_default()
                }
                Error::NotFound => t.get("reports.staff.bulk.err_missing").to_string(),
                Error::Forbidden => return Err(HtmlError(e)),
                _ => return Err(HtmlError(e)),
            };
            let msg = t
                .fmt("reports.staff.bulk.err_report", &reference)
                .replace("{reason}", &reason);
            render_inbox(
                &st,
                &ctx,
                &p,
                "inbox",
                f,
                b,
                Some((FormErrors::none(t), Some(msg))),
            )
            .await
        }
        Err(BulkError::Other(e)) => Err(HtmlError(e)),
    }
}
