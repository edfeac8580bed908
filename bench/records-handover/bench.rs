//! The 0503 hand-over of 1,000 files (issue 11: "streams to the client without holding the
//! ZIP in memory"). Each file gets one document of 200 KB (incompressible bytes) on the disk
//! file store through the module's upload use case; the files are closed with their
//! retention ended, offered (0501), appraised "archive" by a 0502, and the hand-over ZIP
//! (0503 message + documents) is read to the end like a client download, while the
//! process's resident memory is sampled.
//!
//! cargo run --release -p rathaus-records --example records-handover-bench -- \
//!     [--url sqlite:///tmp/records-handover.db?mode=rwc | postgres://…] [--files 1000] [--kb 200]

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on a broken assumption

use anyhow::Context;
use chrono::Utc;
use futures_util::StreamExt;
use rathaus_records::Records;
use rathaus_records::permissions::{DISPOSAL, MANAGE, VIEW};
use rathaus_records::service::disposal::offers;
use rathaus_records::service::documents::{self, DocumentInput};
use rathaus_records::service::files::{self, FileInput};
use rathaus_records::service::plan::{self, PlanItemInput};
use rathaus_store::files::{FileStore, FilesConfig, Limits};
use rathaus_store::uow::Actor;
use rathaus_web::Module;
use rathaus_xdomea::{self as x, Message};
use std::sync::Arc;
use std::time::Instant;

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Bytes that do not compress (the ZIP stores them as they are).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut url = "sqlite:///tmp/records-handover.db?mode=rwc".to_string();
    let (mut n_files, mut kb) = (1000usize, 200usize);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--url" => url = v,
            "--files" => n_files = v.parse()?,
            "--kb" => kb = v.parse()?,
            _ => anyhow::bail!("unknown argument {k}"),
        }
    }
    let store_dir = tempfile::tempdir()?;
    let store = Arc::new(FileStore::from_config(&FilesConfig::Disk {
        root: store_dir.path().to_path_buf(),
    })?);
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Records)];
    let db = rathaus_testkit::bench_db(&url, &modules).await?;
    rathaus_core::permissions::register(rathaus_records::permissions::PERMISSIONS);
    rathaus_records::register_texts();
    let slug = format!("handover{}", Utc::now().timestamp());
    let f = rathaus_testkit::tenant_fixture(&db, &slug, &format!("{slug}.test")).await;
    let t = f.tenant;
    let officer = rathaus_testkit::user_with(
        &db,
        t,
        &format!("archiv@{slug}.example"),
        "Arne Archiv",
        &[VIEW, MANAGE, DISPOSAL],
    )
    .await;
    let by = Actor::User(&officer);
    plan::create(
        &db.conn,
        Actor::system("bench"),
        t,
        &PlanItemInput {
            code: "022.31".into(),
            title: "Ratsangelegenheiten".into(),
            retention_years: "5".into(),
            retention_start: String::new(),
            disposition: "A".into(),
        },
    )
    .await?;

    let t0 = Instant::now();
    let limits = Limits {
        max_size: 25_000_000,
        quota: None,
    };
    let mut ids = Vec::with_capacity(n_files);
    for i in 0..n_files {
        let id = files::create(
            &db.conn,
            by,
            t,
            &FileInput {
                plan_code: "022.31".into(),
                title: format!("Sitzung des Gemeinderats Nr. {i} – Straßenbenennung"),
                kind: "general".into(),
                opened_on: "1999-02-01".into(),
                ..Default::default()
            },
        )
        .await?
        .id;
        let body = bytes::Bytes::from(noise(i as u64 + 7, kb * 1024));
        documents::add(
            &db,
            &store,
            by,
            t,
            id,
            &DocumentInput {
                title: format!("Niederschrift {i}"),
                ..Default::default()
            },
            limits,
            &format!("niederschrift-{i:04}.pdf"),
            futures_util::stream::iter([Ok::<_, std::io::Error>(body)]),
        )
        .await?;
        files::close(&db.conn, by, t, id, "2001-06-30").await?;
        ids.push(id);
    }
    println!(
        "data: {n_files} closed files with one {kb} KB document each, in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let offer = offers::create(&db.conn, by, t, &ids).await?;
    let pid = x::ProcessId(offer.parse()?);
    let appraisal = x::Appraisal {
        header: x::Header {
            process_id: pid,
            created_at: Utc::now(),
            sender: x::Party {
                name: "Landesarchiv".into(),
                ..Default::default()
            },
            recipient: x::Party {
                name: "Gemeinde".into(),
                ..Default::default()
            },
        },
        request_receipt: true,
        decisions: ids
            .iter()
            .map(|id| x::Decision {
                id: x::ObjectId::derived(pid.0, x::ObjectKind::File, *id),
                disposition: x::Disposition::A,
            })
            .collect(),
    }
    .to_xml()?;
    offers::appraise(&db.conn, &store, by, t, &offer, appraisal.as_bytes()).await?;

    // The download: read every chunk as a client would, sampling the resident memory.
    let before = rss_mb();
    let t1 = Instant::now();
    let mut s = offers::handover(&db.conn, store.clone(), by, t, &offer, "Landesarchiv").await?;
    let (mut bytes, mut chunks, mut peak) = (0u64, 0u64, before);
    while let Some(c) = s.body.next().await {
        bytes += c?.len() as u64;
        chunks += 1;
        if chunks % 16 == 0 {
            peak = peak.max(rss_mb());
        }
    }
    let secs = t1.elapsed().as_secs_f64();
    peak = peak.max(rss_mb());
    println!(
        "hand-over: {n_files} files, ZIP {:.1} MB in {secs:.1} s ({:.0} MB/s), {chunks} chunks",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
    println!(
        "resident memory: {before:.0} MB before, peak {peak:.0} MB while streaming (+{:.0} MB for a {:.0} MB ZIP)",
        peak - before,
        bytes as f64 / 1e6
    );
    Ok(())
}
