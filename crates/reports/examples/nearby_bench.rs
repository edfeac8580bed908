//! Times the nearby-duplicate lookup (`service::nearby`, issue 3: at most 5 ms at 1M reports)
//! on a database made by `reports_gen`: random points (half near the generated hot spots, as
//! citizens report where others do, half anywhere in the town), a random category each, the
//! tenant's duplicate radius, the five nearest. Prints median, p95, p99 and max.
//!
//!   cargo run --release -p rathaus-reports --example nearby_bench -- \
//!       --database-url sqlite:///tmp/x/rathaus.db [--tenant-slug bench] [--runs 5000]

#![allow(clippy::unwrap_used)] // a test (or data generator) fails loudly on a broken assumption

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rathaus_core::TenantId;
use rathaus_reports::domain::geo::Point;
use rathaus_reports::service::{self, CategoryId};
use rathaus_reports::store::entity::report;
use rathaus_store::Db;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let (mut url, mut slug, mut runs) = (String::new(), "bench".to_string(), 5000usize);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--database-url" => url = v()?,
            "--tenant-slug" => slug = v()?,
            "--runs" => runs = v()?.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    if url.is_empty() {
        bail!("--database-url is required");
    }
    let db = Db::connect(&url).await?;
    let conn = &db.conn;
    let t = rathaus_store::tenants::by_slug(conn, &slug)
        .await?
        .context("tenant not found")?;
    let tid = TenantId(t.id);
    let cats = service::list_categories(conn, tid, true).await?;
    let radius = f64::from(service::settings(conn, tid).await?.duplicate_radius_m);
    let boundary = service::boundary(conn, &service::ReportsState::default(), tid)
        .await?
        .context("no boundary")?;
    let (min_lat, min_lon, max_lat, max_lon) = boundary.bbox();
    // Real positions to start from (the hot spots are where the reports are).
    let sample: Vec<(f64, f64)> = report::Entity::find()
        .select_only()
        .column(report::Column::Lat)
        .column(report::Column::Lon)
        .filter(report::Column::TenantId.eq(tid.0))
        .filter(report::Column::Id.lte(200_000))
        .limit(20_000)
        .into_tuple()
        .all(conn)
        .await?;
    let mut rng = StdRng::seed_from_u64(7);
    let mut points = Vec::with_capacity(runs);
    while points.len() < runs {
        let (lat, lon) = if rng.gen_bool(0.5) && !sample.is_empty() {
            let (lat, lon) = sample[rng.gen_range(0..sample.len())];
            (
                lat + rng.gen_range(-0.0003..0.0003),
                lon + rng.gen_range(-0.0005..0.0005),
            )
        } else {
            (
                rng.gen_range(min_lat..max_lat),
                rng.gen_range(min_lon..max_lon),
            )
        };
        let p = Point::new(lat, lon)?;
        if boundary.contains(&p) {
            points.push((p, cats[rng.gen_range(0..cats.len())].id));
        }
    }
    // Warm-up (page cache, prepared statements).
    for (p, c) in points.iter().take(200) {
        service::nearby(conn, tid, CategoryId(*c), *p, radius, 5).await?;
    }
    let mut times = Vec::with_capacity(runs);
    let mut found = 0usize;
    let mut max_rows = 0usize;
    let t0 = Instant::now();
    for (p, c) in &points {
        let t = Instant::now();
        let n = service::nearby(conn, tid, CategoryId(*c), *p, radius, 5).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        found += usize::from(!n.is_empty());
        max_rows = max_rows.max(n.len());
    }
    let total = t0.elapsed();
    times.sort_by(f64::total_cmp);
    let q = |f: f64| times[((times.len() as f64 * f) as usize).min(times.len() - 1)];
    println!(
        "nearby: {runs} lookups (radius {radius} m, limit 5) in {:.2} s; median {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, max {:.3} ms; {found} with a hit (at most {max_rows})",
        total.as_secs_f64(),
        q(0.5),
        q(0.95),
        q(0.99),
        times[times.len() - 1]
    );
    Ok(())
}
