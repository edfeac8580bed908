//! The limits of one extraction.

use std::time::Duration;

/// How much one file may cost. The defaults suit a 2-core server: a scanned page takes a few
/// seconds of OCR.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall time for the whole file (all processes together); processes are killed on expiry.
    /// Below the job queue's lease (300 s), so no second worker takes over a running job.
    pub timeout: Duration,
    /// Address-space cap of every external process (`prlimit --as`).
    pub memory_bytes: u64,
    /// The largest file read at all.
    pub max_input_bytes: u64,
    /// The longest text kept (characters); more fails with `extract.err.too_long`.
    pub max_chars: usize,
    /// The most pages of a scanned PDF given to OCR (the rest is left out).
    pub max_ocr_pages: u32,
    /// Zip containers (DOCX, ODT): the most entries.
    pub max_zip_entries: usize,
    /// Zip containers: the most uncompressed bytes of all entries together.
    pub max_uncompressed_bytes: u64,
    /// Zip containers: the highest uncompressed/compressed ratio of an entry above 1 MB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(240),
            memory_bytes: 1 << 30,
            max_input_bytes: 200 << 20,
            max_chars: 5_000_000,
            max_ocr_pages: 30,
            max_zip_entries: 10_000,
            max_uncompressed_bytes: 200 << 20,
            max_ratio: 200,
        }
    }
}
