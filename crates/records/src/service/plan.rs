//! The file plan (Aktenplan): plan items with dotted codes, the parent from the code prefix.

use crate::domain::{self, Coded, Disposition, RetentionStart};
use crate::permissions::MANAGE;
use crate::store::entity::plan_item;
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder,
};

/// A stored plan item as handlers read it (they never name the entity module themselves).
pub type PlanItem = plan_item::Model;

/// A new plan item as typed (form, API, import).
#[derive(Debug, Clone, Default)]
pub struct PlanItemInput {
    pub code: String,
    pub title: String,
    pub retention_years: String,
    /// A `RetentionStart` code; empty means `closing`.
    pub retention_start: String,
    /// `A`, `B` or `V`.
    pub disposition: String,
}

/// A checked plan item.
#[derive(Debug, Clone)]
pub struct ValidPlanItem {
    pub code: String,
    pub title: String,
    pub retention_years: i32,
    pub retention_start: RetentionStart,
    pub disposition: Disposition,
}

pub const ERR_CODE: &str = "records.err.code";
pub const ERR_CODE_TAKEN: &str = "records.err.code_taken";

pub fn validate(input: &PlanItemInput) -> std::result::Result<ValidPlanItem, FieldErrors> {
    let mut errs = FieldErrors::new();
    let code = input.code.trim().to_string();
    if code.is_empty() {
        errs.add("code", "err.required");
    } else if !domain::valid_code(&code) {
        errs.add("code", ERR_CODE);
    }
    let title = errs.text("title", &input.title, 300);
    let years = match input.retention_years.trim().parse::<i32>() {
        Ok(y) if (0..=200).contains(&y) => y,
        _ => {
            errs.add("retention_years", "records.err.years");
            0
        }
    };
    let start = if input.retention_start.trim().is_empty() {
        Some(RetentionStart::Closing)
    } else {
        RetentionStart::parse(&input.retention_start)
    };
    if start.is_none() {
        errs.add("retention_start", "records.err.choice");
    }
    let disp = Disposition::parse(&input.disposition.trim().to_uppercase());
    if disp.is_none() {
        errs.add("disposition", "records.err.disposition");
    }
    match (start, disp) {
        (Some(retention_start), Some(disposition)) if errs.is_empty() => Ok(ValidPlanItem {
            code,
            title,
            retention_years: years,
            retention_start,
            disposition,
        }),
        _ => Err(errs),
    }
}

/// Creates a plan item (needs `records.manage`); a code already used is refused.
pub async fn create(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    input: &PlanItemInput,
) -> Result<plan_item::Model> {
    by.require(MANAGE)?;
    let v = validate(input).map_err(Error::Invalid)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let row = insert(&tx, &v).await?;
    tx.commit().await?;
    Ok(row)
}

/// Inserts a checked item in the caller's transaction (the import uses it for many rows):
/// the parent is the nearest existing prefix; existing items under the new code are moved
/// beneath it.
pub async fn insert(tx: &Tx<'_>, v: &ValidPlanItem) -> Result<plan_item::Model> {
    if tx
        .find::<plan_item::Entity>()
        .filter(plan_item::Column::Code.eq(&v.code))
        .one(tx.conn())
        .await?
        .is_some()
    {
        return Err(FieldErrors::single("code", ERR_CODE_TAKEN));
    }
    let parent = nearest_parent(tx.conn(), tx.find::<plan_item::Entity>(), &v.code).await?;
    let row = tx
        .insert(plan_item::ActiveModel {
            code: Set(v.code.clone()),
            parent_id: Set(parent),
            title: Set(v.title.clone()),
            retention_years: Set(v.retention_years),
            retention_start: Set(v.retention_start.code().to_string()),
            disposition: Set(v.disposition.code().to_string()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    // Items filed earlier under a shorter prefix now belong beneath the new one.
    let below = tx
        .find::<plan_item::Entity>()
        .filter(plan_item::Column::Code.starts_with(&v.code))
        .filter(plan_item::Column::Id.ne(row.id))
        .all(tx.conn())
        .await?;
    for item in below {
        let p = nearest_parent(tx.conn(), tx.find::<plan_item::Entity>(), &item.code).await?;
        if p != item.parent_id {
            tx.update_many::<plan_item::Entity>()
                .col_expr(
                    plan_item::Column::ParentId,
                    sea_orm::sea_query::Expr::value(p),
                )
                .filter(plan_item::Column::Id.eq(item.id))
                .exec(tx.conn())
                .await?;
        }
    }
    tx.audit(
        NewEvent::new(
            "records.plan_item.created",
            "records.plan_item",
            Some(row.id),
        )
        .details(serde_json::json!({
            "code": row.code,
            "title": row.title,
            "retention_years": row.retention_years,
            "disposition": row.disposition,
        })),
    )
    .await?;
    Ok(row)
}

async fn nearest_parent<C: ConnectionTrait>(
    conn: &C,
    q: sea_orm::Select<plan_item::Entity>,
    code: &str,
) -> Result<Option<i64>> {
    let cands = domain::parent_candidates(code);
    if cands.is_empty() {
        return Ok(None);
    }
    let found = q
        .filter(plan_item::Column::Code.is_in(cands.clone()))
        .all(conn)
        .await?;
    Ok(cands
        .iter()
        .find_map(|c| found.iter().find(|f| &f.code == c).map(|f| f.id)))
}

/// The tenant's plan, ordered by code (tree order). Every reader of the module sees it.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<plan_item::Model>> {
    super::access::Filter::of(by).require_any()?;
    let scope = Scope::new(db, tenant, by)?;
    Ok(scope
        .find::<plan_item::Entity>()
        .order_by_asc(plan_item::Column::Code)
        .all(scope.conn())
        .await?)
}

/// A plan item by code.
pub async fn by_code<C: ConnectionTrait>(
    scope_find: sea_orm::Select<plan_item::Entity>,
    conn: &C,
    code: &str,
) -> Result<Option<plan_item::Model>> {
    Ok(scope_find
        .filter(plan_item::Column::Code.eq(code.trim()))
        .one(conn)
        .await?)
}

/// The depth of a code in the tree (for indentation).
pub fn depth(items: &[plan_item::Model], item: &plan_item::Model) -> usize {
    let mut d = 0;
    let mut cur = item.parent_id;
    while let Some(p) = cur {
        d += 1;
        cur = items.iter().find(|i| i.id == p).and_then(|i| i.parent_id);
        if d > 20 {
            break;
        }
    }
    d
}
