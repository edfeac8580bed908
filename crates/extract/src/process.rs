//! External programs with a deadline (killed on expiry) and an address-space cap.

use crate::limits::Limits;
use crate::outcome::{Fail, reason};
use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::time::Instant;

/// Where `program` is on the PATH.
pub(crate) fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Runs `program args` and returns its standard output (at most `max_out` bytes, else
/// `extract.err.too_long`). The process is killed when `deadline` passes or its output is too
/// long, and runs under `prlimit --as` (util-linux; the workspace forbids the `unsafe` a
/// `setrlimit` in `pre_exec` would need).
pub(crate) async fn run(
    program: &str,
    args: &[&OsStr],
    limits: &Limits,
    deadline: Instant,
    max_out: usize,
) -> Result<Vec<u8>, Fail> {
    let Some(exe) = find(program) else {
        return Err(Fail::new(reason::TOOL_MISSING, program.to_string()));
    };
    let mut cmd = match find("prlimit") {
        Some(prlimit) => {
            let mut c = Command::new(prlimit);
            c.arg(format!("--as={}", limits.memory_bytes))
                .arg("--core=0")
                .arg("--")
                .arg(&exe);
            c
        }
        None => {
            tracing::warn!("prlimit not found: {program} runs without a memory cap");
            Command::new(&exe)
        }
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Tesseract's OpenMP threads are slower than one thread on a shared 2-core server.
        .env("OMP_THREAD_LIMIT", "1")
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| Fail::new(reason::TOOL_MISSING, format!("{program}: {e}")))?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Fail::new(reason::CORRUPT, "no pipes"));
    };
    // Drained to the end (a full pipe would block the child), the first 4 KB kept.
    let err_task = tokio::spawn(async move {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let room = 4096usize.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        kept
    });
    let work = async {
        let mut out = Vec::new();
        let cap = u64::try_from(max_out).unwrap_or(u64::MAX).saturating_add(1);
        (&mut stdout)
            .take(cap)
            .read_to_end(&mut out)
            .await
            .map_err(|e| Fail::new(reason::CORRUPT, e.to_string()))?;
        if out.len() > max_out {
            return Err(Fail::new(
                reason::TOO_LONG,
                format!("{program}: output over {max_out} bytes"),
            ));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| Fail::new(reason::CORRUPT, e.to_string()))?;
        Ok((out, status))
    };
    let (out, status) = match tokio::time::timeout_at(deadline, work).await {
        Ok(Ok(r)) => r,
        Ok(Err(f)) => return Err(f),
        // Dropping `work` drops the child: kill_on_drop kills it.
        Err(_) => return Err(Fail::new(reason::TIMEOUT, format!("{program}: timed out"))),
    };
    let err = err_task.await.unwrap_or_default();
    let err = String::from_utf8_lossy(&err).trim().to_string();
    if status.success() {
        return Ok(out);
    }
    let lower = err.to_lowercase();
    // Under the address-space cap an allocation fails: C++ aborts (bad_alloc), C reports it.
    let oom = matches!(status.signal(), Some(6 | 9 | 11))
        || lower.contains("memory")
        || lower.contains("bad_alloc")
        || lower.contains("alloc")
        // The dynamic loader cannot even map the program's libraries.
        || lower.contains("map segment");
    let reason = if lower.contains("password") || lower.contains("encrypt") {
        reason::ENCRYPTED
    } else if oom {
        reason::MEMORY
    } else {
        reason::CORRUPT
    };
    Err(Fail::new(reason, format!("{program}: {status}: {err}")))
}
