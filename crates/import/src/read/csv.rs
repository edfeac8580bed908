//! CSV and other delimited text: the encoding (UTF-8 with or without BOM, UTF-16 with BOM as
//! Excel's "Unicode text" writes it, else Windows-1252) and the delimiter (`;`, `,` or tab)
//! are detected from the content.

use std::borrow::Cow;

use crate::error::ImportError;
use crate::limits::Limits;
use crate::sheet::{Cell, Format, Row, Sheet, TextEncoding, Workbook};

pub(crate) fn read(bytes: &[u8], limits: &Limits) -> Result<Workbook, ImportError> {
    let (text, encoding) = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let delimiter = sniff_delimiter(&text);
    let rows = parse(&text, delimiter, limits)?;
    Ok(Workbook {
        format: Format::Csv {
            encoding,
            delimiter: char::from(delimiter),
        },
        sheet_names: vec![String::new()],
        sheets: vec![Sheet {
            name: String::new(),
            rows,
        }],
    })
}

/// Valid UTF-8 is UTF-8; anything else is read as Windows-1252 (what Excel writes for "CSV"
/// on a German Windows). Text with NUL bytes or many control characters is binary.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), ImportError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let enc = if bytes.starts_with(b"\xFF\xFE") {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (text, had_errors) = enc.decode_with_bom_removal(bytes);
        if had_errors || looks_binary(text.as_bytes()) {
            return Err(ImportError::NotASpreadsheet);
        }
        return Ok((Cow::Owned(text.into_owned()), TextEncoding::Utf16));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if looks_binary(body) {
        return Err(ImportError::NotASpreadsheet);
    }
    match std::str::from_utf8(body) {
        Ok(s) => Ok((Cow::Borrowed(s), TextEncoding::Utf8)),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
            Ok((text, TextEncoding::Windows1252))
        }
    }
}

/// NUL bytes, or more than 1 % control characters other than tab, CR, LF and form feed,
/// in the first 64 KiB.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    if head.contains(&0) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    control * 100 > head.len()
}

/// The candidate that splits the first lines most consistently into the same number of fields
/// (quoted parts ignored); ties go to `;`, then tab, then `,` (German Excel writes `;`, and a
/// decimal comma must not win).
pub(crate) fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (0usize, 0usize, b';');
    for d in [b';', b'\t', b','] {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        // The most frequent non-zero count and how many lines have it.
        let mut mode = (0usize, 0usize);
        for &c in counts.iter().filter(|&&c| c > 0) {
            let n = counts.iter().filter(|&&x| x == c).count();
            if n > mode.1 || (n == mode.1 && c > mode.0) {
                mode = (c, n);
            }
        }
        if mode.1 > best.0 {
            best = (mode.1, mode.0, d);
        }
    }
    best.2
}

fn count_outside_quotes(line: &str, d: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == d && !quoted {
            n += 1;
        }
    }
    n
}

/// Records with their row numbers as a spreadsheet program would show them: blank lines
/// count, a quoted field with line breaks is one row.
fn parse(text: &str, delimiter: u8, limits: &Limits) -> Result<Vec<Row>, ImportError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut budget = limits.max_cells;
    // The csv reader skips blank lines (a record's start position is before them), so the
    // row is counted from where records end: the row of the previous record and its last line.
    let (mut row, mut prev_end) = (0u32, 0u64);
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(ImportError::Corrupt(e.to_string())),
        }
        // The reader's line after a record is one past its last line (also at the end of
        // the text without a final line break).
        let end = rdr.position().line().saturating_sub(1);
        let inner = record
            .iter()
            .map(|f| f.matches('\n').count() as u64)
            .sum::<u64>();
        let start = end.saturating_sub(inner);
        let blanks = start.saturating_sub(prev_end).saturating_sub(1);
        row = row
            .saturating_add(1)
            .saturating_add(u32::try_from(blanks).unwrap_or(u32::MAX));
        prev_end = end;
        let mut cells: Vec<Cell> = record.iter().map(|f| Cell::Text(f.to_string())).collect();
        while cells.last().is_some_and(Cell::is_empty) {
            cells.pop();
        }
        if cells.is_empty() {
            continue;
        }
        let n = cells.len() as u64;
        if n > budget {
            return Err(ImportError::TooManyCells {
                limit: limits.max_cells,
            });
        }
        budget -= n;
        rows.push(Row { number: row, cells });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(
            sniff_delimiter("Name;Betrag\nMeier;1,5\nMüller;2,5\n"),
            b';'
        );
        assert_eq!(
            sniff_delimiter("Name,Betrag\nMeier,1.5\nMüller,2.5\n"),
            b','
        );
        assert_eq!(sniff_delimiter("Name\tBetrag\nMeier\t1,5\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",c\n\"d;e\",f\n"), b',');
        assert_eq!(sniff_delimiter("Nur eine Spalte\nWert\n"), b';');
    }

    #[test]
    fn row_numbers_count_blank_lines_and_multiline_fields() {
        let rows = parse(
            "Titel\n\nA;B\n1;\"zwei\nZeilen\"\n\n3;4\n",
            b';',
            &Limits::default(),
        )
        .unwrap();
        let numbers: Vec<u32> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![1, 3, 4, 6]);
        let rows = parse("A;B\r\n\r\n1;2\r\n3;4", b';', &Limits::default()).unwrap();
        let numbers: Vec<u32> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![1, 3, 4]);
    }
}
