//! The import of a file plan from CSV/XLSX/ODS through the platform's import pipeline:
//! columns recognised by their headers, a row report, and all or nothing.

use super::plan::{self, ERR_CODE, ERR_CODE_TAKEN, PlanItemInput};
use crate::domain;
use crate::permissions::MANAGE;
use crate::store::entity::plan_item;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_import::{Choice, Field, FieldKind, Header, Mapping, SheetChoice};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::DatabaseConnection;
use std::cell::RefCell;
use std::collections::HashSet;

const DISPOSITIONS: &[Choice] = &[
    Choice {
        value: "A",
        synonyms: &["A", "archivieren", "archivwürdig", "archiv"],
    },
    Choice {
        value: "B",
        synonyms: &["B", "bewerten", "Bewertung"],
    },
    Choice {
        value: "V",
        synonyms: &["V", "vernichten", "kassieren", "Vernichtung"],
    },
];

const STARTS: &[Choice] = &[
    Choice {
        value: "closing",
        synonyms: &[
            "Schließung",
            "Schliessung",
            "Aktenschluss",
            "Abschluss",
            "closing",
        ],
    },
    Choice {
        value: "dog_deregistered",
        synonyms: &["Abmeldung", "Abmeldung des Hundes", "dog_deregistered"],
    },
    Choice {
        value: "leaving",
        synonyms: &["Austritt", "Ausscheiden", "leaving"],
    },
    Choice {
        value: "approval_end",
        synonyms: &["Bewilligungsende", "Ende der Bewilligung", "approval_end"],
    },
];

/// The columns a plan file may have.
pub const FIELDS: &[Field] = &[
    Field {
        key: "code",
        label_key: "records.field.code",
        kind: FieldKind::Text,
        required: true,
        synonyms: &[
            "Kennzeichen",
            "Aktenplankennzeichen",
            "Code",
            "Nummer",
            "Nr",
            "AZ",
        ],
    },
    Field {
        key: "title",
        label_key: "records.field.title",
        kind: FieldKind::Text,
        required: true,
        synonyms: &["Titel", "Bezeichnung", "Betreff", "Aktenplaneinheit"],
    },
    Field {
        key: "retention_years",
        label_key: "records.field.retention_years",
        kind: FieldKind::Integer,
        required: true,
        synonyms: &["Aufbewahrungsfrist", "Frist", "Aufbewahrung", "Jahre"],
    },
    Field {
        key: "disposition",
        label_key: "records.field.disposition",
        kind: FieldKind::Choice(DISPOSITIONS),
        required: true,
        synonyms: &[
            "Archivierung",
            "Aussonderung",
            "Archivwürdigkeit",
            "Disposition",
        ],
    },
    Field {
        key: "retention_start",
        label_key: "records.field.retention_start",
        kind: FieldKind::Choice(STARTS),
        required: false,
        synonyms: &["Fristbeginn", "Beginn der Frist", "Beginn"],
    },
];

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
    let mapping = Mapping::suggest(&header, FIELDS);
    let existing: HashSet<String> = plan::list(db, by, tenant)
        .await?
        .into_iter()
        .map(|p: plan_item::Model| p.code)
        .collect();
    let seen = RefCell::new(HashSet::new());
    let report = rathaus_import::report::validate_with(sheet, &mapping, FIELDS, |row| {
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
