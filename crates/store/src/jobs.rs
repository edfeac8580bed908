//! A job queue on the database, the same on both backends. Jobs survive restarts, are retried
//! with exponential back-off, and failed jobs stay visible to the admin. Several `serve`
//! processes can work one queue: PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, SQLite
//! serialises writers anyway.

use crate::entity::job;
use crate::{Backend, Db, db_err};
use chrono::{DateTime, Duration, Utc};
use rathaus_core::permissions::ADMIN_JOBS;
use rathaus_core::{Principal, Result, TenantId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;

pub use job::Model as Job;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

/// How long a claimed job may run before another worker may take it over.
const LEASE: i64 = 300;

/// Whether a job of `kind` is queued or running for the tenant (for work queued once, such
/// as a move at start-up that must not be queued twice).
pub async fn pending(conn: &impl ConnectionTrait, tenant: TenantId, kind: &str) -> Result<bool> {
    Ok(job::Entity::find()
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Status.is_in([QUEUED, RUNNING]))
        .one(conn)
        .await?
        .is_some())
}

/// Queues the next run of a recurring job `kind` at `at` unless one already waits for a later
/// time. A recurring job calls this first, before its work: a failing run never breaks the
/// chain, and a retry of the same run finds its successor and queues none. Only future runs
/// count, so the run itself (due now, whether claimed or not) and a missed run still waiting
/// after downtime do not. Returns whether it queued one.
pub async fn queue_successor(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let waiting = job::Entity::find()
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Status.eq(QUEUED))
        .filter(job::Column::RunAt.gt(Utc::now()))
        .one(conn)
        .await?
        .is_some();
    if waiting {
        return Ok(false);
    }
    enqueue_at(conn, tenant, kind, serde_json::json!({}), 3, at).await?;
    Ok(true)
}

/// Queues the first run of a recurring job `kind` at `at` for every tenant without one
/// queued or running (at migrate; a tenant made later gets its run at the next start).
/// Returns how many it queued.
pub async fn schedule_for_all_tenants(
    conn: &impl ConnectionTrait,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<usize> {
    let mut queued = 0;
    for (t, _) in crate::tenants::list(conn).await? {
        let t = TenantId(t.id);
        if !pending(conn, t, kind).await? {
            enqueue_at(conn, t, kind, serde_json::json!({}), 3, at).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

pub async fn enqueue(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    kind: &str,
    payload: serde_json::Value,
    max_attempts: i32,
) -> Result<Job> {
    enqueue_at(conn, tenant, kind, payload, max_attempts, Utc::now()).await
}

/// Like `enqueue`, but the job is not claimed before `run_at` (reminders).
pub async fn enqueue_at(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    kind: &str,
    payload: serde_json::Value,
    max_attempts: i32,
    run_at: chrono::DateTime<Utc>,
) -> Result<Job> {
    let now = Utc::now();
    job::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set(kind.to_string()),
        payload: Set(payload.to_string()),
        status: Set(QUEUED.to_string()),
        attempts: Set(0),
        max_attempts: Set(max_attempts.max(1)),
        run_at: Set(run_at),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db_err)
}

/// Takes the next due job (or one whose lease ran out) and marks it running.
pub async fn claim(db: &Db) -> Result<Option<Job>> {
    let now = Utc::now();
    let lease = now + Duration::seconds(LEASE);
    let (sql, lock) = match db.backend {
        Backend::Postgres => ("$1", " FOR UPDATE SKIP LOCKED"),
        Backend::Sqlite => ("?", ""),
    };
    let p = |n: usize| {
        if sql == "?" {
            "?".to_string()
        } else {
            format!("${n}")
        }
    };
    let q = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = {p1} \
         WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= {p2}) \
         OR (status = 'running' AND locked_until < {p3}) ORDER BY run_at, id LIMIT 1{lock}) \
         RETURNING *",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3),
    );
    let stmt =
        Statement::from_sql_and_values(db.db_backend(), q, [lease.into(), now.into(), now.into()]);
    job::Entity::find()
        .from_raw_sql(stmt)
        .one(&db.conn)
        .await
        .map_err(db_err)
}

pub async fn complete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    job::Entity::update_many()
        .col_expr(job::Column::Status, sea_orm::sea_query::Expr::value(DONE))
        .col_expr(
            job::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .col_expr(
            job::Column::LockedUntil,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(job::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Back-off after the n-th failed attempt: 30 s, 2 min, 8 min, … capped at 6 h.
pub fn backoff(attempts: i32) -> Duration {
    let secs =
        30i64.saturating_mul(4i64.saturating_pow(attempts.saturating_sub(1).clamp(0, 10) as u32));
    Duration::seconds(secs.min(6 * 3600))
}

pub async fn fail(conn: &impl ConnectionTrait, j: &Job, error: &str) -> Result<()> {
    let give_up = j.attempts >= j.max_attempts;
    let mut am: job::ActiveModel = j.clone().into();
    am.last_error = Set(Some(error.chars().take(2000).collect()));
    am.locked_until = Set(None);
    if give_up {
        am.status = Set(FAILED.to_string());
        am.finished_at = Set(Some(Utc::now()));
    } else {
        am.status = Set(QUEUED.to_string());
        am.run_at = Set(Utc::now() + backoff(j.attempts));
    }
    am.update(conn).await?;
    Ok(())
}

/// For the admin page: newest first, optionally by status.
pub async fn list(
    conn: &impl ConnectionTrait,
    who: &Principal,
    status: Option<&str>,
) -> Result<Vec<Job>> {
    who.require(ADMIN_JOBS)?;
    let mut q = job::Entity::find().filter(job::Column::TenantId.eq(who.tenant_id.0));
    if let Some(s) = status.filter(|s| !s.is_empty()) {
        q = q.filter(job::Column::Status.eq(s));
    }
    q.order_by_desc(job::Column::Id)
        .limit(200)
        .all(conn)
        .await
        .map_err(db_err)
}

/// Puts a failed job back into the queue.
pub async fn retry<C: sea_orm::TransactionTrait>(db: &C, who: &Principal, id: i64) -> Result<()> {
    use sea_orm::TransactionSession;
    who.require(ADMIN_JOBS)?;
    let txn = crate::begin(db).await?;
    let j = job::Entity::find_by_id(id)
        .filter(job::Column::TenantId.eq(who.tenant_id.0))
        .one(&txn)
        .await?
        .ok_or(rathaus_core::Error::NotFound)?;
    let event = rathaus_core::audit::NewEvent::new("job.retried", "job", Some(id))
        .details(serde_json::json!({"kind": j.kind, "status": j.status, "attempts": j.attempts}));
    let mut am: job::ActiveModel = j.into();
    am.status = Set(QUEUED.to_string());
    am.run_at = Set(Utc::now());
    am.max_attempts = Set(am.attempts.as_ref() + 1);
    am.finished_at = Set(None);
    am.update(&txn).await?;
    crate::audit::record(&txn, who.tenant_id, &crate::Actor::user(who), event).await?;
    txn.commit().await?;
    Ok(())
}

#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    /// Err(message) counts as a failed attempt.
    async fn run(&self, db: &Db, job: &Job) -> std::result::Result<(), String>;
}

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn Handler>>,
}

impl Registry {
    pub fn register(&mut self, kind: &str, h: Arc<dyn Handler>) {
        self.handlers.insert(kind.to_string(), h);
    }

    /// Runs one due job if there is one; returns whether it found work.
    pub async fn run_one(&self, db: &Db) -> Result<bool> {
        let Some(j) = claim(db).await? else {
            return Ok(false);
        };
        let outcome = match self.handlers.get(&j.kind) {
            Some(h) => h.run(db, &j).await,
            None => Err(format!("no handler for job kind {}", j.kind)),
        };
        match outcome {
            Ok(()) => complete(&db.conn, j.id).await?,
            Err(e) => {
                tracing::warn!(job = j.id, kind = %j.kind, attempt = j.attempts, error = %e, "job failed");
                fail(&db.conn, &j, &e).await?
            }
        }
        Ok(true)
    }

    /// Works the queue until `stop` turns true; polls every `idle` when there is nothing to do.
    pub async fn work(self, db: Db, idle: std::time::Duration, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            match self.run_one(&db).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "job queue error"),
            }
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(super::backoff(1).num_seconds(), 30);
        assert_eq!(super::backoff(2).num_seconds(), 120);
        assert_eq!(super::backoff(3).num_seconds(), 480);
        assert_eq!(super::backoff(50).num_seconds(), 6 * 3600);
    }
}
