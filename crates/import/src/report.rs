//! The dry run (`validate`) and the all-or-nothing commit helper.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use rathaus_core::validation::FieldErrors;
use serde::Serialize;

use crate::convert::{Note, Value, convert};
use crate::header::Header;
use crate::mapping::{Field, Mapping};
use crate::sheet::{Sheet, Workbook, column_letter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Severity {
    Error,
    Warning,
}

/// One line of the report: where (sheet, row and column as the user sees them) and what
/// (translation key, argument for `{arg}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub sheet: String,
    /// Row number as in Excel/LibreOffice; `None` for the sheet as a whole.
    pub row: Option<u32>,
    /// Column letter (`C`).
    pub column: Option<String>,
    /// The column's header text.
    pub header: Option<String>,
    /// The field key, when the issue concerns a field.
    pub field: Option<String>,
    pub severity: Severity,
    pub key: String,
    pub arg: Option<String>,
}

/// A converted row: the values of the fields that had a value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypedRow {
    pub sheet: String,
    pub row: u32,
    /// By field key (the field's own `Cow`: no copy of the text when declared in code).
    pub values: BTreeMap<Cow<'static, str>, Value>,
}

impl TypedRow {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    pub fn date(&self, key: &str) -> Option<chrono::NaiveDate> {
        match self.values.get(key) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }
    }

    pub fn integer(&self, key: &str) -> Option<i64> {
        match self.values.get(key) {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn decimal(&self, key: &str) -> Option<crate::convert::Decimal> {
        match self.values.get(key) {
            Some(Value::Decimal(d)) => Some(*d),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.values.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn choice(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(Value::Choice(c)) => Some(c.as_ref()),
            _ => None,
        }
    }
}

/// What a sheet looked like to the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetSummary {
    pub name: String,
    pub header: Option<Header>,
    /// Rows below the header with content.
    pub data_rows: usize,
}

/// The dry run's result. `rows` holds the rows that converted without an error; `issues` at
/// most `MAX_LISTED_ISSUES` entries (the counts are always complete).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub sheets: Vec<SheetSummary>,
    pub rows: Vec<TypedRow>,
    pub issues: Vec<Issue>,
    pub errors: usize,
    pub warnings: usize,
}

/// Beyond this many, issues are counted but not listed (a file where every cell is wrong
/// must not make a report of hundreds of megabytes).
pub const MAX_LISTED_ISSUES: usize = 10_000;

impl Report {
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// Appends another sheet's report.
    pub fn merge(&mut self, other: Report) {
        self.sheets.extend(other.sheets);
        self.rows.extend(other.rows);
        for i in other.issues {
            if self.issues.len() < MAX_LISTED_ISSUES {
                self.issues.push(i);
            }
        }
        self.errors += other.errors;
        self.warnings += other.warnings;
    }

    fn push(&mut self, issue: Issue) {
        match issue.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        if self.issues.len() < MAX_LISTED_ISSUES {
            self.issues.push(issue);
        }
    }
}

/// Validates a sheet against the fields (dry run: nothing is written).
pub fn validate(sheet: &Sheet, mapping: &Mapping, fields: &[Field]) -> Report {
    validate_with(sheet, mapping, fields, |_| FieldErrors::new())
}

/// Every chosen sheet of a workbook with the same mapping, one report.
pub fn validate_workbook(book: &Workbook, mapping: &Mapping, fields: &[Field]) -> Report {
    let mut report = Report::default();
    for sheet in &book.sheets {
        report.merge(validate(sheet, mapping, fields));
    }
    report
}

/// Like `validate`, with the module's own rules per row (e.g. "moved in before born"): the
/// `FieldErrors` it returns (field key, translation key, argument) become errors at that row
/// and the field's column.
pub fn validate_with(
    sheet: &Sheet,
    mapping: &Mapping,
    fields: &[Field],
    check: impl Fn(&TypedRow) -> FieldErrors,
) -> Report {
    let mut report = Report::default();
    let issue = |row: Option<u32>, col: Option<usize>, header: Option<&Header>| Issue {
        sheet: sheet.name.clone(),
        row,
        column: col.map(column_letter),
        header: col.and_then(|c| header.map(|h| h.text(c).to_string())),
        field: None,
        severity: Severity::Error,
        key: String::new(),
        arg: None,
    };

    let Some(header) = Header::find(sheet, mapping.header_row) else {
        let key = if sheet.rows.is_empty() {
            "import.err.no_data"
        } else {
            "import.err.no_header"
        };
        report.push(Issue {
            key: key.into(),
            arg: mapping.header_row.map(|r| r.to_string()),
            ..issue(None, None, None)
        });
        report.sheets.push(SheetSummary {
            name: sheet.name.clone(),
            header: None,
            data_rows: 0,
        });
        return report;
    };
    let data = sheet.rows.get(header.index + 1..).unwrap_or_default();
    report.sheets.push(SheetSummary {
        name: sheet.name.clone(),
        header: Some(header.clone()),
        data_rows: data.len(),
    });

    // Which field each column goes to.
    let mut by_col: Vec<Option<usize>> = vec![None; header.columns.len()];
    let mut field_col: Vec<Option<usize>> = vec![None; fields.len()];
    for entry in &mapping.columns {
        let Some(key) = entry.field.as_deref().filter(|k| !k.is_empty()) else {
            continue;
        };
        let Some(fi) = fields.iter().position(|f| f.key == key) else {
            report.push(Issue {
                key: "import.err.unknown_field".into(),
                arg: Some(key.to_string()),
                ..issue(Some(header.row), None, None)
            });
            continue;
        };
        let Some(col) = mapping.locate(entry, &header) else {
            report.push(Issue {
                severity: Severity::Warning,
                key: "import.warn.column_missing".into(),
                arg: Some(entry.column.clone().unwrap_or_else(|| entry.header.clone())),
                field: Some(key.to_string()),
                ..issue(Some(header.row), None, None)
            });
            continue;
        };
        if col >= by_col.len() {
            by_col.resize(col + 1, None);
        }
        if field_col[fi].is_some() {
            report.push(Issue {
                key: "import.err.field_twice".into(),
                arg: Some(key.to_string()),
                field: Some(key.to_string()),
                ..issue(Some(header.row), Some(col), Some(&header))
            });
            continue;
        }
        by_col[col] = Some(fi);
        field_col[fi] = Some(col);
    }
    for (fi, f) in fields.iter().enumerate() {
        if f.required && field_col[fi].is_none() {
            report.push(Issue {
                key: "import.err.field_unmapped".into(),
                arg: Some(f.key.to_string()),
                field: Some(f.key.to_string()),
                ..issue(Some(header.row), None, None)
            });
        }
    }
    for (col, (_, text)) in header.columns.iter().enumerate() {
        let has_data = data.iter().any(|r| !r.get(col).is_empty());
        if by_col.get(col).copied().flatten().is_none() && (has_data || !text.is_empty()) {
            report.push(Issue {
                severity: Severity::Warning,
                key: "import.warn.unmapped_column".into(),
                arg: Some(if text.is_empty() {
                    column_letter(col)
                } else {
                    text.clone()
                }),
                ..issue(Some(header.row), Some(col), Some(&header))
            });
        }
    }
    if data.is_empty() {
        report.push(Issue {
            key: "import.err.no_data".into(),
            ..issue(None, None, None)
        });
        return report;
    }

    let mapped: Vec<(usize, usize)> = field_col
        .iter()
        .enumerate()
        .filter_map(|(fi, c)| c.map(|c| (fi, c)))
        .collect();
    let mut empties: Vec<Vec<u32>> = vec![Vec::new(); fields.len()];
    let mut two_digit_seen = vec![false; fields.len()];
    let mut seen: HashMap<Vec<Option<Value>>, u32> = HashMap::with_capacity(data.len());
    report.rows.reserve(data.len());
    for row in data {
        let mut values = BTreeMap::new();
        let mut ok = true;
        for &(fi, col) in &mapped {
            let f = &fields[fi];
            let cell = row.get(col);
            if cell.is_empty() {
                if f.required {
                    ok = false;
                    report.push(Issue {
                        key: "import.err.required".into(),
                        field: Some(f.key.to_string()),
                        ..issue(Some(row.number), Some(col), Some(&header))
                    });
                } else {
                    empties[fi].push(row.number);
                }
                continue;
            }
            match convert(cell, &f.kind) {
                Ok((v, note)) => {
                    if note == Note::TwoDigitYear && !two_digit_seen[fi] {
                        two_digit_seen[fi] = true;
                        let Value::Date(d) = &v else { continue };
                        report.push(Issue {
                            severity: Severity::Warning,
                            key: "import.warn.two_digit_year".into(),
                            arg: Some(format!("{} → {}", cell.to_text(), d.format("%d.%m.%Y"))),
                            field: Some(f.key.to_string()),
                            ..issue(Some(row.number), Some(col), Some(&header))
                        });
                    }
                    values.insert(f.key.clone(), v);
                }
                Err(e) => {
                    ok = false;
                    report.push(Issue {
                        key: e.key.into(),
                        arg: Some(e.arg),
                        field: Some(f.key.to_string()),
                        ..issue(Some(row.number), Some(col), Some(&header))
                    });
                }
            }
        }
        if !ok || values.is_empty() {
            continue;
        }
        let typed = TypedRow {
            sheet: sheet.name.clone(),
            row: row.number,
            values,
        };
        let errs = check(&typed);
        if !errs.is_empty() {
            for e in errs.0 {
                let fi = fields.iter().position(|f| f.key == e.field);
                let col = fi.and_then(|fi| field_col[fi]);
                report.push(Issue {
                    key: e.key,
                    arg: e.arg,
                    field: Some(e.field),
                    ..issue(Some(row.number), col, Some(&header))
                });
            }
            continue;
        }
        let dup_key: Vec<Option<Value>> = fields
            .iter()
            .map(|f| typed.values.get(&*f.key).cloned())
            .collect();
        if let Some(first) = seen.get(&dup_key) {
            report.push(Issue {
                severity: Severity::Warning,
                key: "import.warn.duplicate_row".into(),
                arg: Some(first.to_string()),
                ..issue(Some(row.number), None, None)
            });
        } else {
            seen.insert(dup_key, row.number);
        }
        report.rows.push(typed);
    }

    // An optional column filled in at least 90 % of at least 10 rows looks required: its
    // gaps are probably omissions.
    for &(fi, col) in &mapped {
        let gaps = &empties[fi];
        if fields[fi].required || gaps.is_empty() || data.len() < 10 || gaps.len() * 10 > data.len()
        {
            continue;
        }
        for &r in gaps {
            report.push(Issue {
                severity: Severity::Warning,
                key: "import.warn.empty_cell".into(),
                field: Some(fields[fi].key.to_string()),
                ..issue(Some(r), Some(col), Some(&header))
            });
        }
    }
    report.issues.sort_by_key(|i| {
        (
            i.row.unwrap_or(0),
            i.column.as_ref().map(|c| (c.len(), c.clone())),
        )
    });
    report
}

/// Progress of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// Why nothing (or not everything) was committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError<E> {
    /// The report has errors: nothing was applied.
    #[error("the import has {errors} errors")]
    Invalid { errors: usize },
    /// Applying a row failed; the caller's transaction must be rolled back (dropping it does).
    #[error("row {row} of sheet {sheet:?} could not be applied: {error}")]
    Apply { sheet: String, row: u32, error: E },
}

impl<E> CommitError<E> {
    pub fn key(&self) -> &'static str {
        match self {
            CommitError::Invalid { .. } => "import.err.not_valid",
            CommitError::Apply { .. } => "import.err.apply",
        }
    }
}

/// How often progress is reported (and at the end).
pub const PROGRESS_EVERY: usize = 100;

/// Applies every row through `apply`, but only when the report has no errors. All or nothing
/// is the caller's transaction: open it before, apply inside, commit after `Ok` (a module
/// service: `let tx = Tx::user(db, p).await?; commit_async(&report, async |row| insert(&tx,
/// row).await, |_| {}).await?; tx.commit().await?`). On `Err` drop the transaction, nothing
/// stays. `progress` is called every `PROGRESS_EVERY` rows and after the last.
pub fn commit<E>(
    report: &Report,
    mut apply: impl FnMut(&TypedRow) -> Result<(), E>,
    mut progress: impl FnMut(Progress),
) -> Result<usize, CommitError<E>> {
    if report.has_errors() {
        return Err(CommitError::Invalid {
            errors: report.errors,
        });
    }
    let total = report.rows.len();
    for (i, row) in report.rows.iter().enumerate() {
        apply(row).map_err(|error| CommitError::Apply {
            sheet: row.sheet.clone(),
            row: row.row,
            error,
        })?;
        let done = i + 1;
        if done % PROGRESS_EVERY == 0 || done == total {
            progress(Progress { done, total });
        }
    }
    Ok(total)
}

/// `commit` for an async `apply` (database writes in the caller's transaction).
pub async fn commit_async<E>(
    report: &Report,
    mut apply: impl AsyncFnMut(&TypedRow) -> Result<(), E>,
    mut progress: impl FnMut(Progress),
) -> Result<usize, CommitError<E>> {
    if report.has_errors() {
        return Err(CommitError::Invalid {
            errors: report.errors,
        });
    }
    let total = report.rows.len();
    for (i, row) in report.rows.iter().enumerate() {
        apply(row).await.map_err(|error| CommitError::Apply {
            sheet: row.sheet.clone(),
            row: row.row,
            error,
        })?;
        let done = i + 1;
        if done % PROGRESS_EVERY == 0 || done == total {
            progress(Progress { done, total });
        }
    }
    Ok(total)
}
