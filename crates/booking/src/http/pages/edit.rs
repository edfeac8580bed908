//! The resource edit page `/buchung/{id}/bearbeiten` (permission `booking.manage`): every
//! property of a resource — description, address, accessibility, opening hours per weekday,
//! who may book, approval, durations, horizon, buffer, fees per group, cancellation deadline.

use crate::domain::ResourceId;
use crate::http::MANAGERS;
use rathaus_store::uow::Actor;
use rathaus_web::Routes;

use crate::domain::FeeGroup;
use crate::service::rules::{self, FEE_GROUPS, Week};
use crate::service::{self, MANAGE, Resource};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
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
        .get("/buchung/{id}/bearbeiten", MANAGERS, show)
        .post("/buchung/{id}/bearbeiten", MANAGERS, save)
}

/// Weekday keys Monday..Sunday (translations `booking.day.*`, field names `hours_*`).
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Deserialize, Default, Clone)]
pub struct EditForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub capacity: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub accessibility: String,
    #[serde(default)]
    pub bookable_by: String,
    #[serde(default)]
    pub requires_approval: Option<String>,
    #[serde(default)]
    pub active: Option<String>,
    #[serde(default)]
    pub min_minutes: String,
    #[serde(default)]
    pub max_minutes: String,
    #[serde(default)]
    pub buffer_minutes: String,
    #[serde(default)]
    pub horizon_days: String,
    #[serde(default)]
    pub cancel_hours: String,
    #[serde(default)]
    pub hours_mon: String,
    #[serde(default)]
    pub hours_tue: String,
    #[serde(default)]
    pub hours_wed: String,
    #[serde(default)]
    pub hours_thu: String,
    #[serde(default)]
    pub hours_fri: String,
    #[serde(default)]
    pub hours_sat: String,
    #[serde(default)]
    pub hours_sun: String,
    #[serde(default)]
    pub fee_staff: String,
    #[serde(default)]
    pub fee_school: String,
    #[serde(default)]
    pub fee_club: String,
    #[serde(default)]
    pub fee_other: String,
    #[serde(default)]
    pub fee_citizen: String,
}

impl EditForm {
    fn hours(&self) -> [&String; 7] {
        [
            &self.hours_mon,
            &self.hours_tue,
            &self.hours_wed,
            &self.hours_thu,
            &self.hours_fri,
            &self.hours_sat,
            &self.hours_sun,
        ]
    }
    fn fees(&self) -> [&String; 5] {
        [
            &self.fee_staff,
            &self.fee_school,
            &self.fee_club,
            &self.fee_other,
            &self.fee_citizen,
        ]
    }
    fn is_bookable_by(&self, v: &str) -> bool {
        self.bookable_by == v
    }

    fn from_resource(r: &Resource) -> Self {
        let w = rules::opening_hours(r);
        let day = |i: usize| {
            w.map(|w| rules::format_day_hours(w[i]).replace('–', "-"))
                .unwrap_or_default()
        };
        let fees = rules::fee_schedule(r);
        let fee = |g: &str| {
            fees.get(g)
                .map(|c| crate::formats::fees::euros(*c))
                .unwrap_or_default()
        };
        EditForm {
            name: r.name.clone(),
            capacity: r.capacity.map(|c| c.to_string()).unwrap_or_default(),
            address: r.address.clone(),
            description: r.description.clone(),
            accessibility: r.accessibility.clone(),
            bookable_by: r.bookable_by.clone(),
            requires_approval: r.requires_approval.then(|| "on".into()),
            active: r.active.then(|| "on".into()),
            min_minutes: r.min_minutes.to_string(),
            max_minutes: r.max_minutes.to_string(),
            buffer_minutes: r.buffer_minutes.to_string(),
            horizon_days: r.horizon_days.to_string(),
            cancel_hours: r.cancel_hours.to_string(),
            hours_mon: day(0),
            hours_tue: day(1),
            hours_wed: day(2),
            hours_thu: day(3),
            hours_fri: day(4),
            hours_sat: day(5),
            hours_sun: day(6),
            fee_staff: fee(FeeGroup::Staff.as_str()),
            fee_school: fee(FeeGroup::School.as_str()),
            fee_club: fee(FeeGroup::Club.as_str()),
            fee_other: fee(FeeGroup::Other.as_str()),
            fee_citizen: fee(FeeGroup::Citizen.as_str()),
        }
    }

    /// The service input, or the field errors of what cannot even be parsed.
    fn to_input(&self, r: &Resource) -> Result<service::ResourceInput, FieldErrors> {
        let mut errs = FieldErrors::new();
        let mut inp = service::ResourceInput::new(&self.name, &r.kind);
        inp.parent_id = r.parent_id;
        inp.room_id = r.room_id;
        inp.capacity = number(&mut errs, "capacity", &self.capacity);
        inp.address = self.address.clone();
        inp.description = self.description.clone();
        inp.accessibility = self.accessibility.clone();
        inp.bookable_by = self.bookable_by.clone();
        inp.requires_approval = self.requires_approval.is_some();
        inp.active = self.active.is_some();
        let mut req = |field: &str, v: &str| {
            number(&mut errs, field, v).unwrap_or_else(|| {
                if v.trim().is_empty() {
                    errs.add(field, "err.required");
                }
                0
            })
        };
        inp.min_minutes = req("min_minutes", &self.min_minutes);
        inp.max_minutes = req("max_minutes", &self.max_minutes);
        inp.buffer_minutes = req("buffer_minutes", &self.buffer_minutes);
        inp.horizon_days = req("horizon_days", &self.horizon_days);
        inp.cancel_hours = req("cancel_hours", &self.cancel_hours);
        let mut week: Week = [None; 7];
        for (i, v) in self.hours().iter().enumerate() {
            match rules::parse_day_hours(v) {
                Some(d) => week[i] = d,
                None => errs.add(&format!("hours_{}", DAYS[i]), "booking.edit.hours_invalid"),
            }
        }
        inp.opening_hours = week.iter().any(Option::is_some).then_some(week);
        for (g, v) in FEE_GROUPS.iter().zip(self.fees()) {
            match parse_euros(v) {
                Some(Some(c)) => {
                    inp.fee_schedule.insert(g.to_string(), c);
                }
                Some(None) => {}
                None => errs.add(&format!("fee_{g}"), "booking.edit.fee_invalid"),
            }
        }
        if errs.is_empty() { Ok(inp) } else { Err(errs) }
    }
}

fn number(errs: &mut FieldErrors, field: &str, v: &str) -> Option<i32> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    v.parse()
        .map_err(|_| errs.add(field, "booking.err.number"))
        .ok()
}

/// "12,50" or "12.50" or "12" euros -> Some(Some(cents)); "" -> Some(None); None when the
/// text is no amount.
pub fn parse_euros(v: &str) -> Option<Option<i64>> {
    let v = v.trim().trim_end_matches('€').trim().replace(',', ".");
    if v.is_empty() {
        return Some(None);
    }
    let (whole, frac) = v.split_once('.').unwrap_or((&v, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || frac.len() > 2 || !digits(whole) || !digits(frac) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac).map(Some)
}

#[derive(Template)]
#[template(path = "booking/edit.html")]
struct EditTpl {
    l: Layout,
    r: Resource,
    f: EditForm,
    errs: FormErrors,
    days: Vec<(String, String, String)>,
    fees: Vec<(String, String, String)>,
    bookable: Vec<(&'static str, String)>,
}

fn render(
    st: &AppState,
    ctx: &Ctx,
    r: Resource,
    f: EditForm,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let days = DAYS
        .iter()
        .zip(f.hours())
        .map(|(d, v)| {
            (
                format!("hours_{d}"),
                t.get(&format!("booking.edit.day_{d}")).to_string(),
                v.clone(),
            )
        })
        .collect();
    let fees = FEE_GROUPS
        .iter()
        .zip(f.fees())
        .map(|(g, v)| {
            (
                format!("fee_{g}"),
                t.get(&format!("booking.edit.group_{g}")).to_string(),
                v.clone(),
            )
        })
        .collect();
    let bookable = rules::BOOKABLE_BY
        .iter()
        .map(|b| (*b, t.get(&format!("booking.edit.bookable_{b}")).to_string()))
        .collect();
    let failed = errs.any();
    respond(
        page(EditTpl {
            l: layout(st, ctx, "booking.edit.title").with_title(format!(
                "{} – {}",
                t.get("booking.edit.title"),
                r.name
            )),
            r,
            f,
            errs,
            days,
            fees,
            bookable,
        }),
        failed,
    )
}

async fn load(st: &AppState, p: &Principal, id: &str) -> Result<Resource, Error> {
    p.require(MANAGE)?;
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    service::get_resource(&st.db.conn, Actor::User(p), ResourceId(id)).await
}

async fn show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let r = load(&st, &p, &id).await?;
    let f = EditForm::from_resource(&r);
    render(&st, &ctx, r, f, FormErrors::none(catalog(ctx.lang)))
}

async fn save(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<EditForm>,
) -> Result<Response, HtmlError> {
    let r = load(&st, &p, &id).await?;
    let t = catalog(ctx.lang);
    let result = match f.to_input(&r) {
        Ok(inp) => {
            service::update_resource(&st.db.conn, Actor::User(&p), ResourceId(r.id), inp).await
        }
        Err(errs) => Err(Error::Invalid(errs)),
    };
    match result {
        Ok(after) => Ok(Redirect::to(&format!(
            "/buchung/{}?notice=booking_resource_saved",
            after.id
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render(&st, &ctx, r, f, errs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_parse() {
        assert_eq!(parse_euros(""), Some(None));
        assert_eq!(parse_euros("12"), Some(Some(1200)));
        assert_eq!(parse_euros("12,5"), Some(Some(1250)));
        assert_eq!(parse_euros("0,05 €"), Some(Some(5)));
        assert!(parse_euros("-1").is_none());
        assert!(parse_euros("1,234").is_none());
        assert!(parse_euros("zwölf").is_none());
        assert_eq!(crate::formats::fees::euros(1250), "12,50");
    }
}
