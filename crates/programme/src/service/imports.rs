//! The import of the officer's measures list (XLSX, ODS or CSV) through the platform's
//! pipeline: dry run (the report) and commit, all or nothing in one transaction. Every row
//! passes the same check as the form (`measures::check`); the header names the file may use
//! are data (`locales/import.toml`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_import::mapping::normalize;
use rathaus_import::{
    Choice, Field, FieldKind, Header, Issue, Limits, Mapping, Report, Severity, SheetChoice,
    TypedRow, Words,
};
use rathaus_store::live::Hub;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{DatabaseConnection, QuerySelect};
use serde::Deserialize;

use super::measures::{self, MeasureInput};
use super::{EDIT, phases};
use crate::store::entity::measure;

/// Largest file accepted (the pipeline's limits also cap cells and unpacked size).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// The dry run's or the commit's result.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub report: Report,
    /// Measures written (0 on a dry run or with errors).
    pub created: usize,
    pub committed: bool,
}

impl Outcome {
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.report
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
    }
}

#[derive(Deserialize)]
struct Synonyms {
    fields: HashMap<String, Vec<String>>,
    choices: HashMap<String, HashMap<String, Vec<String>>>,
}

/// Field keys in the order of the form; the first two are required.
const KEYS: &[(&str, bool)] = &[
    ("title", true),
    ("department", true),
    ("description", false),
    ("category", false),
    ("size", false),
    ("benefit", false),
    ("effort", false),
    ("responsible", false),
    ("planned_start", false),
    ("due", false),
    ("funding", false),
    ("tags", false),
];

fn owned(v: Option<&Vec<String>>) -> Words {
    v.into_iter()
        .flatten()
        .map(|s| Cow::Owned(s.clone()))
        .collect()
}

fn choices(syn: &Synonyms, name: &str, values: &[&'static str]) -> Cow<'static, [Choice]> {
    let of = syn.choices.get(name);
    values
        .iter()
        .map(|value| Choice {
            value: Cow::Borrowed(*value),
            synonyms: owned(of.and_then(|m| m.get(*value))),
        })
        .collect()
}

/// The fields of a measure the file may fill, built once from `locales/import.toml` and
/// kept for the life of the process.
pub fn fields() -> &'static [Field] {
    static FIELDS: OnceLock<Vec<Field>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let syn: Synonyms = toml::from_str(include_str!("../../locales/import.toml"))
            .unwrap_or_else(|_| Synonyms {
                fields: HashMap::new(),
                choices: HashMap::new(),
            });
        KEYS.iter()
            .map(|&(key, required)| Field {
                key: Cow::Borrowed(key),
                label_key: Cow::Owned(format!("programme.field.{key}")),
                kind: match key {
                    "category" => FieldKind::Choice(choices(&syn, key, crate::domain::CATEGORIES)),
                    "size" => FieldKind::Choice(choices(&syn, key, crate::domain::SIZES)),
                    "benefit" | "effort" => FieldKind::Integer,
                    "planned_start" | "due" => FieldKind::Date,
                    _ => FieldKind::Text,
                },
                required,
                synonyms: owned(syn.fields.get(key)),
            })
            .collect()
    })
}

/// A converted row as the form's input (the responsible person is matched separately).
fn input_of(row: &TypedRow) -> MeasureInput {
    let text = |k: &str| row.text(k).unwrap_or_default().to_string();
    let int = |k: &str| row.integer(k).map(|i| i.to_string()).unwrap_or_default();
    let date = |k: &str| row.date(k).map(|d| d.to_string()).unwrap_or_default();
    MeasureInput {
        title: text("title"),
        description: text("description"),
        department: text("department"),
        category: row.choice("category").unwrap_or_default().to_string(),
        size: row.choice("size").unwrap_or_default().to_string(),
        benefit: int("benefit"),
        effort: int("effort"),
        planned_start: date("planned_start"),
        due: date("due"),
        funding: text("funding"),
        tags: text("tags"),
        ..MeasureInput::default()
    }
}

fn row_errors(row: &TypedRow) -> FieldErrors {
    match measures::check(&input_of(row)) {
        Err(Error::Invalid(errs)) => errs,
        _ => FieldErrors::new(),
    }
}

/// Reads the file and checks every row (no database). A file that cannot be read at all is
/// a field error on `file`.
pub fn check_file(bytes: &[u8]) -> Result<(Report, Mapping)> {
    let limits = Limits {
        max_file_bytes: MAX_FILE_BYTES as u64,
        ..Limits::default()
    };
    let book = rathaus_import::read(bytes, &SheetChoice::First, &limits).map_err(Error::from)?;
    let Some(sheet) = book.sheets.first() else {
        return Err(FieldErrors::single("file", "import.err.no_data"));
    };
    let mapping = Header::find(sheet, None)
        .map(|h| Mapping::suggest(&h, fields()))
        .unwrap_or_default();
    let report = rathaus_import::validate_with(sheet, &mapping, fields(), row_errors);
    Ok((report, mapping))
}

/// The German (or English) message of a report line.
pub fn message(t: &rathaus_web::i18n::Catalog, i: &Issue) -> String {
    match &i.arg {
        Some(a) => t.fmt(&i.key, a),
        None => t.get(&i.key).to_string(),
    }
}

/// A report line as text for the CLI: severity, where (sheet, row, column), the message.
pub fn line(t: &rathaus_web::i18n::Catalog, i: &Issue) -> String {
    let kind = match i.severity {
        Severity::Error => t.get("import.severity_error"),
        Severity::Warning => t.get("import.severity_warning"),
    };
    let mut at = Vec::new();
    if !i.sheet.is_empty() {
        at.push(format!("{} {}", t.get("import.sheet"), i.sheet));
    }
    if let Some(r) = i.row {
        at.push(format!("{} {r}", t.get("import.row")));
    }
    if let Some(c) = &i.column {
        at.push(format!("{} {c}", t.get("import.column")));
    }
    format!("{kind} ({}): {}", at.join(", "), message(t, i))
}

fn warn(report: &mut Report, at: &TypedRow, column: Option<String>, key: &str, arg: &str) {
    report.warnings += 1;
    report.issues.push(Issue {
        sheet: at.sheet.clone(),
        row: Some(at.row),
        column,
        header: None,
        field: None,
        severity: Severity::Warning,
        key: key.into(),
        arg: Some(arg.to_string()),
    });
}

/// Dry run (`commit == false`) or commit of an uploaded list. With errors nothing is
/// written; otherwise every row becomes a measure at the end of the first phase, in one
/// transaction with one audit event and one live announcement of the board.
pub async fn import(
    db: &DatabaseConnection,
    live: Option<&Hub>,
    by: Actor<'_>,
    tenant: TenantId,
    bytes: &[u8],
    commit: bool,
) -> Result<Outcome> {
    by.require(EDIT)?;
    by.require_tenant(tenant)?;
    let (mut report, mapping) = check_file(bytes)?;
    let column = |key: &str| {
        mapping
            .columns
            .iter()
            .find(|c| c.field.as_deref() == Some(key))
            .and_then(|c| c.column.clone())
    };

    // The responsible person by name, when exactly one active member of staff has it.
    let staff = rathaus_store::accounts::list_active_staff(db, tenant).await?;
    let mut by_name: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for u in staff {
        by_name
            .entry(normalize(&u.name))
            .or_default()
            .push((u.id, u.name));
    }
    // Titles already in the catalogue: a row with one is probably there already.
    let scope = Scope::new(db, tenant, by)?;
    let existing: HashSet<String> = scope
        .find::<measure::Entity>()
        .select_only()
        .column(measure::Column::Title)
        .into_tuple::<String>()
        .all(db)
        .await?
        .iter()
        .map(|t| normalize(t))
        .collect();

    let rows = std::mem::take(&mut report.rows);
    let mut plan = Vec::with_capacity(rows.len());
    let mut in_file: HashMap<String, u32> = HashMap::new();
    for row in &rows {
        let mut inp = input_of(row);
        let mut name = String::new();
        if let Some(who) = row.text("responsible").filter(|s| !s.trim().is_empty()) {
            match by_name.get(&normalize(who)).map(Vec::as_slice) {
                Some([(id, n)]) => {
                    inp.responsible_id = id.to_string();
                    name = n.clone();
                }
                Some(_) => warn(
                    &mut report,
                    row,
                    column("responsible"),
                    "programme.import.warn.responsible_ambiguous",
                    who,
                ),
                None => warn(
                    &mut report,
                    row,
                    column("responsible"),
                    "programme.import.warn.responsible_unknown",
                    who,
                ),
            }
        }
        let key = normalize(&inp.title);
        if let Some(first) = in_file.get(&key) {
            warn(
                &mut report,
                row,
                column("title"),
                "programme.import.warn.duplicate_in_file",
                &first.to_string(),
            );
        } else {
            in_file.insert(key, row.row);
        }
        if existing.contains(&normalize(&inp.title)) {
            warn(
                &mut report,
                row,
                column("title"),
                "programme.import.warn.duplicate_title",
                &inp.title,
            );
        }
        plan.push((measures::check(&inp)?, name));
    }
    report.rows = rows;
    report.issues.sort_by_key(|i| {
        (
            i.row.unwrap_or(0),
            i.column.as_ref().map(|c| (c.len(), c.clone())),
        )
    });
    let mut out = Outcome {
        report,
        created: 0,
        committed: false,
    };
    if !commit || out.report.has_errors() {
        return Ok(out);
    }

    let first = phases(db, Actor::system("programme phases"), tenant)
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound)?;
    let mut tx = Tx::begin(db, tenant, by).await?;
    let formula = super::settings::formula_in(tx.conn(), tenant).await?;
    for (c, name) in plan {
        measures::insert_checked(&tx, by, first.id, formula, c, name).await?;
        out.created += 1;
    }
    tx.audit(
        NewEvent::new(
            "programme.measures.imported",
            "programme_measure",
            None::<i64>,
        )
        .details(serde_json::json!({
            "rows": out.report.rows.len(),
            "created": out.created,
            "warnings": out.report.warnings,
        })),
    )
    .await?;
    // One announcement: open boards reload once, not once per card.
    if let Some(h) = live {
        h.publish(&mut tx, super::TOPIC, None).await?;
    }
    tx.commit().await?;
    out.committed = true;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_german_header_names_and_the_choices_their_synonyms() {
        let syn: Synonyms = toml::from_str(include_str!("../../locales/import.toml")).unwrap();
        for (key, _) in KEYS {
            assert!(syn.fields.get(*key).is_some_and(|v| !v.is_empty()), "{key}");
        }
        let size = fields().iter().find(|f| f.key == "size").unwrap();
        let FieldKind::Choice(choices) = &size.kind else {
            panic!("size is a choice")
        };
        assert_eq!(
            rathaus_import::convert::parse_choice("Groß", choices),
            Some("large")
        );
        assert_eq!(
            rathaus_import::convert::parse_choice("klein", choices),
            Some("small")
        );
    }
}
