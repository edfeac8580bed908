//! Text extraction for the search index: PDF text layer (`pdftotext`), OCR of scanned PDFs
//! and images (`pdftoppm` + `tesseract -l deu`), DOCX and ODT (zip + XML, with zip-bomb
//! limits) and plain text (UTF-8, UTF-16 with BOM, Windows-1252). Every external program runs
//! with a timeout (killed on expiry) and an address-space cap (`prlimit`). Results are stored
//! in `extract_texts`, so reindexing never runs OCR again. See docs/adr/0012-text-extraction.md.

mod extract;
mod job;
mod limits;
mod office;
mod outcome;
mod process;
pub mod samples;
pub mod store;
mod text;

pub use extract::{DOCX, ODT, extract_path, extract_reader};
pub use job::{KIND, enqueue, enqueue_and_reindex, jobs, jobs_with};
pub use limits::Limits;
pub use outcome::{Method, Outcome, reason};
pub use store::{Status, Stored, migrate, text_of};

/// The texts of the failure reasons, for a module that shows them to register with its own
/// (`Module::translation_files`).
pub const LOCALE_DE: &str = include_str!("../locales/de.toml");
pub const LOCALE_EN: &str = include_str!("../locales/en.toml");
