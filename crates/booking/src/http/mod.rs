//! The booking module over HTTP: pages (HTML and forms), the JSON API, and the calendar
//! feeds. `routes()` is the one route table; every route states who may call it, and the
//! platform checks that before the handler runs. The services check again.

pub mod api;
pub mod machine;
pub mod pages;

use crate::permissions::MANAGE;
use axum::http::{HeaderMap, header};
use rathaus_web::{Access, Routes, WebConfig};

/// Staff routes: holders of `booking.manage` (admins hold every permission).
pub(crate) const MANAGERS: Access = Access::AnyOf(&[MANAGE]);

/// Every route of the module.
pub fn routes() -> Routes {
    Routes::new()
        .merge(pages::resources::routes())
        .merge(pages::edit::routes())
        .merge(pages::mine::routes())
        .merge(pages::settings::routes())
        .merge(pages::feeds::routes())
        .merge(pages::views::routes())
        .merge(pages::stats::routes())
        .merge(pages::blackouts::routes())
        .merge(pages::series::routes())
        .merge(pages::orgs::routes())
        .merge(pages::season::routes())
        .merge(pages::photos::routes())
        .merge(machine::feeds::routes())
        .merge(api::routes())
}

/// `scheme://host[:port]` of this request: `public_url` when configured, else the Host
/// header (https when a trusted proxy says so in X-Forwarded-Proto).
pub fn origin(cfg: &WebConfig, headers: &HeaderMap) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_table_builds_without_clashes() {
        // Building the routers panics on two routes for one method and path, e.g. the public
        // feed beside /belegung/{id}.
        let r = routes();
        let mut seen = std::collections::BTreeSet::new();
        for row in r.table() {
            assert!(
                seen.insert((row.method.to_string(), row.path.clone())),
                "{row:?}"
            );
        }
        assert!(r.table().len() > 60, "{}", r.table().len());
    }
}
