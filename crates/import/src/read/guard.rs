//! Checks before a zip container is handed to calamine, which reads shared strings (XLSX) and
//! whole documents (ODS) into memory: the uncompressed sizes the container declares, and for
//! ODS the number of cells its repeated rows and columns expand to.

use std::io::{BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use crate::error::ImportError;
use crate::limits::{Limits, MB};

pub(crate) enum ZipKind {
    Xlsx,
    Ods,
}

const ODS_MIME: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// What kind of container this is, refused when it declares more uncompressed bytes than the
/// limit. The zip reader stops every entry at its declared size (reading past it is an
/// error), so a container that understates its sizes fails to read instead of inflating.
pub(crate) fn inspect_zip(bytes: &[u8], limits: &Limits) -> Result<ZipKind, ImportError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    // The central directory's sizes (also for entries written with a data descriptor).
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let size = zip.by_index_data(i).map_err(|e| corrupt(&e))?.size();
        total = total.saturating_add(size);
    }
    if total > limits.max_uncompressed_bytes {
        return Err(ImportError::UncompressedTooLarge {
            limit_mb: limits.max_uncompressed_bytes / MB,
        });
    }
    let names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("xl/workbook.xml") {
        return Ok(ZipKind::Xlsx);
    }
    if has("mimetype") && has("content.xml") {
        let mut mime = Vec::new();
        zip.by_name("mimetype")
            .map_err(|e| corrupt(&e))?
            .take(200)
            .read_to_end(&mut mime)
            .map_err(|e| corrupt(&e))?;
        if mime.trim_ascii() == ODS_MIME {
            return Ok(ZipKind::Ods);
        }
    }
    Err(ImportError::NotASpreadsheet)
}

/// Counts the cells calamine would build for an ODS document (it reads every sheet at once and
/// expands `number-rows-repeated` and `number-columns-repeated`: a few bytes of XML can ask for
/// a million rows), streaming over `content.xml` without keeping it.
pub(crate) fn ods_prescan(bytes: &[u8], limits: &Limits) -> Result<(), ImportError> {
    const MAX_ROWS: u64 = 1_048_576;
    const MAX_COLS: u64 = 16_384;
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    let content = zip.by_name("content.xml").map_err(|e| corrupt(&e))?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let too_many = || ImportError::TooManyCells {
        limit: limits.max_cells,
    };

    let mut total: u64 = 0;
    // Per table: rows so far, first and last+1 row with content, widest extent.
    let (mut row, mut first, mut last_end, mut width) = (0u64, None::<u64>, 0u64, 0u64);
    // Per row: its repeat count, the column reached, the extent of its content.
    let (mut repeat, mut col, mut extent) = (1u64, 0u64, 0u64);
    let mut in_row = false;
    let close_table =
        |total: &mut u64, first: &mut Option<u64>, last_end: u64, width: u64| -> bool {
            if let Some(f) = first.take() {
                *total = total.saturating_add(last_end.saturating_sub(f).saturating_mul(width));
            }
            *total > limits.max_cells
        };
    loop {
        buf.clear();
        let ev = xml.read_event_into(&mut buf).map_err(|e| corrupt(&e))?;
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.name().as_ref() {
                "table:table" => {
                    if close_table(&mut total, &mut first, last_end, width) {
                        return Err(too_many());
                    }
                    (row, last_end, width) = (0, 0, 0);
                }
                "table:table-row" => {
                    repeat = attr_u64(e, "table:number-rows-repeated").unwrap_or(1);
                    (col, extent, in_row) = (0, 0, true);
                    if empty {
                        row = (row.saturating_add(repeat)).min(MAX_ROWS);
                        in_row = false;
                    }
                }
                "table:table-cell" | "table:covered-table-cell" if in_row => {
                    let n = attr_u64(e, "table:number-columns-repeated").unwrap_or(1);
                    col = col.saturating_add(n).min(MAX_COLS);
                    // A cell with a value type or any content counts as filled.
                    if !empty
                        || e.try_get_attribute("office:value-type")
                            .ok()
                            .flatten()
                            .is_some()
                    {
                        extent = col;
                    }
                }
                _ => {}
            }
            continue;
        }
        match ev {
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                if extent > 0 {
                    first.get_or_insert(row);
                    last_end = row.saturating_add(repeat).min(MAX_ROWS);
                    width = width.max(extent);
                    // Checked on the way, so a table of a million repeated rows stops early.
                    let so_far = last_end
                        .saturating_sub(first.unwrap_or(row))
                        .saturating_mul(width);
                    if total.saturating_add(so_far) > limits.max_cells {
                        return Err(too_many());
                    }
                }
                row = row.saturating_add(repeat).min(MAX_ROWS);
                in_row = false;
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                if close_table(&mut total, &mut first, last_end, width) {
                    return Err(too_many());
                }
                (row, last_end, width) = (0, 0, 0);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

fn attr_u64(e: &BytesStart<'_>, name: &str) -> Option<u64> {
    let a = e.try_get_attribute(name).ok().flatten()?;
    a.value.trim().parse().ok()
}

/// An encrypted XLSX is an OLE file holding an `EncryptedPackage` stream (name in UTF-16).
pub(crate) fn ole_is_encrypted_ooxml(bytes: &[u8]) -> bool {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    bytes.windows(needle.len()).any(|w| w == needle.as_slice())
}

pub(crate) fn corrupt(e: &dyn std::fmt::Display) -> ImportError {
    ImportError::Corrupt(e.to_string())
}
