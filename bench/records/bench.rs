//! E-Akte benchmark (issue 11): `files` files with `docs` documents (German generated text as
//! extracted text), one general file with 1,000 documents, then through the module's
//! services: the permission-filtered search (a reader of general files only and a Wohngeld
//! clerk), the file page of the 1,000-document file, the filtered file list, and the query
//! behind a due list (files whose retention ended, by date).
//!
//! cargo run --release -p rathaus-records --example records-bench -- \
//!     [--url sqlite:///tmp/records-bench.db?mode=rwc | postgres://…] [--files 10000] [--docs 100000]
//!
//! The rows are written in bulk (insert_many, like a migration would), not through the upload
//! use case: that measures the file store and the audit chain, not the reads.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on a broken assumption

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use rathaus_extract::store::entity as text;
use rathaus_records::Records;
use rathaus_records::permissions::{MANAGE, VIEW, WOHNGELD};
use rathaus_records::service::files::{self, FileQuery};
use rathaus_records::service::plan::{self, PlanItemInput};
use rathaus_records::store::entity::{document, file, version};
use rathaus_store::entity::file as stored;
use rathaus_store::uow::{Actor, scoped};
use rathaus_web::Module;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "Antrag",
    "Bescheid",
    "Frist",
    "Gemeinde",
    "Verwaltung",
    "Mietzuschuss",
    "Wohngeld",
    "Haushalt",
    "Einkommen",
    "Miete",
    "Vermieter",
    "Widerspruch",
    "Gebühr",
    "Satzung",
    "Ordnungsamt",
    "Hundesteuer",
    "Steuermarke",
    "Sitzung",
    "Protokoll",
    "Beschluss",
    "Bauantrag",
    "Grundstück",
    "Flurstück",
    "Genehmigung",
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
    "Nachweis",
    "Bewilligung",
];

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

fn sentence(rng: &mut Rng, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[rng.below(WORDS.len())])
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
    let mut url = "sqlite:///tmp/records-bench.db?mode=rwc".to_string();
    let (mut n_files, mut n_docs) = (10_000usize, 100_000usize);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--url" => url = v,
            "--files" => n_files = v.parse()?,
            "--docs" => n_docs = v.parse()?,
            _ => anyhow::bail!("unknown argument {k}"),
        }
    }
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Records)];
    let db = rathaus_testkit::bench_db(&url, &modules).await?;
    rathaus_core::permissions::register(rathaus_records::permissions::PERMISSIONS);
    let slug = format!("bench{}", Utc::now().timestamp());
    let f = rathaus_testkit::tenant_fixture(&db, &slug, &format!("{slug}.test")).await;
    let t = f.tenant;
    let admin = rathaus_testkit::principal(&db, t, f.admin).await;
    let viewer =
        rathaus_testkit::user_with(&db, t, &format!("leser@{slug}.example"), "Lea", &[VIEW]).await;
    let clerk = rathaus_testkit::user_with(
        &db,
        t,
        &format!("wg@{slug}.example"),
        "Wanda",
        &[VIEW, MANAGE, WOHNGELD],
    )
    .await;
    let mut plan_ids = vec![];
    for (code, start) in [("022.31", "closing"), ("460.12", "approval_end")] {
        plan_ids.push(
            plan::create(
                &db.conn,
                Actor::User(&admin),
                t,
                &PlanItemInput {
                    code: code.into(),
                    title: code.into(),
                    retention_years: "10".into(),
                    retention_start: start.into(),
                    disposition: "B".into(),
                },
            )
            .await?
            .id,
        );
    }

    // Files: every third a Wohngeld file; half of them closed with a retention end.
    let t0 = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let now = Utc::now();
    let opened = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    for chunk in (0..n_files + 1).collect::<Vec<_>>().chunks(1000) {
        let rows = chunk.iter().map(|&i| {
            let wohngeld = i % 3 == 1 && i < n_files;
            let closed = i % 2 == 0 && i < n_files;
            let until = NaiveDate::from_ymd_opt(2020 + (i % 15) as i32, 12, 31).unwrap();
            file::ActiveModel {
                tenant_id: Set(t.0),
                plan_item_id: Set(plan_ids[usize::from(wohngeld)]),
                parent_id: Set(None),
                sub_kind: Set(None),
                kind: Set(if wohngeld { "wohngeld" } else { "general" }.into()),
                access: Set(if wohngeld { "wohngeld" } else { "general" }.into()),
                title: Set(format!("Akte {i}")),
                file_number: Set(format!("B-{i:07}")),
                subject_name: Set(Some(format!("Person {i}"))),
                subject_birth_date: Set(None),
                department_id: Set(None),
                state: Set(if closed { "closed" } else { "open" }.into()),
                opened_on: Set(opened),
                closed_on: Set(closed.then_some(opened)),
                retention_start_on: Set(None),
                retention_until: Set(closed.then_some(until)),
                application_on: Set(None),
                approval_end_on: Set(None),
                dog_name: Set(None),
                dog_breed: Set(None),
                dog_list_dog: Set(false),
                dog_tag: Set(None),
                dog_registered_on: Set(None),
                dog_deregistered_on: Set(None),
                dog_tax_class: Set(None),
                leaving_on: Set(None),
                created_at: Set(now),
                created_by: Set("bench".into()),
                ..Default::default()
            }
        });
        file::Entity::insert_many(rows).exec(&db.conn).await?;
    }
    let file_rows: Vec<(i64, String)> = scoped::<file::Entity>(t)
        .select_only()
        .column(file::Column::Id)
        .column(file::Column::Access)
        .order_by_asc(file::Column::Id)
        .into_tuple()
        .all(&db.conn)
        .await?;
    // The last file is the general one with 1,000 documents.
    let (big, _) = file_rows[n_files].clone();

    // Documents: stored-file rows, extracted texts, documents, versions.
    let total = n_docs + 1000;
    let mut done = 0;
    while done < total {
        let n = 1000.min(total - done);
        let refs_from = stored::Entity::find()
            .select_only()
            .column_as(stored::Column::Id.max(), "m")
            .into_tuple::<Option<i64>>()
            .one(&db.conn)
            .await?
            .flatten()
            .unwrap_or(0);
        stored::Entity::insert_many((0..n).map(|j| stored::ActiveModel {
            tenant_id: Set(t.0),
            sha256: Set(format!("{:064x}", done + j)),
            size: Set(400),
            media_type: Set("text/plain".into()),
            original_name: Set(format!("dok-{}.txt", done + j)),
            module: Set("records".into()),
            kind: Set("document".into()),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(&db.conn)
        .await?;
        let refs: Vec<i64> = stored::Entity::find()
            .select_only()
            .column(stored::Column::Id)
            .filter(stored::Column::Id.gt(refs_from))
            .order_by_asc(stored::Column::Id)
            .into_tuple()
            .all(&db.conn)
            .await?;
        let texts: Vec<String> = (0..n).map(|_| sentence(&mut rng, 60)).collect();
        text::Entity::insert_many(refs.iter().zip(&texts).map(|(r, s)| text::ActiveModel {
            tenant_id: Set(t.0),
            file_id: Set(*r),
            status: Set("ok".into()),
            method: Set(Some("text".into())),
            error: Set(None),
            text: Set(s.clone()),
            chars: Set(s.chars().count() as i64),
            extracted_at: Set(now),
            ..Default::default()
        }))
        .exec(&db.conn)
        .await?;
        let docs_from = document::Entity::find()
            .select_only()
            .column_as(document::Column::Id.max(), "m")
            .into_tuple::<Option<i64>>()
            .one(&db.conn)
            .await?
            .flatten()
            .unwrap_or(0);
        let owners: Vec<(i64, String)> = (0..n)
            .map(|j| {
                if done + j >= n_docs {
                    (big, "general".to_string())
                } else {
                    file_rows[(done + j) % n_files].clone()
                }
            })
            .collect();
        document::Entity::insert_many(refs.iter().zip(&owners).enumerate().map(
            |(j, (r, (fid, access)))| document::ActiveModel {
                tenant_id: Set(t.0),
                file_id: Set(*fid),
                case_id: Set(None),
                access: Set(access.clone()),
                title: Set(format!("{} {}", WORDS[(done + j) % WORDS.len()], done + j)),
                doc_date: Set(opened),
                direction: Set("incoming".into()),
                tags: Set(WORDS[(done + j * 7) % WORDS.len()].into()),
                current_version: Set(1),
                file_ref: Set(*r),
                created_at: Set(now),
                created_by: Set("bench".into()),
                ..Default::default()
            },
        ))
        .exec(&db.conn)
        .await?;
        let doc_ids: Vec<i64> = document::Entity::find()
            .select_only()
            .column(document::Column::Id)
            .filter(document::Column::Id.gt(docs_from))
            .order_by_asc(document::Column::Id)
            .into_tuple()
            .all(&db.conn)
            .await?;
        version::Entity::insert_many(doc_ids.iter().zip(&refs).map(|(d, r)| {
            version::ActiveModel {
                tenant_id: Set(t.0),
                document_id: Set(*d),
                version: Set(1),
                file_ref: Set(*r),
                name: Set("dok.txt".into()),
                size: Set(400),
                sha256: Set("0".repeat(64)),
                mime: Set("text/plain".into()),
                uploaded_by_id: Set(None),
                uploaded_by: Set("bench".into()),
                uploaded_at: Set(now),
                ..Default::default()
            }
        }))
        .exec(&db.conn)
        .await?;
        done += n;
    }
    println!(
        "data: {n_files} files + 1, {total} documents (with versions and extracted texts) in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    // PostgreSQL plans from statistics that autovacuum gathers after such a load; run it now
    // (a machine may have autovacuum off). SQLite keeps none, as in production.
    if db.db_backend() == sea_orm::DbBackend::Postgres {
        use sea_orm::ConnectionTrait;
        db.conn.execute_unprepared("ANALYZE").await?;
    }

    // Search index as `rathaus search reindex` builds it (in memory).
    let mut index = rathaus_search::SearchService::in_memory()?;
    for src in Records.search_sources() {
        index.register(src);
    }
    let t1 = Instant::now();
    let n = index.reindex(&db, Some(t), None, |_| {}).await?;
    println!(
        "search index: {n} documents in {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    let index = Arc::new(index);
    for (who, p) in [
        ("reader of general files", &viewer),
        ("Wohngeld clerk", &clerk),
    ] {
        let mut times = vec![];
        let mut hits = 0usize;
        for i in 0..320 {
            let q = WORDS[rng.below(WORDS.len())];
            let t2 = Instant::now();
            let r = rathaus_records::service::search::search(
                &db,
                index.clone(),
                Actor::User(p),
                t,
                q,
                20,
                0,
            )
            .await?;
            if i >= 20 {
                times.push(t2.elapsed());
                hits += r.total;
            }
        }
        println!("search ({who}): on average {} hits per query", hits / 300);
        report(
            &format!("search as {who} (one word, 20 hits, with total)"),
            times,
        );
    }

    // The file page of the file with 1,000 documents (a general file: no read audit).
    let mut times = vec![];
    for i in 0..55 {
        let t3 = Instant::now();
        let v = files::open(&db.conn, Actor::User(&viewer), t, big).await?;
        assert_eq!(v.documents.len(), 1000);
        if i >= 5 {
            times.push(t3.elapsed());
        }
    }
    report("file page data, 1,000 documents with versions", times);

    // The file list, filtered by kind and a text, with its total.
    let mut times = vec![];
    for i in 0..110 {
        let t4 = Instant::now();
        let (total, _) = files::list(
            &db.conn,
            Actor::User(&clerk),
            t,
            &FileQuery {
                kind: None,
                state: None,
                plan_item_id: None,
                q: format!("Person {}", 10 + i),
                page: 0,
            },
        )
        .await?;
        assert!(total >= 1);
        if i >= 10 {
            times.push(t4.elapsed());
        }
    }
    report("file list, text filter with total (clerk)", times);

    // The due list's query: files whose retention ended, oldest first, page of 100 + count.
    let mut times = vec![];
    let at = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    for i in 0..110 {
        let t5 = Instant::now();
        let q = scoped::<file::Entity>(t).filter(file::Column::RetentionUntil.lte(at));
        let count = q.clone().count(&db.conn).await?;
        let rows = q
            .order_by_asc(file::Column::RetentionUntil)
            .limit(100)
            .all(&db.conn)
            .await?;
        assert!(count > 0 && !rows.is_empty());
        if i >= 10 {
            times.push(t5.elapsed());
        }
    }
    report("due-list query (retention ended, count + first 100)", times);
    Ok(())
}
