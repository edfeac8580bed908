//! Administration of the Mängelmelder (`reports.manage`) under /maengel/einstellungen: the
//! settings (map tiles, geocoder, duplicate radius, answer deadline, moderation), the tenant
//! boundary (GeoJSON upload or pasted), the street directory (CSV upload), the categories with
//! their Open311 attributes, and the Open311 API keys (issue 3, item 14).
//!
//! Uploads are multipart forms; their CSRF token travels in the query string (`?_csrf=`).

use crate::service::ReportsState;
use crate::service::{self, AttributeDef, CategoryInput, MANAGE};
use crate::service::{ApiKeyId, CategoryId};
use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::accounts;
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use serde::Deserialize;
use std::sync::Arc;

pub const SETTINGS: &str = "/maengel/einstellungen";
/// Boundary and street directory uploads: up to 20 MB.
pub const UPLOAD_LIMIT: usize = 20 * 1024 * 1024;

// ------------------------------------------------------------------ settings

#[derive(Deserialize, Default, Clone)]
pub struct SettingsForm {
    #[serde(default)]
    tile_url: String,
    #[serde(default)]
    tile_attribution: String,
    #[serde(default)]
    geocoder_url: String,
    #[serde(default)]
    duplicate_radius_m: String,
    #[serde(default)]
    answer_days: String,
    /// Checkbox.
    #[serde(default)]
    moderate_all: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    /// Addresses imported by the last upload.
    #[serde(default)]
    strassen: String,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsTpl {
    l: Layout,
    f: SettingsForm,
    errs: FormErrors,
    boundary_set: bool,
    boundary_text: String,
    street_count: u64,
    imported: Option<String>,
    /// German message of a refused street file (may hold several lines).
    streets_error: Option<String>,
    upload_csrf: String,
}

impl SettingsTpl {
    fn moderate_all(&self) -> bool {
        self.f.moderate_all.is_some()
    }
}

struct Extra {
    boundary_text: String,
    streets_error: Option<String>,
}

async fn render_settings(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: Option<SettingsForm>,
    errs: Option<FormErrors>,
    extra: Extra,
    imported: Option<u64>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let conn = &st.db.conn;
    let s = service::settings(conn, p.tenant_id).await?;
    let f = f.unwrap_or_else(|| SettingsForm {
        tile_url: s.tile_url.clone(),
        tile_attribution: s.tile_attribution.clone(),
        geocoder_url: s.geocoder_url.clone().unwrap_or_default(),
        duplicate_radius_m: s.duplicate_radius_m.to_string(),
        answer_days: s.answer_days.to_string(),
        moderate_all: s.moderate_all.then(|| "1".to_string()),
    });
    let failed = errs.as_ref().is_some_and(FormErrors::any) || extra.streets_error.is_some();
    respond(
        page(SettingsTpl {
            l: layout(st, ctx, "reports.admin.settings_title"),
            f,
            errs: errs.unwrap_or_else(|| FormErrors::none(t)),
            boundary_set: s.boundary.is_some(),
            boundary_text: extra.boundary_text,
            street_count: crate::service::directory::count(conn, p.tenant_id).await?,
            imported: imported.map(|n| t.fmt("reports.admin.streets_imported", &n.to_string())),
            streets_error: extra.streets_error,
            upload_csrf: rathaus_web::ctx::urlencode(&ctx.csrf),
        }),
        failed,
    )
}

fn no_extra() -> Extra {
    Extra {
        boundary_text: String::new(),
        streets_error: None,
    }
}

pub(crate) async fn settings_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<SettingsQuery>,
) -> Result<Response, HtmlError> {
    let imported = q.strassen.parse().ok();
    render_settings(&st, &ctx, &p, None, None, no_extra(), imported).await
}

fn number(errs: &mut FieldErrors, field: &str, v: &str) -> i32 {
    match v.trim().parse() {
        Ok(n) => n,
        Err(_) => {
            errs.add(field, "reports.admin.err.number");
            0
        }
    }
}

pub(crate) async fn save_settings(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<SettingsForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let radius = number(&mut errs, "duplicate_radius_m", &f.duplicate_radius_m);
    let days = number(&mut errs, "answer_days", &f.answer_days);
    let result = if errs.is_empty() {
        service::update_settings(
            &st.db.conn,
            rathaus_store::uow::Actor::User(&p),
            p.tenant_id,
            service::SettingsInput {
                tile_url: f.tile_url.clone(),
                tile_attribution: f.tile_attribution.clone(),
                geocoder_url: f.geocoder_url.clone(),
                duplicate_radius_m: radius,
                answer_days: days,
                moderate_all: f.moderate_all.is_some(),
            },
        )
        .await
        .map(|_| ())
    } else {
        Err(Error::Invalid(errs))
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("{SETTINGS}?notice=reports_admin_saved")).into_response())
        }
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            render_settings(&st, &ctx, &p, Some(f), Some(errs), no_extra(), None).await
        }
    }
}

/// The text fields and the first file of a multipart form; None when the body could not be
/// read (too large or broken).
async fn read_multipart(
    mp: std::result::Result<Multipart, MultipartRejection>,
    file_field: &str,
) -> Option<(std::collections::BTreeMap<String, String>, Vec<u8>)> {
    let mut fields = std::collections::BTreeMap::new();
    let mut file = Vec::new();
    let Ok(mut mp) = mp else {
        return Some((fields, file));
    };
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                if name == file_field {
                    file = field.bytes().await.ok()?.to_vec();
                } else {
                    let v = field.text().await.ok()?;
                    fields.insert(name, v);
                }
            }
            Ok(None) => return Some((fields, file)),
            // A form without any part (nothing chosen, nothing typed) is empty, not broken.
            Err(_) if fields.is_empty() && file.is_empty() => return Some((fields, file)),
            Err(_) => return None,
        }
    }
}

/// The boundary: an uploaded GeoJSON file wins over the text field; `entfernen` removes it.
pub(crate) async fn boundary(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let Some((fields, file)) = read_multipart(mp, "datei").await else {
        let errs = FormErrors::new(t, single("boundary", "reports.admin.err.upload"));
        return render_settings(&st, &ctx, &p, None, Some(errs), no_extra(), None).await;
    };
    let text = fields.get("geojson").cloned().unwrap_or_default();
    let remove = fields.contains_key("entfernen");
    let source = if !file.is_empty() {
        match String::from_utf8(file) {
            Ok(s) => Some(s),
            Err(_) => {
                let errs = FormErrors::new(t, single("boundary", "reports.err.boundary_json"));
                let extra = Extra {
                    boundary_text: text,
                    streets_error: None,
                };
                return render_settings(&st, &ctx, &p, None, Some(errs), extra, None).await;
            }
        }
    } else if !text.trim().is_empty() {
        Some(text.clone())
    } else {
        None
    };
    let result = match (source, remove) {
        (None, true) => {
            service::set_boundary(
                &st.db.conn,
                rathaus_store::uow::Actor::User(&p),
                p.tenant_id,
                None,
            )
            .await
        }
        (Some(s), _) => {
            service::set_boundary(
                &st.db.conn,
                rathaus_store::uow::Actor::User(&p),
                p.tenant_id,
                Some(s.trim()),
            )
            .await
        }
        (None, false) => Err(FieldErrors::single(
            "boundary",
            "reports.admin.err.no_boundary",
        )),
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("{SETTINGS}?notice=reports_admin_boundary")).into_response())
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            let extra = Extra {
                boundary_text: text,
                streets_error: None,
            };
            render_settings(&st, &ctx, &p, None, Some(errs), extra, None).await
        }
    }
}

fn single(field: &str, key: &str) -> FieldErrors {
    let mut e = FieldErrors::new();
    e.add(field, key);
    e
}

/// A street directory CSV replaces the tenant's directory (all or nothing).
pub(crate) async fn streets(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let refuse = |msg: String| Extra {
        boundary_text: String::new(),
        streets_error: Some(msg),
    };
    let Some((_, file)) = read_multipart(mp, "datei").await else {
        let extra = refuse(t.get("reports.admin.err.upload").to_string());
        return render_settings(&st, &ctx, &p, None, None, extra, None).await;
    };
    if file.is_empty() {
        let extra = refuse(t.get("reports.admin.err.no_file").to_string());
        return render_settings(&st, &ctx, &p, None, None, extra, None).await;
    }
    let parsed = tokio::task::spawn_blocking(move || crate::domain::streets::parse_csv(&file))
        .await
        .map_err(Error::internal)?;
    match parsed {
        Ok(addresses) => {
            let n = crate::service::directory::import(
                &st.db.conn,
                &state,
                rathaus_store::uow::Actor::User(&p),
                p.tenant_id,
                addresses,
                &|_| {},
            )
            .await?;
            Ok(Redirect::to(&format!("{SETTINGS}?strassen={n}")).into_response())
        }
        Err(e) => {
            let extra = refuse(e.message(t));
            render_settings(&st, &ctx, &p, None, None, extra, None).await
        }
    }
}

// ------------------------------------------------------------------ categories

struct CategoryRow {
    id: i64,
    name: String,
    code: String,
    group: String,
    department: String,
    active: bool,
    position: i32,
    attributes: usize,
}

#[derive(Template)]
#[template(path = "admin/categories.html")]
struct CategoriesTpl {
    l: Layout,
    rows: Vec<CategoryRow>,
}

pub(crate) async fn categories(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let conn = &st.db.conn;
    let departments = accounts::list_departments(conn, p.tenant_id).await?;
    let rows = service::list_categories(conn, p.tenant_id, false)
        .await?
        .into_iter()
        .map(|c| CategoryRow {
            department: c
                .department_id
                .and_then(|d| departments.iter().find(|x| x.id == d))
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            attributes: service::attributes_of(&c).len(),
            id: c.id,
            name: c.name,
            code: c.code,
            group: c.group_name,
            active: c.active,
            position: c.position,
        })
        .collect();
    page(CategoriesTpl {
        l: layout(&st, &ctx, "reports.admin.categories_title"),
        rows,
    })
}

#[derive(Deserialize, Default, Clone, Debug)]
pub struct CategoryForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub group_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: String,
    #[serde(default)]
    pub department_id: String,
    /// Checkbox.
    #[serde(default)]
    pub active: Option<String>,
    #[serde(default)]
    pub position: String,
    /// One attribute per line: `code | Frage | typ | pflicht | key=Name;key=Name`.
    #[serde(default)]
    pub attributes: String,
}

/// The attributes as editable lines.
pub fn attributes_text(attrs: &[AttributeDef]) -> String {
    attrs
        .iter()
        .map(|a| {
            let values = a
                .values
                .iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect::<Vec<_>>()
                .join(";");
            let required = if a.required { "pflicht" } else { "optional" };
            let mut line = format!(
                "{} | {} | {} | {required}",
                a.code, a.description, a.datatype
            );
            if !values.is_empty() {
                line.push_str(&format!(" | {values}"));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses the attribute lines; errors name the line (German, from the catalogue).
pub fn parse_attributes(text: &str) -> Result<Vec<AttributeDef>, (usize, &'static str)> {
    let mut out: Vec<AttributeDef> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        if parts.len() < 3 || parts.len() > 5 {
            return Err((n, "reports.admin.err.attr_parts"));
        }
        let code = parts[0];
        if code.is_empty()
            || code.len() > 64
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err((n, "reports.admin.err.attr_code"));
        }
        if out.iter().any(|a| a.code == code) {
            return Err((n, "reports.admin.err.attr_code_twice"));
        }
        let question = parts[1];
        if question.is_empty()
            || question.chars().count() > 300
            || service::contains_markup(question)
        {
            return Err((n, "reports.admin.err.attr_question"));
        }
        let datatype = parts[2].to_ascii_lowercase();
        if !service::DATATYPES.contains(&datatype.as_str()) {
            return Err((n, "reports.admin.err.attr_type"));
        }
        let required = match parts.get(3).map(|s| s.to_lowercase()) {
            None => false,
            Some(s) if s.is_empty() || s == "optional" || s == "nein" => false,
            Some(s) if s == "pflicht" || s == "ja" => true,
            Some(_) => return Err((n, "reports.admin.err.attr_required")),
        };
        let mut values = Vec::new();
        if let Some(list) = parts.get(4).filter(|s| !s.is_empty()) {
            for pair in list.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err((n, "reports.admin.err.attr_values"));
                };
                let (k, v) = (k.trim(), v.trim());
                if k.is_empty() || v.is_empty() || service::contains_markup(v) {
                    return Err((n, "reports.admin.err.attr_values"));
                }
                values.push((k.to_string(), v.to_string()));
            }
        }
        let is_list = datatype.ends_with("valuelist");
        if is_list && values.is_empty() {
            return Err((n, "reports.admin.err.attr_list_values"));
        }
        if !is_list && !values.is_empty() {
            return Err((n, "reports.admin.err.attr_values_not_list"));
        }
        out.push(AttributeDef {
            code: code.to_string(),
            description: question.to_string(),
            datatype,
            required,
            values,
        });
    }
    Ok(out)
}

/// The form as a service input, or the field errors found before the service is asked.
pub fn to_category_input(
    f: &CategoryForm,
    t: &rathaus_web::i18n::Catalog,
) -> Result<CategoryInput, (FieldErrors, Option<String>)> {
    let mut errs = FieldErrors::new();
    let mut attr_msg = None;
    let department_id = match f.department_id.trim() {
        "" => None,
        v => match v.parse() {
            Ok(d) => Some(d),
            Err(_) => {
                errs.add("department_id", "err.invalid_choice");
                None
            }
        },
    };
    let position = match f.position.trim() {
        "" => 0,
        v => match v.parse::<i32>() {
            Ok(n) if (0..=10_000).contains(&n) => n,
            _ => {
                errs.add("position", "reports.admin.err.position");
                0
            }
        },
    };
    let attributes = match parse_attributes(&f.attributes) {
        Ok(a) => a,
        Err((line, key)) => {
            errs.add("attributes", key);
            attr_msg = Some(
                t.fmt("reports.admin.err.attr_line", &line.to_string())
                    .replace("{msg}", t.get(key)),
            );
            Vec::new()
        }
    };
    if !errs.is_empty() {
        // Report the simple text checks too, not only after the rest is fixed.
        errs.text("name", &f.name, 200);
        return Err((errs, attr_msg));
    }
    Ok(CategoryInput {
        code: f.code.clone(),
        name: f.name.clone(),
        group_name: f.group_name.clone(),
        description: f.description.clone(),
        keywords: f.keywords.clone(),
        department_id,
        attributes,
        active: f.active.is_some(),
        position,
    })
}

#[derive(Template)]
#[template(path = "admin/category_form.html")]
struct CategoryFormTpl {
    l: Layout,
    /// None: a new category.
    id: Option<i64>,
    f: CategoryForm,
    errs: FormErrors,
    attr_msg: Option<String>,
    departments: Vec<(i64, String)>,
}

impl CategoryFormTpl {
    fn dept_selected(&self, id: &i64) -> bool {
        self.f.department_id.trim() == id.to_string()
    }
    fn active(&self) -> bool {
        self.f.active.is_some()
    }
}

async fn render_category(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Option<i64>,
    f: CategoryForm,
    errs: Option<(FormErrors, Option<String>)>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let departments = accounts::list_departments(&st.db.conn, p.tenant_id)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let failed = errs.is_some();
    let (errs, attr_msg) = errs.unwrap_or_else(|| (FormErrors::none(t), None));
    let title = if id.is_some() {
        "reports.admin.category_edit"
    } else {
        "reports.admin.category_new"
    };
    respond(
        page(CategoryFormTpl {
            l: layout(st, ctx, title),
            id,
            f,
            errs,
            attr_msg,
            departments,
        }),
        failed,
    )
}

pub(crate) async fn new_category(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let f = CategoryForm {
        active: Some("1".into()),
        position: "0".into(),
        ..Default::default()
    };
    render_category(&st, &ctx, &p, None, f, None).await
}

pub(crate) async fn edit_category(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    let c = service::category(&st.db.conn, p.tenant_id, CategoryId(id)).await?;
    let f = CategoryForm {
        attributes: attributes_text(&service::attributes_of(&c)),
        code: c.code,
        name: c.name,
        group_name: c.group_name,
        description: c.description,
        keywords: c.keywords,
        department_id: c.department_id.map(|d| d.to_string()).unwrap_or_default(),
        active: c.active.then(|| "1".into()),
        position: c.position.to_string(),
    };
    render_category(&st, &ctx, &p, Some(id), f, None).await
}

async fn save_category(
    st: &AppState,
    state: &ReportsState,
    ctx: &Ctx,
    p: &Principal,
    id: Option<i64>,
    f: CategoryForm,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let inp = match to_category_input(&f, t) {
        Ok(i) => i,
        Err((e, msg)) => {
            return render_category(st, ctx, p, id, f, Some((FormErrors::new(t, e), msg))).await;
        }
    };
    let result = match id {
        Some(id) => {
            service::update_category(
                &st.db.conn,
                state,
                rathaus_store::uow::Actor::User(p),
                p.tenant_id,
                CategoryId(id),
                inp,
            )
            .await
        }
        None => {
            service::create_category(
                &st.db.conn,
                state,
                rathaus_store::uow::Actor::User(p),
                p.tenant_id,
                inp,
            )
            .await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(
            "/maengel/einstellungen/kategorien?notice=reports_admin_category_saved",
        )
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_category(st, ctx, p, id, f, Some((errs, None))).await
        }
    }
}

pub(crate) async fn create_category(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<CategoryForm>,
) -> Result<Response, HtmlError> {
    save_category(&st, &state, &ctx, &p, None, f).await
}

pub(crate) async fn update_category(
    Extension(state): Extension<Arc<ReportsState>>,
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<CategoryForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    service::category(&st.db.conn, p.tenant_id, CategoryId(id)).await?;
    save_category(&st, &state, &ctx, &p, Some(id), f).await
}

// ------------------------------------------------------------------ API keys

struct KeyRow {
    id: i64,
    name: String,
    prefix: String,
    rate: String,
    created: String,
    revoked: String,
    rate_error: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    rate_limit: String,
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct KeysTpl {
    l: Layout,
    rows: Vec<KeyRow>,
    f: KeyForm,
    errs: FormErrors,
    /// The new key, shown once.
    created: Option<(String, String)>,
}

async fn render_keys(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: KeyForm,
    errs: Option<FormErrors>,
    created: Option<(String, String)>,
    rate_error: Option<(i64, String, String)>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let keys =
        crate::service::keys::list(&st.db.conn, rathaus_store::uow::Actor::User(p), p.tenant_id)
            .await?;
    let rows = keys
        .into_iter()
        .map(|k| {
            let err = rate_error.as_ref().filter(|(id, _, _)| *id == k.id);
            KeyRow {
                rate: err
                    .map(|(_, typed, _)| typed.clone())
                    .unwrap_or_else(|| k.rate_limit.to_string()),
                rate_error: err.map(|(_, _, m)| m.clone()),
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                created: crate::http::pages::staff::fmt_time(&k.created_at),
                revoked: k
                    .revoked_at
                    .as_ref()
                    .map(crate::http::pages::staff::fmt_time)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let failed = errs.as_ref().is_some_and(FormErrors::any) || rate_error.is_some();
    respond(
        page(KeysTpl {
            l: layout(st, ctx, "reports.admin.keys_title"),
            rows,
            f,
            errs: errs.unwrap_or_else(|| FormErrors::none(t)),
            created,
        }),
        failed,
    )
}

pub(crate) async fn keys_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let f = KeyForm {
        name: String::new(),
        rate_limit: crate::service::keys::DEFAULT_RATE.to_string(),
    };
    render_keys(&st, &ctx, &p, f, None, None, None).await
}

/// Creates a key and shows it once on the answer page (never in a URL).
pub(crate) async fn create_key(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<KeyForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let t = catalog(ctx.lang);
    let rate = match f.rate_limit.trim().parse::<i32>() {
        Ok(n) => Ok(n),
        Err(_) => {
            let mut e = FieldErrors::new();
            e.add("rate_limit", "reports.err.rate_limit");
            e.text("name", &f.name, 200);
            Err(Error::Invalid(e))
        }
    };
    let result = match rate {
        Ok(rate) => {
            crate::service::keys::create(
                &st.db.conn,
                rathaus_store::uow::Actor::User(&p),
                p.tenant_id,
                &f.name,
                rate,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((k, secret)) => {
            let blank = KeyForm {
                name: String::new(),
                rate_limit: crate::service::keys::DEFAULT_RATE.to_string(),
            };
            render_keys(&st, &ctx, &p, blank, None, Some((k.name, secret)), None).await
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_keys(&st, &ctx, &p, f, Some(errs), None, None).await
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct RateForm {
    #[serde(default)]
    rate_limit: String,
}

pub(crate) async fn set_rate(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<RateForm>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    let result = match f.rate_limit.trim().parse::<i32>() {
        Ok(n) => crate::service::keys::set_rate(
            &st.db.conn,
            rathaus_store::uow::Actor::User(&p),
            p.tenant_id,
            ApiKeyId(id),
            n,
        )
        .await
        .map(|_| ()),
        Err(_) => Err(FieldErrors::single("rate_limit", "reports.err.rate_limit")),
    };
    match result {
        Ok(()) => Ok(Redirect::to(
            "/maengel/einstellungen/api-schluessel?notice=reports_admin_key_rate",
        )
        .into_response()),
        Err(Error::Invalid(e)) => {
            let msg = FormErrors::new(t, e).msg("rate_limit").unwrap_or_default();
            let f0 = KeyForm {
                name: String::new(),
                rate_limit: crate::service::keys::DEFAULT_RATE.to_string(),
            };
            render_keys(&st, &ctx, &p, f0, None, None, Some((id, f.rate_limit, msg))).await
        }
        Err(e) => Err(HtmlError(e)),
    }
}

pub(crate) async fn revoke_key(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    p.require(MANAGE)?;
    let id = parse_id(&id)?;
    crate::service::keys::revoke(
        &st.db.conn,
        rathaus_store::uow::Actor::User(&p),
        p.tenant_id,
        ApiKeyId(id),
    )
    .await?;
    Ok(
        Redirect::to("/maengel/einstellungen/api-schluessel?notice=reports_admin_key_revoked")
            .into_response(),
    )
}
