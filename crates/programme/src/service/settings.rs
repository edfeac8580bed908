//! The tenant's priority formula: read for every priority computed, changed by the
//! coordinator, which recomputes every measure's priority in the same transaction.

use super::{COORDINATE, READ};
use crate::domain::{PriorityFormula, WEIGHT_MAX, WEIGHT_MIN};
use crate::store::entity::{measure, settings};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{self, Actor, Scope, Tx};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, Set};

/// The formula in force for a tenant (the default when none was chosen), for a caller that
/// already passed its permission check (inside a unit of work).
pub async fn formula_in(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<PriorityFormula> {
    Ok(uow::scoped::<settings::Entity>(tenant)
        .one(conn)
        .await?
        .map(|s| {
            PriorityFormula::from_parts(&s.priority_formula, s.benefit_weight, s.effort_weight)
        })
        .unwrap_or_default())
}

/// The tenant's formula, for readers of the programme.
pub async fn formula(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<PriorityFormula> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    formula_in(db, tenant).await
}

/// Chooses the formula (`product`, or `weighted` with two weights 1–5) and recomputes the
/// priority of every measure of the tenant with it, audited in the same transaction.
pub async fn set_formula(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    code: &str,
    benefit_weight: &str,
    effort_weight: &str,
) -> Result<PriorityFormula> {
    by.require(COORDINATE)?;
    let mut errs = FieldErrors::new();
    let f = match code.trim() {
        "product" => PriorityFormula::Product,
        "weighted" => {
            let mut weight = |field: &str, v: &str| match v.trim().parse::<i32>() {
                Ok(n) => errs.in_range(field, n, WEIGHT_MIN..=WEIGHT_MAX),
                Err(_) => {
                    errs.add(field, "programme.err.weight");
                    WEIGHT_MIN
                }
            };
            let benefit = weight("benefit_weight", benefit_weight);
            let effort = weight("effort_weight", effort_weight);
            PriorityFormula::Weighted { benefit, effort }
        }
        _ => {
            errs.add("priority_formula", "programme.err.choice");
            PriorityFormula::Product
        }
    };
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    let (wb, we) = f.weights();
    let existing = tx.find::<settings::Entity>().one(tx.conn()).await?;
    match existing {
        Some(row) => {
            tx.update_many::<settings::Entity>()
                .col_expr(settings::Column::PriorityFormula, Expr::value(f.code()))
                .col_expr(settings::Column::BenefitWeight, Expr::value(wb))
                .col_expr(settings::Column::EffortWeight, Expr::value(we))
                .filter(settings::Column::Id.eq(row.id))
                .exec(tx.conn())
                .await?;
        }
        None => {
            tx.insert(settings::ActiveModel {
                priority_formula: Set(f.code().into()),
                benefit_weight: Set(wb),
                effort_weight: Set(we),
                ..Default::default()
            })
            .await?;
        }
    }
    // The stored scores are within 1–5 already (validated when saved).
    let ease = Expr::val(crate::domain::SCORE_MAX + 1).sub(Expr::col(measure::Column::Effort));
    let priority = match f {
        PriorityFormula::Product => Expr::col(measure::Column::Benefit).mul(ease),
        PriorityFormula::Weighted { benefit, effort } => Expr::val(benefit)
            .mul(Expr::col(measure::Column::Benefit))
            .add(Expr::val(effort).mul(ease)),
    };
    let changed = tx
        .update_many::<measure::Entity>()
        .col_expr(measure::Column::Priority, priority)
        .exec(tx.conn())
        .await?
        .rows_affected;
    tx.audit(
        NewEvent::new(
            "programme.priority_formula.changed",
            "programme_settings",
            None::<i64>,
        )
        .details(serde_json::json!({
            "formula": f.code(),
            "benefit_weight": wb,
            "effort_weight": we,
            "measures": changed,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(f)
}
