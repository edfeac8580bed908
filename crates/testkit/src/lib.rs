//! Test helpers shared by the integration tests of every crate.
//!
//! `RATHAUS_TEST_DATABASE_URL` selects the backend: unset means a SQLite file in a temp dir;
//! a `postgres://` URL (to any database on the server, e.g. `/postgres`) means a fresh
//! database per test, cloned from a template that is migrated once per test process.

pub mod s3;
pub mod smtp;

use rathaus_core::{TenantId, UserId};
use rathaus_store::accounts::{self, RoleInput, UserInput};
use rathaus_store::tenants::{self, NewTenant};
use rathaus_store::{Actor, Db};
use sea_orm::{ConnectionTrait, Database};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PASSWORD: &str = "tulpenbeet sommerregen";

pub struct TestDb {
    pub db: Db,
    pub url: String,
    /// Holds the SQLite file and serves as the data dir.
    pub dir: tempfile::TempDir,
}

pub fn pg_url() -> Option<String> {
    std::env::var("RATHAUS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static TEMPLATE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

fn with_db(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("RATHAUS_TEST_DATABASE_URL is not a URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

const TEMPLATE: &str = "rathaus_test_template";

async fn ensure_template(admin_url: &str) -> anyhow::Result<()> {
    TEMPLATE_READY
        .get_or_try_init(|| async {
            let admin = Database::connect(admin_url).await?;
            // One process at a time rebuilds the template; others wait on the lock.
            admin
                .execute_unprepared("SELECT pg_advisory_lock(727274)")
                .await?;
            let result = async {
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
                    .await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {TEMPLATE}"))
                    .await?;
                let t = Db::connect(&with_db(admin_url, TEMPLATE)).await?;
                t.migrate().await?;
                t.conn.close_by_ref().await?;
                anyhow::Ok(())
            }
            .await;
            admin
                .execute_unprepared("SELECT pg_advisory_unlock(727274)")
                .await?;
            admin.close_by_ref().await?;
            result
        })
        .await?;
    Ok(())
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match pg_url() {
            Some(admin_url) => {
                ensure_template(&admin_url)
                    .await
                    .expect("PostgreSQL template");
                let name = format!(
                    "rathaus_test_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst)
                );
                let admin = Database::connect(&admin_url).await.expect("connect admin");
                admin
                    .execute_unprepared("SELECT pg_advisory_lock(727274)")
                    .await
                    .expect("lock");
                let created = admin
                    .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
                    .await;
                admin
                    .execute_unprepared("SELECT pg_advisory_unlock(727274)")
                    .await
                    .expect("unlock");
                created.expect("create test database");
                admin.close_by_ref().await.ok();
                with_db(&admin_url, &name)
            }
            None => rathaus_store::db::default_sqlite_url(dir.path()),
        };
        let db = Db::connect(&url).await.expect("connect");
        db.migrate().await.expect("migrate");
        TestDb { db, url, dir }
    }

    /// A fresh database with the modules' tables too, and the app state over it (default
    /// configuration), for tests that call the modules' services and pages.
    pub async fn with_modules(
        modules: Vec<std::sync::Arc<dyn rathaus_web::Module>>,
    ) -> (TestDb, rathaus_web::AppState) {
        let tdb = TestDb::new().await;
        rathaus_web::module::migrate_all(&tdb.db, &modules)
            .await
            .expect("module migrations");
        let st = rathaus_web::AppState::with_modules(
            tdb.db.clone(),
            rathaus_web::WebConfig::default(),
            modules,
        );
        (tdb, st)
    }
}

/// For tests of the binary, which migrates on its own: a fresh, empty PostgreSQL database
/// (no migrations run) when `RATHAUS_TEST_DATABASE_URL` selects PostgreSQL, else None (the
/// binary then uses its default SQLite file in the data dir).
pub async fn empty_pg_database_url() -> Option<String> {
    let admin_url = pg_url()?;
    let name = format!(
        "rathaus_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = Database::connect(&admin_url).await.expect("connect admin");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close_by_ref().await.ok();
    Some(with_db(&admin_url, &name))
}

/// A tenant with an admin user and a user without permissions.
pub struct Fixture {
    pub tenant: TenantId,
    pub admin: UserId,
    pub admin_email: String,
    pub clerk: UserId,
    pub clerk_email: String,
}

/// A benchmark's database at `url`, migrated with `modules`. A SQLite file starts empty (the
/// file and its WAL are removed first); a PostgreSQL database is used as it is.
pub async fn bench_db(
    url: &str,
    modules: &[std::sync::Arc<dyn rathaus_web::Module>],
) -> anyhow::Result<Db> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
    {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let db = Db::connect(url).await?;
    rathaus_web::module::migrate_all(&db, modules).await?;
    Ok(db)
}

pub async fn tenant_fixture(db: &Db, slug: &str, host: &str) -> Fixture {
    let t = tenants::create(
        &db.conn,
        &Actor::system("test"),
        NewTenant {
            slug,
            name: &format!("Gemeinde {slug}"),
            hosts: &[host.to_string()],
        },
    )
    .await
    .expect("tenant");
    let tid = TenantId(t.id);
    let admin_role = accounts::role_by_name(&db.conn, tid, "admin")
        .await
        .expect("role")
        .expect("admin role");
    let clerk_role = accounts::create_role(
        &db.conn,
        tid,
        rathaus_store::uow::Actor::system("test"),
        RoleInput {
            name: "Sachbearbeitung",
            description: "",
            permissions: &[],
        },
    )
    .await
    .expect("clerk role");
    let admin_email = format!("admin@{slug}.example");
    let clerk_email = format!("clerk@{slug}.example");
    let admin = accounts::create_user(
        &db.conn,
        tid,
        rathaus_store::uow::Actor::system("test"),
        UserInput {
            email: &admin_email,
            name: "Anna Admin",
            password: PASSWORD,
            department_id: None,
            role_ids: &[admin_role.id],
            active: true,
        },
    )
    .await
    .expect("admin");
    let clerk = accounts::create_user(
        &db.conn,
        tid,
        rathaus_store::uow::Actor::system("test"),
        UserInput {
            email: &clerk_email,
            name: "Carl Clerk",
            password: PASSWORD,
            department_id: None,
            role_ids: &[clerk_role.id],
            active: true,
        },
    )
    .await
    .expect("clerk");
    Fixture {
        tenant: tid,
        admin: UserId(admin.id),
        admin_email,
        clerk: UserId(clerk.id),
        clerk_email,
    }
}

/// The principal of an active user (as a request of theirs would carry it).
pub async fn principal(db: &Db, tenant: TenantId, user: UserId) -> rathaus_core::Principal {
    accounts::principal(&db.conn, tenant, user)
        .await
        .expect("principal")
        .expect("active user")
}

/// A staff user named `name` holding exactly `perms` (through a role named like the address),
/// signed in with [`PASSWORD`].
pub async fn user_with(
    db: &Db,
    tenant: TenantId,
    email: &str,
    name: &str,
    perms: &[&str],
) -> rathaus_core::Principal {
    let permissions: Vec<String> = perms.iter().map(|p| p.to_string()).collect();
    let role = accounts::create_role(
        &db.conn,
        tenant,
        rathaus_store::uow::Actor::system("test"),
        RoleInput {
            name: email,
            description: "",
            permissions: &permissions,
        },
    )
    .await
    .expect("role");
    let u = accounts::create_user(
        &db.conn,
        tenant,
        rathaus_store::uow::Actor::system("test"),
        UserInput {
            email,
            name,
            password: PASSWORD,
            department_id: None,
            role_ids: &[role.id],
            active: true,
        },
    )
    .await
    .expect("user");
    principal(db, tenant, UserId(u.id)).await
}

/// A running app on 127.0.0.1:0.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub db: Db,
    pub tdb: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn spawn(tdb: TestDb, cfg: rathaus_web::WebConfig) -> TestApp {
        let st = rathaus_web::AppState::new(tdb.db.clone(), cfg);
        Self::spawn_state(tdb, st).await
    }

    /// Like `spawn`, with a prepared state (e.g. with modules mounted).
    pub async fn spawn_state(tdb: TestDb, st: rathaus_web::AppState) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = rathaus_web::serve(listener, st, async {
                let _ = rx.await;
            })
            .await;
        });
        TestApp {
            addr,
            db: tdb.db.clone(),
            tdb,
            shutdown: Some(tx),
        }
    }

    /// URL on this app for a given host name (tenants are chosen by the Host header; every
    /// name below resolves to 127.0.0.1 through the client's resolver override).
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// A client with its own cookie jar that sends every host name to this app.
    pub fn client(&self, hosts: &[&str]) -> reqwest::Client {
        let mut b = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none());
        for h in hosts {
            b = b.resolve(h, self.addr);
        }
        b.build().expect("client")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The `_csrf` value embedded in a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("page has no CSRF field");
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Logs in through the form; returns the final response after the redirect.
pub async fn login(
    c: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = c
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let csrf = csrf_of(&page);
    c.post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .expect("login post")
}

/// GETs `form_path` for a CSRF token and POSTs `fields` to `action`.
pub async fn post_form(
    c: &reqwest::Client,
    base: &str,
    form_path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = c
        .get(format!("{base}{form_path}"))
        .send()
        .await
        .expect("form page")
        .text()
        .await
        .expect("body");
    let csrf = csrf_of(&page);
    let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    c.post(format!("{base}{action}"))
        .form(&all)
        .send()
        .await
        .expect("post")
}

/// The tables of the database with a `tenant_id` column that are not in `registered` (the
/// `tenant_owned_tables()` of the platform and the modules): a table missing there cannot be
/// reached through the unit of work, so the isolation tests would not cover it.
pub async fn unregistered_tenant_tables(db: &Db, registered: &[&'static str]) -> Vec<String> {
    use sea_orm::Statement;
    let backend = db.conn.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT DISTINCT table_name::text AS name FROM information_schema.columns \
             WHERE column_name = 'tenant_id' AND table_schema = current_schema()"
        }
        _ => {
            "SELECT m.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name = 'tenant_id'"
        }
    };
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("schema query");
    let mut missing: Vec<String> = rows
        .into_iter()
        .filter_map(|r| r.try_get::<String>("", "name").ok())
        .filter(|n| !registered.contains(&n.as_str()))
        .collect();
    missing.sort();
    missing
}
