//! Security headers on every response (errors included) and the CSRF check on every
//! state-changing form request.

use crate::ctx::Ctx;
use crate::errors::ErrorPage;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use subtle::ConstantTimeEq;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

pub async fn headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(self)"),
    );
    if st.cfg.https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.remove(header::SERVER);
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages may hold personal data: never keep them in shared caches.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The token in the form field `_csrf` (or the `X-CSRF-Token` header that htmx sends) must
/// match. Signed in, it is derived from the session (`sessions::csrf_token`), so it is bound
/// to it and changes at login and after the second factor; anonymous forms (login,
/// registration, reports) use the double-submit HttpOnly, SameSite cookie. Requests without
/// a matching token get 403.
pub async fn csrf(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return next.run(req).await;
    };
    let cookie = if ctx.session_token.is_some() {
        ctx.csrf.clone()
    } else {
        let jar = CookieJar::from_headers(req.headers());
        match jar.get(st.csrf_cookie()) {
            Some(c) => c.value().to_string(),
            None => return ErrorPage::csrf(&ctx),
        }
    };
    if let Some(h) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if same(h, &cookie) {
            next.run(req).await
        } else {
            ErrorPage::csrf(&ctx)
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        // Multipart forms carry the token in the query string (`?_csrf=`).
        let q = req.uri().query().unwrap_or("");
        let ok = url::form_urlencoded::parse(q.as_bytes())
            .any(|(k, v)| k == "_csrf" && same(&v, &cookie));
        return if ok {
            next.run(req).await
        } else {
            ErrorPage::csrf(&ctx)
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, st.cfg.body_limit).await {
        Ok(b) => b,
        Err(_) => return ErrorPage::status(&ctx, axum::http::StatusCode::PAYLOAD_TOO_LARGE),
    };
    let ok = url::form_urlencoded::parse(&bytes).any(|(k, v)| k == "_csrf" && same(&v, &cookie));
    if !ok {
        tracing::info!(path = %parts.uri.path(), "CSRF check failed");
        return ErrorPage::csrf(&ctx);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
