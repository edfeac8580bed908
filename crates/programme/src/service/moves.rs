//! Moving a card: to a phase and before another card, within the phase's WIP limit, against
//! the version the mover saw. A fixed handful of queries per move: the card, the phase, the
//! count (only into a limited phase), the neighbours (one or two), the update, the history
//! row, the audit event, the live announcement.

use super::{EDIT, Measure, Phase, TOPIC, phase_by_key, who};
use crate::domain;
use crate::store::entity::measure;
use crate::store::entity::move_event;
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::live::Hub;
use rathaus_store::uow::{Actor, Tx};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// Translation key of the refusal beyond a WIP limit.
pub const WIP_REFUSED: &str = "programme.err.wip_limit";
/// Translation key of a move against an older version of the card.
pub const MOVED_MEANWHILE: &str = "programme.err.moved_meanwhile";

/// Where a card should go.
#[derive(Debug, Clone)]
pub struct MoveInput {
    /// The phase's key (`geplant`).
    pub phase: String,
    /// The card it goes before; None: the end of the phase.
    pub before_id: Option<i64>,
    /// The card's version the mover saw; None: whatever it is now.
    pub version: Option<i32>,
}

/// A move done.
#[derive(Debug, Clone)]
pub struct Moved {
    pub card: Measure,
    pub phase: Phase,
    pub from_phase_id: i64,
    /// Beyond the WIP limit of a phase that only warns.
    pub warning: bool,
}

pub async fn move_card(
    db: &DatabaseConnection,
    live: Option<&Hub>,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    inp: &MoveInput,
) -> Result<Moved> {
    by.require(EDIT)?;
    let key = inp.phase.trim();
    if key.is_empty() || key.len() > 40 {
        return Err(FieldErrors::single("phase", "programme.err.unknown_phase"));
    }
    if inp.before_id == Some(id) {
        return Err(FieldErrors::single(
            "before_id",
            "programme.err.unknown_before",
        ));
    }
    let mut tx = Tx::begin(db, tenant, by).await?;
    let card = tx.get::<measure::Entity, _>(id).await?;
    if inp.version.is_some_and(|v| v != card.version) {
        return Err(Error::Conflict(MOVED_MEANWHILE.into()));
    }
    let phase = phase_by_key(tx.conn(), tenant, key)
        .await?
        .ok_or_else(|| FieldErrors::single("phase", "programme.err.unknown_phase"))?;
    let same_phase = phase.id == card.phase_id;
    let mut warning = false;
    if !same_phase && phase.wip_limit.is_some() {
        let n = tx
            .find::<measure::Entity>()
            .filter(measure::Column::PhaseId.eq(phase.id))
            .count(tx.conn())
            .await?;
        if domain::beyond_limit(phase.wip_limit, n) {
            if phase.wip_warn_only {
                warning = true;
            } else {
                return Err(Error::Conflict(WIP_REFUSED.into()));
            }
        }
    }
    let in_phase = || {
        tx.find::<measure::Entity>()
            .filter(measure::Column::PhaseId.eq(phase.id))
            .filter(measure::Column::Id.ne(id))
    };
    let position = match inp.before_id {
        Some(b) => {
            let before = in_phase()
                .filter(measure::Column::Id.eq(b))
                .one(tx.conn())
                .await?
                .ok_or_else(|| FieldErrors::single("before_id", "programme.err.unknown_before"))?;
            let prev = in_phase()
                .filter(measure::Column::Position.lt(before.position))
                .order_by_desc(measure::Column::Position)
                .one(tx.conn())
                .await?;
            match domain::between(prev.map(|p| p.position), Some(before.position)) {
                Some(p) => p,
                None => {
                    // No gap left: the cards from `before` on move down one gap.
                    tx.update_many::<measure::Entity>()
                        .col_expr(
                            measure::Column::Position,
                            Expr::col(measure::Column::Position).add(domain::GAP),
                        )
                        .filter(measure::Column::PhaseId.eq(phase.id))
                        .filter(measure::Column::Position.gte(before.position))
                        .exec(tx.conn())
                        .await?;
                    before.position
                }
            }
        }
        None => {
            let last = in_phase()
                .order_by_desc(measure::Column::Position)
                .one(tx.conn())
                .await?;
            domain::between(last.map(|l| l.position), None).unwrap_or(domain::GAP)
        }
    };
    let now = Utc::now();
    let phase_since = if same_phase { card.phase_since } else { now };
    let res = tx
        .update_many::<measure::Entity>()
        .col_expr(measure::Column::PhaseId, phase.id.into())
        .col_expr(measure::Column::Position, position.into())
        .col_expr(measure::Column::Version, (card.version + 1).into())
        .col_expr(measure::Column::PhaseSince, phase_since.into())
        .col_expr(measure::Column::UpdatedAt, now.into())
        .filter(measure::Column::Id.eq(id))
        .filter(measure::Column::Version.eq(card.version))
        .exec(tx.conn())
        .await?;
    if res.rows_affected == 0 {
        // Another move of this card committed after we read it (PostgreSQL waits for its
        // row lock, then finds the version changed).
        return Err(Error::Conflict(MOVED_MEANWHILE.into()));
    }
    let (uid, uname) = who(by);
    tx.insert(move_event::ActiveModel {
        measure_id: Set(id),
        from_phase_id: Set(Some(card.phase_id)),
        to_phase_id: Set(phase.id),
        moved_by: Set(uid),
        moved_by_name: Set(uname),
        at: Set(now),
        ..Default::default()
    })
    .await?;
    tx.audit(
        NewEvent::new("programme.card.moved", "programme_measure", Some(id)).details(
            serde_json::json!({
                "from_phase": card.phase_id, "to_phase": phase.id,
                "position": position, "warning": warning,
            }),
        ),
    )
    .await?;
    if let Some(h) = live {
        h.publish(&mut tx, TOPIC, Some(&id.to_string())).await?;
    }
    tx.commit().await?;
    let from_phase_id = card.phase_id;
    Ok(Moved {
        card: Measure {
            phase_id: phase.id,
            position,
            version: card.version + 1,
            phase_since,
            updated_at: now,
            ..card
        },
        phase,
        from_phase_id,
        warning,
    })
}

/// The card at a 0-based place of a phase (the moving card not counted): the `before_id` of
/// a move to that place; None past the end.
pub async fn card_at(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    phase_key: &str,
    moving: i64,
    index: u64,
) -> Result<Option<i64>> {
    let scope = rathaus_store::uow::Scope::new(db, tenant, by)?;
    scope.require(super::READ)?;
    let Some(phase) = phase_by_key(db, tenant, phase_key).await? else {
        return Ok(None);
    };
    Ok(scope
        .find::<measure::Entity>()
        .filter(measure::Column::PhaseId.eq(phase.id))
        .filter(measure::Column::Id.ne(moving))
        .order_by_asc(measure::Column::Position)
        .offset(index)
        .one(db)
        .await?
        .map(|m| m.id))
}
