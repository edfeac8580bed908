//! Data generator for the booking benchmarks (issue 4, "Speed and size"; `bench/booking.sh`).
//!
//! Migrates a fresh database (platform + booking), creates a tenant with an admin, then
//! bulk-inserts a municipality's booking year(s): 300 resources (halls with three thirds each,
//! fields, rooms, equipment), organisations with members, school holidays and public holidays as
//! tenant-wide blackouts (plus some maintenance closures), three hall seasons, 5,000 weekly
//! series with their occurrence rows (stored as `series.rs` stores them: one `booking_series`
//! row and one `booking_reservations` row per occurrence with `series_id`), and 200,000 single
//! bookings. Evenings and weekends are busiest; nothing overlaps (a hall and its thirds block
//! each other, buffers respected), nothing lies on a blackout. Fixed RNG seed.
//!
//!   cargo run --release -p rathaus-booking --example booking_gen -- \
//!       --database-url sqlite:///tmp/x/rathaus.db?mode=rwc --tenant-slug bench \
//!       [--slots-file slots.txt] [--series 5000] [--singles 200000] [--seed 4]
//!
//! Prints `E-Mail:`, `Passwort:`, `Token:` (API token of the admin) and `Busiest:` (the
//! resource with a public feed whose feed holds the most reservations) for the bench script.
//! `--slots-file` writes random bookable slots (resource, start, end; UTC RFC 3339) within the
//! resources' rules, in the future and off blackouts, for the booking-creation load.

#![allow(clippy::unwrap_used)] // a test (or data generator) fails loudly on a broken assumption

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rathaus_booking::service::rules::{self, Week};
use rathaus_booking::service::series::{self, Rule};
use rathaus_booking::store::entity::{
    blackout, org_member, organisation, reservation, resource, season, series as series_e,
};
use rathaus_core::{TenantId, UserId};
use rathaus_store::entity::user;
use rathaus_store::tenants::{self, NewTenant};
use rathaus_store::{Actor, Db, accounts, tokens};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

/// First day of the generated calendar (the oldest season starts here).
const FIRST: (i32, u32, u32) = (2025, 9, 1);
/// Days covered (to the end of the third season, 2028-06-30).
const DAYS: usize = 1034;
/// 15-minute slots per day.
const SLOT_MIN: u32 = 15;

struct Args {
    url: String,
    slug: String,
    email: String,
    password: String,
    slots_file: Option<String>,
    n_series: usize,
    n_singles: usize,
    seed: u64,
    now: DateTime<Utc>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        url: String::new(),
        slug: "bench".into(),
        email: "admin@bench.example".into(),
        password: rathaus_store::random_token(15),
        slots_file: None,
        n_series: 5000,
        n_singles: 200_000,
        seed: 4,
        now: Utc::now(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--database-url" => a.url = v()?,
            "--tenant-slug" => a.slug = v()?,
            "--admin-email" => a.email = v()?,
            "--admin-password" => a.password = v()?,
            "--slots-file" => a.slots_file = Some(v()?),
            "--series" => a.n_series = v()?.parse()?,
            "--singles" => a.n_singles = v()?.parse()?,
            "--seed" => a.seed = v()?.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    if a.url.is_empty() {
        bail!("--database-url is required");
    }
    Ok(a)
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST.0, FIRST.1, FIRST.2).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn local_utc(t: NaiveDateTime) -> DateTime<Utc> {
    Berlin
        .from_local_datetime(&t)
        .earliest()
        .map(|x| x.to_utc())
        .unwrap_or_else(|| Utc.from_utc_datetime(&t))
}

/// NRW school holidays (approximate) and public holidays, as (name, first day, last day).
fn holidays() -> Vec<(String, NaiveDate, NaiveDate)> {
    let ranges = [
        ("Herbstferien", "2025-10-13", "2025-10-25"),
        ("Weihnachtsferien", "2025-12-22", "2026-01-06"),
        ("Osterferien", "2026-03-30", "2026-04-11"),
        ("Sommerferien", "2026-07-20", "2026-09-01"),
        ("Herbstferien", "2026-10-17", "2026-10-31"),
        ("Weihnachtsferien", "2026-12-23", "2027-01-06"),
        ("Osterferien", "2027-03-22", "2027-04-03"),
        ("Sommerferien", "2027-07-19", "2027-08-31"),
        ("Herbstferien", "2027-10-25", "2027-11-06"),
        ("Weihnachtsferien", "2027-12-24", "2028-01-08"),
        ("Osterferien", "2028-04-10", "2028-04-22"),
    ];
    let days = [
        "2025-10-03",
        "2025-11-01",
        "2026-05-01",
        "2026-05-14",
        "2026-05-25",
        "2026-06-04",
        "2026-10-03",
        "2027-05-01",
        "2027-05-06",
        "2027-05-17",
        "2027-05-27",
        "2027-10-03",
        "2027-11-01",
        "2028-05-01",
        "2028-05-25",
        "2028-06-05",
        "2028-06-15",
    ];
    let mut out: Vec<_> = ranges
        .iter()
        .map(|(n, a, b)| (n.to_string(), d(a), d(b)))
        .collect();
    out.extend(days.iter().map(|x| ("Feiertag".to_string(), d(x), d(x))));
    out
}

#[derive(Clone)]
struct Res {
    id: i64,
    kind: &'static str,
    parent: Option<usize>,
    parts: Vec<usize>,
    week: Option<Week>,
    buffer: u32,
    min: u32,
    max: u32,
    bookable_by: &'static str,
    requires_approval: bool,
    /// Days closed for maintenance (index into the calendar).
    closed: Vec<usize>,
}

/// Occupancy: one 96-bit mask (15-minute slots) per resource and day.
struct Occ {
    mask: Vec<u128>,
}

impl Occ {
    fn bits(from: u32, to: u32) -> u128 {
        let (a, b) = (from / SLOT_MIN, to.div_ceil(SLOT_MIN).min(96));
        if b <= a {
            return 0;
        }
        (if b - a >= 128 {
            u128::MAX
        } else {
            (1u128 << (b - a)) - 1
        }) << a
    }
    /// Is [from, to) (minutes after local midnight) free on resource `r`, day `day`, with
    /// buffers (conservatively: the own buffer on both sides against everything)?
    fn free(&self, rs: &[Res], r: usize, day: usize, from: u32, to: u32) -> bool {
        let b = rs[r].buffer;
        let want = Self::bits(from.saturating_sub(b), to + b);
        let mut ids = vec![r];
        ids.extend(rs[r].parent);
        ids.extend(rs[r].parts.iter().copied());
        ids.iter().all(|&i| self.mask[i * DAYS + day] & want == 0)
    }
    fn take(&mut self, rs: &[Res], r: usize, day: usize, from: u32, to: u32) {
        let b = rs[r].buffer;
        self.mask[r * DAYS + day] |= Self::bits(from, to + b);
    }
}

fn open_window(r: &Res, date: NaiveDate) -> Option<(u32, u32)> {
    match &r.week {
        None => Some((7 * 60, 22 * 60)),
        Some(w) => w[date.weekday().num_days_from_monday() as usize],
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap()
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Picks a start (minutes) and length for a booking on `r` that day; evenings weighted.
fn pick_time(rng: &mut StdRng, r: &Res, win: (u32, u32), evening_bias: f64) -> (u32, u32) {
    let len = match r.kind {
        "room" => [60, 90, 120, 180][rng.gen_range(0..4)],
        "equipment" => [60, 120, 240][rng.gen_range(0..3)],
        _ => [60, 90, 120][rng.gen_range(0..3)],
    }
    .clamp(r.min, r.max);
    let (lo, hi) = win;
    let latest = hi.saturating_sub(len);
    if latest <= lo {
        return (lo, len);
    }
    let evening_from = (17 * 60).clamp(lo, latest);
    let start = if rng.gen_bool(evening_bias) && evening_from < latest {
        rng.gen_range(evening_from / 30..=latest / 30) * 30
    } else {
        rng.gen_range(lo.div_ceil(30)..=latest / 30) * 30
    };
    (start.max(lo), len)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let t0 = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(a.seed);
    let db = Db::connect(&a.url).await?;
    let modules: Vec<Arc<dyn rathaus_web::Module>> = vec![Arc::new(rathaus_booking::Booking)];
    rathaus_web::module::migrate_all(&db, &modules).await?;
    let conn = &db.conn;
    eprintln!("migrated in {:.1?}", t0.elapsed());

    // ------------------------------------------------ tenant, admin, token
    let hosts = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let t = tenants::create(
        conn,
        &Actor::system("booking_gen"),
        NewTenant {
            slug: &a.slug,
            name: "Stadt Benchingen",
            hosts: &hosts,
        },
    )
    .await?;
    let tid = TenantId(t.id);
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
    let (token, _) = tokens::create(
        conn,
        tid,
        UserId(admin.id),
        rathaus_store::uow::Actor::system("benchmark data"),
        "bench",
    )
    .await?;
    let now = a.now;

    // ------------------------------------------------ organisations and members
    let n_orgs = 120;
    let kinds = ["club", "club", "club", "school", "other"];
    let orgs: Vec<organisation::ActiveModel> = (0..n_orgs)
        .map(|i| {
            let kind = kinds[i % kinds.len()];
            let name = match kind {
                "club" => format!("SV Benchingen {:03} e.V.", i),
                "school" => format!("Schule Nr. {:03}", i),
                _ => format!("Initiative {:03}", i),
            };
            organisation::ActiveModel {
                id: NotSet,
                tenant_id: Set(tid.0),
                name: Set(name),
                kind: Set(kind.into()),
                contact_email: Set(format!("org{i}@bench.example")),
                public_name: Set(i % 3 != 0),
                feed_token: Set(rathaus_store::random_token(24)),
                created_at: Set(now),
            }
        })
        .collect();
    organisation::Entity::insert_many(orgs)
        .exec_without_returning(conn)
        .await?;
    let org_rows: Vec<(i64, String)> = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .column(organisation::Column::Kind)
        .filter(organisation::Column::TenantId.eq(tid.0))
        .order_by_asc(organisation::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    // Members: citizen accounts sharing the admin's password hash (hashing 600 passwords
    // would take longer than everything else).
    let hash = admin.password_hash.clone();
    let n_members = 600;
    let users: Vec<user::ActiveModel> = (0..n_members)
        .map(|i| user::ActiveModel {
            id: NotSet,
            tenant_id: Set(tid.0),
            email: Set(format!("mitglied{i}@bench.example")),
            name: Set(format!("Mitglied {i}")),
            password_hash: Set(hash.clone()),
            active: Set(true),
            department_id: Set(None),
            totp_secret: Set(None),
            totp_enabled: Set(false),
            totp_last_step: Set(None),
            created_at: Set(now),
            kind: Set("citizen".into()),
            email_confirmed_at: Set(Some(now)),
        })
        .collect();
    for c in users.chunks(200) {
        user::Entity::insert_many(c.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    let member_ids: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::TenantId.eq(tid.0))
        .filter(user::Column::Kind.eq("citizen"))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    // Each member belongs to one organisation (5 per organisation); org -> its members.
    let mut members_of: Vec<Vec<i64>> = vec![vec![]; org_rows.len()];
    let mut om = vec![];
    for (i, uid) in member_ids.iter().enumerate() {
        let o = i % org_rows.len();
        members_of[o].push(*uid);
        om.push(org_member::ActiveModel {
            tenant_id: Set(tid.0),
            organisation_id: Set(org_rows[o].0),
            user_id: Set(*uid),
            created_at: Set(now),
        });
    }
    for c in om.chunks(300) {
        org_member::Entity::insert_many(c.to_vec())
            .exec_without_returning(conn)
            .await?;
    }

    // ------------------------------------------------ resources
    let hall_week: Week = {
        let mut w: Week = [Some((8 * 60, 22 * 60)); 7];
        w[5] = Some((9 * 60, 20 * 60));
        w[6] = Some((9 * 60, 20 * 60));
        w
    };
    let field_week: Week = {
        let mut w: Week = [Some((8 * 60, 22 * 60)); 7];
        w[5] = Some((9 * 60, 21 * 60));
        w[6] = Some((9 * 60, 21 * 60));
        w
    };
    let room_week: Week = {
        let mut w: Week = [Some((8 * 60, 22 * 60)); 7];
        w[5] = Some((10 * 60, 22 * 60));
        w[6] = None;
        w
    };
    let streets = [
        "Marktstraße",
        "Waldstraße",
        "Lindenallee",
        "Schulweg",
        "Am Sportpark",
        "Bahnhofstraße",
        "Kirchplatz",
        "Rathausplatz",
        "Gartenstraße",
        "Bergstraße",
    ];
    // (template, count): 30 halls with 3 thirds (120), 40 fields, 100 rooms, 40 equipment.
    let mut rs: Vec<Res> = vec![];
    let mut rows: Vec<resource::ActiveModel> = vec![];
    let add = |rs: &mut Vec<Res>,
               rows: &mut Vec<resource::ActiveModel>,
               name: String,
               r: Res,
               capacity: Option<i32>,
               address: String| {
        let fee = match r.kind {
            "hall" => r#"{"citizen":4000,"club":0,"other":2500,"school":0}"#,
            "hall_part" => r#"{"citizen":1500,"other":1000}"#,
            "room" if r.bookable_by == "public" => r#"{"citizen":1000,"other":500}"#,
            _ => "",
        };
        rows.push(resource::ActiveModel {
            id: NotSet,
            tenant_id: Set(tid.0),
            name: Set(name),
            kind: Set(r.kind.into()),
            parent_id: Set(None),
            capacity: Set(capacity),
            requires_approval: Set(r.requires_approval),
            min_minutes: Set(r.min as i32),
            max_minutes: Set(r.max as i32),
            buffer_minutes: Set(r.buffer as i32),
            horizon_days: Set(if r.kind == "room" { 365 } else { 400 }),
            active: Set(true),
            feed_token: Set(rathaus_store::random_token(24)),
            created_at: Set(now),
            address: Set(address),
            description: Set(String::new()),
            accessibility: Set("Stufenloser Zugang".into()),
            opening_hours: Set(rules::opening_hours_json(r.week.as_ref())),
            bookable_by: Set(r.bookable_by.into()),
            fee_schedule: Set(fee.into()),
            cancel_hours: Set(if r.kind == "room" { 24 } else { 48 }),
            room_id: Set(None),
        });
        rs.push(r);
    };
    let base = Res {
        id: 0,
        kind: "hall",
        parent: None,
        parts: vec![],
        week: Some(hall_week),
        buffer: 15,
        min: 60,
        max: 240,
        bookable_by: "organisations",
        requires_approval: true,
        closed: vec![],
    };
    for h in 0..30 {
        let addr = format!("{} {}, 12345 Benchingen", streets[h % 10], 10 + h);
        let hall = rs.len();
        add(
            &mut rs,
            &mut rows,
            format!("Sporthalle {:02} {}", h + 1, streets[h % 10]),
            base.clone(),
            Some(200),
            addr.clone(),
        );
        for p in ["A", "B", "C"] {
            let idx = rs.len();
            rs[hall].parts.push(idx);
            add(
                &mut rs,
                &mut rows,
                format!("Sporthalle {:02} – Hallendrittel {p}", h + 1),
                Res {
                    kind: "hall_part",
                    parent: Some(hall),
                    ..base.clone()
                },
                Some(60),
                addr.clone(),
            );
        }
    }
    for f in 0..40 {
        add(
            &mut rs,
            &mut rows,
            format!("Sportplatz {:02} {}", f + 1, streets[(f + 3) % 10]),
            Res {
                kind: "field",
                week: Some(field_week),
                buffer: 0,
                min: 60,
                max: 240,
                ..base.clone()
            },
            None,
            format!("{} {}, 12345 Benchingen", streets[(f + 3) % 10], 40 + f),
        );
    }
    for m in 0..100 {
        let public = m % 4 == 0;
        add(
            &mut rs,
            &mut rows,
            format!(
                "Raum {:03} {}",
                m + 1,
                if public { "Bürgerhaus" } else { "Rathaus" }
            ),
            Res {
                kind: "room",
                week: Some(room_week),
                buffer: 0,
                min: 30,
                max: 480,
                bookable_by: if public { "public" } else { "staff" },
                requires_approval: m % 10 == 0,
                ..base.clone()
            },
            Some([6, 10, 25, 80][m % 4]),
            format!("{} {}, 12345 Benchingen", streets[m % 10], 1 + m),
        );
    }
    for e in 0..40 {
        add(
            &mut rs,
            &mut rows,
            format!(
                "Gerät {:02} ({})",
                e + 1,
                ["Beamer", "Lautsprecher", "Stellwände", "Laptop"][e % 4]
            ),
            Res {
                kind: "equipment",
                week: None,
                buffer: 0,
                min: 15,
                max: 1440,
                bookable_by: "staff",
                requires_approval: false,
                ..base.clone()
            },
            None,
            "Rathausplatz 1, 12345 Benchingen".into(),
        );
    }
    resource::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    let ids: Vec<i64> = resource::Entity::find()
        .select_only()
        .column(resource::Column::Id)
        .filter(resource::Column::TenantId.eq(tid.0))
        .order_by_asc(resource::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    anyhow::ensure!(ids.len() == rs.len(), "resource ids");
    for (r, id) in rs.iter_mut().zip(&ids) {
        r.id = *id;
    }
    for r in rs.iter().filter(|r| r.parent.is_some()) {
        let p = rs[r.parent.unwrap()].id;
        resource::Entity::update_many()
            .col_expr(
                resource::Column::ParentId,
                sea_orm::sea_query::Expr::value(p),
            )
            .filter(resource::Column::Id.eq(r.id))
            .exec(conn)
            .await?;
    }

    // ------------------------------------------------ blackouts
    let day0 = first_day();
    let day_of = |x: NaiveDate| (x - day0).num_days() as usize;
    let mut holiday = vec![false; DAYS];
    let mut bl = vec![];
    for (name, from, to) in holidays() {
        for h in &mut holiday[day_of(from)..=day_of(to).min(DAYS - 1)] {
            *h = true;
        }
        bl.push(blackout::ActiveModel {
            id: NotSet,
            tenant_id: Set(tid.0),
            resource_id: Set(None),
            starts_at: Set(local_utc(from.and_time(NaiveTime::MIN))),
            ends_at: Set(local_utc((to + Duration::days(1)).and_time(NaiveTime::MIN))),
            reason: Set(name.clone()),
            source_uid: Set(format!("ferien-{from}")),
            created_at: Set(now),
        });
    }
    // Maintenance: 40 resources closed for a week each.
    for k in 0..40 {
        let r = rng.gen_range(0..rs.len());
        let from = rng.gen_range(0..DAYS - 7);
        rs[r].closed.extend(from..from + 7);
        let f = day0 + Duration::days(from as i64);
        bl.push(blackout::ActiveModel {
            id: NotSet,
            tenant_id: Set(tid.0),
            resource_id: Set(Some(rs[r].id)),
            starts_at: Set(local_utc(f.and_time(NaiveTime::MIN))),
            ends_at: Set(local_utc((f + Duration::days(7)).and_time(NaiveTime::MIN))),
            reason: Set("Wartung".into()),
            source_uid: Set(format!("wartung-{k}")),
            created_at: Set(now),
        });
    }
    // A hall's closure closes its thirds too (blackouts_in looks at the parent).
    for i in 0..rs.len() {
        if let Some(p) = rs[i].parent {
            let c = rs[p].closed.clone();
            rs[i].closed.extend(c);
        }
    }
    let n_blackouts = bl.len();
    blackout::Entity::insert_many(bl)
        .exec_without_returning(conn)
        .await?;

    // ------------------------------------------------ seasons
    let seasons = [
        (
            "Hallensaison 2025/26",
            "2025-09-01",
            "2026-06-30",
            "published",
        ),
        (
            "Hallensaison 2026/27",
            "2026-09-01",
            "2027-06-30",
            "published",
        ),
        (
            "Hallensaison 2027/28",
            "2027-09-01",
            "2028-06-30",
            "published",
        ),
    ];
    season::Entity::insert_many(seasons.iter().map(|(n, f, t, s)| season::ActiveModel {
        id: NotSet,
        tenant_id: Set(tid.0),
        name: Set(n.to_string()),
        starts_on: Set(f.to_string()),
        ends_on: Set(t.to_string()),
        status: Set(s.to_string()),
        created_at: Set(now),
        published_at: Set(Some(now)),
    }))
    .exec_without_returning(conn)
    .await?;
    let season_ids: Vec<i64> = season::Entity::find()
        .select_only()
        .column(season::Column::Id)
        .filter(season::Column::TenantId.eq(tid.0))
        .order_by_asc(season::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;

    let mut occ = Occ {
        mask: vec![0; rs.len() * DAYS],
    };
    let bookable_day = |r: &Res, day: usize| !holiday[day] && !r.closed.contains(&day);

    // ------------------------------------------------ series
    // Halls, thirds and fields carry the club and school training; some rooms have a weekly
    // group. Evenings on weekdays, some Saturday mornings.
    let series_res: Vec<usize> = (0..rs.len())
        .filter(|&i| matches!(rs[i].kind, "hall" | "hall_part" | "field" | "room"))
        .collect();
    let pb = bar(a.n_series as u64, "series planned");
    struct Planned {
        season: usize,
        r: usize,
        org: usize,
        start: NaiveDateTime,
        minutes: i32,
        rrule: String,
        excluded: Vec<NaiveDateTime>,
        occ: Vec<series::Occurrence>,
    }
    let mut planned: Vec<Planned> = vec![];
    let mut tries = 0usize;
    while planned.len() < a.n_series {
        tries += 1;
        if tries > a.n_series * 200 {
            bail!(
                "could not place {} series (placed {})",
                a.n_series,
                planned.len()
            );
        }
        let s = planned.len() * seasons.len() / a.n_series;
        let (sfrom, sto) = (d(seasons[s].1), d(seasons[s].2));
        let mut r = series_res[rng.gen_range(0..series_res.len())];
        if rs[r].kind == "room" && rng.gen_bool(0.6) {
            r = series_res[rng.gen_range(0..series_res.len())];
        }
        let wd = if rng.gen_bool(0.1) {
            5
        } else {
            rng.gen_range(0..5)
        };
        let mut first = sfrom;
        while first.weekday().num_days_from_monday() != wd {
            first += Duration::days(1);
        }
        let Some(win) = open_window(&rs[r], first) else {
            continue;
        };
        let (start, len) = pick_time(&mut rng, &rs[r], win, if wd == 5 { 0.0 } else { 0.9 });
        let until = sto.format("%Y%m%d").to_string();
        let byday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][wd as usize];
        let rrule = format!("FREQ=WEEKLY;BYDAY={byday};UNTIL={until}T235900");
        let dt = first.and_time(NaiveTime::from_hms_opt(start / 60, start % 60, 0).unwrap());
        let Ok((all, _)) = series::expand(dt, len as i32, &rrule, &[]) else {
            continue;
        };
        let (keep, excluded): (Vec<_>, Vec<_>) = all
            .into_iter()
            .partition(|o| bookable_day(&rs[r], day_of(o.local_start.date())));
        if keep.is_empty()
            || !keep
                .iter()
                .all(|o| occ.free(&rs, r, day_of(o.local_start.date()), start, start + len))
        {
            continue;
        }
        for o in &keep {
            occ.take(&rs, r, day_of(o.local_start.date()), start, start + len);
        }
        let kind_pref = if rs[r].kind == "room" {
            "other"
        } else {
            "club"
        };
        let mut org = rng.gen_range(0..org_rows.len());
        if org_rows[org].1 != kind_pref && rng.gen_bool(0.5) {
            org = rng.gen_range(0..org_rows.len());
        }
        planned.push(Planned {
            season: s,
            r,
            org,
            start: dt,
            minutes: len as i32,
            rrule,
            excluded: excluded.iter().map(|o| o.local_start).collect(),
            occ: keep,
        });
        pb.inc(1);
    }
    pb.finish();
    // Insert the series, then their occurrences.
    let pb = bar(planned.len() as u64, "series inserted");
    for chunk in planned.chunks(500) {
        let txn = conn.begin().await?;
        let rows: Vec<series_e::ActiveModel> = chunk
            .iter()
            .map(|p| {
                let r = &rs[p.r];
                let booker =
                    members_of[p.org][p.start.ordinal() as usize % members_of[p.org].len()];
                series_e::ActiveModel {
                    id: NotSet,
                    tenant_id: Set(tid.0),
                    resource_id: Set(r.id),
                    title: Set(format!("Training {}", org_rows[p.org].0)),
                    dtstart_local: Set(p.start.format("%Y-%m-%dT%H:%M").to_string()),
                    duration_minutes: Set(p.minutes),
                    rrule: Set(Rule::parse(&p.rrule)
                        .map(|x| x.to_rrule_string())
                        .unwrap_or(p.rrule.clone())),
                    exdates: Set(p
                        .excluded
                        .iter()
                        .map(|x| x.format("%Y-%m-%dT%H:%M").to_string())
                        .collect::<Vec<_>>()
                        .join(",")),
                    status: Set("confirmed".into()),
                    sequence: Set(0),
                    booked_by: Set(Some(booker)),
                    organisation_id: Set(Some(org_rows[p.org].0)),
                    season_id: Set(Some(season_ids[p.season])),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            })
            .collect();
        series_e::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        // The ids just given, in insert order.
        let got: Vec<i64> = series_e::Entity::find()
            .select_only()
            .column(series_e::Column::Id)
            .filter(series_e::Column::TenantId.eq(tid.0))
            .order_by_desc(series_e::Column::Id)
            .limit(chunk.len() as u64)
            .into_tuple()
            .all(&txn)
            .await?;
        let mut res_rows = vec![];
        for (p, sid) in chunk.iter().zip(got.iter().rev()) {
            let r = &rs[p.r];
            let booker = members_of[p.org][p.start.ordinal() as usize % members_of[p.org].len()];
            let org = &org_rows[p.org];
            for o in &p.occ {
                res_rows.push(reservation::ActiveModel {
                    tenant_id: Set(tid.0),
                    resource_id: Set(r.id),
                    title: Set(format!("Training {}", org.0)),
                    starts_at: Set(o.start),
                    ends_at: Set(o.end),
                    status: Set("confirmed".into()),
                    booked_by: Set(Some(booker)),
                    created_at: Set(now),
                    series_id: Set(Some(*sid)),
                    organisation_id: Set(Some(org.0)),
                    sequence: Set(0),
                    fee_cents: Set(0),
                    fee_group: Set(org.1.clone()),
                    no_show: Set(false),
                    ..Default::default()
                });
            }
        }
        for c in res_rows.chunks(500) {
            reservation::Entity::insert_many(c.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        pb.inc(chunk.len() as u64);
    }
    pb.finish();
    let n_occ: usize = planned.iter().map(|p| p.occ.len()).sum();

    // ------------------------------------------------ single bookings
    // Spread over the first two seasons and the next year: more on the busy kinds, more in
    // the evenings, more at weekends for rooms and fields.
    let last_single = day_of(d("2027-12-31"));
    let weights: Vec<f64> = rs
        .iter()
        .map(|r| match r.kind {
            "hall" => 0.6,
            "hall_part" => 1.0,
            "field" => 1.2,
            "room" => 1.3,
            _ => 0.6,
        })
        .collect();
    let total_w: f64 = weights.iter().sum();
    let pick_res = |rng: &mut StdRng| {
        let mut x = rng.gen_range(0.0..total_w);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    };
    let pb = bar(a.n_singles as u64, "single bookings");
    let admin_id = admin.id;
    let mut buf: Vec<reservation::ActiveModel> = Vec::with_capacity(20_000);
    let mut placed = 0usize;
    let mut tries = 0usize;
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    while placed < a.n_singles {
        tries += 1;
        if tries > a.n_singles * 100 {
            bail!(
                "could not place {} single bookings (placed {placed})",
                a.n_singles
            );
        }
        let r = pick_res(&mut rng);
        let day = rng.gen_range(0..=last_single);
        let date = day0 + Duration::days(day as i64);
        let weekend = date.weekday().num_days_from_monday() >= 5;
        if weekend && rs[r].kind == "room" && rng.gen_bool(0.5) {
            continue;
        }
        if !bookable_day(&rs[r], day) {
            continue;
        }
        let Some(win) = open_window(&rs[r], date) else {
            continue;
        };
        let (start, len) = pick_time(&mut rng, &rs[r], win, if weekend { 0.3 } else { 0.65 });
        if start + len > win.1 || !occ.free(&rs, r, day, start, start + len) {
            continue;
        }
        let s =
            local_utc(date.and_time(NaiveTime::from_hms_opt(start / 60, start % 60, 0).unwrap()));
        let e = s + Duration::minutes(len as i64);
        let status = if rng.gen_bool(0.06) {
            "cancelled"
        } else if rs[r].requires_approval && s > now && rng.gen_bool(0.3) {
            "requested"
        } else {
            "confirmed"
        };
        if status != "cancelled" {
            occ.take(&rs, r, day, start, start + len);
        }
        *statuses.entry(status).or_default() += 1;
        let by_org = rs[r].kind != "equipment" && rng.gen_bool(0.6);
        let (booked_by, org, group) = if by_org {
            let o = rng.gen_range(0..org_rows.len());
            let m = &members_of[o];
            (
                m[rng.gen_range(0..m.len())],
                Some(org_rows[o].0),
                org_rows[o].1.clone(),
            )
        } else if rs[r].bookable_by == "public" && rng.gen_bool(0.5) {
            (
                member_ids[rng.gen_range(0..member_ids.len())],
                None,
                "citizen".to_string(),
            )
        } else {
            (admin_id, None, "staff".to_string())
        };
        buf.push(reservation::ActiveModel {
            tenant_id: Set(tid.0),
            resource_id: Set(rs[r].id),
            title: Set([
                "Training",
                "Sitzung",
                "Kurs",
                "Probe",
                "Turnier",
                "Versammlung",
            ][placed % 6]
                .to_string()),
            starts_at: Set(s),
            ends_at: Set(e),
            status: Set(status.into()),
            booked_by: Set(Some(booked_by)),
            created_at: Set(now),
            series_id: Set(None),
            organisation_id: Set(org),
            sequence: Set(0),
            fee_cents: Set(0),
            fee_group: Set(group),
            no_show: Set(false),
            ..Default::default()
        });
        placed += 1;
        if buf.len() == 20_000 || placed == a.n_singles {
            let txn = conn.begin().await?;
            for c in buf.chunks(500) {
                reservation::Entity::insert_many(c.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            txn.commit().await?;
            pb.inc(buf.len() as u64);
            buf.clear();
        }
    }
    pb.finish();
    // Fresh statistics for the planners (as autovacuum / `PRAGMA optimize` would gather).
    conn.execute_unprepared("ANALYZE").await?;

    // ------------------------------------------------ the busiest public feed
    let (from, to) = rathaus_booking::formats::ical::window(now);
    let per: Vec<(i64, i64)> = reservation::Entity::find()
        .select_only()
        .column(reservation::Column::ResourceId)
        .column_as(
            sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::count(
                sea_orm::sea_query::Expr::col(reservation::Column::Id),
            )),
            "n",
        )
        .filter(reservation::Column::TenantId.eq(tid.0))
        .filter(reservation::Column::StartsAt.lt(to))
        .filter(reservation::Column::EndsAt.gt(from))
        .group_by(reservation::Column::ResourceId)
        .into_tuple()
        .all(conn)
        .await?;
    let count: BTreeMap<i64, i64> = per.into_iter().collect();
    let feed_n = |r: &Res| {
        let mut n = count.get(&r.id).copied().unwrap_or(0);
        n += r
            .parent
            .map(|p| count.get(&rs[p].id).copied().unwrap_or(0))
            .unwrap_or(0);
        n += r
            .parts
            .iter()
            .map(|p| count.get(&rs[*p].id).copied().unwrap_or(0))
            .sum::<i64>();
        n
    };
    let busiest = rs
        .iter()
        .filter(|r| r.bookable_by != "staff")
        .max_by_key(|r| feed_n(r))
        .unwrap();

    // ------------------------------------------------ bookable slots for the load test
    if let Some(path) = &a.slots_file {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        let today = now.with_timezone(&Berlin).date_naive();
        let mut n = 0;
        while n < 50_000 {
            let r = rng.gen_range(0..rs.len());
            let date = today + Duration::days(rng.gen_range(2..330));
            let day = day_of(date);
            if day >= DAYS || !bookable_day(&rs[r], day) {
                continue;
            }
            let Some(win) = open_window(&rs[r], date) else {
                continue;
            };
            let (start, len) = pick_time(&mut rng, &rs[r], win, 0.5);
            if start + len > win.1 {
                continue;
            }
            let s = local_utc(
                date.and_time(NaiveTime::from_hms_opt(start / 60, start % 60, 0).unwrap()),
            );
            let e = s + Duration::minutes(len as i64);
            writeln!(
                f,
                "{} {} {}",
                rs[r].id,
                s.format("%Y-%m-%dT%H:%M:%SZ"),
                e.format("%Y-%m-%dT%H:%M:%SZ")
            )?;
            n += 1;
        }
        f.flush()?;
    }

    let total: u64 = reservation::Entity::find()
        .filter(reservation::Column::TenantId.eq(tid.0))
        .count(conn)
        .await?;
    println!("Tenant: {} (id {})", a.slug, tid.0);
    println!(
        "Data: {} resources ({} halls, {} thirds, {} fields, {} rooms, {} equipment), {} organisations, {} members, {} blackouts, 3 seasons, {} series with {} occurrences, {} single bookings ({:?}), {} reservation rows",
        rs.len(),
        rs.iter().filter(|r| r.kind == "hall").count(),
        rs.iter().filter(|r| r.kind == "hall_part").count(),
        rs.iter().filter(|r| r.kind == "field").count(),
        rs.iter().filter(|r| r.kind == "room").count(),
        rs.iter().filter(|r| r.kind == "equipment").count(),
        org_rows.len(),
        member_ids.len(),
        n_blackouts,
        planned.len(),
        n_occ,
        placed,
        statuses,
        total
    );
    println!(
        "Busiest: {} ({} reservations in its feed window)",
        busiest.id,
        feed_n(busiest)
    );
    println!("Generated in {:.1} s", t0.elapsed().as_secs_f64());
    println!("E-Mail: {}", a.email);
    println!("Passwort: {}", a.password);
    println!("Token: {token}");
    Ok(())
}
