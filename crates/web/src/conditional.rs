//! Conditional GET (RFC 9110 13.1.2): whether the client already has the representation an
//! ETag names, so the answer can be 304 without a body. Used by feeds and pictures, and by
//! `etags`, the middleware that gives every machine and API answer an ETag.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Answers larger than this are passed through without an ETag rather than held in memory.
const MAX_TAGGED: usize = 16 * 1024 * 1024;

/// Gives successful GET answers of the machine routes and the API a weak ETag over their
/// content (weak: the same tag covers the gzip and br forms the compression layer makes) and
/// answers a matching `If-None-Match` with 304 and no body. Handlers that tag their answers
/// themselves (feeds, photos) keep their tag; event streams are left alone.
pub async fn etags(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let asked = req.headers().clone();
    let res = next.run(req).await;
    let streaming = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if res.status() != StatusCode::OK || streaming || res.headers().contains_key(header::ETAG) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED).await else {
        // Too large to tag (or the body failed): the client gets an error rather than a
        // truncated answer.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let tag = format!("W/\"{}\"", &rathaus_store::sha256_hex_bytes(&bytes)[..32]);
    if let Ok(v) = HeaderValue::from_str(&tag) {
        parts.headers.insert(header::ETAG, v);
    }
    if not_modified(&asked, &tag) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Whether any `If-None-Match` header lists `etag` (weak comparison: `W/"x"` matches `"x"`) or
/// is `*`.
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag.trim_start_matches("W/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn lists_weak_forms_stars_and_several_headers_match() {
        assert!(not_modified(&with(&["\"a\", W/\"b\""]), "\"b\""));
        assert!(not_modified(&with(&["*"]), "\"x\""));
        assert!(not_modified(&with(&["\"a\"", "\"b\""]), "\"b\""));
        assert!(!not_modified(&with(&["\"a\""]), "\"b\""));
        assert!(!not_modified(&HeaderMap::new(), "\"b\""));
    }
}
