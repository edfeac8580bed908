//! Conditional GET (RFC 9110 13.1.2): whether the client already has the representation an
//! ETag names, so the answer can be 304 without a body. Used by feeds and pictures, and by
//! `etags`, the middleware that gives every machine and API answer an ETag.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Answers larger than this are passed through without an ETag rather than held in memory.
const MAX_TAGGED: u64 = 16 * 1024 * 1024;

/// Gives successful GET answers of the machine routes and the API a weak ETag over their
/// content (weak: the same tag covers the gzip and br forms the compression layer makes) and
/// answers a matching `If-None-Match` with 304 and no body. Handlers that tag their answers
/// themselves (feeds, photos) keep their tag. Only answers whose body is already in memory
/// and at most 16 MB are tagged: streamed answers (downloads, exports, event streams) pass
/// through untouched, as they must not be held in memory.
pub async fn etags(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let asked = req.headers().clone();
    let res = next.run(req).await;
    let in_memory = res
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_TAGGED);
    if res.status() != StatusCode::OK || !in_memory || res.headers().contains_key(header::ETAG) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED as usize).await else {
        // A body that announced its size but failed: an error, never a truncated answer.
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

    fn app() -> axum::Router {
        use axum::routing::get;
        // 20 MB in 1 MB chunks, streamed: more than the tagging limit.
        let big = || async {
            let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1 << 20]));
            Body::from_stream(futures_util::stream::iter(chunks))
        };
        axum::Router::new()
            .route(
                "/small",
                get(|| async { axum::Json(serde_json::json!({"a": 1})) }),
            )
            .route("/big", get(big))
            .route("/huge", get(|| async { vec![b'y'; 17 << 20] }))
            .layer(axum::middleware::from_fn(etags))
    }

    async fn call(path: &str, if_none_match: Option<&str>) -> Response {
        use tower::ServiceExt;
        let mut req = Request::get(path);
        if let Some(t) = if_none_match {
            req = req.header(header::IF_NONE_MATCH, t);
        }
        app()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn small_answers_get_a_tag_and_a_304() {
        let res = call("/small", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let tag = res.headers()[header::ETAG].to_str().unwrap().to_string();
        assert!(tag.starts_with("W/\""));
        let again = call("/small", Some(&tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }

    #[tokio::test]
    async fn large_and_streamed_answers_pass_through_whole() {
        for (path, len) in [("/big", 20usize << 20), ("/huge", 17 << 20)] {
            let res = call(path, None).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert!(!res.headers().contains_key(header::ETAG), "{path}");
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(body.len(), len, "{path}");
        }
    }
}
