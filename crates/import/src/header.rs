//! Finding the header row below title rows: the first row whose filled cells are mostly text
//! and that is about as wide as the rows after it.

use serde::Serialize;

use crate::convert::{parse_date, parse_number};
use crate::sheet::{Cell, Sheet, column_letter};

/// The header row: its number as the user sees it and every column's letter and text (up to
/// the widest row of the sheet, so data columns without a header are listed with `""`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    pub row: u32,
    /// Index of the header in `Sheet::rows`.
    #[serde(skip)]
    pub index: usize,
    pub columns: Vec<(String, String)>,
}

/// How many rows from the top are looked at.
const SCAN: usize = 30;

impl Header {
    /// Detects the header row, or takes the given row number (`Mapping::header_row`).
    pub fn find(sheet: &Sheet, row_number: Option<u32>) -> Option<Header> {
        let index = match row_number {
            Some(n) => sheet.rows.iter().position(|r| r.number == n)?,
            None => detect(sheet)?,
        };
        let row = sheet.rows.get(index)?;
        let width = sheet.width();
        let columns = (0..width)
            .map(|c| (column_letter(c), row.get(c).to_text()))
            .collect();
        Some(Header {
            row: row.number,
            index,
            columns,
        })
    }

    /// The header text of a column (0-based), `""` if there is none.
    pub fn text(&self, col: usize) -> &str {
        self.columns.get(col).map_or("", |(_, t)| t.as_str())
    }
}

fn detect(sheet: &Sheet) -> Option<usize> {
    let rows = &sheet.rows;
    for (i, row) in rows.iter().enumerate().take(SCAN) {
        let filled = row.non_empty();
        if filled == 0 {
            continue;
        }
        let texts = row.cells.iter().filter(|c| is_label(c)).count();
        if texts * 10 < filled * 7 {
            continue;
        }
        // As wide as at least half of the widest of the next rows (a title is one cell).
        let next_width = rows
            .iter()
            .skip(i + 1)
            .take(3)
            .map(|r| r.non_empty())
            .max()
            .unwrap_or(0);
        if filled * 2 >= next_width {
            return Some(i);
        }
    }
    None
}

/// Text that is not a number or a date.
fn is_label(c: &Cell) -> bool {
    match c {
        Cell::Text(s) => {
            let s = s.trim();
            !s.is_empty() && parse_number(s).is_none() && parse_date(s).is_none()
        }
        _ => false,
    }
}
