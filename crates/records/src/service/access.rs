//! Who may see which files and documents: built once from the reader's permissions and used
//! in every query (lists, counts, lookups, search), so a restricted file never shows up —
//! not as a row, not in a count, not as a search hit — for a reader without its permission.

use crate::domain::{AccessClass, Coded};
use crate::store::entity::{document, file};
use rathaus_core::{Error, Result};
use rathaus_store::uow::Actor;
use sea_orm::{ColumnTrait, Condition};

/// The access classes one reader may open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    classes: Vec<AccessClass>,
}

impl Filter {
    /// The reader's filter: from a user's or token's permissions; the system sees all.
    pub fn of(by: Actor<'_>) -> Filter {
        let classes = match by.principal() {
            Some(p) => AccessClass::readable(|perm| p.has(perm)),
            None => AccessClass::ALL.to_vec(),
        };
        Filter { classes }
    }

    pub fn classes(&self) -> &[AccessClass] {
        &self.classes
    }

    pub fn allows(&self, c: AccessClass) -> bool {
        self.classes.contains(&c)
    }

    /// Whether the reader opens any class at all (else the module refuses).
    pub fn any(&self) -> bool {
        !self.classes.is_empty()
    }

    /// `Forbidden` for a reader who may open nothing.
    pub fn require_any(&self) -> Result<()> {
        if self.any() {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    fn codes(&self) -> Vec<&'static str> {
        self.classes.iter().map(|c| c.code()).collect()
    }

    /// The condition on `records_files`.
    pub fn files(&self) -> Condition {
        Condition::all().add(file::Column::Access.is_in(self.codes()))
    }

    /// The condition on `records_documents` (the access class is copied from the file).
    pub fn documents(&self) -> Condition {
        Condition::all().add(document::Column::Access.is_in(self.codes()))
    }

    /// The search terms of the reader's classes (see `search::visible_to`).
    pub fn search_terms(&self) -> Vec<String> {
        self.classes
            .iter()
            .map(|c| super::search::class_term(*c))
            .collect()
    }
}
