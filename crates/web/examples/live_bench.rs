//! Live updates under load (issue 16): N browsers subscribed to one topic over server-sent
//! events; the server announces M changes (each in its own committed unit of work) and every
//! subscriber records when each arrived. Reports the delivery latency (commit → received)
//! over all N × M deliveries.
//!
//! `cargo run --release -p rathaus-web --example live_bench -- [subscribers] [events]`
//! (defaults 500 and 20; SQLite, or PostgreSQL with RATHAUS_TEST_DATABASE_URL).

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on a broken assumption

use rathaus_core::permissions::PermissionDef;
use rathaus_store::uow::{Actor, Tx};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture};
use rathaus_web::live::Topic;
use rathaus_web::{AppState, Module, WebConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOST: &str = "rathaus.a.test";

struct Board;

impl Module for Board {
    fn name(&self) -> &'static str {
        "board"
    }
    fn permissions(&self) -> &'static [PermissionDef] {
        &[]
    }
    fn live_topics(&self) -> &'static [Topic] {
        &[Topic {
            name: "board.cards",
            any_of: &[],
        }]
    }
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let subscribers = args.first().copied().unwrap_or(500);
    let events = args.get(1).copied().unwrap_or(20);
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    let backend = format!("{:?}", db.backend);
    let f = tenant_fixture(&db, "a", HOST).await;
    let st = AppState::with_modules(db.clone(), WebConfig::default(), vec![Arc::new(Board)]);
    let app = TestApp::spawn_state(tdb, st.clone()).await;
    let base = app.url(HOST, "");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(HOST, app.addr)
        .pool_max_idle_per_host(subscribers + 10)
        .build()
        .unwrap();
    login(&client, &base, &f.admin_email, PASSWORD).await;
    let rss_before = rss_kb();

    // Subscribe everyone; each task reports the arrival time of every event id.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let mut ready = vec![];
    for _ in 0..subscribers {
        let c = client.clone();
        let url = format!("{base}/live?topic=board.cards");
        let done = done_tx.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        ready.push(ready_rx);
        tokio::spawn(async move {
            let mut res = c.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let _ = ready_tx.send(());
            let mut buf = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    if let Some(id) = block
                        .lines()
                        .find_map(|l| l.strip_prefix("data:"))
                        .and_then(|d| d.trim().parse::<usize>().ok())
                    {
                        let _ = done.send((id, now));
                    }
                }
            }
        });
    }
    for r in ready {
        r.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_subscribed = rss_kb();

    let mut latencies = vec![];
    for id in 0..events {
        let sent = Instant::now();
        let mut tx = Tx::begin(&db.conn, f.tenant, Actor::system("bench"))
            .await
            .unwrap();
        st.live
            .publish(&mut tx, "board.cards", Some(&id.to_string()))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got < subscribers {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some((i, at))) if i == id => {
                    latencies.push(at.duration_since(sent));
                    got += 1;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        assert_eq!(
            got, subscribers,
            "event {id}: only {got} of {subscribers} arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    let q = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{backend}: {subscribers} subscribers × {events} events = {} deliveries; \
         latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         RSS {} MB before, {} MB with the subscribers",
        latencies.len(),
        q(0.50).as_secs_f64() * 1e3,
        q(0.95).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        rss_before / 1024,
        rss_subscribed / 1024,
    );
}
