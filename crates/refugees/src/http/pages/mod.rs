//! Staff pages under /unterbringung: dashboard, persons (list and record), accommodation
//! (rooms, beds, occupants), moving a household, and the import (upload → report → commit),
//! all working without JavaScript.

use askama::Template;
use axum::Form;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, State};
use axum::handler::Handler;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::uow::Actor;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::export::{Cell, Format, Table};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::{AppState, Routes};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::{DISCLOSERS, EDITORS, IMPORTERS, READERS};
use crate::domain::{Coded, ResidenceStatus};
use crate::service::imports::{self, MAX_FILE_BYTES};
use crate::service::persons::{self, PersonFilter, PersonView, Place};
use crate::service::places::{self, AccommodationDay, RoomView};
use crate::service::stats::{self, Dashboard};
use crate::service::{occupancy, today};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/unterbringung", READERS, dashboard)
        .get("/unterbringung/personen", READERS, person_list)
        .get("/unterbringung/personen/export", READERS, person_export)
        .get("/unterbringung/statistik", READERS, statistics_page)
        .get(
            "/unterbringung/statistik/export",
            READERS,
            statistics_export,
        )
        .get("/unterbringung/personen/{id}", READERS, person_page)
        .get(
            "/unterbringung/personen/{id}/bearbeiten",
            EDITORS,
            person_edit_form,
        )
        .post(
            "/unterbringung/personen/{id}/bearbeiten",
            EDITORS,
            person_edit_save,
        )
        .get(
            "/unterbringung/personen/{id}/auskunft",
            DISCLOSERS,
            person_disclosure,
        )
        .get(
            "/unterbringung/unterkuenfte/{id}",
            READERS,
            accommodation_page,
        )
        .get(
            "/unterbringung/unterkuenfte/{id}/belegungsliste",
            READERS,
            occupancy_list,
        )
        .get("/unterbringung/haushalte", READERS, household_list)
        .post(
            "/unterbringung/haushalte/{id}/umzug",
            EDITORS,
            move_household,
        )
        .get("/unterbringung/einstellungen", EDITORS, settings_page)
        .post("/unterbringung/einstellungen", EDITORS, settings_save)
        .get("/unterbringung/import", IMPORTERS, import_form)
        .post(
            "/unterbringung/import",
            IMPORTERS,
            import_upload.layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 256 * 1024)),
        )
        .post(
            "/unterbringung/import/uebernehmen",
            IMPORTERS,
            import_commit,
        )
}

fn date_of(s: &str) -> Option<NaiveDate> {
    let mut errs = FieldErrors::new();
    crate::service::parse_date(&mut errs, "d", s)
}

fn fmt_date(d: &Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------- dashboard

#[derive(Template)]
#[template(path = "refugees/dashboard.html")]
struct DashboardTpl {
    l: Layout,
    d: Dashboard,
    expiring_label: String,
    move_outs_label: String,
    on: String,
    total_now: (i64, i64, i64),
    total_at: (i64, i64, i64),
    rate: String,
    expiring_before: String,
    can_import: bool,
    can_edit: bool,
}

impl DashboardTpl {
    fn at_of(&self, id: &i64) -> Option<&AccommodationDay> {
        self.d.at.iter().find(|a| a.accommodation.id == *id)
    }
}

#[derive(Deserialize, Default)]
struct DashQuery {
    #[serde(default)]
    datum: String,
}

async fn dashboard(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<DashQuery>,
) -> Result<Response, HtmlError> {
    let on = date_of(&q.datum);
    let d = stats::dashboard(&st.db.conn, Actor::User(&p), p.tenant_id, on).await?;
    let total_now = Dashboard::total(&d.now);
    let total_at = Dashboard::total(&d.at);
    let rate = if total_now.0 > 0 {
        format!("{} %", total_now.1 * 100 / total_now.0)
    } else {
        "–".into()
    };
    page(DashboardTpl {
        l: layout(&st, &ctx, "refugees.dash.title"),
        on: d.on.format("%Y-%m-%d").to_string(),
        expiring_before: (d.today + chrono::Duration::days(d.expiry_days))
            .format("%Y-%m-%d")
            .to_string(),
        expiring_label: catalog(ctx.lang).fmt("refugees.dash.expiring", &d.expiry_days.to_string()),
        move_outs_label: catalog(ctx.lang).fmt(
            "refugees.dash.move_outs",
            &crate::service::reminders::SOON_DAYS.to_string(),
        ),
        can_import: p.has(crate::permissions::IMPORT),
        can_edit: p.has(crate::permissions::EDIT),
        total_now,
        total_at,
        rate,
        d,
    })
}

// ---------------------------------------------------------------- persons

struct Row {
    id: i64,
    name: String,
    place: String,
    status: String,
    valid_until: String,
    nationality: String,
}

#[derive(Template)]
#[template(path = "refugees/persons.html")]
struct PersonsTpl {
    l: Layout,
    rows: Vec<Row>,
    total: u64,
    f: PersonQuery,
    accommodations: Vec<(i64, String)>,
    statuses: Vec<(&'static str, String)>,
    residence: bool,
    social: bool,
    next: Option<String>,
    prev: Option<String>,
    /// The download link with the current filters (`&format=` is appended).
    export: String,
}

impl PersonsTpl {
    fn acc_selected(&self, id: &i64) -> bool {
        self.f.unterkunft.trim() == id.to_string()
    }
}

#[derive(Deserialize, Default, Clone)]
struct PersonQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    unterkunft: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    staatsangehoerigkeit: String,
    #[serde(default)]
    ablauf_vor: String,
    #[serde(default)]
    seite: Option<u64>,
}

impl PersonQuery {
    /// The list's filters; filters on data the reader may not see are ignored, not answered
    /// with an error page.
    fn filter(&self, v: crate::domain::Visibility) -> PersonFilter {
        let nonempty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        PersonFilter {
            q: self.q.clone(),
            accommodation_id: self.unterkunft.trim().parse().ok(),
            status: nonempty(&self.status)
                .filter(|s| v.residence && ResidenceStatus::parse(s).is_some()),
            nationality: nonempty(&self.staatsangehoerigkeit).filter(|_| v.residence || v.social),
            permit_expires_before: date_of(&self.ablauf_vor).filter(|_| v.residence),
            ..Default::default()
        }
    }

    /// The query string of the filters (without the page).
    fn query(&self) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        format!(
            "q={}&unterkunft={}&status={}&staatsangehoerigkeit={}&ablauf_vor={}",
            enc(&self.q),
            enc(&self.unterkunft),
            enc(&self.status),
            enc(&self.staatsangehoerigkeit),
            enc(&self.ablauf_vor)
        )
    }

    fn link(&self, page: u64) -> String {
        format!("/unterbringung/personen?{}&seite={page}", self.query())
    }
}

const PAGE: u64 = 50;

/// "Surname, given names", or the marker of a person anonymised after the deletion period.
fn display_name(t: &rathaus_web::i18n::Catalog, v: &PersonView) -> String {
    if v.anonymised {
        t.get("refugees.person.anonymised").to_string()
    } else {
        format!("{}, {}", v.surname, v.given_names)
    }
}

fn row(t: &rathaus_web::i18n::Catalog, v: PersonView) -> Row {
    Row {
        id: v.id,
        name: display_name(t, &v),
        place: v
            .place
            .as_ref()
            .map(|p| format!("{} · {}", p.accommodation, p.room))
            .unwrap_or_default(),
        status: v
            .residence
            .as_ref()
            .and_then(|r| ResidenceStatus::parse(&r.status))
            .map(|s| t.get(&s.label_key()).to_string())
            .unwrap_or_default(),
        valid_until: v
            .residence
            .as_ref()
            .map(|r| fmt_date(&r.valid_until))
            .unwrap_or_default(),
        nationality: v
            .residence
            .as_ref()
            .map(|r| r.nationality.clone())
            .or_else(|| v.social.as_ref().map(|s| s.nationality.clone()))
            .unwrap_or_default(),
    }
}

async fn person_list(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<PersonQuery>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let v = crate::service::visibility(Actor::User(&p));
    let page_no = q.seite.unwrap_or(1).clamp(1, 100_000);
    let f = PersonFilter {
        offset: (page_no - 1) * PAGE,
        limit: PAGE,
        ..q.filter(v)
    };
    let (list, total) =
        persons::list_persons(&st.db.conn, Actor::User(&p), p.tenant_id, &f).await?;
    let accs = places::accommodations_on(&st.db.conn, Actor::User(&p), p.tenant_id, today())
        .await?
        .into_iter()
        .map(|a| (a.accommodation.id, a.accommodation.name))
        .collect();
    page(PersonsTpl {
        l: layout(&st, &ctx, "refugees.persons.title"),
        export: format!("/unterbringung/personen/export?{}", q.query()),
        rows: list.into_iter().map(|x| row(t, x)).collect(),
        next: (page_no * PAGE < total).then(|| q.link(page_no + 1)),
        prev: (page_no > 1).then(|| q.link(page_no - 1)),
        total,
        accommodations: accs,
        statuses: ResidenceStatus::ALL
            .iter()
            .map(|s| (s.code(), t.get(&s.label_key()).to_string()))
            .collect(),
        residence: v.residence,
        social: v.social,
        f: q,
    })
}

#[derive(Template)]
#[template(path = "refugees/person.html")]
struct PersonTpl {
    l: Layout,
    v: PersonView,
    history: Vec<Place>,
    status: String,
    sex: String,
    needs: Vec<String>,
    can_disclose: bool,
    can_edit: bool,
    saved: bool,
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    #[serde(default)]
    gespeichert: String,
}

async fn person_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let t = catalog(ctx.lang);
    let (v, history) = persons::read_person(&st.db.conn, Actor::User(&p), p.tenant_id, id).await?;
    let status = v
        .residence
        .as_ref()
        .and_then(|r| ResidenceStatus::parse(&r.status))
        .map(|s| t.get(&s.label_key()).to_string())
        .unwrap_or_default();
    let sex = v
        .social
        .as_ref()
        .and_then(|s| crate::domain::Sex::parse(&s.sex))
        .map(|s| t.get(&s.label_key()).to_string())
        .unwrap_or_default();
    let needs = v
        .social
        .as_ref()
        .map(|s| {
            s.needs
                .iter()
                .map(|n| t.get(&n.label_key()).to_string())
                .collect()
        })
        .unwrap_or_default();
    let title = display_name(t, &v);
    page(PersonTpl {
        l: layout(&st, &ctx, "refugees.person.title").with_title(title),
        v,
        history,
        status,
        sex,
        needs,
        can_disclose: p.has(crate::permissions::DISCLOSE),
        can_edit: p.has(crate::permissions::EDIT),
        saved: !q.gespeichert.is_empty(),
    })
}

// ---------------------------------------------------------------- person edit

/// The edit form's fields as typed (kept as they are when the form comes back with errors).
/// Only the groups the editor may see are shown, and only those are taken from a post.
#[derive(Default)]
struct PersonForm {
    surname: String,
    given_names: String,
    birth_date: String,
    nationality: String,
    sex: String,
    languages: String,
    phone: String,
    needs: Vec<String>,
    notes: String,
    residence_status: String,
    residence_paragraph: String,
    permit_valid_until: String,
    allocation_date: String,
    allocation_ref: String,
    benefits_ref: String,
}

impl PersonForm {
    fn of(v: &PersonView) -> Self {
        let iso = |d: &Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let mut f = PersonForm {
            surname: v.surname.clone(),
            given_names: v.given_names.clone(),
            ..Default::default()
        };
        if let Some(s) = &v.social {
            f.birth_date = iso(&s.birth_date);
            f.nationality = s.nationality.clone();
            f.sex = s.sex.clone();
            f.languages = s.languages.clone();
            f.phone = s.phone.clone();
            f.needs = s.needs.iter().map(|n| n.code().to_string()).collect();
            f.notes = s.notes.clone();
        }
        if let Some(r) = &v.residence {
            f.birth_date = iso(&r.birth_date);
            f.nationality = r.nationality.clone();
            f.residence_status = r.status.clone();
            f.residence_paragraph = r.paragraph.clone();
            f.permit_valid_until = iso(&r.valid_until);
            f.allocation_date = iso(&r.allocation_date);
            f.allocation_ref = r.allocation_ref.clone();
            f.benefits_ref = r.benefits_ref.clone();
        }
        f
    }

    /// From the posted pairs (a checkbox list repeats its name).
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = PersonForm::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "surname" => &mut f.surname,
                "given_names" => &mut f.given_names,
                "birth_date" => &mut f.birth_date,
                "nationality" => &mut f.nationality,
                "sex" => &mut f.sex,
                "languages" => &mut f.languages,
                "phone" => &mut f.phone,
                "notes" => &mut f.notes,
                "residence_status" => &mut f.residence_status,
                "residence_paragraph" => &mut f.residence_paragraph,
                "permit_valid_until" => &mut f.permit_valid_until,
                "allocation_date" => &mut f.allocation_date,
                "allocation_ref" => &mut f.allocation_ref,
                "benefits_ref" => &mut f.benefits_ref,
                "needs" => {
                    f.needs.push(v);
                    continue;
                }
                _ => continue,
            };
            *slot = v;
        }
        f
    }

    /// The change for the service: the groups the editor sees, each field set (a field of a
    /// hidden group stays as stored). Unreadable dates go into `errs`.
    fn input(&self, v: crate::domain::Visibility, errs: &mut FieldErrors) -> persons::PersonInput {
        let date =
            |errs: &mut FieldErrors, f: &str, s: &str| Some(crate::service::parse_date(errs, f, s));
        let mut inp = persons::PersonInput {
            surname: Some(self.surname.clone()),
            given_names: Some(self.given_names.clone()),
            ..Default::default()
        };
        if v.social || v.residence {
            inp.birth_date = date(errs, "birth_date", &self.birth_date);
            inp.nationality = Some(self.nationality.clone());
        }
        if v.social {
            inp.sex = Some(self.sex.clone());
            inp.languages = Some(self.languages.clone());
            inp.phone = Some(self.phone.clone());
            inp.needs = Some(self.needs.clone());
            inp.notes = Some(self.notes.clone());
        }
        if v.residence {
            inp.residence_status = Some(self.residence_status.clone());
            inp.residence_paragraph = Some(self.residence_paragraph.clone());
            inp.permit_valid_until = date(errs, "permit_valid_until", &self.permit_valid_until);
            inp.allocation_date = date(errs, "allocation_date", &self.allocation_date);
            inp.allocation_ref = Some(self.allocation_ref.clone());
            inp.benefits_ref = Some(self.benefits_ref.clone());
        }
        inp
    }
}

/// A choice of a list: code, label, chosen.
struct Opt {
    code: &'static str,
    label: String,
    on: bool,
}

#[derive(Template)]
#[template(path = "refugees/person_edit.html")]
struct PersonEditTpl {
    l: Layout,
    errs: FormErrors,
    id: i64,
    f: PersonForm,
    /// Birth date and nationality (social work and foreigners office both see them).
    personal: bool,
    social: bool,
    residence: bool,
    sexes: Vec<Opt>,
    statuses: Vec<Opt>,
    needs: Vec<Opt>,
}

fn opts<T: Coded>(t: &rathaus_web::i18n::Catalog, chosen: &[String]) -> Vec<Opt> {
    T::ALL
        .iter()
        .map(|c| Opt {
            code: c.code(),
            label: t.get(&c.label_key()).to_string(),
            on: chosen.iter().any(|x| x == c.code()),
        })
        .collect()
}

fn edit_tpl(
    st: &AppState,
    ctx: &Ctx,
    v: crate::domain::Visibility,
    id: i64,
    title: String,
    f: PersonForm,
    errs: FormErrors,
) -> PersonEditTpl {
    let t = catalog(ctx.lang);
    PersonEditTpl {
        l: layout(st, ctx, "refugees.edit.title").with_title(title),
        errs,
        id,
        personal: v.social || v.residence,
        social: v.social,
        residence: v.residence,
        sexes: opts::<crate::domain::Sex>(t, std::slice::from_ref(&f.sex)),
        statuses: opts::<ResidenceStatus>(t, std::slice::from_ref(&f.residence_status)),
        needs: opts::<crate::domain::Need>(t, &f.needs),
        f,
    }
}

/// The form to change a person's data (`refugees.edit`), with the groups the editor may see.
/// Opening it reads the record, so the read is audited like the record page's.
async fn person_edit_form(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let t = catalog(ctx.lang);
    let (v, _) = persons::read_person(&st.db.conn, Actor::User(&p), p.tenant_id, id).await?;
    if v.anonymised {
        return Err(Error::Conflict(persons::ANONYMISED.into()).into());
    }
    let vis = crate::service::visibility(Actor::User(&p));
    let title = t.fmt("refugees.edit.title_of", &display_name(t, &v));
    page(edit_tpl(
        &st,
        &ctx,
        vis,
        id,
        title,
        PersonForm::of(&v),
        FormErrors::none(t),
    ))
}

async fn person_edit_save(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let t = catalog(ctx.lang);
    // Like the form itself: whoever may not read the record may not change it from here.
    let vis = crate::service::require_read(Actor::User(&p))?;
    let f = PersonForm::from_pairs(pairs);
    let mut errs = FieldErrors::new();
    let inp = f.input(vis, &mut errs);
    let res = if errs.is_empty() {
        persons::update_person(&st.db.conn, Actor::User(&p), p.tenant_id, id, inp)
            .await
            .map(|_| ())
    } else {
        // An unreadable date: the other fields' errors are shown with it.
        errs.0.extend(persons::check(&inp).0);
        Err(Error::Invalid(errs))
    };
    match res {
        Ok(()) => Ok(
            Redirect::to(&format!("/unterbringung/personen/{id}?gespeichert=1")).into_response(),
        ),
        Err(e @ Error::Invalid(_)) => {
            // The generic title: the typed names may be what is wrong, and reading the stored
            // ones would be another audited read.
            let errs = FormErrors::from_error(t, e)?;
            let title = t.get("refugees.edit.title").to_string();
            let html = edit_tpl(&st, &ctx, vis, id, title, f, errs);
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page(html)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Art. 15 DSGVO: everything stored about the person as a JSON file (audited).
async fn person_disclosure(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let d =
        crate::service::disclosure::disclose(&st.db.conn, Actor::User(&p), p.tenant_id, id).await?;
    let body = serde_json::to_vec_pretty(&d).map_err(Error::internal)?;
    Ok(rathaus_web::export::attachment(
        "application/json; charset=utf-8",
        &format!("auskunft-person-{id}-{}.json", today()),
        body,
    ))
}

// ---------------------------------------------------------------- accommodation

/// Occupants' names; an anonymised person (empty name) shows the marker.
fn occupant_names(
    t: &rathaus_web::i18n::Catalog,
    mut names: std::collections::HashMap<i64, String>,
) -> std::collections::HashMap<i64, String> {
    for n in names.values_mut().filter(|n| n.is_empty()) {
        *n = t.get("refugees.person.anonymised").to_string();
    }
    names
}

#[derive(Template)]
#[template(path = "refugees/accommodation.html")]
struct AccommodationTpl {
    l: Layout,
    a: places::Accommodation,
    kind: String,
    rooms: Vec<RoomView>,
    names: std::collections::HashMap<i64, String>,
    on: String,
}

impl AccommodationTpl {
    fn name_of(&self, id: &i64) -> &str {
        self.names.get(id).map_or("", String::as_str)
    }
}

/// An accommodation's rooms and beds on a day, with the names of the occupants.
async fn rooms_on(
    st: &AppState,
    p: &Principal,
    t: &'static rathaus_web::i18n::Catalog,
    id: i64,
    on: NaiveDate,
) -> Result<
    (
        places::Accommodation,
        Vec<RoomView>,
        std::collections::HashMap<i64, String>,
    ),
    Error,
> {
    let (a, rooms) =
        places::accommodation_rooms(&st.db.conn, Actor::User(p), p.tenant_id, id, on).await?;
    let ids: Vec<i64> = rooms
        .iter()
        .flat_map(|r| r.beds.iter().filter_map(|b| b.2))
        .collect();
    let names = occupant_names(
        t,
        persons::names(&st.db.conn, Actor::User(p), p.tenant_id, &ids).await?,
    );
    Ok((a, rooms, names))
}

async fn accommodation_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<DashQuery>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let t = catalog(ctx.lang);
    let on = date_of(&q.datum).unwrap_or_else(today);
    let (a, rooms, names) = rooms_on(&st, &p, t, id, on).await?;
    let kind = crate::domain::AccommodationKind::parse(&a.kind)
        .map(|k| t.get(&k.label_key()).to_string())
        .unwrap_or_default();
    let title = a.name.clone();
    page(AccommodationTpl {
        l: layout(&st, &ctx, "refugees.acc.title").with_title(title),
        a,
        kind,
        rooms,
        names,
        on: on.format("%Y-%m-%d").to_string(),
    })
}

// ---------------------------------------------------------------- households

struct HouseholdRow {
    id: i64,
    reference: String,
    members: Vec<(i64, String)>,
    /// Rooms that fit: (room id, label).
    rooms: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "refugees/households.html")]
struct HouseholdsTpl {
    l: Layout,
    rows: Vec<HouseholdRow>,
    can_edit: bool,
    on: String,
    errs: FormErrors,
    done: bool,
}

#[derive(Deserialize, Default)]
struct HouseholdQuery {
    #[serde(default)]
    datum: String,
    #[serde(default)]
    erledigt: String,
}

async fn households_page(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    on: NaiveDate,
    errs: FormErrors,
    done: bool,
) -> Result<Response, HtmlError> {
    let list = persons::households(&st.db.conn, Actor::User(p), p.tenant_id).await?;
    let can_edit = p.has(crate::permissions::EDIT);
    let mut rows = Vec::new();
    for (h, members) in list {
        let needs: Vec<String> = members.iter().map(|m| m.2.clone()).collect();
        let (access, ground) = occupancy::household_needs(&needs);
        let rooms = if can_edit {
            places::rooms_fitting(
                &st.db.conn,
                Actor::User(p),
                p.tenant_id,
                on,
                members.len(),
                access,
                ground,
            )
            .await?
            .into_iter()
            .take(20)
            .map(|(b, n)| (b.room_id, format!("{} · {} ({n})", b.accommodation, b.room)))
            .collect()
        } else {
            Vec::new()
        };
        rows.push(HouseholdRow {
            id: h.id,
            reference: h.reference,
            members: members.into_iter().map(|m| (m.0, m.1)).collect(),
            rooms,
        });
    }
    let failed = errs.any();
    let mut res = page(HouseholdsTpl {
        l: layout(st, ctx, "refugees.households.title"),
        rows,
        can_edit,
        on: on.format("%Y-%m-%d").to_string(),
        errs,
        done,
    })?;
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn household_list(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<HouseholdQuery>,
) -> Result<Response, HtmlError> {
    let on = date_of(&q.datum).unwrap_or_else(today);
    let t = catalog(ctx.lang);
    households_page(
        &st,
        &ctx,
        &p,
        on,
        FormErrors::none(t),
        q.erledigt == "umgezogen",
    )
    .await
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    room_id: String,
    #[serde(default)]
    on: String,
}

async fn move_household(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let t = catalog(ctx.lang);
    let mut errs = FieldErrors::new();
    let on = crate::service::parse_date(&mut errs, "on", &f.on);
    if f.on.trim().is_empty() {
        errs.add("on", "err.required");
    }
    let room: Option<i64> = f.room_id.trim().parse().ok();
    if room.is_none() {
        errs.add("room_id", "err.required");
    }
    let result = match (errs.is_empty(), on, room) {
        (true, Some(on), Some(room)) => {
            occupancy::move_household(&st.db.conn, Actor::User(&p), p.tenant_id, id, room, on)
                .await
                .map(|_| ())
        }
        _ => Err(Error::Invalid(errs)),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/unterbringung/haushalte?erledigt=umgezogen").into_response()),
        Err(Error::Conflict(key)) => {
            let mut e = FieldErrors::new();
            e.add("room_id", &key);
            let errs = FormErrors::from_error(t, Error::Invalid(e))?;
            households_page(&st, &ctx, &p, on.unwrap_or_else(today), errs, false).await
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            households_page(&st, &ctx, &p, on.unwrap_or_else(today), errs, false).await
        }
    }
}

// ---------------------------------------------------------------- settings

#[derive(Template)]
#[template(path = "refugees/settings.html")]
struct SettingsTpl {
    l: Layout,
    errs: FormErrors,
    retention_years: String,
    expiry_days: String,
    saved: bool,
}

#[derive(Deserialize, Default)]
struct SettingsQuery {
    #[serde(default)]
    gespeichert: String,
}

/// The module's settings (the deletion period), for holders of `refugees.edit`.
async fn settings_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<SettingsQuery>,
) -> Result<Response, HtmlError> {
    let s = crate::service::settings::get(&st.db.conn, Actor::User(&p), p.tenant_id).await?;
    page(SettingsTpl {
        l: layout(&st, &ctx, "refugees.settings.title"),
        errs: FormErrors::none(catalog(ctx.lang)),
        retention_years: s.retention_years.to_string(),
        expiry_days: s.expiry_days.to_string(),
        saved: !q.gespeichert.is_empty(),
    })
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    retention_years: String,
    #[serde(default)]
    expiry_days: String,
}

async fn settings_save(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<SettingsForm>,
) -> Result<Response, HtmlError> {
    let input = crate::service::settings::SettingsText {
        retention_years: f.retention_years,
        expiry_days: f.expiry_days,
    };
    match crate::service::settings::update(&st.db.conn, Actor::User(&p), p.tenant_id, &input).await
    {
        Ok(_) => Ok(Redirect::to("/unterbringung/einstellungen?gespeichert=1").into_response()),
        Err(e @ Error::Invalid(_)) => {
            let html = SettingsTpl {
                l: layout(&st, &ctx, "refugees.settings.title"),
                errs: FormErrors::from_error(catalog(ctx.lang), e)?,
                retention_years: input.retention_years,
                expiry_days: input.expiry_days,
                saved: false,
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page(html)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- import

struct ReportLine {
    error: bool,
    sheet: String,
    rows: String,
    column: String,
    message: String,
}

#[derive(Template)]
#[template(path = "refugees/import.html")]
struct ImportTpl {
    l: Layout,
    errs: FormErrors,
    report: Option<ImportReport>,
}

struct ImportReport {
    rows_total: usize,
    rows_ok: usize,
    committed: bool,
    errors: usize,
    warnings: usize,
    lines: Vec<ReportLine>,
    /// The stored upload to commit (clean dry run only).
    file_id: Option<i64>,
}

fn report_of(
    t: &rathaus_web::i18n::Catalog,
    o: imports::Outcome,
    file_id: Option<i64>,
) -> ImportReport {
    let line = |l: &imports::Line, error: bool| ReportLine {
        error,
        sheet: l.sheet.clone(),
        rows: l
            .rows
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        column: l.column.clone().unwrap_or_default(),
        message: super::message(t, l),
    };
    let mut lines: Vec<ReportLine> = o.errors.iter().map(|l| line(l, true)).collect();
    lines.extend(o.warnings.iter().map(|l| line(l, false)));
    ImportReport {
        rows_total: o.rows_total,
        rows_ok: o.rows_ok,
        committed: o.committed,
        errors: o.errors.len(),
        warnings: o.warnings.len(),
        file_id: file_id.filter(|_| o.errors.is_empty() && !o.committed),
        lines,
    }
}

fn import_page(
    st: &AppState,
    ctx: &Ctx,
    errs: FormErrors,
    report: Option<ImportReport>,
) -> Result<Response, HtmlError> {
    let failed = errs.any() || report.as_ref().is_some_and(|r| r.errors > 0);
    let mut res = page(ImportTpl {
        l: layout(st, ctx, "refugees.import.title"),
        errs,
        report,
    })?;
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn import_form(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    p.require(crate::permissions::IMPORT)?;
    import_page(&st, &ctx, FormErrors::none(catalog(ctx.lang)), None)
}

const FILES: rathaus_store::files::Limits = rathaus_store::files::Limits {
    max_size: MAX_FILE_BYTES as u64,
    quota: None,
};

/// Upload: the dry run's report; a clean file is kept to commit with one more click.
async fn import_upload(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    p.require(crate::permissions::IMPORT)?;
    let t = catalog(ctx.lang);
    let mut data = Vec::new();
    let mut name = String::from("import");
    let mut unreadable = false;
    match Multipart::from_request(req, &st).await {
        Ok(mut mp) => loop {
            match mp.next_field().await {
                Ok(Some(f)) if f.name() == Some("file") => {
                    name = f.file_name().unwrap_or("import").to_string();
                    match f.bytes().await {
                        Ok(b) => data = b.to_vec(),
                        Err(_) => unreadable = true,
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    unreadable = true;
                    break;
                }
            }
        },
        Err(_) => unreadable = true,
    }
    let mut errs = FieldErrors::new();
    if unreadable {
        errs.add_arg(
            "file",
            "import.err.file_too_large",
            Some(MAX_FILE_BYTES / 1024 / 1024),
        );
    } else if data.is_empty() {
        errs.add("file", "err.required");
    }
    if !errs.is_empty() {
        return import_page(
            &st,
            &ctx,
            FormErrors::from_error(t, Error::Invalid(errs))?,
            None,
        );
    }
    let out = match imports::import(
        &st.db.conn,
        Actor::User(&p),
        p.tenant_id,
        &data,
        None,
        false,
    )
    .await
    {
        Ok(o) => o,
        Err(e @ Error::Invalid(_)) => {
            return import_page(&st, &ctx, FormErrors::from_error(t, e)?, None);
        }
        Err(e) => return Err(e.into()),
    };
    let file_id = if out.errors.is_empty() {
        let meta = st
            .files
            .put(
                &st.db,
                p.tenant_id,
                Actor::User(&p),
                rathaus_store::files::NewFile {
                    module: "refugees",
                    kind: "import",
                    original_name: &name,
                },
                FILES,
                data.as_slice(),
            )
            .await?;
        Some(meta.id.0)
    } else {
        None
    };
    import_page(
        &st,
        &ctx,
        FormErrors::none(t),
        Some(report_of(t, out, file_id)),
    )
}

#[derive(Deserialize)]
struct CommitForm {
    #[serde(default)]
    file_id: String,
}

/// Commit of a checked upload: everything or nothing; the upload is deleted afterwards.
async fn import_commit(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<CommitForm>,
) -> Result<Response, HtmlError> {
    p.require(crate::permissions::IMPORT)?;
    let t = catalog(ctx.lang);
    let id: i64 = f.file_id.trim().parse().map_err(|_| Error::NotFound)?;
    let fid = rathaus_store::files::FileId(id);
    let meta = st
        .files
        .metadata(&st.db.conn, p.tenant_id, Actor::User(&p), fid)
        .await?;
    if meta.module != "refugees" || meta.kind != "import" {
        return Err(Error::NotFound.into());
    }
    let dl = st
        .files
        .get(&st.db.conn, p.tenant_id, Actor::User(&p), fid, None)
        .await?;
    let mut data = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
    let mut body = dl.body;
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        data.extend_from_slice(&chunk.map_err(Error::internal)?);
    }
    let out = imports::import(&st.db.conn, Actor::User(&p), p.tenant_id, &data, None, true).await;
    let out = match out {
        Ok(o) => o,
        Err(e @ (Error::Invalid(_) | Error::Conflict(_))) => {
            let e = match e {
                Error::Conflict(k) => FieldErrors::single("file", &k),
                e => e,
            };
            return import_page(&st, &ctx, FormErrors::from_error(t, e)?, None);
        }
        Err(e) => return Err(e.into()),
    };
    if out.committed {
        let tx = rathaus_store::uow::Tx::begin(&st.db.conn, p.tenant_id, Actor::User(&p)).await?;
        st.files.delete(&tx, fid).await?;
        tx.commit().await?;
    }
    import_page(
        &st,
        &ctx,
        FormErrors::none(t),
        Some(report_of(t, out, None)),
    )
}

// ---------------------------------------------------------------- downloads and statistics

#[derive(Deserialize, Default)]
struct ExportQuery {
    #[serde(flatten)]
    list: PersonQuery,
    #[serde(default)]
    format: Option<String>,
}

fn format_of(s: Option<&str>) -> Result<Format, Error> {
    Format::parse(s).ok_or_else(|| FieldErrors::single("format", "refugees.err.format"))
}

/// The person list with its filters as CSV or XLSX: the columns are the field groups the
/// reader may see (names and places for everyone; social and residence data by role).
async fn person_export(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<ExportQuery>,
) -> Result<Response, HtmlError> {
    let format = format_of(q.format.as_deref())?;
    let t = catalog(ctx.lang);
    let by = Actor::User(&p);
    let v = crate::service::visibility(by);
    let f = q.list.filter(v);
    let list = persons::export_persons(&st.db.conn, by, p.tenant_id, &f, format.code()).await?;
    let mut header = vec![
        "refugees.field.surname",
        "refugees.field.given_names",
        "refugees.field.accommodation",
        "refugees.field.room",
        "refugees.field.move_in",
        "refugees.field.household",
    ];
    if v.social || v.residence {
        header.extend(["refugees.field.birth_date", "refugees.field.nationality"]);
    }
    if v.social {
        header.extend([
            "refugees.field.sex",
            "refugees.field.languages",
            "refugees.field.phone",
            "refugees.field.needs",
        ]);
    }
    if v.residence {
        header.extend([
            "refugees.field.status",
            "refugees.field.paragraph",
            "refugees.field.permit_until",
            "refugees.field.allocation_date",
            "refugees.field.allocation_ref",
            "refugees.field.benefits_ref",
        ]);
    }
    let label = |key: String| t.get(&key).to_string();
    let rows = list
        .into_iter()
        .map(|x| {
            let mut r: Vec<Cell> = vec![
                x.surname.into(),
                x.given_names.into(),
                x.place
                    .as_ref()
                    .map(|pl| pl.accommodation.clone())
                    .unwrap_or_default()
                    .into(),
                x.place
                    .as_ref()
                    .map(|pl| pl.room.clone())
                    .unwrap_or_default()
                    .into(),
                x.place.as_ref().map(|pl| pl.starts_on).into(),
                x.household_id
                    .map(|h| h.to_string())
                    .unwrap_or_default()
                    .into(),
            ];
            if v.social || v.residence {
                let (birth, nat) = match (&x.social, &x.residence) {
                    (Some(s), _) => (s.birth_date, s.nationality.clone()),
                    (None, Some(r)) => (r.birth_date, r.nationality.clone()),
                    (None, None) => (None, String::new()),
                };
                r.extend([birth.into(), nat.into()]);
            }
            if let Some(s) = &x.social {
                let sex = crate::domain::Sex::parse(&s.sex)
                    .map(|v| label(v.label_key()))
                    .unwrap_or_default();
                let needs: Vec<String> = s.needs.iter().map(|n| label(n.label_key())).collect();
                r.extend([
                    sex.into(),
                    s.languages.clone().into(),
                    s.phone.clone().into(),
                    needs.join(", ").into(),
                ]);
            }
            if let Some(res) = &x.residence {
                let status = ResidenceStatus::parse(&res.status)
                    .map(|v| label(v.label_key()))
                    .unwrap_or_else(|| res.status.clone());
                r.extend([
                    status.into(),
                    res.paragraph.clone().into(),
                    res.valid_until.into(),
                    res.allocation_date.into(),
                    res.allocation_ref.clone().into(),
                    res.benefits_ref.clone().into(),
                ]);
            }
            r
        })
        .collect();
    let table = Table {
        sheet: t.get("refugees.persons.title").to_string(),
        header: header.iter().map(|k| t.get(k).to_string()).collect(),
        rows,
    };
    Ok(table.download(format, &format!("personen-{}", today()))?)
}

#[derive(Deserialize, Default)]
struct StatsQuery {
    #[serde(default)]
    monat: String,
    #[serde(default)]
    format: Option<String>,
}

/// One line of a statistics table: label, count, and its share of the largest for the bar.
struct Bar {
    label: String,
    n: i64,
    pct: i64,
}

fn bars(t: &rathaus_web::i18n::Catalog, m: &BTreeMap<String, i64>, status: bool) -> Vec<Bar> {
    let max = m.values().copied().max().unwrap_or(0).max(1);
    let mut v: Vec<Bar> = m
        .iter()
        .map(|(k, n)| Bar {
            label: if k.is_empty() {
                t.get("refugees.stats.unknown").to_string()
            } else if status {
                ResidenceStatus::parse(k)
                    .map(|s| t.get(&s.label_key()).to_string())
                    .unwrap_or_else(|| k.clone())
            } else {
                k.clone()
            },
            n: *n,
            pct: n * 100 / max,
        })
        .collect();
    v.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.label.cmp(&b.label)));
    v
}

#[derive(Template)]
#[template(path = "refugees/statistics.html")]
struct StatisticsTpl {
    l: Layout,
    s: stats::Monthly,
    month: String,
    errs: FormErrors,
    rate: String,
    by_status: Option<Vec<Bar>>,
    by_nationality: Option<Vec<Bar>>,
}

/// The month asked for (this month when none), or the field error with what was typed.
fn month_of(q: &StatsQuery) -> Result<NaiveDate, FieldErrors> {
    if q.monat.trim().is_empty() {
        return Ok(stats::month_bounds(today()).0);
    }
    stats::parse_month(&q.monat).ok_or_else(|| {
        let mut e = FieldErrors::new();
        e.add("monat", "refugees.err.month");
        e
    })
}

async fn statistics_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<StatsQuery>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (month, errs) = match month_of(&q) {
        Ok(m) => (m, FieldErrors::new()),
        Err(e) => (stats::month_bounds(today()).0, e),
    };
    let m = stats::monthly(&st.db.conn, Actor::User(&p), p.tenant_id, month).await?;
    let rate = if m.capacity > 0 {
        format!("{} %", m.housed * 100 / m.capacity)
    } else {
        "–".into()
    };
    let failed = !errs.is_empty();
    let html = StatisticsTpl {
        l: layout(&st, &ctx, "refugees.stats.title"),
        month: if failed {
            q.monat.clone()
        } else {
            month.format("%Y-%m").to_string()
        },
        errs: FormErrors::new(t, errs),
        rate,
        by_status: m.by_status.as_ref().map(|b| bars(t, b, true)),
        by_nationality: m.by_nationality.as_ref().map(|b| bars(t, b, false)),
        s: m,
    };
    if failed {
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page(html)?).into_response());
    }
    page(html)
}

/// The month's statistics as one table (section, item, count), for the state's reporting.
async fn statistics_export(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<StatsQuery>,
) -> Result<Response, HtmlError> {
    let format = format_of(q.format.as_deref())?;
    let month = month_of(&q).map_err(Error::Invalid)?;
    let t = catalog(ctx.lang);
    let m = stats::monthly(&st.db.conn, Actor::User(&p), p.tenant_id, month).await?;
    let overview = t.get("refugees.stats.overview").to_string();
    let mut rows: Vec<Vec<Cell>> = [
        ("refugees.dash.capacity", m.capacity),
        ("refugees.stats.housed", m.housed),
        ("refugees.stats.arrivals", m.arrivals as i64),
        ("refugees.stats.departures", m.departures as i64),
        ("refugees.stats.allocations", m.allocations as i64),
    ]
    .into_iter()
    .map(|(k, n)| vec![overview.clone().into(), t.get(k).into(), n.into()])
    .collect();
    for (section, map, status) in [
        ("refugees.field.status", &m.by_status, true),
        ("refugees.field.nationality", &m.by_nationality, false),
    ] {
        if let Some(map) = map {
            for b in bars(t, map, status) {
                rows.push(vec![t.get(section).into(), b.label.into(), b.n.into()]);
            }
        }
    }
    let table = Table {
        sheet: format!(
            "{} {}",
            t.get("refugees.stats.title"),
            month.format("%Y-%m")
        ),
        header: [
            "refugees.stats.section",
            "refugees.stats.item",
            "refugees.stats.count",
        ]
        .iter()
        .map(|k| t.get(k).to_string())
        .collect(),
        rows,
    };
    Ok(table.download(format, &format!("statistik-{}", month.format("%Y-%m")))?)
}

#[derive(Template)]
#[template(path = "refugees/occupancy_list.html")]
struct OccupancyListTpl {
    l: Layout,
    a: places::Accommodation,
    rooms: Vec<RoomView>,
    names: std::collections::HashMap<i64, String>,
    on: String,
    on_de: String,
}

impl OccupancyListTpl {
    fn name_of(&self, id: &i64) -> &str {
        self.names.get(id).map_or("", String::as_str)
    }
}

/// The caretaker's list of an accommodation for printing: rooms, beds and the names of the
/// occupants on a day, nothing else (no birth dates, status or notes, whatever the reader's
/// role), with room for the caretaker's notes.
async fn occupancy_list(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<DashQuery>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let t = catalog(ctx.lang);
    let on = date_of(&q.datum).unwrap_or_else(today);
    let (a, rooms, names) = rooms_on(&st, &p, t, id, on).await?;
    let title = a.name.clone();
    page(OccupancyListTpl {
        l: layout(&st, &ctx, "refugees.print.title").with_title(title),
        a,
        rooms,
        names,
        on: on.format("%Y-%m-%d").to_string(),
        on_de: on.format("%d.%m.%Y").to_string(),
    })
}
