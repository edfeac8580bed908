//! Limits that keep a hostile or absurd file from taking the server's memory or time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The uploaded file itself.
    pub max_file_bytes: u64,
    /// The sum of the uncompressed sizes the zip container (XLSX, ODS) declares; checked
    /// before anything is decompressed. The zip reader also stops an entry that inflates
    /// beyond its declared size, so a container cannot lie its way past this.
    pub max_uncompressed_bytes: u64,
    /// Non-empty cells in the sheets read (ODS: the cells calamine would expand repeated rows
    /// and columns to, counted by a streaming pre-scan before calamine reads the file).
    pub max_cells: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 50 * MB,
            max_uncompressed_bytes: 200 * MB,
            max_cells: 2_000_000,
        }
    }
}

pub(crate) const MB: u64 = 1024 * 1024;
