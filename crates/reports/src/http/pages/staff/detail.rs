//! One report for staff (/maengel/verwaltung/{id}): everything about it including the
//! reporter's contact and the original text, its photos (hidden ones too, served through
//! staff-only routes), the history with internal notes, a mini map, the workflow form
//! (status, public reply, internal note, priority, due date, department, person, duplicate)
//! and the moderation form (publish or hide, the public text).

use super::{
    Names, fmt_date, fmt_time, is_overdue, moderation_label, parse_id, priority_label,
    require_staff, status_label,
};
use crate::service::ReportsState;
use crate::service::{self, HANDLE, MODERATE, Report, Status};
use crate::service::{CategoryId, PhotoId, ReportId};
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::uow::{Actor, Scope};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use serde::Deserialize;
use std::sync::Arc;

/// The workflow form as typed.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct WorkflowForm {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub public_reply: String,
    #[serde(default)]
    pub internal_note: String,
    #[serde(default)]
    pub priority: String,
    /// `YYYY-MM-DD`, Europe/Berlin; the due time is the end of that day.
    #[serde(default)]
    pub due_date: String,
    /// "" = none, else a department id.
    #[serde(default)]
    pub department_id: String,
    /// "" = nobody, else a user id.
    #[serde(default)]
    pub assignee_id: String,
    /// Reference of the original, with status `duplicate`.
    #[serde(default)]
    pub duplicate_of: String,
}

impl WorkflowForm {
    fn of(r: &Report, original: Option<&str>) -> Self {
        WorkflowForm {
            status: r.status.clone(),
            public_reply: String::new(),
            internal_note: String::new(),
            priority: r.priority.clone(),
            due_date: r
                .due_at
                .with_timezone(&Berlin)
                .format("%Y-%m-%d")
                .to_string(),
            department_id: r.department_id.map(|d| d.to_string()).unwrap_or_default(),
            assignee_id: r.assignee_id.map(|d| d.to_string()).unwrap_or_default(),
            duplicate_of: original.unwrap_or_default().to_string(),
        }
    }
}

fn changed_id(
    errs: &mut FieldErrors,
    field: &str,
    typed: &str,
    current: Option<i64>,
) -> Option<Option<i64>> {
    let new = match typed.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errs.add(field, "err.invalid_choice");
                return None;
            }
        },
    };
    (new != current).then_some(new)
}

/// The form as a service change: only what differs from the report; a due date that cannot
/// be read is a field error here.
pub fn to_change(r: &Report, f: &WorkflowForm, base_url: &str) -> Result<service::Change, Error> {
    let mut errs = FieldErrors::new();
    let mut ch = service::Change {
        base_url: base_url.to_string(),
        public_reply: f.public_reply.clone(),
        internal_note: f.internal_note.clone(),
        ..Default::default()
    };
    let status = f.status.trim();
    if !status.is_empty() && status != r.status {
        ch.status = Some(status.to_string());
    }
    if status == Status::Duplicate {
        ch.status = Some(status.to_string());
        ch.duplicate_of = Some(f.duplicate_of.clone());
    }
    let priority = f.priority.trim();
    if !priority.is_empty() && priority != r.priority {
        ch.priority = Some(priority.to_string());
    }
    let current_due = r.due_at.with_timezone(&Berlin).date_naive();
    match f.due_date.trim() {
        "" => {}
        v => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if d == current_due => {}
            Ok(d) => match super::end_of_local_day(d) {
                Some(t) => ch.due_at = Some(t),
                None => errs.add("due_date", "reports.staff.err.date"),
            },
            Err(_) => errs.add("due_date", "reports.staff.err.date"),
        },
    }
    ch.department_id = changed_id(
        &mut errs,
        "department_id",
        &f.department_id,
        r.department_id,
    );
    ch.assignee_id = changed_id(&mut errs, "assignee_id", &f.assignee_id, r.assignee_id);
    errs.into_result()?;
    Ok(ch)
}

/// The moderation form as typed.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct ModerationForm {
    /// `publish`, `hide` or `keep` (only the text).
    #[serde(default)]
    pub aktion: String,
    #[serde(default)]
    pub public_description: String,
}

struct PhotoRow {
    id: i64,
    hidden: bool,
    number: usize,
}

struct HistoryRow {
    when: String,
    who: String,
    public: bool,
    status: String,
    text: String,
}

#[derive(Template)]
#[template(path = "staff/detail.html")]
struct DetailTpl {
    l: Layout,
    can_handle: bool,
    can_moderate: bool,
    /// The report without the reporter's contact details (those come in `contact`).
    r: Report,
    /// The reporter's name and contact details, for holders of `reports.personal_data`.
    contact: Option<service::Contact>,
    /// The reporter gave contact details that this user may not see.
    contact_hidden: bool,
    category: String,
    status: String,
    priority: String,
    moderation: String,
    source: String,
    department: String,
    assignee: String,
    created: String,
    due: String,
    late: bool,
    first_answer: String,
    closed: String,
    original: Option<(i64, String)>,
    duplicates: Vec<(ReportId, String)>,
    attributes: Vec<(String, String)>,
    photos: Vec<PhotoRow>,
    /// Says how many photos are still being re-encoded (not shown yet).
    photos_pending: Option<String>,
    history: Vec<HistoryRow>,
    wf: WorkflowForm,
    md: ModerationForm,
    statuses: Vec<(&'static str, String)>,
    priorities: Vec<(&'static str, String)>,
    departments: Vec<(i64, String)>,
    staff: Vec<(i64, String)>,
    errs: FormErrors,
    lat: String,
    lon: String,
    tile_url: String,
    tile_attribution: String,
    leaflet_css: &'static str,
    leaflet_js: &'static str,
}

impl DetailTpl {
    fn wf_sel(&self, field: &str, v: &str) -> bool {
        let cur = match field {
            "status" => &self.wf.status,
            "priority" => &self.wf.priority,
            "department_id" => &self.wf.department_id,
            "assignee_id" => &self.wf.assignee_id,
            _ => return false,
        };
        cur.trim() == v
    }
    fn wf_sel_id(&self, field: &str, id: &i64) -> bool {
        self.wf_sel(field, &id.to_string())
    }
}

async fn render(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    wf: Option<WorkflowForm>,
    md: Option<ModerationForm>,
    errs: Option<FormErrors>,
) -> Result<Response, HtmlError> {
    require_staff(Actor::User(p))?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let scope = Scope::user(conn, p);
    let mut r = service::get(&scope, ReportId(id)).await?;
    let gave_contact =
        !(r.reporter_name.is_empty() && r.reporter_email.is_empty() && r.reporter_phone.is_empty());
    let contact = if p.has(service::PERSONAL_DATA) {
        service::reporter_contact(conn, Actor::User(p), &r).await?
    } else {
        None
    };
    let contact_hidden = gave_contact && contact.is_none();
    r.reporter_name.clear();
    r.reporter_email.clear();
    r.reporter_phone.clear();
    let names = Names::load(conn, p.tenant_id).await?;
    let original = match r.duplicate_of {
        Some(o) => service::find(conn, p.tenant_id, ReportId(o))
            .await
            .ok()
            .map(|o| (o.id, o.reference)),
        None => None,
    };
    let duplicates = service::duplicates_of(&scope, ReportId(r.id)).await?;
    let category = service::category(conn, p.tenant_id, CategoryId(r.category_id))
        .await
        .ok();
    let answers: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&r.attributes).unwrap_or_default();
    let defs = category
        .as_ref()
        .map(service::attributes_of)
        .unwrap_or_default();
    let attributes = answers
        .iter()
        .map(|(code, v)| {
            let def = defs.iter().find(|d| d.code == *code);
            let label = def.map(|d| d.description.clone()).unwrap_or(code.clone());
            let value = def
                .map(|d| {
                    v.split(',')
                        .map(|x| {
                            d.values
                                .iter()
                                .find(|(k, _)| k == x.trim())
                                .map(|(_, n)| n.clone())
                                .unwrap_or_else(|| x.trim().to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or(v.clone());
            (label, value)
        })
        .collect();
    let photos = service::photos_of(conn, p.tenant_id, ReportId(r.id), true)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, ph)| PhotoRow {
            id: ph.id,
            hidden: ph.hidden,
            number: i + 1,
        })
        .collect();
    let photos_pending =
        match service::photo_clean::pending(conn, p.tenant_id, ReportId(r.id)).await? {
            0 => None,
            n => Some(t.fmt("reports.public.photos_pending", &n.to_string())),
        };
    let updates = service::updates(conn, p.tenant_id, ReportId(r.id), true).await?;
    let authors = rathaus_store::accounts::users_by_ids(
        conn,
        p.tenant_id,
        updates.iter().filter_map(|u| u.author_id),
    )
    .await?;
    let history = updates
        .iter()
        .map(|u| HistoryRow {
            when: fmt_time(&u.created_at),
            who: u
                .author_id
                .and_then(|a| authors.iter().find(|x| x.id == a))
                .map(|a| a.name.clone())
                .unwrap_or_else(|| t.get("reports.staff.system").to_string()),
            public: u.public,
            status: u
                .status
                .as_deref()
                .map(|s| status_label(t, s))
                .unwrap_or_default(),
            text: u.text.clone(),
        })
        .collect();
    let settings = service::settings(conn, p.tenant_id).await?;
    let original_ref = original.as_ref().map(|(_, r)| r.as_str());
    let failed = errs.as_ref().is_some_and(FormErrors::any);
    let tpl = DetailTpl {
        l: {
            let mut l = layout(st, ctx, "reports.staff.detail_title");
            l.title = format!("{} {}", l.title, r.reference);
            l
        },
        can_handle: p.has(HANDLE),
        can_moderate: p.has(MODERATE),
        contact,
        contact_hidden,
        category: category.map(|c| c.name).unwrap_or_default(),
        status: status_label(t, &r.status),
        priority: priority_label(t, &r.priority),
        moderation: moderation_label(t, &r.moderation),
        source: t
            .get(&format!("reports.staff.source.{}", r.source))
            .to_string(),
        department: names.department(r.department_id),
        assignee: names.user(r.assignee_id),
        created: fmt_time(&r.created_at),
        due: fmt_date(&r.due_at),
        late: is_overdue(&r, Utc::now()),
        first_answer: r.first_answer_at.as_ref().map(fmt_time).unwrap_or_default(),
        closed: r.closed_at.as_ref().map(fmt_time).unwrap_or_default(),
        wf: wf.unwrap_or_else(|| WorkflowForm::of(&r, original_ref)),
        md: md.unwrap_or_else(|| ModerationForm {
            aktion: String::new(),
            public_description: r.public_description.clone(),
        }),
        original,
        duplicates,
        attributes,
        photos,
        photos_pending,
        history,
        statuses: service::STATUSES
            .iter()
            .map(|s| (*s, status_label(t, s)))
            .collect(),
        priorities: service::PRIORITIES
            .iter()
            .map(|s| (*s, priority_label(t, s)))
            .collect(),
        departments: names
            .departments
            .iter()
            .map(|d| (d.id, d.name.clone()))
            .collect(),
        staff: names.staff.iter().map(|u| (u.id, u.name.clone())).collect(),
        errs: errs.unwrap_or_else(|| FormErrors::none(t)),
        lat: format!("{:.6}", r.lat),
        lon: format!("{:.6}", r.lon),
        tile_url: crate::http::pages::tiles::URL_TEMPLATE.to_string(),
        tile_attribution: settings.tile_attribution,
        leaflet_css: rathaus_web::assets::url("vendor/leaflet/leaflet.css"),
        leaflet_js: rathaus_web::assets::url("vendor/leaflet/leaflet.js"),
        r,
    };
    respond(page(tpl), failed)
}

pub(crate) async fn show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    render(&st, &ctx, &p, id, None, None, None).await
}

pub(crate) async fn workflow(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<WorkflowForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    p.require(HANDLE)?;
    let r = service::get(&Scope::user(&st.db.conn, &p), ReportId(id)).await?;
    let base = rathaus_web::ctx::origin(&st.cfg, &headers);
    let result = match to_change(&r, &f, &base) {
        Ok(ch) => {
            service::change(
                &st.db.conn,
                &state,
                Actor::User(&p),
                p.tenant_id,
                ReportId(id),
                ch,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/maengel/verwaltung/{id}?notice=reports_staff_saved"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            render(&st, &ctx, &p, id, Some(f), None, Some(errs)).await
        }
    }
}

pub(crate) async fn moderation(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<ModerationForm>,
) -> Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    p.require(MODERATE)?;
    let r = service::get(&Scope::user(&st.db.conn, &p), ReportId(id)).await?;
    let mut m = service::Moderation::default();
    let mut errs = FieldErrors::new();
    match f.aktion.as_str() {
        "publish" => m.publish = Some(true),
        "hide" => m.publish = Some(false),
        "keep" => {}
        _ => errs.add("aktion", "err.invalid_choice"),
    }
    if f.public_description.trim() != r.public_description.trim() {
        m.public_description = Some(f.public_description.clone());
    }
    let result = match errs.into_result() {
        Ok(()) => {
            service::moderate(
                &st.db.conn,
                &state,
                Actor::User(&p),
                p.tenant_id,
                ReportId(id),
                m,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/maengel/verwaltung/{id}?notice=reports_staff_moderated"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            render(&st, &ctx, &p, id, None, Some(f), Some(errs)).await
        }
    }
}

/// `12.jpg` (the picture) or `12-klein.jpg` (its thumbnail).
fn parse_photo_file(file: &str) -> Result<(i64, bool), Error> {
    let stem = file.strip_suffix(".jpg").ok_or(Error::NotFound)?;
    match stem.strip_suffix("-klein") {
        Some(id) => Ok((parse_id(id)?, true)),
        None => Ok((parse_id(stem)?, false)),
    }
}

/// A report's photo for staff, hidden ones included; never cached by shared caches.
pub(crate) async fn photo(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    require_staff(Actor::User(&p))?;
    let (id, thumb) = parse_photo_file(&file)?;
    let (h, body) = crate::http::pages::public::list::photo_body(
        &st.db.conn,
        &st.files,
        p.tenant_id,
        id,
        thumb,
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        h,
        body,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct VisibilityForm {
    /// "1": hide from the public, "0": show again.
    #[serde(default)]
    verbergen: String,
}

pub(crate) async fn photo_visibility(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(file): Path<String>,
    Form(f): Form<VisibilityForm>,
) -> Result<Response, HtmlError> {
    p.require(MODERATE)?;
    let id = parse_id(file.trim_end_matches(".jpg"))?;
    let report_id = service::set_photo_hidden(
        &st.db.conn,
        &state,
        Actor::User(&p),
        p.tenant_id,
        PhotoId(id),
        f.verbergen == "1",
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/maengel/verwaltung/{report_id}?notice=reports_staff_photo#fotos"
    ))
    .into_response())
}
