//! The request context: tenant (from the Host header), session and principal, CSRF token,
//! language. Built once per request by `context_layer`; handlers extract it.

use crate::errors::ErrorPage;
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rathaus_core::{Principal, TenantId};
use rathaus_store::tenants::Tenant;
use rathaus_store::{sessions, tenants};
use std::net::SocketAddr;

#[derive(Clone)]
pub struct Ctx {
    pub tenant: Option<Tenant>,
    pub user: Option<Principal>,
    pub session_token: Option<String>,
    /// Signed in with the password, second factor still outstanding.
    pub mfa_pending: bool,
    /// The tenant demands a second factor and this user has none yet.
    pub mfa_setup_required: bool,
    pub csrf: String,
    pub lang: Lang,
    pub path: String,
    pub client_ip: String,
    pub notice: Option<String>,
    /// Navigation of the platform and mounted modules (filtered per user by the layout).
    pub nav: std::sync::Arc<Vec<crate::layout::NavItem>>,
}

impl Ctx {
    /// The fully signed-in staff member, if any.
    pub fn staff(&self) -> Option<&Principal> {
        if self.mfa_pending {
            None
        } else {
            self.user.as_ref()
        }
    }

    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant.as_ref().map(|t| TenantId(t.id))
    }
}

/// Host → tenant, remembered for a few seconds: it is needed on every request and changes
/// rarely. A change made in this process clears it at once; other processes see it after the
/// TTL.
#[derive(Default)]
pub struct TenantCache {
    map: std::sync::RwLock<std::collections::HashMap<String, (std::time::Instant, Option<Tenant>)>>,
}

const TENANT_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl TenantCache {
    async fn resolve(
        &self,
        st: &AppState,
        host: Option<&str>,
    ) -> rathaus_core::Result<Option<Tenant>> {
        let key = host.unwrap_or("").to_ascii_lowercase();
        if let Ok(m) = self.map.read()
            && let Some((at, t)) = m.get(&key)
            && at.elapsed() < TENANT_TTL
        {
            return Ok(t.clone());
        }
        let t = tenants::resolve(&st.db.conn, host).await?;
        if let Ok(mut m) = self.map.write() {
            // Bounded: arbitrary Host headers must not grow it without limit.
            if m.len() > 1000 {
                m.clear();
            }
            m.insert(key, (std::time::Instant::now(), t.clone()));
        }
        Ok(t)
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }
}

pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded: bool) -> String {
    if trust_forwarded {
        // The proxy appends the address it saw; the right-most entry is the one it vouches for.
        if let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            return ip.chars().take(64).collect();
        }
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn lang_of(jar: &CookieJar, headers: &HeaderMap) -> Lang {
    if let Some(l) = jar.get("lang").and_then(|c| Lang::parse(c.value())) {
        return l;
    }
    // German unless the browser prefers English over German.
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match (accept.find("en"), accept.find("de")) {
        (Some(en), Some(de)) if en < de => Lang::En,
        (Some(_), None) => Lang::En,
        _ => Lang::De,
    }
}

/// Resolves tenant and session; answers 404 for a host that belongs to no tenant.
pub async fn context_layer(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let jar = CookieJar::from_headers(&headers);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let lang = lang_of(&jar, &headers);
    let path = req.uri().path().to_string();
    let notice = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "notice")
            .map(|(_, v)| v.into_owned())
    });

    let mut new_csrf = None;
    let csrf = match jar.get(st.csrf_cookie()) {
        Some(c) if c.value().len() >= 32 => c.value().to_string(),
        _ => {
            let t = rathaus_store::random_token(32);
            new_csrf = Some(t.clone());
            t
        }
    };
    let mut ctx = Ctx {
        tenant: None,
        user: None,
        session_token: None,
        mfa_pending: false,
        mfa_setup_required: false,
        csrf,
        lang,
        path,
        client_ip: client_ip(&headers, peer, st.cfg.trust_forwarded),
        notice,
        nav: st.nav.clone(),
    };
    let tenant = match st.tenants.resolve(&st, host).await {
        Ok(Some(t)) => t,
        // API clients get a problem document, browsers a German page.
        Ok(None) if ctx.path.starts_with("/api/") => {
            return crate::api::ApiError(rathaus_core::Error::NotFound).into_response();
        }
        Ok(None) => return ErrorPage::unknown_host(&ctx),
        Err(e) => {
            tracing::error!(error = %e, "tenant lookup failed");
            return ErrorPage::status(&ctx, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let tid = TenantId(tenant.id);
    if let Some(token) = jar.get(st.session_cookie()).map(|c| c.value().to_string()) {
        match load_session(&st, tid, &token).await {
            Ok(Some((p, pending, totp_enabled))) => {
                ctx.mfa_setup_required = tenant.mfa_required && !totp_enabled;
                ctx.user = Some(p);
                ctx.mfa_pending = pending;
                ctx.csrf = rathaus_store::sessions::csrf_token(&token);
                ctx.session_token = Some(token);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "session lookup failed"),
        }
    }
    ctx.tenant = Some(tenant);
    let changes = crate::todos::may_change(req.method());
    req.extensions_mut().insert(ctx);
    let mut res = next.run(req).await;
    if changes {
        st.todos.changed(tid.0);
    }
    if let Some(t) = new_csrf {
        let c = cookie(&st, st.csrf_cookie(), t);
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The context of machine-facing routes (`Module::routes`, e.g. Open311): the tenant from the
/// host name and nothing else — no session, no CSRF cookie (API clients keep no cookies, and a
/// `Set-Cookie` would spoil shared caches). An unknown host reaches the handler with no
/// tenant, so it can answer in its own format (Open311's error list).
pub async fn machine_context_layer(
    State(st): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let headers = req.headers().clone();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let tenant = match st.tenants.resolve(&st, host).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "tenant lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let ctx = Ctx {
        tenant,
        user: None,
        session_token: None,
        mfa_pending: false,
        mfa_setup_required: false,
        csrf: String::new(),
        lang: lang_of(&CookieJar::from_headers(&headers), &headers),
        path: req.uri().path().to_string(),
        client_ip: client_ip(&headers, peer, st.cfg.trust_forwarded),
        notice: None,
        nav: st.nav.clone(),
    };
    let changed = ctx
        .tenant
        .as_ref()
        .filter(|_| crate::todos::may_change(req.method()))
        .map(|t| t.id);
    req.extensions_mut().insert(ctx);
    // The route table's access check authenticates API callers before the handler runs.
    req.extensions_mut().insert(st.clone());
    let res = next.run(req).await;
    if let Some(t) = changed {
        st.todos.changed(t);
    }
    res
}

async fn load_session(
    st: &AppState,
    tid: TenantId,
    token: &str,
) -> rathaus_core::Result<Option<(Principal, bool, bool)>> {
    Ok(
        sessions::lookup_principal(&st.db.conn, tid, token, &st.cfg.session, st.cfg.clock.now())
            .await?
            .map(|l| (l.principal, l.mfa_pending, l.totp_enabled)),
    )
}

/// Our cookies: HttpOnly, SameSite=Lax, Path=/, and Secure (with `__Host-` name) over https.
pub fn cookie(st: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(st.cfg.https())
        .build()
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

/// A signed-in staff member (second factor done). Others are sent to the login page.
pub struct Staff(pub Ctx, pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, s).await?;
        match ctx.staff().cloned() {
            Some(p) => {
                // A tenant that enforces a second factor lets users without one only set it up.
                if ctx.mfa_setup_required
                    && !ctx.path.starts_with("/account/totp")
                    && ctx.path != "/logout"
                {
                    return Err(Redirect::to("/account/totp?notice=totp_required").into_response());
                }
                Ok(Staff(ctx, p))
            }
            None => Err(login_redirect(&parts.method, &parts.uri).into_response()),
        }
    }
}

/// To the login form, coming back to the page after signing in (GET only: a form post
/// cannot be repeated from a redirect).
pub fn login_redirect(method: &axum::http::Method, uri: &axum::http::Uri) -> Redirect {
    match uri.path_and_query() {
        Some(pq) if method == axum::http::Method::GET => {
            Redirect::to(&format!("/login?next={}", urlencode(pq.as_str())))
        }
        _ => Redirect::to("/login"),
    }
}

/// `scheme://host[:port]` of this request for links in mails: `public_url` when configured,
/// else the Host header (https when a trusted proxy says so in X-Forwarded-Proto).
pub fn origin(cfg: &crate::WebConfig, headers: &HeaderMap) -> String {
    if let Some(u) = cfg.public_url.as_deref().filter(|u| !u.is_empty()) {
        return u.trim_end_matches('/').to_string();
    }
    let forwarded_https = cfg.trust_forwarded
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{}", host.to_ascii_lowercase())
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
