//! The calendar feeds over HTTP: the token in the URL is the credential.

use crate::formats::ical::{CONTENT_TYPE, FeedData, calendar};
use crate::service::feeds::*;
use axum::http::Method;
use rathaus_web::Access::{Public, Secret};
use rathaus_web::Routes;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rathaus_core::{Error, Result, TenantId};
use rathaus_web::AppState;
use rathaus_web::ctx::Ctx;
use rathaus_web::errors::HtmlError;

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
    let d = staff_feed_data(&st.db.conn, tenant, id, token, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, true).await
}

async fn public_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    // Route `/belegung/{id}/kalender.ics`: the id is the whole segment.
    let id: i64 = file.parse().map_err(|_| Error::NotFound)?;
    let d = public_feed_data(&st.db.conn, tenant, id, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, false).await
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
}
