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
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[cfg(test)]
mod tests {
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
}
