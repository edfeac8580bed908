//! Deletion periods (issue 12, section 11): persons whose last stay ended more than the
//! tenant's deletion period (`settings::retention_years`) ago and who have no current or
//! future stay are anonymised by a daily job. Names, birth date, contact, needs, notes, household and the allocation and benefits
//! references are erased, and the person's search document is deleted; nationality, residence status, allocation date and the stays stay,
//! so that the monthly statistics of past months do not change. Each run writes one deletion
//! record (audit event with the count and the period) in the same transaction.

use chrono::{Months, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::calendar::next_run_berlin;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Tx, scoped};
use rathaus_store::{Db, jobs};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, QueryFilter, QuerySelect, QueryTrait};

use crate::store::{household, occupancy, person};

/// The job kind of the daily run.
pub const JOB: &str = "refugees.anonymise";

/// The hour (Europe/Berlin) the daily run is due, at night.
const RUN_HOUR: u32 = 3;

const ACTOR: Actor<'static> = Actor::system("refugees.anonymise");

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub anonymised: u64,
    /// The deletion period applied.
    pub retention_years: i32,
    /// Stays that ended before this day count as expired.
    pub cutoff: NaiveDate,
}

/// The first day that still counts: `today` minus the deletion period.
pub fn cutoff(today: NaiveDate, years: i32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(years.max(1).unsigned_abs() * 12))
        .unwrap_or(today)
}

/// Anonymises the persons of `tenant` whose deletion period has run out on `today`.
pub async fn anonymise(
    db: &DatabaseConnection,
    tenant: TenantId,
    today: NaiveDate,
) -> Result<Outcome> {
    let tx = Tx::begin(db, tenant, ACTOR).await?;
    let years = super::settings::retention_years(tx.conn(), tenant).await?;
    let cutoff = cutoff(today, years);
    // Persons with a stay, none of which is open, current, future or ended on or after the
    // cutoff.
    let housed = scoped::<occupancy::Entity>(tenant)
        .select_only()
        .column(occupancy::Column::PersonId)
        .into_query();
    let recent = scoped::<occupancy::Entity>(tenant)
        .select_only()
        .column(occupancy::Column::PersonId)
        .filter(
            Condition::any()
                .add(occupancy::Column::EndsOn.is_null())
                .add(occupancy::Column::EndsOn.gte(cutoff)),
        )
        .into_query();
    let ids: Vec<i64> = tx
        .find::<person::Entity>()
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::AnonymisedAt.is_null())
        .filter(person::Column::Id.in_subquery(housed))
        .filter(person::Column::Id.not_in_subquery(recent))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let now = Utc::now();
    for chunk in ids.chunks(1_000) {
        let empty = || Expr::value(String::new());
        tx.update_many::<person::Entity>()
            .filter(person::Column::Id.is_in(chunk.to_vec()))
            .col_expr(person::Column::Surname, empty())
            .col_expr(person::Column::GivenNames, empty())
            .col_expr(
                person::Column::BirthDate,
                Expr::value(Option::<NaiveDate>::None),
            )
            .col_expr(person::Column::Sex, empty())
            .col_expr(person::Column::Languages, empty())
            .col_expr(person::Column::Phone, empty())
            .col_expr(person::Column::ResidenceParagraph, empty())
            .col_expr(
                person::Column::PermitValidUntil,
                Expr::value(Option::<NaiveDate>::None),
            )
            .col_expr(person::Column::AllocationRef, empty())
            .col_expr(person::Column::BenefitsRef, empty())
            .col_expr(person::Column::Needs, empty())
            .col_expr(person::Column::Notes, empty())
            .col_expr(
                person::Column::HouseholdId,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(person::Column::UpdatedAt, Expr::value(now))
            .col_expr(person::Column::AnonymisedAt, Expr::value(Some(now)))
            .exec(tx.conn())
            .await?;
        // The names leave the search index with the row's data.
        super::search::index_later(
            &tx,
            super::search::PERSON,
            chunk,
            rathaus_search::Op::Delete,
        )
        .await?;
        tx.update_many::<household::Entity>()
            .filter(household::Column::HeadPersonId.is_in(chunk.to_vec()))
            .col_expr(
                household::Column::HeadPersonId,
                Expr::value(Option::<i64>::None),
            )
            .exec(tx.conn())
            .await?;
    }
    tx.audit(
        NewEvent::new(
            "refugees.persons_anonymised",
            "refugees_person",
            None::<i64>,
        )
        .details(serde_json::json!({
            "count": ids.len(),
            "retention_years": years,
            "moved_out_before": cutoff,
            "on": today,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome {
        anonymised: ids.len() as u64,
        retention_years: years,
        cutoff,
    })
}

/// Queues the daily run for every tenant that has none queued or running (at migrate, so a
/// new tenant gets its run at the next start). Returns how many it queued.
pub async fn schedule_all(db: &Db) -> Result<usize> {
    let at = next_run_berlin(Utc::now(), RUN_HOUR, 0, None);
    jobs::schedule_for_all_tenants(&db.conn, JOB, at).await
}

/// One daily run for a tenant: tomorrow's run queued first, so a failing run (retried by the
/// queue) never breaks the chain, then the anonymisation.
pub async fn run_daily(db: &Db, tenant: TenantId) -> Result<Outcome> {
    let next = next_run_berlin(Utc::now(), RUN_HOUR, 1, None);
    jobs::queue_successor(&db.conn, tenant, JOB, next).await?;
    anonymise(&db.conn, tenant, super::today()).await
}
