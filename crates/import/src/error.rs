//! Why a file could not be read at all. Every variant has a translation key (`import.err.*`
//! in `locales/`) and at most one argument for `{arg}`; the web layer shows the German text,
//! the CLI the English or German one. Problems of single rows are not errors but `Issue`s in
//! the dry-run report.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// Zero bytes, or only whitespace.
    #[error("the file is empty")]
    Empty,
    /// Larger than `Limits::max_file_bytes`.
    #[error("the file is larger than {limit_mb} MB")]
    FileTooLarge { limit_mb: u64 },
    /// The zip container declares more uncompressed data than `Limits::max_uncompressed_bytes`
    /// (a zip bomb or an absurdly large sheet): refused before anything is decompressed.
    #[error("the spreadsheet unpacks to more than {limit_mb} MB")]
    UncompressedTooLarge { limit_mb: u64 },
    /// More non-empty cells than `Limits::max_cells`.
    #[error("the spreadsheet has more than {limit} filled cells")]
    TooManyCells { limit: u64 },
    /// Binary content that is neither XLSX, ODS nor text.
    #[error("the file is not a spreadsheet or CSV file")]
    NotASpreadsheet,
    /// An old binary Excel file (`.xls`); the user saves it as `.xlsx`.
    #[error("old Excel format (.xls) is not supported")]
    LegacyExcel,
    /// A password-protected workbook.
    #[error("the spreadsheet is password-protected")]
    Encrypted,
    /// A zip or XML structure that does not read (truncated download, damaged file).
    #[error("the spreadsheet is damaged: {0}")]
    Corrupt(String),
    /// The caller asked for a sheet that is not in the workbook.
    #[error("there is no sheet named {0}")]
    SheetNotFound(String),
    /// A mapping file (`--mapping FILE`) that is not valid JSON or TOML of a `Mapping`.
    #[error("the mapping file cannot be read: {0}")]
    BadMapping(String),
}

impl ImportError {
    /// The translation key of the message.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Empty => "import.err.empty_file",
            Self::FileTooLarge { .. } => "import.err.file_too_large",
            Self::UncompressedTooLarge { .. } => "import.err.uncompressed_too_large",
            Self::TooManyCells { .. } => "import.err.too_many_cells",
            Self::NotASpreadsheet => "import.err.not_spreadsheet",
            Self::LegacyExcel => "import.err.legacy_xls",
            Self::Encrypted => "import.err.encrypted",
            Self::Corrupt(_) => "import.err.corrupt",
            Self::SheetNotFound(_) => "import.err.sheet_not_found",
            Self::BadMapping(_) => "import.err.bad_mapping",
        }
    }

    /// The value for `{arg}` in the message, if it has one. The technical detail of
    /// `Corrupt` is not shown to users (it is in `Display` for the log).
    pub fn arg(&self) -> Option<String> {
        match self {
            Self::FileTooLarge { limit_mb } | Self::UncompressedTooLarge { limit_mb } => {
                Some(limit_mb.to_string())
            }
            Self::TooManyCells { limit } => Some(limit.to_string()),
            Self::SheetNotFound(name) => Some(name.clone()),
            Self::BadMapping(why) => Some(why.clone()),
            _ => None,
        }
    }
}

impl From<ImportError> for rathaus_core::Error {
    /// A file that cannot be read is bad input of the field `file`.
    fn from(e: ImportError) -> Self {
        let mut errs = rathaus_core::validation::FieldErrors::new();
        errs.add_arg("file", e.key(), e.arg());
        rathaus_core::Error::Invalid(errs)
    }
}
