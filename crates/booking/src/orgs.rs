//! Organisations (issue 4, item 2): schools, clubs and other groups that book halls and
//! fields as one party. Staff with `booking.manage` create and edit them and add or remove
//! members by the e-mail address of an existing account (citizen or staff); members see
//! "Meine Organisationen" and book for their organisation (`rules::booker_for`).
//!
//! Pages: `/buchung/organisationen` (list, and the form to add one for managers) and
//! `/buchung/organisationen/{id}` (details, members, edit). An organisation the user neither
//! manages nor belongs to answers 404, like one of another tenant.

use crate::entity::{org_member, organisation};
use crate::service::MANAGE;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::{Actor, accounts, audit, begin, db_err};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;

pub use organisation::Model as Organisation;

/// The longest organisation name.
pub const MAX_NAME: usize = 200;

// ---------------------------------------------------------------- service

/// What staff enter for an organisation.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: String,
    /// One of `rules::ORG_KINDS`.
    pub kind: String,
    pub contact_email: String,
    /// The organisation agreed that its name appears on public occupancy views.
    pub public_name: bool,
}

/// A member as the detail page lists them.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub email: String,
}

fn validate(inp: &OrgInput) -> Result<(String, String)> {
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, MAX_NAME);
    if !crate::rules::ORG_KINDS.contains(&inp.kind.as_str()) {
        errs.add("kind", "err.invalid_choice");
    }
    let email = errs.email("contact_email", &inp.contact_email);
    errs.into_result()?;
    Ok((name, email))
}

fn org_json(o: &Organisation) -> serde_json::Value {
    // The feed token is a secret: never in the audit trail.
    json!({
        "name": o.name, "kind": o.kind, "contact_email": o.contact_email,
        "public_name": o.public_name,
    })
}

async fn find(conn: &impl ConnectionTrait, tenant: TenantId, id: i64) -> Result<Organisation> {
    rathaus_store::uow::scoped_by_id::<organisation::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Creates an organisation with its own calendar feed token (permission `booking.manage`).
pub async fn create_organisation<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    inp: OrgInput,
) -> Result<Organisation> {
    who.require(MANAGE)?;
    let (name, email) = validate(&inp)?;
    let txn = begin(db).await?;
    let o = organisation::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        name: Set(name),
        kind: Set(inp.kind),
        contact_email: Set(email),
        public_name: Set(inp.public_name),
        feed_token: Set(rathaus_store::random_token(
            crate::service::FEED_TOKEN_BYTES,
        )),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new(
            "booking.organisation.created",
            "booking_organisation",
            Some(o.id),
        )
        .details(org_json(&o)),
    )
    .await?;
    txn.commit().await?;
    Ok(o)
}

/// Edits name, kind, contact address and consent (permission `booking.manage`). The kind
/// applies to bookings made from now on; existing ones keep the fee group they were priced at.
pub async fn update_organisation<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
    inp: OrgInput,
) -> Result<Organisation> {
    who.require(MANAGE)?;
    let txn = begin(db).await?;
    let before = find(&txn, who.tenant_id, id).await?;
    let (name, email) = validate(&inp)?;
    let mut am: organisation::ActiveModel = before.clone().into();
    am.name = Set(name);
    am.kind = Set(inp.kind);
    am.contact_email = Set(email);
    am.public_name = Set(inp.public_name);
    let after = am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new(
            "booking.organisation.updated",
            "booking_organisation",
            Some(id),
        )
        .details(json!({"before": org_json(&before), "after": org_json(&after)})),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Every organisation of the tenant by name (permission `booking.manage`).
pub async fn list_organisations(
    conn: &impl ConnectionTrait,
    who: &Principal,
) -> Result<Vec<Organisation>> {
    who.require(MANAGE)?;
    rathaus_store::uow::scoped::<organisation::Entity>(who.tenant_id)
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// The organisations `who` is a member of, by name (for the booking form's choice).
pub async fn my_organisations(
    conn: &impl ConnectionTrait,
    who: &Principal,
) -> Result<Vec<Organisation>> {
    let ids = crate::rules::organisations_of(conn, who).await?;
    if ids.is_empty() {
        return Ok(vec![]);
    }
    rathaus_store::uow::scoped::<organisation::Entity>(who.tenant_id)
        .filter(organisation::Column::Id.is_in(ids))
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// One organisation for a manager or one of its members; for anyone else NotFound.
pub async fn get_organisation(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: i64,
) -> Result<Organisation> {
    let o = find(conn, who.tenant_id, id).await?;
    if who.has(MANAGE)
        || crate::rules::organisations_of(conn, who)
            .await?
            .contains(&id)
    {
        Ok(o)
    } else {
        Err(Error::NotFound)
    }
}

/// The members of an organisation by name (a manager or a member may ask).
pub async fn members(conn: &impl ConnectionTrait, who: &Principal, id: i64) -> Result<Vec<Member>> {
    let o = get_organisation(conn, who, id).await?;
    let rows =
        rathaus_store::uow::scoped::<org_member::Entity>(rathaus_core::TenantId(o.tenant_id))
            .filter(org_member::Column::OrganisationId.eq(o.id))
            .all(conn)
            .await?;
    // Accounts are read through the store (one query), never from the users table here.
    let mut out: Vec<Member> =
        accounts::users_by_ids(conn, who.tenant_id, rows.iter().map(|m| m.user_id))
            .await?
            .into_iter()
            .map(|u| Member {
                user_id: u.id,
                name: u.name,
                email: u.email,
            })
            .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
    Ok(out)
}

/// Adds the account with this e-mail address (citizen or staff, of this tenant, active) as a
/// member (permission `booking.manage`). Unknown address or a member already: field error on
/// `email`.
pub async fn add_member<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
    email: &str,
) -> Result<Member> {
    who.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let email = errs.email("email", email);
    let txn = begin(db).await?;
    let o = find(&txn, who.tenant_id, id).await?;
    errs.into_result()?;
    let u = accounts::find_by_email(&txn, who.tenant_id, &email)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| FieldErrors::single("email", "booking.orgs.err.no_account"))?;
    let already = org_member::Entity::find_by_id((o.id, u.id))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(FieldErrors::single(
            "email",
            "booking.orgs.err.already_member",
        ));
    }
    org_member::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        organisation_id: Set(o.id),
        user_id: Set(u.id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new(
            "booking.organisation.member_added",
            "booking_organisation",
            Some(o.id),
        )
        .details(json!({"organisation": o.name, "user_id": u.id, "email": u.email})),
    )
    .await?;
    txn.commit().await?;
    Ok(Member {
        user_id: u.id,
        name: u.name,
        email: u.email,
    })
}

/// Removes a member (permission `booking.manage`); one who is none answers NotFound. Their
/// bookings for the organisation stay with the organisation.
pub async fn remove_member<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
    user_id: i64,
) -> Result<()> {
    who.require(MANAGE)?;
    let txn = begin(db).await?;
    let o = find(&txn, who.tenant_id, id).await?;
    let m =
        rathaus_store::uow::scoped_by_id::<org_member::Entity, _>(who.tenant_id, (o.id, user_id))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
    m.delete(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new(
            "booking.organisation.member_removed",
            "booking_organisation",
            Some(o.id),
        )
        .details(json!({"organisation": o.name, "user_id": user_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- pages

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buchung/organisationen", get(list_page).post(create_page))
        .route(
            "/buchung/organisationen/{id}",
            get(show_page).post(update_page),
        )
        .route("/buchung/organisationen/{id}/mitglieder", post(add_page))
        .route(
            "/buchung/organisationen/{id}/mitglieder/{user}/entfernen",
            post(remove_page),
        )
}

pub fn kind_label(t: &Catalog, kind: &str) -> String {
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
pub fn kinds_of(t: &Catalog) -> Vec<(&'static str, String)> {
    crate::rules::ORG_KINDS
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
    let mine = my_organisations(&st.db.conn, p).await?;
    let can_manage = p.has(MANAGE);
    // Neither manager nor member: nothing here for them.
    if !can_manage && mine.is_empty() {
        return Err(Error::Forbidden.into());
    }
    let all = if can_manage {
        list_organisations(&st.db.conn, p).await?
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
    match create_organisation(&st.db.conn, &p, f.input()).await {
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
    let o = get_organisation(&st.db.conn, p, id).await?;
    let members = members(&st.db.conn, p, id).await?;
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
    match update_organisation(&st.db.conn, &p, id, f.input()).await {
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
    match add_member(&st.db.conn, &p, id, &mf.email).await {
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
    remove_member(&st.db.conn, &p, id, parse_id(&user)?).await?;
    Ok(Redirect::to(&format!(
        "/buchung/organisationen/{id}?notice=booking_orgs.member_removed"
    ))
    .into_response())
}
