//! Pure rules of the module: visibility, word diffs, links between pages, review dates and
//! onboarding due dates. No I/O.

pub mod attachments;
pub mod comments;
pub mod diff;
pub mod links;

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Who may read a handbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every holder of `knowledge.read`.
    All,
    /// Members of the handbook's department.
    Department,
    /// Holders of one of the handbook's roles.
    Roles,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "all" => Some(Visibility::All),
            "department" => Some(Visibility::Department),
            "roles" => Some(Visibility::Roles),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::All => "all",
            Visibility::Department => "department",
            Visibility::Roles => "roles",
        }
    }
}

/// What a checklist is for: a new colleague's first weeks, or a colleague's leaving
/// (accounts closed, keys returned, knowledge handed over). The date of a checklist is the
/// first working day, or the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecklistKind {
    #[default]
    Onboarding,
    Offboarding,
}

impl ChecklistKind {
    pub const ALL: [ChecklistKind; 2] = [ChecklistKind::Onboarding, ChecklistKind::Offboarding];

    pub fn code(self) -> &'static str {
        match self {
            ChecklistKind::Onboarding => "onboarding",
            ChecklistKind::Offboarding => "offboarding",
        }
    }

    pub fn parse(s: &str) -> Option<ChecklistKind> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim())
    }

    pub fn label_key(self) -> String {
        format!("knowledge.kind.{}", self.code())
    }
}

/// A kind of page a department can start from; its title and Markdown are translations
/// (`knowledge.template.<code>.title` / `.body`), so they follow the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageTemplate {
    /// How a procedure runs: purpose, legal basis, steps, forms, contacts.
    Process,
    /// A list of tasks to tick off.
    Checklist,
    /// Who to call for what.
    Contacts,
}

impl PageTemplate {
    pub const ALL: [PageTemplate; 3] = [
        PageTemplate::Process,
        PageTemplate::Checklist,
        PageTemplate::Contacts,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PageTemplate::Process => "process",
            PageTemplate::Checklist => "checklist",
            PageTemplate::Contacts => "contacts",
        }
    }

    pub fn parse(s: &str) -> Option<PageTemplate> {
        Self::ALL.into_iter().find(|t| t.code() == s.trim())
    }

    pub fn title_key(self) -> String {
        format!("knowledge.template.{}.title", self.code())
    }

    pub fn body_key(self) -> String {
        format!("knowledge.template.{}.body", self.code())
    }
}

/// Longest title of a handbook, chapter or page.
pub const TITLE_MAX: usize = 200;
/// Longest change note.
pub const NOTE_MAX: usize = 500;
/// Longest review interval (five years).
pub const REVIEW_DAYS_MAX: i32 = 1826;
/// How far a template task may lie before or after the start (one year).
pub const OFFSET_DAYS_MAX: i32 = 366;

/// `role_ids` as stored (`"3,7"`) to ids; unreadable parts are skipped.
pub fn parse_ids(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
}

/// When a page is next due for review: its last review (or creation) plus the interval.
pub fn review_due(
    interval_days: Option<i32>,
    reviewed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let days = interval_days?;
    Some(reviewed_at.unwrap_or(created_at) + Duration::days(i64::from(days)))
}

/// Whether the page is past its review date.
pub fn is_outdated(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    due.is_some_and(|d| d <= now)
}

/// The due date of a task `offset_days` from the start (negative: before).
pub fn due_date(start: NaiveDate, offset_days: i32) -> Option<NaiveDate> {
    start.checked_add_signed(Duration::days(i64::from(offset_days)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_are_relative_to_the_start() {
        let start = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap_or_default();
        assert_eq!(due_date(start, -5), NaiveDate::from_ymd_opt(2027, 2, 24));
        assert_eq!(due_date(start, 14), NaiveDate::from_ymd_opt(2027, 3, 15));
        assert_eq!(due_date(NaiveDate::MIN, -1), None);
    }

    #[test]
    fn a_page_without_interval_is_never_outdated() {
        let now = Utc::now();
        assert!(!is_outdated(review_due(None, None, now), now));
        let old = now - Duration::days(40);
        assert!(is_outdated(review_due(Some(30), None, old), now));
        assert!(!is_outdated(review_due(Some(30), Some(now), old), now));
    }

    #[test]
    fn role_ids_parse_leniently() {
        assert_eq!(parse_ids("3, 7,x,"), vec![3, 7]);
        assert!(parse_ids("").is_empty());
    }
}
