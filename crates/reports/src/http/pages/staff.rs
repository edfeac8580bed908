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

use crate::service::ReportsState;
use axum::Extension;
use std::sync::Arc;
use crate::store::entity::report;
use crate::service::{self, Category, HANDLE, MODERATE, Report};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::{accounts, begin, db_err};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::{Layout, NavItem};
use rathaus_web::pages::layout;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Select, TransactionSession,
};
use serde::Deserialize;

pub const INBOX: &str = "/maengel/verwaltung";
/// Reports per inbox page.
pub const PAGE: u64 = 25;

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


/// Holders of neither staff permission are refused before anything is read.
pub fn require_staff(p: &Principal) -> Result<()> {
    if p.has(HANDLE) || p.has(MODERATE) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
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

/// The departments, staff users and categories of a tenant, for names and select boxes.
pub struct Names {
    pub categories: Vec<Category>,
    pub departments: Vec<rathaus_store::entity::department::Model>,
    pub staff: Vec<rathaus_store::entity::user::Model>,
}

impl Names {
    pub async fn load(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Names> {
        Ok(Names {
            categories: service::list_categories(conn, tenant, false).await?,
            departments: accounts::list_departments(conn, tenant).await?,
            staff: staff_users(conn, tenant).await?,
        })
    }

    pub fn category(&self, id: i64) -> String {
        self.categories
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    pub fn department(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.departments.iter().find(|d| d.id == id))
            .map(|d| d.name.clone())
            .unwrap_or_default()
    }

    pub fn user(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.staff.iter().find(|u| u.id == id))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }
}

/// The tenant's active staff accounts (the people a report can be assigned to).
pub async fn staff_users(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<rathaus_store::entity::user::Model>> {
    rathaus_store::accounts::list_active_staff(conn, tenant).await
}

// ------------------------------------------------------------------ filters

/// The inbox filters (query string); also used by the map and the exports.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct Filter {
    /// "" = mine (my department and what is assigned to me), "alle", or a department id.
    #[serde(default)]
    pub bereich: String,
    /// "" = anybody, "ich" = assigned to me, "niemand" = unassigned.
    #[serde(default)]
    pub person: String,
    /// "" = open, "alle", or one status.
    #[serde(default)]
    pub status: String,
    /// Category id or "".
    #[serde(default)]
    pub kategorie: String,
    /// "", "pending", "published" or "hidden".
    #[serde(default)]
    pub moderation: String,
    /// "1": overdue only.
    #[serde(default)]
    pub ueberfaellig: String,
    /// Part of a reference number.
    #[serde(default)]
    pub az: String,
    /// "" = newest first; "faellig" = earliest due date first.
    #[serde(default)]
    pub sortierung: String,
    /// Keyset cursor: the sort time (RFC 3339) and id of the last row shown.
    #[serde(default)]
    pub nach: String,
    /// Bulk result: how many reports were changed.
    #[serde(default)]
    pub geaendert: String,
}

impl Filter {
    pub fn overdue(&self) -> bool {
        self.ueberfaellig == "1"
    }

    /// Sorted by due date (earliest first) instead of newest first.
    pub fn by_due(&self) -> bool {
        self.sortierung == "faellig"
    }

    /// The filters as a query string (without cursor), for links to the next page, the
    /// exports and the map.
    pub fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("bereich", &self.bereich),
            ("person", &self.person),
            ("status", &self.status),
            ("kategorie", &self.kategorie),
            ("moderation", &self.moderation),
            ("ueberfaellig", &self.ueberfaellig),
            ("az", &self.az),
            ("sortierung", &self.sortierung),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        s.finish()
    }

    fn cursor(&self) -> Option<(DateTime<Utc>, i64)> {
        let (t, id) = self.nach.rsplit_once('_')?;
        let t = DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc);
        Some((t, id.parse().ok()?))
    }
}

/// The keyset cursor after `r` in the order of the filters.
pub fn cursor_of(r: &Report, by_due: bool) -> String {
    let t = if by_due { r.due_at } else { r.created_at };
    format!(
        "{}_{}",
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        r.id
    )
}

/// The filters' order: newest first, or earliest due date first (ties by id).
fn ordered(q: Select<report::Entity>, by_due: bool) -> Select<report::Entity> {
    if by_due {
        q.order_by_asc(report::Column::DueAt)
            .order_by_asc(report::Column::Id)
    } else {
        q.order_by_desc(report::Column::CreatedAt)
            .order_by_desc(report::Column::Id)
    }
}

/// The department whose inbox is the user's default (None: no department, so everything).
pub async fn own_department(conn: &impl ConnectionTrait, p: &Principal) -> Result<Option<i64>> {
    Ok(accounts::user_by_id(conn, p.tenant_id, p.user_id.0)
        .await
        .ok()
        .and_then(|u| u.department_id))
}

/// The reports query of the filters (tenant and permission first; unreadable values in the
/// filters are ignored, never an error).
pub async fn filtered(
    conn: &impl ConnectionTrait,
    p: &Principal,
    f: &Filter,
) -> Result<Select<report::Entity>> {
    require_staff(p)?;
    let mut q = rathaus_store::uow::scoped::<report::Entity>(p.tenant_id);
    let me = p.user_id.0;
    match f.bereich.trim() {
        "alle" => {}
        "" => {
            if let Some(d) = own_department(conn, p).await? {
                q = q.filter(
                    Condition::any()
                        .add(report::Column::DepartmentId.eq(d))
                        .add(report::Column::AssigneeId.eq(me)),
                );
            }
        }
        "keiner" => q = q.filter(report::Column::DepartmentId.is_null()),
        v => {
            if let Ok(d) = v.parse::<i64>() {
                q = q.filter(report::Column::DepartmentId.eq(d));
            }
        }
    }
    match f.person.trim() {
        "ich" => q = q.filter(report::Column::AssigneeId.eq(me)),
        "niemand" => q = q.filter(report::Column::AssigneeId.is_null()),
        _ => {}
    }
    match f.status.trim() {
        "" | "offen" => q = q.filter(report::Column::IsOpen.eq(true)),
        "alle" => {}
        "geschlossen" => q = q.filter(report::Column::IsOpen.eq(false)),
        s if service::STATUSES.contains(&s) => q = q.filter(report::Column::Status.eq(s)),
        _ => q = q.filter(report::Column::IsOpen.eq(true)),
    }
    if let Ok(c) = f.kategorie.trim().parse::<i64>() {
        q = q.filter(report::Column::CategoryId.eq(c));
    }
    let m = f.moderation.trim();
    if [service::PENDING, service::PUBLISHED, service::HIDDEN].contains(&m) {
        q = q.filter(report::Column::Moderation.eq(m));
    }
    if f.overdue() {
        q = q
            .filter(report::Column::IsOpen.eq(true))
            .filter(report::Column::DueAt.lt(Utc::now()));
    }
    let az = f.az.trim().to_ascii_uppercase();
    if !az.is_empty() && az.len() <= 40 {
        q = q.filter(report::Column::Reference.contains(az.as_str()));
    }
    Ok(q)
}

/// One page of the inbox, newest first, and the cursor of the next page.
pub async fn page_of(
    conn: &impl ConnectionTrait,
    p: &Principal,
    f: &Filter,
) -> Result<(Vec<Report>, Option<String>)> {
    let mut q = filtered(conn, p, f).await?;
    let by_due = f.by_due();
    if let Some((t, id)) = f.cursor() {
        q = q.filter(if by_due {
            Condition::any().add(report::Column::DueAt.gt(t)).add(
                Condition::all()
                    .add(report::Column::DueAt.eq(t))
                    .add(report::Column::Id.gt(id)),
            )
        } else {
            Condition::any().add(report::Column::CreatedAt.lt(t)).add(
                Condition::all()
                    .add(report::Column::CreatedAt.eq(t))
                    .add(report::Column::Id.lt(id)),
            )
        });
    }
    let mut rows = ordered(q, by_due).limit(PAGE + 1).all(conn).await?;
    let next = if rows.len() as u64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| cursor_of(r, by_due))
    } else {
        None
    };
    Ok((rows, next))
}

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

/// What the bulk form had when it failed.
#[derive(Deserialize, Default, Clone)]
pub struct BulkInput {
    pub ids: Vec<i64>,
    pub aktion: String,
    pub status: String,
    pub public_reply: String,
    pub department_id: String,
    pub assignee_id: String,
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
    require_staff(p)?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let names = Names::load(conn, p.tenant_id).await?;
    let (reports, next) = page_of(conn, p, &f).await?;
    let now = Utc::now();
    let rows = reports
        .iter()
        .map(|r| {
            let mut row = row_of(t, &names, r, now);
            row.checked = bulk.ids.contains(&r.id);
            row
        })
        .collect();
    let own = own_department(conn, p).await?;
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

/// Bulk actions: `set_status` (with an optional public reply), `department`, `assignee`,
/// `publish`, `hide`.
pub const BULK_ACTIONS: &[&str] = &["set_status", "department", "assignee", "publish", "hide"];

/// At most this many reports in one bulk action.
pub const BULK_MAX: usize = 200;

/// Parses the bulk form (repeated `ids`, so a list of pairs).
pub fn bulk_input(pairs: &[(String, String)]) -> (BulkInput, Filter) {
    let mut b = BulkInput::default();
    let mut f = Filter::default();
    for (k, v) in pairs {
        match k.as_str() {
            "ids" => {
                if let Ok(id) = v.trim().parse()
                    && !b.ids.contains(&id)
                {
                    b.ids.push(id);
                }
            }
            "aktion" => b.aktion = v.clone(),
            "status" => b.status = v.clone(),
            "public_reply" => b.public_reply = v.clone(),
            "department_id" => b.department_id = v.clone(),
            "assignee_id" => b.assignee_id = v.clone(),
            "f_bereich" => f.bereich = v.clone(),
            "f_person" => f.person = v.clone(),
            "f_status" => f.status = v.clone(),
            "f_kategorie" => f.kategorie = v.clone(),
            "f_moderation" => f.moderation = v.clone(),
            "f_ueberfaellig" => f.ueberfaellig = v.clone(),
            "f_az" => f.az = v.clone(),
            "f_sortierung" => f.sortierung = v.clone(),
            "f_nach" => f.nach = v.clone(),
            _ => {}
        }
    }
    (b, f)
}

fn optional_id(errs: &mut FieldErrors, field: &str, v: &str) -> Option<Option<i64>> {
    match v.trim() {
        "" => {
            errs.add(field, "err.required");
            None
        }
        "keiner" | "niemand" => Some(None),
        v => match v.parse() {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                errs.add(field, "err.invalid_choice");
                None
            }
        },
    }
}

/// Why a bulk action failed: field errors of the form, or the report that refused and why.
pub enum BulkError {
    Form(FieldErrors),
    Report(String, Error),
    Other(Error),
}

/// Applies one action to all `ids` in ONE transaction: every report changes or none does.
/// Returns how many reports were changed.
pub async fn run_bulk<C: sea_orm::TransactionTrait + ConnectionTrait>(
    db: &C,
    state: &ReportsState,
    p: &Principal,
    b: &BulkInput,
    base_url: &str,
) -> std::result::Result<usize, BulkError> {
    let mut errs = FieldErrors::new();
    if b.ids.is_empty() {
        errs.add("ids", "reports.staff.bulk.err_none");
    } else if b.ids.len() > BULK_MAX {
        errs.add_arg("ids", "reports.staff.bulk.err_many", Some(BULK_MAX));
    }
    let action = b.aktion.trim();
    if !BULK_ACTIONS.contains(&action) {
        errs.add("aktion", "err.invalid_choice");
    }
    let mut change = service::Change {
        base_url: base_url.to_string(),
        ..Default::default()
    };
    let mut moderation = service::Moderation::default();
    match action {
        "set_status" => {
            let s = b.status.trim();
            if s.is_empty() {
                errs.add("status", "err.required");
            } else if s == service::DUPLICATE {
                errs.add("status", "reports.staff.bulk.err_duplicate");
            } else {
                change.status = Some(s.to_string());
            }
            change.public_reply = b.public_reply.clone();
        }
        "department" => {
            change.department_id = optional_id(&mut errs, "department_id", &b.department_id)
        }
        "assignee" => change.assignee_id = optional_id(&mut errs, "assignee_id", &b.assignee_id),
        "publish" => moderation.publish = Some(true),
        "hide" => moderation.publish = Some(false),
        _ => {}
    }
    if !errs.is_empty() {
        return Err(BulkError::Form(errs));
    }
    let moderating = matches!(action, "publish" | "hide");
    let need = if moderating { MODERATE } else { HANDLE };
    p.require(need).map_err(BulkError::Other)?;
    let txn = begin(db).await.map_err(BulkError::Other)?;
    for id in &b.ids {
        let result = if moderating {
            service::moderate_in(&txn, p, *id, moderation.clone())
                .await
                .map(|_| ())
        } else {
            service::change_in(&txn, p, *id, change.clone())
                .await
                .map(|_| ())
        };
        if let Err(e) = result {
            // Dropping the transaction rolls everything back.
            let reference = service::find(&txn, p.tenant_id, *id)
                .await
                .map(|r| r.reference)
                .unwrap_or_else(|_| format!("#{id}"));
            return Err(BulkError::Report(reference, e));
        }
    }
    txn.commit()
        .await
        .map_err(|e| BulkError::Other(db_err(e)))?;
    state.generations.bump(p.tenant_id);
    Ok(b.ids.len())
}

pub(crate) async fn bulk(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    headers: axum::http::HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> std::result::Result<Response, HtmlError> {
    require_staff(&p)?;
    let t = catalog(ctx.lang);
    let (b, f) = bulk_input(&pairs);
    let base = rathaus_web::ctx::origin(&st.cfg, &headers);
    match run_bulk(&st.db.conn, &state, &p, &b, &base).await {
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

/// For the exports: every report of the filters in their order, at most `limit`.
pub async fn all_of(
    conn: &impl ConnectionTrait,
    p: &Principal,
    f: &Filter,
    limit: u64,
) -> Result<Vec<Report>> {
    ordered(filtered(conn, p, f).await?, f.by_due())
        .limit(limit)
        .all(conn)
        .await
        .map_err(db_err)
}
