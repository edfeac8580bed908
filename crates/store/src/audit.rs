//! Append-only, hash-chained audit log, one chain per tenant. Events are written in the caller's
//! transaction, so a change and its audit event land together or not at all.

use crate::db_err;
use crate::entity::{audit_anchor, audit_event, audit_head};
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
    .await?;
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
        .await?;
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
    .await?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastHash, Expr::value(hash))
        .filter(audit_head::Column::TenantId.eq(tenant.0))
        .exec(conn)
        .await?;
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

/// A tenant's chain position: the number of its events and the hash of the last one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anchor {
    pub tenant_id: i64,
    pub seq: i64,
    pub hash: String,
}

impl Anchor {
    /// One line of `rathaus audit anchor`: `tenant seq hash`.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.tenant_id, self.seq, self.hash)
    }

    /// Reads the lines `audit anchor` printed (blank lines and `#` comments skipped).
    pub fn parse_lines(text: &str) -> std::result::Result<Vec<Anchor>, String> {
        text.lines()
            .map(str::trim)
            .enumerate()
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .map(|(n, l)| {
                let mut parts = l.split_whitespace();
                let bad = || format!("line {}: expected `tenant seq hash`", n + 1);
                let tenant_id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
                let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
                let hash = parts
                    .next()
                    .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
                    .ok_or_else(bad)?
                    .to_string();
                if parts.next().is_some() {
                    return Err(bad());
                }
                Ok(Anchor {
                    tenant_id,
                    seq,
                    hash,
                })
            })
            .collect()
    }
}

/// The current head of every tenant's chain.
pub async fn heads(conn: &impl ConnectionTrait) -> Result<Vec<Anchor>> {
    Ok(audit_head::Entity::find()
        .order_by_asc(audit_head::Column::TenantId)
        .all(conn)
        .await?
        .into_iter()
        .map(|h| Anchor {
            tenant_id: h.tenant_id,
            seq: h.last_seq,
            hash: h.last_hash,
        })
        .collect())
}

/// Records every tenant's current head as an anchor (unless it is already the latest one) and
/// returns the heads: for `rathaus audit anchor`, the daily task of `serve` and each backup.
/// Printed or mailed, they are the copy of the chain's state that lives outside the server.
pub async fn anchor(conn: &impl ConnectionTrait) -> Result<Vec<Anchor>> {
    let now = heads(conn).await?;
    for h in &now {
        let last = audit_anchor::Entity::find()
            .filter(audit_anchor::Column::TenantId.eq(h.tenant_id))
            .order_by_desc(audit_anchor::Column::Id)
            .one(conn)
            .await?;
        if last.is_some_and(|l| l.seq == h.seq && l.hash == h.hash) {
            continue;
        }
        audit_anchor::ActiveModel {
            tenant_id: Set(h.tenant_id),
            seq: Set(h.seq),
            hash: Set(h.hash.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(now)
}

/// Walks every tenant's chain. Returns the number of events checked, or the first break.
pub async fn verify(conn: &impl ConnectionTrait) -> anyhow::Result<Result<u64, Broken>> {
    verify_against(conn, &[]).await
}

/// `verify`, and every anchor, those recorded in the database and `outside` ones (a printed
/// or mailed `audit anchor`, a backup's manifest), must still be found in its chain: event
/// `seq` with that hash. So removing a tenant's events together with its chain head, or
/// rewriting its whole chain, is found too.
pub async fn verify_against(
    conn: &impl ConnectionTrait,
    outside: &[Anchor],
) -> anyhow::Result<Result<u64, Broken>> {
    use std::collections::{BTreeMap, BTreeSet};
    let heads = audit_head::Entity::find()
        .order_by_asc(audit_head::Column::TenantId)
        .all(conn)
        .await?;
    let mut anchors: BTreeMap<i64, BTreeSet<(i64, String)>> = BTreeMap::new();
    for a in audit_anchor::Entity::find().all(conn).await? {
        anchors
            .entry(a.tenant_id)
            .or_default()
            .insert((a.seq, a.hash));
    }
    for a in outside {
        anchors
            .entry(a.tenant_id)
            .or_default()
            .insert((a.seq, a.hash.clone()));
    }
    let with_head: BTreeSet<i64> = heads.iter().map(|h| h.tenant_id).collect();
    // A tenant (or its events, or an anchor) without a chain head: the chain was removed.
    let tenants: Vec<i64> = crate::entity::tenant::Entity::find()
        .select_only()
        .column(crate::entity::tenant::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let with_events: Vec<i64> = audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::TenantId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    let orphan = tenants
        .iter()
        .chain(with_events.iter())
        .chain(anchors.keys())
        .find(|t| !with_head.contains(t));
    if let Some(t) = orphan {
        return Ok(Err(Broken {
            tenant_id: *t,
            seq: anchors
                .get(t)
                .and_then(|a| a.iter().map(|(s, _)| *s).max())
                .unwrap_or(0),
            event_id: None,
            reason: "the chain head is missing (the chain was removed)".into(),
        }));
    }
    let mut checked = 0u64;
    for head in heads {
        let wanted = anchors.remove(&head.tenant_id).unwrap_or_default();
        let wanted_seqs: BTreeSet<i64> = wanted.iter().map(|(s, _)| *s).collect();
        let mut seen: BTreeMap<i64, String> = BTreeMap::new();
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
                if wanted_seqs.contains(&e.seq) {
                    seen.insert(e.seq, e.hash.clone());
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
        // Anchor #0 is the empty chain (a new tenant); everything later must be there.
        for (seq, hash) in wanted.iter().filter(|(s, _)| *s > 0) {
            let reason = match seen.get(seq) {
                None => format!(
                    "events up to the anchored #{seq} were removed (the chain ends at #{})",
                    expect_seq - 1
                ),
                Some(h) if h != hash => format!("the anchored event #{seq} was replaced"),
                Some(_) => continue,
            };
            return Ok(Err(Broken {
                tenant_id: head.tenant_id,
                seq: *seq,
                event_id: None,
                reason,
            }));
        }
    }
    Ok(Ok(checked))
}
