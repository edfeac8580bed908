//! Workbooks the tests build themselves (rust_xlsxwriter).
#![allow(dead_code)]

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

#[derive(Clone, Copy)]
pub enum C<'a> {
    S(&'a str),
    N(f64),
    /// An Excel date cell.
    D(u16, u8, u8),
    E,
}

/// A workbook with these sheets, each a list of rows from row 1.
pub fn workbook(sheets: &[(&str, Vec<Vec<C<'_>>>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).expect("sheet name");
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match *cell {
                    C::S(s) => {
                        ws.write_string(r, c, s).expect("cell");
                    }
                    C::N(n) => {
                        ws.write_number(r, c, n).expect("cell");
                    }
                    C::D(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(y, m, d).expect("date");
                        ws.write_datetime_with_format(r, c, &dt, &date)
                            .expect("cell");
                    }
                    C::E => {}
                }
            }
        }
    }
    wb.save_to_buffer().expect("xlsx")
}
