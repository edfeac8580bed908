//! ODS through calamine, which reads the whole document at open; `guard::ods_prescan` has
//! counted the cells before.

use std::io::{Read, Seek};

use calamine::{Data, Ods, OdsError, Reader};

use super::SheetChoice;
use super::guard::corrupt;
use crate::error::ImportError;
use crate::sheet::{Cell, Format, Row, Sheet, Workbook};

pub(crate) fn read<RS: Read + Seek>(rs: RS, choice: &SheetChoice) -> Result<Workbook, ImportError> {
    let mut book: Ods<RS> = Ods::new(rs).map_err(map_err)?;
    let names = book.sheet_names();
    let picked = choice.pick(&names)?;
    let mut sheets = Vec::with_capacity(picked.len());
    for i in picked {
        let name = names.get(i).cloned().unwrap_or_default();
        let range = book.worksheet_range(&name).map_err(map_err)?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        for (i, cells) in range.rows().enumerate() {
            let mut out: Vec<Cell> = Vec::with_capacity(c0 as usize + cells.len());
            out.resize(c0 as usize, Cell::Empty);
            out.extend(cells.iter().map(convert));
            while out.last().is_some_and(Cell::is_empty) {
                out.pop();
            }
            if out.is_empty() {
                continue;
            }
            rows.push(Row {
                number: r0.saturating_add(i as u32).saturating_add(1),
                cells: out,
            });
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(Workbook {
        format: Format::Ods,
        sheet_names: names,
        sheets,
    })
}

fn convert(v: &Data) -> Cell {
    match v {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) if d.is_duration() => Cell::Float(d.as_f64()),
        Data::DateTime(d) => crate::convert::excel_datetime(d),
        Data::DateTimeIso(s) => crate::convert::iso_cell(s),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

fn map_err(e: OdsError) -> ImportError {
    match e {
        OdsError::Password => ImportError::Encrypted,
        OdsError::WorksheetNotFound(n) => ImportError::SheetNotFound(n),
        OdsError::CellLimitExceeded { max, .. } => ImportError::TooManyCells { limit: max as u64 },
        other => corrupt(&other),
    }
}
