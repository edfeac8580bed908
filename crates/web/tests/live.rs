//! Live updates: a change announced inside a unit of work reaches the subscribers of its
//! tenant and topic over server-sent events only after the commit; other tenants, other
//! topics and rolled-back changes never arrive; subscribing needs the topic's permission;
//! on PostgreSQL a second process on the same database receives the change too.

use crate::common;

use common::{get, signed_in};
use rathaus_core::TenantId;
use rathaus_core::permissions::PermissionDef;
use rathaus_store::uow::{Actor, Tx};
use rathaus_testkit::{TestApp, TestDb, tenant_fixture};
use rathaus_web::live::Topic;
use rathaus_web::{AppState, Module, WebConfig};
use std::sync::Arc;
use std::time::Duration;

const HOST_A: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";
const READ: &str = "board.read";
const PERMS: &[PermissionDef] = &[PermissionDef {
    code: READ,
    label_key: "perm.board.read",
}];

struct Board;

impl Module for Board {
    fn name(&self) -> &'static str {
        "board"
    }
    fn permissions(&self) -> &'static [PermissionDef] {
        PERMS
    }
    fn live_topics(&self) -> &'static [Topic] {
        &[Topic {
            name: "board.cards",
            any_of: &[READ],
        }]
    }
}

fn state(db: &rathaus_store::Db) -> AppState {
    AppState::with_modules(db.clone(), WebConfig::default(), vec![Arc::new(Board)])
}

/// Reads server-sent events until one `change` event arrived (its data) or the time is up.
async fn next_change(
    res: &mut reqwest::Response,
    buf: &mut String,
    wait: Duration,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(i) = buf.find("event: change\n") {
            let rest = &buf[i..];
            if let Some(end) = rest.find("\n\n") {
                let block = rest[..end].to_string();
                buf.drain(..i + end + 2);
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.trim_start().to_string())
                    .unwrap_or_default();
                return Some(data);
            }
        }
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return None,
        }
    }
}

async fn publish(st: &AppState, tenant: TenantId, topic: &str, id: &str, commit: bool) {
    let mut tx = Tx::begin(&st.db.conn, tenant, Actor::system("test"))
        .await
        .unwrap();
    st.live.publish(&mut tx, topic, Some(id)).await.unwrap();
    if commit {
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn changes_reach_the_subscribers_of_their_tenant_and_topic_after_commit() {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let st = state(&db);
    let app = TestApp::spawn_state(tdb, st.clone()).await;
    let url = |path: &str| app.url(HOST_A, path);

    // Anonymous: to the login; a clerk without the permission: 403; unknown topic: 404.
    let anon = app.client(&[HOST_A]);
    let r = get(&anon, &url("/live?topic=board.cards")).await;
    assert_eq!(r.status(), 303);
    let clerk = signed_in(&app, HOST_A, &a.clerk_email).await;
    assert_eq!(
        get(&clerk, &url("/live?topic=board.cards")).await.status(),
        403
    );
    let admin = signed_in(&app, HOST_A, &a.admin_email).await;
    assert_eq!(
        get(&admin, &url("/live?topic=gibt.es.nicht"))
            .await
            .status(),
        404
    );

    // The admin of tenant A subscribes.
    let res = get(&admin, &url("/live?topic=board.cards")).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = res;
    let mut buf = String::new();
    // Give the subscription a moment to be registered (and the LISTEN to start).
    tokio::time::sleep(Duration::from_millis(300)).await;

    publish(&st, b.tenant, "board.cards", "fremd", true).await;
    publish(&st, a.tenant, "board.other", "anderes-thema", true).await;
    publish(&st, a.tenant, "board.cards", "zurueckgerollt", false).await;
    publish(&st, a.tenant, "board.cards", "karte-7", true).await;
    let got = next_change(&mut stream, &mut buf, Duration::from_secs(5)).await;
    assert_eq!(
        got.as_deref(),
        Some("karte-7"),
        "only the committed change of A's topic"
    );
    assert_eq!(
        next_change(&mut stream, &mut buf, Duration::from_millis(500)).await,
        None,
        "nothing else arrives"
    );
}

/// Two `serve` processes on one PostgreSQL database: a change committed by one reaches the
/// subscribers of the other (LISTEN/NOTIFY).
#[tokio::test]
async fn on_postgresql_changes_cross_processes() {
    let tdb = TestDb::new().await;
    if tdb.db.backend != rathaus_store::db::Backend::Postgres {
        eprintln!("SQLite: one process, nothing to cross");
        return;
    }
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let other_process = state(&rathaus_store::Db::connect(&tdb.url).await.unwrap());
    let st = state(&db);
    let app = TestApp::spawn_state(tdb, st).await;
    let admin = signed_in(&app, HOST_A, &a.admin_email).await;
    let res = get(&admin, &app.url(HOST_A, "/live?topic=board.cards")).await;
    assert_eq!(res.status(), 200);
    let mut stream = res;
    let mut buf = String::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    publish(
        &other_process,
        a.tenant,
        "board.cards",
        "aus-prozess-2",
        true,
    )
    .await;
    assert_eq!(
        next_change(&mut stream, &mut buf, Duration::from_secs(5))
            .await
            .as_deref(),
        Some("aus-prozess-2")
    );
}
