//! A real SMTP server for tests: aiosmtpd as a child process, writing every message into a
//! maildir, read back and decoded by Python's `email` package (an independent MIME parser, so
//! a test checks what a real mail client would show). Also runs the mail jobs the way the
//! worker of `rathaus serve` does.
//!
//! The interpreter comes from RATHAUS_TEST_PYTHON (set by scripts/test to a venv with
//! aiosmtpd); without it target/test-venv/bin/python of the workspace, then `python3`.

use rathaus_store::jobs::Registry;
use rathaus_store::mail::{self, Sender, SmtpConfig, Tls};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sender address of `Smtpd::config`.
pub const FROM: &str = "Gemeinde Beispielstadt <rathaus@beispielstadt.example>";

/// The workspace root (tests run with the crate's directory as the working directory).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The Python interpreter for the SMTP server and the decoding scripts: RATHAUS_TEST_PYTHON
/// (a relative path such as `target/test-venv/bin/python` also works from the workspace
/// root), else target/test-venv/bin/python of the workspace, else `python3`.
pub fn python() -> String {
    if let Ok(p) = std::env::var("RATHAUS_TEST_PYTHON")
        && !p.is_empty()
    {
        let path = Path::new(&p);
        if path.is_relative() && path.components().count() > 1 && !path.exists() {
            let from_root = workspace_root().join(path);
            if from_root.exists() {
                return from_root.to_string_lossy().into_owned();
            }
        }
        return p;
    }
    let venv = workspace_root().join("target/test-venv/bin/python");
    if venv.exists() {
        return venv.to_string_lossy().into_owned();
    }
    "python3".into()
}

/// Runs a Python script with `args` and returns its standard output; panics with the
/// script's error output when it fails.
pub fn run_python(script: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let py = python();
    let out = Command::new(&py)
        .args(["-c", script])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
    assert!(
        out.status.success(),
        "the Python script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A port on 127.0.0.1 that nothing listens on (at the moment of the call).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Plain SMTP without authentication to 127.0.0.1:`port`, sending as `FROM`.
pub fn config_for_port(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: Tls::None,
        username: None,
        password: None,
        from: FROM.into(),
    }
}

/// A message as a mail client shows it.
#[derive(serde::Deserialize, Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The text part (the whole content of a plain message).
    pub body: String,
    /// The top-level content type, e.g. `text/plain` or `multipart/mixed`.
    pub content_type: String,
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

impl Smtpd {
    /// Starts the server on a free port and waits until it accepts connections.
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
                 RATHAUS_TEST_PYTHON), or set RATHAUS_TEST_PYTHON to a Python that has aiosmtpd 1.4.6."
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

    /// The mail settings that send to this server.
    pub fn config(&self) -> SmtpConfig {
        config_for_port(self.port)
    }

    /// The maildir the server writes to (it may not exist before the first message).
    pub fn maildir(&self) -> &Path {
        &self.maildir
    }

    /// Every message received so far, in the order of arrival, decoded by Python's `email`
    /// package.
    pub fn messages(&self) -> Vec<Received> {
        const SCRIPT: &str = r#"
import email, email.policy, json, mailbox, os, sys
out = []
if os.path.isdir(sys.argv[1]):
    box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
    for key in sorted(box.keys(), key=lambda k: (box.get_message(k).get_date(), k)):
        m = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        body = m.get_body(preferencelist=("plain",))
        out.append({"from": str(m["From"]), "to": str(m["To"]), "subject": str(m["Subject"]),
                    "body": body.get_content() if body is not None else "",
                    "content_type": m.get_content_type()})
print(json.dumps(out))
"#;
        let out = run_python(SCRIPT, &[self.maildir.as_os_str()]);
        serde_json::from_slice(&out).expect("json from python")
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
