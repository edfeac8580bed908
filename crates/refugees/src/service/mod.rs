//! Use cases of refugee accommodation: permission → validation → change + audit in one
//! transaction → commit. Reads of a person's record are audited too.

pub mod disclosure;
pub mod imports;
pub mod occupancy;
pub mod persons;
pub mod places;
pub mod reminders;
pub mod retention;
pub mod search;
pub mod settings;
pub mod stats;

use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Principal, Result, TenantId};
use rathaus_store::uow::Actor;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

pub use crate::domain::Visibility;
use crate::store::{bed, person};

/// Today in Europe/Berlin.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Berlin).date_naive()
}

/// What the actor may see of a person (the system sees everything).
pub fn visibility(by: Actor<'_>) -> Visibility {
    match by.principal() {
        Some(p) => Visibility::of(|perm| p.has(perm)),
        None => Visibility::all(),
    }
}

/// The tenant of a user or token; the system names it.
pub fn tenant_of(p: &Principal) -> TenantId {
    p.tenant_id
}

/// Requires at least one of the read permissions.
pub fn require_read(by: Actor<'_>) -> Result<Visibility> {
    let v = visibility(by);
    if v.basic {
        Ok(v)
    } else {
        Err(rathaus_core::Error::Forbidden)
    }
}

/// A date in a form or query: `YYYY-MM-DD` (what `<input type="date">` sends) or German
/// `TT.MM.JJJJ`; empty is None.
pub fn parse_date(errs: &mut FieldErrors, field: &str, s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
        .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)));
    if d.is_none() {
        errs.add(field, "refugees.err.date");
    }
    d
}

/// Locks persons and beds for the rest of the transaction, persons first and each in id
/// order, so that two transactions cannot deadlock. PostgreSQL: `SELECT … FOR UPDATE`;
/// SQLite's transaction already holds the single write lock (`BEGIN IMMEDIATE`).
pub(crate) async fn lock<C: ConnectionTrait>(
    txn: &C,
    tenant: TenantId,
    persons: &[i64],
    beds: &[i64],
) -> Result<()> {
    if txn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    if !persons.is_empty() {
        rathaus_store::uow::scoped::<person::Entity>(tenant)
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::Id.is_in(persons.to_vec()))
            .order_by_asc(person::Column::Id)
            .lock_exclusive()
            .into_tuple::<i64>()
            .all(txn)
            .await?;
    }
    if !beds.is_empty() {
        rathaus_store::uow::scoped::<bed::Entity>(tenant)
            .select_only()
            .column(bed::Column::Id)
            .filter(bed::Column::Id.is_in(beds.to_vec()))
            .order_by_asc(bed::Column::Id)
            .lock_exclusive()
            .into_tuple::<i64>()
            .all(txn)
            .await?;
    }
    Ok(())
}
