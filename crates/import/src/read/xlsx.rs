//! XLSX through calamine's streaming cell reader: cells are taken one by one from the sheet's
//! XML, so trailing empty rows cost only parsing time and the cell limit stops a huge sheet
//! before it is in memory.

use std::io::{Read, Seek};

use calamine::{DataRef, Reader, Xlsx, XlsxError};

use super::SheetChoice;
use super::guard::corrupt;
use crate::error::ImportError;
use crate::limits::Limits;
use crate::sheet::{Cell, Format, Row, Sheet, Workbook};

pub(crate) fn read<RS: Read + Seek>(
    rs: RS,
    choice: &SheetChoice,
    limits: &Limits,
) -> Result<Workbook, ImportError> {
    let mut book: Xlsx<RS> = Xlsx::new(rs).map_err(map_err)?;
    let names = book.sheet_names();
    let picked = choice.pick(&names)?;
    let mut budget = limits.max_cells;
    let mut sheets = Vec::with_capacity(picked.len());
    for i in picked {
        let name = names.get(i).cloned().unwrap_or_default();
        let rows = read_sheet(&mut book, &name, &mut budget, limits)?;
        sheets.push(Sheet { name, rows });
    }
    Ok(Workbook {
        format: Format::Xlsx,
        sheet_names: names,
        sheets,
    })
}

fn read_sheet<RS: Read + Seek>(
    book: &mut Xlsx<RS>,
    name: &str,
    budget: &mut u64,
    limits: &Limits,
) -> Result<Vec<Row>, ImportError> {
    let mut reader = book.worksheet_cells_reader(name).map_err(map_err)?;
    let mut rows: Vec<Row> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(map_err)? {
        let value = convert(cell.get_value());
        if value.is_empty() {
            continue;
        }
        let (r, c) = cell.get_position();
        let (number, col) = (r.saturating_add(1), c as usize);
        let idx = match rows.last() {
            Some(last) if last.number == number => rows.len() - 1,
            Some(last) if last.number > number => {
                // Out of order (rare): find or insert the row in place.
                match rows.binary_search_by_key(&number, |r| r.number) {
                    Ok(i) => i,
                    Err(i) => {
                        rows.insert(
                            i,
                            Row {
                                number,
                                cells: Vec::new(),
                            },
                        );
                        i
                    }
                }
            }
            _ => {
                rows.push(Row {
                    number,
                    cells: Vec::new(),
                });
                rows.len() - 1
            }
        };
        let Some(row) = rows.get_mut(idx) else {
            continue;
        };
        if col >= row.cells.len() {
            // Every slot held counts, so cells far to the right cannot inflate memory.
            let grow = (col + 1 - row.cells.len()) as u64;
            if grow > *budget {
                return Err(ImportError::TooManyCells {
                    limit: limits.max_cells,
                });
            }
            *budget -= grow;
            row.cells.resize(col + 1, Cell::Empty);
        }
        if let Some(slot) = row.cells.get_mut(col) {
            *slot = value;
        }
    }
    Ok(rows)
}

pub(crate) fn convert(v: &DataRef<'_>) -> Cell {
    match v {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Float(f) => Cell::Float(*f),
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(d) if d.is_duration() => Cell::Float(d.as_f64()),
        DataRef::DateTime(d) => crate::convert::excel_datetime(d),
        DataRef::DateTimeIso(s) => crate::convert::iso_cell(s),
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn map_err(e: XlsxError) -> ImportError {
    match e {
        XlsxError::Password => ImportError::Encrypted,
        XlsxError::WorksheetNotFound(n) => ImportError::SheetNotFound(n),
        other => corrupt(&other),
    }
}
