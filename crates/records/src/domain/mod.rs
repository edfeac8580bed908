//! Pure types and rules of the E-Akte: the stored enums, plan codes, the Aktenzeichen
//! pattern, retention dates and which access class a file belongs to.

pub mod pattern;

use chrono::{Datelike, NaiveDate};

/// A value stored as a short code (the column holds `code()`).
pub trait Coded: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.iter().copied().find(|v| v.code() == s)
    }
    /// Translation key of the label, `<prefix>.<code>`.
    fn label_key(self) -> String;
}

macro_rules! coded {
    ($(#[$m:meta])* $name:ident, $prefix:literal, { $($(#[$vm:meta])* $v:ident = $code:tt),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $code)] $v),* }
        impl Coded for $name {
            const ALL: &'static [Self] = &[$($name::$v),*];
            fn code(self) -> &'static str {
                match self { $($name::$v => $code),* }
            }
            fn label_key(self) -> String {
                format!("{}.{}", $prefix, self.code())
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

coded!(
    /// What happens at the end of retention: archive, appraise (the archive decides), destroy.
    Disposition, "records.disposition", {
    A = "A",
    B = "B",
    V = "V",
});

coded!(
    /// From which date retention runs (always to the end of that date's year).
    RetentionStart, "records.retention_start", {
    /// The file's closing date.
    Closing = "closing",
    /// The dog's deregistration (dog-tax files).
    DogDeregistered = "dog_deregistered",
    /// The employee's leaving date (personnel files).
    Leaving = "leaving",
    /// The end of the Wohngeld approval period.
    ApprovalEnd = "approval_end",
});

coded!(FileKind, "records.kind", {
    General = "general",
    Wohngeld = "wohngeld",
    Dog = "dog",
    Personnel = "personnel",
});

coded!(FileState, "records.state", {
    Open = "open",
    Closed = "closed",
    Offered = "offered",
    HandedOver = "handed_over",
    Destroyed = "destroyed",
});

coded!(Direction, "records.direction", {
    Incoming = "incoming",
    Outgoing = "outgoing",
    Internal = "internal",
});

coded!(
    /// Sub-files (Teilakten) of a personnel file.
    SubKind, "records.sub_kind", {
    Bewerbung = "bewerbung",
    Vertrag = "vertrag",
    Beurteilungen = "beurteilungen",
    Krankheit = "krankheit",
    Sonstiges = "sonstiges",
});

coded!(
    /// The access class of a file and its documents: which permission opens it. Stored on
    /// files and documents (`access`), so every list filters on one column.
    AccessClass, "records.access", {
    General = "general",
    Wohngeld = "wohngeld",
    Dog = "dog",
    Personnel = "personnel",
    /// The personnel sub-file "Krankheit".
    PersonnelSickness = "personnel_sickness",
});

coded!(
    /// The state of an archive offer (the disposal flow).
    OfferState, "records.offer_state", {
    Offered = "offered",
    Appraised = "appraised",
    HandedOver = "handed_over",
    Completed = "completed",
});

coded!(
    /// The archive's appraisal of one offered file.
    Appraisal, "records.appraisal", {
    Archive = "archive",
    Destroy = "destroy",
});

impl AccessClass {
    pub fn of(kind: FileKind, sub: Option<SubKind>) -> AccessClass {
        match (kind, sub) {
            (FileKind::General, _) => AccessClass::General,
            (FileKind::Wohngeld, _) => AccessClass::Wohngeld,
            (FileKind::Dog, _) => AccessClass::Dog,
            (FileKind::Personnel, Some(SubKind::Krankheit)) => AccessClass::PersonnelSickness,
            (FileKind::Personnel, _) => AccessClass::Personnel,
        }
    }

    /// The permissions a reader needs (all of them) to open this class.
    pub fn permissions(self) -> &'static [&'static str] {
        use crate::permissions as p;
        match self {
            AccessClass::General => &[p::VIEW],
            AccessClass::Wohngeld => &[p::WOHNGELD],
            AccessClass::Dog => &[p::DOG],
            AccessClass::Personnel => &[p::PERSONNEL],
            AccessClass::PersonnelSickness => &[p::PERSONNEL, p::PERSONNEL_SICKNESS],
        }
    }

    /// Opening a file of this class (or downloading its documents) is logged (read audit).
    pub fn restricted(self) -> bool {
        self != AccessClass::General
    }

    /// The classes a reader holding `has` may open: the one rule every list, count and
    /// search uses.
    pub fn readable(has: impl Fn(&str) -> bool) -> Vec<AccessClass> {
        AccessClass::ALL
            .iter()
            .copied()
            .filter(|c| c.permissions().iter().all(|p| has(p)))
            .collect()
    }
}

/// A KGSt-style plan code: dot-separated groups of digits (`022`, `022.31`, `460.12.1`).
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 40
        && code
            .split('.')
            .all(|g| !g.is_empty() && g.len() <= 6 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// The codes of the ancestors a code's parent may be, nearest first: `022.31` → `022.3`,
/// `022`; the parent is the nearest one that exists. A dotted code drops its last group;
/// within a group, the plan's usual single-digit refinement (`460.12` under `460.1`) is
/// also tried.
pub fn parent_candidates(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = code.to_string();
    // A first-level group has no parent.
    while let Some((head, last)) = cur.rsplit_once('.') {
        // `460.12` → `460.1` (one digit shorter inside the last group), then `460`.
        let mut l = last.to_string();
        while l.len() > 1 {
            l.pop();
            out.push(format!("{head}.{l}"));
        }
        out.push(head.to_string());
        cur = head.to_string();
    }
    out
}

/// The year-end after a date: retention runs from the 31 December of the year of the event.
pub fn year_end(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), 12, 31).unwrap_or(d)
}

/// The dates of a file that retention may start from.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetentionDates {
    pub closed_on: Option<NaiveDate>,
    pub dog_deregistered_on: Option<NaiveDate>,
    pub leaving_on: Option<NaiveDate>,
    pub approval_end_on: Option<NaiveDate>,
}

/// When retention starts (end of the year of the rule's date) and ends, once the date is
/// known. Retention needs a closed file in every rule: an open file is never due.
pub fn retention(
    rule: RetentionStart,
    years: i32,
    d: &RetentionDates,
) -> Option<(NaiveDate, NaiveDate)> {
    let closed = d.closed_on?;
    let event = match rule {
        RetentionStart::Closing => closed,
        RetentionStart::DogDeregistered => d.dog_deregistered_on.unwrap_or(closed),
        RetentionStart::Leaving => d.leaving_on.unwrap_or(closed),
        RetentionStart::ApprovalEnd => d.approval_end_on.unwrap_or(closed),
    };
    let start = year_end(event);
    let end = NaiveDate::from_ymd_opt(start.year() + years.max(0), 12, 31)?;
    Some((start, end))
}

/// Tags as stored: trimmed, without empties and duplicates, comma-separated.
pub fn normalize_tags(input: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in input.split(',') {
        let t = t.trim();
        if !t.is_empty() && t.chars().count() <= 60 && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_parents() {
        assert!(valid_code("022.31"));
        assert!(valid_code("460"));
        assert!(!valid_code("022..1"));
        assert!(!valid_code("02a"));
        assert!(!valid_code(""));
        assert_eq!(parent_candidates("022.31"), vec!["022.3", "022"]);
        assert_eq!(
            parent_candidates("460.12.1"),
            vec!["460.12", "460.1", "460"]
        );
        assert!(parent_candidates("460").is_empty());
    }

    #[test]
    fn retention_runs_from_year_end() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let dates = RetentionDates {
            closed_on: d("2020-03-04"),
            dog_deregistered_on: d("2021-05-01"),
            ..Default::default()
        };
        assert_eq!(
            retention(RetentionStart::Closing, 10, &dates),
            Some((d("2020-12-31").unwrap(), d("2030-12-31").unwrap()))
        );
        assert_eq!(
            retention(RetentionStart::DogDeregistered, 5, &dates).map(|r| r.1),
            d("2026-12-31")
        );
        let open = RetentionDates::default();
        assert_eq!(retention(RetentionStart::Closing, 10, &open), None);
    }

    #[test]
    fn readable_classes() {
        let only = |ps: &'static [&'static str]| move |p: &str| ps.contains(&p);
        assert_eq!(
            AccessClass::readable(only(&[crate::permissions::VIEW])),
            vec![AccessClass::General]
        );
        assert_eq!(
            AccessClass::readable(only(&[crate::permissions::PERSONNEL_SICKNESS])),
            vec![]
        );
        assert_eq!(
            AccessClass::readable(only(&[
                crate::permissions::PERSONNEL,
                crate::permissions::PERSONNEL_SICKNESS
            ])),
            vec![AccessClass::Personnel, AccessClass::PersonnelSickness]
        );
    }
}
