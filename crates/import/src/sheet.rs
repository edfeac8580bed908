//! What the readers produce: a sheet as its non-empty rows, each with its row number as the user
//! sees it in Excel or LibreOffice (1-based, title and blank rows counted).

use chrono::NaiveDateTime;
use serde::Serialize;

/// One cell's raw value, before conversion to a field's type.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub enum Cell {
    #[default]
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A cell formatted as a date in the spreadsheet (Excel serial already converted, 1900
    /// leap-year bug and 1904 epoch handled).
    DateTime(NaiveDateTime),
    /// An error value such as `#DIV/0!`, or a date serial that names no real day
    /// (Excel's 29 February 1900).
    Error(String),
}

impl Cell {
    /// Empty, or text that is only whitespace.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text (numbers without a trailing `.0`, dates as `TT.MM.JJJJ`).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => float_text(*f),
            Cell::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Cell::DateTime(d) => {
                if d.time() == chrono::NaiveTime::MIN {
                    d.format("%d.%m.%Y").to_string()
                } else {
                    d.format("%d.%m.%Y %H:%M").to_string()
                }
            }
            Cell::Error(e) => e.clone(),
        }
    }
}

/// A float as the shortest text that reads back to it, integers without `.0`.
pub(crate) fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A row with at least one non-empty cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// 1-based, as shown at the left edge in Excel or LibreOffice.
    pub number: u32,
    /// From column A up to the last non-empty cell.
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn get(&self, col: usize) -> &Cell {
        static EMPTY: Cell = Cell::Empty;
        self.cells.get(col).unwrap_or(&EMPTY)
    }

    pub fn non_empty(&self) -> usize {
        self.cells.iter().filter(|c| !c.is_empty()).count()
    }
}

/// One sheet (a CSV file is one sheet named after nothing: `""`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sheet {
    pub name: String,
    /// Only rows with content, in order; blank rows are left out but counted in `number`.
    pub rows: Vec<Row>,
}

impl Sheet {
    /// The widest row's cell count.
    pub fn width(&self) -> usize {
        self.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0)
    }
}

/// The sheets read from one file, in the workbook's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workbook {
    pub format: Format,
    /// Every sheet's name, also of those not read (for the "which sheet?" choice).
    pub sheet_names: Vec<String>,
    pub sheets: Vec<Sheet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    Xlsx,
    Ods,
    /// CSV with the detected encoding and delimiter.
    Csv {
        encoding: TextEncoding,
        delimiter: char,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TextEncoding {
    Utf8,
    Utf16,
    Windows1252,
}

/// The column's letters as Excel shows them: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letter(col: usize) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The inverse of `column_letter` (`"C"` → 2); `None` for anything but letters.
pub fn column_index(letters: &str) -> Option<usize> {
    let letters = letters.trim();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut n = 0usize;
    for b in letters.bytes() {
        if !b.is_ascii_alphabetic() {
            return None;
        }
        n = n * 26 + usize::from(b.to_ascii_uppercase() - b'A') + 1;
    }
    Some(n - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(16383), "XFD");
        for i in [0, 5, 26, 700, 16383] {
            assert_eq!(column_index(&column_letter(i)), Some(i));
        }
        assert_eq!(column_index("c"), Some(2));
        assert_eq!(column_index("1"), None);
    }
}
