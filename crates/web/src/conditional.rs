//! Conditional GET (RFC 9110 13.1.2): whether the client already has the representation an
//! ETag names, so the answer can be 304 without a body. Used by feeds and pictures.

use axum::http::{HeaderMap, header};

/// Whether any `If-None-Match` header lists `etag` (weak comparison: `W/"x"` matches `"x"`) or
/// is `*`.
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
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
