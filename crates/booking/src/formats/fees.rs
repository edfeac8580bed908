//! The fee list for the treasury as CSV lines and as an XLSX workbook (pure: labels come in
//! translated). Amounts are integer cents; only the spreadsheet cells hold them as numbers.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::{Error, Result};

/// One line of the treasury's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRow {
    pub reservation_id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub resource: String,
    /// The booking person's name ("" when the account is gone).
    pub booker: String,
    pub organisation: String,
    pub minutes: i64,
    pub fee_group: String,
    pub fee_cents: i64,
    pub no_show: bool,
}

/// `1234,50`: cents as euros with a decimal comma.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02}", c / 100, c % 100)
}

/// `2,50`: minutes as hours with two decimals and a decimal comma.
pub fn hours(minutes: i64) -> String {
    euros((minutes * 100 + 30) / 60)
}

/// The fees list as CSV the way German Excel opens it: UTF-8 with BOM, `;` between fields,
/// decimal comma, CRLF line ends.
pub fn csv_lines(rows: &[FeeRow], group: &dyn Fn(&str) -> String) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            let (s, e) = (r.start.with_timezone(&Berlin), r.end.with_timezone(&Berlin));
            vec![
                s.format("%d.%m.%Y").to_string(),
                s.format("%H:%M").to_string(),
                e.format("%H:%M").to_string(),
                r.resource.clone(),
                r.booker.clone(),
                r.organisation.clone(),
                hours(r.minutes),
                group(&r.fee_group),
                euros(r.fee_cents),
                r.reservation_id.to_string(),
            ]
        })
        .collect()
}

/// The CSV columns that stay numbers (hours, fee, number: a refund is `-5,00`, not text).
pub const CSV_NUMBERS: &[usize] = &[6, 8, 9];

/// The fees list as an Excel workbook: real dates and numbers (hours, euros), text as text
/// (never a formula), a bold header row that stays in view.
pub fn xlsx(
    headers: &[&str],
    sheet: &str,
    rows: &[FeeRow],
    group: &dyn Fn(&str) -> String,
) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| Error::internal(e);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(x)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let money = Format::new().set_num_format("#,##0.00 \"€\"");
    let num = Format::new().set_num_format("0.00");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let (s, e) = (r.start.with_timezone(&Berlin), r.end.with_timezone(&Berlin));
        let d =
            ExcelDateTime::from_ymd(s.year() as u16, s.month() as u8, s.day() as u8).map_err(x)?;
        ws.write_datetime_with_format(row, 0, &d, &date)
            .map_err(x)?;
        ws.write_string(row, 1, s.format("%H:%M").to_string())
            .map_err(x)?;
        ws.write_string(row, 2, e.format("%H:%M").to_string())
            .map_err(x)?;
        ws.write_string(row, 3, &r.resource).map_err(x)?;
        ws.write_string(row, 4, &r.booker).map_err(x)?;
        ws.write_string(row, 5, &r.organisation).map_err(x)?;
        ws.write_number_with_format(row, 6, r.minutes as f64 / 60.0, &num)
            .map_err(x)?;
        ws.write_string(row, 7, group(&r.fee_group)).map_err(x)?;
        ws.write_number_with_format(row, 8, r.fee_cents as f64 / 100.0, &money)
            .map_err(x)?;
        ws.write_number(row, 9, r.reservation_id as f64)
            .map_err(x)?;
    }
    ws.set_freeze_panes(1, 0).map_err(x)?;
    for (c, w) in [12, 8, 8, 28, 24, 28, 10, 16, 14, 14].iter().enumerate() {
        ws.set_column_width(c as u16, *w).map_err(x)?;
    }
    wb.save_to_buffer().map_err(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_hours_have_a_decimal_comma() {
        assert_eq!(euros(0), "0,00");
        assert_eq!(euros(1250), "12,50");
        assert_eq!(euros(-5), "-0,05");
        assert_eq!(hours(90), "1,50");
        assert_eq!(hours(20), "0,33");
    }
}
