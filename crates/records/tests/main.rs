//! The integration tests of this crate, linked into one test binary: one link instead of
//! one per file keeps CI's build time and disk use down (ADR 0020).

#![allow(clippy::unwrap_used)] // a test fails loudly on a broken assumption

mod api;
mod consume;
mod disposal;
mod follow_up_mail;
mod inbox_assign;
mod inbox_departments;
mod pages;
mod plan_import;
mod store;
mod subject_access;
