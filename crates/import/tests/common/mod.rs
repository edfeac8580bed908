//! Files built in memory for the tests: XLSX with rust_xlsxwriter, ODS and hand-made XLSX
//! with the zip writer.
#![allow(dead_code)]

use std::borrow::Cow;
use std::io::{Cursor, Read, Write};

use rathaus_import::{Choice, Field, FieldKind, words};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use zip::write::SimpleFileOptions;

/// An Excel list as a town keeps it: a title, a blank row, the headers in row 3, data below
/// (dates as date cells and as German text, a decimal, an x for yes).
pub fn refugee_xlsx() -> Vec<u8> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let ws = wb.add_worksheet();
    ws.set_name("Belegung").unwrap();
    ws.write_string(0, 0, "Belegungsliste Unterkünfte – Stand 01.03.2024")
        .unwrap();
    let headers = [
        "Name",
        "Vorname",
        "Geb.-Datum",
        "Staatsangehörigkeit",
        "Unterkunft",
        "Einzug",
        "Personen",
        "Miete",
        "Bemerkung",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    // Row 4: complete, dates as date cells.
    ws.write_string(3, 0, "Müller").unwrap();
    ws.write_string(3, 1, "Anna").unwrap();
    ws.write_datetime_with_format(3, 2, ExcelDateTime::from_ymd(1990, 4, 3).unwrap(), &date)
        .unwrap();
    ws.write_string(3, 3, "syrisch").unwrap();
    ws.write_string(3, 4, "Am Markt 1").unwrap();
    ws.write_datetime_with_format(3, 5, ExcelDateTime::from_ymd(2023, 4, 3).unwrap(), &date)
        .unwrap();
    ws.write_number(3, 6, 3).unwrap();
    ws.write_string(3, 7, "1.234,56").unwrap();
    // Row 5: German text dates with a two-digit year, a decimal number cell.
    ws.write_string(4, 0, "Öztürk").unwrap();
    ws.write_string(4, 1, "Can").unwrap();
    ws.write_string(4, 2, "3.4.85").unwrap();
    ws.write_string(4, 3, "türkisch").unwrap();
    ws.write_string(4, 4, "Lindenweg 5").unwrap();
    ws.write_string(4, 5, "01.02.2024").unwrap();
    ws.write_number(4, 6, 1).unwrap();
    ws.write_number(4, 7, 450.5).unwrap();
    ws.write_string(4, 8, "Rollstuhl").unwrap();
    // Row 6: bad date, bad count, name missing.
    ws.write_string(5, 1, "Olga").unwrap();
    ws.write_string(5, 2, "31.02.1980").unwrap();
    ws.write_string(5, 3, "ukrainisch").unwrap();
    ws.write_string(5, 4, "Am Markt 1").unwrap();
    ws.write_string(5, 6, "zwei").unwrap();
    // A second sheet.
    let ws2 = wb.add_worksheet();
    ws2.set_name("Archiv").unwrap();
    ws2.write_string(0, 0, "Name").unwrap();
    ws2.write_string(0, 1, "Vorname").unwrap();
    ws2.write_string(1, 0, "Alt").unwrap();
    ws2.write_string(1, 1, "Bernd").unwrap();
    wb.save_to_buffer().unwrap()
}

pub const NATIONALITIES: &[Choice] = &[
    Choice {
        value: Cow::Borrowed("SY"),
        synonyms: words!["syrisch", "Syrien"],
    },
    Choice {
        value: Cow::Borrowed("TR"),
        synonyms: words!["tuerkisch", "Tuerkei"],
    },
    Choice {
        value: Cow::Borrowed("UA"),
        synonyms: words!["ukrainisch", "Ukraine"],
    },
];

pub const FIELDS: &[Field] = &[
    Field {
        key: Cow::Borrowed("last_name"),
        label_key: Cow::Borrowed("refugees.field.last_name"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Name", "Nachname", "Familienname"],
    },
    Field {
        key: Cow::Borrowed("first_name"),
        label_key: Cow::Borrowed("refugees.field.first_name"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Vorname", "Vornamen", "Rufname"],
    },
    Field {
        key: Cow::Borrowed("birth_date"),
        label_key: Cow::Borrowed("refugees.field.birth_date"),
        kind: FieldKind::Date,
        required: true,
        synonyms: words!["Geburtsdatum", "Geb.-Datum", "geboren am"],
    },
    Field {
        key: Cow::Borrowed("nationality"),
        label_key: Cow::Borrowed("refugees.field.nationality"),
        kind: FieldKind::Choice(Cow::Borrowed(NATIONALITIES)),
        required: false,
        synonyms: words!["Staatsangehoerigkeit", "Nationalitaet", "Herkunftsland"],
    },
    Field {
        key: Cow::Borrowed("housing"),
        label_key: Cow::Borrowed("refugees.field.housing"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Unterkunft", "Wohnung", "Adresse"],
    },
    Field {
        key: Cow::Borrowed("moved_in"),
        label_key: Cow::Borrowed("refugees.field.moved_in"),
        kind: FieldKind::Date,
        required: false,
        synonyms: words!["Einzugsdatum", "Einzug", "eingezogen am"],
    },
    Field {
        key: Cow::Borrowed("persons"),
        label_key: Cow::Borrowed("refugees.field.persons"),
        kind: FieldKind::Integer,
        required: false,
        synonyms: words!["Personenzahl", "Personen", "Anzahl Personen"],
    },
    Field {
        key: Cow::Borrowed("rent"),
        label_key: Cow::Borrowed("refugees.field.rent"),
        kind: FieldKind::Decimal,
        required: false,
        synonyms: words!["Miete", "Kosten"],
    },
];

/// A zip from (name, content) pairs; `mimetype` is stored uncompressed as ODF wants.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Every entry of a zip, to rebuild it with one entry replaced.
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().to_string(), v)
        })
        .collect()
}

/// An XLSX whose first sheet's XML is replaced by `sheet_xml`'s `<sheetData>` content.
pub fn xlsx_with_sheet_data(sheet_data: &str) -> Vec<u8> {
    let mut wb = Workbook::new();
    wb.add_worksheet().write_string(0, 0, "x").unwrap();
    let base = wb.save_to_buffer().unwrap();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
    );
    let entries: Vec<(String, Vec<u8>)> = unzip(&base)
        .into_iter()
        .map(|(n, d)| {
            if n == "xl/worksheets/sheet1.xml" {
                (n, xml.as_bytes().to_vec())
            } else {
                (n, d)
            }
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    zip_of(&refs)
}

/// An inline-string cell.
pub fn is(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// An ODS document with this `<office:spreadsheet>` content.
pub fn ods(tables: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_of(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

/// An ODS text cell.
pub fn ot(text: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}
