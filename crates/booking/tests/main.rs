//! The integration tests of this crate, linked into one test binary: one link instead of
//! one per file keeps CI's build time and disk use down (ADR 0020).

#![allow(clippy::unwrap_used)] // a test fails loudly on a broken assumption

mod api;
mod blackouts;
mod common;
mod concurrency;
mod demo;
mod ical;
mod mail;
mod orgs;
mod pages;
mod photo_files;
mod photos;
mod rules;
mod season;
mod series;
mod service;
mod stats;
mod tenant_tables;
mod views;
