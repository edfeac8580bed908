//! The refugees module over HTTP: pages under /unterbringung and the JSON API under
//! /api/v1/refugees. `routes()` is the one route table.

pub mod api;
pub mod pages;

use rathaus_web::i18n::Catalog;
use rathaus_web::layout::NavItem;
use rathaus_web::{Access, Routes};

use crate::permissions::{ANY_READ, DISCLOSE, EDIT, IMPORT};
use crate::service::imports::Line;

/// Readers: any of the three read permissions (admins hold all).
pub(crate) const READERS: Access = Access::AnyOf(ANY_READ);
pub(crate) const EDITORS: Access = Access::AnyOf(&[EDIT]);
pub(crate) const IMPORTERS: Access = Access::AnyOf(&[IMPORT]);
pub(crate) const DISCLOSERS: Access = Access::AnyOf(&[DISCLOSE]);

pub fn nav() -> Vec<NavItem> {
    vec![NavItem {
        href: "/unterbringung",
        label_key: "refugees.nav",
        any_of: ANY_READ,
    }]
}

pub fn routes() -> Routes {
    Routes::new().merge(pages::routes()).merge(api::routes())
}

/// A report line as text: where (sheet, row, column) and the German message.
pub fn report_line(t: &Catalog, l: &Line, error: bool) -> String {
    let kind = if error {
        t.get("import.severity_error")
    } else {
        t.get("import.severity_warning")
    };
    let mut s = format!("{kind}: ");
    if !l.sheet.is_empty() {
        s.push_str(&format!("{} „{}“, ", t.get("import.sheet"), l.sheet));
    }
    if !l.rows.is_empty() {
        let rows: Vec<String> = l.rows.iter().map(u32::to_string).collect();
        s.push_str(&format!("{} {}, ", t.get("import.row"), rows.join(", ")));
    }
    if let Some(c) = &l.column {
        s.push_str(&format!("{} „{}“, ", t.get("import.column"), c));
    }
    s.push_str(&message(t, l));
    s
}

/// The German (or English) message of a report line.
pub fn message(t: &Catalog, l: &Line) -> String {
    match &l.arg {
        Some(a) => t.fmt(&l.key, a),
        None => t.get(&l.key).to_string(),
    }
}
