//! Staff pages of the booking module: the resource list (with a form to add a resource for
//! `booking.manage`) under /buchung, and one resource with its week and a booking form under
//! /buchung/{id}, and the queue of open requests for approvers under /buchung/anfragen.
//! Every handler forwards to the service, which checks the permission again.
//!
//! Times in the form are wall-clock times in Europe/Berlin; they become UTC here. A local time
//! that does not exist (the hour skipped in spring) or exists twice (the hour repeated in
//! autumn) is refused with a message beside the field instead of being guessed.

pub use crate::domain::time::local_to_utc;
use crate::domain::{ReservationId, ResourceId};
use crate::http::MANAGERS;
use crate::service::orgs::my_organisation_choices;
use rathaus_store::uow::Actor;
use rathaus_web::Access::SignedIn;
use rathaus_web::Routes;

use crate::domain::time::{midnight_utc, monday_of, today};
use crate::service::rules;
use crate::service::series::SeriesInput;
use crate::service::{self, BOOK, Busy, MANAGE, ReservationInput, ReserveError, Resource};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::{Layout, NavItem};
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use serde::Deserialize;

pub fn nav() -> Vec<NavItem> {
    vec![NavItem {
        href: "/buchung",
        label_key: "booking.nav",
        // Citizens and club members book too; the list shows what each may book.
        any_of: rathaus_web::layout::ANY_SIGNED_IN,
    }]
}

pub(crate) fn routes() -> Routes {
    Routes::new()
        // Citizens and club members book too: the list shows what each may book.
        .get("/buchung", SignedIn, list)
        .post("/buchung", MANAGERS, create_resource)
        .get("/buchung/anfragen", MANAGERS, queue)
        .post("/buchung/anfragen/{id}/genehmigen", MANAGERS, approve)
        .post("/buchung/anfragen/{id}/ablehnen", MANAGERS, reject)
        // A resource open to the public or to organisations is seen and booked by them.
        .get("/buchung/{id}", SignedIn, show)
        .post("/buchung/{id}", SignedIn, reserve)
}

fn kind_label(t: &Catalog, kind: &str) -> String {
    t.get(&format!("booking.kind.{kind}")).to_string()
}

fn status_label(t: &Catalog, status: &str) -> String {
    t.get(&format!("booking.status.{status}")).to_string()
}

// ------------------------------------------------------------------ resource list

struct Row {
    id: i64,
    name: String,
    kind: String,
    capacity: String,
    approval: bool,
    active: bool,
}

#[derive(Deserialize, Default)]
pub struct ResourceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    capacity: String,
    /// Checkbox: present when checked.
    #[serde(default)]
    requires_approval: Option<String>,
}

impl ResourceForm {
    fn parent_selected(&self, id: &i64) -> bool {
        self.parent_id.trim() == id.to_string()
    }
    fn kind_selected(&self, kind: &str) -> bool {
        self.kind == kind
    }
    fn approval(&self) -> bool {
        self.requires_approval.is_some()
    }
}

#[derive(Template)]
#[template(path = "booking/list.html")]
struct ListTpl {
    l: Layout,
    rows: Vec<Row>,
    can_manage: bool,
    halls: Vec<Resource>,
    kinds: Vec<(&'static str, String)>,
    errs: FormErrors,
    f: ResourceForm,
}

async fn render_list(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: ResourceForm,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let all = service::list_resources(&st.db.conn, Actor::User(p)).await?;
    let name_of = |id: i64| {
        all.iter()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let rows = all
        .iter()
        .map(|r| Row {
            id: r.id,
            name: r.name.clone(),
            kind: match r.parent_id {
                Some(h) => format!("{} ({})", kind_label(t, &r.kind), name_of(h)),
                None => kind_label(t, &r.kind),
            },
            capacity: r.capacity.map(|c| c.to_string()).unwrap_or_default(),
            approval: r.requires_approval,
            active: r.active,
        })
        .collect();
    let halls = all
        .iter()
        .filter(|r| r.kind == service::HALL)
        .cloned()
        .collect();
    let failed = errs.any();
    respond(
        page(ListTpl {
            l: layout(st, ctx, "booking.title"),
            rows,
            can_manage: p.has(MANAGE),
            halls,
            kinds: service::KINDS
                .iter()
                .map(|k| (*k, kind_label(t, k)))
                .collect(),
            errs,
            f,
        }),
        failed,
    )
}

async fn list(State(st): State<AppState>, Staff(ctx, p): Staff) -> Result<Response, HtmlError> {
    let errs = FormErrors::none(catalog(ctx.lang));
    render_list(&st, &ctx, &p, ResourceForm::default(), errs).await
}

/// Parses an optional whole number; `None` for an empty field.
fn optional_number(errs: &mut FieldErrors, field: &str, v: &str) -> Option<i32> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.add(field, "booking.err.number");
            None
        }
    }
}

async fn create_resource(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<ResourceForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let mut errs = FieldErrors::new();
    let capacity = optional_number(&mut errs, "capacity", &f.capacity);
    let parent_id = match f.parent_id.trim() {
        "" => None,
        v => match v.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                errs.add("parent_id", "err.invalid_choice");
                None
            }
        },
    };
    let result = if errs.is_empty() {
        let mut inp = service::ResourceInput::new(&f.name, &f.kind);
        inp.parent_id = parent_id;
        inp.capacity = capacity;
        inp.requires_approval = f.approval();
        service::create_resource(&st.db.conn, Actor::User(&p), inp).await
    } else {
        // Also report an empty name now, not only after the number is fixed.
        errs.text("name", &f.name, 200);
        Err(Error::Invalid(errs))
    };
    match result {
        Ok(_) => Ok(Redirect::to("/buchung?notice=booking_resource_created").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_list(&st, &ctx, &p, f, errs).await
        }
    }
}

// ------------------------------------------------------------------ one resource, its week

#[derive(Deserialize, Default)]
pub struct WeekQuery {
    #[serde(default)]
    woche: String,
    /// Prefill of the booking form (links from the free-slot search and the day view).
    #[serde(default)]
    datum: String,
    #[serde(default)]
    von: String,
    #[serde(default)]
    bis: String,
}

/// The Monday of an ISO week written `2026-W48`.
pub fn parse_week(s: &str) -> Option<NaiveDate> {
    let (y, w) = s.trim().split_once("-W")?;
    NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)
}

/// `2026-W48` for the ISO week containing `d`.
pub fn week_param(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

#[derive(Deserialize, Default, Clone)]
pub struct BookingForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    title: String,
    /// "" = for oneself, else the id of one's organisation.
    #[serde(default)]
    organisation_id: String,
    /// "" = once, "weekly" = every week on this weekday until `until`.
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    until: String,
    /// Checkbox: leave out weeks that fall on a blackout (school holidays).
    #[serde(default)]
    skip_blackouts: Option<String>,
    /// Equipment checkboxes, `equipment_<id>=on` (a form cannot send a list to serde here).
    #[serde(flatten)]
    extra: std::collections::BTreeMap<String, String>,
}

impl BookingForm {
    fn org_selected(&self, id: &i64) -> bool {
        self.organisation_id.trim() == id.to_string()
    }
    fn weekly(&self) -> bool {
        self.repeat == "weekly"
    }
    fn equipment_checked(&self, id: &i64) -> bool {
        self.extra.contains_key(&format!("equipment_{id}"))
    }
    /// The ids of the checked equipment; a malformed id is simply not one.
    fn equipment(&self) -> Vec<i64> {
        self.extra
            .keys()
            .filter_map(|k| k.strip_prefix("equipment_")?.parse().ok())
            .collect()
    }
    fn date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d").ok()
    }
}

fn parse_time(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveTime> {
    let v = v.trim();
    if v.is_empty() {
        errs.add(field, "err.required");
        return None;
    }
    let t = NaiveTime::parse_from_str(v, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(v, "%H:%M:%S"))
        .ok();
    if t.is_none() {
        errs.add(field, "booking.err.time_invalid");
    }
    t
}

/// The form's local date and times as a reservation input (start and end on the same day).
pub fn to_input(resource_id: i64, f: &BookingForm) -> Result<ReservationInput, FieldErrors> {
    let mut errs = FieldErrors::new();
    let date = if f.date.trim().is_empty() {
        errs.add("date", "err.required");
        None
    } else {
        let d = f.date();
        if d.is_none() {
            errs.add("date", "booking.err.date_invalid");
        }
        d
    };
    let start = parse_time(&mut errs, "start", &f.start);
    let end = parse_time(&mut errs, "end", &f.end);
    let start = date
        .zip(start)
        .and_then(|(d, t)| local_to_utc(&mut errs, "start", d.and_time(t)));
    let end = date
        .zip(end)
        .and_then(|(d, t)| local_to_utc(&mut errs, "end", d.and_time(t)));
    if let (Some(s), Some(e)) = (start, end) {
        if e == s {
            errs.add("end", "booking.err.zero_length");
        } else if e < s {
            errs.add("end", "booking.err.end_before_start");
        }
    }
    errs.text("title", &f.title, 200);
    let organisation_id = match f.organisation_id.trim() {
        "" => None,
        v => v
            .parse()
            .map_err(|_| errs.add("organisation_id", "err.invalid_choice"))
            .ok(),
    };
    match (start, end) {
        (Some(start), Some(end)) if errs.is_empty() => Ok(ReservationInput {
            resource_id,
            title: f.title.clone(),
            start,
            end,
            organisation_id,
        }),
        _ => Err(errs),
    }
}

/// The weekly series the form asks for (after `to_input` accepted the first occurrence).
fn to_series(f: &BookingForm, first: &ReservationInput) -> Result<SeriesInput, FieldErrors> {
    let mut errs = FieldErrors::new();
    let until = match f.until.trim() {
        "" => {
            errs.add("until", "booking.series_form.until_required");
            None
        }
        v => {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
            if d.is_none() {
                errs.add("until", "booking.err.date_invalid");
            }
            d
        }
    };
    let local = first.start.with_timezone(&Berlin).naive_local();
    match until {
        Some(u) if u <= local.date() => {
            errs.add("until", "booking.series_form.until_after");
            Err(errs)
        }
        Some(u) if errs.is_empty() => Ok(SeriesInput {
            resource_id: first.resource_id,
            title: first.title.clone(),
            dtstart_local: local,
            duration_minutes: i32::try_from((first.end - first.start).num_minutes())
                .unwrap_or(i32::MAX),
            rrule: format!("FREQ=WEEKLY;UNTIL={}", u.format("%Y%m%d")),
            exdates: Vec::new(),
            skip_blackouts: f.skip_blackouts.is_some(),
            organisation_id: first.organisation_id,
        }),
        _ => Err(errs),
    }
}

struct Slot {
    day: String,
    start: String,
    end: String,
    status: String,
    /// The hall or hall part whose reservation blocks this resource; empty for its own.
    via: String,
}

struct WeekLink {
    label: String,
    href: String,
}

#[derive(Template)]
#[template(path = "booking/resource.html")]
struct ResourceTpl {
    l: Layout,
    r: Resource,
    kind: String,
    hall: String,
    caption: String,
    slots: Vec<Slot>,
    prev: WeekLink,
    next: WeekLink,
    current: WeekLink,
    can_book: bool,
    can_manage: bool,
    /// The organisations the user may book for (id, name).
    orgs: Vec<(i64, String)>,
    /// Equipment bookable along with this resource.
    equipment: Vec<Resource>,
    /// Thumbnails (id, alt text), linking to the full photos.
    photos: Vec<(i64, String)>,
    /// Opening hours per weekday (label, hours or "geschlossen"); empty = around the clock.
    hours: Vec<(String, String)>,
    /// Fee per hour for each group that pays (label, amount).
    fees: Vec<(String, String)>,
    bookable_by: String,
    action: String,
    errs: FormErrors,
    f: BookingForm,
    /// The overlap message and the slots in the way, after a refused booking.
    conflict: Option<(String, Vec<String>)>,
    /// An error about the resource itself (e.g. not bookable at the moment).
    general: Option<String>,
}

fn weekday(t: &Catalog, d: NaiveDate) -> &str {
    t.get(match d.weekday() {
        chrono::Weekday::Mon => "booking.day.mon",
        chrono::Weekday::Tue => "booking.day.tue",
        chrono::Weekday::Wed => "booking.day.wed",
        chrono::Weekday::Thu => "booking.day.thu",
        chrono::Weekday::Fri => "booking.day.fri",
        chrono::Weekday::Sat => "booking.day.sat",
        chrono::Weekday::Sun => "booking.day.sun",
    })
}

fn day_label(t: &Catalog, d: NaiveDate) -> String {
    format!("{}, {}", weekday(t, d), d.format("%d.%m.%Y"))
}

/// One slot as text, e.g. `Mi, 25.11.2026, 18:00–20:00 (bestätigt)`.
fn slot_text(t: &Catalog, b: &Busy) -> String {
    let (s, e) = (b.start.with_timezone(&Berlin), b.end.with_timezone(&Berlin));
    let end = if e.date_naive() == s.date_naive() {
        e.format("%H:%M").to_string()
    } else {
        format!("{} {}", day_label(t, e.date_naive()), e.format("%H:%M"))
    };
    format!(
        "{}, {}–{} ({})",
        day_label(t, s.date_naive()),
        s.format("%H:%M"),
        end,
        status_label(t, &b.status)
    )
}

struct Shown {
    f: BookingForm,
    errs: FormErrors,
    conflict: Option<Vec<Busy>>,
    /// Monday of the week to show.
    monday: NaiveDate,
}

async fn render_resource(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    r: Resource,
    s: Shown,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let monday = s.monday;
    let sunday = monday + Duration::days(6);
    let from = midnight_utc(monday);
    let to = midnight_utc(monday + Duration::days(7));
    let busy =
        service::availability(&st.db.conn, Actor::User(p), ResourceId(r.id), from, to).await?;
    let orgs = my_organisation_choices(&st.db.conn, Actor::User(p)).await?;
    let equipment = service::equipment_for(&st.db.conn, Actor::User(p), &r).await?;
    let photos = crate::service::photos::list(&st.db.conn, Actor::User(p), ResourceId(r.id))
        .await?
        .1
        .into_iter()
        .map(|x| (x.id, x.alt_text))
        .collect();
    let all = service::list_resources(&st.db.conn, Actor::User(p)).await?;
    let name_of = |id: i64| {
        all.iter()
            .find(|x| x.id == id)
            .map(|x| x.name.clone())
            .unwrap_or_default()
    };
    let slots = busy
        .iter()
        .map(|b| {
            let (s, e) = (b.start.with_timezone(&Berlin), b.end.with_timezone(&Berlin));
            Slot {
                day: day_label(t, s.date_naive()),
                start: s.format("%H:%M").to_string(),
                end: if e.date_naive() == s.date_naive() {
                    e.format("%H:%M").to_string()
                } else {
                    format!("{} {}", e.format("%d.%m.%Y"), e.format("%H:%M"))
                },
                status: status_label(t, &b.status),
                via: if b.resource_id == r.id {
                    String::new()
                } else {
                    name_of(b.resource_id)
                },
            }
        })
        .collect();
    let link = |d: NaiveDate, key: &str| WeekLink {
        label: t.get(key).to_string(),
        href: format!("/buchung/{}?woche={}", r.id, week_param(d)),
    };
    let caption = t
        .fmt(
            "booking.week.caption",
            &monday.iso_week().week().to_string(),
        )
        .replace("{from}", &monday.format("%d.%m.%Y").to_string())
        .replace("{to}", &sunday.format("%d.%m.%Y").to_string());
    let failed = s.errs.any();
    let status = match (&s.conflict, failed) {
        (Some(_), _) => Some(axum::http::StatusCode::CONFLICT),
        (None, true) => Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY),
        _ => None,
    };
    let tpl = ResourceTpl {
        l: layout(st, ctx, "booking.title").with_title(r.name.clone()),
        kind: kind_label(t, &r.kind),
        hall: r.parent_id.map(name_of).unwrap_or_default(),
        caption,
        slots,
        prev: link(monday - Duration::days(7), "booking.week.prev"),
        next: link(monday + Duration::days(7), "booking.week.next"),
        current: link(today(), "booking.week.current"),
        can_book: p.has(BOOK)
            || p.has(MANAGE)
            || r.bookable_by == rules::PUBLIC
            || (r.bookable_by == rules::ORGANISATIONS && !orgs.is_empty()),
        can_manage: p.has(MANAGE),
        orgs,
        equipment,
        photos,
        hours: rules::opening_hours(&r)
            .map(|w| {
                crate::http::pages::edit::DAYS
                    .iter()
                    .zip(w)
                    .map(|(d, h)| {
                        let v = match h {
                            Some(_) => rules::format_day_hours(h),
                            None => t.get("booking.facts.closed").to_string(),
                        };
                        (t.get(&format!("booking.edit.day_{d}")).to_string(), v)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        fees: rules::FEE_GROUPS
            .iter()
            .filter_map(|g| {
                let c = *rules::fee_schedule(&r).get(*g)?;
                (c > 0).then(|| {
                    (
                        t.get(&format!("booking.edit.group_{g}")).to_string(),
                        crate::service::notify::euros(c),
                    )
                })
            })
            .collect(),
        bookable_by: t
            .get(&format!("booking.edit.bookable_{}", r.bookable_by))
            .to_string(),
        action: format!("/buchung/{}", r.id),
        general: s.errs.msg("resource_id"),
        errs: s.errs,
        f: s.f,
        conflict: s.conflict.map(|c| {
            (
                t.get(service::CONFLICT_KEY).to_string(),
                c.iter().map(|b| slot_text(t, b)).collect(),
            )
        }),
        r,
    };
    let mut res = page(tpl)?;
    if let Some(code) = status {
        *res.status_mut() = code;
    }
    Ok(res)
}

/// A refused occurrence of a weekly series: the service names the day (on `rrule`) and the
/// rule it broke (on `start`/`end`, e.g. a blackout). The form has no rule field and the
/// first date is fine, so both go beside "Wiederholen bis" as one message naming the day.
fn series_error(t: &Catalog, e: Error) -> Error {
    let Error::Invalid(f) = e else {
        return e;
    };
    let Some(day) =
        f.0.iter()
            .find(|x| x.field == "rrule" && x.key == "booking.series.err.occurrence_refused")
            .and_then(|x| x.arg.clone())
    else {
        return Error::Invalid(f);
    };
    let reasons: Vec<String> =
        f.0.iter()
            .filter(|x| x.field != "rrule")
            .map(|x| match &x.arg {
                Some(a) => t.fmt(&x.key, a),
                None => t.get(&x.key).to_string(),
            })
            .collect();
    let mut out = FieldErrors::new();
    out.add_arg(
        "until",
        "booking.series_form.occurrence_refused",
        Some(format!("{day} Uhr: {}", reasons.join(" "))),
    );
    Error::Invalid(out)
}

async fn show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, HtmlError> {
    let r = service::get_resource(&st.db.conn, Actor::User(&p), ResourceId(parse_id(&id)?)).await?;
    let now = today();
    let asked = NaiveDate::parse_from_str(q.datum.trim(), "%Y-%m-%d").ok();
    let monday = parse_week(&q.woche)
        .or(asked.map(monday_of))
        .unwrap_or_else(|| monday_of(now));
    // The form suggests the asked day, else the first day of the shown week still ahead.
    let date = asked.unwrap_or(if monday > now { monday } else { now });
    let hhmm = |v: &str| {
        NaiveTime::parse_from_str(v.trim(), "%H:%M")
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let f = BookingForm {
        date: date.format("%Y-%m-%d").to_string(),
        start: hhmm(&q.von),
        end: hhmm(&q.bis),
        ..Default::default()
    };
    let shown = Shown {
        f,
        errs: FormErrors::none(catalog(ctx.lang)),
        conflict: None,
        monday,
    };
    render_resource(&st, &ctx, &p, r, shown).await
}

async fn reserve(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<BookingForm>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let r = service::get_resource(&st.db.conn, Actor::User(&p), ResourceId(parse_id(&id)?)).await?;
    // On an error the page shows the week of the requested day.
    let monday = monday_of(f.date().unwrap_or_else(today));
    let input = to_input(r.id, &f).and_then(|first| {
        if f.weekly() && !f.equipment().is_empty() {
            let mut errs = FieldErrors::new();
            errs.add("equipment", "booking.series_form.equipment_once");
            Err(errs)
        } else if f.weekly() {
            to_series(&f, &first).map(|s| (first, Some(s)))
        } else {
            Ok((first, None))
        }
    });
    let (errs, conflict) = match input {
        Err(errs) => (FormErrors::new(t, errs), None),
        Ok((_, Some(series))) => {
            match crate::service::series::reserve_series(&st.db.conn, Actor::User(&p), series).await
            {
                Ok((s, _)) => {
                    return Ok(Redirect::to(&format!(
                        "/buchung/serien/{}?notice=booking_series_created",
                        s.id
                    ))
                    .into_response());
                }
                Err(ReserveError::Conflict(busy)) => (FormErrors::none(t), Some(busy)),
                Err(ReserveError::Other(e)) => {
                    (FormErrors::from_error(t, series_error(t, e))?, None)
                }
            }
        }
        Ok((inp, None)) => {
            match service::reserve_with_equipment(&st.db.conn, Actor::User(&p), inp, &f.equipment())
                .await
                .map(|mut all| all.remove(0))
            {
                Ok(res) => {
                    let day = res.starts_at.with_timezone(&Berlin).date_naive();
                    let notice = if res.status == service::REQUESTED {
                        "booking_requested"
                    } else {
                        "booking_confirmed"
                    };
                    let to = format!(
                        "/buchung/{}?woche={}&notice={notice}",
                        r.id,
                        week_param(day)
                    );
                    return Ok(Redirect::to(&to).into_response());
                }
                Err(ReserveError::Conflict(busy)) => (FormErrors::none(t), Some(busy)),
                Err(ReserveError::Other(e)) => (FormErrors::from_error(t, e)?, None),
            }
        }
    };
    let shown = Shown {
        f,
        errs,
        conflict,
        monday,
    };
    render_resource(&st, &ctx, &p, r, shown).await
}

// ------------------------------------------------------------------ approval queue

struct RequestRow {
    id: i64,
    resource: String,
    time: String,
    title: String,
}

struct SeriesRow {
    id: i64,
    title: String,
    resource: String,
    rule: String,
}

#[derive(Deserialize, Default)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
}

/// A refused decision: the row it concerns (for errors beside its reason field) and what
/// was typed.
struct Failed {
    id: i64,
    errs: FormErrors,
    reason: String,
}

#[derive(Template)]
#[template(path = "booking/queue.html")]
struct QueueTpl {
    l: Layout,
    rows: Vec<RequestRow>,
    /// Series waiting for a decision (decided as a whole on the series page).
    series_rows: Vec<SeriesRow>,
    /// Link to the next page of single requests.
    next: Option<String>,
    /// Not the first page (offers a link back to it).
    paged: bool,
    failed: Option<Failed>,
    /// A refusal about a whole request (decided already, or its slot taken meanwhile).
    general: Option<(String, Vec<String>)>,
}

impl QueueTpl {
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

async fn render_queue(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    failed: Option<Failed>,
    general: Option<(String, Vec<String>)>,
    status: Option<axum::http::StatusCode>,
    after: Option<(DateTime<Utc>, i64)>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (requests, next) = service::list_requests_page(&st.db.conn, Actor::User(p), after).await?;
    let series = crate::service::series::pending_series(&st.db.conn, Actor::User(p)).await?;
    let all = service::list_resources(&st.db.conn, Actor::User(p)).await?;
    let name_of = |id: i64| {
        all.iter()
            .find(|x| x.id == id)
            .map(|x| x.name.clone())
            .unwrap_or_default()
    };
    let series_rows = series
        .iter()
        .map(|s| SeriesRow {
            id: s.id,
            title: s.title.clone(),
            resource: name_of(s.resource_id),
            rule: crate::service::series::describe(t, s),
        })
        .collect();
    let rows = requests
        .iter()
        .map(|r| RequestRow {
            id: r.id,
            resource: all
                .iter()
                .find(|x| x.id == r.resource_id)
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            time: slot_text(t, &Busy::from(r)),
            title: r.title.clone(),
        })
        .collect();
    let tpl = QueueTpl {
        l: layout(st, ctx, "booking.queue.title"),
        rows,
        series_rows,
        next: next.map(|(t, id)| format!("/buchung/anfragen?nach={}_{id}", t.timestamp())),
        paged: after.is_some(),
        failed,
        general,
    };
    let mut res = page(tpl)?;
    if let Some(code) = status {
        *res.status_mut() = code;
    }
    Ok(res)
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    /// Keyset of the page: `<unix seconds>_<id>` of the last row of the page before.
    #[serde(default)]
    nach: String,
}

/// Parses the queue's keyset; anything else means the first page.
fn parse_after(s: &str) -> Option<(DateTime<Utc>, i64)> {
    let (t, id) = s.split_once('_')?;
    Some((
        DateTime::from_timestamp(t.parse().ok()?, 0)?,
        id.parse().ok()?,
    ))
}

async fn queue(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<QueueQuery>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    render_queue(&st, &ctx, &p, None, None, None, parse_after(&q.nach)).await
}

async fn approve(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let general =
        match service::approve(&st.db.conn, Actor::User(&p), ReservationId(parse_id(&id)?)).await {
            Ok(_) => {
                return Ok(
                    Redirect::to("/buchung/anfragen?notice=booking_approved").into_response()
                );
            }
            Err(ReserveError::Conflict(busy)) => (
                t.get(service::CONFLICT_KEY).to_string(),
                busy.iter().map(|b| slot_text(t, b)).collect(),
            ),
            Err(ReserveError::Other(Error::Conflict(key))) => (t.get(&key).to_string(), vec![]),
            Err(ReserveError::Other(e)) => return Err(e.into()),
        };
    let code = Some(axum::http::StatusCode::CONFLICT);
    render_queue(&st, &ctx, &p, None, Some(general), code, None).await
}

async fn reject(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<RejectForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let id = parse_id(&id)?;
    match service::reject(&st.db.conn, Actor::User(&p), ReservationId(id), &f.reason).await {
        Ok(_) => Ok(Redirect::to("/buchung/anfragen?notice=booking_rejected").into_response()),
        Err(Error::Conflict(key)) => {
            let general = Some((t.get(&key).to_string(), vec![]));
            let code = Some(axum::http::StatusCode::CONFLICT);
            render_queue(&st, &ctx, &p, None, general, code, None).await
        }
        Err(e) => {
            let failed = Failed {
                id,
                errs: FormErrors::from_error(t, e)?,
                reason: f.reason,
            };
            let code = Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            render_queue(&st, &ctx, &p, Some(failed), None, code, None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(date: &str, start: &str, end: &str) -> BookingForm {
        BookingForm {
            date: date.into(),
            start: start.into(),
            end: end.into(),
            title: "Training".into(),
            ..Default::default()
        }
    }

    #[test]
    fn weeks_are_iso_weeks() {
        let m = parse_week("2026-W48").unwrap();
        assert_eq!(m, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(week_param(m + Duration::days(6)), "2026-W48");
        assert_eq!(
            week_param(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            "2026-W53"
        );
        assert!(parse_week("2026-W60").is_none());
        assert!(parse_week("nonsense").is_none());
    }

    #[test]
    fn autumn_change_keeps_the_real_duration() {
        let inp = to_input(1, &form("2026-10-25", "01:00", "04:00")).unwrap();
        assert_eq!(inp.end - inp.start, Duration::hours(4));
        assert_eq!(inp.start.to_rfc3339(), "2026-10-24T23:00:00+00:00");
    }

    #[test]
    fn skipped_and_repeated_local_times_are_refused() {
        let e = to_input(1, &form("2026-03-29", "02:30", "04:00")).unwrap_err();
        assert_eq!(e.get("start").unwrap().key, "booking.err.local_gap");
        let e = to_input(1, &form("2026-10-25", "01:00", "02:30")).unwrap_err();
        assert_eq!(e.get("end").unwrap().key, "booking.err.local_ambiguous");
    }

    #[test]
    fn both_locale_files_have_the_same_keys() {
        fn keys(src: &str) -> std::collections::BTreeSet<String> {
            fn walk(p: &str, t: &toml::Table, out: &mut std::collections::BTreeSet<String>) {
                for (k, v) in t {
                    let key = if p.is_empty() {
                        k.clone()
                    } else {
                        format!("{p}.{k}")
                    };
                    match v {
                        toml::Value::Table(t) => walk(&key, t, out),
                        _ => {
                            out.insert(key);
                        }
                    }
                }
            }
            let mut out = Default::default();
            walk("", &src.parse().unwrap(), &mut out);
            out
        }
        assert_eq!(
            keys(include_str!("../../../locales/de.toml")),
            keys(include_str!("../../../locales/en.toml"))
        );
    }
}
