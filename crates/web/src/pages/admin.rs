//! Administration: users, roles, departments, audit log, jobs, tenant settings and pages.
//! Every handler only forwards to a service, which checks the permission.

use super::layout;
use crate::ctx::{Ctx, Staff};
use crate::errors::{HtmlError, page, respond};
use crate::forms::FormErrors;
use crate::i18n::catalog;
use crate::layout::Layout;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rathaus_core::Principal;
use rathaus_core::permissions::{self as perms, PermissionDef};
use rathaus_store::accounts::{self, Department, Role, User};
use rathaus_store::audit::{self, AuditFilter};
use rathaus_store::{jobs, tenants};
use serde::Deserialize;

// ------------------------------------------------------------------ users

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersTpl {
    l: Layout,
    users: Vec<(User, String, String)>,
}

pub async fn users(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let list = accounts::list_users(&st.db.conn, &p).await?;
    let roles = accounts::list_roles(&st.db.conn, p.tenant_id).await?;
    let depts = accounts::list_departments(&st.db.conn, p.tenant_id).await?;
    let users = list
        .into_iter()
        .map(|(u, rids)| {
            let r: Vec<String> = roles
                .iter()
                .filter(|(r, _)| rids.contains(&r.id))
                .map(|(r, _)| r.name.clone())
                .collect();
            let d = u
                .department_id
                .and_then(|d| depts.iter().find(|x| x.id == d))
                .map(|d| d.name.clone())
                .unwrap_or_default();
            (u, r.join(", "), d)
        })
        .collect();
    page(UsersTpl {
        l: layout(&st, &ctx, "users.title"),
        users,
    })
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct UserFormTpl {
    l: Layout,
    errs: FormErrors,
    action: String,
    f: UserForm,
    roles: Vec<Role>,
    departments: Vec<Department>,
    creating: bool,
    /// When editing: the user's id and whether they have a second factor.
    totp: Option<(i64, bool)>,
}

#[derive(Deserialize, Default, Clone)]
pub struct UserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    roles: Vec<i64>,
    /// Checkbox: present when checked.
    #[serde(default)]
    active: Option<String>,
}

impl UserForm {
    fn department(&self) -> Option<i64> {
        self.department_id.parse().ok()
    }
    fn has_role(&self, id: &i64) -> bool {
        self.roles.contains(id)
    }
    fn is_active(&self) -> bool {
        self.active.is_some()
    }
    fn input(&self) -> accounts::UserInput<'_> {
        accounts::UserInput {
            email: &self.email,
            name: &self.name,
            password: &self.password,
            department_id: self.department(),
            role_ids: &self.roles,
            active: self.is_active(),
        }
    }
    fn dept_selected(&self, id: &i64) -> bool {
        self.department() == Some(*id)
    }
}

async fn user_form(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: UserForm,
    errs: FormErrors,
    action: String,
    creating: bool,
) -> Result<Response, HtmlError> {
    p.require(perms::ADMIN_USERS)?;
    let roles = accounts::list_roles(&st.db.conn, p.tenant_id)
        .await?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let departments = accounts::list_departments(&st.db.conn, p.tenant_id).await?;
    let failed = errs.any();
    let title = if creating { "users.new" } else { "users.edit" };
    let totp = match action
        .rsplit('/')
        .next()
        .and_then(|id| id.parse::<i64>().ok())
    {
        Some(id) => Some((
            id,
            accounts::get_user(&st.db.conn, p, id).await?.0.totp_enabled,
        )),
        None => None,
    };
    respond(
        page(UserFormTpl {
            l: layout(st, ctx, title),
            errs,
            action,
            f,
            roles,
            departments,
            creating,
            totp,
        }),
        failed,
    )
}

pub async fn user_new(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let f = UserForm {
        active: Some("on".into()),
        ..Default::default()
    };
    user_form(
        &st,
        &ctx,
        &p,
        f,
        FormErrors::none(catalog(ctx.lang)),
        "/admin/users/new".into(),
        true,
    )
    .await
}

pub async fn user_create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<UserForm>,
) -> Result<Response, HtmlError> {
    let inp = f.input();
    match accounts::create_user(
        &st.db.conn,
        p.tenant_id,
        rathaus_store::uow::Actor::User(&p),
        inp,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/users?notice=user_created").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            // The password is never sent back into the page.
            let f = UserForm {
                password: String::new(),
                ..f
            };
            user_form(&st, &ctx, &p, f, errs, "/admin/users/new".into(), true).await
        }
    }
}

pub async fn user_edit(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<i64>,
) -> Result<Response, HtmlError> {
    let (u, roles) = accounts::get_user(&st.db.conn, &p, id).await?;
    let f = UserForm {
        name: u.name,
        email: u.email,
        password: String::new(),
        department_id: u.department_id.map(|d| d.to_string()).unwrap_or_default(),
        roles,
        active: u.active.then(|| "on".to_string()),
    };
    user_form(
        &st,
        &ctx,
        &p,
        f,
        FormErrors::none(catalog(ctx.lang)),
        format!("/admin/users/{id}"),
        false,
    )
    .await
}

pub async fn user_update(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<i64>,
    Form(f): Form<UserForm>,
) -> Result<Response, HtmlError> {
    let inp = f.input();
    match accounts::update_user(&st.db.conn, &p, id, inp).await {
        Ok(_) => Ok(Redirect::to("/admin/users?notice=user_updated").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            let f = UserForm {
                password: String::new(),
                ..f
            };
            user_form(&st, &ctx, &p, f, errs, format!("/admin/users/{id}"), false).await
        }
    }
}

pub async fn user_reset_totp(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<i64>,
) -> Result<Response, HtmlError> {
    accounts::reset_totp(
        &st.db.conn,
        p.tenant_id,
        rathaus_store::uow::Actor::User(&p),
        rathaus_core::UserId(id),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?notice=totp_reset")).into_response())
}

// ------------------------------------------------------------------ roles

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesTpl {
    l: Layout,
    roles: Vec<(Role, Vec<String>)>,
}

pub async fn roles(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    p.require(perms::ADMIN_ROLES)?;
    let roles = accounts::list_roles(&st.db.conn, p.tenant_id).await?;
    page(RolesTpl {
        l: layout(&st, &ctx, "roles.title"),
        roles,
    })
}

#[derive(Template)]
#[template(path = "admin/role_form.html")]
struct RoleFormTpl {
    l: Layout,
    errs: FormErrors,
    action: String,
    f: RoleForm,
    all: Vec<PermissionDef>,
    creating: bool,
}

#[derive(Deserialize, Default)]
pub struct RoleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    permissions: Vec<String>,
}

impl RoleForm {
    fn has(&self, code: &str) -> bool {
        self.permissions.iter().any(|p| p == code)
    }
}

fn role_form(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: RoleForm,
    errs: FormErrors,
    role_id: Option<i64>,
) -> Result<Response, HtmlError> {
    p.require(perms::ADMIN_ROLES)?;
    let failed = errs.any();
    let (title, action) = match role_id {
        None => ("roles.new", "/admin/roles/new".to_string()),
        Some(id) => ("roles.edit", format!("/admin/roles/{id}")),
    };
    let tpl = RoleFormTpl {
        l: layout(st, ctx, title),
        errs,
        action,
        f,
        all: perms::all(),
        creating: role_id.is_none(),
    };
    respond(page(tpl), failed)
}

pub async fn role_new(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    role_form(
        &st,
        &ctx,
        &p,
        RoleForm::default(),
        FormErrors::none(catalog(ctx.lang)),
        None,
    )
}

pub async fn role_create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<RoleForm>,
) -> Result<Response, HtmlError> {
    let inp = accounts::RoleInput {
        name: &f.name,
        description: &f.description,
        permissions: &f.permissions,
    };
    match accounts::create_role(
        &st.db.conn,
        p.tenant_id,
        rathaus_store::uow::Actor::User(&p),
        inp,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/roles?notice=role_created").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            role_form(&st, &ctx, &p, f, errs, None)
        }
    }
}

pub async fn role_edit(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<i64>,
) -> Result<Response, HtmlError> {
    let (r, permissions) = accounts::get_role(&st.db.conn, &p, id).await?;
    if r.builtin {
        return Err(rathaus_core::Error::Conflict("roles.builtin_locked".to_string()).into());
    }
    let f = RoleForm {
        name: r.name,
        description: r.description,
        permissions,
    };
    role_form(
        &st,
        &ctx,
        &p,
        f,
        FormErrors::none(catalog(ctx.lang)),
        Some(id),
    )
}

pub async fn role_update(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<i64>,
    Form(f): Form<RoleForm>,
) -> Result<Response, HtmlError> {
    let inp = accounts::RoleInput {
        name: &f.name,
        description: &f.description,
        permissions: &f.permissions,
    };
    match accounts::update_role(&st.db.conn, &p, id, inp).await {
        Ok(_) => Ok(Redirect::to("/admin/roles?notice=role_updated").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            role_form(&st, &ctx, &p, f, errs, Some(id))
        }
    }
}

pub async fn role_delete(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<i64>,
) -> Result<Response, HtmlError> {
    accounts::delete_role(&st.db.conn, &p, id).await?;
    Ok(Redirect::to("/admin/roles?notice=role_deleted").into_response())
}

// ------------------------------------------------------------------ departments

#[derive(Template)]
#[template(path = "admin/departments.html")]
struct DepartmentsTpl {
    l: Layout,
    /// Errors of the form for a new department.
    errs: FormErrors,
    departments: Vec<Department>,
    name: String,
    /// The row whose rename failed, with what was typed there and its errors.
    rename: Option<(i64, String)>,
    rename_errs: FormErrors,
}

impl DepartmentsTpl {
    /// The value of a row's rename field: what was typed if that rename failed.
    fn row_value(&self, id: &i64, current: &str) -> String {
        match &self.rename {
            Some((rid, typed)) if rid == id => typed.clone(),
            _ => current.to_string(),
        }
    }

    fn row_error(&self, id: &i64) -> Option<String> {
        match &self.rename {
            Some((rid, _)) if rid == id => self.rename_errs.msg("name"),
            _ => None,
        }
    }
}

async fn departments_page(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    errs: FormErrors,
    name: String,
    rename: Option<(i64, String)>,
) -> Result<Response, HtmlError> {
    p.require(perms::ADMIN_DEPARTMENTS)?;
    let departments = accounts::list_departments(&st.db.conn, p.tenant_id).await?;
    let failed = errs.any();
    let t = catalog(ctx.lang);
    // A failed rename's errors belong beside that row's field, not the new-department form.
    let (errs, rename_errs) = if rename.is_some() {
        (FormErrors::none(t), errs)
    } else {
        (errs, FormErrors::none(t))
    };
    respond(
        page(DepartmentsTpl {
            l: layout(st, ctx, "departments.title"),
            errs,
            departments,
            name,
            rename,
            rename_errs,
        }),
        failed,
    )
}

pub async fn departments(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    departments_page(
        &st,
        &ctx,
        &p,
        FormErrors::none(catalog(ctx.lang)),
        String::new(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn department_create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<NameForm>,
) -> Result<Response, HtmlError> {
    match accounts::create_department(
        &st.db.conn,
        p.tenant_id,
        rathaus_store::uow::Actor::User(&p),
        &f.name,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/departments?notice=department_created").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            departments_page(&st, &ctx, &p, errs, f.name, None).await
        }
    }
}

pub async fn department_rename(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<i64>,
    Form(f): Form<NameForm>,
) -> Result<Response, HtmlError> {
    match accounts::rename_department(&st.db.conn, &p, id, &f.name).await {
        Ok(_) => Ok(Redirect::to("/admin/departments?notice=department_renamed").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            departments_page(&st, &ctx, &p, errs, String::new(), Some((id, f.name))).await
        }
    }
}

pub async fn department_delete(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<i64>,
) -> Result<Response, HtmlError> {
    accounts::delete_department(&st.db.conn, &p, id).await?;
    Ok(Redirect::to("/admin/departments?notice=department_deleted").into_response())
}

// ------------------------------------------------------------------ audit

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditTpl {
    l: Layout,
    q: AuditQuery,
    actions: Vec<String>,
    events: Vec<rathaus_store::entity::audit_event::Model>,
    older: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    before: Option<i64>,
}

pub async fn audit_log(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, HtmlError> {
    let filter = AuditFilter {
        action: Some(q.action.clone()),
        actor: Some(q.actor.clone()),
        object_type: Some(q.object_type.clone()),
        before_seq: q.before,
    };
    let events = audit::list(&st.db.conn, &p, &filter).await?;
    let actions = audit::actions(&st.db.conn, p.tenant_id).await?;
    let older = (events.len() as u64 == audit::PAGE_SIZE).then(|| {
        let last = events.last().map(|e| e.seq).unwrap_or(0);
        format!(
            "/admin/audit?action={}&actor={}&object_type={}&before={last}",
            crate::ctx::urlencode(&q.action),
            crate::ctx::urlencode(&q.actor),
            crate::ctx::urlencode(&q.object_type)
        )
    });
    page(AuditTpl {
        l: layout(&st, &ctx, "audit.title"),
        q,
        actions,
        events,
        older,
    })
}

// ------------------------------------------------------------------ jobs

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsTpl {
    l: Layout,
    status: String,
    jobs: Vec<jobs::Job>,
}

#[derive(Deserialize, Default)]
pub struct JobsQuery {
    #[serde(default)]
    status: String,
}

pub async fn jobs_list(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<JobsQuery>,
) -> Result<Response, HtmlError> {
    let list = jobs::list(&st.db.conn, &p, Some(&q.status)).await?;
    page(JobsTpl {
        l: layout(&st, &ctx, "jobs.title"),
        status: q.status,
        jobs: list,
    })
}

pub async fn job_retry(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<i64>,
) -> Result<Response, HtmlError> {
    jobs::retry(&st.db.conn, &p, id).await?;
    Ok(Redirect::to("/admin/jobs?notice=job_retried").into_response())
}

// ------------------------------------------------------------------ settings and pages

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsTpl {
    l: Layout,
    errs: FormErrors,
    name: String,
    mfa_required: bool,
    /// The chosen Bundesland code and all of them (code, translation key).
    land: String,
    laender: Vec<(&'static str, String)>,
    pages: Vec<(&'static str, String)>,
    has_coat_of_arms: bool,
}

async fn settings_page(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    errs: FormErrors,
    form: Option<SettingsForm>,
) -> Result<Response, HtmlError> {
    p.require(perms::ADMIN_SETTINGS)?;
    let t = tenants::get(&st.db.conn, p.tenant_id).await?;
    let mut pages = vec![];
    for (slug, _) in tenants::PAGES {
        pages.push((
            *slug,
            tenants::page(&st.db.conn, p.tenant_id, slug).await?.title,
        ));
    }
    let (name, mfa_required, land) = match form {
        Some(f) => (f.name, f.mfa_required.is_some(), f.land),
        None => (t.name, t.mfa_required, t.land),
    };
    let laender = rathaus_core::calendar::Land::ALL
        .iter()
        .map(|l| (l.code(), l.name_key()))
        .collect();
    let failed = errs.any();
    let has_coat_of_arms = t.coat_of_arms_sha256.is_some();
    respond(
        page(SettingsTpl {
            l: layout(st, ctx, "settings.title"),
            errs,
            name,
            mfa_required,
            land,
            laender,
            pages,
            has_coat_of_arms,
        }),
        failed,
    )
}

pub async fn settings(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    settings_page(&st, &ctx, &p, FormErrors::none(catalog(ctx.lang)), None).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mfa_required: Option<String>,
    #[serde(default)]
    land: String,
}

pub async fn settings_save(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<SettingsForm>,
) -> Result<Response, HtmlError> {
    let s = tenants::Settings {
        name: &f.name,
        mfa_required: f.mfa_required.is_some(),
        land: &f.land,
    };
    match tenants::update_settings(&st.db.conn, &p, s).await {
        Ok(_) => {
            st.tenants.clear();
            Ok(Redirect::to("/admin/settings?notice=settings_saved").into_response())
        }
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            settings_page(&st, &ctx, &p, errs, Some(f)).await
        }
    }
}

/// Multipart upload of the coat of arms (the CSRF token travels in the query string).
pub async fn coat_of_arms_upload(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    mut mp: axum::extract::Multipart,
) -> Result<Response, HtmlError> {
    p.require(perms::ADMIN_SETTINGS)?;
    let mut data = Vec::new();
    let mut unreadable = false;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) if field.name() == Some("wappen") => match field.bytes().await {
                Ok(b) => data = b.to_vec(),
                Err(_) => unreadable = true,
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            // Over the body limit or a broken multipart body.
            Err(_) => {
                unreadable = true;
                break;
            }
        }
    }
    let result = if unreadable {
        Err(rathaus_core::validation::FieldErrors::single(
            "wappen",
            "err.image_too_large",
        ))
    } else if data.is_empty() {
        Err(rathaus_core::validation::FieldErrors::single(
            "wappen",
            "err.required",
        ))
    } else {
        tenants::set_coat_of_arms(&st.db.conn, &p, &data)
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => {
            st.tenants.clear();
            Ok(Redirect::to("/admin/settings?notice=coat_of_arms_saved").into_response())
        }
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            settings_page(&st, &ctx, &p, errs, None).await
        }
    }
}

pub async fn coat_of_arms_remove(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
) -> Result<Response, HtmlError> {
    tenants::remove_coat_of_arms(&st.db.conn, &p).await?;
    st.tenants.clear();
    Ok(Redirect::to("/admin/settings?notice=coat_of_arms_removed").into_response())
}

#[derive(Template)]
#[template(path = "admin/page_form.html")]
struct PageFormTpl {
    l: Layout,
    errs: FormErrors,
    slug: String,
    title: String,
    body: String,
    /// The rendered body when "Vorschau" was pressed (without JavaScript).
    preview: Option<String>,
}

fn known_page(slug: &str) -> Result<(), HtmlError> {
    if tenants::PAGES.iter().any(|(s, _)| *s == slug) {
        Ok(())
    } else {
        Err(rathaus_core::Error::NotFound.into())
    }
}

pub async fn page_edit(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(slug): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(perms::ADMIN_SETTINGS)?;
    known_page(&slug)?;
    let pg = tenants::page(&st.db.conn, p.tenant_id, &slug).await?;
    page(PageFormTpl {
        l: layout(&st, &ctx, "pages.edit"),
        errs: FormErrors::none(catalog(ctx.lang)),
        slug,
        title: pg.title,
        body: pg.body,
        preview: None,
    })
}

#[derive(Deserialize)]
pub struct PageForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    /// Set by the "Vorschau" button: render, do not save.
    #[serde(default)]
    preview: Option<String>,
}

pub async fn page_save(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(slug): Path<String>,
    Form(f): Form<PageForm>,
) -> Result<Response, HtmlError> {
    known_page(&slug)?;
    if f.preview.is_some() {
        p.require(perms::ADMIN_SETTINGS)?;
        let t = catalog(ctx.lang);
        let (preview, errs) = match crate::markdown::render(&f.body) {
            Ok(r) => (Some(r.html), FormErrors::none(t)),
            Err(_) => (None, markdown_too_large(t)),
        };
        let invalid = errs.any();
        return respond(
            page(PageFormTpl {
                l: layout(&st, &ctx, "pages.edit"),
                errs,
                slug,
                title: f.title,
                body: f.body,
                preview,
            }),
            invalid,
        );
    }
    match tenants::update_page(&st.db.conn, &p, &slug, &f.title, &f.body).await {
        Ok(_) => Ok(Redirect::to("/admin/settings?notice=page_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            respond(
                page(PageFormTpl {
                    l: layout(&st, &ctx, "pages.edit"),
                    errs,
                    slug,
                    title: f.title,
                    body: f.body,
                    preview: None,
                }),
                true,
            )
        }
    }
}

fn markdown_too_large(t: &'static crate::i18n::Catalog) -> FormErrors {
    let mut e = rathaus_core::validation::FieldErrors::new();
    e.add_arg(
        "body",
        "markdown.too_large",
        Some(crate::markdown::MAX_BYTES / 1024),
    );
    FormErrors::new(t, e)
}
