use crate::validation::FieldErrors;

/// The errors a service can answer with. The web layer maps them to German pages or RFC 9457
/// problem documents; a message for `Internal` is logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("nicht angemeldet")]
    Unauthenticated,
    #[error("keine Berechtigung")]
    Forbidden,
    /// Also used for objects of another tenant, so their existence is not revealed.
    #[error("nicht gefunden")]
    NotFound,
    #[error("ungültige Eingabe")]
    Invalid(FieldErrors),
    /// The action is not possible in the current state; carries a translation key.
    #[error("{0}")]
    Conflict(String),
    #[error("zu viele Versuche")]
    TooManyRequests,
    #[error("interner Fehler: {0}")]
    Internal(String),
}

impl Error {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
