//! The initial survey (Erstaufnahme): an interview record per department (date, people,
//! notes) from which measures are raised; the catalogue shows which departments were
//! interviewed and how many measures each raised.

use super::{EDIT, READ};
use crate::store::entity::interview;
use chrono::{NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{DatabaseConnection, QueryOrder, Set};

pub use interview::Model as Interview;

pub async fn create(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    department: &str,
    date: &str,
    people: &str,
    notes: &str,
) -> Result<Interview> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let department = errs.text("department", department, 120);
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok();
    if day.is_none() {
        errs.add("date", "programme.err.date");
    }
    let people = errs.optional_text("people", people, 500);
    let notes = errs.optional_text("notes", notes, 50_000);
    errs.into_result()?;
    let Some(day) = day else {
        return Err(FieldErrors::single("date", "programme.err.date"));
    };
    let tx = Tx::begin(db, tenant, by).await?;
    let i = tx
        .insert(interview::ActiveModel {
            department: Set(department),
            date: Set(day),
            people: Set(people),
            notes: Set(notes),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    tx.audit(NewEvent::new(
        "programme.interview.recorded",
        "programme_interview",
        Some(i.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(i)
}

/// The interviews, newest first.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<Interview>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    Ok(scope
        .find::<interview::Entity>()
        .order_by_desc(interview::Column::Date)
        .order_by_desc(interview::Column::Id)
        .all(db)
        .await?)
}

/// One interview.
pub async fn get(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<Interview> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    scope.get::<interview::Entity, _>(id).await
}
