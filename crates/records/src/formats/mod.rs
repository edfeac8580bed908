//! Output formats of the module: the XLSX of a list.

use rathaus_core::{Error, Result};

/// A workbook of one sheet: a bold header row that stays in view, every cell text (never a
/// formula).
pub fn xlsx(sheet: &str, header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| Error::internal(e);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let name: String = sheet
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    ws.set_name(name).map_err(x)?;
    let bold = Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        let c = u16::try_from(c).map_err(Error::internal)?;
        ws.write_string_with_format(0, c, h, &bold).map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(Error::internal)?;
        for (c, v) in r.iter().enumerate() {
            let c = u16::try_from(c).map_err(Error::internal)?;
            ws.write_string(row, c, v).map_err(x)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(x)?;
    wb.save_to_buffer().map_err(x)
}
