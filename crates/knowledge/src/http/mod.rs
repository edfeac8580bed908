//! The knowledge module over HTTP: pages under /wissen and the JSON API under
//! /api/v1/knowledge. `routes()` is the one route table; the services check again.

pub mod api;
pub mod pages;

use rathaus_web::Routes;

/// Every route of the module.
pub fn routes() -> Routes {
    Routes::new().merge(pages::routes()).merge(api::routes())
}
