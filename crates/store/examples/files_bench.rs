//! Put and get of a 20 MB file through the file service on the disk backend (SQLite), five
//! times each: time, throughput and how far the process's resident memory rises above where it
//! was before the operation (the peak, VmHWM, reset before each operation through
//! /proc/self/clear_refs). Streaming means the rise stays far below the file size.
//!
//! `cargo run --release -p rathaus-store --example files_bench [-- SIZE_MB]`

use bytes::Bytes;
use futures_util::StreamExt;
use rathaus_core::TenantId;
use rathaus_store::files::{FileStore, Limits, NewFile};
use rathaus_store::tenants::{self, NewTenant};
use rathaus_store::uow::Actor;
use rathaus_store::{Actor as AuditActor, Db};
use sha2::{Digest, Sha256};
use std::time::Instant;

const CHUNK: usize = 64 * 1024;

/// `size` pseudo-random bytes in chunks of 64 KiB, made while streaming (never all at once).
fn source(size: usize, seed: u64) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    futures_util::stream::unfold((0usize, seed | 1), move |(sent, mut x)| async move {
        if sent >= size {
            return None;
        }
        let n = CHUNK.min(size - sent);
        let mut buf = Vec::with_capacity(n);
        while buf.len() < n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf.extend_from_slice(&x.to_le_bytes());
        }
        buf.truncate(n);
        Some((Ok(Bytes::from(buf)), (sent + n, x)))
    })
}

/// A field of /proc/self/status in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux: `5` to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let size_mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let size = size_mb * 1_000_000;
    let dir = tempfile::tempdir()?;
    let db = Db::connect(&rathaus_store::db::default_sqlite_url(dir.path())).await?;
    db.migrate().await?;
    let t = tenants::create(
        &db.conn,
        &AuditActor::system("bench"),
        NewTenant {
            slug: "bench",
            name: "Bench",
            hosts: &["bench.example".to_string()],
        },
    )
    .await?;
    let tenant = TenantId(t.id);
    let files = FileStore::disk(dir.path())?;
    let by = Actor::system("bench");
    let limits = Limits {
        max_size: 1_000_000_000,
        quota: None,
    };
    let new = NewFile {
        module: "bench",
        kind: "file",
        original_name: "bench.bin",
    };

    // Warm-up (first use of the runtime's blocking pool, the database, the directories).
    let warm = files
        .put_stream(&db, tenant, by, new, limits, source(1_000_000, 99))
        .await?;
    let mut body = files.get(&db.conn, tenant, by, warm.id, None).await?.body;
    while body.next().await.transpose()?.is_some() {}

    println!(
        "file {size_mb} MB, disk backend, SQLite, {} runs; RSS before the runs {} KiB",
        5,
        status_kib("VmRSS:")
    );
    println!("run  op    seconds   MB/s   RSS rise at peak (KiB)");
    let (mut put_s, mut get_s, mut put_rise, mut get_rise) = (vec![], vec![], vec![], vec![]);
    for run in 1..=5u64 {
        let base = status_kib("VmRSS:");
        reset_peak();
        let t0 = Instant::now();
        let meta = files
            .put_stream(&db, tenant, by, new, limits, source(size, run))
            .await?;
        let secs = t0.elapsed().as_secs_f64();
        let rise = status_kib("VmHWM:").saturating_sub(base);
        assert_eq!(meta.size, size as u64);
        println!(
            "{run:>3}  put  {secs:>8.3} {:>7.1}   {rise}",
            size as f64 / 1e6 / secs
        );
        put_s.push(secs);
        put_rise.push(rise as f64);

        let base = status_kib("VmRSS:");
        reset_peak();
        let t0 = Instant::now();
        let mut body = files.get(&db.conn, tenant, by, meta.id, None).await?.body;
        let mut hash = Sha256::new();
        let mut got = 0usize;
        while let Some(chunk) = body.next().await.transpose()? {
            got += chunk.len();
            hash.update(&chunk);
        }
        let secs = t0.elapsed().as_secs_f64();
        let rise = status_kib("VmHWM:").saturating_sub(base);
        assert_eq!(got, size);
        assert_eq!(hex::encode(hash.finalize()), meta.sha256);
        println!(
            "{run:>3}  get  {secs:>8.3} {:>7.1}   {rise}",
            size as f64 / 1e6 / secs
        );
        get_s.push(secs);
        get_rise.push(rise as f64);
    }
    let (p, g) = (median(put_s), median(get_s));
    println!(
        "median put {p:.3} s ({:.0} MB/s), RSS rise {:.0} KiB; median get {g:.3} s ({:.0} MB/s), RSS rise {:.0} KiB; file {} KiB",
        size as f64 / 1e6 / p,
        median(put_rise),
        size as f64 / 1e6 / g,
        median(get_rise),
        size / 1024
    );
    Ok(())
}
