//! The daily follow-up mail (issue 11, item 3): on the day a follow-up (Wiedervorlage) is
//! due, its person — or each member of its department who may open the file — gets one mail
//! listing everything due for them, with links. Each sent item is recorded per person
//! (`records_follow_up_notices`, in the transaction that queues the mails in the platform
//! outbox), so a second run on the same day mails nothing twice. German: the clerks of a
//! German municipality.
//!
//! The job queues the next day's run before it works (guarded against duplicates), so a
//! failing run never stops the chain.

use rathaus_core::calendar::next_run_berlin;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Principal, Result, TenantId, UserId};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_store::{Db, accounts, jobs, mail, tenants};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};

use super::access::Filter;
use crate::domain::{AccessClass, Coded};
use crate::store::entity::{case, file, follow_up, follow_up_notice};

/// The job kind of the daily run.
pub const JOB: &str = "records.follow_up_mail";

/// Early morning, Europe/Berlin: the day's list before work starts.
const RUN_HOUR: u32 = 6;

/// Follow-ups due up to this many days ago that were never mailed (the server was down on
/// their day) are still mailed, once.
pub const CATCH_UP_DAYS: i64 = 7;

const ACTOR: Actor<'static> = Actor::system("records.follow_up_mail");

/// One due follow-up as a recipient sees it in the mail.
#[derive(Debug, Clone)]
pub struct Item {
    pub follow_up: follow_up::Model,
    pub file: file::Model,
    pub case_title: Option<String>,
}

/// One recipient's mail: who and what.
#[derive(Debug, Clone)]
pub struct Letter {
    pub to: Principal,
    pub items: Vec<Item>,
}

fn de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// Who gets which follow-ups on `today`: open follow-ups due between `CATCH_UP_DAYS` ago and
/// today, not yet mailed to that person; a person's own ones, and a department's to its
/// active members; each only to someone whose permissions open the file.
pub async fn letters(
    db: &DatabaseConnection,
    tenant: TenantId,
    today: NaiveDate,
) -> Result<Vec<Letter>> {
    let s = Scope::new(db, tenant, ACTOR)?;
    let due = s
        .find::<follow_up::Entity>()
        .filter(follow_up::Column::DoneAt.is_null())
        .filter(follow_up::Column::DueOn.lte(today))
        .filter(follow_up::Column::DueOn.gte(today - Duration::days(CATCH_UP_DAYS)))
        .order_by_asc(follow_up::Column::DueOn)
        .order_by_asc(follow_up::Column::Id)
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = due.iter().map(|f| f.id).collect();
    let files: HashMap<i64, file::Model> = s
        .find::<file::Entity>()
        .filter(file::Column::Id.is_in(due.iter().map(|f| f.file_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let cases: HashMap<i64, String> = s
        .find::<case::Entity>()
        .filter(case::Column::Id.is_in(due.iter().filter_map(|f| f.case_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    let sent: HashSet<(i64, i64)> = s
        .find::<follow_up_notice::Entity>()
        .filter(follow_up_notice::Column::FollowUpId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.follow_up_id, n.user_id))
        .collect();
    let staff = accounts::list_active_staff(db, tenant).await?;

    // Principals are loaded once per person; those without an address get nothing.
    let mut principals: HashMap<i64, Option<Principal>> = HashMap::new();
    let mut out: BTreeMap<i64, Letter> = BTreeMap::new();
    for fu in due {
        let Some(f) = files.get(&fu.file_id) else {
            continue;
        };
        let Some(class) = AccessClass::parse(&f.access) else {
            continue;
        };
        let mut who: Vec<i64> = fu.user_id.into_iter().collect();
        if let Some(d) = fu.department_id {
            who.extend(
                staff
                    .iter()
                    .filter(|u| u.department_id == Some(d))
                    .map(|u| u.id),
            );
        }
        who.sort_unstable();
        who.dedup();
        for uid in who {
            if sent.contains(&(fu.id, uid))
                || !staff.iter().any(|u| u.id == uid && !u.email.is_empty())
            {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = principals.entry(uid) {
                e.insert(accounts::principal(db, tenant, UserId(uid)).await?);
            }
            let Some(Some(p)) = principals.get(&uid) else {
                continue;
            };
            if !Filter::of(Actor::User(p)).allows(class) {
                continue;
            }
            out.entry(uid)
                .or_insert_with(|| Letter {
                    to: p.clone(),
                    items: Vec::new(),
                })
                .items
                .push(Item {
                    follow_up: fu.clone(),
                    file: f.clone(),
                    case_title: fu.case_id.and_then(|c| cases.get(&c).cloned()),
                });
        }
    }
    Ok(out.into_values().collect())
}

/// `https://host` of the tenant for links in mails: its first host name; without one (an
/// installation serving one tenant on any host) `RATHAUS_PUBLIC_URL`, else no origin (the
/// links are paths then).
async fn origin(db: &DatabaseConnection, tenant: TenantId) -> Result<String> {
    let hosts = tenants::list(db)
        .await?
        .into_iter()
        .find(|(t, _)| t.id == tenant.0)
        .map(|(_, h)| h)
        .unwrap_or_default();
    Ok(match hosts.into_iter().min() {
        Some(h) => format!("https://{h}"),
        None => std::env::var("RATHAUS_PUBLIC_URL")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string(),
    })
}

/// The mail: subject and text (German).
pub fn compose(l: &Letter, today: NaiveDate, origin: &str) -> (String, String) {
    let t = catalog(Lang::De);
    let subject = t.fmt("records.mail.follow_ups_subject", &de(today));
    let mut b = format!(
        "{}\n\n{}\n",
        t.fmt("records.mail.follow_ups_hello", &l.to.name),
        t.fmt("records.mail.follow_ups_intro", &l.items.len().to_string())
    );
    for i in &l.items {
        b.push_str(&format!("\n- {} {}\n", i.file.file_number, i.file.title));
        if let Some(c) = &i.case_title {
            b.push_str(&format!("  {}\n", t.fmt("records.mail.follow_ups_case", c)));
        }
        b.push_str(&format!(
            "  {}\n",
            t.fmt("records.mail.follow_ups_due", &de(i.follow_up.due_on))
        ));
        if !i.follow_up.note.is_empty() {
            b.push_str(&format!("  {}\n", i.follow_up.note));
        }
        b.push_str(&format!("  {origin}/akten/akte/{}\n", i.file.id));
    }
    b.push_str(&format!(
        "\n{}\n{origin}/akten/wiedervorlagen\n",
        t.get("records.mail.follow_ups_footer")
    ));
    (subject, b)
}

/// Mails each person their follow-ups due on `today` (one mail each, through the outbox),
/// records what was sent and audits the run, all in one transaction; returns how many mails.
pub async fn send(db: &DatabaseConnection, tenant: TenantId, today: NaiveDate) -> Result<usize> {
    let letters = letters(db, tenant, today).await?;
    if letters.is_empty() {
        return Ok(0);
    }
    let origin = origin(db, tenant).await?;
    let now = Utc::now();
    let tx = Tx::begin(db, tenant, ACTOR).await?;
    let mut items = 0;
    for l in &letters {
        let (subject, body) = compose(l, today, &origin);
        mail::queue(tx.conn(), tenant, &l.to.email, &subject, &body).await?;
        for i in &l.items {
            // The unique (follow-up, person) index makes a concurrent second run fail
            // instead of mailing twice.
            tx.insert(follow_up_notice::ActiveModel {
                follow_up_id: Set(i.follow_up.id),
                user_id: Set(l.to.user_id.0),
                sent_on: Set(today),
                sent_at: Set(now),
                ..Default::default()
            })
            .await?;
            items += 1;
        }
    }
    tx.audit(
        NewEvent::new(
            "records.follow_ups_mailed",
            super::files::OBJECT,
            None::<i64>,
        )
        .details(serde_json::json!({
            "on": today,
            "recipients": letters.iter().map(|l| l.to.user_id.0).collect::<Vec<_>>(),
            "items": items,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(letters.len())
}

/// Queues the first run for every tenant without one waiting (at migrate).
pub async fn schedule_all(db: &Db) -> Result<usize> {
    let at = next_run_berlin(Utc::now(), RUN_HOUR, 0, None);
    jobs::schedule_for_all_tenants(&db.conn, JOB, at).await
}

/// One daily run for a tenant: first the next day's run is queued (so a failure today does
/// not end the chain, and a retry queues no second one), then today's mails.
pub async fn run_daily(db: &Db, tenant: TenantId) -> Result<usize> {
    let next = next_run_berlin(Utc::now(), RUN_HOUR, 1, None);
    jobs::queue_successor(&db.conn, tenant, JOB, next).await?;
    send(&db.conn, tenant, super::today()).await
}
