//! The one shared way to show form errors: a German message beside each field, taken from
//! the translation files, while the form keeps what the user typed.

use crate::i18n::Catalog;
use rathaus_core::Error;
use rathaus_core::validation::FieldErrors;

pub struct FormErrors {
    t: &'static Catalog,
    errs: FieldErrors,
}

impl FormErrors {
    pub fn none(t: &'static Catalog) -> Self {
        FormErrors {
            t,
            errs: FieldErrors::new(),
        }
    }

    pub fn new(t: &'static Catalog, errs: FieldErrors) -> Self {
        FormErrors { t, errs }
    }

    /// Splits an error into field errors (to show in the form) and the rest (error pages).
    pub fn from_error(t: &'static Catalog, e: Error) -> Result<Self, Error> {
        match e {
            Error::Invalid(f) => Ok(FormErrors { t, errs: f }),
            other => Err(other),
        }
    }

    pub fn msg(&self, field: &str) -> Option<String> {
        self.errs.get(field).map(|e| match &e.arg {
            Some(a) => self.t.fmt(&e.key, a),
            None => self.t.get(&e.key).to_string(),
        })
    }

    /// Whether one of the errors has this translation key.
    pub fn is(&self, key: &str) -> bool {
        self.errs.0.iter().any(|e| e.key == key)
    }

    pub fn any(&self) -> bool {
        !self.errs.is_empty()
    }

    pub fn count(&self) -> usize {
        self.errs.0.len()
    }
}
