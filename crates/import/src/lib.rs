//! The spreadsheet and CSV import pipeline for modules (issue #16, section 5). Pure: no HTTP,
//! no database; a module's service and CLI call it.
//!
//! ```text
//! bytes ─► read (XLSX | ODS | CSV; limits first) ─► Workbook { sheets }
//!       ─► Header::find (below title rows) ─► Mapping::suggest (synonyms) / Mapping::load
//!       ─► validate (typed conversion, dry run) ─► Report { rows, issues }
//!       ─► commit / commit_async (only without errors, in the caller's transaction)
//! ```
//!
//! Errors of the whole file are `ImportError` (translation key + argument); problems of
//! single cells and rows are `Issue`s in the `Report`. Texts: `translations(german)`.

pub mod convert;
pub mod error;
pub mod header;
pub mod limits;
pub mod mapping;
pub mod read;
pub mod report;
pub mod sheet;

pub use convert::{Decimal, Value};
pub use error::ImportError;
pub use header::Header;
pub use limits::Limits;
pub use mapping::{Choice, ColumnMapping, Field, FieldKind, Mapping, Text, Words};
pub use read::{SheetChoice, read, read_path};
pub use report::{
    CommitError, Issue, Progress, Report, Severity, TypedRow, commit, commit_async, validate,
    validate_with, validate_workbook,
};
pub use sheet::{Cell, Format, Row, Sheet, TextEncoding, Workbook, column_letter};

/// The import's texts (`[import]` with `err` and `warn`), German or English, for the web
/// layer's and the CLI's translation tables.
pub fn translations(lang_is_german: bool) -> &'static str {
    if lang_is_german {
        include_str!("../locales/de.toml")
    } else {
        include_str!("../locales/en.toml")
    }
}
