//! The job queue against a real database (SQLite, or PostgreSQL with RATHAUS_TEST_DATABASE_URL):
//! retries with back-off, failed jobs kept for the admin, restarts, concurrent workers.

use chrono::Utc;
use rathaus_core::{Error, TenantId};
use rathaus_store::entity::job;
use rathaus_store::jobs::{self, Handler, Job, Registry};
use rathaus_store::{Db, accounts};
use rathaus_testkit::{TestDb, tenant_fixture};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Fails the first `failures` runs of each job, then succeeds; counts runs per job id.
#[derive(Default)]
struct Flaky {
    failures: usize,
    runs: Mutex<HashMap<i64, Arc<AtomicUsize>>>,
}

impl Flaky {
    fn new(failures: usize) -> Arc<Self> {
        Arc::new(Flaky {
            failures,
            runs: Mutex::default(),
        })
    }
    fn runs_of(&self, id: i64) -> usize {
        self.runs
            .lock()
            .unwrap()
            .get(&id)
            .map(|c| c.load(Ordering::SeqCst))
            .unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl Handler for Flaky {
    async fn run(&self, _db: &Db, job: &Job) -> Result<(), String> {
        let counter = self.runs.lock().unwrap().entry(job.id).or_default().clone();
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        // Give the other worker a chance to run in between (concurrency test).
        tokio::task::yield_now().await;
        if n <= self.failures {
            Err(format!("Fehlversuch {n} für Auftrag {}", job.id))
        } else {
            Ok(())
        }
    }
}

async fn get(db: &Db, id: i64) -> Job {
    job::Entity::find_by_id(id)
        .one(&db.conn)
        .await
        .unwrap()
        .expect("job row")
}

/// Makes a re-queued job due now instead of waiting for its back-off.
async fn make_due(db: &Db, id: i64) {
    job::ActiveModel {
        id: Set(id),
        run_at: Set(Utc::now() - chrono::Duration::seconds(1)),
        ..Default::default()
    }
    .update(&db.conn)
    .await
    .unwrap();
}

async fn tenant(db: &Db) -> TenantId {
    tenant_fixture(db, "jobs", "jobs.test").await.tenant
}

#[tokio::test]
async fn a_failing_job_is_retried_with_back_off_and_completes_when_due() {
    let t = TestDb::new().await;
    let db = &t.db;
    let tid = tenant(db).await;
    let flaky = Flaky::new(2);
    let mut reg = Registry::default();
    reg.register("test.flaky", flaky.clone());

    let j = jobs::enqueue(&db.conn, tid, "test.flaky", json!({"n": 1}), 5)
        .await
        .unwrap();
    assert_eq!(j.status, jobs::QUEUED);
    assert_eq!(j.attempts, 0);

    for attempt in 1..=2 {
        let before = Utc::now();
        assert!(
            reg.run_one(db).await.unwrap(),
            "attempt {attempt} found the job"
        );
        let row = get(db, j.id).await;
        assert_eq!(
            row.status,
            jobs::QUEUED,
            "re-queued after attempt {attempt}"
        );
        assert_eq!(row.attempts, attempt);
        assert_eq!(
            row.last_error.as_deref(),
            Some(format!("Fehlversuch {attempt} für Auftrag {}", j.id).as_str())
        );
        assert!(row.finished_at.is_none());
        assert!(row.locked_until.is_none(), "the lease is released");
        // Back-off: not before now + backoff(attempt) (30 s, then 2 min).
        let earliest = before + jobs::backoff(attempt);
        assert!(
            row.run_at >= earliest,
            "run_at {} should be at least {earliest} after attempt {attempt}",
            row.run_at
        );
        // Not due yet: the worker finds nothing.
        assert!(!reg.run_one(db).await.unwrap(), "job is not due yet");
        assert_eq!(flaky.runs_of(j.id), attempt as usize);
        make_due(db, j.id).await;
    }

    assert!(reg.run_one(db).await.unwrap());
    let row = get(db, j.id).await;
    assert_eq!(row.status, jobs::DONE);
    assert_eq!(row.attempts, 3);
    assert!(row.finished_at.is_some());
    assert_eq!(flaky.runs_of(j.id), 3);
    assert!(
        !reg.run_one(db).await.unwrap(),
        "a done job is not run again"
    );
}

#[tokio::test]
async fn a_job_that_always_fails_ends_failed_is_listed_for_the_admin_and_can_be_retried() {
    let t = TestDb::new().await;
    let db = &t.db;
    let f = tenant_fixture(db, "jobs", "jobs.test").await;
    let always = Flaky::new(usize::MAX);
    let mut reg = Registry::default();
    reg.register("test.always", always.clone());
    let j = jobs::enqueue(&db.conn, f.tenant, "test.always", json!({}), 3)
        .await
        .unwrap();

    for attempt in 1..=3 {
        assert!(reg.run_one(db).await.unwrap());
        let row = get(db, j.id).await;
        assert_eq!(row.attempts, attempt);
        if attempt < 3 {
            assert_eq!(row.status, jobs::QUEUED);
            make_due(db, j.id).await;
        }
    }
    let row = get(db, j.id).await;
    assert_eq!(row.status, jobs::FAILED, "gives up after max_attempts");
    assert_eq!(
        row.last_error.as_deref(),
        Some(format!("Fehlversuch 3 für Auftrag {}", j.id).as_str()),
        "the last error is kept"
    );
    assert!(row.finished_at.is_some());
    make_due(db, j.id).await;
    assert!(
        !reg.run_one(db).await.unwrap(),
        "a failed job is not picked up again on its own"
    );
    assert_eq!(always.runs_of(j.id), 3);

    // The admin sees it; a clerk without admin.jobs does not.
    let admin = accounts::principal(&db.conn, f.tenant, f.admin)
        .await
        .unwrap()
        .unwrap();
    let clerk = accounts::principal(&db.conn, f.tenant, f.clerk)
        .await
        .unwrap()
        .unwrap();
    let failed = jobs::list(&db.conn, &admin, Some(jobs::FAILED))
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, j.id);
    assert!(failed[0].last_error.is_some());
    assert!(
        jobs::list(&db.conn, &admin, Some(jobs::QUEUED))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        jobs::list(&db.conn, &clerk, None).await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        jobs::retry(&db.conn, &clerk, j.id).await,
        Err(Error::Forbidden)
    ));

    // Another tenant's admin neither sees nor retries it.
    let other = tenant_fixture(db, "other", "other.test").await;
    let other_admin = accounts::principal(&db.conn, other.tenant, other.admin)
        .await
        .unwrap()
        .unwrap();
    assert!(
        jobs::list(&db.conn, &other_admin, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        jobs::retry(&db.conn, &other_admin, j.id).await,
        Err(Error::NotFound)
    ));

    // Retry puts it back into the queue, due now, with one more attempt allowed.
    jobs::retry(&db.conn, &admin, j.id).await.unwrap();
    let row = get(db, j.id).await;
    assert_eq!(row.status, jobs::QUEUED);
    assert!(row.run_at <= Utc::now());
    assert!(row.finished_at.is_none());
    let retried = rathaus_store::audit::list(
        &db.conn,
        &admin,
        &rathaus_store::audit::AuditFilter {
            action: Some("job.retried".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(retried.len(), 1, "the retry is audited");
    assert_eq!(
        retried[0].object_id.as_deref(),
        Some(j.id.to_string().as_str())
    );
    assert!(reg.run_one(db).await.unwrap(), "the retried job runs");
    assert_eq!(always.runs_of(j.id), 4);
    assert_eq!(get(db, j.id).await.status, jobs::FAILED);
}

#[tokio::test]
async fn jobs_survive_a_restart() {
    let t = TestDb::new().await;
    let tid = tenant(&t.db).await;
    let j = jobs::enqueue(&t.db.conn, tid, "test.restart", json!({"x": "ü"}), 3)
        .await
        .unwrap();
    // "Stop the server": close every connection of the pool.
    t.db.conn.clone().close().await.unwrap();
    assert!(jobs::claim(&t.db).await.is_err(), "the old pool is closed");

    let db = Db::connect(&t.url).await.unwrap();
    db.migrate().await.unwrap();
    let claimed = jobs::claim(&db)
        .await
        .unwrap()
        .expect("the job is still there");
    assert_eq!(claimed.id, j.id);
    assert_eq!(claimed.kind, "test.restart");
    assert_eq!(claimed.status, jobs::RUNNING);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&claimed.payload).unwrap(),
        json!({"x": "ü"})
    );
    assert!(claimed.locked_until.is_some_and(|l| l > Utc::now()));
    assert!(
        jobs::claim(&db).await.unwrap().is_none(),
        "a running job is not claimed twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_workers_never_run_the_same_job() {
    const N: usize = 20;
    let t = TestDb::new().await;
    let tid = tenant(&t.db).await;
    let mut ids = vec![];
    for i in 0..N {
        ids.push(
            jobs::enqueue(&t.db.conn, tid, "test.count", json!({"i": i}), 1)
                .await
                .unwrap()
                .id,
        );
    }
    let counter = Flaky::new(0);
    let mut reg = Registry::default();
    reg.register("test.count", counter.clone());

    // Two workers, each with its own connection pool, as two `serve` processes would have.
    let db_a = Db::connect(&t.url).await.unwrap();
    let db_b = Db::connect(&t.url).await.unwrap();
    async fn drain(reg: Registry, db: Db) -> usize {
        let mut done = 0;
        while reg.run_one(&db).await.expect("worker") {
            done += 1;
        }
        done
    }
    let (a, b) = tokio::join!(
        tokio::spawn(drain(reg.clone(), db_a)),
        tokio::spawn(drain(reg.clone(), db_b))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, N, "worker a ran {a}, worker b ran {b}");

    for id in &ids {
        assert_eq!(counter.runs_of(*id), 1, "job {id} ran exactly once");
        let row = get(&t.db, *id).await;
        assert_eq!(row.status, jobs::DONE);
        assert_eq!(row.attempts, 1);
    }
    let total: usize = counter
        .runs
        .lock()
        .unwrap()
        .values()
        .map(|c| c.load(Ordering::SeqCst))
        .sum();
    assert_eq!(total, N);
}
