//! The programme over HTTP: pages under /programm and the JSON API under
//! /api/v1/programme, in one route table with who may call each route.

pub mod api;
pub mod import;
pub mod pages;

use rathaus_web::Routes;

/// Every route of the module.
pub fn routes() -> Routes {
    Routes::new()
        .merge(pages::routes())
        .merge(import::routes())
        .merge(api::routes())
}
