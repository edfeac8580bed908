//! Live updates, the data side (the HTTP side is `rathaus_web::live`): a module announces
//! "this object changed" for a tenant and a topic with `Hub::publish` inside its unit of
//! work.
//!
//! Across processes: on PostgreSQL the announcement is a `NOTIFY` sent in the same
//! transaction as the change, so it goes out only if the change commits, and every `serve`
//! process on the database receives it through its `LISTEN` connection (opened when its first
//! subscriber arrives, closed when the last one leaves). On SQLite (one process) it is handed
//! to the local subscribers after the commit.
//!
//! Slow subscribers are dropped, not buffered: each may lag `BUFFER` events behind, then its
//! receiver reports the lag and the subscription ends.

use crate::Db;
use crate::db::Backend;
use crate::uow::Tx;
use rathaus_core::{Error, Result, TenantId};
use sea_orm::{ConnectionTrait, Statement};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "rathaus_live";
/// Events a subscriber may fall behind before it is dropped.
pub const BUFFER: usize = 256;

/// One announced change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub tenant: i64,
    pub topic: String,
    /// The changed object, when the page can refresh just that one.
    pub id: Option<String>,
}

/// The process's hub: cheap to clone, one per `AppState`.
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Change>>,
    db: Db,
    listener: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Hub {
    pub fn new(db: Db) -> Self {
        Hub {
            tx: broadcast::channel(BUFFER).0,
            db,
            listener: Arc::new(Mutex::new(None)),
        }
    }

    /// Announces a change as part of `tx`: it is delivered only if `tx` commits.
    pub async fn publish(&self, tx: &mut Tx<'_>, topic: &str, id: Option<&str>) -> Result<()> {
        let change = Change {
            tenant: tx.tenant().0,
            topic: topic.to_string(),
            id: id.map(str::to_string),
        };
        match self.db.backend {
            Backend::Postgres => {
                let payload = serde_json::to_string(&change).map_err(Error::internal_from)?;
                tx.conn()
                    .execute_raw(Statement::from_sql_and_values(
                        sea_orm::DatabaseBackend::Postgres,
                        "SELECT pg_notify($1, $2)",
                        [CHANNEL.into(), payload.into()],
                    ))
                    .await?;
            }
            Backend::Sqlite => {
                let sender = self.tx.clone();
                tx.after_commit(move || {
                    // No subscriber is not an error.
                    let _ = sender.send(Arc::new(change));
                });
            }
        }
        Ok(())
    }

    /// Announces a change that is not part of a transaction (e.g. a job's progress).
    pub async fn publish_now(&self, tenant: TenantId, topic: &str, id: Option<&str>) -> Result<()> {
        let mut tx = Tx::begin(&self.db.conn, tenant, crate::uow::Actor::system("live")).await?;
        self.publish(&mut tx, topic, id).await?;
        tx.commit().await
    }

    /// A receiver of every change of this process (all tenants, all topics).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        let rx = self.tx.subscribe();
        if self.db.backend == Backend::Postgres {
            self.ensure_listener();
        }
        rx
    }

    /// Starts the `LISTEN` task unless one runs. It ends by itself when nobody subscribes.
    fn ensure_listener(&self) {
        let Ok(mut slot) = self.listener.lock() else {
            return;
        };
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let pool = self.db.conn.get_postgres_connection_pool().clone();
        let tx = self.tx.clone();
        *slot = Some(tokio::spawn(listen(pool, tx)));
    }
}

async fn listen(pool: sea_orm::sqlx::PgPool, tx: broadcast::Sender<Arc<Change>>) {
    use sea_orm::sqlx::postgres::PgListener;
    while tx.receiver_count() > 0 {
        let mut l = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "live updates: cannot listen, retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(e) = l.listen(CHANNEL).await {
            tracing::warn!(error = %e, "live updates: LISTEN failed, retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        loop {
            // Wake up now and then to notice that the last subscriber left.
            match tokio::time::timeout(Duration::from_secs(30), l.try_recv()).await {
                Err(_) if tx.receiver_count() == 0 => return,
                Err(_) => continue,
                Ok(Ok(Some(n))) => match serde_json::from_str::<Change>(n.payload()) {
                    Ok(c) => {
                        let _ = tx.send(Arc::new(c));
                    }
                    Err(e) => tracing::warn!(error = %e, "live updates: unreadable notification"),
                },
                // The connection was lost: notifications may have been missed, which the
                // pages survive (they refresh on the next change or reload).
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "live updates: connection lost, reconnecting");
                    break;
                }
            }
            if tx.receiver_count() == 0 {
                return;
            }
        }
    }
}
