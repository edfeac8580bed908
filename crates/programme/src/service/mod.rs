//! The programme's use cases: permission → validation → change with audit (and the live
//! announcement) in one unit of work → commit; and the queries behind the pages and the API.

pub mod concerns;
pub mod imports;
pub mod interviews;
pub mod measures;
pub mod meetings;
pub mod moves;
pub mod report;
pub mod search;
pub mod settings;
pub mod team;

use crate::domain;
use crate::store::entity::phase;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, Set};

pub use crate::permissions::{COORDINATE, EDIT, READ};
pub use crate::store::entity::concern::Model as Concern;
pub use crate::store::entity::measure::Model as Measure;
pub use crate::store::entity::meeting::Model as Meeting;
pub use crate::store::entity::meeting_item::Model as MeetingItem;
pub use crate::store::entity::member::Model as Member;
pub use crate::store::entity::move_event::Model as MoveEvent;
pub use phase::Model as Phase;

/// The live topic of the board: every move or edit of a card is announced on it.
pub const TOPIC: &str = "programme.board";

/// The tenant a user or token acts in (the system names its tenant itself).
pub fn tenant_of(by: Actor<'_>, tenant: TenantId) -> Result<TenantId> {
    by.require_tenant(tenant)?;
    Ok(tenant)
}

/// The display name of a phase: its own name, or the translated default.
pub fn phase_name(t: &rathaus_web::i18n::Catalog, p: &Phase) -> String {
    if p.name.is_empty() {
        t.get(&format!("programme.phase.{}", p.key)).to_string()
    } else {
        p.name.clone()
    }
}

/// The tenant's phases in board order; a tenant without phases gets the defaults first.
pub async fn phases(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<Phase>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    let list = scope
        .find::<phase::Entity>()
        .order_by_asc(phase::Column::Position)
        .all(db)
        .await?;
    if !list.is_empty() {
        return Ok(list);
    }
    // Two first requests at once: one writes the defaults, the other's insert fails on the
    // unique key and finds them written.
    if let Err(e) = ensure_default_phases(db, tenant).await {
        tracing::debug!(error = %e, "default phases written by another request");
    }
    Ok(scope
        .find::<phase::Entity>()
        .order_by_asc(phase::Column::Position)
        .all(db)
        .await?)
}

/// Writes the default phases of a tenant that has none (a second writer finds them there).
pub async fn ensure_default_phases(db: &DatabaseConnection, tenant: TenantId) -> Result<()> {
    let tx = Tx::begin(db, tenant, Actor::system("programme default phases")).await?;
    let any = tx.find::<phase::Entity>().one(tx.conn()).await?;
    if any.is_none() {
        for (i, (key, _, limit)) in domain::DEFAULT_PHASES.iter().enumerate() {
            tx.insert(phase::ActiveModel {
                key: Set((*key).to_string()),
                name: Set(String::new()),
                position: Set(i32::try_from(i).unwrap_or(0)),
                wip_limit: Set(*limit),
                wip_warn_only: Set(false),
                ..Default::default()
            })
            .await?;
        }
    }
    tx.commit().await
}

/// Changes the name and WIP limit of a phase (coordinators).
pub async fn update_phase(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    name: &str,
    wip_limit: &str,
    warn_only: bool,
) -> Result<Phase> {
    by.require(COORDINATE)?;
    let mut errs = rathaus_core::validation::FieldErrors::new();
    let name = errs.optional_text("name", name, 80);
    let limit = match wip_limit.trim() {
        "" => None,
        v => match v.parse::<i32>() {
            Ok(n) if (0..=10_000).contains(&n) => Some(n),
            _ => {
                errs.add("wip_limit", "programme.err.wip_limit_range");
                None
            }
        },
    };
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    let p = tx.get::<phase::Entity, _>(id).await?;
    tx.update_many::<phase::Entity>()
        .col_expr(phase::Column::Name, name.clone().into())
        .col_expr(phase::Column::WipLimit, limit.into())
        .col_expr(phase::Column::WipWarnOnly, warn_only.into())
        .filter(phase::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    tx.audit(
        rathaus_core::audit::NewEvent::new("programme.phase.updated", "programme_phase", Some(id))
            .details(
                serde_json::json!({ "name": name, "wip_limit": limit, "warn_only": warn_only }),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(Phase {
        name,
        wip_limit: limit,
        wip_warn_only: warn_only,
        ..p
    })
}

/// Whether `p` sees who raised anonymous concerns.
pub fn is_coordinator(p: &Principal) -> bool {
    p.has(COORDINATE)
}

/// The principal behind an actor, for names on record.
pub(crate) fn who(by: Actor<'_>) -> (Option<i64>, String) {
    match by.principal() {
        Some(p) => (Some(p.user_id.0), p.name.clone()),
        None => (None, String::new()),
    }
}

/// A phase of the tenant by its key (API) or None.
pub(crate) async fn phase_by_key<C: sea_orm::ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    key: &str,
) -> Result<Option<Phase>> {
    Ok(rathaus_store::uow::scoped::<phase::Entity>(tenant)
        .filter(phase::Column::Key.eq(key))
        .one(conn)
        .await?)
}

pub(crate) fn not_found_is_invalid(e: Error, field: &str, key: &str) -> Error {
    match e {
        Error::NotFound => rathaus_core::validation::FieldErrors::single(field, key),
        e => e,
    }
}
