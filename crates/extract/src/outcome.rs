//! What an extraction produced.

/// How the text was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    PdfText,
    Ocr,
    Docx,
    Odt,
    Text,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::PdfText => "pdf_text",
            Method::Ocr => "ocr",
            Method::Docx => "docx",
            Method::Odt => "odt",
            Method::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "pdf_text" => Method::PdfText,
            "ocr" => Method::Ocr,
            "docx" => Method::Docx,
            "odt" => Method::Odt,
            "text" => Method::Text,
            _ => return None,
        })
    }
}

/// Translation keys of the reasons a file failed (locales/*.toml; modules register them).
pub mod reason {
    /// The file is damaged or not what its content claims.
    pub const CORRUPT: &str = "extract.err.corrupt";
    /// The extraction took longer than the limit (the process was killed).
    pub const TIMEOUT: &str = "extract.err.timeout";
    /// A process hit its memory cap.
    pub const MEMORY: &str = "extract.err.memory";
    /// The text is longer than the limit.
    pub const TOO_LONG: &str = "extract.err.too_long";
    /// The file is larger than the limit.
    pub const TOO_LARGE: &str = "extract.err.too_large";
    /// A zip container that expands too far (entries, size or ratio).
    pub const ZIP_BOMB: &str = "extract.err.zip_bomb";
    /// An encrypted PDF.
    pub const ENCRYPTED: &str = "extract.err.encrypted";
    /// The external program is not installed.
    pub const TOOL_MISSING: &str = "extract.err.tool_missing";
    /// The file could not be read from the file service.
    pub const UNREADABLE: &str = "extract.err.unreadable";
}

/// The result for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok {
        method: Method,
        text: String,
    },
    /// `reason` is a translation key (`reason::*`); `detail` is for the log, not the user.
    Failed {
        method: Option<Method>,
        reason: &'static str,
        detail: String,
    },
    /// No extractor for this media type (stored, so the job does not run again).
    Unsupported {
        media_type: String,
    },
}

impl Outcome {
    pub(crate) fn failed(
        method: Option<Method>,
        reason: &'static str,
        detail: impl Into<String>,
    ) -> Outcome {
        Outcome::Failed {
            method,
            reason,
            detail: detail.into(),
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Outcome::Ok { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// A failure inside an extractor, before it becomes an `Outcome`.
#[derive(Debug, Clone)]
pub(crate) struct Fail {
    pub reason: &'static str,
    pub detail: String,
}

impl Fail {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Fail {
        Fail {
            reason,
            detail: detail.into(),
        }
    }
}
