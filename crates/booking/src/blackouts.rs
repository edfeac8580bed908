//! Blackout periods (Sperrzeiten): days on which a resource, or every resource of the tenant,
//! cannot be booked: school holidays, public holidays, maintenance. Staff with
//! `booking.manage` enter them by hand (whole local days, `from` to `to` inclusive) or import
//! them from an iCalendar file as published for school and public holidays (all-day VEVENTs
//! with `DTSTART;VALUE=DATE` and an exclusive `DTEND`, or date-times). A repeated import of
//! the same file updates the periods it made before (matched by the event's UID) instead of
//! doubling them.
//!
//! Stored as UTC `starts_at`/`ends_at` from local midnights (Europe/Berlin), so a blackout
//! covers whole local days whatever the clock change. `rules::check_slot` reads the table.
//!
//! Pages: `/buchung/sperrzeiten` (list, add form, upload), `POST /buchung/sperrzeiten/{id}/loeschen`,
//! `POST /buchung/sperrzeiten/import?_csrf=…` (multipart: the CSRF token is in the query).

use crate::entity::{blackout, resource};
use crate::service::MANAGE;
pub use crate::time::midnight_utc;
use crate::time::today;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::{Actor, audit, begin, db_err};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

pub use blackout::Model as Blackout;

/// The largest iCalendar file accepted (2 MiB).
pub const MAX_ICS_BYTES: usize = 2 * 1024 * 1024;
/// The most events one import takes.
pub const MAX_IMPORT_EVENTS: usize = 5000;
/// The longest blackout (a little more than a year).
pub const MAX_DAYS: i64 = 400;
/// How many blackouts the list shows at once (from the chosen day on).
pub const LIST_LIMIT: u64 = 500;
pub const MAX_REASON: usize = 200;

// ---------------------------------------------------------------- service

/// The local days a blackout covers: first and last (inclusive).
pub fn local_days(b: &Blackout) -> (NaiveDate, NaiveDate) {
    let first = b.starts_at.with_timezone(&Berlin).date_naive();
    // The end is exclusive: the last covered instant's day.
    let last = (b.ends_at - Duration::seconds(1))
        .with_timezone(&Berlin)
        .date_naive();
    (first, last.max(first))
}

async fn check_resource(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_id: Option<i64>,
    errs: &mut FieldErrors,
) -> Result<()> {
    if let Some(id) = resource_id {
        let found = rathaus_store::uow::scoped_by_id::<resource::Entity, _>(tenant, id)
            .one(conn)
            .await?;
        if found.is_none() {
            errs.add("resource_id", "err.invalid_choice");
        }
    }
    Ok(())
}

/// The tenant's blackouts that end on or after local day `from`, by start, at most
/// `LIST_LIMIT` (permission `booking.manage`).
pub async fn list_blackouts(
    conn: &impl ConnectionTrait,
    who: &Principal,
    from: NaiveDate,
) -> Result<Vec<Blackout>> {
    who.require(MANAGE)?;
    rathaus_store::uow::scoped::<blackout::Entity>(who.tenant_id)
        .filter(blackout::Column::EndsAt.gt(midnight_utc(from)))
        .order_by_asc(blackout::Column::StartsAt)
        .order_by_asc(blackout::Column::Id)
        .limit(LIST_LIMIT)
        .all(conn)
        .await
        .map_err(db_err)
}

/// The blackouts touching [from, to) that apply to one of `resource_ids` or to all
/// resources: for rules and views (no permission needed: blackouts are public facts).
pub async fn blackouts_between(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_ids: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Blackout>> {
    use sea_orm::Condition;
    rathaus_store::uow::scoped::<blackout::Entity>(tenant)
        .filter(blackout::Column::StartsAt.lt(to))
        .filter(blackout::Column::EndsAt.gt(from))
        .filter(
            Condition::any()
                .add(blackout::Column::ResourceId.is_null())
                .add(blackout::Column::ResourceId.is_in(resource_ids.iter().copied())),
        )
        .order_by_asc(blackout::Column::StartsAt)
        .all(conn)
        .await
        .map_err(db_err)
}

fn blackout_json(b: &Blackout) -> serde_json::Value {
    json!({
        "resource_id": b.resource_id, "starts_at": b.starts_at, "ends_at": b.ends_at,
        "reason": b.reason, "source_uid": b.source_uid,
    })
}

/// Adds a blackout of whole local days `from` to `to` (inclusive) for one resource or, with
/// `None`, every resource (permission `booking.manage`).
pub async fn add_blackout<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    resource_id: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
    reason: &str,
) -> Result<Blackout> {
    who.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let reason = errs.text("reason", reason, MAX_REASON);
    if to < from {
        errs.add("to", "booking.blackouts.err.to_before_from");
    } else if (to - from).num_days() >= MAX_DAYS {
        errs.add_arg("to", "booking.blackouts.err.too_long", Some(MAX_DAYS));
    }
    let txn = begin(db).await?;
    check_resource(&txn, who.tenant_id, resource_id, &mut errs).await?;
    errs.into_result()?;
    let b = blackout::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        resource_id: Set(resource_id),
        starts_at: Set(midnight_utc(from)),
        ends_at: Set(midnight_utc(to + Duration::days(1))),
        reason: Set(reason),
        source_uid: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("booking.blackout.created", "booking_blackout", Some(b.id))
            .details(blackout_json(&b)),
    )
    .await?;
    txn.commit().await?;
    Ok(b)
}

/// Deletes a blackout (permission `booking.manage`); another tenant's is NotFound.
pub async fn delete_blackout<C: TransactionTrait>(db: &C, who: &Principal, id: i64) -> Result<()> {
    who.require(MANAGE)?;
    let txn = begin(db).await?;
    let b = rathaus_store::uow::scoped_by_id::<blackout::Entity, _>(who.tenant_id, id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    blackout::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("booking.blackout.deleted", "booking_blackout", Some(id))
            .details(blackout_json(&b)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// New blackouts.
    pub created: usize,
    /// Blackouts of an earlier import whose dates or reason changed.
    pub updated: usize,
    /// Events that could not become a blackout (recurring, cancelled, without a start, …).
    pub skipped: usize,
    /// Events already imported as they are.
    pub unchanged: usize,
}

/// Imports the events of an iCalendar file (at most `MAX_ICS_BYTES`) as blackouts of one
/// resource or, with `None`, of every resource (permission `booking.manage`). An event seen
/// before (same UID, same resource choice) updates its blackout. Everything or nothing is
/// stored, with one audit event.
pub async fn import_ics<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    resource_id: Option<i64>,
    bytes: &[u8],
) -> Result<ImportSummary> {
    who.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let events = if bytes.len() > MAX_ICS_BYTES {
        errs.add_arg("file", "booking.blackouts.err.too_large", Some("2 MB"));
        vec![]
    } else {
        match parse_events(bytes) {
            Ok(e) => e,
            Err(key) => {
                errs.add("file", key);
                vec![]
            }
        }
    };
    let txn = begin(db).await?;
    check_resource(&txn, who.tenant_id, resource_id, &mut errs).await?;
    errs.into_result()?;

    let mut existing: HashMap<String, Blackout> =
        rathaus_store::uow::scoped::<blackout::Entity>(who.tenant_id)
            .filter(match resource_id {
                Some(r) => blackout::Column::ResourceId.eq(r),
                None => blackout::Column::ResourceId.is_null(),
            })
            .filter(blackout::Column::SourceUid.ne(""))
            .all(&txn)
            .await?
            .into_iter()
            .map(|b| (b.source_uid.clone(), b))
            .collect();
    let mut sum = ImportSummary::default();
    let now = Utc::now();
    for ev in events {
        let Some(p) = ev.period() else {
            sum.skipped += 1;
            continue;
        };
        let reason: String = ev.summary.trim().chars().take(MAX_REASON).collect();
        let reason = if reason.is_empty() {
            "Import".to_string()
        } else {
            reason
        };
        match existing.get(&ev.uid) {
            Some(b) if b.starts_at == p.0 && b.ends_at == p.1 && b.reason == reason => {
                sum.unchanged += 1;
            }
            Some(b) => {
                let mut am: blackout::ActiveModel = b.clone().into();
                am.starts_at = Set(p.0);
                am.ends_at = Set(p.1);
                am.reason = Set(reason);
                let b = am.update(&txn).await?;
                existing.insert(ev.uid.clone(), b);
                sum.updated += 1;
            }
            None => {
                let b = blackout::ActiveModel {
                    tenant_id: Set(who.tenant_id.0),
                    resource_id: Set(resource_id),
                    starts_at: Set(p.0),
                    ends_at: Set(p.1),
                    reason: Set(reason),
                    source_uid: Set(ev.uid.clone()),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                existing.insert(ev.uid.clone(), b);
                sum.created += 1;
            }
        }
    }
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("booking.blackout.imported", "booking_blackout", None::<i64>).details(
            json!({
                "resource_id": resource_id, "created": sum.created, "updated": sum.updated,
                "skipped": sum.skipped, "unchanged": sum.unchanged, "bytes": bytes.len(),
            }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(sum)
}

// ---------------------------------------------------------------- iCalendar reader

/// A date or date-time value of DTSTART/DTEND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

/// The parts of a VEVENT a blackout needs.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub uid: String,
    pub summary: String,
    pub start: Option<When>,
    pub end: Option<When>,
    pub duration: Option<Duration>,
    /// Recurring events, overrides and cancelled events are not imported.
    pub unsupported: bool,
}

impl Event {
    /// [start, end) in UTC: dates from local midnights (DTEND exclusive; one day without it),
    /// date-times as given. None for an event without a usable period.
    pub fn period(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.unsupported || self.uid.is_empty() {
            return None;
        }
        let (s, e) = match (self.start?, self.end) {
            (When::Date(s), Some(When::Date(e))) => (midnight_utc(s), midnight_utc(e)),
            (When::Date(s), None) => {
                let days = self.duration.map_or(1, |d| d.num_days().max(1));
                (midnight_utc(s), midnight_utc(s + Duration::days(days)))
            }
            (When::Time(s), Some(When::Time(e))) => (s, e),
            (When::Time(s), None) => (s, s + self.duration?),
            // Mixed value types are not valid iCalendar.
            _ => return None,
        };
        (e > s && e - s <= Duration::days(MAX_DAYS)).then_some((s, e))
    }
}

/// Undoes line folding (RFC 5545 3.1): a line break followed by a space or tab continues the
/// line. Accepts CRLF and bare LF, as files in the wild use both.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        if !raw.is_empty() {
            lines.push(raw.to_string());
        }
    }
    lines
}

/// Splits a content line into upper-case name, parameters (upper-case names) and value; the
/// first colon outside a quoted parameter value ends the parameters.
/// Upper-case parameter names and their values.
type Params = Vec<(String, String)>;

fn split_line(line: &str) -> Option<(String, Params, &str)> {
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_uppercase(),
                v.trim_matches('"').to_string(),
            )
        })
        .collect();
    Some((name, params, value))
}

/// Undoes TEXT escaping (RFC 5545 3.3.11).
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(x) => out.push(x),
                None => {}
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// A DTSTART/DTEND value: `VALUE=DATE` or 8 digits is a date; a date-time is UTC with `Z`,
/// else local to its TZID (an unknown or Windows zone name counts as Europe/Berlin, as does
/// a floating time).
fn parse_when(params: &[(String, String)], v: &str) -> Option<When> {
    let v = v.trim();
    let is_date = params
        .iter()
        .any(|(k, x)| k == "VALUE" && x.eq_ignore_ascii_case("DATE"))
        || v.len() == 8;
    if is_date {
        return NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d")
            .ok()
            .map(When::Date);
    }
    if let Some(z) = v.strip_suffix(['Z', 'z']) {
        let t = NaiveDateTime::parse_from_str(z, "%Y%m%dT%H%M%S").ok()?;
        return Some(When::Time(Utc.from_utc_datetime(&t)));
    }
    let t = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()?;
    let tz: chrono_tz::Tz = params
        .iter()
        .find(|(k, _)| k == "TZID")
        .and_then(|(_, z)| z.trim_start_matches('/').parse().ok())
        .unwrap_or(Berlin);
    // The earlier of a repeated time; a skipped one as if the clock had not changed yet.
    let at = tz
        .from_local_datetime(&t)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(t + Duration::hours(1))).earliest())?;
    Some(When::Time(at.with_timezone(&Utc)))
}

/// A DURATION value such as `P1D`, `PT2H30M` or `P2W` (RFC 5545 3.3.6); no sign.
fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim().strip_prefix('+').unwrap_or(v.trim());
    let rest = v.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' => {}
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                any = true;
                total += match c {
                    'W' => Duration::weeks(n.min(1000)),
                    'D' => Duration::days(n.min(10_000)),
                    'H' => Duration::hours(n.min(1_000_000)),
                    'M' => Duration::minutes(n.min(100_000_000)),
                    _ => Duration::seconds(n.min(10_000_000_000)),
                };
            }
            _ => return None,
        }
    }
    (any && num.is_empty()).then_some(total)
}

/// The VEVENTs of an iCalendar file. Errors are translation keys: not a calendar (not UTF-8,
/// no VCALENDAR), no events, too many events. Events without a UID get one made of their
/// start and summary, so that a repeated import still matches them.
pub fn parse_events(bytes: &[u8]) -> std::result::Result<Vec<Event>, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "booking.blackouts.err.not_calendar")?;
    let text = text.trim_start_matches('\u{feff}');
    let lines = unfold(text);
    let first = lines.iter().find(|l| !l.trim().is_empty());
    if !first.is_some_and(|l| l.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        return Err("booking.blackouts.err.not_calendar");
    }
    let mut events = vec![];
    // Names of the open components; a VEVENT is read only directly inside a VCALENDAR.
    let mut stack: Vec<String> = vec![];
    let mut ev: Option<Event> = None;
    for line in &lines {
        let Some((name, params, value)) = split_line(line) else {
            continue;
        };
        match name.as_str() {
            "BEGIN" => {
                let comp = value.trim().to_ascii_uppercase();
                if comp == "VEVENT" && stack.len() == 1 && ev.is_none() {
                    ev = Some(Event::default());
                }
                stack.push(comp);
            }
            "END" => {
                let comp = value.trim().to_ascii_uppercase();
                if comp == "VEVENT"
                    && stack.len() == 2
                    && let Some(mut e) = ev.take()
                {
                    if e.uid.is_empty() {
                        e.uid = synthetic_uid(&e);
                    }
                    events.push(e);
                    if events.len() > MAX_IMPORT_EVENTS {
                        return Err("booking.blackouts.err.too_many");
                    }
                }
                stack.pop();
            }
            // Properties of nested components (VALARM) are not the event's.
            _ if stack.len() != 2 => {}
            prop => {
                let Some(e) = ev.as_mut() else { continue };
                match prop {
                    "UID" => e.uid = unescape(value).trim().chars().take(255).collect(),
                    "SUMMARY" => e.summary = unescape(value),
                    "DTSTART" => {
                        e.start = parse_when(&params, value);
                        e.unsupported |= e.start.is_none();
                    }
                    "DTEND" => e.end = parse_when(&params, value),
                    "DURATION" => e.duration = parse_duration(value),
                    "RRULE" | "RDATE" | "RECURRENCE-ID" => e.unsupported = true,
                    "STATUS" if value.trim().eq_ignore_ascii_case("CANCELLED") => {
                        e.unsupported = true
                    }
                    _ => {}
                }
            }
        }
    }
    if events.is_empty() {
        return Err("booking.blackouts.err.no_events");
    }
    Ok(events)
}

fn synthetic_uid(e: &Event) -> String {
    let basis = format!("{:?}|{:?}|{}", e.start, e.end, e.summary);
    format!("ohne-uid-{}", &rathaus_store::sha256_hex(&basis)[..32])
}

// ---------------------------------------------------------------- pages

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buchung/sperrzeiten", get(list).post(add))
        .route("/buchung/sperrzeiten/{id}/loeschen", post(delete))
        .route(
            "/buchung/sperrzeiten/import",
            // Room for a file of MAX_ICS_BYTES plus the multipart framing; anything larger
            // fails to read and is answered as too large.
            post(import).layer(DefaultBodyLimit::max(MAX_ICS_BYTES + 64 * 1024)),
        )
}

struct Row {
    id: i64,
    resource: String,
    from: String,
    to: String,
    reason: String,
    imported: bool,
}

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

impl AddForm {
    fn selected(&self, id: &i64) -> bool {
        self.resource_id.trim() == id.to_string()
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    ab: String,
    #[serde(default)]
    erledigt: String,
    #[serde(default)]
    neu: Option<usize>,
    #[serde(default)]
    geaendert: Option<usize>,
    #[serde(default)]
    gleich: Option<usize>,
    #[serde(default)]
    uebersprungen: Option<usize>,
}

#[derive(Template)]
#[template(path = "booking/blackouts_list.html")]
struct ListTpl {
    l: Layout,
    rows: Vec<Row>,
    from: String,
    resources: Vec<(i64, String)>,
    f: AddForm,
    errs: FormErrors,
    import_errs: FormErrors,
    import_resource: String,
    done: Option<String>,
    limited: bool,
}

impl ListTpl {
    fn import_selected(&self, id: &i64) -> bool {
        self.import_resource.trim() == id.to_string()
    }
}

struct Shown {
    f: AddForm,
    errs: FormErrors,
    import_errs: FormErrors,
    import_resource: String,
    done: Option<String>,
    from: NaiveDate,
}

async fn render(st: &AppState, ctx: &Ctx, p: &Principal, s: Shown) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let items = list_blackouts(&st.db.conn, p, s.from).await?;
    let all = crate::service::list_resources(&st.db.conn, p).await?;
    let t = catalog(ctx.lang);
    let every = t.get("booking.blackouts.all_resources").to_string();
    let rows = items
        .iter()
        .map(|b| {
            let (first, last) = local_days(b);
            Row {
                id: b.id,
                resource: match b.resource_id {
                    Some(id) => all
                        .iter()
                        .find(|r| r.id == id)
                        .map(|r| r.name.clone())
                        .unwrap_or_default(),
                    None => every.clone(),
                },
                from: first.format("%d.%m.%Y").to_string(),
                to: last.format("%d.%m.%Y").to_string(),
                reason: b.reason.clone(),
                imported: !b.source_uid.is_empty(),
            }
        })
        .collect();
    let failed = s.errs.any() || s.import_errs.any();
    let mut res = page(ListTpl {
        l: layout(st, ctx, "booking.blackouts.title"),
        limited: items.len() as u64 >= LIST_LIMIT,
        rows,
        from: s.from.format("%Y-%m-%d").to_string(),
        resources: all.into_iter().map(|r| (r.id, r.name)).collect(),
        f: s.f,
        errs: s.errs,
        import_errs: s.import_errs,
        import_resource: s.import_resource,
        done: s.done,
    })?;
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn list(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let from = NaiveDate::parse_from_str(q.ab.trim(), "%Y-%m-%d").unwrap_or_else(|_| today());
    // Only known outcomes are shown: the query string cannot inject text.
    let done = match q.erledigt.as_str() {
        "angelegt" => Some(t.get("booking.blackouts.done_added").to_string()),
        "geloescht" => Some(t.get("booking.blackouts.done_deleted").to_string()),
        "importiert" => Some(
            t.get("booking.blackouts.done_imported")
                .replace("{created}", &q.neu.unwrap_or(0).to_string())
                .replace("{updated}", &q.geaendert.unwrap_or(0).to_string())
                .replace("{unchanged}", &q.gleich.unwrap_or(0).to_string())
                .replace("{skipped}", &q.uebersprungen.unwrap_or(0).to_string()),
        ),
        _ => None,
    };
    let shown = Shown {
        f: AddForm::default(),
        errs: FormErrors::none(t),
        import_errs: FormErrors::none(t),
        import_resource: String::new(),
        done,
        from,
    };
    render(&st, &ctx, &p, shown).await
}

fn parse_resource(errs: &mut FieldErrors, v: &str) -> Option<i64> {
    match v.trim() {
        "" => None,
        v => match v.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                errs.add("resource_id", "err.invalid_choice");
                None
            }
        },
    }
}

fn parse_date(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.is_empty() {
        errs.add(field, "err.required");
        return None;
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d.%m.%Y"))
        .ok();
    if d.is_none() {
        errs.add(field, "booking.err.date_invalid");
    }
    d
}

async fn add(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<AddForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let mut errs = FieldErrors::new();
    let resource_id = parse_resource(&mut errs, &f.resource_id);
    let from = parse_date(&mut errs, "from", &f.from);
    let to = parse_date(&mut errs, "to", &f.to);
    let result = match (from, to) {
        (Some(from), Some(to)) if errs.is_empty() => {
            add_blackout(&st.db.conn, &p, resource_id, from, to, &f.reason).await
        }
        _ => {
            // Report an empty reason now too, not only after the dates are fixed.
            errs.text("reason", &f.reason, MAX_REASON);
            Err(Error::Invalid(errs))
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to("/buchung/sperrzeiten?erledigt=angelegt").into_response()),
        Err(e) => {
            let shown = Shown {
                from: from.unwrap_or_else(today).min(today()),
                f,
                errs: FormErrors::from_error(t, e)?,
                import_errs: FormErrors::none(t),
                import_resource: String::new(),
                done: None,
            };
            render(&st, &ctx, &p, shown).await
        }
    }
}

async fn delete(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    delete_blackout(&st.db.conn, &p, id).await?;
    Ok(Redirect::to("/buchung/sperrzeiten?erledigt=geloescht").into_response())
}

async fn import(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    // The permission before the body: someone without it learns nothing from parsing errors.
    p.require(MANAGE)?;
    let mut mp =
        match <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, &st).await {
            Ok(mp) => mp,
            Err(rejection) => return Ok(rejection.into_response()),
        };
    let t = catalog(ctx.lang);
    let mut data = Vec::new();
    let mut resource = String::new();
    let mut unreadable = false;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(b) => data = b.to_vec(),
                Err(_) => unreadable = true,
            },
            Ok(Some(field)) if field.name() == Some("resource_id") => {
                resource = field.text().await.unwrap_or_default();
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            // Over the body limit or a broken multipart body.
            Err(_) => {
                unreadable = true;
                break;
            }
        }
    }
    let mut errs = FieldErrors::new();
    let resource_id = parse_resource(&mut errs, &resource);
    let result = if unreadable {
        errs.add_arg("file", "booking.blackouts.err.too_large", Some("2 MB"));
        Err(Error::Invalid(errs))
    } else if data.is_empty() {
        errs.add("file", "err.required");
        Err(Error::Invalid(errs))
    } else if !errs.is_empty() {
        Err(Error::Invalid(errs))
    } else {
        import_ics(&st.db.conn, &p, resource_id, &data).await
    };
    match result {
        Ok(s) => Ok(Redirect::to(&format!(
            "/buchung/sperrzeiten?erledigt=importiert&neu={}&geaendert={}&gleich={}&uebersprungen={}",
            s.created, s.updated, s.unchanged, s.skipped
        ))
        .into_response()),
        Err(e) => {
            let shown = Shown {
                f: AddForm::default(),
                errs: FormErrors::none(t),
                import_errs: FormErrors::from_error(t, e)?,
                import_resource: resource,
                done: None,
                from: today(),
            };
            render(&st, &ctx, &p, shown).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_day_events_and_date_times() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@x\r\n\
                   DTSTART;VALUE=DATE:20261012\r\nDTEND;VALUE=DATE:20261024\r\n\
                   SUMMARY:Herbstferien\\, NRW\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n\
                   DTSTART;TZID=Europe/Berlin:20261103T080000\r\nDURATION:PT4H\r\n\
                   SUMMARY:Wartung\r\n Heizung\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:r\r\n\
                   DTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n\
                   END:VCALENDAR\r\n";
        let ev = parse_events(ics.as_bytes()).unwrap();
        assert_eq!(ev.len(), 3);
        let (s, e) = ev[0].period().unwrap();
        assert_eq!(s.to_rfc3339(), "2026-10-11T22:00:00+00:00");
        // The exclusive end: local midnight of 24 October, still summer time.
        assert_eq!(e.to_rfc3339(), "2026-10-23T22:00:00+00:00");
        assert_eq!(ev[0].summary, "Herbstferien, NRW");
        assert_eq!(ev[1].summary, "WartungHeizung");
        let (s, e) = ev[1].period().unwrap();
        assert_eq!(s.to_rfc3339(), "2026-11-03T07:00:00+00:00");
        assert_eq!(e - s, Duration::hours(4));
        assert!(ev[1].uid.starts_with("ohne-uid-"));
        assert!(ev[2].period().is_none());
    }

    #[test]
    fn refuses_what_is_no_calendar() {
        assert_eq!(
            parse_events(b"Hallo").unwrap_err(),
            "booking.blackouts.err.not_calendar"
        );
        assert_eq!(
            parse_events(&[0xff, 0xfe, 0x00]).unwrap_err(),
            "booking.blackouts.err.not_calendar"
        );
        assert_eq!(
            parse_events(b"BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n").unwrap_err(),
            "booking.blackouts.err.no_events"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("P1D"), Some(Duration::days(1)));
        assert_eq!(parse_duration("PT2H30M"), Some(Duration::minutes(150)));
        assert_eq!(parse_duration("P2W"), Some(Duration::weeks(2)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("1D"), None);
    }
}
