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
    /// A fault of the system, not of the user: logged with its cause chain, never shown.
    #[error("interner Fehler: {0}")]
    Internal(#[source] Internal),
}

/// The cause of an internal error, kept whole (with its own `source()` chain) for the log.
#[derive(Debug)]
pub struct Internal(Box<dyn std::error::Error + Send + Sync + 'static>);

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Internal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

impl Internal {
    /// The whole chain, outermost first: `a: b: c`, for one log line.
    pub fn chain(&self) -> String {
        let mut out = self.0.to_string();
        let mut next = self.0.source();
        while let Some(e) = next {
            out.push_str(": ");
            out.push_str(&e.to_string());
            next = e.source();
        }
        out
    }
}

impl Error {
    /// An internal error from a message (a broken invariant, a failed template).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(Internal(e.to_string().into()))
    }

    /// An internal error that keeps its cause (and the cause's chain) for the log.
    pub fn internal_from(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Internal(Internal(Box::new(e)))
    }
}

/// Database errors convert with `?`; the cause stays attached for the log.
#[cfg(feature = "db")]
impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::internal_from(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn internal_errors_keep_their_cause_chain() {
        let e = Error::internal_from(Outer(std::io::Error::other("disk full")));
        let Error::Internal(i) = &e else {
            panic!("internal expected")
        };
        assert_eq!(i.chain(), "outer: disk full");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.to_string(), "interner Fehler: outer");
    }
}
