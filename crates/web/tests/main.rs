//! The integration tests of this crate, linked into one test binary: one link instead of
//! one per file keeps CI's build time and disk use down (ADR 0020).

#![allow(clippy::unwrap_used)] // a test fails loudly on a broken assumption

mod access;
mod admin_forms;
mod api;
mod auth;
mod coat_of_arms;
mod common;
mod control_chars;
mod errors;
mod example_module;
mod headers;
mod live;
mod mfa;
mod module;
mod password_reset;
mod privileges;
mod register;
mod session_hygiene;
mod start_page_items;
mod tenants;
