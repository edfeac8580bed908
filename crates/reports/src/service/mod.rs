//! The Mängelmelder service: settings, categories, the submission of a report (from the web
//! form, from Open311 or by staff), the public and secret views of it, and the workflow staff
//! work it through. The only way into the module's tables; every change is checked
//! (permission first, then the input) and written with its audit event in one transaction.

pub mod cache;
pub mod directory;
pub mod geocoder;
pub mod inbox;
pub mod keys;
pub mod notify;
pub mod open311;
pub mod photo_clean;
pub mod photo_files;
pub mod pow;
pub mod public;
pub mod retention;
pub mod search;
pub mod state;
pub mod tiles;

pub use state::ReportsState;

use crate::domain::geo::{self, Boundary, Point};
use crate::store::entity::{category, counter, follower, photo, report, settings, update};
use chrono::{DateTime, Datelike, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::images::{Bounds, ImageError};
use rathaus_store::uow::{Actor as By, Scope, Tx};
use rathaus_store::{Actor, accounts, audit, begin, db_err, random_token, sha256_hex};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// An anonymous citizen submitting through the web form (recorded as `citizen`).
pub const CITIZEN: By<'static> = By::system("citizen");
/// An anonymous citizen submitting through an Open311 app (recorded as `open311`).
pub const OPEN311_APP: By<'static> = By::system("open311");

pub use category::Model as Category;
pub use report::Model as Report;

pub use crate::permissions::{HANDLE, MANAGE, MODERATE, PERSONAL_DATA};

// ---------------------------------------------------------------- statuses

pub use crate::domain::{
    ApiKeyId, AttributeType, CategoryId, FollowerId, ModerationState, PhotoId, Priority, ReportId,
    Source, Status,
};

// The strings of the enums, as the columns and forms carry them.
pub const NEW: &str = Status::New.as_str();
pub const CONFIRMED: &str = Status::Confirmed.as_str();
pub const IN_PROGRESS: &str = Status::InProgress.as_str();
pub const PLANNED: &str = Status::Planned.as_str();
pub const DONE: &str = Status::Done.as_str();
pub const NOT_RESPONSIBLE: &str = Status::NotResponsible.as_str();
pub const REJECTED: &str = Status::Rejected.as_str();
pub const DUPLICATE: &str = Status::Duplicate.as_str();
/// In workflow order; the first four are open (Open311 `open`), the rest closed.
pub const STATUSES: &[&str] = &[
    NEW,
    CONFIRMED,
    IN_PROGRESS,
    PLANNED,
    DONE,
    NOT_RESPONSIBLE,
    REJECTED,
    DUPLICATE,
];

/// Moderation states.
pub const PENDING: &str = ModerationState::Pending.as_str();
pub const PUBLISHED: &str = ModerationState::Published.as_str();
pub const HIDDEN: &str = ModerationState::Hidden.as_str();

pub const PRIORITIES: &[&str] = &[
    Priority::Low.as_str(),
    Priority::Normal.as_str(),
    Priority::High.as_str(),
];

// ---------------------------------------------------------------- limits

pub const MAX_DESCRIPTION: usize = 4_000;
pub const MAX_PHOTOS: usize = 3;
pub const MAX_NAME: usize = 200;
pub const MAX_PHONE: usize = 50;
pub const MAX_ADDRESS: usize = 300;
pub const MAX_REPLY: usize = 4_000;
/// Uploads: PNG, JPEG or WebP up to 10 MB and 8000 × 8000 px.
pub static PHOTO_BOUNDS: Bounds = Bounds {
    max_bytes: 10 * 1024 * 1024,
    max_pixels: 8000,
};
/// Decoded pixels of one upload at most (8000 × 8000 RGBA).
pub const PHOTO_MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// Longest side of the stored picture and of its thumbnail.
pub const PHOTO_FIT: u32 = 1600;
pub const THUMB_FIT: u32 = 320;

// ---------------------------------------------------------------- settings

pub const DEFAULT_TILE_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
pub const DEFAULT_TILE_ATTRIBUTION: &str = "© OpenStreetMap-Mitwirkende";

fn default_settings(tenant: TenantId) -> settings::Model {
    settings::Model {
        tenant_id: tenant.0,
        tile_url: DEFAULT_TILE_URL.to_string(),
        tile_attribution: DEFAULT_TILE_ATTRIBUTION.to_string(),
        geocoder_url: None,
        duplicate_radius_m: 50,
        answer_days: 3,
        moderate_all: false,
        boundary: None,
        altcha_key: String::new(),
        updated_at: Utc::now(),
    }
}

/// The tenant's settings (defaults until an administrator saves them).
pub async fn settings(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<settings::Model> {
    Ok(settings::Entity::find_by_id(tenant.0)
        .one(conn)
        .await?
        .unwrap_or_else(|| default_settings(tenant)))
}

/// The settings row, created with defaults (and a fresh ALTCHA key) when missing.
pub async fn ensure_settings(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<settings::Model> {
    if let Some(s) = settings::Entity::find_by_id(tenant.0).one(conn).await? {
        return Ok(s);
    }
    let mut s = default_settings(tenant);
    s.altcha_key = random_token(32);
    let am: settings::ActiveModel = s.clone().into();
    settings::Entity::insert(am)
        .on_conflict(
            OnConflict::column(settings::Column::TenantId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    settings::Entity::find_by_id(tenant.0)
        .one(conn)
        .await?
        .ok_or_else(|| Error::internal("reports settings vanished"))
}

/// What an administrator edits on the settings page.
#[derive(Debug, Clone)]
pub struct SettingsInput {
    pub tile_url: String,
    pub tile_attribution: String,
    pub geocoder_url: String,
    pub duplicate_radius_m: i32,
    pub answer_days: i32,
    pub moderate_all: bool,
}

fn check_url(errs: &mut FieldErrors, field: &str, value: &str) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    if v.chars().count() > 500 {
        errs.add(field, "reports.err.url");
    } else if let Err(refusal) = rathaus_store::outbound::check_url(v) {
        errs.add(field, refusal.key());
    }
}

pub async fn update_settings<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    inp: SettingsInput,
) -> Result<settings::Model> {
    who.require(MANAGE)?;
    who.require_tenant(tenant)?;
    let mut errs = FieldErrors::new();
    check_url(&mut errs, "tile_url", &inp.tile_url);
    let tiles = inp.tile_url.trim();
    let placeholders = ["{z}", "{x}", "{y}"].iter().all(|p| tiles.contains(p));
    if !tiles.is_empty() && !placeholders {
        errs.add("tile_url", "reports.err.tile_url");
    }
    check_url(&mut errs, "geocoder_url", &inp.geocoder_url);
    let attribution = errs.optional_text("tile_attribution", &inp.tile_attribution, 500);
    if !(5..=1000).contains(&inp.duplicate_radius_m) {
        errs.add("duplicate_radius_m", "reports.err.radius");
    }
    if !(1..=60).contains(&inp.answer_days) {
        errs.add("answer_days", "reports.err.answer_days");
    }
    errs.into_result()?;
    let txn = begin(db).await?;
    let before = ensure_settings(&txn, tenant).await?;
    let mut am: settings::ActiveModel = before.clone().into();
    am.tile_url = Set(inp.tile_url.trim().to_string());
    am.tile_attribution = Set(attribution);
    let geocoder = inp.geocoder_url.trim();
    am.geocoder_url = Set((!geocoder.is_empty()).then(|| geocoder.to_string()));
    am.duplicate_radius_m = Set(inp.duplicate_radius_m);
    am.answer_days = Set(inp.answer_days);
    am.moderate_all = Set(inp.moderate_all);
    am.updated_at = Set(Utc::now());
    let after = am.update(&txn).await?;
    audit::record(
        &txn,
        tenant,
        &who.recorded(),
        NewEvent::new(
            "reports.settings.updated",
            "reports_settings",
            Some(tenant.0),
        )
        .details(json!({
            "tile_url": after.tile_url,
            "geocoder_url": after.geocoder_url,
            "duplicate_radius_m": after.duplicate_radius_m,
            "answer_days": after.answer_days,
            "moderate_all": after.moderate_all,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Sets (or with None removes) the tenant's boundary, a GeoJSON polygon or multipolygon.
pub async fn set_boundary<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    geojson: Option<&str>,
) -> Result<()> {
    if let Some(w) = who.principal() {
        w.require(MANAGE)?;
        w.require_tenant(tenant)?;
    }
    if let Some(text) = geojson {
        Boundary::parse(text).map_err(|e| FieldErrors::single("boundary", e.key()))?;
    }
    let txn = begin(db).await?;
    let s = ensure_settings(&txn, tenant).await?;
    let mut am: settings::ActiveModel = s.into();
    am.boundary = Set(geojson.map(str::to_string));
    am.updated_at = Set(Utc::now());
    am.update(&txn).await?;
    let actor = who.recorded();
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new("reports.boundary.set", "reports_settings", Some(tenant.0))
            .details(json!({"removed": geojson.is_none()})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The tenant's boundary, parsed once per settings change (a boundary may have 100,000
/// vertices; parsing it for every report would cost more than the rest of the request).
pub async fn boundary(
    conn: &impl ConnectionTrait,
    state: &ReportsState,
    tenant: TenantId,
) -> Result<Option<Arc<Boundary>>> {
    boundary_of(state, &settings(conn, tenant).await?)
}

/// The boundary of settings the caller has already read (no second settings query).
pub fn boundary_of(state: &ReportsState, s: &settings::Model) -> Result<Option<Arc<Boundary>>> {
    let cache = &state.boundaries;
    if let Ok(c) = cache.lock()
        && let Some((at, b)) = c.get(&s.tenant_id)
        && *at == s.updated_at
    {
        return Ok(b.clone());
    }
    let parsed = match s.boundary.as_deref() {
        Some(text) => Some(Arc::new(Boundary::parse(text).map_err(Error::internal)?)),
        None => None,
    };
    if let Ok(mut c) = cache.lock() {
        c.insert(s.tenant_id, (s.updated_at, parsed.clone()));
    }
    Ok(parsed)
}

// ---------------------------------------------------------------- categories

/// An Open311 attribute of a category (a question the form asks in addition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDef {
    pub code: String,
    /// The question, shown as the field's label.
    pub description: String,
    /// `string`, `number`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: String,
    pub required: bool,
    /// For the list types: (key, name).
    #[serde(default)]
    pub values: Vec<(String, String)>,
}

pub const DATATYPES: &[&str] = &[
    AttributeType::String.as_str(),
    AttributeType::Number.as_str(),
    AttributeType::Datetime.as_str(),
    AttributeType::Text.as_str(),
    AttributeType::SingleValueList.as_str(),
    AttributeType::MultiValueList.as_str(),
];

pub fn attributes_of(c: &Category) -> Vec<AttributeDef> {
    serde_json::from_str(&c.attributes).unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub group_name: String,
    pub description: String,
    pub keywords: String,
    pub department_id: Option<i64>,
    pub attributes: Vec<AttributeDef>,
    pub active: bool,
    pub position: i32,
}

pub async fn list_categories(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    only_active: bool,
) -> Result<Vec<Category>> {
    let mut q = rathaus_store::uow::scoped::<category::Entity>(tenant);
    if only_active {
        q = q.filter(category::Column::Active.eq(true));
    }
    q.order_by_asc(category::Column::GroupName)
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Name)
        .all(conn)
        .await
        .map_err(db_err)
}

pub async fn category(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: CategoryId,
) -> Result<Category> {
    rathaus_store::uow::scoped_by_id::<category::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn category_by_code(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    code: &str,
) -> Result<Option<Category>> {
    rathaus_store::uow::scoped::<category::Entity>(tenant)
        .filter(category::Column::Code.eq(code))
        .one(conn)
        .await
        .map_err(db_err)
}

async fn validate_category(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: Option<i64>,
    inp: &CategoryInput,
) -> Result<(String, String)> {
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, 200);
    let code = inp.code.trim().to_string();
    if code.is_empty()
        || code.len() > 64
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errs.add("code", "reports.err.code");
    } else if let Some(other) = category_by_code(conn, tenant, &code).await?
        && Some(other.id) != id
    {
        errs.add("code", "reports.err.code_taken");
    }
    if inp.group_name.chars().count() > 100 {
        errs.add_arg("group_name", "err.too_long", Some(100));
    }
    if inp.description.chars().count() > 1000 {
        errs.add_arg("description", "err.too_long", Some(1000));
    }
    if inp.keywords.chars().count() > 500 {
        errs.add_arg("keywords", "err.too_long", Some(500));
    }
    if let Some(d) = inp.department_id
        && !accounts::list_departments(conn, tenant)
            .await?
            .iter()
            .any(|x| x.id == d)
    {
        errs.add("department_id", "reports.err.department");
    }
    for a in &inp.attributes {
        if a.code.trim().is_empty()
            || a.description.trim().is_empty()
            || !DATATYPES.contains(&a.datatype.as_str())
            || (a.datatype.ends_with("valuelist") && a.values.is_empty())
        {
            errs.add("attributes", "reports.err.attribute");
        }
    }
    errs.into_result()?;
    Ok((code, name))
}

pub async fn create_category<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    state: &ReportsState,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    inp: CategoryInput,
) -> Result<Category> {
    who.require(MANAGE)?;
    who.require_tenant(tenant)?;
    let txn = begin(db).await?;
    let (code, name) = validate_category(&txn, tenant, None, &inp).await?;
    let c = category::ActiveModel {
        tenant_id: Set(tenant.0),
        code: Set(code),
        name: Set(name),
        group_name: Set(inp.group_name.trim().to_string()),
        description: Set(inp.description.trim().to_string()),
        keywords: Set(inp.keywords.trim().to_string()),
        department_id: Set(inp.department_id),
        attributes: Set(serde_json::to_string(&inp.attributes).map_err(Error::internal)?),
        active: Set(inp.active),
        position: Set(inp.position),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        tenant,
        &who.recorded(),
        NewEvent::new("reports.category.created", "reports_category", Some(c.id))
            .details(category_json(&c)),
    )
    .await?;
    txn.commit().await?;
    // Category names and codes appear in cached public answers.
    state.generations.bump(tenant);
    Ok(c)
}

pub async fn update_category<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    state: &ReportsState,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    id: CategoryId,
    inp: CategoryInput,
) -> Result<Category> {
    who.require(MANAGE)?;
    who.require_tenant(tenant)?;
    let txn = begin(db).await?;
    let before = category(&txn, tenant, id).await?;
    let (code, name) = validate_category(&txn, tenant, Some(id.0), &inp).await?;
    let mut am: category::ActiveModel = before.clone().into();
    am.code = Set(code);
    am.name = Set(name);
    am.group_name = Set(inp.group_name.trim().to_string());
    am.description = Set(inp.description.trim().to_string());
    am.keywords = Set(inp.keywords.trim().to_string());
    am.department_id = Set(inp.department_id);
    am.attributes = Set(serde_json::to_string(&inp.attributes).map_err(Error::internal)?);
    am.active = Set(inp.active);
    am.position = Set(inp.position);
    let after = am.update(&txn).await?;
    audit::record(
        &txn,
        tenant,
        &who.recorded(),
        NewEvent::new("reports.category.updated", "reports_category", Some(id))
            .details(json!({"before": category_json(&before), "after": category_json(&after)})),
    )
    .await?;
    txn.commit().await?;
    // Category names and codes appear in cached public answers.
    state.generations.bump(tenant);
    Ok(after)
}

fn category_json(c: &Category) -> serde_json::Value {
    json!({
        "code": c.code, "name": c.name, "group": c.group_name,
        "department_id": c.department_id, "active": c.active,
    })
}

// ---------------------------------------------------------------- submission

/// A report as the form, the Open311 API or staff hand it in.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub category_id: Option<i64>,
    /// From the map (or Open311 `lat`/`long`); wins over `address` when both are given.
    pub position: Option<(f64, f64)>,
    /// Typed address; resolved against the street directory when no position is given.
    pub address: String,
    pub description: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    /// The data-protection consent of the web form (Open311 clients agree by their terms).
    pub consent: bool,
    /// Raw uploads, re-encoded by `submit`.
    pub photos: Vec<Vec<u8>>,
    /// Attribute code → answer (Open311 `attribute[CODE]`, form `attr_CODE`).
    pub attributes: BTreeMap<String, String>,
    pub api_key_id: Option<i64>,
    /// Absolute base URL of the tenant (`https://host`) for the links in mails.
    pub base_url: String,
}

/// A stored report and the secrets its submitter gets once.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub report: Report,
    /// Token of the secret status link `/maengel/status/{token}`.
    pub status_token: String,
    /// Open311 token when moderation holds the report back.
    pub open311_token: Option<String>,
}

/// Text with markup in it (`<b>`, `<script`, `</p>`, `<!--`) is refused rather than silently
/// altered; "a < b" and "3<4" stay possible.
pub fn contains_markup(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
}

fn image_error_key(e: &ImageError) -> &'static str {
    match e {
        ImageError::UnsupportedType => "reports.err.image_type",
        ImageError::TooLarge => "reports.err.image_large",
        ImageError::Broken => "reports.err.image_broken",
    }
}

/// Checks and stores a report with its photos, its reference number, its first follower (the
/// reporter, when an e-mail was given: a confirmation mail goes out) and the audit event, all
/// in one transaction. `source` decides moderation: without the proof of work (no JavaScript)
/// the report waits for a moderator, as every report does when the tenant moderates all.
pub async fn submit(
    store: &rathaus_store::Db,
    files: &rathaus_store::files::FileStore,
    state: &ReportsState,
    tenant: TenantId,
    source: Source,
    by: By<'_>,
    inp: NewReport,
) -> Result<Submitted> {
    let db = &store.conn;
    // Citizens ([`CITIZEN`], [`OPEN311_APP`]) need no permission; staff need `reports.handle`.
    by.require(HANDLE)?;
    by.require_tenant(tenant)?;
    let mut errs = FieldErrors::new();
    let cat = match inp.category_id {
        None => {
            errs.add("category", "reports.err.category_missing");
            None
        }
        Some(id) => match category(db, tenant, CategoryId(id)).await {
            Ok(c) if c.active => Some(c),
            _ => {
                errs.add("category", "reports.err.category_unknown");
                None
            }
        },
    };
    // One read of the settings for the boundary and the geocoder.
    let tenant_settings = settings(db, tenant).await?;
    let area = boundary_of(state, &tenant_settings)?;
    let address = inp.address.trim().to_string();
    if address.chars().count() > MAX_ADDRESS {
        errs.add_arg("address", "err.too_long", Some(MAX_ADDRESS));
    }
    let mut point = None;
    match inp.position {
        Some((lat, lon)) => match Point::new(lat, lon) {
            Ok(p) => point = Some(p),
            Err(e) => errs.add("location", e.key()),
        },
        None if address.is_empty() => errs.add("location", "reports.err.location_missing"),
        None => match crate::service::directory::resolve(db, state, tenant, &address).await? {
            Some(a) => point = Point::new(a.lat, a.lon).ok(),
            None => match geocode(&tenant_settings, area.as_deref(), &address).await {
                Some((lat, lon)) => point = Point::new(lat, lon).ok(),
                None => errs.add("address", "reports.err.address_unknown"),
            },
        },
    }
    if let Some(p) = point
        && let Some(b) = &area
        && let Err(e) = b.require_inside(&p)
    {
        errs.add("location", e.key());
    }
    let description = inp.description.trim().to_string();
    if description.is_empty() {
        errs.add("description", "err.required");
    } else if description.chars().count() > MAX_DESCRIPTION {
        errs.add_arg(
            "description",
            "reports.err.description_long",
            Some(MAX_DESCRIPTION),
        );
    } else if contains_markup(&description) {
        errs.add("description", "reports.err.markup");
    }
    let name = inp.name.trim().to_string();
    if name.chars().count() > MAX_NAME {
        errs.add_arg("name", "err.too_long", Some(MAX_NAME));
    } else if contains_markup(&name) {
        errs.add("name", "reports.err.markup");
    }
    let email = if inp.email.trim().is_empty() {
        String::new()
    } else {
        errs.email("email", &inp.email)
    };
    let phone = inp.phone.trim().to_string();
    if phone.chars().count() > MAX_PHONE
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-/()".contains(c))
    {
        errs.add("phone", "reports.err.phone");
    }
    if matches!(source, Source::Web | Source::WebNoJs) && !inp.consent {
        errs.add("consent", "reports.err.consent");
    }
    if inp.photos.len() > MAX_PHOTOS {
        errs.add_arg("photos", "reports.err.photo_count", Some(MAX_PHOTOS));
    }
    let mut answers = BTreeMap::new();
    if let Some(c) = &cat {
        for a in attributes_of(c) {
            let v = inp
                .attributes
                .get(&a.code)
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            let field = format!("attr_{}", a.code);
            if v.is_empty() {
                if a.required {
                    errs.add(&field, "err.required");
                }
                continue;
            }
            // An unknown type is answered as free text, as Open311 does.
            let ok = match a.datatype.parse::<AttributeType>() {
                Ok(AttributeType::SingleValueList) => a.values.iter().any(|(k, _)| *k == v),
                Ok(AttributeType::MultiValueList) => v
                    .split(',')
                    .all(|x| a.values.iter().any(|(k, _)| k == x.trim())),
                Ok(AttributeType::Number) => {
                    v.replace(',', ".").parse::<f64>().is_ok_and(f64::is_finite)
                }
                _ => v.chars().count() <= 1000 && !contains_markup(&v),
            };
            if ok {
                answers.insert(a.code.clone(), v);
            } else {
                errs.add(&field, "reports.err.attribute_value");
            }
        }
    }
    // The cheap checks now; decoding and re-encoding happen in the background
    // (`photo_clean`), so a submission costs no more than storing its uploads.
    let mut sizes = Vec::with_capacity(inp.photos.len());
    for (i, bytes) in inp.photos.iter().enumerate() {
        match photo_clean::check(bytes) {
            Ok(wh) => sizes.push(wh),
            Err(e) => errs.add_arg("photos", image_error_key(&e), Some(i + 1)),
        }
    }
    errs.into_result()?;
    let (Some(cat), Some(point)) = (cat, point) else {
        return Err(Error::internal(
            "validated report without category or point",
        ));
    };

    // The uploads go to the file service first, in quarantine (each put commits its own
    // reference); when the report's transaction fails, those references are removed again
    // (the file collector then removes the content).
    let mut stored = Vec::with_capacity(inp.photos.len());
    for bytes in &inp.photos {
        match photo_clean::quarantine(store, files, tenant, by, bytes).await {
            Ok(f) => stored.push(f),
            Err(e) => {
                photo_files::forget(store, files, tenant, by, &stored).await;
                return Err(e);
            }
        }
    }
    let saved = async {
        let now = Utc::now();
        let txn = begin(db).await?;
        let s = ensure_settings(&txn, tenant).await?;
        let held = source == Source::WebNoJs || s.moderate_all;
        let reference = next_reference(&txn, tenant, now.year()).await?;
        let status_token = random_token(24);
        let open311_token = (held && source == Source::Open311).then(|| random_token(18));
        let land = rathaus_store::tenants::land_of(&txn, tenant).await?;
        let due_at = rathaus_core::calendar::add_working_days(
            land,
            now,
            std::cmp::max(s.answer_days, 1) as u32,
        );
        let r = report::ActiveModel {
            tenant_id: Set(tenant.0),
            reference: Set(reference),
            category_id: Set(cat.id),
            status: Set(NEW.to_string()),
            is_open: Set(true),
            moderation: Set(if held { PENDING } else { PUBLISHED }.to_string()),
            source: Set(source.as_str().to_string()),
            lat: Set(point.lat()),
            cell: Set(crate::domain::geo::cell_of(point)),
            lon: Set(point.lon()),
            address: Set(address),
            description: Set(description.clone()),
            public_description: Set(description),
            status_notes: Set(String::new()),
            priority: Set(Priority::Normal.as_str().to_string()),
            due_at: Set(due_at),
            department_id: Set(cat.department_id),
            assignee_id: Set(None),
            duplicate_of: Set(None),
            reporter_name: Set(name),
            reporter_email: Set(email.clone()),
            reporter_phone: Set(phone),
            status_token_hash: Set(sha256_hex(&status_token)),
            open311_token: Set(open311_token.clone()),
            api_key_id: Set(inp.api_key_id),
            attributes: Set(serde_json::to_string(&answers).map_err(Error::internal)?),
            created_at: Set(now),
            updated_at: Set(now),
            first_answer_at: Set(None),
            closed_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for (i, ((w, h), f)) in sizes.iter().zip(&stored).enumerate() {
            let p = photo::ActiveModel {
                tenant_id: Set(tenant.0),
                report_id: Set(r.id),
                position: Set(i as i32),
                hidden: Set(false),
                // Set with the re-encoded picture.
                sha256: Set(String::new()),
                width: Set(*w as i32),
                height: Set(*h as i32),
                image: Set(None),
                thumb: Set(None),
                image_file_id: Set(None),
                thumb_file_id: Set(None),
                quarantine_file_id: Set(Some(f.0)),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            photo_clean::enqueue(&txn, tenant, PhotoId(p.id)).await?;
        }
        if !email.is_empty() {
            let f = add_follower(&txn, tenant, r.id, &email, now).await?;
            if let Some(f) = f {
                crate::service::notify::confirm_follower(&txn, tenant, &inp.base_url, &r, &f, true)
                    .await?;
            }
        }
        let actor = by.recorded();
        audit::record(
            &txn,
            tenant,
            &actor,
            NewEvent::new("reports.report.created", "reports_report", Some(r.id)).details(json!({
                "reference": r.reference,
                "category": cat.code,
                "source": r.source,
                "moderation": r.moderation,
                "description": r.description,
                "api_key_id": r.api_key_id,
            })),
        )
        .await?;
        search::index_later(&txn, tenant, ReportId(r.id)).await?;
        txn.commit().await?;
        state.generations.bump(tenant);
        if !stored.is_empty() {
            state.photo_submitted();
        }
        Ok(Submitted {
            report: r,
            status_token,
            open311_token,
        })
    }
    .await;
    if saved.is_err() && !stored.is_empty() {
        photo_files::forget(store, files, tenant, by, &stored).await;
    }
    saved
}

/// Asks the tenant's geocoder (if one is configured) for an address the directory lacks.
async fn geocode(
    s: &settings::Model,
    area: Option<&Boundary>,
    address: &str,
) -> Option<(f64, f64)> {
    let url = s.geocoder_url.as_deref()?;
    crate::service::geocoder::geocode(url, address, area.map(Boundary::bbox)).await
}

/// The next `M-YYYY-NNNNNN` of a tenant; the counter row's update serialises concurrent
/// submissions (row lock on PostgreSQL, the write lock on SQLite).
async fn next_reference(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    year: i32,
) -> Result<String> {
    for _ in 0..3 {
        let bumped = rathaus_store::uow::scoped_update::<counter::Entity>(tenant)
            .col_expr(
                counter::Column::Next,
                Expr::col(counter::Column::Next).add(1),
            )
            .filter(counter::Column::Year.eq(year))
            .exec_with_returning(conn)
            .await?;
        if let Some(c) = bumped.first() {
            return Ok(format!("M-{year}-{:06}", c.next - 1));
        }
        counter::Entity::insert(counter::ActiveModel {
            tenant_id: Set(tenant.0),
            year: Set(year),
            next: Set(1),
        })
        .on_conflict(
            OnConflict::columns([counter::Column::TenantId, counter::Column::Year])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    }
    Err(Error::internal("reference counter not available"))
}

// ---------------------------------------------------------------- reading

pub async fn find(conn: &impl ConnectionTrait, tenant: TenantId, id: ReportId) -> Result<Report> {
    rathaus_store::uow::scoped_by_id::<report::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn by_reference(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    reference: &str,
) -> Result<Report> {
    rathaus_store::uow::scoped::<report::Entity>(tenant)
        .filter(report::Column::Reference.eq(reference.trim().to_ascii_uppercase()))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// A published report by its reference number (the public page), else 404.
pub async fn published(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    reference: &str,
) -> Result<Report> {
    let r = by_reference(conn, tenant, reference).await?;
    if r.moderation == PUBLISHED {
        Ok(r)
    } else {
        Err(Error::NotFound)
    }
}

/// The report behind a secret status link (any moderation state: the reporter may see their
/// own report while it waits).
pub async fn by_status_token(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<Report> {
    if token.is_empty() || token.len() > 64 {
        return Err(Error::NotFound);
    }
    rathaus_store::uow::scoped::<report::Entity>(tenant)
        .filter(report::Column::StatusTokenHash.eq(sha256_hex(token)))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Staff view of one report.
pub async fn get<C: ConnectionTrait>(s: &Scope<'_, C>, id: ReportId) -> Result<Report> {
    inbox::require_staff(s.actor())?;
    s.get::<report::Entity, _>(id).await
}

/// A photo's metadata (no bytes).
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct PhotoMeta {
    pub id: i64,
    pub report_id: i64,
    pub position: i32,
    pub hidden: bool,
    pub width: i32,
    pub height: i32,
    pub sha256: String,
}

/// A reporter's name and contact details as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// The reporter's contact details for staff holding `reports.personal_data`; None when the
/// report was made without any. Every read is an audit event.
pub async fn reporter_contact<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    by: By<'_>,
    r: &Report,
) -> Result<Option<Contact>> {
    by.require(PERSONAL_DATA)?;
    let tenant = TenantId(r.tenant_id);
    by.require_tenant(tenant)?;
    if r.reporter_name.is_empty() && r.reporter_email.is_empty() && r.reporter_phone.is_empty() {
        return Ok(None);
    }
    let tx = Tx::begin(db, tenant, by).await?;
    tx.audit(
        NewEvent::new("reports.personal_data_read", "reports_report", Some(r.id))
            .details(json!({"reference": r.reference})),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Contact {
        name: r.reporter_name.clone(),
        email: r.reporter_email.clone(),
        phone: r.reporter_phone.clone(),
    }))
}

/// The photos of a report that are re-encoded (not those still in quarantine), hidden ones
/// only when `with_hidden`.
pub async fn photos_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    report_id: ReportId,
    with_hidden: bool,
) -> Result<Vec<PhotoMeta>> {
    let mut q = rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .columns([
            photo::Column::Id,
            photo::Column::ReportId,
            photo::Column::Position,
            photo::Column::Hidden,
            photo::Column::Width,
            photo::Column::Height,
            photo::Column::Sha256,
        ])
        .filter(photo::Column::ReportId.eq(report_id.0))
        .filter(photo_clean::cleaned());
    if !with_hidden {
        q = q.filter(photo::Column::Hidden.eq(false));
    }
    q.order_by_asc(photo::Column::Position)
        .into_model::<PhotoMeta>()
        .all(conn)
        .await
        .map_err(db_err)
}

/// One re-encoded photo with its bytes.
pub async fn photo(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: PhotoId,
) -> Result<photo::Model> {
    rathaus_store::uow::scoped_by_id::<photo::Entity, _>(tenant, id)
        .filter(photo_clean::cleaned())
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The history of a report: public replies only, or internal notes too.
pub async fn updates(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    report_id: ReportId,
    with_internal: bool,
) -> Result<Vec<update::Model>> {
    let mut q = rathaus_store::uow::scoped::<update::Entity>(tenant)
        .filter(update::Column::ReportId.eq(report_id.0));
    if !with_internal {
        q = q.filter(update::Column::Public.eq(true));
    }
    q.order_by_asc(update::Column::CreatedAt)
        .order_by_asc(update::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// A report near a point, for "already reported?".
#[derive(Debug, Clone)]
pub struct Nearby {
    pub report: Report,
    pub distance_m: f64,
}

/// Open, published reports of `category_id` within `radius_m` of `p`, nearest first (at most
/// `limit`). One index range (category, open, latitude band), then the exact distance.
pub async fn nearby(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    category_id: CategoryId,
    p: Point,
    radius_m: f64,
    limit: usize,
) -> Result<Vec<Nearby>> {
    let (min_lat, min_lon, max_lat, max_lon) = geo::search_box(p, radius_m);
    let rows = rathaus_store::uow::scoped::<report::Entity>(tenant)
        .filter(report::Column::CategoryId.eq(category_id.0))
        .filter(report::Column::IsOpen.eq(true))
        .filter(report::Column::Lat.between(min_lat, max_lat))
        .filter(report::Column::Lon.between(min_lon, max_lon))
        .filter(report::Column::Moderation.eq(PUBLISHED))
        .limit(200)
        .all(conn)
        .await?;
    let mut found: Vec<Nearby> = rows
        .into_iter()
        .filter_map(|r| {
            let q = Point::new(r.lat, r.lon).ok()?;
            let d = geo::distance_m(p, q);
            (d <= radius_m).then_some(Nearby {
                report: r,
                distance_m: d,
            })
        })
        .collect();
    found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    found.truncate(limit);
    Ok(found)
}

// ---------------------------------------------------------------- followers

/// Adds a follower (unconfirmed); None when the address already follows the report.
pub(crate) async fn add_follower(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    report_id: i64,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<follower::Model>> {
    let email = email.trim().to_lowercase();
    let existing = follower::Entity::find()
        .filter(follower::Column::ReportId.eq(report_id))
        .filter(follower::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?;
    if existing.is_some() {
        return Ok(None);
    }
    let f = follower::ActiveModel {
        tenant_id: Set(tenant.0),
        report_id: Set(report_id),
        email: Set(email),
        token: Set(random_token(24)),
        confirmed_at: Set(None),
        unsubscribed_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(Some(f))
}

/// A citizen follows a published report ("already reported? follow instead"): a confirmation
/// link goes to the address. Answers the same whether or not the address already follows, so
/// the form tells nobody who follows what.
pub async fn follow<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    reference: &str,
    email: &str,
    base_url: &str,
) -> Result<()> {
    let mut errs = FieldErrors::new();
    let email = errs.email("email", email);
    errs.into_result()?;
    let txn = begin(db).await?;
    let r = published(&txn, tenant, reference).await?;
    if let Some(f) = add_follower(&txn, tenant, r.id, &email, Utc::now()).await? {
        crate::service::notify::confirm_follower(&txn, tenant, base_url, &r, &f, false).await?;
        audit::record(
            &txn,
            tenant,
            &Actor::system("citizen"),
            NewEvent::new("reports.follower.added", "reports_report", Some(r.id)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn follower_by_token(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<follower::Model> {
    if token.is_empty() || token.len() > 64 {
        return Err(Error::NotFound);
    }
    rathaus_store::uow::scoped::<follower::Entity>(tenant)
        .filter(follower::Column::Token.eq(token))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The report a follower link belongs to (for the confirmation page).
pub async fn follower_report(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<(follower::Model, Report)> {
    let f = follower_by_token(conn, tenant, token).await?;
    let r = find(conn, tenant, ReportId(f.report_id)).await?;
    Ok((f, r))
}

/// Confirms the address behind a follower link (idempotent).
pub async fn confirm_follower<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    token: &str,
) -> Result<Report> {
    let txn = begin(db).await?;
    let f = follower_by_token(&txn, tenant, token).await?;
    if f.confirmed_at.is_none() || f.unsubscribed_at.is_some() {
        let mut am: follower::ActiveModel = f.clone().into();
        am.confirmed_at = Set(Some(Utc::now()));
        am.unsubscribed_at = Set(None);
        am.update(&txn).await?;
        audit::record(
            &txn,
            tenant,
            &Actor::system("citizen"),
            NewEvent::new(
                "reports.follower.confirmed",
                "reports_report",
                Some(f.report_id),
            ),
        )
        .await?;
    }
    let r = find(&txn, tenant, ReportId(f.report_id)).await?;
    txn.commit().await?;
    Ok(r)
}

/// Stops the mails of a follower link (idempotent).
pub async fn unsubscribe<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    token: &str,
) -> Result<Report> {
    let txn = begin(db).await?;
    let f = follower_by_token(&txn, tenant, token).await?;
    if f.unsubscribed_at.is_none() {
        let mut am: follower::ActiveModel = f.clone().into();
        am.unsubscribed_at = Set(Some(Utc::now()));
        am.update(&txn).await?;
        audit::record(
            &txn,
            tenant,
            &Actor::system("citizen"),
            NewEvent::new(
                "reports.follower.unsubscribed",
                "reports_report",
                Some(f.report_id),
            ),
        )
        .await?;
    }
    let r = find(&txn, tenant, ReportId(f.report_id)).await?;
    txn.commit().await?;
    Ok(r)
}

// ---------------------------------------------------------------- workflow

/// What staff change on a report in one step. None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub status: Option<String>,
    /// Shown to the public and mailed to followers.
    pub public_reply: String,
    /// Staff only.
    pub internal_note: String,
    pub priority: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// Some(None): no department.
    pub department_id: Option<Option<i64>>,
    /// Some(None): nobody.
    pub assignee_id: Option<Option<i64>>,
    /// Reference number of the original, required with status `duplicate`.
    pub duplicate_of: Option<String>,
    pub base_url: String,
}

fn report_json(r: &Report) -> serde_json::Value {
    json!({
        "status": r.status, "priority": r.priority, "due_at": r.due_at,
        "department_id": r.department_id, "assignee_id": r.assignee_id,
        "duplicate_of": r.duplicate_of, "moderation": r.moderation,
    })
}

/// Applies a staff change: status (with a public reply and the followers told), internal
/// note, priority, due date, department or person. A duplicate is closed and linked to its
/// original, and its followers move over.
pub async fn change<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    state: &ReportsState,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    id: ReportId,
    ch: Change,
) -> Result<Report> {
    who.require(HANDLE)?;
    who.require_tenant(tenant)?;
    let txn = begin(db).await?;
    let r = change_in(&txn, who, tenant, id, ch).await?;
    txn.commit().await?;
    state.generations.bump(tenant);
    Ok(r)
}

/// [`change`] inside the caller's transaction (bulk actions run several in one).
pub async fn change_in(
    txn: &impl ConnectionTrait,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    id: ReportId,
    ch: Change,
) -> Result<Report> {
    who.require(HANDLE)?;
    who.require_tenant(tenant)?;
    let before = find(txn, tenant, id).await?;
    let mut errs = FieldErrors::new();
    let status = match ch.status.as_deref().map(str::parse::<Status>) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            errs.add("status", "reports.err.status");
            None
        }
    };
    let priority = match ch.priority.as_deref().map(str::parse::<Priority>) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            errs.add("priority", "reports.err.priority");
            None
        }
    };
    let reply = ch.public_reply.trim().to_string();
    let note = ch.internal_note.trim().to_string();
    for (field, text) in [("public_reply", &reply), ("internal_note", &note)] {
        if text.chars().count() > MAX_REPLY {
            errs.add_arg(field, "reports.err.description_long", Some(MAX_REPLY));
        }
    }
    if let Some(Some(d)) = ch.department_id
        && !accounts::list_departments(txn, tenant)
            .await?
            .iter()
            .any(|x| x.id == d)
    {
        errs.add("department_id", "reports.err.department");
    }
    if let Some(Some(u)) = ch.assignee_id {
        match accounts::user_by_id(txn, tenant, u).await {
            Ok(user) if user.kind != "citizen" && user.active => {}
            _ => errs.add("assignee_id", "reports.err.assignee"),
        }
    }
    let mut original = None;
    if status == Some(Status::Duplicate) {
        match ch.duplicate_of.as_deref().map(str::trim) {
            None | Some("") => errs.add("duplicate_of", "reports.err.duplicate_missing"),
            Some(reference) => match by_reference(txn, tenant, reference).await {
                Ok(o) if o.id != id.0 && o.duplicate_of != Some(id.0) => original = Some(o),
                _ => errs.add("duplicate_of", "reports.err.duplicate_unknown"),
            },
        }
    }
    errs.into_result()?;

    let now = Utc::now();
    let status_changed = status.is_some_and(|s| s != before.status.as_str());
    let mut am: report::ActiveModel = before.clone().into();
    if let Some(s) = status {
        am.status = Set(s.as_str().to_string());
        am.is_open = Set(s.is_open());
        if status_changed {
            am.closed_at = Set((!s.is_open()).then_some(now));
        }
    }
    if let Some(o) = &original {
        am.duplicate_of = Set(Some(o.id));
    } else if status_changed {
        am.duplicate_of = Set(None);
    }
    if let Some(p) = priority {
        am.priority = Set(p.as_str().to_string());
    }
    if let Some(d) = ch.due_at {
        am.due_at = Set(d);
    }
    if let Some(d) = ch.department_id {
        am.department_id = Set(d);
    }
    if let Some(a) = ch.assignee_id {
        am.assignee_id = Set(a);
    }
    if !reply.is_empty() {
        am.status_notes = Set(reply.clone());
    }
    let answered = !reply.is_empty() || status_changed;
    if answered && before.first_answer_at.is_none() {
        am.first_answer_at = Set(Some(now));
    }
    am.updated_at = Set(now);
    let after = am.update(txn).await?;

    if !reply.is_empty() || status_changed {
        update::ActiveModel {
            tenant_id: Set(tenant.0),
            report_id: Set(id.0),
            public: Set(true),
            status: Set(status_changed.then(|| after.status.clone())),
            text: Set(reply.clone()),
            author_id: Set(who.principal().map(|w| w.user_id.0)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    if !note.is_empty() {
        update::ActiveModel {
            tenant_id: Set(tenant.0),
            report_id: Set(id.0),
            public: Set(false),
            status: Set(None),
            text: Set(note.clone()),
            author_id: Set(who.principal().map(|w| w.user_id.0)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    if let Some(o) = &original {
        move_followers(txn, tenant, id.0, o.id, now).await?;
    }
    if status_changed && !after.is_open {
        crate::service::retention::schedule(txn, tenant, id, now).await?;
    }
    if (status_changed || !reply.is_empty()) && after.moderation != HIDDEN {
        crate::service::notify::status_changed(
            txn,
            tenant,
            &ch.base_url,
            &after,
            &reply,
            original.as_ref(),
        )
        .await?;
    }
    audit::record(
        txn,
        tenant,
        &who.recorded(),
        NewEvent::new("reports.report.changed", "reports_report", Some(id)).details(json!({
            "before": report_json(&before),
            "after": report_json(&after),
            "public_reply": reply,
            "internal_note": note,
        })),
    )
    .await?;
    search::index_later(txn, tenant, id).await?;
    Ok(after)
}

/// Followers of a duplicate follow the original from now on (confirmed stays confirmed).
async fn move_followers(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    from: i64,
    to: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let moving = rathaus_store::uow::scoped::<follower::Entity>(tenant)
        .filter(follower::Column::ReportId.eq(from))
        .filter(follower::Column::UnsubscribedAt.is_null())
        .all(conn)
        .await?;
    for f in moving {
        if let Some(n) = add_follower(conn, tenant, to, &f.email, now).await?
            && f.confirmed_at.is_some()
        {
            let mut am: follower::ActiveModel = n.into();
            am.confirmed_at = Set(f.confirmed_at);
            am.update(conn).await?;
        }
    }
    Ok(())
}

/// Moderation of one report: publish or hide it, and edit the text the public sees. The
/// reporter's original stays in the report (staff only) and in the audit log.
#[derive(Debug, Clone, Default)]
pub struct Moderation {
    /// Some(true): publish; Some(false): hide.
    pub publish: Option<bool>,
    pub public_description: Option<String>,
}

pub async fn moderate<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    state: &ReportsState,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    id: ReportId,
    m: Moderation,
) -> Result<Report> {
    who.require(MODERATE)?;
    who.require_tenant(tenant)?;
    let txn = begin(db).await?;
    let r = moderate_in(&txn, who, tenant, id, m).await?;
    txn.commit().await?;
    state.generations.bump(tenant);
    Ok(r)
}

pub async fn moderate_in(
    txn: &impl ConnectionTrait,
    who: rathaus_store::uow::Actor<'_>,
    tenant: TenantId,
    id: ReportId,
    m: Moderation,
) -> Result<Report> {
    who.require(MODERATE)?;
    who.require_tenant(tenant)?;
    let before = find(txn, tenant, id).await?;
    let mut errs = FieldErrors::new();
    let text = m.public_description.as_deref().map(str::trim);
    if let Some(t) = text {
        if t.is_empty() {
            errs.add("public_description", "err.required");
        } else if t.chars().count() > MAX_DESCRIPTION {
            errs.add_arg(
                "public_description",
                "reports.err.description_long",
                Some(MAX_DESCRIPTION),
            );
        } else if contains_markup(t) {
            errs.add("public_description", "reports.err.markup");
        }
    }
    errs.into_result()?;
    let mut am: report::ActiveModel = before.clone().into();
    if let Some(p) = m.publish {
        am.moderation = Set(if p { PUBLISHED } else { HIDDEN }.to_string());
        if p {
            // The Open311 token now resolves to the request id; keep it.
        }
    }
    if let Some(t) = text {
        am.public_description = Set(t.to_string());
    }
    am.updated_at = Set(Utc::now());
    let after = am.update(txn).await?;
    audit::record(
        txn,
        tenant,
        &who.recorded(),
        NewEvent::new("reports.report.moderated", "reports_report", Some(id)).details(json!({
            "before": {"moderation": before.moderation, "public_description": before.public_description},
            "after": {"moderation": after.moderation, "public_description": after.public_description},
        })),
    )
    .await?;
    search::index_later(txn, tenant, id).await?;
    Ok(after)
}

/// Hides a photo from the public (or shows it again).
pub async fn set_photo_hidden<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    state: &ReportsState,
    by: By<'_>,
    tenant: TenantId,
    photo_id: PhotoId,
    hidden: bool,
) -> Result<ReportId> {
    by.require(MODERATE)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let p = tx.get::<photo::Entity, _>(photo_id).await?;
    let report_id = p.report_id;
    if p.hidden != hidden {
        tx.update_many::<photo::Entity>()
            .col_expr(photo::Column::Hidden, Expr::value(hidden))
            .filter(photo::Column::Id.eq(photo_id.0))
            .exec(tx.conn())
            .await?;
        tx.audit(
            NewEvent::new("reports.photo.hidden", "reports_report", Some(report_id))
                .details(json!({"photo_id": photo_id, "hidden": hidden})),
        )
        .await?;
    }
    tx.commit().await?;
    state.generations.bump(tenant);
    Ok(ReportId(report_id))
}

/// The reports marked as duplicates of `id` (at most 50), as (id, reference); staff only.
pub async fn duplicates_of<C: ConnectionTrait>(
    s: &Scope<'_, C>,
    id: ReportId,
) -> Result<Vec<(ReportId, String)>> {
    inbox::require_staff(s.actor())?;
    Ok(s.find::<report::Entity>()
        .filter(report::Column::DuplicateOf.eq(id.0))
        .order_by_asc(report::Column::Id)
        .limit(50)
        .all(s.conn())
        .await?
        .into_iter()
        .map(|d| (ReportId(d.id), d.reference))
        .collect())
}
