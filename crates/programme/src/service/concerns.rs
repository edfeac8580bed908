//! The concerns and resistance log: raised by members (optionally anonymous to everyone but
//! the coordinator), answered, resolved.

use super::{COORDINATE, Concern, EDIT, READ, TOPIC, who};
use crate::domain;
use crate::store::entity::{concern, measure};
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Result, TenantId};
use rathaus_store::live::Hub;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, Set};

pub const MAX_TEXT: usize = 10_000;

/// A new concern.
#[derive(Debug, Clone, Default)]
pub struct ConcernInput {
    pub text: String,
    pub kind: String,
    pub measure_id: Option<i64>,
    pub anonymous: bool,
}

/// A change of a concern; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ConcernPatch {
    pub status: Option<String>,
    pub response: Option<String>,
    pub kind: Option<String>,
    pub text: Option<String>,
}

fn kind(errs: &mut FieldErrors, v: &str) -> String {
    let v = v.trim();
    if domain::CONCERN_KINDS.contains(&v) {
        v.to_string()
    } else {
        errs.add("kind", "programme.err.choice");
        String::new()
    }
}

pub async fn create(
    db: &DatabaseConnection,
    live: Option<&Hub>,
    by: Actor<'_>,
    tenant: TenantId,
    inp: &ConcernInput,
) -> Result<Concern> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let text = errs.text("text", &inp.text, MAX_TEXT);
    let kind = kind(&mut errs, &inp.kind);
    errs.into_result()?;
    let mut tx = Tx::begin(db, tenant, by).await?;
    if let Some(m) = inp.measure_id {
        tx.get::<measure::Entity, _>(m)
            .await
            .map_err(|e| super::not_found_is_invalid(e, "measure_id", "programme.err.choice"))?;
    }
    let (uid, uname) = who(by);
    let now = Utc::now();
    let c = tx
        .insert(concern::ActiveModel {
            measure_id: Set(inp.measure_id),
            kind: Set(kind),
            text: Set(text),
            raised_by: Set(uid),
            raised_by_name: Set(uname),
            anonymous: Set(inp.anonymous),
            status: Set("open".into()),
            response: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .await?;
    // The text stays out of the audit log: it may name people.
    tx.audit(NewEvent::new(
        "programme.concern.raised",
        "programme_concern",
        Some(c.id),
    ))
    .await?;
    if let (Some(h), Some(m)) = (live, inp.measure_id) {
        h.publish(&mut tx, TOPIC, Some(&m.to_string())).await?;
    }
    tx.commit().await?;
    Ok(c)
}

pub async fn update(
    db: &DatabaseConnection,
    live: Option<&Hub>,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    patch: &ConcernPatch,
) -> Result<Concern> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let status = patch.status.as_deref().map(|s| {
        let s = s.trim();
        if domain::CONCERN_STATUSES.contains(&s) {
            s.to_string()
        } else {
            errs.add("status", "programme.err.choice");
            String::new()
        }
    });
    let response = patch
        .response
        .as_deref()
        .map(|r| errs.optional_text("response", r, MAX_TEXT));
    let k = patch.kind.as_deref().map(|k| kind(&mut errs, k));
    let text = patch
        .text
        .as_deref()
        .map(|t| errs.text("text", t, MAX_TEXT));
    errs.into_result()?;
    let mut tx = Tx::begin(db, tenant, by).await?;
    let old = tx.get::<concern::Entity, _>(id).await?;
    // Only the coordinator or whoever raised it changes a concern.
    let own = by
        .principal()
        .is_none_or(|p| p.has(COORDINATE) || old.raised_by == Some(p.user_id.0));
    if !own {
        return Err(rathaus_core::Error::Forbidden);
    }
    let new = Concern {
        status: status.unwrap_or(old.status.clone()),
        response: response.unwrap_or(old.response.clone()),
        kind: k.unwrap_or(old.kind.clone()),
        text: text.unwrap_or(old.text.clone()),
        updated_at: Utc::now(),
        ..old.clone()
    };
    tx.update_many::<concern::Entity>()
        .col_expr(concern::Column::Status, new.status.clone().into())
        .col_expr(concern::Column::Response, new.response.clone().into())
        .col_expr(concern::Column::Kind, new.kind.clone().into())
        .col_expr(concern::Column::Text, new.text.clone().into())
        .col_expr(concern::Column::UpdatedAt, new.updated_at.into())
        .filter(concern::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("programme.concern.updated", "programme_concern", Some(id))
            .details(serde_json::json!({ "status": [old.status, new.status] })),
    )
    .await?;
    if let (Some(h), Some(m)) = (live, new.measure_id) {
        h.publish(&mut tx, TOPIC, Some(&m.to_string())).await?;
    }
    tx.commit().await?;
    Ok(new)
}

/// Concerns as `by` may see them: who raised an anonymous one is blanked for all but the
/// coordinator (and the one who raised it).
pub fn shown(by: Actor<'_>, mut c: Concern) -> Concern {
    let sees = by
        .principal()
        .is_none_or(|p| p.has(COORDINATE) || c.raised_by == Some(p.user_id.0));
    if c.anonymous && !sees {
        c.raised_by = None;
        c.raised_by_name = String::new();
    }
    c
}

/// The concerns of the tenant (open first, newest first), optionally of one measure.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    measure_id: Option<i64>,
    only_open: bool,
) -> Result<Vec<Concern>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    let mut q = scope.find::<concern::Entity>();
    if let Some(m) = measure_id {
        q = q.filter(concern::Column::MeasureId.eq(m));
    }
    if only_open {
        q = q.filter(concern::Column::Status.ne("resolved"));
    }
    let rows = q
        .order_by_desc(concern::Column::CreatedAt)
        .order_by_desc(concern::Column::Id)
        .limit_rows(500)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|c| shown(by, c)).collect())
}

/// One concern.
pub async fn get(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<Concern> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    Ok(shown(by, scope.get::<concern::Entity, _>(id).await?))
}

trait LimitRows {
    fn limit_rows(self, n: u64) -> Self;
}

impl<E: sea_orm::EntityTrait> LimitRows for sea_orm::Select<E> {
    fn limit_rows(self, n: u64) -> Self {
        sea_orm::QuerySelect::limit(self, n)
    }
}
