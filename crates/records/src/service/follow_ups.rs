//! Follow-ups (Wiedervorlagen) on a file or case, for a user or a department.

use super::access::Filter;
use super::files::{OBJECT, visible};
use super::{actor_label, parse_date};
use crate::permissions::MANAGE;
use crate::store::entity::{case, file, follow_up};
use chrono::{NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};

#[derive(Debug, Clone, Default)]
pub struct FollowUpInput {
    pub due_on: String,
    pub note: String,
    pub case_id: Option<i64>,
    pub user_id: Option<i64>,
    pub department_id: Option<i64>,
}

pub async fn create(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    file_id: i64,
    input: &FollowUpInput,
) -> Result<follow_up::Model> {
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let due = parse_date(&mut errs, "due_on", &input.due_on);
    if input.due_on.trim().is_empty() {
        errs.add("due_on", "err.required");
    }
    let note = errs.optional_text("note", &input.note, 1000);
    let tx = Tx::begin(db, tenant, by).await?;
    let f = visible(tx.conn(), tx.find::<file::Entity>(), by, file_id).await?;
    if let Some(c) = input.case_id {
        let ok = tx
            .find::<case::Entity>()
            .filter(case::Column::Id.eq(c))
            .filter(case::Column::FileId.eq(f.id))
            .one(tx.conn())
            .await?
            .is_some();
        if !ok {
            errs.add("case_id", super::documents::ERR_OTHER_FILE);
        }
    }
    errs.into_result()?;
    let due = due.ok_or(Error::NotFound)?;
    let row = tx
        .insert(follow_up::ActiveModel {
            file_id: Set(f.id),
            case_id: Set(input.case_id),
            due_on: Set(due),
            user_id: Set(input.user_id),
            department_id: Set(input.department_id),
            note: Set(note),
            done_at: Set(None),
            done_by: Set(None),
            created_at: Set(Utc::now()),
            created_by: Set(actor_label(by)),
            ..Default::default()
        })
        .await?;
    tx.audit(
        NewEvent::new("records.follow_up.created", OBJECT, Some(f.id))
            .details(serde_json::json!({ "follow_up_id": row.id, "due_on": due })),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Marks a follow-up done.
pub async fn done(db: &DatabaseConnection, by: Actor<'_>, tenant: TenantId, id: i64) -> Result<()> {
    by.require(MANAGE)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let fu = tx.get::<follow_up::Entity, _>(id).await?;
    let f = visible(tx.conn(), tx.find::<file::Entity>(), by, fu.file_id).await?;
    tx.update_many::<follow_up::Entity>()
        .col_expr(follow_up::Column::DoneAt, Expr::value(Utc::now()))
        .col_expr(follow_up::Column::DoneBy, Expr::value(actor_label(by)))
        .filter(follow_up::Column::Id.eq(id))
        .filter(follow_up::Column::DoneAt.is_null())
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("records.follow_up.done", OBJECT, Some(f.id))
            .details(serde_json::json!({ "follow_up_id": id })),
    )
    .await?;
    tx.commit().await
}

/// Open follow-ups due on or before `until` in files the reader may open, with their file.
pub async fn due(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    until: NaiveDate,
) -> Result<Vec<(follow_up::Model, file::Model)>> {
    let filter = Filter::of(by);
    filter.require_any()?;
    let s = Scope::new(db, tenant, by)?;
    let rows = s
        .find::<follow_up::Entity>()
        .filter(follow_up::Column::DoneAt.is_null())
        .filter(follow_up::Column::DueOn.lte(until))
        .order_by_asc(follow_up::Column::DueOn)
        .all(s.conn())
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.file_id).collect();
    let files = s
        .find::<file::Entity>()
        .filter(filter.files())
        .filter(file::Column::Id.is_in(ids))
        .all(s.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let f = files.iter().find(|f| f.id == r.file_id)?.clone();
            Some((r, f))
        })
        .collect())
}

/// For the staff dashboard: how many open follow-ups for `user` or their department, in
/// files they may open, are due today or earlier, and whether one is overdue (the daily mail
/// goes to the same people); none for a user without the module.
pub async fn due_today(
    db: &DatabaseConnection,
    by: Actor<'_>,
    user: &rathaus_core::Principal,
) -> Result<(u64, bool)> {
    if Filter::of(by).require_any().is_err() {
        return Ok((0, false));
    }
    let today = super::today();
    let rows = due(db, by, user.tenant_id, today).await?;
    if rows.is_empty() {
        return Ok((0, false));
    }
    let dept = rathaus_store::accounts::user_by_id(db, user.tenant_id, user.user_id.0)
        .await?
        .department_id;
    let mine: Vec<_> = rows
        .iter()
        .filter(|(f, _)| {
            f.user_id == Some(user.user_id.0) || (dept.is_some() && f.department_id == dept)
        })
        .collect();
    let overdue = mine.iter().any(|(f, _)| f.due_on < today);
    Ok((mine.len() as u64, overdue))
}
