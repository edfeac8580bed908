//! Mapping, typed conversion, the dry-run report and the all-or-nothing commit.

use crate::common;

use std::borrow::Cow;

use chrono::NaiveDate;
use common::*;
use rathaus_core::validation::FieldErrors;
use rathaus_import::{
    Choice, CommitError, Decimal, Field, FieldKind, Header, Limits, Mapping, Progress, Severity,
    SheetChoice, Value, Words, commit, commit_async, read, translations, validate, validate_with,
    validate_workbook,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn sheet_of(bytes: &[u8]) -> rathaus_import::Sheet {
    read(bytes, &SheetChoice::First, &Limits::default())
        .unwrap()
        .sheets
        .remove(0)
}

type Line = (
    Option<u32>,
    Option<String>,
    Severity,
    String,
    Option<String>,
);

/// (row, column, severity, key, arg) of every issue.
fn issues(r: &rathaus_import::Report) -> Vec<Line> {
    r.issues
        .iter()
        .map(|i| {
            (
                i.row,
                i.column.clone(),
                i.severity,
                i.key.clone(),
                i.arg.clone(),
            )
        })
        .collect()
}

#[test]
fn suggested_mapping_from_german_headers() {
    let sheet = sheet_of(&refugee_xlsx());
    let header = Header::find(&sheet, None).unwrap();
    let m = Mapping::suggest(&header, FIELDS);
    assert_eq!(m.header_row, Some(3));
    let pairs: Vec<(&str, Option<&str>)> = m
        .columns
        .iter()
        .map(|c| (c.header.as_str(), c.field.as_deref()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("Name", Some("last_name")),
            ("Vorname", Some("first_name")),
            ("Geb.-Datum", Some("birth_date")),
            // Synonym written without umlaut matches the header with one.
            ("Staatsangehörigkeit", Some("nationality")),
            ("Unterkunft", Some("housing")),
            ("Einzug", Some("moved_in")),
            ("Personen", Some("persons")),
            ("Miete", Some("rent")),
            ("Bemerkung", None),
        ]
    );
    assert_eq!(m.columns[0].score, Some(1.0));
}

#[test]
fn similar_headers_are_suggested_and_each_field_used_once() {
    let csv = "Familien-Name;VORNAME;Geburtsdatum (TT.MM.JJJJ);Vorname\nA;B;01.01.2000;C\n";
    let sheet = sheet_of(csv.as_bytes());
    let m = Mapping::suggest(&Header::find(&sheet, None).unwrap(), FIELDS);
    let fields: Vec<Option<&str>> = m.columns.iter().map(|c| c.field.as_deref()).collect();
    assert_eq!(
        fields,
        vec![
            Some("last_name"),
            Some("first_name"),
            Some("birth_date"),
            None
        ]
    );
    assert!(m.columns[2].score.unwrap() < 1.0);
}

/// `FIELDS` as a module builds them at run time: every text owned.
fn owned_fields() -> Vec<Field> {
    let own = |w: &Words| -> Words { w.iter().map(|x| Cow::Owned(x.to_string())).collect() };
    FIELDS
        .iter()
        .map(|f| Field {
            key: Cow::Owned(f.key.to_string()),
            label_key: Cow::Owned(f.label_key.to_string()),
            kind: match &f.kind {
                FieldKind::Choice(cs) => FieldKind::Choice(
                    cs.iter()
                        .map(|c| Choice {
                            value: Cow::Owned(c.value.to_string()),
                            synonyms: own(&c.synonyms),
                        })
                        .collect(),
                ),
                k => k.clone(),
            },
            required: f.required,
            synonyms: own(&f.synonyms),
        })
        .collect()
}

#[test]
fn fields_built_at_run_time_suggest_and_validate_like_declared_ones() {
    let sheet = sheet_of(&refugee_xlsx());
    let header = Header::find(&sheet, None).unwrap();
    let owned = owned_fields();
    assert!(matches!(owned[0].key, Cow::Owned(_)));
    let m = Mapping::suggest(&header, FIELDS);
    assert_eq!(Mapping::suggest(&header, &owned), m);
    let report = validate(&sheet, &m, FIELDS);
    assert_eq!(validate(&sheet, &m, &owned), report);
    assert_eq!(report.rows[0].choice("nationality"), Some("SY"));
    assert_eq!(
        serde_json::to_value(validate(&sheet, &m, &owned)).unwrap(),
        serde_json::to_value(&report).unwrap()
    );
}

#[test]
fn dry_run_report_with_errors_and_warnings() {
    let sheet = sheet_of(&refugee_xlsx());
    let m = Mapping::suggest(&Header::find(&sheet, None).unwrap(), FIELDS);
    let report = validate(&sheet, &m, FIELDS);
    let a = |x: &str| Some(x.to_string());
    let col = |c: &str| Some(c.to_string());
    assert_eq!(
        issues(&report),
        vec![
            (
                Some(3),
                col("I"),
                Severity::Warning,
                "import.warn.unmapped_column".into(),
                a("Bemerkung")
            ),
            (
                Some(5),
                col("C"),
                Severity::Warning,
                "import.warn.two_digit_year".into(),
                a("3.4.85 → 03.04.1985")
            ),
            (
                Some(6),
                col("A"),
                Severity::Error,
                "import.err.required".into(),
                None
            ),
            (
                Some(6),
                col("C"),
                Severity::Error,
                "import.err.date".into(),
                a("31.02.1980")
            ),
            (
                Some(6),
                col("G"),
                Severity::Error,
                "import.err.number".into(),
                a("zwei")
            ),
        ]
    );
    assert_eq!((report.errors, report.warnings), (3, 2));
    let i = &report.issues[2];
    assert_eq!(
        (i.sheet.as_str(), i.header.as_deref(), i.field.as_deref()),
        ("Belegung", Some("Name"), Some("last_name"))
    );
    // The rows without errors, typed.
    assert_eq!(report.rows.len(), 2);
    let r = &report.rows[0];
    assert_eq!(r.row, 4);
    assert_eq!(r.text("last_name"), Some("Müller"));
    assert_eq!(r.date("birth_date"), Some(d(1990, 4, 3)));
    assert_eq!(r.choice("nationality"), Some("SY"));
    assert_eq!(r.date("moved_in"), Some(d(2023, 4, 3)));
    assert_eq!(r.integer("persons"), Some(3));
    assert_eq!(
        r.decimal("rent"),
        Some(Decimal {
            mantissa: 123456,
            scale: 2
        })
    );
    let r = &report.rows[1];
    assert_eq!(r.date("birth_date"), Some(d(1985, 4, 3)));
    assert_eq!(r.choice("nationality"), Some("TR"));
    assert_eq!(r.decimal("rent").unwrap().to_string(), "450.5");
    // Serializable for the staff page and the CLI's JSON output.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rows"][0]["values"]["rent"], "1234.56");
    assert_eq!(json["issues"][0]["severity"], "Warning");

    // Nothing is applied while there are errors.
    let mut applied = 0;
    let e = commit(
        &report,
        |_| {
            applied += 1;
            Ok::<_, ()>(())
        },
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, CommitError::Invalid { errors: 3 }));
    assert_eq!(e.key(), "import.err.not_valid");
    assert_eq!(applied, 0);
}

#[test]
fn required_field_without_column_unknown_field_and_header_override() {
    let csv = "Kopf;Zeile\nName;Vorname\nMeier;Eva\n";
    let sheet = sheet_of(csv.as_bytes());
    let m = Mapping::from_toml(
        r#"
header_row = 2
[[columns]]
header = "Name"
field = "last_name"
[[columns]]
column = "B"
field = "vorname"
"#,
    )
    .unwrap();
    let r = validate(&sheet, &m, FIELDS);
    let keys: Vec<(&str, Option<&str>)> = r
        .issues
        .iter()
        .map(|i| (i.key.as_str(), i.arg.as_deref()))
        .collect();
    assert!(
        keys.contains(&("import.err.unknown_field", Some("vorname"))),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("import.err.field_unmapped", Some("first_name"))),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("import.err.field_unmapped", Some("birth_date"))),
        "{keys:?}"
    );
    assert!(r.issues.iter().all(|i| i.row == Some(2)));
}

#[test]
fn mapping_files_in_json_and_toml() {
    let sheet = sheet_of(&refugee_xlsx());
    let m = Mapping::suggest(&Header::find(&sheet, None).unwrap(), FIELDS);
    let strip = |mut m: Mapping| {
        m.columns.iter_mut().for_each(|c| c.score = None);
        m
    };
    assert_eq!(Mapping::from_json(&m.to_json()).unwrap(), strip(m.clone()));
    assert_eq!(Mapping::from_toml(&m.to_toml()).unwrap(), strip(m.clone()));
    let dir = std::env::temp_dir().join(format!("rathaus-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, toml) = (dir.join("m.json"), dir.join("m.toml"));
    std::fs::write(&json, m.to_json()).unwrap();
    std::fs::write(&toml, m.to_toml()).unwrap();
    assert_eq!(Mapping::load(&json).unwrap(), Mapping::load(&toml).unwrap());
    // By header name only (columns may have moved since it was saved).
    let by_name =
        Mapping::from_json(r#"{"columns":[{"header":"geb. datum","field":"birth_date"}]}"#)
            .unwrap();
    let r = validate(&sheet, &by_name, &FIELDS[2..3]);
    assert_eq!(r.rows[0].date("birth_date"), Some(d(1990, 4, 3)));
    let e = Mapping::from_json(r#"{"colums":[]}"#).unwrap_err();
    assert_eq!(e.key(), "import.err.bad_mapping");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn header_only_file_and_sheet_without_header() {
    let sheet = sheet_of(b"Name;Vorname;Geburtsdatum\n");
    let m = Mapping::suggest(&Header::find(&sheet, None).unwrap(), FIELDS);
    let r = validate(&sheet, &m, FIELDS);
    assert!(r.has_errors());
    assert_eq!(r.issues.last().unwrap().key, "import.err.no_data");
    assert!(r.rows.is_empty());
    // Only numbers: no header row.
    let sheet = sheet_of(b"1;2\n3;4\n");
    let r = validate(&sheet, &Mapping::default(), FIELDS);
    assert_eq!(issues(&r)[0].3, "import.err.no_header");
}

#[test]
fn duplicates_gaps_and_module_rules() {
    let mut csv = String::from("Name;Vorname;Geburtsdatum;Einzug;Unterkunft\n");
    for i in 0..12 {
        let housing = if i == 5 { "" } else { "Am Markt 1" };
        csv.push_str(&format!("N{i};V;01.01.1990;01.01.2024;{housing}\n"));
    }
    csv.push_str("N0;V;01.01.1990;01.01.2024;Am Markt 1\n");
    csv.push_str("Spät;V;01.01.2000;01.01.1999;Am Markt 1\n");
    let sheet = sheet_of(csv.as_bytes());
    let m = Mapping::suggest(&Header::find(&sheet, None).unwrap(), FIELDS);
    let r = validate_with(&sheet, &m, FIELDS, |row| {
        let mut e = FieldErrors::new();
        if row.date("moved_in") < row.date("birth_date") {
            e.add("moved_in", "refugees.err.moved_in_before_birth");
        }
        e
    });
    assert_eq!(
        issues(&r),
        vec![
            (
                Some(7),
                Some("E".into()),
                Severity::Warning,
                "import.warn.empty_cell".into(),
                None
            ),
            (
                Some(14),
                None,
                Severity::Warning,
                "import.warn.duplicate_row".into(),
                Some("2".into())
            ),
            (
                Some(15),
                Some("D".into()),
                Severity::Error,
                "refugees.err.moved_in_before_birth".into(),
                None
            ),
        ]
    );
}

#[test]
fn commit_applies_every_row_with_progress_or_stops_at_the_first_failure() {
    let mut csv = String::from("Name;Vorname;Geburtsdatum\n");
    for i in 0..250 {
        csv.push_str(&format!("N{i};V;3.4.2001\n"));
    }
    let sheet = sheet_of(csv.as_bytes());
    let m = Mapping::suggest(&Header::find(&sheet, None).unwrap(), FIELDS);
    let report = validate(&sheet, &m, FIELDS);
    assert!(!report.has_errors());
    let mut names = Vec::new();
    let mut progress = Vec::new();
    let n = commit(
        &report,
        |row| {
            names.push(row.text("last_name").unwrap().to_string());
            Ok::<_, String>(())
        },
        |p| progress.push(p),
    )
    .unwrap();
    assert_eq!(n, 250);
    assert_eq!(names.len(), 250);
    assert_eq!(
        progress,
        vec![
            Progress {
                done: 100,
                total: 250
            },
            Progress {
                done: 200,
                total: 250
            },
            Progress {
                done: 250,
                total: 250
            },
        ]
    );
    // The caller's closure fails: the error names the row, the caller rolls back.
    let e = commit(
        &report,
        |row| {
            if row.row == 10 {
                Err("unique violated")
            } else {
                Ok(())
            }
        },
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(
        e,
        CommitError::Apply {
            row: 10,
            error: "unique violated",
            ..
        }
    ));
}

#[tokio::test]
async fn async_commit_for_database_writes() {
    let sheet = sheet_of(b"Name;Vorname;Geburtsdatum\nA;B;1.1.2000\nC;D;2.1.2000\n");
    let m = Mapping::suggest(&Header::find(&sheet, None).unwrap(), FIELDS);
    let report = validate(&sheet, &m, FIELDS);
    let store = tokio::sync::Mutex::new(Vec::new());
    let n = commit_async(
        &report,
        async |row| {
            tokio::task::yield_now().await;
            store.lock().await.push(row.get("birth_date").cloned());
            Ok::<_, ()>(())
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(store.into_inner()[1], Some(Value::Date(d(2000, 1, 2))));
}

#[test]
fn all_sheets_in_one_report() {
    let book = read(&refugee_xlsx(), &SheetChoice::All, &Limits::default()).unwrap();
    let m = rathaus_import::Mapping::from_json(
        r#"{"columns":[{"header":"Name","field":"last_name"},{"header":"Vorname","field":"first_name"}]}"#,
    )
    .unwrap();
    let r = validate_workbook(&book, &m, &FIELDS[..2]);
    assert_eq!(r.sheets.len(), 2);
    let last = r.rows.last().unwrap();
    assert_eq!(
        (last.sheet.as_str(), last.row, last.text("last_name")),
        ("Archiv", 2, Some("Alt"))
    );
}

#[test]
fn every_key_used_has_a_german_and_english_text() {
    let de: toml::Value = toml::from_str(translations(true)).unwrap();
    let en: toml::Value = toml::from_str(translations(false)).unwrap();
    let src = [
        include_str!("../src/error.rs"),
        include_str!("../src/convert.rs"),
        include_str!("../src/report.rs"),
    ]
    .concat();
    let mut n = 0;
    for part in src.split('"').skip(1).step_by(2) {
        if !part.starts_with("import.") || part.ends_with('.') {
            continue;
        }
        n += 1;
        for (lang, table) in [("de", &de), ("en", &en)] {
            let mut v = table;
            for k in part.split('.') {
                v = v.get(k).unwrap_or_else(|| panic!("{lang}: {part} missing"));
            }
            assert!(v.is_str(), "{lang}: {part}");
        }
    }
    assert!(n > 25, "{n} keys checked");
}
