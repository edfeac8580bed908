//! Organisation pages (`/buchung/organisationen`).

use crate::domain::OrganisationId;
use crate::service::orgs::{
    Member, OrgInput, Organisation, add_member, create_organisation, get_organisation,
    list_organisations, members, my_organisations, remove_member, update_organisation,
};
use rathaus_store::uow::Actor;

use crate::http::MANAGERS;
use rathaus_web::Access::SignedIn;
use rathaus_web::Routes;

use crate::permissions::MANAGE;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::{Error, Principal, Result};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use serde::Deserialize;

// ---------------------------------------------------------------- pages

pub(crate) fn routes() -> Routes {
    Routes::new()
        // Members see their own organisations; the page refuses users who are neither.
        .get("/buchung/organisationen", SignedIn, list_page)
        .post("/buchung/organisationen", MANAGERS, create_page)
        .get("/buchung/organisationen/{id}", SignedIn, show_page)
        .post("/buchung/organisationen/{id}", MANAGERS, update_page)
        .post(
            "/buchung/organisationen/{id}/mitglieder",
            MANAGERS,
            add_page,
        )
        .post(
            "/buchung/organisationen/{id}/mitglieder/{user}/entfernen",
            MANAGERS,
            remove_page,
        )
}

pub(crate) fn kind_label(t: &Catalog, kind: &str) -> String {
    t.get(&format!("booking.orgs.kind.{kind}")).to_string()
}

#[derive(Deserialize, Default, Clone)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    contact_email: String,
    /// Checkbox: present when checked.
    #[serde(default)]
    public_name: Option<String>,
}

impl OrgForm {
    fn input(&self) -> OrgInput {
        OrgInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            contact_email: self.contact_email.clone(),
            public_name: self.public_name.is_some(),
        }
    }
    fn of(o: &Organisation) -> Self {
        OrgForm {
            name: o.name.clone(),
            kind: o.kind.clone(),
            contact_email: o.contact_email.clone(),
            public_name: o.public_name.then(|| "on".to_string()),
        }
    }
    fn kind_selected(&self, k: &str) -> bool {
        self.kind == k
    }
    fn consent(&self) -> bool {
        self.public_name.is_some()
    }
}

struct OrgRow {
    id: i64,
    name: String,
    kind: String,
    contact_email: String,
    public_name: bool,
}

fn rows(t: &Catalog, list: &[Organisation]) -> Vec<OrgRow> {
    list.iter()
        .map(|o| OrgRow {
            id: o.id,
            name: o.name.clone(),
            kind: kind_label(t, &o.kind),
            contact_email: o.contact_email.clone(),
            public_name: o.public_name,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "booking/orgs_list.html")]
struct ListTpl {
    l: Layout,
    can_manage: bool,
    /// All organisations (managers).
    all: Vec<OrgRow>,
    /// The user's own.
    mine: Vec<OrgRow>,
    kinds: Vec<(&'static str, String)>,
    errs: FormErrors,
    f: OrgForm,
}

/// The organisation kinds with their labels, for selects.
pub(crate) fn kinds_of(t: &Catalog) -> Vec<(&'static str, String)> {
    crate::service::rules::ORG_KINDS
        .iter()
        .map(|k| (*k, kind_label(t, k)))
        .collect()
}

async fn render_list(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: OrgForm,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let mine = my_organisations(&st.db.conn, Actor::User(p)).await?;
    let can_manage = p.has(MANAGE);
    // Neither manager nor member: nothing here for them.
    if !can_manage && mine.is_empty() {
        return Err(Error::Forbidden.into());
    }
    let all = if can_manage {
        list_organisations(&st.db.conn, Actor::User(p)).await?
    } else {
        vec![]
    };
    let failed = errs.any();
    respond(
        page(ListTpl {
            l: layout(st, ctx, "booking.orgs.title"),
            can_manage,
            all: rows(t, &all),
            mine: rows(t, &mine),
            kinds: kinds_of(t),
            errs,
            f,
        }),
        failed,
    )
}

async fn list_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let errs = FormErrors::none(catalog(ctx.lang));
    render_list(&st, &ctx, &p, OrgForm::default(), errs).await
}

async fn create_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<OrgForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    match create_organisation(&st.db.conn, Actor::User(&p), f.input()).await {
        Ok(o) => Ok(Redirect::to(&format!(
            "/buchung/organisationen/{}?notice=booking_orgs.created",
            o.id
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            render_list(&st, &ctx, &p, f, errs).await
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct MemberForm {
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "booking/orgs_show.html")]
struct ShowTpl {
    l: Layout,
    o: Organisation,
    kind: String,
    can_manage: bool,
    members: Vec<Member>,
    kinds: Vec<(&'static str, String)>,
    errs: FormErrors,
    f: OrgForm,
    member_errs: FormErrors,
    mf: MemberForm,
}

async fn render_show(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    edit: Option<(OrgForm, FormErrors)>,
    add: Option<(MemberForm, FormErrors)>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let o = get_organisation(&st.db.conn, Actor::User(p), OrganisationId(id)).await?;
    let members = members(&st.db.conn, Actor::User(p), OrganisationId(id)).await?;
    let (f, errs) = edit.unwrap_or_else(|| (OrgForm::of(&o), FormErrors::none(t)));
    let (mf, member_errs) = add.unwrap_or_else(|| (MemberForm::default(), FormErrors::none(t)));
    let failed = errs.any() || member_errs.any();
    respond(
        page(ShowTpl {
            l: layout(st, ctx, "booking.orgs.title").with_title(o.name.clone()),
            kind: kind_label(t, &o.kind),
            can_manage: p.has(MANAGE),
            members,
            kinds: kinds_of(t),
            errs,
            f,
            member_errs,
            mf,
            o,
        }),
        failed,
    )
}

async fn show_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    render_show(&st, &ctx, &p, parse_id(&id)?, None, None).await
}

async fn update_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<OrgForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    match update_organisation(&st.db.conn, Actor::User(&p), OrganisationId(id), f.input()).await {
        Ok(o) => Ok(Redirect::to(&format!(
            "/buchung/organisationen/{}?notice=booking_orgs.updated",
            o.id
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            render_show(&st, &ctx, &p, id, Some((f, errs)), None).await
        }
    }
}

async fn add_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(mf): Form<MemberForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    match add_member(&st.db.conn, Actor::User(&p), OrganisationId(id), &mf.email).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/buchung/organisationen/{id}?notice=booking_orgs.member_added"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            render_show(&st, &ctx, &p, id, None, Some((mf, errs))).await
        }
    }
}

async fn remove_page(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path((id, user)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    remove_member(
        &st.db.conn,
        Actor::User(&p),
        OrganisationId(id),
        parse_id(&user)?,
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/buchung/organisationen/{id}?notice=booking_orgs.member_removed"
    ))
    .into_response())
}
