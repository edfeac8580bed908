//! Refugees benchmark (issue 12): a generated 50,000-row workbook over 60 accommodations
//! (one sheet each and a capacity sheet; ten years of stays per bed), its dry run and commit,
//! then with the 50,000 persons stored: free beds per accommodation on a date, person search
//! and the dashboard. SQLite by default; PostgreSQL with RATHAUS_TEST_DATABASE_URL.
//!
//! `cargo run --release -p rathaus-refugees --example refugees_bench [-- ROWS]`

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a benchmark fails loudly and prints

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rathaus_refugees::Refugees;
use rathaus_refugees::service::persons::{PersonFilter, list_persons};
use rathaus_refugees::service::{imports, places, stats};
use rathaus_store::uow::Actor;
use rathaus_web::Module;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const ACCOMMODATIONS: usize = 60;
const ROOMS: usize = 20;
const BEDS: usize = 4;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn workbook(rows: usize) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let cap = wb.add_worksheet();
    cap.set_name("Kapazität").unwrap();
    for (c, h) in ["Unterkunft", "Zimmer", "Betten"].iter().enumerate() {
        cap.write_string(0, c as u16, *h).unwrap();
    }
    let mut r = 1;
    for a in 0..ACCOMMODATIONS {
        for room in 0..ROOMS {
            cap.write_string(r, 0, format!("Unterkunft {a:02}"))
                .unwrap();
            cap.write_string(r, 1, format!("{room}")).unwrap();
            cap.write_number(r, 2, BEDS as f64).unwrap();
            r += 1;
        }
    }
    let per_acc = rows.div_ceil(ACCOMMODATIONS);
    let base = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
    let mut n = 0;
    for a in 0..ACCOMMODATIONS {
        let ws = wb.add_worksheet();
        ws.set_name(format!("Unterkunft {a:02}")).unwrap();
        ws.write_string(0, 0, format!("Belegungsliste Unterkunft {a:02}"))
            .unwrap();
        let headers = [
            "Name",
            "Vorname",
            "Geb.-Datum",
            "Zi.-Nr.",
            "Bett",
            "Einzug",
            "Auszug",
            "Aufenthaltsstatus",
            "BG-Nr.",
        ];
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        for i in 0..per_acc {
            if n >= rows {
                break;
            }
            // Bed slot i % 80; the k-th stay of a bed lies in year k (ten years of history).
            let slot = i % (ROOMS * BEDS);
            let k = (i / (ROOMS * BEDS)) as i64;
            let from = base + chrono::Duration::days(k * 365 + (slot as i64 % 30));
            let until = from + chrono::Duration::days(300);
            let row = (i + 3) as u32;
            ws.write_string(row, 0, format!("Name{n}")).unwrap();
            ws.write_string(row, 1, format!("Vorname{}", n % 997))
                .unwrap();
            let born = ExcelDateTime::from_ymd(
                1950 + (n % 60) as u16,
                1 + (n % 12) as u8,
                1 + (n % 28) as u8,
            )
            .unwrap();
            ws.write_datetime_with_format(row, 2, &born, &date).unwrap();
            ws.write_string(row, 3, format!("{}", slot / BEDS)).unwrap();
            ws.write_number(row, 4, (slot % BEDS + 1) as f64).unwrap();
            ws.write_string(row, 5, from.format("%d.%m.%Y").to_string())
                .unwrap();
            // The last stay of each bed is still open.
            if (k + 1) * (ROOMS * BEDS) as i64 <= per_acc as i64 {
                ws.write_string(row, 6, until.format("%d.%m.%Y").to_string())
                    .unwrap();
            }
            ws.write_string(
                row,
                7,
                [
                    "Duldung",
                    "Aufenthaltsgestattung",
                    "§ 24 AufenthG",
                    "Aufenthaltserlaubnis",
                ][n % 4],
            )
            .unwrap();
            ws.write_string(row, 8, format!("BG-{}", n / 3)).unwrap();
            n += 1;
        }
    }
    wb.save_to_buffer().unwrap()
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let backend = if rathaus_testkit::pg_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let t = Instant::now();
    let book = workbook(rows);
    println!(
        "workbook: {rows} rows, {:.1} MB, generated in {:.2} s",
        book.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let tdb = rathaus_testkit::TestDb::new().await;
    Refugees.migrate(&tdb.db).await.unwrap();
    rathaus_core::permissions::register(rathaus_refugees::permissions::PERMISSIONS);
    let f = rathaus_testkit::tenant_fixture(&tdb.db, "bench", "bench.test").await;
    let admin = rathaus_testkit::principal(&tdb.db, f.tenant, f.admin).await;
    let by = Actor::User(&admin);
    let conn = &tdb.db.conn;

    let rss0 = peak_rss_mb();
    let t = Instant::now();
    let dry = imports::import(conn, by, f.tenant, &book, None, false)
        .await
        .unwrap();
    let dry_s = t.elapsed().as_secs_f64();
    println!(
        "dry run ({backend}): {dry_s:.2} s, rows {} ok {} errors {} warnings {}, peak RSS {:.0} MB (before {:.0} MB)",
        dry.rows_total,
        dry.rows_ok,
        dry.errors.len(),
        dry.warnings.len(),
        peak_rss_mb(),
        rss0
    );
    assert!(dry.errors.is_empty(), "{:?}", dry.errors.first());
    let t = Instant::now();
    let done = imports::import(conn, by, f.tenant, &book, None, true)
        .await
        .unwrap();
    println!(
        "commit ({backend}): {:.2} s, {} persons, {} stays, peak RSS {:.0} MB",
        t.elapsed().as_secs_f64(),
        done.persons,
        done.occupancies,
        peak_rss_mb()
    );
    assert!(done.committed);
    // Fresh statistics for the planner, as after the nightly maintenance.
    sea_orm::ConnectionTrait::execute_unprepared(conn, "ANALYZE")
        .await
        .unwrap();

    let runs = 50;
    let days: Vec<NaiveDate> = (0..runs)
        .map(|i| NaiveDate::from_ymd_opt(2016, 6, 1).unwrap() + chrono::Duration::days(i * 73))
        .collect();
    let mut free = Vec::new();
    for d in &days {
        let t = Instant::now();
        let list = places::accommodations_on(conn, by, f.tenant, *d)
            .await
            .unwrap();
        free.push(t.elapsed());
        assert_eq!(list.len(), ACCOMMODATIONS);
    }
    println!(
        "free beds per accommodation on a date: p50 {:.1} ms, p95 {:.1} ms ({runs} dates over 10 years)",
        pct(free.clone(), 0.5),
        pct(free, 0.95)
    );
    let mut search = Vec::new();
    for i in 0..runs {
        let fl = PersonFilter {
            q: format!(
                "name{}",
                (1000 + i * 917) % i64::try_from(rows).unwrap_or(1)
            ),
            limit: 50,
            ..Default::default()
        };
        let t = Instant::now();
        let (_, total) = list_persons(conn, by, f.tenant, &fl).await.unwrap();
        search.push(t.elapsed());
        assert!(total >= 1);
    }
    println!(
        "person search by name: p50 {:.1} ms, p95 {:.1} ms",
        pct(search.clone(), 0.5),
        pct(search, 0.95)
    );
    let mut dash = Vec::new();
    for d in &days {
        let t = Instant::now();
        stats::dashboard(conn, by, f.tenant, Some(*d))
            .await
            .unwrap();
        dash.push(t.elapsed());
    }
    println!(
        "dashboard (today and a chosen date): p50 {:.1} ms, p95 {:.1} ms",
        pct(dash.clone(), 0.5),
        pct(dash, 0.95)
    );
    let mut beds = Vec::new();
    for d in days.iter().take(20) {
        let t = Instant::now();
        places::free_beds(conn, by, f.tenant, *d, None)
            .await
            .unwrap();
        beds.push(t.elapsed());
    }
    println!(
        "free beds list (all accommodations): p50 {:.1} ms, p95 {:.1} ms",
        pct(beds.clone(), 0.5),
        pct(beds, 0.95)
    );
}
