//! The due list of the disposal (issue 11): `--files` closed files (default 100,000) of one
//! tenant, written in bulk, retention ends spread over 1995–2044 (about 60 % due at the
//! reference date), access classes mixed (general 70 %, Wohngeld 20 %, dog tax 10 %), three
//! plan items (A, B, V). Then `service::disposal::due` — counts by plan item and disposition
//! plus the first page of 100, through the access filter — for an archivist who opens general
//! files only, for an admin who opens everything, and with the disposition and plan filters.
//!
//! cargo run --release -p rathaus-records --example records-disposal-bench -- \
//!     [--url sqlite:///tmp/records-disposal-bench.db?mode=rwc | postgres://…] [--files 100000]

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on a broken assumption

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use rathaus_records::Records;
use rathaus_records::domain::Disposition;
use rathaus_records::permissions::{DISPOSAL, VIEW};
use rathaus_records::service::disposal::{self, DueQuery};
use rathaus_records::service::plan::{self, PlanItemInput};
use rathaus_records::store::entity::file;
use rathaus_store::uow::Actor;
use rathaus_web::Module;
use sea_orm::{EntityTrait, Set};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let mut url = "sqlite:///tmp/records-disposal-bench.db?mode=rwc".to_string();
    let mut n_files = 100_000usize;
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--url" => url = v,
            "--files" => n_files = v.parse()?,
            _ => anyhow::bail!("unknown argument {k}"),
        }
    }
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Records)];
    let db = rathaus_testkit::bench_db(&url, &modules).await?;
    rathaus_core::permissions::register(rathaus_records::permissions::PERMISSIONS);
    let slug = format!("due{}", Utc::now().timestamp());
    let f = rathaus_testkit::tenant_fixture(&db, &slug, &format!("{slug}.test")).await;
    let t = f.tenant;
    let admin = rathaus_testkit::principal(&db, t, f.admin).await;
    let archivist = rathaus_testkit::user_with(
        &db,
        t,
        &format!("archiv@{slug}.example"),
        "Arne",
        &[VIEW, DISPOSAL],
    )
    .await;
    let mut plan_ids = vec![];
    for (code, disp) in [("022.31", "A"), ("632.1", "B"), ("936.1", "V")] {
        plan_ids.push(
            plan::create(
                &db.conn,
                Actor::User(&admin),
                t,
                &PlanItemInput {
                    code: code.into(),
                    title: format!("Aktenplaneinheit {code}"),
                    retention_years: "10".into(),
                    retention_start: "closing".into(),
                    disposition: disp.into(),
                },
            )
            .await?
            .id,
        );
    }
    let t0 = Instant::now();
    let now = Utc::now();
    let opened = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
    for chunk in (0..n_files).collect::<Vec<_>>().chunks(1000) {
        let rows = chunk.iter().map(|&i| {
            let access = match i % 10 {
                0..=6 => "general",
                7 | 8 => "wohngeld",
                _ => "dog",
            };
            let until = NaiveDate::from_ymd_opt(1995 + (i % 50) as i32, 12, 31).unwrap();
            file::ActiveModel {
                tenant_id: Set(t.0),
                plan_item_id: Set(plan_ids[i % 3]),
                parent_id: Set(None),
                sub_kind: Set(None),
                kind: Set(access.into()),
                access: Set(access.into()),
                title: Set(format!("Akte Nr. {i} – Vorgänge")),
                file_number: Set(format!("D-{i:07}")),
                subject_name: Set(None),
                subject_birth_date: Set(None),
                department_id: Set(None),
                state: Set("closed".into()),
                opened_on: Set(opened),
                closed_on: Set(Some(opened)),
                retention_start_on: Set(None),
                retention_until: Set(Some(until)),
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
    println!(
        "generated {n_files} closed files in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    if url.starts_with("postgres") {
        use sea_orm::ConnectionTrait;
        db.conn.execute_unprepared("ANALYZE records_files").await?;
    } else {
        use sea_orm::ConnectionTrait;
        db.conn.execute_unprepared("ANALYZE").await?;
    }

    let at = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let cases: [(
        &str,
        &rathaus_core::Principal,
        Option<Disposition>,
        Option<i64>,
    ); 4] = [
        ("archivist (general files only)", &archivist, None, None),
        ("admin (every class)", &admin, None, None),
        ("admin, disposition V", &admin, Some(Disposition::V), None),
        ("admin, one plan item", &admin, None, Some(plan_ids[0])),
    ];
    for (what, who, disposition, plan_item_id) in cases {
        let mut times = vec![];
        let mut total = 0;
        for i in 0..110 {
            let t1 = Instant::now();
            let list = disposal::due(
                &db.conn,
                Actor::User(who),
                t,
                &DueQuery {
                    at,
                    plan_item_id,
                    disposition,
                    limit: 100,
                    offset: 0,
                },
            )
            .await?;
            total = list.total;
            assert!(list.files.len() == 100);
            if i >= 10 {
                times.push(t1.elapsed());
            }
        }
        report(&format!("due list, {what}, {total} due"), times);
    }
    Ok(())
}
