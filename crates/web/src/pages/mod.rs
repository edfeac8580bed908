//! Server-rendered pages: public site, login, own account, staff dashboard, administration.

pub mod account;
pub mod admin;
pub mod auth;
pub mod markdown;
pub mod password_reset;
pub mod public;
pub mod register;

use crate::ctx::Ctx;
use crate::layout::Layout;
use crate::state::AppState;

pub fn layout(st: &AppState, ctx: &Ctx, title_key: &str) -> Layout {
    Layout::new(ctx, &st.nav, title_key)
}

/// Only paths on this site are accepted as redirect targets (no open redirects). Browsers
/// drop TAB, CR and LF inside URLs and read `\` as `/`, so `/\t/evil.example` would leave the
/// site: such characters are refused outright, and the rest is resolved the way a browser
/// does (WHATWG URL parsing, dot segments included) and must stay on the same origin with a
/// path that does not start with `//`.
pub fn safe_next(next: &str) -> Option<&str> {
    if !next.starts_with('/')
        || next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let base = url::Url::parse("http://rathaus.invalid/").ok()?;
    let target = base.join(next).ok()?;
    (target.origin() == base.origin() && !target.path().starts_with("//")).then_some(next)
}

/// A numeric id from a path segment; anything else answers like a missing object (404).
pub fn parse_id(id: &str) -> rathaus_core::Result<i64> {
    id.trim().parse().map_err(|_| rathaus_core::Error::NotFound)
}

/// Times are stored in UTC and shown in Europe/Berlin.
pub fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Berlin)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

/// Audit times are stored as RFC 3339 text (they are part of the hash).
pub fn fmt_rfc3339(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| fmt_time(&t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_must_be_local() {
        assert_eq!(super::safe_next("/admin/users"), Some("/admin/users"));
        assert_eq!(super::safe_next("//evil.example"), None);
        assert_eq!(super::safe_next("https://evil.example"), None);
        assert_eq!(super::safe_next("/\\evil.example"), None);
        assert_eq!(super::safe_next("/a?b=c#d"), Some("/a?b=c#d"));
        assert_eq!(
            super::safe_next("/%2F%2Fevil.example"),
            Some("/%2F%2Fevil.example")
        );
        for bad in [
            "/\t/evil.example",
            "/\r/evil.example",
            "/\n/evil.example",
            "\t//evil.example",
            "/\u{0}/evil.example",
            "/ /evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/\\/evil.example",
            "https:evil.example",
            "https:/evil.example",
            "http://evil.example/",
            "javascript:alert(1)",
            "/./\t/evil.example",
            "/.//evil.example",
            "/..//evil.example",
            "/a/../..//evil.example",
            "//%65vil.example",
            "",
            "evil.example",
        ] {
            assert_eq!(super::safe_next(bad), None, "{bad:?}");
        }
    }
}
