//! E-Akte (issue 11): the file plan (Aktenplan), files with Aktenzeichen, cases and
//! documents with versions on the platform's file store, full-text search, restricted file
//! kinds (Wohngeld, dog tax, personnel) filtered in every query, the read audit, follow-ups
//! and the inbox. The retention/archive hand-over builds on the tables in `store`.
//!
//! Pages under /akten, the JSON API under /api/v1/records. Layout (dependencies point one
//! way): `domain/` (enums, plan codes, Aktenzeichen pattern, retention; pure), `store/` (the
//! `records_*` tables), `service/` (use cases, the access filter and the search source),
//! `http/` (the route table), `demo.rs`, `cli.rs`.

pub mod domain;
pub mod permissions;
pub mod store;
