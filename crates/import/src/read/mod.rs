//! Reading a file into sheets: the format is recognised from the content (never from the file
//! name), limits are checked before the expensive work.

mod csv;
mod guard;
mod ods;
mod xlsx;

use std::io::Cursor;

use crate::error::ImportError;
use crate::limits::{Limits, MB};
use crate::sheet::Workbook;

/// Which sheets to read from a workbook (a CSV file has exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SheetChoice {
    /// The first sheet (in the workbook's order).
    #[default]
    First,
    /// The sheet at this position (0-based).
    Index(usize),
    /// The sheet with this name.
    Named(String),
    /// Every sheet.
    All,
}

impl SheetChoice {
    /// The indices chosen out of `names`.
    pub(crate) fn pick(&self, names: &[String]) -> Result<Vec<usize>, ImportError> {
        match self {
            SheetChoice::First if names.is_empty() => Err(ImportError::NotASpreadsheet),
            SheetChoice::First => Ok(vec![0]),
            SheetChoice::Index(i) if *i < names.len() => Ok(vec![*i]),
            SheetChoice::Index(i) => Err(ImportError::SheetNotFound((i + 1).to_string())),
            SheetChoice::Named(n) => names
                .iter()
                .position(|x| x == n)
                .map(|i| vec![i])
                .ok_or_else(|| ImportError::SheetNotFound(n.clone())),
            SheetChoice::All => Ok((0..names.len()).collect()),
        }
    }
}

/// Reads an uploaded file (XLSX, ODS or CSV, recognised by content).
pub fn read(bytes: &[u8], choice: &SheetChoice, limits: &Limits) -> Result<Workbook, ImportError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ImportError::FileTooLarge {
            limit_mb: limits.max_file_bytes / MB,
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::Empty);
    }
    match sniff(bytes) {
        Kind::Zip => {
            let kind = guard::inspect_zip(bytes, limits)?;
            match kind {
                guard::ZipKind::Xlsx => xlsx::read(Cursor::new(bytes), choice, limits),
                guard::ZipKind::Ods => {
                    guard::ods_prescan(bytes, limits)?;
                    ods::read(Cursor::new(bytes), choice)
                }
            }
        }
        Kind::Ole => Err(if guard::ole_is_encrypted_ooxml(bytes) {
            ImportError::Encrypted
        } else {
            ImportError::LegacyExcel
        }),
        Kind::OtherBinary => Err(ImportError::NotASpreadsheet),
        Kind::Text => csv::read(bytes, limits),
    }
}

/// Reads a file from disk; the size is checked before the file is read.
pub fn read_path(
    path: &std::path::Path,
    choice: &SheetChoice,
    limits: &Limits,
) -> std::io::Result<Result<Workbook, ImportError>> {
    let len = std::fs::metadata(path)?.len();
    if len > limits.max_file_bytes {
        return Ok(Err(ImportError::FileTooLarge {
            limit_mb: limits.max_file_bytes / MB,
        }));
    }
    let bytes = std::fs::read(path)?;
    Ok(read(&bytes, choice, limits))
}

enum Kind {
    Zip,
    Ole,
    OtherBinary,
    Text,
}

fn sniff(bytes: &[u8]) -> Kind {
    const OTHER: &[&[u8]] = &[
        b"%PDF",
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"GIF8",
        b"\x1F\x8B",
        b"\x7FELF",
        b"BZh",
        b"7z\xBC\xAF",
        b"Rar!",
        b"MZ",
        b"{\\rtf",
    ];
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        Kind::Ole
    } else if OTHER.iter().any(|m| bytes.starts_with(m)) {
        Kind::OtherBinary
    } else {
        Kind::Text
    }
}
