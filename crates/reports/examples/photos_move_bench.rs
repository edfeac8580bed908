//! Rate of the move of report photos from the database onto the file service (ADR 0016, job
//! `reports.photos_to_files`): a fresh database (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL) with one report and `--photos` BLOB photos inserted the way
//! the module stored them before (a picture of `--kb` KB and a thumbnail of a tenth of it,
//! distinct bytes each), moved in the job's batches onto a disk file store in a temporary
//! directory. Prints photos/s.
//!
//!   CARGO_TARGET_DIR=/work/target-bench cargo run --release -p rathaus-reports \
//!       --example photos_move_bench -- [--photos 2000] [--kb 250]

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on a broken assumption

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rathaus_reports::Reports;
use rathaus_reports::service::{self, NewReport, Source, photo_files};
use rathaus_reports::store::entity::photo;
use rathaus_store::files::FileStore;
use rathaus_web::Module;
use sea_orm::{ActiveModelTrait, Set};
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = arg("--photos", 2000);
    let kb = arg("--kb", 250);
    let tdb = rathaus_testkit::TestDb::new().await;
    let db = tdb.db.clone();
    Reports::new().migrate(&db).await?;
    rathaus_core::permissions::register(rathaus_reports::permissions::PERMISSIONS);
    let f = rathaus_testkit::tenant_fixture(&db, "bench", "bench.test").await;
    let admin = rathaus_testkit::principal(&db, f.tenant, f.admin).await;
    for d in ["Bauhof", "Ordnungsamt", "Bürgerbüro"] {
        rathaus_store::accounts::create_department(
            &db.conn,
            f.tenant,
            rathaus_store::uow::Actor::system("bench"),
            d,
        )
        .await?;
    }
    let module = Reports::new();
    rathaus_reports::demo::demo(&db, module.state(), &admin).await?;
    let dir = tempfile::tempdir()?;
    let files = FileStore::disk(dir.path())?;
    let cat = service::list_categories(&db.conn, f.tenant, false).await?[0].id;
    let r = service::submit(
        &db,
        &files,
        module.state(),
        f.tenant,
        Source::Web,
        service::CITIZEN,
        NewReport {
            category_id: Some(cat),
            position: Some((51.3962, 7.191)),
            description: "Bench".into(),
            consent: true,
            ..Default::default()
        },
    )
    .await?
    .report;

    let mut rng = StdRng::seed_from_u64(16);
    let t0 = Instant::now();
    for i in 0..n {
        let mut image = vec![0u8; kb * 1000];
        rng.fill(&mut image[..]);
        let thumb = image[..kb * 100].to_vec();
        photo::ActiveModel {
            tenant_id: Set(f.tenant.0),
            report_id: Set(r.id),
            position: Set(i as i32),
            hidden: Set(false),
            sha256: Set(rathaus_store::sha256_hex_bytes(&image)),
            width: Set(1600),
            height: Set(1200),
            image: Set(Some(image)),
            thumb: Set(Some(thumb)),
            image_file_id: Set(None),
            thumb_file_id: Set(None),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&db.conn)
        .await?;
    }
    println!(
        "inserted {n} BLOB photos ({kb} KB + {} KB) in {:.1} s",
        kb / 10,
        t0.elapsed().as_secs_f64()
    );

    let t0 = Instant::now();
    let mut moved = 0;
    loop {
        let m = photo_files::move_batch(&db, &files, f.tenant, 200).await?;
        moved += m.moved;
        if !m.left {
            break;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "backend {:?}: moved {moved} photos in {secs:.1} s: {:.0} photos/s, {:.1} MB/s",
        db.backend,
        moved as f64 / secs,
        moved as f64 * (kb as f64 * 1.1) / 1000.0 / secs
    );
    Ok(())
}
