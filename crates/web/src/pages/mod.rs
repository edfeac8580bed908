//! Server-rendered pages: public site, login, own account, staff dashboard, administration.

pub mod account;
pub mod admin;
pub mod auth;
pub mod public;
pub mod register;

use crate::ctx::Ctx;
use crate::layout::Layout;
use crate::state::AppState;

pub fn layout(st: &AppState, ctx: &Ctx, title_key: &str) -> Layout {
    Layout::new(ctx, &st.nav, title_key)
}

/// Only same-site paths are accepted as redirect targets (no open redirects).
pub fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains("\r")
        && !next.contains('\n'))
    .then_some(next)
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
    }
}
