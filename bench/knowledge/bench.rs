//! Knowledge benchmark (issue 14): 20,000 pages with 10 versions each, then the server time of
//! a page view (permission check, page, handbook, links, Markdown render and sanitize) and the
//! word diff of two versions of a 50 KB page, through the module's services.
//!
//! cargo run --release -p rathaus-knowledge --example knowledge-bench -- \
//!     [--url sqlite:///tmp/knowledge-bench.db?mode=rwc | postgres://…] [--pages 20000] [--versions 10]
//!
//! The data is written in bulk (insert_many, like a migration would), not through the save
//! use case: 200,000 audited transactions would measure the audit chain, not the reads.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on a broken assumption

use anyhow::Context;
use chrono::Utc;
use rathaus_knowledge::Knowledge;
use rathaus_knowledge::service::{self, HandbookInput};
use rathaus_knowledge::store::entity::{page, version};
use rathaus_store::uow::Actor;
use rathaus_web::Module;
use sea_orm::{EntityTrait, QueryOrder, QuerySelect, Set, TransactionTrait};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "Antrag",
    "Bescheid",
    "Frist",
    "Gemeinde",
    "Verwaltung",
    "Bürgerbüro",
    "Meldebestätigung",
    "Zuständigkeit",
    "Dienstanweisung",
    "Aktenzeichen",
    "Widerspruch",
    "Gebühr",
    "Satzung",
    "Ordnungsamt",
    "Bauhof",
    "Kämmerei",
    "Haushalt",
    "Vorlage",
    "Sitzung",
    "Protokoll",
    "prüfen",
    "erfassen",
    "weiterleiten",
    "genehmigen",
    "ablehnen",
    "der",
    "die",
    "das",
    "und",
    "mit",
    "für",
    "nach",
    "innerhalb",
    "von",
    "Tagen",
    "schriftlich",
    "elektronisch",
    "bitte",
];

/// A deterministic pseudo-random stream (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Markdown of about `bytes` bytes: headings every ~40 words, paragraphs, a list.
fn text(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 64);
    let mut n = 0;
    while s.len() < bytes {
        if n % 40 == 0 {
            s.push_str("\n\n## ");
            s.push_str(WORDS[rng.below(WORDS.len())]);
            s.push_str("\n\n");
        } else if n % 13 == 0 {
            s.push_str("\n- ");
        } else {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len())]);
        n += 1;
    }
    s
}

/// The same text with about one word in a hundred replaced.
fn edit(rng: &mut Rng, src: &str) -> String {
    src.split(' ')
        .map(|w| {
            if rng.below(100) == 0 && !w.contains('\n') {
                WORDS[rng.below(WORDS.len())]
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

fn report(what: &str, v: Vec<Duration>) {
    println!(
        "{what}: n={} p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        v.len(),
        pct(v.clone(), 0.5),
        pct(v.clone(), 0.95),
        pct(v.clone(), 0.99),
        pct(v, 1.0)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut url = "sqlite:///tmp/knowledge-bench.db?mode=rwc".to_string();
    let (mut pages, mut versions) = (20_000usize, 10i32);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--url" => url = v,
            "--pages" => pages = v.parse()?,
            "--versions" => versions = v.parse()?,
            _ => anyhow::bail!("unknown argument {k}"),
        }
    }
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Knowledge)];
    let db = rathaus_testkit::bench_db(&url, &modules).await?;
    rathaus_core::permissions::register(rathaus_knowledge::permissions::PERMISSIONS);
    let slug = format!("bench{}", Utc::now().timestamp());
    let f = rathaus_testkit::tenant_fixture(&db, &slug, &format!("{slug}.test")).await;
    let admin = rathaus_testkit::principal(&db, f.tenant, f.admin).await;
    let reader = rathaus_testkit::user_with(
        &db,
        f.tenant,
        &format!("leser@{slug}.example"),
        "Lea Leser",
        &[rathaus_knowledge::permissions::READ],
    )
    .await;
    let mut handbooks = vec![];
    for i in 0..20 {
        handbooks.push(
            service::create_handbook(
                &db.conn,
                Actor::User(&admin),
                HandbookInput {
                    title: format!("Handbuch {i}"),
                    description: String::new(),
                    department_id: None,
                    visibility: "all".into(),
                    role_ids: vec![],
                },
            )
            .await?
            .id,
        );
    }

    // Data: `pages` pages of 0.5–2 KB, each with `versions` versions; page ids come back in
    // insert order, so the first id is known after the first batch.
    let t0 = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let now = Utc::now();
    let mut first_id = None;
    let batch = 250;
    let mut done = 0;
    while done < pages {
        let n = batch.min(pages - done);
        let mut bodies: Vec<Vec<String>> = Vec::with_capacity(n);
        for _ in 0..n {
            let size = 500 + rng.below(1500);
            let mut v = vec![text(&mut rng, size)];
            for _ in 1..versions {
                let last = v.last().cloned().unwrap_or_default();
                v.push(edit(&mut rng, &last));
            }
            bodies.push(v);
        }
        let txn = db.conn.begin().await?;
        let rows = bodies.iter().enumerate().map(|(i, v)| page::ActiveModel {
            tenant_id: Set(f.tenant.0),
            handbook_id: Set(handbooks[(done + i) % handbooks.len()]),
            chapter_id: Set(None),
            title: Set(format!("Seite {}", done + i)),
            body: Set(v.last().cloned().unwrap_or_default()),
            version: Set(versions),
            major_version: Set(1),
            draft: Set(false),
            requires_confirmation: Set(false),
            owner_user_id: Set(Some(admin.user_id.0)),
            review_days: Set(Some(365)),
            reviewed_at: Set(None),
            reviewed_by: Set(None),
            deleted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            updated_by: Set(admin.name.clone()),
            ..Default::default()
        });
        page::Entity::insert_many(rows).exec(&txn).await?;
        let mut ids: Vec<i64> = page::Entity::find()
            .select_only()
            .column(page::Column::Id)
            .order_by_desc(page::Column::Id)
            .limit(n as u64)
            .into_tuple::<i64>()
            .all(&txn)
            .await?;
        ids.reverse();
        first_id.get_or_insert(ids[0]);
        let (admin_id, admin_name) = (admin.user_id.0, admin.name.as_str());
        let vrows = ids.iter().zip(&bodies).flat_map(|(id, v)| {
            v.iter()
                .enumerate()
                .map(move |(k, body)| version::ActiveModel {
                    tenant_id: Set(f.tenant.0),
                    page_id: Set(*id),
                    version: Set(k as i32 + 1),
                    title: Set(format!("Seite {id}")),
                    body: Set(body.clone()),
                    note: Set(String::new()),
                    major: Set(k == 0),
                    author_id: Set(Some(admin_id)),
                    author_name: Set(admin_name.to_string()),
                    created_at: Set(now),
                    ..Default::default()
                })
        });
        version::Entity::insert_many(vrows).exec(&txn).await?;
        txn.commit().await?;
        done += n;
        if done % 5000 == 0 {
            println!("{done} pages written ({:.0} s)", t0.elapsed().as_secs_f64());
        }
    }
    println!(
        "data: {pages} pages × {versions} versions in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let first = first_id.unwrap_or(1);

    // Page views: 2,000 random pages as a reader (permission, visibility, render), warm-up 100.
    let mut times = vec![];
    for i in 0..2100 {
        let id = first + rng.below(pages) as i64;
        let t = Instant::now();
        let v = service::page_view(&db.conn, Actor::User(&reader), id, "gelöscht").await?;
        let d = t.elapsed();
        assert!(!v.html.is_empty());
        if i >= 100 {
            times.push(d);
        }
    }
    report(
        "page view (service: checks, queries, Markdown render)",
        times,
    );

    // A 50 KB page with 10 versions, each changing about 1 % of the words.
    let mut v = vec![text(&mut rng, 50 * 1024)];
    for _ in 1..10 {
        let last = v.last().cloned().unwrap_or_default();
        v.push(edit(&mut rng, &last));
    }
    let big = service::create_page(
        &db.conn,
        Actor::User(&admin),
        service::PageInput {
            handbook_id: handbooks[0],
            title: "Große Seite".into(),
            body: v[0].clone(),
            ..Default::default()
        },
    )
    .await?;
    for (k, body) in v.iter().enumerate().skip(1) {
        service::save_page(
            &db.conn,
            Actor::User(&admin),
            big.id,
            service::SaveInput {
                base_version: k as i32,
                title: "Große Seite".into(),
                body: body.clone(),
                ..Default::default()
            },
        )
        .await?;
    }
    for (a, b, what) in [(9, 10, "neighbours"), (1, 10, "first and last")] {
        let mut times = vec![];
        let mut words = (0, 0);
        for i in 0..110 {
            let t = Instant::now();
            let (_, _, d) = service::diff(&db.conn, Actor::User(&reader), big.id, a, b).await?;
            if i >= 10 {
                times.push(t.elapsed());
            }
            words = (d.added, d.removed);
        }
        report(
            &format!(
                "diff of the 50 KB page, versions {a}/{b} ({what}; {} added, {} removed words)",
                words.0, words.1
            ),
            times,
        );
    }
    // Search: the pages indexed as `rathaus search reindex` does (in memory here), then 300
    // one-word queries of the module's search as the reader (20 warm-up).
    let mut index = rathaus_search::SearchService::in_memory()?;
    for src in Knowledge.search_sources() {
        index.register(src);
    }
    let t = Instant::now();
    let n = index.reindex(&db, Some(f.tenant), None, |_| {}).await?;
    println!(
        "search index: {n} pages in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let index = Arc::new(index);
    let mut times = vec![];
    let mut hits = 0usize;
    for i in 0..320 {
        let q = WORDS[rng.below(WORDS.len())];
        let t = Instant::now();
        let r =
            service::search::search(&db.conn, index.clone(), Actor::User(&reader), q, 20).await?;
        if i >= 20 {
            times.push(t.elapsed());
            hits += r.total;
        }
    }
    println!("search: on average {} hits per query", hits / 300);
    report("search (module search as a reader, one word)", times);

    let t = Instant::now();
    let v = service::page_view(&db.conn, Actor::User(&reader), big.id, "x").await?;
    println!(
        "page view of the 50 KB page: {:.2} ms ({} KB HTML)",
        t.elapsed().as_secs_f64() * 1000.0,
        v.html.len() / 1024
    );
    Ok(())
}
