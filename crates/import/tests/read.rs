//! Reading: formats, encodings, sheets, header rows, and every kind of bad input (issue #16,
//! "Bad input"): each is a typed error with a translation key, never a panic or a blow-up.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use rathaus_import::{Cell, Format, Header, ImportError, Limits, SheetChoice, TextEncoding, read};

fn texts(row: &rathaus_import::Row) -> Vec<String> {
    row.cells.iter().map(Cell::to_text).collect()
}

#[test]
fn xlsx_title_blank_row_then_headers() {
    let book = read(&refugee_xlsx(), &SheetChoice::First, &Limits::default()).unwrap();
    assert_eq!(book.format, Format::Xlsx);
    assert_eq!(book.sheet_names, vec!["Belegung", "Archiv"]);
    let sheet = &book.sheets[0];
    // Row numbers as in Excel: title 1, blank 2 (left out), header 3, data from 4.
    let numbers: Vec<u32> = sheet.rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![1, 3, 4, 5, 6]);
    let header = Header::find(sheet, None).unwrap();
    assert_eq!(header.row, 3);
    assert_eq!(
        header.columns[2],
        ("C".to_string(), "Geb.-Datum".to_string())
    );
    assert_eq!(header.columns[3].1, "Staatsangehörigkeit");
    // A date cell arrives as a date; text stays text.
    assert_eq!(texts(&sheet.rows[2])[2], "03.04.1990");
    assert_eq!(texts(&sheet.rows[3])[2], "3.4.85");
}

#[test]
fn sheets_by_name_index_or_all() {
    let bytes = refugee_xlsx();
    let l = Limits::default();
    let b = read(&bytes, &SheetChoice::Named("Archiv".into()), &l).unwrap();
    assert_eq!(b.sheets.len(), 1);
    assert_eq!(b.sheets[0].name, "Archiv");
    assert_eq!(
        read(&bytes, &SheetChoice::Index(1), &l).unwrap().sheets[0].name,
        "Archiv"
    );
    assert_eq!(read(&bytes, &SheetChoice::All, &l).unwrap().sheets.len(), 2);
    let e = read(&bytes, &SheetChoice::Named("Fehlt".into()), &l).unwrap_err();
    assert_eq!(e, ImportError::SheetNotFound("Fehlt".into()));
    assert_eq!(e.key(), "import.err.sheet_not_found");
    assert_eq!(e.arg().as_deref(), Some("Fehlt"));
}

#[test]
fn ods_with_title_dates_and_trailing_repeated_rows() {
    let table = format!(
        r#"<table:table table:name="Liste"><table:table-row>{}</table:table-row><table:table-row><table:table-cell table:number-columns-repeated="3"/></table:table-row><table:table-row>{}{}{}</table:table-row><table:table-row>{}<table:table-cell office:value-type="date" office:date-value="1990-04-03"><text:p>03.04.90</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table><table:table table:name="Zwei"><table:table-row>{}</table:table-row></table:table>"#,
        ot("Liste der Bewohner"),
        ot("Name"),
        ot("Geburtsdatum"),
        ot("Personen"),
        ot("Müller"),
        ot("x"),
    );
    let start = Instant::now();
    let book = read(&ods(&table), &SheetChoice::First, &Limits::default()).unwrap();
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(book.format, Format::Ods);
    assert_eq!(book.sheet_names, vec!["Liste", "Zwei"]);
    let sheet = &book.sheets[0];
    let numbers: Vec<u32> = sheet.rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![1, 3, 4]);
    assert_eq!(texts(&sheet.rows[2]), vec!["Müller", "03.04.1990", "3"]);
    assert_eq!(Header::find(sheet, None).unwrap().row, 3);
}

#[test]
fn ods_repeated_rows_bomb_is_refused_before_calamine_expands_it() {
    // 40 bytes of XML asking for a million rows of 100 filled cells.
    let table = r#"<table:table table:name="B"><table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="100"/></table:table-row></table:table>"#;
    let start = Instant::now();
    let e = read(&ods(table), &SheetChoice::First, &Limits::default()).unwrap_err();
    assert_eq!(e, ImportError::TooManyCells { limit: 2_000_000 });
    assert_eq!(e.key(), "import.err.too_many_cells");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn csv_utf8_with_bom_and_semicolons() {
    let text = "\u{feff}Liste Stand 2024\n\nName;Vorname;Betrag\nMüller;Jürgen;1.234,56\nStraße;Eva;\"7,5\"\n";
    let book = read(text.as_bytes(), &SheetChoice::First, &Limits::default()).unwrap();
    assert_eq!(
        book.format,
        Format::Csv {
            encoding: TextEncoding::Utf8,
            delimiter: ';'
        }
    );
    let s = &book.sheets[0];
    assert_eq!(
        s.rows.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![1, 3, 4, 5]
    );
    assert_eq!(texts(&s.rows[0]), vec!["Liste Stand 2024"]);
    assert_eq!(texts(&s.rows[2]), vec!["Müller", "Jürgen", "1.234,56"]);
    assert_eq!(Header::find(s, None).unwrap().row, 3);
}

#[test]
fn csv_windows_1252_umlauts_come_out_right() {
    let (bytes, _, _) =
        encoding_rs::WINDOWS_1252.encode("Name;Ort\nMüller;Großröhrsdorf\nÖzdemir;Übach\n");
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let book = read(&bytes, &SheetChoice::First, &Limits::default()).unwrap();
    assert_eq!(
        book.format,
        Format::Csv {
            encoding: TextEncoding::Windows1252,
            delimiter: ';'
        }
    );
    let s = &book.sheets[0];
    assert_eq!(texts(&s.rows[1]), vec!["Müller", "Großröhrsdorf"]);
    assert_eq!(texts(&s.rows[2]), vec!["Özdemir", "Übach"]);
}

#[test]
fn csv_comma_tab_and_utf16() {
    let b = read(b"a,b\n1,2\n", &SheetChoice::First, &Limits::default()).unwrap();
    assert_eq!(texts(&b.sheets[0].rows[1]), vec!["1", "2"]);
    let b = read(b"a\tb\n1,5\t2\n", &SheetChoice::First, &Limits::default()).unwrap();
    assert_eq!(texts(&b.sheets[0].rows[1]), vec!["1,5", "2"]);
    // Excel's "Unicode text": UTF-16LE with BOM, tab-separated.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "Name\tOrt\nMüller\tKöln\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let b = read(&utf16, &SheetChoice::First, &Limits::default()).unwrap();
    assert!(matches!(
        b.format,
        Format::Csv {
            encoding: TextEncoding::Utf16,
            delimiter: '\t'
        }
    ));
    assert_eq!(texts(&b.sheets[0].rows[1]), vec!["Müller", "Köln"]);
}

#[test]
fn binary_and_foreign_files_are_refused() {
    let l = Limits::default();
    let mut binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    binary[10] = 0;
    assert_eq!(
        read(&binary, &SheetChoice::First, &l).unwrap_err(),
        ImportError::NotASpreadsheet
    );
    for magic in [
        &b"%PDF-1.7\n"[..],
        b"\x89PNG\r\n\x1a\n",
        b"\xFF\xD8\xFF\xE0",
    ] {
        let mut f = magic.to_vec();
        f.extend_from_slice(b"rest of the file");
        assert_eq!(
            read(&f, &SheetChoice::First, &l).unwrap_err(),
            ImportError::NotASpreadsheet
        );
    }
    // A zip that is a Word document, not a spreadsheet.
    let docx = zip_of(&[
        ("word/document.xml", b"<w:document/>"),
        ("[Content_Types].xml", b"<Types/>"),
    ]);
    assert_eq!(
        read(&docx, &SheetChoice::First, &l).unwrap_err(),
        ImportError::NotASpreadsheet
    );
    // An old .xls (OLE compound file).
    let mut xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    xls.resize(1024, 0);
    let e = read(&xls, &SheetChoice::First, &l).unwrap_err();
    assert_eq!(e.key(), "import.err.legacy_xls");
}

#[test]
fn empty_and_truncated_files() {
    let l = Limits::default();
    assert_eq!(
        read(b"", &SheetChoice::First, &l).unwrap_err(),
        ImportError::Empty
    );
    assert_eq!(
        read(b" \r\n\n", &SheetChoice::First, &l).unwrap_err(),
        ImportError::Empty
    );
    assert_eq!(
        read(b"\xEF\xBB\xBF", &SheetChoice::First, &l).unwrap_err(),
        ImportError::Empty
    );
    let xlsx = refugee_xlsx();
    let e = read(&xlsx[..xlsx.len() / 2], &SheetChoice::First, &l).unwrap_err();
    assert!(matches!(e, ImportError::Corrupt(_)), "{e:?}");
    assert_eq!(e.key(), "import.err.corrupt");
    assert_eq!(e.arg(), None, "the technical detail is not shown to users");
}

#[test]
fn file_size_limit() {
    let l = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    let e = read(&[b'a'; 101], &SheetChoice::First, &l).unwrap_err();
    assert_eq!(e.key(), "import.err.file_too_large");
}

/// Sets the uncompressed size of `name` in the central directory (and local header).
fn forge_size(zip: &mut [u8], name: &str, size: u32) {
    let mut i = 0;
    while i + 46 < zip.len() {
        if zip[i..i + 4] == *b"PK\x01\x02" {
            let n = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
            if &zip[i + 46..i + 46 + n] == name.as_bytes() {
                zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
            }
        } else if zip[i..i + 4] == *b"PK\x03\x04" {
            let n = u16::from_le_bytes([zip[i + 26], zip[i + 27]]) as usize;
            if i + 30 + n <= zip.len() && &zip[i + 30..i + 30 + n] == name.as_bytes() {
                zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
            }
        }
        i += 1;
    }
}

#[test]
fn zip_bomb_claiming_a_huge_sheet_is_refused_before_reading() {
    let mut bomb = refugee_xlsx();
    forge_size(&mut bomb, "xl/worksheets/sheet1.xml", 4_000_000_000);
    assert!(bomb.len() < 20_000, "a tiny file");
    let start = Instant::now();
    let e = read(&bomb, &SheetChoice::First, &Limits::default()).unwrap_err();
    assert_eq!(e, ImportError::UncompressedTooLarge { limit_mb: 200 });
    assert_eq!(e.arg().as_deref(), Some("200"));
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn zip_that_understates_its_size_does_not_inflate() {
    // The declared size is a lie the other way round: the reader stops at 10 bytes.
    let mut liar = refugee_xlsx();
    forge_size(&mut liar, "xl/worksheets/sheet1.xml", 10);
    let e = read(&liar, &SheetChoice::First, &Limits::default()).unwrap_err();
    assert!(matches!(e, ImportError::Corrupt(_)), "{e:?}");
}

#[test]
fn real_compressed_bomb_over_a_small_limit() {
    // 3 MB of XML compressing to a few kilobytes, against a 1 MB limit.
    let rows: String = (1..=30_000)
        .map(|r| {
            format!(
                r#"<row r="{r}">{}</row>"#,
                is(
                    &format!("A{r}"),
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                )
            )
        })
        .collect();
    let bytes = xlsx_with_sheet_data(&rows);
    assert!(bytes.len() < 200_000);
    let l = Limits {
        max_uncompressed_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let e = read(&bytes, &SheetChoice::First, &l).unwrap_err();
    assert_eq!(e.key(), "import.err.uncompressed_too_large");
}

#[test]
fn cell_limit_stops_reading_early() {
    let rows: String = (1..=300)
        .map(|r| {
            format!(
                r#"<row r="{r}">{}{}</row>"#,
                is(&format!("A{r}"), "a"),
                is(&format!("B{r}"), "b")
            )
        })
        .collect();
    let bytes = xlsx_with_sheet_data(&rows);
    let l = Limits {
        max_cells: 500,
        ..Limits::default()
    };
    assert_eq!(
        read(&bytes, &SheetChoice::First, &l).unwrap_err(),
        ImportError::TooManyCells { limit: 500 }
    );
    assert!(
        read(
            &bytes,
            &SheetChoice::First,
            &Limits {
                max_cells: 600,
                ..l
            }
        )
        .is_ok()
    );
    // Cells far to the right count with the empty cells before them.
    let far: String = (1..=200)
        .map(|r| format!(r#"<row r="{r}">{}</row>"#, is(&format!("XFD{r}"), "z")))
        .collect();
    let e = read(
        &xlsx_with_sheet_data(&far),
        &SheetChoice::First,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e.key(), "import.err.too_many_cells");
}

#[test]
fn a_million_empty_rows_are_skipped_quickly() {
    let mut xml = String::with_capacity(40_000_000);
    xml.push_str(&format!(
        r#"<row r="1">{}{}</row>"#,
        is("A1", "Name"),
        is("B1", "Vorname")
    ));
    for r in 2..=4 {
        xml.push_str(&format!(
            r#"<row r="{r}">{}{}</row>"#,
            is(&format!("A{r}"), "Meier"),
            is(&format!("B{r}"), "Eva")
        ));
    }
    // Formatted but empty, as Excel writes rows after "format whole rows"; the last 1,000 also
    // with a styled empty cell each.
    for r in 5..=1_000_004 {
        if r > 999_004 {
            xml.push_str(&format!(r#"<row r="{r}"><c r="A{r}" s="0"/></row>"#));
        } else {
            xml.push_str(&format!(r#"<row r="{r}" s="0" customFormat="1"/>"#));
        }
    }
    let bytes = xlsx_with_sheet_data(&xml);
    let start = Instant::now();
    let book = read(&bytes, &SheetChoice::First, &Limits::default()).unwrap();
    let took = start.elapsed();
    assert_eq!(book.sheets[0].rows.len(), 4);
    assert_eq!(book.sheets[0].rows[3].number, 4);
    assert!(took < Duration::from_secs(30), "took {took:?}");
    eprintln!(
        "1,000,000 empty rows: {} KB file, read in {took:?}",
        bytes.len() / 1024
    );
}
