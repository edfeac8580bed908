//! Search benchmark (issue #16): builds an index of generated German documents of one tenant
//! through `SearchService::reindex` (the same path as `rathaus search reindex`), half of them
//! hidden from the reader by the permission filter, then measures one- and two-word queries.
//!
//! cargo run --release -p rathaus-search --features bench --bin search-bench -- --docs 1000000
//!     [--dir DIR] [--queries 300] [--reuse]
//!
//! Prints build time, index size, peak RSS of the build (VmHWM), and p50/p95/max query times.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand::rngs::StdRng;
use rathaus_core::TenantId;
use rathaus_search::{Doc, DocField, DocKind, DocSource, SearchRequest, SearchService};
use rathaus_store::Db;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KIND: DocKind = DocKind {
    name: "records.file",
    fields: &[
        DocField::Title,
        DocField::Body,
        DocField::Tags,
        DocField::Date,
        DocField::Department,
    ],
};
const DEPARTMENTS: &[&str] = &[
    "Hauptamt",
    "Bauamt",
    "Ordnungsamt",
    "Sozialamt",
    "Kämmerei",
    "Standesamt",
    "Jugendamt",
    "Bürgerbüro",
];
const TENANT: TenantId = TenantId(1);
const READER: &str = "perm:records.read";
const HIDDEN: &str = "perm:records.restricted";

struct Vocabulary {
    words: Vec<String>,
    zipf: WeightedIndex<f64>,
}

impl Vocabulary {
    fn new() -> Vocabulary {
        let text = include_str!("words.txt");
        let (mut first, mut head, mut word) = (Vec::new(), Vec::new(), Vec::new());
        let mut section = "";
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                section = line;
                continue;
            }
            match section {
                "[first]" => first.push(line.to_string()),
                "[head]" => head.push(line.to_string()),
                _ => word.push(line.to_string()),
            }
        }
        let mut words = Vec::new();
        for f in &first {
            for h in &head {
                words.push(format!("{f}{}", h.to_lowercase()));
            }
        }
        for h in &head {
            words.push(h.clone());
            words.push(format!("{h}en"));
        }
        words.extend(word);
        let mut rng = StdRng::seed_from_u64(7);
        words.shuffle(&mut rng);
        // Zipf-like: the word of rank r is drawn with weight 1 / (r + 10).
        let zipf = WeightedIndex::new((0..words.len()).map(|r| 1.0 / (r as f64 + 10.0))).unwrap();
        Vocabulary { words, zipf }
    }

    fn sentence(&self, rng: &mut StdRng, n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(&self.words[self.zipf.sample(rng)]);
        }
        s
    }
}

/// Documents made up from their id alone: loading a batch allocates only the batch.
struct Generated {
    vocab: Vocabulary,
    docs: i64,
}

impl Generated {
    fn doc(&self, id: i64) -> Doc {
        let mut rng = StdRng::seed_from_u64(id as u64);
        let title_len = rng.gen_range(3..9);
        let body_len = rng.gen_range(30..120);
        Doc {
            id,
            tenant: TENANT,
            title: self.vocab.sentence(&mut rng, title_len),
            url: format!("/bench/{id}"),
            body: self.vocab.sentence(&mut rng, body_len),
            tags: vec![self.vocab.sentence(&mut rng, 1)],
            date: Some(
                Utc.timestamp_opt(rng.gen_range(1_420_070_400..1_767_225_600), 0)
                    .unwrap(),
            ),
            department: Some(DEPARTMENTS[rng.gen_range(0..DEPARTMENTS.len())].to_string()),
            visible_to: vec![if id % 2 == 0 { READER } else { HIDDEN }.to_string()],
        }
    }
}

#[async_trait]
impl DocSource for Generated {
    fn kind(&self) -> DocKind {
        KIND
    }
    async fn load_batch(
        &self,
        _db: &Db,
        tenant: TenantId,
        after_id: i64,
        n: u64,
    ) -> anyhow::Result<Vec<Doc>> {
        if tenant != TENANT {
            return Ok(vec![]);
        }
        let end = (after_id + n as i64).min(self.docs);
        Ok((after_id + 1..=end).map(|id| self.doc(id)).collect())
    }
    async fn load(&self, _db: &Db, _tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        Ok(ids.iter().map(|id| self.doc(*id)).collect())
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| {
                    let m = e.metadata().unwrap();
                    if m.is_dir() {
                        dir_size(&e.path())
                    } else {
                        m.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn proc_status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let docs: i64 = arg("--docs").map_or(1_000_000, |s| s.parse().unwrap());
    let queries: usize = arg("--queries").map_or(300, |s| s.parse().unwrap());
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "/tmp/rathaus-search-bench".into()));
    let reuse = std::env::args().any(|a| a == "--reuse");
    if !reuse {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir)?;
    // The service needs a database for the outbox; a partial reindex (one tenant) reads
    // nothing from it.
    let db = Db::connect(&rathaus_store::db::default_sqlite_url(&dir)).await?;
    db.migrate().await?;
    rathaus_search::migrate(&db).await?;

    let mut svc = SearchService::open(&rathaus_search::index_dir(&dir))?;
    let source = std::sync::Arc::new(Generated {
        vocab: Vocabulary::new(),
        docs,
    });
    println!("vocabulary: {} distinct words", source.vocab.words.len());
    svc.register(source.clone());
    if !reuse {
        let t = Instant::now();
        let last = std::cell::Cell::new(Instant::now());
        let n = svc
            .reindex(&db, Some(TENANT), None, |n| {
                if last.get().elapsed() > Duration::from_secs(30) {
                    last.set(Instant::now());
                    eprintln!(
                        "  {n} documents, {:.0} s, RSS {} (anon {}, file {})",
                        t.elapsed().as_secs_f64(),
                        proc_status("VmRSS:"),
                        proc_status("RssAnon:"),
                        proc_status("RssFile:")
                    );
                }
            })
            .await?;
        let indexed = t.elapsed();
        svc.wait_merges().await?;
        let build = t.elapsed();
        println!(
            "indexed and committed: {:.1} s; merges done: {:.1} s",
            indexed.as_secs_f64(),
            build.as_secs_f64()
        );
        println!("documents: {n}");
        println!(
            "build (reindex incl. generation): {:.1} s",
            build.as_secs_f64()
        );
        println!(
            "peak RSS of the build and merges (VmHWM): {}; now RSS {} (anon {}, file-backed {})",
            proc_status("VmHWM:"),
            proc_status("VmRSS:"),
            proc_status("RssAnon:"),
            proc_status("RssFile:")
        );
    }
    let st = svc.status(&db).await?;
    println!(
        "index size: {:.1} MB in {} segments",
        dir_size(&rathaus_search::index_dir(&dir)) as f64 / 1e6,
        st.segments
    );

    // Queries: words drawn by frequency (common and rare), one and two per query.
    let mut rng = StdRng::seed_from_u64(42);
    let reader = vec![READER.to_string()];
    let v = &source.vocab;
    let mut run = |words: usize| -> anyhow::Result<(Vec<Duration>, f64)> {
        let mut times = Vec::with_capacity(queries);
        let mut hits = 0usize;
        for i in 0..queries + 20 {
            let q: Vec<&str> = (0..words)
                .map(|_| {
                    // Half the queries from the 200 most frequent words, half from all.
                    let r = if i % 2 == 0 {
                        rng.gen_range(0..200)
                    } else {
                        rng.gen_range(0..v.words.len())
                    };
                    v.words[r].as_str()
                })
                .collect();
            let text = q.join(" ");
            let t = Instant::now();
            let res = svc.search(&SearchRequest {
                tenant: TENANT,
                reader: &reader,
                text: &text,
                kinds: &[],
                limit: 20,
                offset: 0,
            })?;
            let d = t.elapsed();
            if i >= 20 {
                times.push(d);
                hits += res.total;
            }
        }
        times.sort();
        Ok((times, hits as f64 / queries as f64))
    };
    for words in [1, 2] {
        let (times, avg_hits) = run(words)?;
        println!(
            "{words}-word queries ({queries}): p50 {}, p95 {}, max {}, mean hits {:.0}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(*times.last().unwrap()),
            avg_hits
        );
    }
    // The most frequent word: the most documents to count and facet.
    let top = &v.words[0];
    let t = Instant::now();
    let res = svc.search(&SearchRequest {
        tenant: TENANT,
        reader: &reader,
        text: top,
        kinds: &[],
        limit: 20,
        offset: 0,
    })?;
    println!(
        "most frequent word {top:?}: {} hits, {}",
        res.total,
        ms(t.elapsed())
    );
    println!("RSS after queries: {}", proc_status("VmRSS:"));
    Ok(())
}
