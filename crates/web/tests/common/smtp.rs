//! A real SMTP server for tests (aiosmtpd as a child process, like crates/store/tests/mail.rs)
//! and the mail job run the way the worker runs it.
//!
//! The interpreter comes from RATHAUS_TEST_PYTHON (set by scripts/test to a venv with aiosmtpd);
//! without it target/test-venv/bin/python, then `python3` is tried.

use rathaus_store::jobs::Registry;
use rathaus_store::mail::{self, Sender, SmtpConfig, Tls};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const FROM: &str = "Gemeinde Test <rathaus@test.example>";

pub fn python() -> String {
    if let Ok(p) = std::env::var("RATHAUS_TEST_PYTHON") {
        return p;
    }
    let venv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/test-venv/bin/python"
    );
    if std::path::Path::new(venv).exists() {
        return venv.to_string();
    }
    "python3".into()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The SMTP server child process; killed when dropped, also when a test panics.
pub struct Smtpd {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(serde::Deserialize, Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The text part.
    pub body: String,
    pub content_type: String,
}

impl Smtpd {
    pub fn start() -> Smtpd {
        let py = python();
        let probe = Command::new(&py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            panic!(
                "the Python SMTP server aiosmtpd is not available to `{py}`. Run the tests with \
                 scripts/test (it creates target/test-venv with aiosmtpd and sets \
                 RATHAUS_TEST_PYTHON), or set RATHAUS_TEST_PYTHON to a Python that has aiosmtpd."
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let maildir = dir.path().join("maildir");
        let port = free_port();
        let child = Command::new(&py)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {py} -m aiosmtpd: {e}"));
        let mut s = Smtpd {
            child,
            port,
            maildir,
            _dir: dir,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return s;
            }
            if let Ok(Some(status)) = s.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = s.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("aiosmtpd exited early ({status}): {err}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not accept connections on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: Tls::None,
            username: None,
            password: None,
            from: FROM.into(),
        }
    }

    /// Every message received so far, decoded by Python's `email` package.
    pub fn messages(&self) -> Vec<Received> {
        const SCRIPT: &str = r#"
import email, email.policy, json, mailbox, os, sys
out = []
if os.path.isdir(sys.argv[1]):
    for msg in mailbox.Maildir(sys.argv[1], factory=None, create=False):
        m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
        body = m.get_body(preferencelist=("plain",))
        out.append({"from": str(m["From"]), "to": str(m["To"]), "subject": str(m["Subject"]),
                    "body": body.get_content() if body is not None else "",
                    "content_type": m.get_content_type()})
print(json.dumps(out))
"#;
        let out = Command::new(python())
            .args(["-c", SCRIPT])
            .arg(&self.maildir)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "reading the maildir failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json from python")
    }

    /// Runs every due job once with the mail sender configured for this server (what the
    /// worker of `rathaus serve` does); returns how many jobs ran.
    pub async fn run_mail_jobs(&self, db: &rathaus_store::Db) -> usize {
        let mut reg = Registry::default();
        reg.register(
            mail::JOB_KIND,
            std::sync::Arc::new(Sender::new(Some(&self.config())).expect("sender")),
        );
        let mut n = 0;
        while reg.run_one(db).await.expect("job run") {
            n += 1;
        }
        n
    }
}
