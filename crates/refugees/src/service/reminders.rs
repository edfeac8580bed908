//! The weekly reminder mail (issue 12, section 5): to every user holding
//! `refugees.read_residence`, the permits expiring within the tenant's period (settings), the planned
//! move-outs and the rooms whose repair ends within the next `SOON_DAYS` days. Each list is
//! read as the recipient (their permissions decide what they get); the mails go through the
//! platform's outbox in one transaction with the audit event that records them. German: the
//! clerks of a German municipality.

use rathaus_core::calendar::next_run_berlin;
use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc, Weekday};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Principal, Result, TenantId, UserId};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_store::{Db, accounts, jobs, mail};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::{
    ColumnTrait, DatabaseConnection, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::permissions::READ_RESIDENCE;
use crate::store::{accommodation, occupancy, person, reminder_run, room};

/// The job kind of the weekly run.
pub const JOB: &str = "refugees.reminders";

/// Move-outs and ends of repairs within this many days are listed.
pub const SOON_DAYS: i64 = 30;

/// The most entries of one list a mail names; the count says how many there are in all.
pub const MAX_NAMED: u64 = 100;

/// Monday morning, Europe/Berlin: the week's list before work starts.
const RUN_DAY: Weekday = Weekday::Mon;
const RUN_HOUR: u32 = 6;

const ACTOR: Actor<'static> = Actor::system("refugees.reminders");

/// One list of the mail: how many in all, and the first `MAX_NAMED` as lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub total: u64,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reminders {
    /// The tenant's period for `expiring`, in days.
    pub expiry_days: i64,
    pub expiring: Section,
    pub move_outs: Section,
    pub repairs: Section,
}

impl Reminders {
    pub fn is_empty(&self) -> bool {
        self.expiring.total == 0 && self.move_outs.total == 0 && self.repairs.total == 0
    }
}

fn de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// What `by` is reminded of on `today`; needs `refugees.read_residence`.
pub async fn reminders_for(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    today: NaiveDate,
) -> Result<Reminders> {
    by.require(READ_RESIDENCE)?;
    let scope = Scope::new(db, tenant, by)?;
    let soon = today + Duration::days(SOON_DAYS);
    let expiry_days = super::settings::expiry_days(db, tenant).await?;

    let expiring_q = scope
        .find::<person::Entity>()
        .filter(person::Column::AnonymisedAt.is_null())
        .filter(person::Column::PermitValidUntil.gte(today))
        .filter(person::Column::PermitValidUntil.lt(today + Duration::days(expiry_days)));
    let total = expiring_q.clone().count(db).await?;
    let lines = expiring_q
        .order_by_asc(person::Column::PermitValidUntil)
        .order_by_asc(person::Column::Surname)
        .limit(MAX_NAMED)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let until = p.permit_valid_until.map(de).unwrap_or_default();
            format!("{}, {}: {until}", p.surname, p.given_names)
        })
        .collect();
    let expiring = Section { total, lines };

    let out_q = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::EndsOn.gt(today))
        .filter(occupancy::Column::EndsOn.lte(soon));
    let total = out_q.clone().count(db).await?;
    let outs = out_q
        .order_by_asc(occupancy::Column::EndsOn)
        .order_by_asc(occupancy::Column::Id)
        .limit(MAX_NAMED)
        .all(db)
        .await?;
    let names: HashMap<i64, String> = scope
        .find::<person::Entity>()
        .filter(person::Column::Id.is_in(outs.iter().map(|o| o.person_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, format!("{}, {}", p.surname, p.given_names)))
        .collect();
    let rooms = room_names(
        db,
        &scope,
        outs.iter().map(|o| (o.accommodation_id, o.room_id)),
    )
    .await?;
    let move_outs = Section {
        total,
        lines: outs
            .iter()
            .map(|o| {
                format!(
                    "{} ({}): {}",
                    names.get(&o.person_id).map_or("", String::as_str),
                    rooms.get(&o.room_id).map_or("", String::as_str),
                    o.ends_on.map(de).unwrap_or_default()
                )
            })
            .collect(),
    };

    let rep_q = scope
        .find::<room::Entity>()
        .filter(room::Column::ClosedUntil.gte(today))
        .filter(room::Column::ClosedUntil.lte(soon));
    let total = rep_q.clone().count(db).await?;
    let reps = rep_q
        .order_by_asc(room::Column::ClosedUntil)
        .order_by_asc(room::Column::Id)
        .limit(MAX_NAMED)
        .all(db)
        .await?;
    let rooms = room_names(db, &scope, reps.iter().map(|r| (r.accommodation_id, r.id))).await?;
    let repairs = Section {
        total,
        lines: reps
            .iter()
            .map(|r| {
                format!(
                    "{}: {}",
                    rooms.get(&r.id).map_or("", String::as_str),
                    r.closed_until.map(de).unwrap_or_default()
                )
            })
            .collect(),
    };
    Ok(Reminders {
        expiry_days,
        expiring,
        move_outs,
        repairs,
    })
}

/// "Accommodation · room" by room id.
async fn room_names(
    db: &DatabaseConnection,
    scope: &Scope<'_, DatabaseConnection>,
    pairs: impl Iterator<Item = (i64, i64)>,
) -> Result<HashMap<i64, String>> {
    let (accs, rooms): (Vec<i64>, Vec<i64>) = pairs.unzip();
    let accs: HashMap<i64, String> = scope
        .find::<accommodation::Entity>()
        .filter(accommodation::Column::Id.is_in(accs))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    Ok(scope
        .find::<room::Entity>()
        .filter(room::Column::Id.is_in(rooms))
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let a = accs.get(&r.accommodation_id).map_or("", String::as_str);
            (r.id, format!("{a} · {}", r.name))
        })
        .collect())
}

/// The mail: subject and text (German).
pub fn compose(r: &Reminders, today: NaiveDate) -> (String, String) {
    let t = catalog(Lang::De);
    let subject = t.fmt("refugees.mail.subject", &de(today));
    let mut b = format!("{}\n", t.get("refugees.mail.intro"));
    for (key, days, s) in [
        ("refugees.mail.expiring", r.expiry_days, &r.expiring),
        ("refugees.mail.move_outs", SOON_DAYS, &r.move_outs),
        ("refugees.mail.repairs", SOON_DAYS, &r.repairs),
    ] {
        let heading = t
            .fmt(key, &s.total.to_string())
            .replace("{days}", &days.to_string());
        b.push_str(&format!("\n{heading}\n"));
        for l in &s.lines {
            b.push_str(&format!("- {l}\n"));
        }
        let more = s.total.saturating_sub(s.lines.len() as u64);
        if more > 0 {
            b.push_str(&format!(
                "{}\n",
                t.fmt("refugees.mail.more", &more.to_string())
            ));
        }
    }
    b.push_str(&format!("\n{}\n", t.get("refugees.mail.footer")));
    (subject, b)
}

/// The active staff of the tenant who hold `refugees.read_residence`.
async fn recipients(conn: &DatabaseConnection, tenant: TenantId) -> Result<Vec<Principal>> {
    let mut out = Vec::new();
    for u in accounts::list_active_staff(conn, tenant).await? {
        if u.email.is_empty() {
            continue;
        }
        if let Some(p) = accounts::principal(conn, tenant, UserId(u.id)).await?
            && p.has(READ_RESIDENCE)
        {
            out.push(p);
        }
    }
    Ok(out)
}

/// Mails each recipient their reminders of `today` (none when they have nothing to be
/// reminded of) and records the run; returns how many mails were queued. A second call for
/// the same day (a retried job) mails nobody: the run's row is written with the mails, and
/// its unique key refuses a concurrent second one.
pub async fn send(db: &DatabaseConnection, tenant: TenantId, today: NaiveDate) -> Result<usize> {
    if already_mailed(db, tenant, today).await? {
        return Ok(0);
    }
    let mut mails = Vec::new();
    for p in recipients(db, tenant).await? {
        let r = reminders_for(db, Actor::User(&p), tenant, today).await?;
        if !r.is_empty() {
            mails.push((p.email.clone(), p.user_id.0, compose(&r, today)));
        }
    }
    let tx = Tx::begin(db, tenant, ACTOR).await?;
    tx.insert(reminder_run::ActiveModel {
        mailed_on: Set(today),
        mails: Set(i32::try_from(mails.len()).unwrap_or(i32::MAX)),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .await?;
    for (to, _, (subject, body)) in &mails {
        mail::queue(tx.conn(), tenant, to, subject, body).await?;
    }
    tx.audit(
        NewEvent::new("refugees.reminders_mailed", "refugees_person", None::<i64>).details(
            serde_json::json!({
                "on": today,
                "recipients": mails.iter().map(|m| m.1).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(mails.len())
}

async fn already_mailed(
    db: &DatabaseConnection,
    tenant: TenantId,
    today: NaiveDate,
) -> Result<bool> {
    let scope = Scope::new(db, tenant, ACTOR)?;
    Ok(scope
        .find::<reminder_run::Entity>()
        .filter(reminder_run::Column::MailedOn.eq(today))
        .count(db)
        .await?
        > 0)
}

/// Queues the weekly run for every tenant without one pending (at migrate).
pub async fn schedule_all(db: &Db) -> Result<usize> {
    let at = next_run_berlin(Utc::now(), RUN_HOUR, 0, Some(RUN_DAY));
    jobs::schedule_for_all_tenants(&db.conn, JOB, at).await
}

/// One weekly run for a tenant: next week's run queued first, so a failing run (retried by
/// the queue) never breaks the chain, then the mails.
pub async fn run_weekly(db: &Db, tenant: TenantId) -> Result<usize> {
    let next = next_run_berlin(Utc::now(), RUN_HOUR, 1, Some(RUN_DAY));
    jobs::queue_successor(&db.conn, tenant, JOB, next).await?;
    send(&db.conn, tenant, super::today()).await
}
