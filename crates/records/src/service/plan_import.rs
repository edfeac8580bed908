//! The import of a file plan from CSV/XLSX/ODS through the platform's import pipeline:
//! columns recognised by their headers, a row report, and all or nothing.

use super::plan::{self, ERR_CODE, ERR_CODE_TAKEN, PlanItemInput};
use crate::domain::{self, Coded};
use crate::permissions::MANAGE;
use crate::store::entity::plan_item;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_import::{Choice, Field, FieldKind, Header, Mapping, SheetChoice, Words};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

/// Header and value synonyms (German office wording, so data, not code).
const SYNONYMS: &str = include_str!("plan_import_headers.toml");

#[derive(Deserialize)]
struct Synonyms {
    /// Field key → header names.
    columns: BTreeMap<String, Vec<String>>,
    /// Choice field key → stored value → what a cell may say.
    values: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// (key, label key, kind without its choices, required), in the order the mapping lists them.
const COLUMNS: &[(&str, &str, Kind, bool)] = &[
    ("code", "records.field.code", Kind::Text, true),
    ("title", "records.field.title", Kind::Text, true),
    (
        "retention_years",
        "records.field.retention_years",
        Kind::Integer,
        true,
    ),
    (
        "disposition",
        "records.field.disposition",
        Kind::Choice(codes::<domain::Disposition>),
        true,
    ),
    (
        "retention_start",
        "records.field.retention_start",
        Kind::Choice(codes::<domain::RetentionStart>),
        false,
    ),
];

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    /// The stored values, in the domain's order.
    Choice(fn() -> Vec<&'static str>),
}

fn codes<T: Coded>() -> Vec<&'static str> {
    T::ALL.iter().map(|v| v.code()).collect()
}

/// The parsed synonyms turned into the import's field list, parsed once; an error only if the
/// compiled-in file is broken (a test parses it).
static FIELDS: LazyLock<std::result::Result<Vec<Field>, String>> =
    LazyLock::new(|| parse(SYNONYMS));

fn owned(list: &[String]) -> Words {
    list.iter().map(|s| Cow::Owned(s.clone())).collect()
}

fn parse(text: &str) -> std::result::Result<Vec<Field>, String> {
    let data: Synonyms = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut fields = vec![];
    for (key, label_key, kind, required) in COLUMNS {
        let synonyms = data
            .columns
            .get(*key)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("no header synonyms for column {key}"))?;
        let kind = match kind {
            Kind::Text => FieldKind::Text,
            Kind::Integer => FieldKind::Integer,
            Kind::Choice(values) => {
                let given = data
                    .values
                    .get(*key)
                    .ok_or_else(|| format!("no value synonyms for column {key}"))?;
                let mut choices = vec![];
                for value in values() {
                    let synonyms = given
                        .get(value)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| format!("no synonyms for value {value} of {key}"))?;
                    choices.push(Choice {
                        value: Cow::Borrowed(value),
                        synonyms: owned(synonyms),
                    });
                }
                if let Some(unknown) = given.keys().find(|v| !values().contains(&v.as_str())) {
                    return Err(format!("unknown value {unknown} of {key}"));
                }
                FieldKind::Choice(choices.into())
            }
        };
        fields.push(Field {
            key: Cow::Borrowed(*key),
            label_key: Cow::Borrowed(*label_key),
            kind,
            required: *required,
            synonyms: owned(synonyms),
        });
    }
    if let Some(unknown) = data
        .columns
        .keys()
        .chain(data.values.keys())
        .find(|k| !COLUMNS.iter().any(|c| c.0 == k.as_str()))
    {
        return Err(format!("unknown column {unknown}"));
    }
    Ok(fields)
}

/// The columns a plan file may have.
pub fn fields() -> Result<&'static [Field]> {
    FIELDS.as_deref().map_err(Error::internal)
}

/// One line of the report: row (as the spreadsheet shows it), column and the message key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub row: Option<u32>,
    pub column: Option<String>,
    pub key: String,
    pub arg: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub rows: usize,
    pub errors: Vec<Line>,
    pub committed: bool,
}

fn refused(e: rathaus_import::ImportError) -> Error {
    let mut errs = FieldErrors::new();
    errs.add_arg("file", e.key(), e.arg());
    Error::Invalid(errs)
}

/// Checks the file (dry run) or imports it (`commit`): with any error nothing is written.
pub async fn import(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    bytes: &[u8],
    commit: bool,
) -> Result<Outcome> {
    by.require(MANAGE)?;
    let book = rathaus_import::read(
        bytes,
        &SheetChoice::First,
        &rathaus_import::Limits::default(),
    )
    .map_err(refused)?;
    let Some(sheet) = book.sheets.first() else {
        return Err(FieldErrors::single("file", "records.err.import_empty"));
    };
    let Some(header) = Header::find(sheet, None) else {
        return Err(FieldErrors::single("file", "records.err.import_empty"));
    };
    let fields = fields()?;
    let mapping = Mapping::suggest(&header, fields);
    let existing: HashSet<String> = plan::list(db, by, tenant)
        .await?
        .into_iter()
        .map(|p: plan_item::Model| p.code)
        .collect();
    let seen = RefCell::new(HashSet::new());
    let report = rathaus_import::report::validate_with(sheet, &mapping, fields, |row| {
        let mut e = FieldErrors::new();
        let code = row.text("code").unwrap_or_default().trim().to_string();
        if !domain::valid_code(&code) {
            e.add("code", ERR_CODE);
        } else if existing.contains(&code) || !seen.borrow_mut().insert(code) {
            e.add("code", ERR_CODE_TAKEN);
        }
        if row
            .integer("retention_years")
            .is_some_and(|y| !(0..=200).contains(&y))
        {
            e.add("retention_years", "records.err.years");
        }
        e
    });
    let mut out = Outcome {
        rows: report.rows.len() + report.errors,
        errors: report
            .issues
            .iter()
            .filter(|i| i.severity == rathaus_import::Severity::Error)
            .map(|i| Line {
                row: i.row,
                column: i.header.clone().or(i.column.clone()),
                key: i.key.clone(),
                arg: i.arg.clone(),
            })
            .collect(),
        committed: false,
    };
    if report.has_errors() || !commit {
        return Ok(out);
    }
    let tx = Tx::begin(db, tenant, by).await?;
    let mut rows = report.rows.clone();
    // Parents first (the parent follows from the code prefix).
    rows.sort_by_key(|r| r.text("code").map(str::len).unwrap_or(0));
    for r in &rows {
        let input = PlanItemInput {
            code: r.text("code").unwrap_or_default().to_string(),
            title: r.text("title").unwrap_or_default().to_string(),
            retention_years: r.integer("retention_years").unwrap_or(0).to_string(),
            retention_start: r.choice("retention_start").unwrap_or("closing").to_string(),
            disposition: r.choice("disposition").unwrap_or_default().to_string(),
        };
        let v = plan::validate(&input).map_err(Error::Invalid)?;
        plan::insert(&tx, &v).await?;
    }
    tx.audit(
        NewEvent::new("records.plan.imported", "records.plan_item", None::<i64>)
            .details(serde_json::json!({ "rows": rows.len() })),
    )
    .await?;
    tx.commit().await?;
    out.committed = true;
    Ok(out)
}

/// A report line in words (German or English).
pub fn line_text(t: &rathaus_web::i18n::Catalog, l: &Line) -> String {
    let msg = match &l.arg {
        Some(a) => t.fmt(&l.key, a),
        None => t.get(&l.key).to_string(),
    };
    let mut s = String::new();
    if let Some(r) = l.row {
        s.push_str(&format!("{} {r}", t.get("import.row")));
    }
    if let Some(c) = &l.column {
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(&format!("„{c}“"));
    }
    if !s.is_empty() {
        s.push_str(": ");
    }
    s.push_str(&msg);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_file_parses_and_every_column_and_value_has_synonyms() {
        let fields = parse(SYNONYMS).unwrap();
        assert_eq!(fields.len(), COLUMNS.len());
        for f in &fields {
            assert!(!f.synonyms.is_empty(), "{}", f.key);
            if let FieldKind::Choice(choices) = &f.kind {
                assert!(!choices.is_empty(), "{}", f.key);
                assert!(choices.iter().all(|c| !c.synonyms.is_empty()), "{}", f.key);
            }
        }
        assert!(super::fields().is_ok());
        let start = fields.iter().find(|f| f.key == "retention_start").unwrap();
        let FieldKind::Choice(choices) = &start.kind else {
            panic!("retention_start is a choice");
        };
        let closing = choices.iter().find(|c| c.value == "closing").unwrap();
        assert!(closing.synonyms.iter().any(|s| s == "Schließung"));
    }

    #[test]
    fn a_missing_column_or_unknown_value_is_an_error() {
        let text = SYNONYMS.replace("code = [", "kode = [");
        assert!(parse(&text).is_err());
        let text = SYNONYMS.replace("closing = [", "schluss = [");
        assert!(parse(&text).is_err());
    }
}
