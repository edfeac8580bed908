//! The use cases of the E-Akte. Every function takes the actor (never optional) and keeps
//! the order permission → validation → change + audit (one transaction) → commit.
//!
//! `access::Filter` is the one place that turns the reader's permissions into the condition
//! every list, count, lookup and search of files and documents uses.

pub mod access;
pub mod consume;
pub mod disposal;
pub mod documents;
pub mod files;
pub mod follow_up_mail;
pub mod follow_ups;
pub mod inbox;
pub mod plan;
pub mod plan_import;
pub mod search;
pub mod subject_access;

use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_store::uow::Actor;

/// Today in Europe/Berlin.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Berlin).date_naive()
}

/// `2026-03-01` or `01.03.2026`; an empty text is None, a bad one a field error.
pub fn parse_date(errs: &mut FieldErrors, field: &str, s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
        .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)));
    if d.is_none() {
        errs.add(field, "records.err.date");
    }
    d
}

/// How the tables name who acted (`created_by`, `uploaded_by`).
pub fn actor_label(by: Actor<'_>) -> String {
    by.recorded().label
}
