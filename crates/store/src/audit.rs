//! Append-only, hash-chained audit log, one chain per tenant. Events are written in the caller's
//! transaction, so a change and its audit event land together or not at all.

use crate::db_err;
use crate::entity::{audit_event, audit_head};
use chrono::{SecondsFormat, Utc};
use rathaus_core::audit::{ChainFields, GENESIS_HASH, NewEvent, chain_hash};
use rathaus_core::{Error, Principal, Result, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

/// Who did it: a user, or the system (CLI, background job) / an anonymous visitor.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn system(label: &str) -> Self {
        Actor {
            id: None,
            label: label.to_string(),
        }
    }
    pub fn user(p: &Principal) -> Self {
        Actor {
            id: Some(p.user_id.0),
            label: p.email.clone(),
        }
    }
}

/// Creates the chain head of a new tenant.
pub async fn init_chain(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<()> {
    audit_head::ActiveModel {
        tenant_id: Set(tenant.0),
        last_seq: Set(0),
        last_hash: Set(GENESIS_HASH.to_string()),
    }
    .insert(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Appends one event. Call inside the transaction that makes the change.
pub async fn record(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    actor: &Actor,
    ev: NewEvent,
) -> Result<()> {
    // Bumping the head first takes its row lock (PostgreSQL) or the write lock (SQLite), so
    // concurrent writers of one tenant are serialised and the chain cannot fork.
    let heads = audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::LastSeq,
            Expr::col(audit_head::Column::LastSeq).add(1),
        )
        .filter(audit_head::Column::TenantId.eq(tenant.0))
        .exec_with_returning(conn)
        .await
        .map_err(db_err)?;
    let head = heads
        .into_iter()
        .next()
        .ok_or_else(|| Error::internal("audit chain head missing"))?;
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let details = if serde_json::Value::is_null(&ev.details) {
        "{}".to_string()
    } else {
        ev.details.to_string()
    };
    let hash = chain_hash(&ChainFields {
        tenant_id: tenant.0,
        seq: head.last_seq,
        at: &at,
        actor_id: actor.id,
        actor_label: &actor.label,
        action: &ev.action,
        object_type: &ev.object_type,
        object_id: ev.object_id.as_deref(),
        details: &details,
        prev_hash: &head.last_hash,
    });
    audit_event::ActiveModel {
        tenant_id: Set(tenant.0),
        seq: Set(head.last_seq),
        at: Set(at),
        actor_id: Set(actor.id),
        actor_label: Set(actor.label.clone()),
        action: Set(ev.action),
        object_type: Set(ev.object_type),
        object_id: Set(ev.object_id),
        details: Set(details),
        prev_hash: Set(head.last_hash),
        hash: Set(hash.clone()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db_err)?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastHash, Expr::value(hash))
        .filter(audit_head::Column::TenantId.eq(tenant.0))
        .exec(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub object_type: Option<String>,
    /// Keyset pagination: only events with a smaller sequence number.
    pub before_seq: Option<i64>,
}

pub const PAGE_SIZE: u64 = 50;

/// Newest first; needs `admin.audit`.
pub async fn list(
    conn: &impl ConnectionTrait,
    who: &Principal,
    f: &AuditFilter,
) -> Result<Vec<audit_event::Model>> {
    who.require(rathaus_core::permissions::ADMIN_AUDIT)?;
    let mut q =
        audit_event::Entity::find().filter(audit_event::Column::TenantId.eq(who.tenant_id.0));
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_event::Column::Action.eq(a));
    }
    if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_event::Column::ActorLabel.contains(a));
    }
    if let Some(o) = f.object_type.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_event::Column::ObjectType.eq(o));
    }
    if let Some(b) = f.before_seq {
        q = q.filter(audit_event::Column::Seq.lt(b));
    }
    q.order_by_desc(audit_event::Column::Seq)
        .limit(PAGE_SIZE)
        .all(conn)
        .await
        .map_err(db_err)
}

/// Distinct action names for the filter's select box.
pub async fn actions(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<String>> {
    audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Action)
        .distinct()
        .filter(audit_event::Column::TenantId.eq(tenant.0))
        .order_by_asc(audit_event::Column::Action)
        .into_tuple::<String>()
        .all(conn)
        .await
        .map_err(db_err)
}

#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    pub tenant_id: i64,
    pub seq: i64,
    pub event_id: Option<i64>,
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.event_id {
            Some(id) => write!(
                f,
                "tenant {} event #{} (row id {}): {}",
                self.tenant_id, self.seq, id, self.reason
            ),
            None => write!(
                f,
                "tenant {} event #{}: {}",
                self.tenant_id, self.seq, self.reason
            ),
        }
    }
}

/// Walks every tenant's chain. Returns the number of events checked, or the first break.
pub async fn verify(conn: &impl ConnectionTrait) -> anyhow::Result<Result<u64, Broken>> {
    let heads = audit_head::Entity::find()
        .order_by_asc(audit_head::Column::TenantId)
        .all(conn)
        .await?;
    let mut checked = 0u64;
    for head in heads {
        let mut prev = GENESIS_HASH.to_string();
        let mut expect_seq = 1i64;
        let mut pages = audit_event::Entity::find()
            .filter(audit_event::Column::TenantId.eq(head.tenant_id))
            .order_by_asc(audit_event::Column::Seq)
            .paginate(conn, 1000);
        while let Some(batch) = pages.fetch_and_next().await? {
            for e in batch {
                let broken = |reason: &str| Broken {
                    tenant_id: head.tenant_id,
                    seq: expect_seq,
                    event_id: Some(e.id),
                    reason: reason.to_string(),
                };
                if e.seq != expect_seq {
                    return Ok(Err(Broken {
                        event_id: None,
                        ..broken("event missing (removed)")
                    }));
                }
                if e.prev_hash != prev {
                    return Ok(Err(broken("link to the previous event does not match")));
                }
                let h = chain_hash(&ChainFields {
                    tenant_id: e.tenant_id,
                    seq: e.seq,
                    at: &e.at,
                    actor_id: e.actor_id,
                    actor_label: &e.actor_label,
                    action: &e.action,
                    object_type: &e.object_type,
                    object_id: e.object_id.as_deref(),
                    details: &e.details,
                    prev_hash: &e.prev_hash,
                });
                if h != e.hash {
                    return Ok(Err(broken("content was altered (hash mismatch)")));
                }
                prev = e.hash;
                expect_seq += 1;
                checked += 1;
            }
        }
        if head.last_seq != expect_seq - 1 || head.last_hash != prev {
            return Ok(Err(Broken {
                tenant_id: head.tenant_id,
                seq: expect_seq,
                event_id: None,
                reason: format!(
                    "events after #{} were removed (chain head says #{})",
                    expect_seq - 1,
                    head.last_seq
                ),
            }));
        }
    }
    Ok(Ok(checked))
}
