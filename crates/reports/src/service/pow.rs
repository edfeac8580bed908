//! Spent proofs of work: each solved challenge submits one report (replays are refused).

use crate::domain::altcha;
use crate::service::ReportsState;
use crate::store::entity::pow_spent;
use chrono::Utc;
use rathaus_core::{Result, TenantId};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::sync::atomic::Ordering;

/// Marks a solved challenge as spent; false when it was spent before (a replay).
pub async fn spend(
    conn: &impl ConnectionTrait,
    state: &ReportsState,
    tenant: TenantId,
    pow: &altcha::VerifiedPow,
) -> Result<bool> {
    let now = Utc::now();
    // Expired entries of every tenant go now and then (every 100th spend), not per request.
    if state
        .pow_spends
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(100)
    {
        pow_spent::Entity::delete_many()
            .filter(pow_spent::Column::ExpiresAt.lt(now))
            .exec(conn)
            .await?;
    }
    let seen = pow_spent::Entity::find_by_id(pow.replay_key.clone())
        .one(conn)
        .await?;
    if seen.is_some() {
        return Ok(false);
    }
    // Two submissions of one payload at once: the primary key lets only one insert win.
    let inserted = pow_spent::ActiveModel {
        challenge: Set(pow.replay_key.clone()),
        tenant_id: Set(tenant.0),
        expires_at: Set(pow.expires),
    }
    .insert(conn)
    .await;
    Ok(inserted.is_ok())
}

/// Frees a spent payload that did not make a report (a fresh widget solves a new challenge
/// anyway); best effort.
pub async fn release(conn: &impl ConnectionTrait, key: &str) {
    let _ = pow_spent::Entity::delete_many()
        .filter(pow_spent::Column::Challenge.eq(key))
        .exec(conn)
        .await;
}
