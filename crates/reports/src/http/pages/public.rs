//! The citizens' side of the Mängelmelder (issue 3, items 1–7), no account needed:
//!
//! - `GET/POST /maengel/melden`: the report form (multipart; the CSRF token travels in the
//!   query string). Location by a map click (hidden `lat`/`lon`, set by `reports.js`) or by a
//!   typed address resolved on submit; category attributes; up to three photos; consent.
//! - Spam without tracking: an ALTCHA proof of work (`GET /maengel/altcha` issues the
//!   challenge; a solved one is spent in `reports_pow_spent`), a honeypot field and a per-IP
//!   rate limit. Without JavaScript there is no payload: the report is accepted as
//!   `web_nojs` and waits for moderation.
//! - "Already reported?": `GET /maengel/in-der-naehe` (fragment for the script, full page
//!   without it); the form itself refuses to store a report while open reports of the same
//!   category lie within the tenant's radius until "Trotzdem neu melden" is ticked.
//! - `GET /maengel/adressen?q=`: address suggestions (JSON) from the street directory.
//! - `GET /maengel/status/{token}`: the secret status page; its photos under
//!   `/maengel/status/{token}/fotos/{file}`.
//! - Following: `GET/POST /maengel/{reference}/folgen`, `GET/POST /maengel/folgen/{token}`,
//!   `GET/POST /maengel/folgen/{token}/abbestellen`.
//!
//! The public list, detail page, GeoJSON, Atom feed and photos are in `public_list.rs`.

#[path = "public_list.rs"]
pub mod list;

use crate::domain::altcha;
use crate::domain::geo::Point;
use crate::service::ReportsState;
use crate::service::directory;
use crate::service::{self, Category, NewReport, Source};
use crate::service::{CategoryId, ReportId};
use askama::Template;
use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::Utc;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, TenantId};
use rathaus_web::AppState;
use rathaus_web::assets;
use rathaus_web::ctx::{Ctx, origin};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::{fmt_time, layout};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Request body limit of the form: three photos of 10 MB, the text and the framing.
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Reports (and honeypot hits) one address may send per window.
pub use crate::service::state::{RATE_LIMIT, RATE_WINDOW};
/// Multipart field of the photos (one input with `multiple`).
pub const PHOTO_FIELD: &str = "fotos";
/// The honeypot: a text field people never see (CSS) and bots fill in.
pub const HONEYPOT_FIELD: &str = "webseite";
/// Checkbox "Trotzdem neu melden" when open reports lie nearby.
pub const ANYWAY_FIELD: &str = "trotzdem";
/// Nearby reports shown at most.
const NEARBY_LIMIT: usize = 10;
/// Where the citizens' form posts (the CSRF token goes in the query string: multipart).
const CITIZEN_FORM: &str = "/maengel/melden";
/// Where staff enter a report for a citizen.
pub const STAFF_ENTRY: &str = "/maengel/verwaltung/erfassen";

type HtmlResult = std::result::Result<Response, HtmlError>;

pub(crate) fn tenant_of(ctx: &Ctx) -> std::result::Result<TenantId, Error> {
    ctx.tenant_id().ok_or(Error::NotFound)
}

pub(crate) use crate::service::notify::status_label;

/// Date (Europe/Berlin) of a UTC time.
pub(crate) fn fmt_date(t: &chrono::DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Berlin)
        .format("%d.%m.%Y")
        .to_string()
}

/// The scripts and styles of the Mängelmelder pages (the frame has no head block; stylesheet
/// links and module scripts are valid in the body).
pub(crate) struct Assets {
    pub css: &'static str,
    pub js: &'static str,
    pub leaflet_css: &'static str,
    pub leaflet_js: &'static str,
    pub marker: &'static str,
    pub marker2x: &'static str,
    pub shadow: &'static str,
    pub altcha_css: &'static str,
    pub altcha_js: &'static str,
    pub altcha_de: &'static str,
    pub altcha_worker: &'static str,
}

pub(crate) fn assets() -> Assets {
    Assets {
        css: assets::url("reports.css"),
        js: assets::url("reports.js"),
        leaflet_css: assets::url("vendor/leaflet/leaflet.css"),
        leaflet_js: assets::url("vendor/leaflet/leaflet.js"),
        marker: assets::url("vendor/leaflet/images/marker-icon.png"),
        marker2x: assets::url("vendor/leaflet/images/marker-icon-2x.png"),
        shadow: assets::url("vendor/leaflet/images/marker-shadow.png"),
        altcha_css: assets::url("vendor/altcha/altcha.css"),
        altcha_js: assets::url("vendor/altcha/altcha.min.js"),
        altcha_de: assets::url("vendor/altcha/altcha-i18n-de.js"),
        altcha_worker: assets::url("vendor/altcha/altcha-worker-sha.js"),
    }
}

/// The map set-up of a page: tiles (empty: no map) and the default centre.
pub(crate) struct MapCfg {
    pub tiles: String,
    pub attribution: String,
    pub lat: String,
    pub lon: String,
}

pub(crate) async fn map_cfg(
    conn: &sea_orm::DatabaseConnection,
    state: &ReportsState,
    tenant: TenantId,
) -> rathaus_core::Result<MapCfg> {
    let s = service::settings(conn, tenant).await?;
    let (lat, lon) = match service::boundary_of(state, &s)? {
        Some(b) => {
            let (min_lat, min_lon, max_lat, max_lon) = b.bbox();
            ((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0)
        }
        None => match directory::suggest(conn, state, tenant, "", 1)
            .await?
            .first()
        {
            Some(a) => (a.lat, a.lon),
            None => (51.1657, 10.4515),
        },
    };
    Ok(MapCfg {
        // Tiles come through our own server (`tiles.rs`): no third party sees the citizen.
        tiles: if s.tile_url.trim().is_empty() {
            String::new()
        } else {
            crate::http::pages::tiles::URL_TEMPLATE.to_string()
        },
        attribution: s.tile_attribution,
        lat: format!("{lat:.6}"),
        lon: format!("{lon:.6}"),
    })
}

// ---------------------------------------------------------------- rate limit

/// Follow requests (each may send a confirmation mail) one address may send per window.
pub const FOLLOW_LIMIT: usize = 20;

// ---------------------------------------------------------------- the form

/// What the citizen typed (kept after an error; photos cannot be kept by browsers).
#[derive(Debug, Default, Clone)]
pub struct Typed {
    pub category: String,
    pub lat: String,
    pub lon: String,
    pub address: String,
    pub description: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub consent: bool,
    pub anyway: bool,
    pub honeypot: String,
    pub altcha: String,
    /// Form field name → value(s) of the category attributes (`attr_{category}_{code}`).
    pub attrs: BTreeMap<String, Vec<String>>,
    pub photos: Vec<Vec<u8>>,
    /// The body could not be read (over the limit or broken).
    pub unreadable: bool,
    /// Staff entry only: how the citizen got in touch (`Source::STAFF_CHANNELS`).
    pub channel: String,
    /// The form is staff entering a report for a citizen (set by the handler, not the form).
    pub staff: bool,
}

fn attr_field(cat: &Category, code: &str) -> String {
    format!("attr_{}_{}", cat.id, code)
}

struct CatOpt {
    id: i64,
    name: String,
    selected: bool,
}

struct Group {
    name: String,
    cats: Vec<CatOpt>,
}

struct AttrOpt {
    key: String,
    name: String,
    selected: bool,
}

struct AttrField {
    field: String,
    label: String,
    kind: String,
    required: bool,
    value: String,
    options: Vec<AttrOpt>,
    error: Option<String>,
}

struct AttrSet {
    cat_id: i64,
    legend: String,
    selected: bool,
    fields: Vec<AttrField>,
}

pub(crate) struct NearbyRow {
    pub reference: String,
    pub category: String,
    pub status: String,
    pub created: String,
    pub distance: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "public/form.html")]
struct FormTpl {
    l: Layout,
    a: Assets,
    map: MapCfg,
    groups: Vec<Group>,
    attr_sets: Vec<AttrSet>,
    v: Typed,
    errs: FormErrors,
    /// Photos were sent with a form that had errors: they must be chosen again.
    photos_lost: bool,
    nearby: Vec<NearbyRow>,
    /// The message beside "report anyway" (inside the nearby fragment).
    anyway_error: Option<String>,
    max_description: usize,
    max_photos: usize,
    /// Where the form posts to (the citizens' or the staff's address).
    action: &'static str,
    /// Staff entry: the channels to choose from (value, label, chosen); empty for citizens.
    channels: Vec<(String, String, bool)>,
}

impl FormTpl {
    fn chars(&self) -> usize {
        self.v.description.chars().count()
    }
}

pub(crate) async fn render_form(
    st: &AppState,
    state: &ReportsState,
    ctx: &Ctx,
    v: Typed,
    errs: FormErrors,
    nearby: Vec<NearbyRow>,
) -> HtmlResult {
    let tenant = tenant_of(ctx)?;
    let t = catalog(ctx.lang);
    let cats = service::list_categories(&st.db.conn, tenant, true).await?;
    let chosen: Option<i64> = v.category.trim().parse().ok();
    let mut groups: Vec<Group> = Vec::new();
    for c in &cats {
        let opt = CatOpt {
            id: c.id,
            name: c.name.clone(),
            selected: chosen == Some(c.id),
        };
        match groups.iter_mut().find(|g| g.name == c.group_name) {
            Some(g) => g.cats.push(opt),
            None => groups.push(Group {
                name: c.group_name.clone(),
                cats: vec![opt],
            }),
        }
    }
    let mut attr_sets = Vec::new();
    for c in &cats {
        let defs = service::attributes_of(c);
        if defs.is_empty() {
            continue;
        }
        let selected = chosen == Some(c.id);
        let fields = defs
            .iter()
            .map(|a| {
                let field = attr_field(c, &a.code);
                let values = v.attrs.get(&field).cloned().unwrap_or_default();
                AttrField {
                    label: a.description.clone(),
                    kind: a.datatype.clone(),
                    required: a.required,
                    value: values.first().cloned().unwrap_or_default(),
                    options: a
                        .values
                        .iter()
                        .map(|(k, n)| AttrOpt {
                            key: k.clone(),
                            name: n.clone(),
                            selected: values.iter().any(|x| x == k),
                        })
                        .collect(),
                    error: if selected {
                        errs.msg(&format!("attr_{}", a.code))
                    } else {
                        None
                    },
                    field,
                }
            })
            .collect();
        attr_sets.push(AttrSet {
            cat_id: c.id,
            legend: t.fmt("reports.public.attributes_of", &c.name),
            selected,
            fields,
        });
    }
    let failed = errs.any();
    let anyway_error = errs.msg(ANYWAY_FIELD);
    let photos_lost = failed && (!v.photos.is_empty() || v.unreadable);
    let map = map_cfg(&st.db.conn, state, tenant).await?;
    let (l, action, channels) = if v.staff {
        let channels = Source::STAFF_CHANNELS
            .iter()
            .map(|c| {
                (
                    c.as_str().to_string(),
                    t.get(&format!("reports.staff.source.{}", c.as_str()))
                        .to_string(),
                    v.channel == c.as_str(),
                )
            })
            .collect();
        (
            layout(st, ctx, "reports.staff.entry.title"),
            STAFF_ENTRY,
            channels,
        )
    } else {
        (
            layout(st, ctx, "reports.public.form_title"),
            CITIZEN_FORM,
            vec![],
        )
    };
    let mut v = v;
    v.photos = Vec::new();
    respond(
        page(FormTpl {
            l,
            a: assets(),
            map,
            groups,
            attr_sets,
            v,
            errs,
            photos_lost,
            nearby,
            anyway_error,
            max_description: service::MAX_DESCRIPTION,
            max_photos: service::MAX_PHOTOS,
            action,
            channels,
        }),
        failed,
    )
}

pub(crate) async fn form_page(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
) -> HtmlResult {
    let t = catalog(ctx.lang);
    render_form(
        &st,
        &state,
        &ctx,
        Typed::default(),
        FormErrors::none(t),
        Vec::new(),
    )
    .await
}

pub(crate) async fn read_form(mp: std::result::Result<Multipart, MultipartRejection>) -> Typed {
    let mut v = Typed::default();
    let Ok(mut mp) = mp else {
        v.unreadable = true;
        return v;
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                v.unreadable = true;
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == PHOTO_FIELD {
            match field.bytes().await {
                Ok(b) if !b.is_empty() => v.photos.push(b.to_vec()),
                Ok(_) => {}
                Err(_) => {
                    v.unreadable = true;
                    break;
                }
            }
            continue;
        }
        let text = match field.text().await {
            Ok(s) => s,
            Err(_) => {
                v.unreadable = true;
                break;
            }
        };
        match name.as_str() {
            "category" => v.category = text,
            "lat" => v.lat = text,
            "lon" => v.lon = text,
            "address" => v.address = text,
            "description" => v.description = text,
            "name" => v.name = text,
            "email" => v.email = text,
            "phone" => v.phone = text,
            "consent" => v.consent = !text.is_empty(),
            "channel" => v.channel = text,
            ANYWAY_FIELD => v.anyway = !text.is_empty(),
            HONEYPOT_FIELD => v.honeypot = text,
            altcha::FORM_FIELD => v.altcha = text,
            n if n.starts_with("attr_") => {
                let values = v.attrs.entry(n.to_string()).or_default();
                if values.len() < 50 {
                    values.push(text);
                }
            }
            _ => {}
        }
    }
    v
}

pub(crate) fn single(field: &str, key: &str) -> FieldErrors {
    let mut e = FieldErrors::new();
    e.add(field, key);
    e
}

/// The position the form names: the map's lat/lon when both are given. `Err` when they do not
/// parse as numbers.
pub(crate) fn typed_position(v: &Typed) -> std::result::Result<Option<(f64, f64)>, ()> {
    let (lat, lon) = (v.lat.trim(), v.lon.trim());
    if lat.is_empty() && lon.is_empty() {
        return Ok(None);
    }
    match (
        lat.replace(',', ".").parse::<f64>(),
        lon.replace(',', ".").parse::<f64>(),
    ) {
        (Ok(a), Ok(b)) if a.is_finite() && b.is_finite() => Ok(Some((a, b))),
        _ => Err(()),
    }
}

pub(crate) fn nearby_rows(
    t: &Catalog,
    cats: &HashMap<i64, String>,
    found: Vec<service::Nearby>,
) -> Vec<NearbyRow> {
    found
        .into_iter()
        .map(|n| NearbyRow {
            category: cats.get(&n.report.category_id).cloned().unwrap_or_default(),
            status: status_label(t, &n.report.status),
            created: fmt_date(&n.report.created_at),
            distance: t.fmt(
                "reports.public.distance",
                &format!("{:.0}", n.distance_m.max(1.0)),
            ),
            description: excerpt(&n.report.public_description, 160),
            reference: n.report.reference,
        })
        .collect()
}

pub(crate) fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    }
}

pub(crate) async fn category_names(
    conn: &sea_orm::DatabaseConnection,
    tenant: TenantId,
) -> rathaus_core::Result<HashMap<i64, String>> {
    Ok(service::list_categories(conn, tenant, false)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// Open reports of the category near the typed location (empty when either is unknown).
pub(crate) async fn nearby_of(
    st: &AppState,
    state: &ReportsState,
    tenant: TenantId,
    t: &Catalog,
    category: Option<i64>,
    position: Option<(f64, f64)>,
    address: &str,
) -> rathaus_core::Result<Vec<NearbyRow>> {
    let Some(cat) = category else {
        return Ok(Vec::new());
    };
    let point = match position {
        Some((lat, lon)) => Point::new(lat, lon).ok(),
        None if !address.trim().is_empty() => {
            match directory::resolve(&st.db.conn, state, tenant, address).await? {
                Some(a) => Point::new(a.lat, a.lon).ok(),
                None => None,
            }
        }
        None => None,
    };
    let Some(p) = point else {
        return Ok(Vec::new());
    };
    let s = service::settings(&st.db.conn, tenant).await?;
    let found = service::nearby(
        &st.db.conn,
        tenant,
        CategoryId(cat),
        p,
        f64::from(s.duplicate_radius_m),
        NEARBY_LIMIT,
    )
    .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let cats = category_names(&st.db.conn, tenant).await?;
    Ok(nearby_rows(t, &cats, found))
}

/// Multipart form post (the CSRF token is in the query string).
pub(crate) async fn submit_form(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
    headers: HeaderMap,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let v = read_form(mp).await;
    if v.unreadable {
        return render_form(
            &st,
            &state,
            &ctx,
            v,
            FormErrors::new(t, single("photos", "reports.public.err_body")),
            Vec::new(),
        )
        .await;
    }
    // A filled honeypot: a bot. It is told "thank you" and nothing is stored.
    if !v.honeypot.trim().is_empty() {
        state.public_limits.record(tenant, &ctx.client_ip);
        tracing::info!(ip = %ctx.client_ip, "reports: honeypot filled, nothing stored");
        return Ok(Redirect::to("/maengel/danke").into_response());
    }
    if !state
        .public_limits
        .allows(tenant, &ctx.client_ip, RATE_LIMIT)
    {
        let mut r = render_form(
            &st,
            &state,
            &ctx,
            v,
            FormErrors::new(t, single("form", "reports.public.err_rate")),
            Vec::new(),
        )
        .await?;
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return Ok(r);
    }
    let Ok(position) = typed_position(&v) else {
        return render_form(
            &st,
            &state,
            &ctx,
            v,
            FormErrors::new(t, single("location", "reports.err.coordinate_invalid")),
            Vec::new(),
        )
        .await;
    };
    let category = category_of(&v);
    // Already reported? Nothing is stored while open reports of the same category lie
    // within the radius, unless the citizen confirms a new report.
    if !v.anyway {
        let near = nearby_of(&st, &state, tenant, t, category, position, &v.address).await?;
        if !near.is_empty() {
            return render_form(
                &st,
                &state,
                &ctx,
                v,
                FormErrors::new(t, single(ANYWAY_FIELD, "reports.public.err_nearby")),
                near,
            )
            .await;
        }
    }
    // Proof of work: none (no JavaScript) puts the report into moderation; a bad or spent
    // one is refused next to the widget.
    let mut spent: Option<String> = None;
    let source = if v.altcha.trim().is_empty() {
        Source::WebNoJs
    } else {
        let settings = service::ensure_settings(&st.db.conn, tenant).await?;
        match altcha::verify_payload(settings.altcha_key.as_bytes(), &v.altcha, Utc::now()) {
            Err(e) => {
                tracing::info!(error = %e, "reports: ALTCHA payload refused");
                return render_form(
                    &st,
                    &state,
                    &ctx,
                    v,
                    FormErrors::new(t, single("altcha", "reports.public.err_altcha")),
                    Vec::new(),
                )
                .await;
            }
            Ok(pow) => {
                if !service::pow::spend(&st.db.conn, &state, tenant, &pow).await? {
                    return render_form(
                        &st,
                        &state,
                        &ctx,
                        v,
                        FormErrors::new(t, single("altcha", "reports.public.err_altcha_used")),
                        Vec::new(),
                    )
                    .await;
                }
                spent = Some(pow.replay_key);
                Source::Web
            }
        }
    };
    let attributes = answers(&v, category);
    let inp = NewReport {
        category_id: category,
        position,
        address: v.address.clone(),
        description: v.description.clone(),
        name: v.name.clone(),
        email: v.email.clone(),
        phone: v.phone.clone(),
        consent: v.consent,
        photos: v.photos.clone(),
        attributes,
        api_key_id: None,
        base_url: origin(&st.cfg, &headers),
    };
    match service::submit(
        &st.db,
        &st.files,
        &state,
        tenant,
        source,
        service::CITIZEN,
        inp,
    )
    .await
    {
        Ok(done) => {
            state.public_limits.record(tenant, &ctx.client_ip);
            Ok(
                Redirect::to(&format!("/maengel/status/{}?neu=1", done.status_token))
                    .into_response(),
            )
        }
        Err(e) => {
            if let Some(key) = spent {
                // The payload was not used for a report: free it again (a fresh widget solves
                // a new challenge anyway).
                service::pow::release(&st.db.conn, &key).await;
            }
            let errs = FormErrors::from_error(t, e)?;
            render_form(&st, &state, &ctx, v, errs, Vec::new()).await
        }
    }
}

/// The answers to the chosen category's questions; the other categories' fields are
/// ignored.
pub(crate) fn answers(v: &Typed, category: Option<i64>) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    if let Some(id) = category.filter(|id| *id > 0) {
        let prefix = format!("attr_{id}_");
        for (field, values) in &v.attrs {
            if let Some(code) = field.strip_prefix(&prefix) {
                let joined = values
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(",");
                attributes.insert(code.to_string(), joined);
            }
        }
    }
    attributes
}

/// The category field's value: none, or an id (a forged value becomes 0, which the service
/// refuses as an unknown category).
pub(crate) fn category_of(v: &Typed) -> Option<i64> {
    match v.category.trim() {
        "" => None,
        c => Some(c.parse().unwrap_or(0)),
    }
}

#[derive(Template)]
#[template(path = "public/message.html")]
struct MessageTpl {
    l: Layout,
    heading: String,
    paragraphs: Vec<String>,
    links: Vec<(String, String)>,
}

fn message(
    st: &AppState,
    ctx: &Ctx,
    title_key: &str,
    paragraphs: Vec<String>,
    links: Vec<(String, String)>,
) -> HtmlResult {
    let l = layout(st, ctx, title_key);
    page(MessageTpl {
        heading: l.title.clone(),
        l,
        paragraphs,
        links,
    })
}

/// What a bot that filled the honeypot sees (and nothing was stored).
pub(crate) async fn thanks(State(st): State<AppState>, ctx: Ctx) -> HtmlResult {
    let t = catalog(ctx.lang);
    message(
        &st,
        &ctx,
        "reports.public.thanks_title",
        vec![t.get("reports.public.thanks_text").to_string()],
        vec![(
            "/maengel".into(),
            t.get("reports.public.to_list").to_string(),
        )],
    )
}

/// A fresh ALTCHA challenge for the widget (JSON, never cached).
pub(crate) async fn challenge(
    State(st): State<AppState>,
    ctx: Ctx,
) -> std::result::Result<Response, HtmlError> {
    let tenant = tenant_of(&ctx)?;
    let s = service::ensure_settings(&st.db.conn, tenant).await?;
    let expires = Utc::now() + chrono::Duration::seconds(altcha::DEFAULT_TTL_SECONDS);
    let c = altcha::create_challenge(
        s.altcha_key.as_bytes(),
        altcha::DEFAULT_MAX_NUMBER,
        expires,
        &mut rand::thread_rng(),
    );
    let mut res = Json(c).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize)]
pub(crate) struct AddressQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct Suggestion {
    label: String,
    lat: f64,
    lon: f64,
}

/// Address suggestions for the address field (JSON list, at most ten).
pub(crate) async fn addresses(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
    Query(q): Query<AddressQuery>,
) -> std::result::Result<Response, HtmlError> {
    let tenant = tenant_of(&ctx)?;
    let text: String = q.q.chars().take(service::MAX_ADDRESS).collect();
    let found = if text.trim().chars().count() < 2 {
        Vec::new()
    } else {
        directory::suggest(&st.db.conn, &state, tenant, &text, 10).await?
    };
    let list: Vec<Suggestion> = found
        .iter()
        .map(|a| Suggestion {
            label: directory::label(a),
            lat: a.lat,
            lon: a.lon,
        })
        .collect();
    let mut res = Json(list).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}

#[derive(Deserialize)]
pub(crate) struct NearbyQuery {
    #[serde(default)]
    category: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    address: String,
    /// `1`: only the fragment (for the script).
    #[serde(default)]
    teil: String,
}

#[derive(Template)]
#[template(path = "public/nearby_fragment.html")]
struct NearbyFragmentTpl {
    l: Layout,
    nearby: Vec<NearbyRow>,
    anyway_error: Option<String>,
}

#[derive(Template)]
#[template(path = "public/nearby_page.html")]
struct NearbyPageTpl {
    l: Layout,
    nearby: Vec<NearbyRow>,
    looked: bool,
}

/// "Already reported?": open reports of the category near a point.
pub(crate) async fn nearby_page(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
    Query(q): Query<NearbyQuery>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let category = q.category.trim().parse::<i64>().ok();
    let typed = Typed {
        lat: q.lat.clone(),
        lon: q.lon.clone(),
        ..Default::default()
    };
    let position = typed_position(&typed).ok().flatten();
    let address: String = q.address.chars().take(service::MAX_ADDRESS).collect();
    let nearby = nearby_of(&st, &state, tenant, t, category, position, &address).await?;
    let l = layout(&st, &ctx, "reports.public.nearby_title");
    if q.teil == "1" {
        return page(NearbyFragmentTpl {
            l,
            nearby,
            anyway_error: None,
        });
    }
    page(NearbyPageTpl {
        l,
        nearby,
        looked: category.is_some() && (position.is_some() || !address.trim().is_empty()),
    })
}

// ---------------------------------------------------------------- status page

pub(crate) struct UpdateRow {
    pub date: String,
    pub status: Option<String>,
    pub text: String,
}

pub(crate) struct PhotoRow {
    pub full: String,
    pub thumb: String,
    pub alt: String,
}

pub(crate) async fn public_updates(
    conn: &sea_orm::DatabaseConnection,
    t: &Catalog,
    tenant: TenantId,
    report_id: i64,
) -> rathaus_core::Result<Vec<UpdateRow>> {
    Ok(service::updates(conn, tenant, ReportId(report_id), false)
        .await?
        .into_iter()
        .map(|u| UpdateRow {
            date: fmt_time(&u.created_at),
            status: u.status.as_deref().map(|s| status_label(t, s)),
            text: u.text,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "public/status.html")]
struct StatusTpl {
    l: Layout,
    reference: String,
    category: String,
    status: String,
    created: String,
    pending: bool,
    hidden: bool,
    published: bool,
    description: String,
    updates: Vec<UpdateRow>,
    photos: Vec<PhotoRow>,
    /// Says how many photos are still being re-encoded (not shown yet).
    photos_pending: Option<String>,
    new: bool,
    email_given: bool,
    link: String,
}

#[derive(Deserialize)]
pub(crate) struct StatusQuery {
    #[serde(default)]
    neu: String,
}

pub(crate) async fn status_page(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<StatusQuery>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let r = service::by_status_token(&st.db.conn, tenant, &token).await?;
    let cat = service::category(&st.db.conn, tenant, CategoryId(r.category_id))
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let updates = public_updates(&st.db.conn, t, tenant, r.id).await?;
    let photos = service::photos_of(&st.db.conn, tenant, ReportId(r.id), false)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, p)| PhotoRow {
            full: format!("/maengel/status/{token}/fotos/{}.jpg", p.id),
            thumb: format!("/maengel/status/{token}/fotos/{}-klein.jpg", p.id),
            alt: t.fmt("reports.public.photo_alt", &(i + 1).to_string()),
        })
        .collect();
    let photos_pending =
        match service::photo_clean::pending(&st.db.conn, tenant, ReportId(r.id)).await? {
            0 => None,
            n => Some(t.fmt("reports.public.photos_pending", &n.to_string())),
        };
    let l = layout(&st, &ctx, "reports.public.status_title").with_title(format!(
        "{} {}",
        t.get("reports.public.status_title"),
        r.reference
    ));
    page(StatusTpl {
        l,
        category: cat,
        status: status_label(t, &r.status),
        created: fmt_time(&r.created_at),
        pending: r.moderation == service::PENDING,
        hidden: r.moderation == service::HIDDEN,
        published: r.moderation == service::PUBLISHED,
        description: r.description.clone(),
        updates,
        photos,
        photos_pending,
        new: q.neu == "1",
        email_given: !r.reporter_email.is_empty(),
        link: format!("{}/maengel/status/{token}", origin(&st.cfg, &headers)),
        reference: r.reference,
    })
}

/// A photo of the report behind a status link (also while it waits for moderation; never a
/// hidden one).
pub(crate) async fn status_photo(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((token, file)): Path<(String, String)>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let stem = file.strip_suffix(".jpg").ok_or(Error::NotFound)?;
    let (id, small) = match stem.strip_suffix("-klein") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let r = service::by_status_token(&st.db.conn, tenant, &token).await?;
    list::status_jpeg(&st.db.conn, &st.files, &headers, tenant, r.id, id, small).await
}

// ---------------------------------------------------------------- following

#[derive(Template)]
#[template(path = "public/follow.html")]
struct FollowTpl {
    l: Layout,
    reference: String,
    category: String,
    email: String,
    errs: FormErrors,
}

async fn render_follow(
    st: &AppState,
    ctx: &Ctx,
    reference: &str,
    email: String,
    errs: FormErrors,
) -> HtmlResult {
    let tenant = tenant_of(ctx)?;
    let r = service::published(&st.db.conn, tenant, reference).await?;
    let category = service::category(&st.db.conn, tenant, CategoryId(r.category_id))
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let t = catalog(ctx.lang);
    let l = layout(st, ctx, "reports.public.follow_title").with_title(format!(
        "{} {}",
        t.get("reports.public.follow_title"),
        r.reference
    ));
    let failed = errs.any();
    respond(
        page(FollowTpl {
            l,
            reference: r.reference,
            category,
            email,
            errs,
        }),
        failed,
    )
}

pub(crate) async fn follow_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(reference): Path<String>,
) -> HtmlResult {
    let t = catalog(ctx.lang);
    render_follow(&st, &ctx, &reference, String::new(), FormErrors::none(t)).await
}

#[derive(Deserialize)]
pub(crate) struct FollowForm {
    #[serde(default)]
    email: String,
}

pub(crate) async fn follow(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Form(f): Form<FollowForm>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let base = origin(&st.cfg, &headers);
    // Every request may mail an address: a limit per client address against mail bombing.
    let key = format!("folgen:{}", ctx.client_ip);
    if !state.public_limits.allows(tenant, &key, FOLLOW_LIMIT) {
        let mut r = render_follow(
            &st,
            &ctx,
            &reference,
            f.email,
            FormErrors::new(t, single("email", "reports.public.err_rate_follow")),
        )
        .await?;
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return Ok(r);
    }
    state.public_limits.record(tenant, &key);
    match service::follow(&st.db.conn, tenant, &reference, &f.email, &base).await {
        Ok(()) => {
            let r = service::published(&st.db.conn, tenant, &reference).await?;
            message(
                &st,
                &ctx,
                "reports.public.follow_sent_title",
                vec![t.get("reports.public.follow_sent_text").to_string()],
                vec![(
                    format!("/maengel/{}", r.reference),
                    t.fmt("reports.public.back_to", &r.reference),
                )],
            )
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_follow(&st, &ctx, &reference, f.email, errs).await
        }
    }
}

#[derive(Template)]
#[template(path = "public/follow_token.html")]
struct FollowTokenTpl {
    l: Layout,
    reference: String,
    published: bool,
    text: String,
    action: String,
    button: String,
}

async fn token_page(st: &AppState, ctx: &Ctx, token: &str, unsubscribe: bool) -> HtmlResult {
    let tenant = tenant_of(ctx)?;
    let t = catalog(ctx.lang);
    let (_, r) = service::follower_report(&st.db.conn, tenant, token).await?;
    let (title, text, button, action) = if unsubscribe {
        (
            "reports.public.unsubscribe_title",
            "reports.public.unsubscribe_text",
            "reports.public.unsubscribe_button",
            format!("/maengel/folgen/{token}/abbestellen"),
        )
    } else {
        (
            "reports.public.confirm_title",
            "reports.public.confirm_text",
            "reports.public.confirm_button",
            format!("/maengel/folgen/{token}"),
        )
    };
    let l = layout(st, ctx, title);
    page(FollowTokenTpl {
        l,
        text: t.fmt(text, &r.reference),
        button: t.get(button).to_string(),
        published: r.moderation == service::PUBLISHED,
        reference: r.reference,
        action,
    })
}

pub(crate) async fn confirm_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> HtmlResult {
    token_page(&st, &ctx, &token, false).await
}

pub(crate) async fn unsubscribe_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> HtmlResult {
    token_page(&st, &ctx, &token, true).await
}

fn done_links(t: &Catalog, r: &service::Report) -> Vec<(String, String)> {
    if r.moderation == service::PUBLISHED {
        vec![(
            format!("/maengel/{}", r.reference),
            t.fmt("reports.public.back_to", &r.reference),
        )]
    } else {
        vec![(
            "/maengel".into(),
            t.get("reports.public.to_list").to_string(),
        )]
    }
}

pub(crate) async fn confirm_follow(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let r = service::confirm_follower(&st.db.conn, tenant, &token).await?;
    message(
        &st,
        &ctx,
        "reports.public.confirmed_title",
        vec![t.fmt("reports.public.confirmed_text", &r.reference)],
        done_links(t, &r),
    )
}

pub(crate) async fn unsubscribe(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let r = service::unsubscribe(&st.db.conn, tenant, &token).await?;
    message(
        &st,
        &ctx,
        "reports.public.unsubscribed_title",
        vec![t.fmt("reports.public.unsubscribed_text", &r.reference)],
        done_links(t, &r),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_with_comma_or_point() {
        let mut v = Typed {
            lat: "51,5".into(),
            lon: "7.1".into(),
            ..Default::default()
        };
        assert_eq!(typed_position(&v), Ok(Some((51.5, 7.1))));
        v.lat = "abc".into();
        assert_eq!(typed_position(&v), Err(()));
        v.lat.clear();
        v.lon.clear();
        assert_eq!(typed_position(&v), Ok(None));
    }

    #[test]
    fn the_rate_limit_counts_per_address() {
        let t = TenantId(-77);
        let limits = &ReportsState::default().public_limits;
        for _ in 0..RATE_LIMIT {
            assert!(limits.allows(t, "192.0.2.1", RATE_LIMIT));
            limits.record(t, "192.0.2.1");
        }
        assert!(!limits.allows(t, "192.0.2.1", RATE_LIMIT));
        assert!(limits.allows(t, "192.0.2.2", RATE_LIMIT));
    }
}
