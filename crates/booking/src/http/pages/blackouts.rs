//! Blackout pages (`/buchung/sperrzeiten`): list, add, delete, import from an .ics file.

use crate::domain::BlackoutId;
use crate::domain::holidays::HolidayChoice;
use crate::domain::{BlackoutSource, ResourceId};
use crate::service::blackouts::{
    LIST_LIMIT, MAX_ICS_BYTES, MAX_REASON, add_blackout, delete_blackout, holiday_calendar,
    import_ics, list_blackouts, local_days, take_over_holidays,
};
use rathaus_store::uow::Actor;

use crate::http::MANAGERS;
use axum::handler::Handler;
use rathaus_web::Routes;

pub use crate::domain::time::midnight_utc;
use crate::domain::time::today;
use crate::permissions::MANAGE;
use askama::Template;
use axum::Form;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use serde::Deserialize;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/buchung/sperrzeiten", MANAGERS, list)
        .post("/buchung/sperrzeiten", MANAGERS, add)
        .post("/buchung/sperrzeiten/{id}/loeschen", MANAGERS, delete)
        .post("/buchung/sperrzeiten/kalender", MANAGERS, take_over)
        // Room for a file of MAX_ICS_BYTES plus the multipart framing; anything larger fails
        // to read and is answered as too large.
        .post(
            "/buchung/sperrzeiten/import",
            MANAGERS,
            import.layer(DefaultBodyLimit::max(MAX_ICS_BYTES + 64 * 1024)),
        )
}

struct Row {
    id: i64,
    resource: String,
    from: String,
    to: String,
    reason: String,
    /// Translation key of where it came from.
    source: &'static str,
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

/// The take-over form: the holidays of the tenant's Land for one year.
#[derive(Deserialize, Default)]
pub struct CalendarForm {
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    public_holidays: Option<String>,
    #[serde(default)]
    school_holidays: Option<String>,
}

impl CalendarForm {
    /// As first shown: this year, both kinds ticked.
    fn fresh() -> Self {
        CalendarForm {
            resource_id: String::new(),
            year: today().year().to_string(),
            public_holidays: Some("on".into()),
            school_holidays: Some("on".into()),
        }
    }

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
    #[serde(default)]
    jahr: Option<i32>,
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
    cal: CalendarForm,
    cal_errs: FormErrors,
    /// The tenant's Land and the years with school holidays on record, for the form's text.
    land: String,
    school_years: String,
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
    cal: CalendarForm,
    cal_errs: FormErrors,
    done: Option<String>,
    from: NaiveDate,
}

impl Shown {
    fn new(t: &'static rathaus_web::i18n::Catalog, from: NaiveDate) -> Self {
        Shown {
            f: AddForm::default(),
            errs: FormErrors::none(t),
            import_errs: FormErrors::none(t),
            import_resource: String::new(),
            cal: CalendarForm::fresh(),
            cal_errs: FormErrors::none(t),
            done: None,
            from,
        }
    }
}

async fn render(st: &AppState, ctx: &Ctx, p: &Principal, s: Shown) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let items = list_blackouts(&st.db.conn, Actor::User(p), s.from).await?;
    let all = crate::service::list_resources(&st.db.conn, Actor::User(p)).await?;
    let cal = holiday_calendar(&st.db.conn, Actor::User(p)).await?;
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
                source: BlackoutSource::of(&b.source_uid).label_key(),
            }
        })
        .collect();
    let failed = s.errs.any() || s.import_errs.any() || s.cal_errs.any();
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
        cal: s.cal,
        cal_errs: s.cal_errs,
        land: t.get(&cal.land.name_key()).to_string(),
        school_years: match cal.school_years {
            Some(y) => t
                .get("booking.blackouts.calendar_school_years")
                .replace("{first}", &y.start().to_string())
                .replace("{last}", &y.end().to_string()),
            None => t.get("booking.blackouts.calendar_school_none").to_string(),
        },
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
        "uebernommen" => Some(
            t.get("booking.blackouts.done_calendar")
                .replace("{year}", &q.jahr.unwrap_or(0).to_string())
                .replace("{created}", &q.neu.unwrap_or(0).to_string())
                .replace("{updated}", &q.geaendert.unwrap_or(0).to_string())
                .replace("{unchanged}", &q.gleich.unwrap_or(0).to_string()),
        ),
        _ => None,
    };
    let shown = Shown {
        done,
        ..Shown::new(t, from)
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
            add_blackout(
                &st.db.conn,
                Actor::User(&p),
                resource_id.map(ResourceId),
                from,
                to,
                &f.reason,
            )
            .await
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
                f,
                errs: FormErrors::from_error(t, e)?,
                ..Shown::new(t, from.unwrap_or_else(today).min(today()))
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
    delete_blackout(&st.db.conn, Actor::User(&p), BlackoutId(id)).await?;
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
        import_ics(
            &st.db.conn,
            Actor::User(&p),
            resource_id.map(ResourceId),
            &data,
        )
        .await
    };
    match result {
        Ok(s) => Ok(Redirect::to(&format!(
            "/buchung/sperrzeiten?erledigt=importiert&neu={}&geaendert={}&gleich={}&uebersprungen={}",
            s.created, s.updated, s.unchanged, s.skipped
        ))
        .into_response()),
        Err(e) => {
            let shown = Shown {
                import_errs: FormErrors::from_error(t, e)?,
                import_resource: resource,
                ..Shown::new(t, today())
            };
            render(&st, &ctx, &p, shown).await
        }
    }
}

/// Takes over the public and/or school holidays of the tenant's Land for a year; bad input
/// shows the form again with what was typed.
async fn take_over(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<CalendarForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let mut errs = FieldErrors::new();
    let resource_id = parse_resource(&mut errs, &f.resource_id).map(ResourceId);
    let year = match f.year.trim().parse::<i32>() {
        Ok(y) => Some(y),
        Err(_) => {
            errs.add("year", "booking.blackouts.err.year_invalid");
            None
        }
    };
    let choice = HolidayChoice {
        public: f.public_holidays.is_some(),
        school: f.school_holidays.is_some(),
    };
    let result = match year {
        Some(year) if errs.is_empty() => {
            take_over_holidays(&st.db.conn, Actor::User(&p), resource_id, year, choice)
                .await
                .map(|s| (year, s))
        }
        _ => {
            if !choice.public && !choice.school {
                errs.add("which", "booking.blackouts.err.choose_holidays");
            }
            Err(Error::Invalid(errs))
        }
    };
    match result {
        Ok((year, s)) => Ok(Redirect::to(&format!(
            "/buchung/sperrzeiten?erledigt=uebernommen&jahr={year}&neu={}&geaendert={}&gleich={}",
            s.created, s.updated, s.unchanged
        ))
        .into_response()),
        Err(e) => {
            let shown = Shown {
                cal: f,
                cal_errs: FormErrors::from_error(t, e)?,
                ..Shown::new(t, today())
            };
            render(&st, &ctx, &p, shown).await
        }
    }
}
