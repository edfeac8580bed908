use crate::common;

use common::*;
use rathaus_xdomea::*;

#[test]
fn xmllint_is_installed() {
    // A missing xmllint fails the suite with the install hint instead of skipping validation.
    require_xmllint();
}

#[test]
fn offer_0501_validates_and_has_no_primary_files() {
    let o = offer();
    let xml = o.to_xml().unwrap();
    validate(&xml);
    assert!(xml.contains("<code>0501</code>"));
    assert!(xml.contains("Hundesteuer Müller, Jörg – Größe &amp; Gewicht &lt;Dackel&gt;"));
    assert!(xml.contains("<xdomea:Teilakte>"));
    assert!(xml.contains("<xdomea:Vorgang>"));
    assert!(!xml.contains("Primaerdokument"));
    assert_eq!(
        o.file_name(),
        "242f44e8-bebf-4503-a086-db252c6a4277_Aussonderung.Anbieteverzeichnis.0501.xml"
    );
    assert_eq!(message_type(&xml).unwrap(), MessageType::Offer);
}

#[test]
fn handover_0503_validates_and_references_primary_files() {
    let h = handover();
    let xml = h.to_xml().unwrap();
    validate(&xml);
    assert!(xml.contains("<code>0503</code>"));
    assert!(xml.contains("<xdomea:Importbestaetigung>1</xdomea:Importbestaetigung>"));
    let names = h.primary_files();
    assert_eq!(names.len(), 6);
    for n in &names {
        assert!(
            xml.contains(&format!("<xdomea:Dateiname>{n}</xdomea:Dateiname>")),
            "{n}"
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("_Bescheid Ermäßigung.docx"))
    );
    // Formats from the code list: pdf 018, docx 035, odt 015, unknown 100 with SonstigerName.
    assert!(xml.contains("<code>018</code>"));
    assert!(xml.contains("<code>035</code>"));
    assert!(xml.contains("<code>100</code>"));
    assert!(xml.contains("<xdomea:SonstigerName>application/x-unbekannt</xdomea:SonstigerName>"));
}

#[test]
fn control_characters_in_titles_are_dropped() {
    let mut o = offer();
    o.files[0].title = "Akte\u{1} mit \u{b}Steuerzeichen\r\n".into();
    validate(&o.to_xml().unwrap());
}

#[test]
fn receipts_0504_0505_0507_validate_and_read_back() {
    for kind in [
        ReceiptKind::Offer,
        ReceiptKind::Appraisal,
        ReceiptKind::HandOver,
    ] {
        let r = Receipt {
            kind,
            header: header(archive(), town()),
        };
        let xml = r.to_xml().unwrap();
        validate(&xml);
        assert!(xml.contains(&format!("<code>{}</code>", kind.message_type().code())));
        let back = read_receipt(&xml, kind).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.header.process_id, pid());
    }
}

#[test]
fn appraisal_0502_round_trip() {
    let o = offer();
    let a = Appraisal {
        header: header(archive(), town()),
        request_receipt: true,
        decisions: vec![
            Decision {
                id: o.files[0].id,
                disposition: Disposition::A,
            },
            Decision {
                id: o.files[1].id,
                disposition: Disposition::V,
            },
            Decision {
                id: o.files[2].id,
                disposition: Disposition::B,
            },
        ],
    };
    let xml = a.to_xml().unwrap();
    validate(&xml);
    let back = read_appraisal(&xml).unwrap();
    assert_eq!(back, a);
    back.check_offered(o.files.iter().map(|f| f.id)).unwrap();
    // A file not offered is refused.
    let err = back.check_offered([o.files[0].id]).unwrap_err();
    assert_eq!(
        err,
        ReadError::NotOffered(vec![o.files[1].id, o.files[2].id])
    );
}

#[test]
fn import_confirmation_0506_round_trip() {
    let o = handover();
    let c = ImportConfirmation {
        header: header(archive(), town()),
        results: vec![
            ImportResult {
                id: o.files[0].id,
                success: true,
                error: None,
                archive_id: Some("HStAM 180 Großenlüder Nr. 1".into()),
            },
            ImportResult {
                id: o.files[1].id,
                success: false,
                error: Some("Prüfsumme stimmt nicht überein".into()),
                archive_id: None,
            },
        ],
    };
    let xml = c.to_xml().unwrap();
    validate(&xml);
    assert_eq!(read_import_confirmation(&xml).unwrap(), c);
}

#[test]
fn upstream_example_0502_reads_only_with_the_right_code() {
    // The toolkit's template says 0503 in a 0502 root: refused as a mismatch.
    let p = xsd()
        .parent()
        .unwrap()
        .join("examples/xx_Aussonderung.Bewertungsverzeichnis.0502.xml");
    let xml = std::fs::read_to_string(p).unwrap();
    assert!(matches!(
        read_appraisal(&xml),
        Err(ReadError::TypeMismatch { .. })
    ));
    let fixed = xml.replacen("<code>0503</code>", "<code>0502</code>", 1);
    let a = read_appraisal(&fixed).unwrap();
    assert_eq!(a.header.process_id, pid());
    assert_eq!(a.decisions.len(), 1);
    assert_eq!(a.decisions[0].disposition, Disposition::A);
    assert_eq!(a.header.sender.name, "AbsXdomeaInstitutionName");
    // 2018-07-24T17:21:25 without offset is German summer time.
    assert_eq!(
        a.header.created_at.to_rfc3339(),
        "2018-07-24T15:21:25+00:00"
    );
}

fn appraisal_xml() -> String {
    Appraisal {
        header: header(archive(), town()),
        request_receipt: false,
        decisions: vec![Decision {
            id: offer().files[0].id,
            disposition: Disposition::A,
        }],
    }
    .to_xml()
    .unwrap()
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let good = appraisal_xml();
    // Wrong message type.
    let receipt = Receipt {
        kind: ReceiptKind::Offer,
        header: header(archive(), town()),
    }
    .to_xml()
    .unwrap();
    assert_eq!(
        read_appraisal(&receipt).unwrap_err(),
        ReadError::WrongType {
            expected: "Aussonderung.Bewertungsverzeichnis.0502",
            found: "Aussonderung.AnbietungEmpfangBestaetigen.0504",
        }
    );
    assert!(matches!(
        read_import_confirmation(&good),
        Err(ReadError::WrongType { .. })
    ));
    // Unknown root / other namespace.
    assert!(matches!(
        read_appraisal("<foo/>"),
        Err(ReadError::NotXdomea(_))
    ));
    let other_ns = good.replace(
        "urn:xoev-de:xdomea:schema:3.0.0",
        "urn:xoev-de:xdomea:schema:2.4.0",
    );
    assert!(matches!(
        read_appraisal(&other_ns),
        Err(ReadError::NotXdomea(_))
    ));
    // Not well-formed.
    for bad in [
        "",
        "not xml",
        &good[..good.len() / 2],
        &good.replace("</xdomea:BewertetesObjekt>", ""),
        &format!("{good}<x/>"),
        &good.replace("Gemeinde", "&unknown;"),
    ] {
        assert!(
            matches!(read_appraisal(bad), Err(ReadError::Malformed(_))),
            "{:?} for {bad:?}",
            read_appraisal(bad)
        );
    }
    // No DOCTYPE (no entity expansion).
    let dtd = good.replacen("<xdomea:", "<!DOCTYPE x [<!ENTITY a \"b\">]><xdomea:", 1);
    assert!(matches!(read_appraisal(&dtd), Err(ReadError::Malformed(_))));
    // Unknown disposition code.
    let x = good.replace("<code>A</code>", "<code>X</code>");
    assert_eq!(
        read_appraisal(&x).unwrap_err(),
        ReadError::UnknownDisposition("X".into())
    );
    // Missing or broken ids.
    let id = offer().files[0].id.to_string();
    let x = good.replace(&format!("<xdomea:ID>{id}</xdomea:ID>"), "");
    assert_eq!(read_appraisal(&x).unwrap_err(), ReadError::Missing("ID"));
    let x = good.replace(&id, "kein-uuid");
    assert!(matches!(
        read_appraisal(&x),
        Err(ReadError::Invalid { element: "ID", .. })
    ));
    let x = good.replace(&pid().to_string(), "");
    assert!(matches!(
        read_appraisal(&x),
        Err(ReadError::Invalid {
            element: "ProzessID",
            ..
        })
    ));
    // No decisions at all.
    let start = good.find("<xdomea:BewertetesObjekt>").unwrap();
    let end = good.find("</xdomea:BewertetesObjekt>").unwrap() + "</xdomea:BewertetesObjekt>".len();
    let x = format!("{}{}", &good[..start], &good[end..]);
    assert_eq!(
        read_appraisal(&x).unwrap_err(),
        ReadError::Missing("BewertetesObjekt")
    );
    // The same object twice.
    let obj = &good[start..end];
    let x = format!("{}{obj}{obj}{}", &good[..start], &good[end..]);
    assert!(matches!(read_appraisal(&x), Err(ReadError::Duplicate(_))));
}

#[test]
fn writers_refuse_empty_lists() {
    let mut o = offer();
    o.files.clear();
    assert!(matches!(o.to_xml(), Err(WriteError::Empty("0501", _))));
    let a = Appraisal {
        header: header(archive(), town()),
        request_receipt: false,
        decisions: vec![],
    };
    assert!(matches!(a.to_xml(), Err(WriteError::Empty("0502", _))));
}

#[test]
fn messages_inside_a_zip_are_unpacked() {
    use std::io::Write;
    let xml = appraisal_xml();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(
        MessageType::Appraisal.file_name(pid()),
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    z.write_all(xml.as_bytes()).unwrap();
    let bytes = z.finish().unwrap().into_inner();
    assert_eq!(unpack_message(&bytes).unwrap(), xml);
    assert_eq!(unpack_message(xml.as_bytes()).unwrap(), xml);
    assert!(unpack_message(b"PK\x03\x04broken").is_err());
}

#[test]
fn derived_ids_are_stable_and_distinct() {
    let ns = pid().0;
    let a = ObjectId::derived(ns, ObjectKind::File, 7);
    assert_eq!(a, ObjectId::derived(ns, ObjectKind::File, 7));
    assert_ne!(a, ObjectId::derived(ns, ObjectKind::Case, 7));
    assert_ne!(a, ObjectId::derived(ns, ObjectKind::File, 8));
    assert_ne!(
        a,
        ObjectId::derived(uuid::Uuid::new_v4(), ObjectKind::File, 7)
    );
    assert_eq!(a.to_string().parse::<ObjectId>().unwrap(), a);
    assert!("0123".parse::<ObjectId>().is_err());
}

#[test]
fn the_validator_rejects_an_invalid_message() {
    // Guards the other tests: a message xmllint refuses must fail `validate`.
    let xml = appraisal_xml().replace("<code>A</code>", "<code>X</code>");
    assert!(std::panic::catch_unwind(|| validate(&xml)).is_err());
    let xml = offer().to_xml().unwrap().replace(
        "<xdomea:Betreff>",
        "<xdomea:Unbekannt>x</xdomea:Unbekannt><xdomea:Betreff>",
    );
    assert!(std::panic::catch_unwind(|| validate(&xml)).is_err());
}
