//! Issue 13's speed and size targets, in one process against the real app on loopback
//! (SQLite in a temp dir, or PostgreSQL with RATHAUS_TEST_DATABASE_URL): 2,000 measures over
//! 6 phases and 10 departments, 20 users; then
//!   - moves through the API (random card, random phase, before a random card or at the end):
//!     p50/p95/max, and the same through the service alone;
//!   - the board page GET /programm: server time (p50/p95) and size;
//!   - 50 open boards (event streams) hearing of one move: time until the last has it;
//!   - the agenda of a meeting after 300 changes.
//!
//! Run: bench/programme.sh (release build), or
//! `cargo run --release -p rathaus-programme --example programme_bench [MEASURES] [MOVES]`.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on a broken assumption

use rand::Rng;
use rathaus_programme::Programme;
use rathaus_programme::service::measures::{self, MeasureInput};
use rathaus_programme::service::moves::{self, MoveInput};
use rathaus_programme::service::{self, meetings};
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture, user_with};
use rathaus_web::{AppState, Module, WebConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOST: &str = "rathaus.bench.test";
const DEPARTMENTS: &[&str] = &[
    "Hauptamt",
    "Kaemmerei",
    "Ordnungsamt",
    "Bauamt",
    "Bauhof",
    "Sozialamt",
    "Jugendamt",
    "Schulamt",
    "Kultur",
    "Umweltamt",
];

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let n_moves: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let backend = if rathaus_testkit::pg_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    rathaus_core::permissions::register(rathaus_programme::permissions::PERMISSIONS);
    let tdb = TestDb::new().await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Programme)];
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    let db = tdb.db.clone();
    let f = tenant_fixture(&db, "bench", HOST).await;
    let admin = rathaus_testkit::principal(&db, f.tenant, f.admin).await;
    let mut users = vec![admin.clone()];
    for i in 0..19 {
        users.push(
            user_with(
                &db,
                f.tenant,
                &format!("lotse{i}@bench.example"),
                &format!("Lotse {i}"),
                &["programme.read", "programme.edit"],
            )
            .await,
        );
    }
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules);
    let conn = &db.conn;
    let by = Actor::User(&admin);
    let phases = service::phases(conn, by, f.tenant).await.unwrap();
    // Limits far above the load: every move into a limited phase still counts its cards.
    for ph in &phases {
        service::update_phase(conn, by, f.tenant, ph.id, "", "10000", false)
            .await
            .unwrap();
    }
    let t0 = Instant::now();
    let mut rng = rand::thread_rng();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let u = &users[i % users.len()];
        let inp = MeasureInput {
            title: format!(
                "Massnahme {i}: Digitalisierung von Vorgang {}",
                i * 7 % 1000
            ),
            department: DEPARTMENTS[i % DEPARTMENTS.len()].to_string(),
            benefit: rng.gen_range(1..=5).to_string(),
            effort: rng.gen_range(1..=5).to_string(),
            responsible_id: u.user_id.0.to_string(),
            due: format!("2027-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
            ..Default::default()
        };
        let (m, _) = measures::create(conn, None, by, f.tenant, &inp)
            .await
            .unwrap();
        let ph = &phases[i % phases.len()];
        if ph.id != m.phase_id {
            let mv = MoveInput {
                phase: ph.key.clone(),
                before_id: None,
                version: None,
            };
            moves::move_card(conn, None, by, f.tenant, m.id, &mv)
                .await
                .unwrap();
        }
        ids.push(m.id);
    }
    println!(
        "{backend}: {n} measures, {} phases, {} departments, {} users written in {:.1} s",
        phases.len(),
        DEPARTMENTS.len(),
        users.len(),
        t0.elapsed().as_secs_f64()
    );
    let since = chrono::Utc::now();

    let token = rathaus_store::tokens::create(
        conn,
        f.tenant,
        admin.user_id,
        Actor::system("bench"),
        "bench",
    )
    .await
    .unwrap()
    .0;
    let app = TestApp::spawn_state(tdb, st.clone()).await;
    let c = app.client(&[HOST]);
    let base = app.url(HOST, "");

    // Moves through the API.
    let mut times = Vec::with_capacity(n_moves);
    let mut refused = 0;
    for _ in 0..n_moves {
        let id = ids[rng.gen_range(0..ids.len())];
        let ph = &phases[rng.gen_range(0..phases.len())];
        let before = if rng.gen_bool(0.7) {
            Some(ids[rng.gen_range(0..ids.len())])
        } else {
            None
        };
        let cards = measures::cards(
            conn,
            by,
            f.tenant,
            &measures::Filter {
                phase_id: Some(ph.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let before = before
            .and_then(|_| {
                cards
                    .get(rng.gen_range(0..cards.len().max(1)))
                    .map(|c| c.id)
            })
            .filter(|b| *b != id);
        let body = serde_json::json!({ "phase": ph.key, "before_id": before });
        let t = Instant::now();
        let r = c
            .post(format!("{base}/api/v1/programme/measures/{id}/move"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let _ = r.bytes().await.unwrap();
        times.push(t.elapsed());
        if status != 200 {
            refused += 1;
        }
    }
    println!(
        "API move: p50 {}, p95 {}, max {} ({n_moves} moves, {refused} not 200)",
        ms(pct(times.clone(), 0.5)),
        ms(pct(times.clone(), 0.95)),
        ms(pct(times, 1.0))
    );

    // The same through the service alone.
    let mut times = Vec::with_capacity(n_moves);
    for _ in 0..n_moves {
        let id = ids[rng.gen_range(0..ids.len())];
        let ph = &phases[rng.gen_range(0..phases.len())];
        let mv = MoveInput {
            phase: ph.key.clone(),
            before_id: None,
            version: None,
        };
        let t = Instant::now();
        moves::move_card(conn, Some(&st.live), by, f.tenant, id, &mv)
            .await
            .unwrap();
        times.push(t.elapsed());
    }
    println!(
        "service move: p50 {}, p95 {}",
        ms(pct(times.clone(), 0.5)),
        ms(pct(times, 0.95))
    );

    // The board page.
    login(&c, &base, &f.admin_email, PASSWORD).await;
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let r = c.get(format!("{base}/programm")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body = r.bytes().await.unwrap();
        times.push(t.elapsed());
        size = body.len();
        let html = String::from_utf8_lossy(&body);
        assert!(
            html.matches("class=\"prog-card\"").count() == n,
            "every card on the board"
        );
    }
    println!(
        "board page: p50 {}, p95 {}, {:.0} KB of HTML ({} cards)",
        ms(pct(times.clone(), 0.5)),
        ms(pct(times, 0.95)),
        size as f64 / 1024.0,
        n
    );
    // 50 open boards hear of one move.
    let mut streams = Vec::new();
    for _ in 0..50 {
        let r = c
            .get(format!("{base}/live?topic=programme.board"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = ids[0];
    let t = Instant::now();
    let r = c
        .post(format!("{base}/api/v1/programme/measures/{id}/move"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"phase": "geplant"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let waits = streams.into_iter().map(|mut s| {
        tokio::spawn(async move {
            let mut buf = String::new();
            while !buf.contains("event: change") {
                match tokio::time::timeout(Duration::from_secs(5), s.chunk()).await {
                    Ok(Ok(Some(ch))) => buf.push_str(&String::from_utf8_lossy(&ch)),
                    _ => return false,
                }
            }
            true
        })
    });
    let mut got = 0;
    for w in waits {
        if w.await.unwrap() {
            got += 1;
        }
    }
    println!(
        "50 open boards: {got} heard the move, the last after {}",
        ms(t.elapsed())
    );

    // The agenda after the moves above (over 300 changes).
    let t = Instant::now();
    let items = meetings::agenda(
        conn,
        f.tenant,
        since,
        chrono::NaiveDate::from_ymd_opt(2027, 6, 1).unwrap(),
    )
    .await
    .unwrap();
    println!("agenda: {} items in {}", items.len(), ms(t.elapsed()));
}
