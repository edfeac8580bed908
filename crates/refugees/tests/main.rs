//! The integration tests of this crate, linked into one test binary: one link instead of
//! one per file keeps CI's build time and disk use down (ADR 0020).

#![allow(clippy::unwrap_used)] // a test fails loudly on a broken assumption

mod common;
mod concurrency;
mod disclosure;
mod edit;
mod figures;
mod http;
mod import;
mod reminders;
mod retention;
mod search;
mod settings;
mod tenant_tables;
