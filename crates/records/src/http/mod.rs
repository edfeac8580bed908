//! The records module over HTTP: pages under /akten and the JSON API under
//! /api/v1/records. `routes()` is the one route table.

pub mod api;
pub mod disposal;
pub mod pages;
pub mod subject_access;

use crate::permissions::ANY_READ;
use rathaus_web::layout::NavItem;
use rathaus_web::{Access, Routes};

/// Readers: any permission that opens some files (admins hold all). The services filter
/// what each reader sees.
pub(crate) const READERS: Access = Access::AnyOf(ANY_READ);

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/akten",
            label_key: "records.nav",
            any_of: ANY_READ,
        },
        disposal::nav(),
    ]
}

pub fn routes() -> Routes {
    Routes::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(disposal::routes())
        .merge(subject_access::routes())
}
