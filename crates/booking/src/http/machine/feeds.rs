//! The calendar feeds over HTTP: the token in the URL is the credential.

use crate::domain::ResourceId;
use crate::formats::ical::{CONTENT_TYPE, FeedData, calendar};
use crate::service::feeds::*;
use axum::http::Method;
use rathaus_web::Access::{Public, Secret};
use rathaus_web::Routes;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rathaus_core::{Error, Result, TenantId};
use rathaus_web::AppState;
use rathaus_web::ctx::Ctx;
use rathaus_web::errors::HtmlError;
use std::collections::HashMap;
use std::sync::Arc;

/// How long calendar apps may keep a feed before they ask again (ETag makes asking cheap).
const MAX_AGE: &str = "max-age=300";

fn strip_ics(file: &str) -> Result<&str> {
    file.strip_suffix(".ics")
        .filter(|s| !s.is_empty())
        .ok_or(Error::NotFound)
}

/// The feed as an HTTP answer: strong ETag over the body, 304 when the client has it.
pub fn ics_response(headers: &HeaderMap, body: String, private: bool) -> Response {
    let etag = format!("\"{}\"", &rathaus_store::sha256_hex(&body)[..32]);
    let cache = if private {
        format!("private, {MAX_AGE}")
    } else {
        format!("public, {MAX_AGE}")
    };
    let matches = rathaus_web::conditional::not_modified(headers, &etag);
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        r
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    res
}

/// UIDs carry the tenant's stable host (not the request's), so a feed and a mail attachment
/// name the same booking alike and calendars keep one event.
async fn render_for(
    st: &AppState,
    tenant: TenantId,
    headers: &HeaderMap,
    d: &FeedData,
    private: bool,
) -> Result<Response, HtmlError> {
    let host = rathaus_store::tenants::uid_host(&st.db.conn, tenant).await?;
    Ok(ics_response(headers, calendar(d, &host), private))
}

async fn staff_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((resource_id, file)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let id: i64 = resource_id.parse().map_err(|_| Error::NotFound)?;
    let token = strip_ics(&file)?;
    let d = staff_feed_data(&st.db.conn, tenant, ResourceId(id), token, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, true).await
}

/// Rendered public feeds by (tenant, resource) with the version they show and their gzip
/// form: a feed is rendered and compressed once per change, not once per calendar app that
/// polls it.
#[derive(Default)]
pub struct FeedCache {
    entries: std::sync::Mutex<HashMap<(i64, i64), Arc<CachedFeed>>>,
}

pub struct CachedFeed {
    etag: String,
    body: Bytes,
    gzip: Bytes,
}

/// Feeds kept; beyond this the cache starts over (a municipality has a few hundred).
const CACHE_ENTRIES: usize = 2048;

impl FeedCache {
    fn get(&self, key: (i64, i64), etag: &str) -> Option<Arc<CachedFeed>> {
        let map = self.entries.lock().ok()?;
        map.get(&key).filter(|c| c.etag == etag).cloned()
    }

    fn put(&self, key: (i64, i64), feed: Arc<CachedFeed>) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= CACHE_ENTRIES && !map.contains_key(&key) {
                map.clear();
            }
            map.insert(key, feed);
        }
    }
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().map(Bytes::from).unwrap_or_default()
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The public occupancy feed: validated by `public_feed_version` (a 304 or a cached feed
/// costs four small queries and no rendering), rendered only when it changed.
async fn public_feed(
    State(st): State<AppState>,
    Extension(cache): Extension<Arc<FeedCache>>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    // Route `/belegung/{id}/kalender.ics`: the id is the whole segment.
    let id: i64 = file.parse().map_err(|_| Error::NotFound)?;
    let now = Utc::now();
    let version = public_feed_version(&st.db.conn, tenant, ResourceId(id), now).await?;
    let etag = format!("\"{}\"", &rathaus_store::sha256_hex(&version)[..32]);
    let cache_control = HeaderValue::from_str(&format!("public, {MAX_AGE}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    let mut res = if rathaus_web::conditional::not_modified(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let key = (tenant.0, id);
        let feed = match cache.get(key, &etag) {
            Some(f) => f,
            None => {
                let d = public_feed_data(&st.db.conn, tenant, ResourceId(id), now).await?;
                let host = rathaus_store::tenants::uid_host(&st.db.conn, tenant).await?;
                let body = Bytes::from(calendar(&d, &host));
                let feed = Arc::new(CachedFeed {
                    gzip: gzip(&body),
                    body,
                    etag: etag.clone(),
                });
                cache.put(key, feed.clone());
                feed
            }
        };
        let mut r = if accepts_gzip(&headers) {
            let mut r = feed.gzip.clone().into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        } else {
            feed.body.clone().into_response()
        };
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        r
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, cache_control);
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(res)
}

async fn person_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let d = person_feed_data(&st.db.conn, tenant, strip_ics(&file)?, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, true).await
}

async fn org_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let d = org_feed_data(&st.db.conn, tenant, strip_ics(&file)?, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, true).await
}

pub(crate) fn routes() -> Routes {
    Routes::new()
        .machine(
            Method::GET,
            "/belegung/{id}/kalender.ics",
            Public,
            public_feed,
        )
        .machine(
            Method::GET,
            "/buchung/kalender/person/{file}",
            Secret,
            person_feed,
        )
        .machine(
            Method::GET,
            "/buchung/kalender/verein/{file}",
            Secret,
            org_feed,
        )
        .machine(
            Method::GET,
            "/buchung/kalender/{resource_id}/{file}",
            Secret,
            staff_feed,
        )
        .with_state(Arc::new(FeedCache::default()))
}
