//! `rathaus reports …` as an operator uses it (issue 3, items 2 and 14): Open311 API keys and
//! the street directory import. Each test has its own data dir; with
//! RATHAUS_TEST_DATABASE_URL=postgres://… also its own, empty PostgreSQL database.

use rathaus_core::TenantId;
use rathaus_store::Db;
use rathaus_store::tenants;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rathaus");
const COMMAND_BOUND: Duration = Duration::from_secs(120);

struct Install {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
    database_url: Option<String>,
}

impl Install {
    async fn new() -> Install {
        let database_url = rathaus_testkit::empty_pg_database_url().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        Install {
            dir,
            data_dir,
            database_url,
        }
    }

    fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| rathaus_store::db::default_sqlite_url(&self.data_dir))
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args).current_dir(self.dir.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("RATHAUS_") {
                c.env_remove(k);
            }
        }
        c.env("RATHAUS_DATA_DIR", &self.data_dir)
            .env("RATHAUS_LOG", "warn");
        if let Some(u) = &self.database_url {
            c.env("RATHAUS_DATABASE_URL", u);
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = c.spawn().expect("spawn rathaus");
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

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rathaus {} failed ({}):\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    fn tenant(&self, slug: &str) {
        self.ok(&[
            "tenant",
            "add",
            "--slug",
            slug,
            "--name",
            &format!("Gemeinde {slug}"),
            "--host",
            &format!("{slug}.example"),
        ]);
    }

    async fn db(&self) -> Db {
        Db::connect(&self.url()).await.expect("connect")
    }
}

async fn tenant_id(db: &Db, slug: &str) -> TenantId {
    TenantId(
        tenants::by_slug(&db.conn, slug)
            .await
            .unwrap()
            .expect("tenant")
            .id,
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn create_api_key_prints_the_key_as_the_last_line() {
    let inst = Install::new().await;
    inst.tenant("musterhausen");
    let out = inst.ok(&[
        "reports",
        "create-api-key",
        "--name",
        "Stadtportal-App",
        "--rate-limit",
        "120",
    ]);
    let key = out.lines().last().expect("a line").trim().to_string();
    assert!(key.starts_with("r311_"), "{out}");
    let db = inst.db().await;
    let tid = tenant_id(&db, "musterhausen").await;
    let k = rathaus_reports::service::keys::authenticate(&db.conn, tid, &key)
        .await
        .unwrap()
        .expect("the printed key works");
    assert_eq!(k.name, "Stadtportal-App");
    assert_eq!(k.rate_limit, 120);

    // Default rate limit.
    let out = inst.ok(&["reports", "create-api-key", "--name", "Zweite App"]);
    let key = out.lines().last().unwrap().trim().to_string();
    let k = rathaus_reports::service::keys::authenticate(&db.conn, tid, &key)
        .await
        .unwrap()
        .expect("key");
    assert_eq!(k.rate_limit, rathaus_reports::service::keys::DEFAULT_RATE);

    // A bad rate limit is refused in German; nothing is created.
    let out = inst.run(&[
        "reports",
        "create-api-key",
        "--name",
        "Dritte",
        "--rate-limit",
        "0",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Anfragen pro Minute"),
        "{}",
        stderr(&out)
    );

    // Several tenants: --tenant is required.
    inst.tenant("nachbarort");
    let out = inst.run(&["reports", "create-api-key", "--name", "X"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--tenant"), "{}", stderr(&out));
    let out = inst.ok(&[
        "reports",
        "create-api-key",
        "--name",
        "X",
        "--tenant",
        "nachbarort",
    ]);
    let key = out.lines().last().unwrap().trim().to_string();
    let other = tenant_id(&db, "nachbarort").await;
    assert!(
        rathaus_reports::service::keys::authenticate(&db.conn, other, &key)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        rathaus_reports::service::keys::authenticate(&db.conn, tid, &key)
            .await
            .unwrap()
            .is_none(),
        "a key belongs to one tenant"
    );
}

#[tokio::test]
async fn import_streets_is_all_or_nothing_with_german_line_errors() {
    let inst = Install::new().await;
    inst.tenant("musterhausen");
    let good = inst.dir.path().join("strassen.csv");
    std::fs::write(
        &good,
        "Straße;Hausnummer;PLZ;lat;lon\n\
         Marktstraße;10;58452;51.3962;7.1910\n\
         Marktstraße;12;58452;51.3964;7.1912\n\
         Bahnhofstraße;1;58452;51.3990;7.1950\n",
    )
    .unwrap();
    let out = inst.ok(&["reports", "import-streets", good.to_str().unwrap()]);
    assert!(
        out.lines()
            .last()
            .unwrap()
            .contains("3 Adressen importiert"),
        "{out}"
    );
    let db = inst.db().await;
    let tid = tenant_id(&db, "musterhausen").await;
    assert_eq!(
        rathaus_reports::service::directory::count(&db.conn, tid)
            .await
            .unwrap(),
        3
    );

    // One bad line: nothing imported, the line named in German, exit code not 0.
    let bad = inst.dir.path().join("kaputt.csv");
    std::fs::write(
        &bad,
        "Straße;Hausnummer;PLZ;lat;lon\n\
         Marktstraße;10;58452;51.3962;7.1910\n\
         Gartenweg;2;58452;abc;7.1910\n",
    )
    .unwrap();
    let out = inst.run(&["reports", "import-streets", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("Zeile 3"), "{err}");
    assert!(err.contains("Breite (lat) ist keine Zahl"), "{err}");
    assert!(err.contains("Nichts importiert"), "{err}");
    assert_eq!(
        rathaus_reports::service::directory::count(&db.conn, tid)
            .await
            .unwrap(),
        3,
        "the old directory stays"
    );

    // Many bad lines: at most 100 are listed.
    let mut many = String::from("Straße;Hausnummer;PLZ;lat;lon\n");
    for i in 0..150 {
        many.push_str(&format!("Weg {i};1;58452;x;7.19\n"));
    }
    let file = inst.dir.path().join("viele.csv");
    std::fs::write(&file, many).unwrap();
    let out = inst.run(&["reports", "import-streets", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.matches("Zeile ").count(), 100, "{err}");
    assert!(err.contains("50 weitere"), "{err}");

    // Not a CSV file.
    let pdf = inst.dir.path().join("strassen.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n").unwrap();
    let out = inst.run(&["reports", "import-streets", pdf.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("keine CSV-Datei"), "{}", stderr(&out));

    // A missing file.
    let out = inst.run(&["reports", "import-streets", "/nonexistent/strassen.csv"]);
    assert!(!out.status.success());
    assert_eq!(
        rathaus_reports::service::directory::count(&db.conn, tid)
            .await
            .unwrap(),
        3
    );
}
