//! The `rathaus` binary as an operator uses it: configuration errors, tenants, users, tokens,
//! audit verification, backup and restore, SIGTERM, and the demo. Every test gets its own data
//! dir; with RATHAUS_TEST_DATABASE_URL=postgres://… also its own, empty PostgreSQL database.

use rathaus_store::Db;
use rathaus_store::entity::audit_event;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rathaus");
const PASSWORD: &str = "tulpenbeet sommerregen";
/// Upper bound for a CLI command (migrations, password hashing); never reached when healthy.
const COMMAND_BOUND: Duration = Duration::from_secs(120);

/// One installation: a working directory (no rathaus.toml unless a test writes one), a data
/// dir inside it, and on PostgreSQL a fresh empty database.
struct Install {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
    database_url: Option<String>,
}

impl Install {
    async fn new() -> Install {
        let database_url = rathaus_testkit::empty_pg_database_url().await;
        Install::with(database_url)
    }

    /// Without a database of its own (for tests that never get past the configuration).
    fn bare() -> Install {
        Install::with(None)
    }

    fn with(database_url: Option<String>) -> Install {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        Install {
            dir,
            data_dir,
            database_url,
        }
    }

    fn is_pg(&self) -> bool {
        self.database_url.is_some()
    }

    /// The URL the binary uses (its default SQLite file, or the test's PostgreSQL database).
    fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| rathaus_store::db::default_sqlite_url(&self.data_dir))
    }

    fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_in(&self.data_dir, args)
    }

    fn cmd_in(&self, data_dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args).current_dir(self.dir.path());
        // Only what the test sets: nothing of the caller's RATHAUS_* environment.
        for (k, _) in std::env::vars() {
            if k.starts_with("RATHAUS_") {
                c.env_remove(k);
            }
        }
        c.env("RATHAUS_DATA_DIR", data_dir)
            .env("RATHAUS_LOG", "warn");
        if let Some(u) = &self.database_url {
            c.env("RATHAUS_DATABASE_URL", u);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        run(self.cmd(args), None)
    }

    /// Runs and insists on success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_ok(&out, args);
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    async fn db(&self) -> Db {
        Db::connect(&self.url()).await.expect("connect")
    }
}

fn assert_ok(out: &Output, what: &[&str]) {
    assert!(
        out.status.success(),
        "rathaus {} failed ({}):\nstdout: {}\nstderr: {}",
        what.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a command to its end, feeding `stdin`, within COMMAND_BOUND.
fn run(mut c: Command, stdin: Option<&str>) -> Output {
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn rathaus");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(COMMAND_BOUND) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("rathaus did not finish within {COMMAND_BOUND:?}");
        }
    }
}

/// A running `rathaus serve`; killed when dropped (also when a test panics).
struct Server {
    child: Child,
    /// Base URL without the trailing slash, from the `URL:` line.
    base: String,
    /// Every stdout line up to and including the ones the test waited for.
    lines: Vec<String>,
    stdout: mpsc::Receiver<String>,
    stderr_file: PathBuf,
}

impl Server {
    fn start(inst: &Install, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut c = inst.cmd(args);
        c.env("RATHAUS_LISTEN", "127.0.0.1:0");
        for (k, v) in env {
            c.env(k, v);
        }
        let stderr_file = inst
            .dir
            .path()
            .join(format!("serve-{}.log", rathaus_store::random_token(4)));
        let log = std::fs::File::create(&stderr_file).expect("log file");
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn rathaus serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Server {
            child,
            base: String::new(),
            lines: vec![],
            stdout: rx,
            stderr_file,
        };
        let url = s.wait_for_line("URL: ");
        s.base = url.trim_end_matches('/').to_string();
        s
    }

    /// Waits (bounded) for the next stdout line starting with `prefix`; returns the rest.
    fn wait_for_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + COMMAND_BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.lines.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Err(_) => panic!(
                    "rathaus serve printed no `{prefix}` line; stdout so far: {:?}; stderr: {}",
                    self.lines,
                    std::fs::read_to_string(&self.stderr_file).unwrap_or_default()
                ),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits up to 10 s for the process to end.
    fn terminate(&mut self) -> ExitStatus {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "rathaus serve did not stop within 10 s of SIGTERM; stderr: {}",
                std::fs::read_to_string(&self.stderr_file).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A tenant and an admin created through the CLI.
fn tenant_with_admin(inst: &Install) {
    inst.ok(&[
        "tenant",
        "add",
        "--slug",
        "musterhausen",
        "--name",
        "Gemeinde Musterhausen",
        "--host",
        "musterhausen.example",
    ]);
    let out = run(
        inst.cmd(&[
            "admin",
            "create-user",
            "--email",
            "hauptamt@musterhausen.example",
            "--name",
            "Hanna Hauptamt",
            "--role",
            "admin",
        ]),
        Some(&format!("{PASSWORD}\n")),
    );
    assert_ok(&out, &["admin", "create-user"]);
}

// ------------------------------------------------------------------ configuration

/// A configuration that must be refused at start-up.
struct BadConfig {
    what: &'static str,
    env: &'static [(&'static str, &'static str)],
    toml: Option<&'static str>,
    /// The setting the error line must name.
    names: &'static str,
}

#[test]
fn a_bad_configuration_value_stops_with_one_line_naming_the_setting() {
    let cases = [
        BadConfig {
            what: "listen",
            env: &[("RATHAUS_LISTEN", "nonsense")],
            toml: None,
            names: "listen",
        },
        BadConfig {
            what: "unknown key in rathaus.toml",
            env: &[],
            toml: Some("listen = \"127.0.0.1:0\"\nfrobnicate = 1\n"),
            names: "frobnicate",
        },
        BadConfig {
            what: "public_url",
            env: &[("RATHAUS_PUBLIC_URL", "ftp://x")],
            toml: None,
            names: "public_url",
        },
        BadConfig {
            what: "missing secret file",
            env: &[(
                "RATHAUS_SMTP_PASSWORD_FILE",
                "/nonexistent/rathaus-smtp-secret",
            )],
            toml: None,
            names: "smtp_password",
        },
    ];
    for BadConfig {
        what,
        env,
        toml,
        names,
    } in cases
    {
        let inst = Install::bare();
        if let Some(t) = toml {
            std::fs::write(inst.dir.path().join("rathaus.toml"), t).unwrap();
        }
        let mut c = inst.cmd(&["migrate"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = run(c, None);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: exit code; stderr: {err}"
        );
        assert_eq!(
            err.lines().count(),
            1,
            "{what}: exactly one line on stderr, got: {err}"
        );
        assert!(
            err.to_lowercase().contains(names),
            "{what}: the line names `{names}`: {err}"
        );
        assert!(out.stdout.is_empty(), "{what}: nothing on stdout");
        assert!(
            !inst.data_dir.exists(),
            "{what}: nothing was created before the configuration was checked"
        );
    }
}

#[tokio::test]
async fn a_secret_from_a_file_protects_the_metrics() {
    let inst = Install::new().await;
    let token_file = inst.dir.path().join("metrics-token");
    std::fs::write(&token_file, "geheimes-metrik-token-1234\n").unwrap();
    let token_path = token_file.to_str().unwrap();
    let srv = Server::start(
        &inst,
        &["serve"],
        &[("RATHAUS_METRICS_TOKEN_FILE", token_path)],
    );
    let c = client();
    assert_eq!(
        c.get(srv.url("/healthz")).send().await.unwrap().status(),
        200
    );
    // Behind a proxy (X-Forwarded-For) loopback is no proof: the token is needed.
    let proxied = |auth: Option<&str>| {
        let mut r = c
            .get(srv.url("/metrics"))
            .header("x-forwarded-for", "203.0.113.7");
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    assert_eq!(proxied(None).await.unwrap().status(), 403);
    assert_eq!(
        proxied(Some("Bearer falsches-token"))
            .await
            .unwrap()
            .status(),
        403
    );
    // The trailing newline of the file is not part of the secret.
    assert_eq!(
        proxied(Some("Bearer geheimes-metrik-token-1234\n".trim_end()))
            .await
            .unwrap()
            .status(),
        200
    );
    let body = proxied(Some("Bearer geheimes-metrik-token-1234"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("rathaus_http_requests"), "{body}");
    assert!(body.contains("route=\"/healthz\""), "{body}");
    assert!(body.contains("rathaus_db_pool_connections"), "{body}");
}

// ------------------------------------------------------------------ tenants, users, tokens

#[tokio::test]
async fn tenants_users_and_tokens_from_the_cli() {
    let inst = Install::new().await;
    let out = inst.ok(&[
        "tenant",
        "add",
        "--slug",
        "musterhausen",
        "--name",
        "Gemeinde Musterhausen",
        "--host",
        "musterhausen.example",
        "--host",
        "www.musterhausen.example",
    ]);
    assert!(out.contains("musterhausen"), "{out}");
    inst.ok(&[
        "tenant",
        "add",
        "--slug",
        "beispieldorf",
        "--name",
        "Gemeinde Beispieldorf",
        "--host",
        "beispieldorf.example",
    ]);
    let list = inst.ok(&["tenant", "list"]);
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{list}");
    let mh = rows
        .iter()
        .find(|r| r[1] == "musterhausen")
        .expect("musterhausen listed");
    assert_eq!(mh[2], "Gemeinde Musterhausen");
    let mut hosts: Vec<&str> = mh[3].split(',').collect();
    hosts.sort();
    assert_eq!(hosts, ["musterhausen.example", "www.musterhausen.example"]);
    assert!(rows.iter().any(|r| r[1] == "beispieldorf"));
    assert_eq!(
        inst.data_dir.join("rathaus.db").exists(),
        !inst.is_pg(),
        "the SQLite file is used only without RATHAUS_DATABASE_URL"
    );

    // A tenant with the same slug is refused, in German, and nothing changes.
    let out = inst.run(&["tenant", "add", "--slug", "musterhausen", "--name", "X"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("slug"), "{}", stderr(&out));
    assert_eq!(inst.ok(&["tenant", "list"]), list);

    let create_user = |email: &str, password: &str| {
        run(
            inst.cmd(&[
                "admin",
                "create-user",
                "--tenant",
                "musterhausen",
                "--email",
                email,
                "--name",
                "Hanna Hauptamt",
                "--role",
                "admin",
            ]),
            Some(&format!("{password}\n")),
        )
    };
    // A common password is refused with the German message and a failing exit code.
    let out = create_user("hauptamt@musterhausen.example", "password1");
    assert!(!out.status.success(), "common password accepted");
    let err = stderr(&out);
    assert!(
        err.contains("Dieses Passwort ist zu leicht zu erraten"),
        "{err}"
    );
    let out = inst.run(&[
        "admin",
        "create-token",
        "--tenant",
        "musterhausen",
        "--email",
        "hauptamt@musterhausen.example",
    ]);
    assert!(!out.status.success(), "the refused user must not exist");

    let out = create_user("hauptamt@musterhausen.example", PASSWORD);
    assert_ok(&out, &["admin", "create-user"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));

    let out = inst.ok(&[
        "admin",
        "create-token",
        "--tenant",
        "musterhausen",
        "--email",
        "hauptamt@musterhausen.example",
    ]);
    let token = out.lines().last().expect("token line").trim().to_string();
    assert!(token.len() >= 32, "token: {token:?}");

    let srv = Server::start(&inst, &["serve"], &[]);
    let port = srv.base.rsplit(':').next().unwrap().to_string();
    let http = reqwest::Client::builder()
        .resolve(
            "musterhausen.example",
            format!("127.0.0.1:{port}").parse().unwrap(),
        )
        .build()
        .unwrap();
    let me = format!("http://musterhausen.example:{port}/api/v1/me");
    let r = http.get(&me).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["email"], "hauptamt@musterhausen.example", "{body}");
    assert_eq!(body["tenant"]["slug"], "musterhausen", "{body}");
    assert_eq!(body["is_admin"], true, "{body}");
    let r = http.get(&me).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = http
        .get(&me)
        .bearer_auth(format!("{token}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a forged token is refused");
}

// ------------------------------------------------------------------ audit

#[tokio::test]
async fn audit_verify_passes_an_intact_chain_and_names_a_broken_event() {
    let inst = Install::new().await;
    tenant_with_admin(&inst);
    let out = inst.ok(&["audit", "verify"]);
    assert!(out.contains("intact"), "{out}");

    let db = inst.db().await;
    let res = audit_event::Entity::update_many()
        .col_expr(audit_event::Column::Details, Expr::value("{}"))
        .filter(audit_event::Column::Seq.eq(2))
        .exec(&db.conn)
        .await
        .unwrap();
    assert_eq!(res.rows_affected, 1);
    db.conn.close_by_ref().await.ok();

    let out = inst.run(&["audit", "verify"]);
    assert!(!out.status.success(), "a tampered chain must fail");
    let err = stderr(&out);
    assert!(err.contains("#2"), "names the altered event: {err}");
    assert!(err.contains("BROKEN"), "{err}");
}

/// `audit anchor` prints every tenant's head; `audit verify --anchor` compares a kept copy,
/// so a chain removed together with its head and anchors is found.
#[tokio::test]
async fn audit_anchor_is_printed_and_checked_by_verify() {
    use rathaus_store::entity::{audit_anchor, audit_head};
    let inst = Install::new().await;
    tenant_with_admin(&inst);
    let printed = inst.ok(&["audit", "anchor"]);
    assert!(printed.starts_with("# Rathaus audit anchor "), "{printed}");
    let lines: Vec<&str> = printed.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 1, "{printed}");
    let kept = inst.dir.path().join("anker.txt");
    std::fs::write(&kept, &printed).unwrap();
    let kept_s = kept.to_str().unwrap();
    assert!(
        inst.ok(&["audit", "verify", "--anchor", kept_s])
            .contains("intact")
    );

    // Remove the events, the anchors and reset the head: the database alone looks fine …
    let db = inst.db().await;
    audit_event::Entity::delete_many()
        .exec(&db.conn)
        .await
        .unwrap();
    audit_anchor::Entity::delete_many()
        .exec(&db.conn)
        .await
        .unwrap();
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastSeq, Expr::value(0))
        .col_expr(
            audit_head::Column::LastHash,
            Expr::value(rathaus_core::audit::GENESIS_HASH),
        )
        .exec(&db.conn)
        .await
        .unwrap();
    db.conn.close_by_ref().await.ok();
    assert!(inst.ok(&["audit", "verify"]).contains("intact"));
    // … the kept anchor is not fooled.
    let out = inst.run(&["audit", "verify", "--anchor", kept_s]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("were removed"), "{}", stderr(&out));
}

// ------------------------------------------------------------------ backup and restore

#[tokio::test]
async fn backup_while_serving_and_restore_into_an_empty_data_dir() {
    let inst = Install::new().await;
    tenant_with_admin(&inst);
    let backup = inst.dir.path().join("sicherung.tar.gz");
    let backup_s = backup.to_str().unwrap();

    if inst.is_pg() {
        let out = inst.run(&["backup", "--to", backup_s]);
        assert!(!out.status.success(), "backup on PostgreSQL must refuse");
        assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
        assert!(!backup.exists());
        let out = run(
            inst.cmd_in(
                &inst.dir.path().join("leer"),
                &["restore", "--from", backup_s],
            ),
            None,
        );
        assert!(!out.status.success(), "restore on PostgreSQL must refuse");
        assert!(stderr(&out).contains("PostgreSQL"), "{}", stderr(&out));
        return;
    }

    let stored = inst.data_dir.join("files/akten/2026");
    std::fs::create_dir_all(&stored).unwrap();
    let content: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(stored.join("Bescheid-Größe.pdf"), &content).unwrap();

    // The backup is taken while the server is running and answering.
    let srv = Server::start(&inst, &["serve"], &[]);
    let c = client();
    assert_eq!(
        c.get(srv.url("/readyz")).send().await.unwrap().status(),
        200
    );
    // A signed-in session exists when the backup is taken.
    let port = srv
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(
            "musterhausen.example",
            format!("127.0.0.1:{port}").parse().unwrap(),
        )
        .build()
        .unwrap();
    let r = rathaus_testkit::login(
        &browser,
        &format!("http://musterhausen.example:{port}"),
        "hauptamt@musterhausen.example",
        PASSWORD,
    )
    .await;
    assert_eq!(r.status(), 303);
    inst.ok(&["backup", "--to", backup_s]);
    assert!(backup.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "backup readable by its owner only");
    }
    assert_eq!(
        c.get(srv.url("/readyz")).send().await.unwrap().status(),
        200
    );
    let tenants_before = inst.ok(&["tenant", "list"]);
    let verified_before = inst.ok(&["audit", "verify"]);

    let restored = inst.dir.path().join("wiederhergestellt");
    let out = run(
        inst.cmd_in(&restored, &["restore", "--from", backup_s]),
        None,
    );
    assert_ok(&out, &["restore"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sessions ended: 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let kept = inst.dir.path().join("mit-sitzungen");
    let out = run(
        inst.cmd_in(&kept, &["restore", "--from", backup_s, "--keep-sessions"]),
        None,
    );
    assert_ok(&out, &["restore", "--keep-sessions"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("sessions ended: 0"));
    let tenants_after = run(inst.cmd_in(&restored, &["tenant", "list"]), None);
    assert_ok(&tenants_after, &["tenant", "list"]);
    assert_eq!(
        String::from_utf8(tenants_after.stdout).unwrap(),
        tenants_before
    );
    let verified_after = run(inst.cmd_in(&restored, &["audit", "verify"]), None);
    assert_ok(&verified_after, &["audit", "verify"]);
    assert_eq!(
        String::from_utf8(verified_after.stdout).unwrap(),
        verified_before,
        "same number of audit events"
    );
    assert_eq!(
        std::fs::read(restored.join("files/akten/2026/Bescheid-Größe.pdf")).unwrap(),
        content,
        "stored files come back byte for byte"
    );

    // Restoring over existing data is refused and leaves it alone.
    let db_file = inst.data_dir.join("rathaus.db");
    let len = std::fs::metadata(&db_file).unwrap().len();
    let out = inst.run(&["restore", "--from", backup_s]);
    assert!(
        !out.status.success(),
        "restore into a non-empty dir must refuse"
    );
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&db_file).unwrap().len(), len);
    drop(srv);
}

// ------------------------------------------------------------------ signals

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let inst = Install::new().await;
    let mut srv = Server::start(&inst, &["serve"], &[]);
    assert!(srv.base.starts_with("http://127.0.0.1:"), "{}", srv.base);
    assert_ne!(srv.base, "http://127.0.0.1:0", "the real port is printed");
    // The client keeps its keep-alive connection open across the shutdown.
    let c = client();
    let r = c.get(srv.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    let status = srv.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        c.get(srv.url("/healthz")).send().await.is_err(),
        "nothing listens any more"
    );
}

// ------------------------------------------------------------------ demo

async fn demo_login(base: &str, password: &str) -> reqwest::StatusCode {
    let c = client();
    let r = rathaus_testkit::login(&c, base, "admin@beispielstadt.example", password).await;
    let status = r.status();
    if status == 303 {
        assert_eq!(r.headers()["location"], "/staff");
        let page = c.get(format!("{base}/staff")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Anna Admin"));
    }
    status
}

#[tokio::test]
async fn serve_demo_prints_a_working_login_and_renews_it_at_each_start() {
    let inst = Install::new().await;
    let mut srv = Server::start(&inst, &["serve", "--demo"], &[]);
    let email = srv.wait_for_line("E-Mail: ");
    let first = srv.wait_for_line("Passwort: ");
    assert_eq!(email, "admin@beispielstadt.example");
    assert!(first.len() >= 16, "{first:?}");
    assert_eq!(demo_login(&srv.base, &first).await, 303);
    assert_eq!(demo_login(&srv.base, "falsch-falsch-falsch").await, 422);
    assert!(srv.terminate().success());

    let mut srv = Server::start(&inst, &["serve", "--demo"], &[]);
    let second = srv.wait_for_line("Passwort: ");
    assert_ne!(first, second, "a new password at each demo start");
    assert_eq!(demo_login(&srv.base, &second).await, 303);
    assert_eq!(
        demo_login(&srv.base, &first).await,
        422,
        "the old password is gone"
    );
    assert!(srv.terminate().success());
    // Still one demo tenant, not two.
    let list = inst.ok(&["tenant", "list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains("Gemeinde Beispielstadt"));
}

/// `rathaus routes` lists the route tables of the platform and the modules; `rathaus search
/// status` and `reindex` work on a fresh installation (the outbox table is migrated at start).
#[tokio::test]
async fn routes_and_search_commands() {
    let inst = Install::new().await;
    let out = inst.ok(&["routes", "--json"]);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (module, method, path, access) in [
        ("platform", "GET", "/admin/users", "permission"),
        ("booking", "GET", "/belegung", "public"),
        ("reports", "GET", "/maengel/verwaltung", "permission"),
        ("reports", "POST", "/open311/v2/{file}", "secret"),
    ] {
        assert!(
            rows.iter().any(|r| r["module"] == module
                && r["method"] == method
                && r["path"] == path
                && r["access"] == access),
            "{method} {path} ({module}, {access}) missing"
        );
    }
    let out = inst.ok(&["search", "status"]);
    assert!(out.contains("pending changes: 0"), "{out}");
    tenant_with_admin(&inst);
    let out = inst.ok(&["search", "reindex"]);
    assert!(out.contains("documents indexed"), "{out}");
    let out = inst.ok(&["search", "purge"]);
    assert!(out.contains("segments rewritten"), "{out}");
    let out = inst.ok(&["search", "status"]);
    assert!(out.contains("deleted documents not yet purged: 0"), "{out}");
    let out = inst.run(&["search", "reindex", "--kind", "gibt-es-nicht"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown search kind"),
        "{}",
        stderr(&out)
    );
}
