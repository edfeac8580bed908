#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use rathaus_xdomea::*;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The schema folder: `RATHAUS_XDOMEA_XSD_DIR` or `../shared/standards/xdomea-3.0.0` next to
/// the repository.
pub fn xsd() -> PathBuf {
    let dir = match std::env::var_os("RATHAUS_XDOMEA_XSD_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/standards/xdomea-3.0.0")
        }
    };
    let f = dir.join("xdomea-Nachrichten-AussonderungDurchfuehren.xsd");
    assert!(
        f.exists(),
        "xdomea schema not found at {} (set RATHAUS_XDOMEA_XSD_DIR)",
        f.display()
    );
    f
}

/// Fails (never skips) when xmllint is missing.
pub fn require_xmllint() {
    let ok = Command::new("xmllint")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "xmllint is missing: install Debian libxml2-utils (apt-get install -y libxml2-utils; scripts/test does it)"
    );
}

/// Validates with `xmllint --nonet --noout --schema`; panics with xmllint's output if invalid.
pub fn validate(xml: &str) {
    require_xmllint();
    let mut child = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(xsd())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(xml.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "xmllint rejected the message (exit {:?}):\n{}\n--- message (start) ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        xml.chars().take(4000).collect::<String>()
    );
}

pub fn pid() -> ProcessId {
    ProcessId("242f44e8-bebf-4503-a086-db252c6a4277".parse().unwrap())
}

pub fn town() -> Party {
    Party {
        name: "Gemeinde Großenlüder – Bürgerbüro".into(),
        short_name: Some("Großenlüder".into()),
        authority_key: Some(Code {
            code: "06631011".into(),
            name: Some("Gemeinde Großenlüder".into()),
        }),
        prefix: None,
        unit: Some("Hauptamt & Registratur".into()),
    }
}

pub fn archive() -> Party {
    Party {
        name: "Hessisches Landesarchiv – Staatsarchiv Marburg".into(),
        short_name: Some("HLA".into()),
        authority_key: None,
        prefix: None,
        unit: None,
    }
}

pub fn header(from: Party, to: Party) -> Header {
    Header {
        process_id: pid(),
        created_at: Utc.with_ymd_and_hms(2026, 12, 4, 15, 30, 0).unwrap(),
        sender: from,
        recipient: to,
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn id(kind: ObjectKind, n: i64) -> ObjectId {
    ObjectId::derived(pid().0, kind, n)
}

pub fn version(n: i64, name: &str, mime: &str) -> Version {
    Version {
        id: id(ObjectKind::Version, n),
        number: 1,
        name: name.into(),
        mime: mime.into(),
        created_by: Some("Jürgen Weiß".into()),
        created_at: Some(Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap()),
    }
}

pub fn document(n: i64, title: &str, dir: Direction, name: &str, mime: &str) -> Document {
    Document {
        id: id(ObjectKind::Document, n),
        title: title.into(),
        date: d(2024, 3, 1),
        direction: dir,
        kind: Some("Bescheid".into()),
        versions: vec![version(n, name, mime)],
    }
}

/// Several files with umlauts, cases, documents (with several versions) and a sub-file.
pub fn files() -> Vec<RecordFile> {
    let mut a = RecordFile {
        id: id(ObjectKind::File, 1),
        file_number: "022.31-0001/2024".into(),
        title: "Hundesteuer Müller, Jörg – Größe & Gewicht <Dackel>".into(),
        plan_item: PlanItem {
            code: "022.31".into(),
            title: "Hundesteuer (Veranlagung, Ermäßigung)".into(),
        },
        kind: Some("Hundesteuerakte".into()),
        opened_on: d(2024, 1, 15),
        closed_on: Some(d(2025, 6, 30)),
        retention: Some(Retention::Years(10)),
        retention_until: Some(d(2035, 12, 31)),
        disposition: Disposition::A,
        documents: vec![document(
            1,
            "Anmeldung des Hundes (Straße: Fußweg 3)",
            Direction::Incoming,
            "Anmeldung Müller.pdf",
            "application/pdf",
        )],
        cases: vec![Case {
            id: id(ObjectKind::Case, 1),
            title: "Ermäßigung für Blindenführhund".into(),
            reference: Some("022.31-0001/2024.1".into()),
            opened_on: d(2024, 2, 1),
            closed_on: Some(d(2024, 3, 1)),
            documents: vec![
                document(
                    2,
                    "Bescheid über die Ermäßigung",
                    Direction::Outgoing,
                    "Bescheid Ermäßigung.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ),
                document(
                    3,
                    "Aktenvermerk",
                    Direction::Internal,
                    "vermerk.txt",
                    "text/plain",
                ),
            ],
        }],
        sub_files: vec![],
    };
    a.documents[0].versions.push(Version {
        number: 2,
        ..version(100, "Anmeldung Müller (ergänzt).pdf", "application/pdf")
    });
    let b = RecordFile {
        id: id(ObjectKind::File, 2),
        file_number: "110.2-0007/2020".into(),
        title: "Personalakte Weiß, Käthe".into(),
        plan_item: PlanItem {
            code: "110.2".into(),
            title: "Personalakten".into(),
        },
        kind: Some("Personalakte".into()),
        opened_on: d(2020, 4, 1),
        closed_on: Some(d(2023, 9, 30)),
        retention: Some(Retention::Unlimited),
        retention_until: None,
        disposition: Disposition::B,
        documents: vec![document(
            4,
            "Arbeitsvertrag",
            Direction::Internal,
            "Vertrag Weiß.odt",
            "application/vnd.oasis.opendocument.text",
        )],
        cases: vec![],
        sub_files: vec![RecordFile {
            id: id(ObjectKind::File, 3),
            file_number: "110.2-0007/2020-K".into(),
            title: "Teilakte Krankheit".into(),
            plan_item: PlanItem {
                code: "110.2".into(),
                title: "Personalakten".into(),
            },
            kind: None,
            opened_on: d(2020, 4, 1),
            closed_on: None,
            retention: None,
            retention_until: None,
            disposition: Disposition::V,
            documents: vec![document(
                5,
                "Arbeitsunfähigkeitsbescheinigung",
                Direction::Incoming,
                "AU 2021.weird",
                "application/x-unbekannt",
            )],
            cases: vec![],
            sub_files: vec![],
        }],
    };
    let c = RecordFile {
        id: id(ObjectKind::File, 4),
        file_number: "460.1-0003/2019".into(),
        title: "Straßenreinigung Gärtnerstraße".into(),
        plan_item: PlanItem {
            code: "460.1".into(),
            title: "Straßenreinigung".into(),
        },
        kind: None,
        opened_on: d(2019, 1, 2),
        closed_on: None,
        retention: None,
        retention_until: None,
        disposition: Disposition::V,
        documents: vec![],
        cases: vec![],
        sub_files: vec![],
    };
    vec![a, b, c]
}

pub fn offer() -> Offer {
    Offer {
        header: header(town(), archive()),
        request_receipt: true,
        files: files(),
    }
}

pub fn handover() -> HandOver {
    HandOver {
        header: header(town(), archive()),
        request_receipt: true,
        request_archive_ids: true,
        files: files(),
    }
}
