//! Downloads of lists for staff (CSV and XLSX), one way for every module: CSV through the
//! `csv` crate the way German Excel opens it (UTF-8 with BOM, `;`, CRLF), with text that a
//! spreadsheet would run as a formula neutralised (CSV injection, OWASP); the answer with the
//! download headers. Every export of personal data is an audit event of the module's service.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

/// Text a spreadsheet would evaluate (`=`, `+`, `-`, `@`, TAB, CR at the start) gets a
/// leading apostrophe, so it is shown as text.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A CSV file for German Excel: the header, then the rows; every field is neutralised except
/// those in `numbers` (column indexes of numbers such as `-0,05`, which must stay numbers).
pub fn csv_for_excel<S: AsRef<str>>(
    header: &[S],
    rows: &[Vec<String>],
    numbers: &[usize],
) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::from("\u{feff}".as_bytes()));
    // Writing into a Vec cannot fail; an error would only lose the row.
    let _ = w.write_record(header.iter().map(|h| neutralise(h.as_ref()).into_owned()));
    for r in rows {
        let _ = w.write_record(r.iter().enumerate().map(|(i, c)| {
            if numbers.contains(&i) {
                c.clone()
            } else {
                neutralise(c).into_owned()
            }
        }));
    }
    w.into_inner().unwrap_or_default()
}

/// A download: content type, file name, `no-store` (lists may hold personal data).
pub fn attachment(content_type: &str, name: &str, body: Vec<u8>) -> Response {
    let mut res = (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response();
    if let Some(v) = content_disposition(name) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `Content-Disposition: attachment` for a file name as users gave it (RFC 6266): an ASCII
/// fallback for old clients, and the exact name UTF-8 percent-encoded in `filename*`. Quotes,
/// slashes and control characters cannot reach the header.
pub fn content_disposition(name: &str) -> Option<header::HeaderValue> {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    header::HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .ok()
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// One value of an exported table: numbers and dates stay numbers and dates in XLSX (so
/// Excel can sum and sort them) and are written the German way in CSV.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Date(Option<chrono::NaiveDate>),
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<Option<chrono::NaiveDate>> for Cell {
    fn from(d: Option<chrono::NaiveDate>) -> Cell {
        Cell::Date(d)
    }
}

/// The download format a list page offers (`?format=csv|xlsx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format a link asks for: CSV when none is given, `None` for an unknown one.
    pub fn parse(s: Option<&str>) -> Option<Format> {
        match s.map(str::trim).unwrap_or("") {
            "" | "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A list to download: a sheet name, translated headers and typed rows, written as CSV for
/// German Excel or as an XLSX workbook (bold frozen header, dates as dates).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub sheet: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn csv(&self) -> Vec<u8> {
        let numbers: Vec<usize> = (0..self.header.len())
            .filter(|c| {
                self.rows
                    .iter()
                    .all(|r| !matches!(r.get(*c), Some(Cell::Text(_))))
            })
            .collect();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Cell::Text(s) => s.clone(),
                        Cell::Int(n) => n.to_string(),
                        Cell::Date(d) => d
                            .map(|d| d.format("%d.%m.%Y").to_string())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .collect();
        csv_for_excel(&self.header, &rows, &numbers)
    }

    pub fn xlsx(&self) -> rathaus_core::Result<Vec<u8>> {
        use chrono::Datelike;
        use rust_xlsxwriter::{ExcelDateTime, Format as Fmt, Workbook};
        let x = rathaus_core::Error::internal;
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        // Excel allows 31 characters and no `[]:*?/\` in a sheet name.
        let cleaned: String = self
            .sheet
            .chars()
            .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
            .collect();
        let name: String = cleaned
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(31)
            .collect();
        if !name.is_empty() {
            ws.set_name(name).map_err(x)?;
        }
        let bold = Fmt::new().set_bold();
        let date = Fmt::new().set_num_format("dd.mm.yyyy");
        for (c, h) in self.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(x)?;
            ws.set_column_width(c as u16, (h.chars().count() + 4).clamp(10, 40) as f64)
                .map_err(x)?;
        }
        for (i, r) in self.rows.iter().enumerate() {
            let row = i as u32 + 1;
            for (c, cell) in r.iter().enumerate() {
                let col = c as u16;
                match cell {
                    // XLSX cells are not evaluated as formulas, so no neutralising here.
                    Cell::Text(s) => ws.write_string(row, col, s).map(|_| ()),
                    Cell::Int(n) => ws.write_number(row, col, *n as f64).map(|_| ()),
                    Cell::Date(Some(d)) => {
                        let v = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .map_err(x)?;
                        ws.write_datetime_with_format(row, col, &v, &date)
                            .map(|_| ())
                    }
                    Cell::Date(None) => Ok(()),
                }
                .map_err(x)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(x)?;
        wb.save_to_buffer().map_err(x)
    }

    /// The download answer in the format asked for, named `<stem>.csv` or `<stem>.xlsx`.
    pub fn download(&self, format: Format, stem: &str) -> rathaus_core::Result<Response> {
        Ok(match format {
            Format::Csv => attachment(CSV, &format!("{stem}.csv"), self.csv()),
            Format::Xlsx => attachment(XLSX, &format!("{stem}.xlsx"), self.xlsx()?),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_reach_the_header_safely() {
        let v = super::content_disposition("Bescheid \"Müller\"/..\r\n.pdf").unwrap();
        assert_eq!(
            v.to_str().unwrap(),
            "attachment; filename=\"Bescheid _M_ller__..__.pdf\"; filename*=UTF-8''Bescheid%20%22M%C3%BCller%22%2F..%0D%0A.pdf"
        );
    }

    use super::*;

    #[test]
    fn excel_csv_is_quoted_bom_crlf_and_never_a_formula() {
        let out = csv_for_excel(
            &["Name", "Betrag"],
            &[
                vec!["=HYPERLINK(\"x\")".into(), "-0,05".into()],
                vec!["a;b".into(), "12,50".into()],
                vec!["Zeile\nzwei".into(), "-1".into()],
            ],
            &[1],
        );
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("\u{feff}Name;Betrag\r\n"), "{s:?}");
        assert!(s.contains("\"'=HYPERLINK(\"\"x\"\")\";-0,05\r\n"), "{s:?}");
        assert!(s.contains("\"a;b\";12,50\r\n"), "{s:?}");
        assert!(s.contains("\"Zeile\nzwei\";-1\r\n"), "{s:?}");
        assert_eq!(neutralise("@SUM(1)"), "'@SUM(1)");
        assert_eq!(neutralise("Halle"), "Halle");
    }

    fn table() -> Table {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 4);
        Table {
            sheet: "Belegung: März/April".into(),
            header: vec!["Name".into(), "Anzahl".into(), "Einzug".into()],
            rows: vec![
                vec!["=1+1".into(), 3.into(), d.into()],
                vec!["Weiß".into(), (-2).into(), None.into()],
            ],
        }
    }

    #[test]
    fn tables_become_german_csv_with_numbers_and_dates() {
        let s = String::from_utf8(table().csv()).unwrap();
        assert_eq!(
            s,
            "\u{feff}Name;Anzahl;Einzug\r\n'=1+1;3;04.03.2026\r\nWeiß;-2;\r\n"
        );
    }

    #[test]
    fn tables_become_workbooks_that_calamine_reads_back() {
        use calamine::{Data, Reader, Xlsx};
        let bytes = table().xlsx().unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), vec!["Belegung März April".to_string()]);
        let range = wb.worksheet_range("Belegung März April").unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        assert_eq!(rows[0][0], Data::String("Name".into()));
        assert_eq!(rows[1][0], Data::String("=1+1".into()));
        assert_eq!(rows[1][1], Data::Float(3.0));
        assert!(matches!(rows[1][2], Data::DateTime(_)), "{:?}", rows[1][2]);
        assert_eq!(rows[2][1], Data::Float(-2.0));
    }
}
