//! Data generator for the Mängelmelder benchmarks (issue 3, "Speed and size"; `bench/reports.sh`).
//!
//! Migrates a fresh database (platform + reports), creates a tenant with the departments the
//! demo routes to and an admin, runs the module's demo set-up (the nine categories, the boundary
//! of Beispielstadt, its street directory, five demo reports), then bulk-inserts 1,000,000
//! reports over the last five years with their public replies:
//!
//! - categories with seasonal weights (winter service in December to February, green spaces
//!   and playgrounds in summer, potholes after the frost in March/April, street lights in the
//!   dark months), more reports per year as the service becomes known, fewer on weekends, by
//!   daytime (morning and evening peaks, Europe/Berlin);
//! - places in Gaussian clusters inside the boundary: the town centre, the main streets (long
//!   thin clusters), a few dozen hot spots (a dumping place, a playground, a park), and a
//!   thin spread everywhere; points outside the boundary are drawn again;
//! - statuses by age: older reports almost all closed (done, some rejected, duplicate, not
//!   responsible), recent ones partly open (new, confirmed, in progress, planned);
//!   `first_answer_at` ≤ `closed_at` ≤ now, `due_at` = three working days;
//! - one public reply per answered report (the closing one for closed reports) and an internal
//!   note on some; `status_notes` holds the latest public reply;
//! - reference numbers `M-YYYY-NNNNNN` in order of receipt, per year, continuing after the demo
//!   reports; `reports_counters` is set so new submissions continue the sequence.
//!
//! Fixed RNG seed. No photos in the bulk data.
//!
//!   cargo run --release -p rathaus-reports --example reports_gen -- \
//!       --database-url sqlite:///tmp/x/rathaus.db?mode=rwc [--tenant-slug bench] \
//!       [--reports 1000000] [--years 5] [--seed 3]
//!
//! Prints `E-Mail:`, `Passwort:` (the admin), `ApiKey:` (an Open311 key "bench") and `Tenant:`.

#![allow(clippy::unwrap_used)] // a test (or data generator) fails loudly on a broken assumption

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rathaus_core::{TenantId, UserId};
use rathaus_reports::domain::geo::{Boundary, Point};
use rathaus_reports::service;
use rathaus_reports::store::entity::{counter, report, update};
use rathaus_store::tenants::{self, NewTenant};
use rathaus_store::{Actor, Db, accounts, sha256_hex};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use std::collections::HashMap;
use std::sync::Arc;

struct Args {
    url: String,
    slug: String,
    email: String,
    password: String,
    n: usize,
    years: i64,
    seed: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        url: String::new(),
        slug: "bench".into(),
        email: "admin@bench.example".into(),
        password: rathaus_store::random_token(15),
        n: 1_000_000,
        years: 5,
        seed: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--database-url" => a.url = v()?,
            "--tenant-slug" => a.slug = v()?,
            "--admin-email" => a.email = v()?,
            "--admin-password" => a.password = v()?,
            "--reports" => a.n = v()?.parse()?,
            "--years" => a.years = v()?.parse()?,
            "--seed" => a.seed = v()?.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    if a.url.is_empty() {
        bail!("--database-url is required");
    }
    Ok(a)
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>20} [{bar:30}] {pos}/{len} {elapsed} (eta {eta})")
            .unwrap()
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Standard normal (Box–Muller).
fn gauss(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Log-normal with the given median (hours, days, …) and spread.
fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * gauss(rng)).exp()
}

/// Picks an index by cumulative weights.
fn pick(rng: &mut StdRng, cum: &[f64]) -> usize {
    let x = rng.gen_range(0.0..*cum.last().unwrap_or(&1.0));
    cum.partition_point(|c| *c <= x).min(cum.len() - 1)
}

fn cumulative(w: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut s = 0.0;
    w.into_iter()
        .map(|x| {
            s += x;
            s
        })
        .collect()
}

/// Category codes of the demo, in its order, with their base weight and monthly factor.
const CATS: &[&str] = &[
    "winterdienst",
    "strassenschaden",
    "beleuchtung",
    "verkehrszeichen",
    "gully",
    "muell",
    "spielplatz",
    "gruen",
    "sonstiges",
];

fn base_weight(code: &str) -> f64 {
    match code {
        "winterdienst" => 0.6,
        "strassenschaden" => 2.2,
        "beleuchtung" => 1.8,
        "verkehrszeichen" => 0.8,
        "gully" => 0.9,
        "muell" => 2.0,
        "spielplatz" => 0.4,
        "gruen" => 1.1,
        _ => 0.7,
    }
}

/// Seasonal factor, month 1..=12.
fn season(code: &str, month: u32) -> f64 {
    let m = month as usize - 1;
    let t: [f64; 12] = match code {
        "winterdienst" => [6.0, 5.0, 1.2, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.02, 0.6, 4.0],
        "strassenschaden" => [1.1, 1.4, 1.8, 1.6, 1.1, 0.8, 0.7, 0.7, 0.8, 0.9, 1.0, 1.0],
        "beleuchtung" => [1.5, 1.3, 1.0, 0.7, 0.5, 0.4, 0.4, 0.5, 0.8, 1.2, 1.6, 1.7],
        "gully" => [1.0, 1.0, 0.9, 0.8, 0.9, 1.2, 1.3, 1.2, 1.0, 1.1, 1.2, 1.0],
        "muell" => [0.8, 0.8, 1.0, 1.1, 1.2, 1.2, 1.2, 1.2, 1.1, 1.0, 0.9, 1.0],
        "spielplatz" => [0.2, 0.3, 0.6, 1.1, 1.6, 1.9, 2.0, 1.9, 1.3, 0.6, 0.3, 0.2],
        "gruen" => [0.5, 0.5, 0.8, 1.2, 1.6, 1.8, 1.8, 1.7, 1.3, 1.1, 0.9, 0.6],
        _ => [1.0; 12],
    };
    t[m]
}

fn weekday_factor(d: Weekday) -> f64 {
    match d {
        Weekday::Sat => 0.6,
        Weekday::Sun => 0.5,
        Weekday::Mon => 1.25,
        _ => 1.05,
    }
}

/// Local minute of the day: morning peak (commute), midday, evening peak, little at night.
fn minute_of_day(rng: &mut StdRng) -> u32 {
    let (mean, sd) = match rng.gen_range(0..100) {
        0..=29 => (8.0 * 60.0, 70.0),
        30..=54 => (12.5 * 60.0, 100.0),
        55..=89 => (19.0 * 60.0, 110.0),
        _ => return rng.gen_range(0..1440),
    };
    (mean + sd * gauss(rng)).rem_euclid(1440.0) as u32
}

#[derive(Clone)]
struct Cluster {
    lat: f64,
    lon: f64,
    /// Standard deviation in metres along and across `angle` (a street: long and thin).
    along: f64,
    across: f64,
    angle: f64,
    /// Uniform over the boundary's box instead (rejected outside the boundary).
    uniform: bool,
}

const M_PER_DEG_LAT: f64 = 111_195.0;

fn clusters(rng: &mut StdRng, b: &Boundary) -> (Vec<Cluster>, Vec<f64>) {
    let (min_lat, min_lon, max_lat, max_lon) = b.bbox();
    let mut cs = Vec::new();
    let mut w = Vec::new();
    // The town centre (the demo street grid around Marktplatz).
    cs.push(Cluster {
        lat: 51.4035,
        lon: 7.194,
        along: 450.0,
        across: 350.0,
        angle: 0.0,
        uniform: false,
    });
    w.push(22.0);
    // Main streets: through the centre in several directions, long and thin.
    for (lat, lon, angle, len) in [
        (51.4005, 7.194, 0.0, 2500.0),  // Hauptstraße, west–east
        (51.4035, 7.195, 1.45, 1800.0), // Bahnhofstraße, south–north
        (51.398, 7.215, 0.5, 1500.0),   // Ringstraße east
        (51.407, 7.17, -0.35, 1400.0),  // Landstraße west
        (51.388, 7.2, 0.15, 1600.0),    // südliche Umgehung
        (51.414, 7.205, -0.1, 1200.0),  // Nordring
    ] {
        cs.push(Cluster {
            lat,
            lon,
            along: len,
            across: 12.0,
            angle,
            uniform: false,
        });
        w.push(5.0);
    }
    // Hot spots: a dumping place, playgrounds, parks, a bad crossing, ...
    let mut placed = 0;
    while placed < 40 {
        let lat = rng.gen_range(min_lat..max_lat);
        let lon = rng.gen_range(min_lon..max_lon);
        let Ok(p) = Point::new(lat, lon) else {
            continue;
        };
        if !b.contains(&p) {
            continue;
        }
        let s = rng.gen_range(25.0..250.0);
        cs.push(Cluster {
            lat,
            lon,
            along: s,
            across: s,
            angle: 0.0,
            uniform: false,
        });
        w.push(rng.gen_range(0.3..1.5));
        placed += 1;
    }
    // Everywhere a little.
    cs.push(Cluster {
        lat: 0.0,
        lon: 0.0,
        along: 0.0,
        across: 0.0,
        angle: 0.0,
        uniform: true,
    });
    w.push(14.0);
    (cs, cumulative(w))
}

fn place(rng: &mut StdRng, c: &Cluster, b: &Boundary) -> (f64, f64) {
    let (min_lat, min_lon, max_lat, max_lon) = b.bbox();
    for _ in 0..1000 {
        let (lat, lon) = if c.uniform {
            (
                rng.gen_range(min_lat..max_lat),
                rng.gen_range(min_lon..max_lon),
            )
        } else {
            let (x, y) = (c.along * gauss(rng), c.across * gauss(rng));
            let (s, co) = c.angle.sin_cos();
            let (east, north) = (x * co - y * s, x * s + y * co);
            let m_per_deg_lon = M_PER_DEG_LAT * c.lat.to_radians().cos();
            (c.lat + north / M_PER_DEG_LAT, c.lon + east / m_per_deg_lon)
        };
        if let Ok(p) = Point::new(lat, lon)
            && b.contains(&p)
        {
            // About 1 m precision, as a phone's GPS or a map click gives.
            return (
                (lat * 100_000.0).round() / 100_000.0,
                (lon * 100_000.0).round() / 100_000.0,
            );
        }
    }
    (51.4005, 7.194)
}

fn description(rng: &mut StdRng, code: &str) -> (&'static str, String) {
    let (texts, attr): (&[&str], &str) = match code {
        "winterdienst" => (
            &[
                "Gehweg seit Tagen nicht geräumt, sehr glatt.",
                "Die Straße ist spiegelglatt, es wurde nicht gestreut.",
                "Schneehaufen blockiert den Überweg an der Ampel.",
                "Radweg nicht geräumt, Sturzgefahr.",
            ],
            "",
        ),
        "strassenschaden" => (
            &[
                "Tiefes Schlagloch auf der Fahrbahn, etwa 30 cm breit.",
                "Mehrere Risse im Asphalt, Wasser steht darin.",
                "Absenkung im Gehweg, Stolpergefahr.",
                "Gehwegplatte lose und hochstehend.",
                "Schlagloch im Radweg direkt an der Bordsteinkante.",
            ],
            "art",
        ),
        "beleuchtung" => (
            &[
                "Die Laterne ist seit einer Woche aus.",
                "Straßenlaterne flackert ständig.",
                "Laterne brennt auch tagsüber.",
                "Drei Laternen hintereinander dunkel.",
            ],
            "mast",
        ),
        "verkehrszeichen" => (
            &[
                "Stoppschild ist verdreht und kaum zu sehen.",
                "Verkehrszeichen umgefahren.",
                "Schild von Ästen verdeckt.",
            ],
            "",
        ),
        "gully" => (
            &[
                "Gully verstopft, bei Regen steht das Wasser auf der Straße.",
                "Kanaldeckel klappert laut beim Überfahren.",
                "Gitter vom Straßeneinlauf fehlt.",
            ],
            "",
        ),
        "muell" => (
            &[
                "Mehrere Müllsäcke am Straßenrand abgestellt.",
                "Sperrmüll (Sofa, Matratze) am Waldweg.",
                "Bauschutt illegal abgeladen.",
                "Altreifen im Gebüsch.",
                "Überquellende Papierkörbe, Müll weht herum.",
            ],
            "",
        ),
        "spielplatz" => (
            &[
                "Die Schaukel hat eine gerissene Kette.",
                "Glasscherben im Sandkasten.",
                "Rutsche hat eine scharfe Kante.",
            ],
            "",
        ),
        "gruen" => (
            &[
                "Großer Ast hängt abgebrochen über dem Gehweg.",
                "Hecke ragt weit in den Gehweg.",
                "Baum nach dem Sturm umgestürzt.",
                "Grünstreifen seit Wochen nicht gemäht.",
            ],
            "",
        ),
        _ => (
            &[
                "Bank im Park beschädigt.",
                "Graffiti an der Unterführung.",
                "Brunnen läuft nicht mehr.",
            ],
            "",
        ),
    };
    (attr, texts[rng.gen_range(0..texts.len())].to_string())
}

fn reply(status: &str, code: &str) -> &'static str {
    match (status, code) {
        (service::DONE, "winterdienst") => {
            "Der Winterdienst war vor Ort und hat geräumt und gestreut."
        }
        (service::DONE, "beleuchtung") => {
            "Das Leuchtmittel wurde getauscht, die Laterne brennt wieder."
        }
        (service::DONE, "muell") => "Die Ablagerung wurde vom Bauhof beseitigt.",
        (service::DONE, "strassenschaden") => "Die Stelle wurde ausgebessert.",
        (service::DONE, _) => "Erledigt. Vielen Dank für Ihren Hinweis.",
        (service::REJECTED, _) => "Wir konnten vor Ort keinen Mangel feststellen.",
        (service::DUPLICATE, _) => "Dieser Mangel wurde bereits gemeldet und wird dort bearbeitet.",
        (service::NOT_RESPONSIBLE, _) => {
            "Hierfür ist die Gemeinde nicht zuständig (Landesstraße). Wir haben den Hinweis an Straßen.NRW weitergegeben."
        }
        (service::CONFIRMED, _) => "Danke, wir haben Ihre Meldung erhalten und prüfen sie.",
        (service::IN_PROGRESS, _) => "Der Bauhof ist beauftragt.",
        (service::PLANNED, _) => "Die Arbeiten sind eingeplant.",
        _ => "",
    }
}

/// Local time (Europe/Berlin) to UTC; the gap hour of March counts as UTC+1.
fn local(date: NaiveDate, minute: u32) -> DateTime<Utc> {
    let t = date
        .and_hms_opt(minute / 60, minute % 60, 0)
        .unwrap_or_default();
    Berlin
        .from_local_datetime(&t)
        .earliest()
        .map(|x| x.to_utc())
        .unwrap_or_else(|| Utc.from_utc_datetime(&t) - Duration::hours(1))
}

struct Gen {
    created: DateTime<Utc>,
    cat: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let t0 = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(a.seed);
    let db = Db::connect(&a.url).await?;
    let modules: Vec<Arc<dyn rathaus_web::Module>> =
        vec![Arc::new(rathaus_reports::Reports::new())];
    rathaus_web::module::migrate_all(&db, &modules).await?;
    rathaus_core::permissions::register(rathaus_reports::permissions::PERMISSIONS);
    let conn = &db.conn;
    eprintln!("migrated in {:.1?}", t0.elapsed());

    // ------------------------------------------------ tenant, departments, admin, demo set-up
    let hosts = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let t = tenants::create(
        conn,
        &Actor::system("reports_gen"),
        NewTenant {
            slug: &a.slug,
            name: "Stadt Benchingen",
            hosts: &hosts,
        },
    )
    .await?;
    let tid = TenantId(t.id);
    for d in ["Bürgerbüro", "Ordnungsamt", "Bauhof"] {
        accounts::create_department(
            conn,
            tid,
            rathaus_store::uow::Actor::system("benchmark data"),
            d,
        )
        .await?;
    }
    let admin_role = accounts::role_by_name(conn, tid, rathaus_core::permissions::ADMIN_ROLE)
        .await?
        .context("admin role missing")?;
    let admin = accounts::create_user(
        conn,
        tid,
        rathaus_store::uow::Actor::system("benchmark data"),
        accounts::UserInput {
            email: &a.email,
            name: "Bea Bench",
            password: &a.password,
            department_id: None,
            role_ids: &[admin_role.id],
            active: true,
        },
    )
    .await?;
    let who = accounts::principal(conn, tid, UserId(admin.id))
        .await?
        .context("admin principal")?;
    let state = rathaus_reports::service::ReportsState::default();
    rathaus_reports::demo::demo(&db, &state, &who).await?;
    let (_, api_key) = rathaus_reports::service::keys::create(
        conn,
        rathaus_store::uow::Actor::User(&who),
        tid,
        "bench",
        100_000,
    )
    .await?;
    let cats = service::list_categories(conn, tid, true).await?;
    let cat_of: Vec<&service::Category> = CATS
        .iter()
        .map(|c| cats.iter().find(|x| x.code == *c).context("demo category"))
        .collect::<anyhow::Result<_>>()?;
    let boundary = service::boundary(conn, &state, tid)
        .await?
        .context("demo boundary")?;
    let streets = rathaus_reports::demo::demo_streets();

    // ------------------------------------------------ when and what
    let now = Utc::now();
    let today = now.with_timezone(&Berlin).date_naive();
    let days = (a.years * 365 + a.years / 4) as usize;
    let first = today - Duration::days(days as i64 - 1);
    // One weight per (day, category): adoption grows from 0.5 to 1.5 over the period.
    let mut w = Vec::with_capacity(days * CATS.len());
    for i in 0..days {
        let date = first + Duration::days(i as i64);
        let trend = 0.5 + i as f64 / days as f64;
        let wd = weekday_factor(date.weekday());
        for c in CATS {
            w.push(trend * wd * base_weight(c) * season(c, date.month()));
        }
    }
    let cum = cumulative(w);
    let mut gens: Vec<Gen> = Vec::with_capacity(a.n);
    while gens.len() < a.n {
        let k = pick(&mut rng, &cum);
        let (day, cat) = (k / CATS.len(), k % CATS.len());
        let date = first + Duration::days(day as i64);
        let created =
            local(date, minute_of_day(&mut rng)) + Duration::seconds(rng.gen_range(0..60));
        if created >= now {
            continue;
        }
        gens.push(Gen { created, cat });
    }
    gens.sort_by_key(|g| g.created);

    // Reference numbers continue after the demo reports.
    let counters: HashMap<i32, i64> = counter::Entity::find()
        .filter(counter::Column::TenantId.eq(tid.0))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.year, c.next))
        .collect();
    let mut next_seq = counters.clone();
    let first_id: i64 = report::Entity::find()
        .select_only()
        .column_as(report::Column::Id.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0)
        + 1;

    let (cl, cl_cum) = clusters(&mut rng, &boundary);
    let sources = cumulative([75.0, 3.0, 15.0, 7.0]);
    let source_names = ["web", "web_nojs", "open311", "staff"];
    let mut last_in: HashMap<(usize, usize), i64> = HashMap::new();
    let mut stat: HashMap<&'static str, usize> = HashMap::new();
    let mut n_updates = 0usize;

    let pb = bar(a.n as u64, "reports");
    let mut reps = Vec::with_capacity(500);
    let mut ups = Vec::with_capacity(1000);
    let mut txn = conn.begin().await?;
    for (i, g) in gens.iter().enumerate() {
        let id = first_id + i as i64;
        let cat = cat_of[g.cat];
        let code = CATS[g.cat];
        let ci = pick(&mut rng, &cl_cum);
        let (lat, lon) = place(&mut rng, &cl[ci], &boundary);
        let age_days = (now - g.created).num_minutes() as f64 / 1440.0;
        // Share still open by age.
        let p_open = if age_days < 3.0 {
            0.9
        } else if age_days < 14.0 {
            0.6
        } else if age_days < 60.0 {
            0.3
        } else if age_days < 180.0 {
            0.1
        } else if age_days < 365.0 {
            0.03
        } else {
            0.004
        };
        let status: &'static str = if rng.gen_bool(p_open) {
            if age_days < 2.0 && rng.gen_bool(0.7) {
                service::NEW
            } else {
                [
                    service::NEW,
                    service::CONFIRMED,
                    service::CONFIRMED,
                    service::IN_PROGRESS,
                    service::IN_PROGRESS,
                    service::PLANNED,
                ][rng.gen_range(0..6)]
            }
        } else {
            match rng.gen_range(0..100) {
                0..=84 => service::DONE,
                85..=89 => service::REJECTED,
                90..=95 => service::DUPLICATE,
                _ => service::NOT_RESPONSIBLE,
            }
        };
        *stat.entry(status).or_default() += 1;
        let open = status
            .parse::<service::Status>()
            .is_ok_and(service::Status::is_open);
        let source = source_names[pick(&mut rng, &sources)];
        let moderation = if source == "web_nojs" && status == service::NEW && age_days < 2.0 {
            service::PENDING
        } else if rng.gen_bool(0.004) {
            service::HIDDEN
        } else {
            service::PUBLISHED
        };
        // Answered: a few hours to a few days after receipt (winter service and lights quick).
        let answer_h = match code {
            "winterdienst" => lognormal(&mut rng, 3.0, 0.8),
            _ => lognormal(&mut rng, 20.0, 1.0),
        }
        .min(24.0 * 30.0);
        let mut first_answer = if status == service::NEW {
            None
        } else {
            Some(g.created + Duration::minutes((answer_h * 60.0) as i64 + 5))
        };
        let mut closed = if open {
            None
        } else {
            let fa = first_answer.unwrap_or(g.created);
            let days = match (status, code) {
                (service::DONE, "winterdienst") => lognormal(&mut rng, 0.5, 0.6),
                (service::DONE, "beleuchtung") => lognormal(&mut rng, 6.0, 0.8),
                (service::DONE, "strassenschaden") => lognormal(&mut rng, 14.0, 1.0),
                (service::DONE, _) => lognormal(&mut rng, 5.0, 1.0),
                _ => lognormal(&mut rng, 0.3, 1.0),
            };
            Some(fa + Duration::minutes((days * 1440.0) as i64))
        };
        // Nothing in the future: squeeze into the report's lifetime.
        let span = (now - g.created).num_seconds().max(2);
        if let Some(fa) = first_answer
            && fa >= now
        {
            first_answer = Some(g.created + Duration::seconds(span / 3));
        }
        if let Some(c) = closed
            && c >= now
        {
            let fa = first_answer.unwrap_or(g.created);
            closed = Some(fa + (now - fa) / 2);
        }
        let (attr, text) = description(&mut rng, code);
        let attributes = match attr {
            "art" => format!(
                "{{\"art\":\"{}\"}}",
                ["schlagloch", "riss", "absenkung", "sonstiges"][rng.gen_range(0..4)]
            ),
            "mast" if rng.gen_bool(0.3) => {
                format!("{{\"mast\":\"L-{}\"}}", rng.gen_range(100..9999))
            }
            _ => "{}".to_string(),
        };
        let duplicate_of = (status == service::DUPLICATE)
            .then(|| last_in.get(&(g.cat, ci)).copied())
            .flatten();
        last_in.insert((g.cat, ci), id);
        // The nearest demo address as the label (a reverse geocoder's answer).
        let near = streets
            .iter()
            .min_by(|x, y| {
                let dx = (x.lat - lat).powi(2) + ((x.lon - lon) * 0.62).powi(2);
                let dy = (y.lat - lat).powi(2) + ((y.lon - lon) * 0.62).powi(2);
                dx.total_cmp(&dy)
            })
            .map(rathaus_reports::service::directory::label)
            .unwrap_or_default();
        let year = g.created.with_timezone(&Berlin).year();
        let seq = next_seq.entry(year).or_insert(1);
        let reference = format!("M-{year}-{:06}", *seq);
        *seq += 1;
        let with_mail = rng.gen_bool(0.35);
        let public_reply = reply(status, code);
        let mut notes = String::new();
        if let Some(fa) = first_answer {
            let (st, at) = match closed {
                Some(c) => (status, c),
                None => (status, fa),
            };
            // A closed report that was answered before it closed: the first answer too.
            if closed.is_some() && status == service::DONE && rng.gen_bool(0.4) {
                ups.push(update::ActiveModel {
                    id: NotSet,
                    tenant_id: Set(tid.0),
                    report_id: Set(id),
                    public: Set(true),
                    status: Set(Some(service::CONFIRMED.into())),
                    text: Set(reply(service::CONFIRMED, code).into()),
                    author_id: Set(Some(admin.id)),
                    created_at: Set(fa),
                });
            }
            ups.push(update::ActiveModel {
                id: NotSet,
                tenant_id: Set(tid.0),
                report_id: Set(id),
                public: Set(true),
                status: Set(Some(st.into())),
                text: Set(public_reply.into()),
                author_id: Set(Some(admin.id)),
                created_at: Set(at),
            });
            notes = public_reply.to_string();
            if rng.gen_bool(0.15) {
                ups.push(update::ActiveModel {
                    id: NotSet,
                    tenant_id: Set(tid.0),
                    report_id: Set(id),
                    public: Set(false),
                    status: Set(None),
                    text: Set("Kolonne 3 informiert.".into()),
                    author_id: Set(Some(admin.id)),
                    created_at: Set(fa),
                });
            }
        }
        let updated = closed.or(first_answer).unwrap_or(g.created);
        let due = rathaus_core::calendar::add_working_days(
            rathaus_core::calendar::Land::NW,
            g.created,
            3,
        );
        reps.push(report::ActiveModel {
            id: Set(id),
            tenant_id: Set(tid.0),
            reference: Set(reference),
            category_id: Set(cat.id),
            status: Set(status.into()),
            is_open: Set(open),
            moderation: Set(moderation.into()),
            source: Set(source.into()),
            lat: Set(lat),
            lon: Set(lon),
            cell: Set(rathaus_reports::domain::geo::cell_of(
                rathaus_reports::domain::geo::Point::new(lat, lon).expect("a generated position"),
            )),
            address: Set(near),
            description: Set(text.clone()),
            public_description: Set(text),
            status_notes: Set(notes),
            priority: Set(
                ["normal", "normal", "normal", "low", "high"][rng.gen_range(0..5)].into(),
            ),
            due_at: Set(due),
            department_id: Set(cat.department_id),
            assignee_id: Set(None),
            duplicate_of: Set(duplicate_of),
            reporter_name: Set(if with_mail {
                format!("Bürger {}", i % 9973)
            } else {
                String::new()
            }),
            reporter_email: Set(if with_mail {
                format!("buerger{}@bench.example", i % 9973)
            } else {
                String::new()
            }),
            reporter_phone: Set(String::new()),
            status_token_hash: Set(sha256_hex(&format!("bench-{}-{id}", a.seed))),
            open311_token: Set(None),
            api_key_id: Set(None),
            attributes: Set(attributes),
            created_at: Set(g.created),
            updated_at: Set(updated),
            first_answer_at: Set(first_answer),
            closed_at: Set(closed),
        });
        if reps.len() == 500 || i + 1 == gens.len() {
            report::Entity::insert_many(std::mem::take(&mut reps))
                .exec_without_returning(&txn)
                .await?;
            n_updates += ups.len();
            for c in ups.chunks(1000) {
                update::Entity::insert_many(c.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            ups.clear();
            pb.set_position(i as u64 + 1);
            if (i + 1) % 20_000 == 0 {
                txn.commit().await?;
                txn = conn.begin().await?;
            }
        }
    }
    txn.commit().await?;
    pb.finish();

    // New submissions continue the sequences.
    let txn = conn.begin().await?;
    counter::Entity::delete_many()
        .filter(counter::Column::TenantId.eq(tid.0))
        .exec(&txn)
        .await?;
    counter::Entity::insert_many(next_seq.iter().map(|(y, n)| counter::ActiveModel {
        tenant_id: Set(tid.0),
        year: Set(*y),
        next: Set(*n),
    }))
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    if matches!(db.backend, rathaus_store::Backend::Postgres) {
        conn.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('reports_reports', 'id'), (SELECT max(id) FROM reports_reports))",
        )
        .await?;
        eprintln!("vacuum analyze …");
        conn.execute_unprepared("VACUUM ANALYZE").await?;
    } else {
        eprintln!("analyze …");
        conn.execute_unprepared("ANALYZE").await?;
    }
    state.generations.bump(tid);

    let total = report::Entity::find()
        .filter(report::Column::TenantId.eq(tid.0))
        .count(conn)
        .await?;
    let open = report::Entity::find()
        .filter(report::Column::TenantId.eq(tid.0))
        .filter(report::Column::IsOpen.eq(true))
        .filter(report::Column::Moderation.eq(service::PUBLISHED))
        .count(conn)
        .await?;
    let mut st: Vec<_> = stat.into_iter().collect();
    st.sort();
    println!("Tenant: {} (id {})", a.slug, tid.0);
    println!(
        "Data: {total} reports from {first} to {today}, {open} open and published, {n_updates} updates, statuses {st:?}, counters {:?}",
        {
            let mut c: Vec<_> = next_seq.into_iter().collect();
            c.sort();
            c
        }
    );
    println!("Generated in {:.1} s", t0.elapsed().as_secs_f64());
    println!("E-Mail: {}", a.email);
    println!("Passwort: {}", a.password);
    println!("ApiKey: {api_key}");
    Ok(())
}
