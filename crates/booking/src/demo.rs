//! Demo data of the booking module for `rathaus serve --demo`: a sports hall with three
//! thirds, a field, the council chamber, meeting rooms, a room citizens can book, a projector;
//! a club and a school; NRW school holidays as blackouts; an open hall season. The data (German
//! names and texts) lives in `demo/demo.toml`; this file only writes it.

use crate::domain::time::midnight_utc as local_midnight;
use crate::service::rules::Week;
use crate::service::{self, ResourceInput};
use crate::store::entity::{blackout, org_member, organisation, season};
use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::Principal;
use rathaus_store::uow::{Actor, Tx};
use rathaus_store::{Db, accounts};
use sea_orm::Set;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The demo citizen created by the binary's demo; in the demo she is also the club's member.
pub const DEMO_MEMBER_EMAIL: &str = "buergerin@beispielstadt.example";

/// The data file, parsed when the demo runs.
const DATA: &str = include_str!("demo/demo.toml");

#[derive(Deserialize)]
struct Data {
    holiday_note: String,
    season_name: String,
    resources: Vec<Resource>,
    organisations: Vec<Organisation>,
    holidays: Vec<Holiday>,
}

#[derive(Deserialize)]
struct Resource {
    /// Names the resource for `parent` and `room` of later entries.
    key: Option<String>,
    name: String,
    kind: String,
    parent: Option<String>,
    room: Option<String>,
    capacity: Option<i32>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    accessibility: Vec<String>,
    bookable_by: Option<String>,
    #[serde(default)]
    requires_approval: bool,
    min_minutes: Option<i32>,
    max_minutes: Option<i32>,
    buffer_minutes: Option<i32>,
    horizon_days: Option<i32>,
    cancel_hours: Option<i32>,
    opening: Option<Opening>,
    #[serde(default)]
    fees: BTreeMap<String, i64>,
}

/// Opening hours: the same on weekdays, another (or closed) on Saturday and Sunday.
#[derive(Deserialize)]
struct Opening {
    weekdays: (u32, u32),
    weekend: Option<(u32, u32)>,
}

#[derive(Deserialize)]
struct Organisation {
    name: String,
    kind: String,
    contact_email: String,
    public_name: bool,
    #[serde(default)]
    demo_member: bool,
}

#[derive(Deserialize)]
struct Holiday {
    name: String,
    from: NaiveDate,
    to: NaiveDate,
}

fn week(o: &Opening) -> Week {
    let mut w: Week = [Some(o.weekdays); 7];
    w[5] = o.weekend;
    w[6] = o.weekend;
    w
}

pub async fn demo(db: &Db, admin: &Principal) -> anyhow::Result<()> {
    let data: Data = toml::from_str(DATA)?;
    let conn = &db.conn;
    let by = Actor::User(admin);
    let tid = admin.tenant_id;
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    let id_of =
        |ids: &BTreeMap<String, i64>, key: &Option<String>| -> anyhow::Result<Option<i64>> {
            key.as_ref()
                .map(|k| {
                    ids.get(k)
                        .copied()
                        .ok_or_else(|| anyhow::anyhow!("demo.toml: unknown resource key {k}"))
                })
                .transpose()
        };
    for r in &data.resources {
        let mut inp = ResourceInput::new(&r.name, &r.kind);
        inp.parent_id = id_of(&ids, &r.parent)?;
        inp.room_id = id_of(&ids, &r.room)?;
        inp.capacity = r.capacity;
        inp.address = r.address.clone();
        inp.description = r.description.clone();
        inp.accessibility = r.accessibility.join("\n");
        if let Some(b) = &r.bookable_by {
            inp.bookable_by = b.clone();
        }
        inp.requires_approval = r.requires_approval;
        inp.min_minutes = r.min_minutes.unwrap_or(inp.min_minutes);
        inp.max_minutes = r.max_minutes.unwrap_or(inp.max_minutes);
        inp.buffer_minutes = r.buffer_minutes.unwrap_or(inp.buffer_minutes);
        inp.horizon_days = r.horizon_days.unwrap_or(inp.horizon_days);
        inp.cancel_hours = r.cancel_hours.unwrap_or(inp.cancel_hours);
        inp.opening_hours = r.opening.as_ref().map(week);
        inp.fee_schedule = r.fees.clone();
        let made = service::create_resource(conn, by, inp).await?;
        if let Some(k) = &r.key {
            ids.insert(k.clone(), made.id);
        }
    }

    // Organisations, holidays and the season in one unit of work of the admin.
    let now = Utc::now();
    let member = accounts::find_by_email(conn, tid, DEMO_MEMBER_EMAIL).await?;
    let tx = Tx::begin(conn, tid, by).await?;
    for o in &data.organisations {
        let org = tx
            .insert(organisation::ActiveModel {
                name: Set(o.name.clone()),
                kind: Set(o.kind.clone()),
                contact_email: Set(o.contact_email.clone()),
                public_name: Set(o.public_name),
                feed_token: Set(rathaus_store::random_token(service::FEED_TOKEN_BYTES)),
                created_at: Set(now),
                ..Default::default()
            })
            .await?;
        if let (true, Some(u)) = (o.demo_member, &member) {
            tx.insert(org_member::ActiveModel {
                organisation_id: Set(org.id),
                user_id: Set(u.id),
                created_at: Set(now),
                ..Default::default()
            })
            .await?;
        }
    }
    for h in &data.holidays {
        tx.insert(blackout::ActiveModel {
            resource_id: Set(None),
            starts_at: Set(local_midnight(h.from)),
            ends_at: Set(local_midnight(h.to + chrono::Duration::days(1))),
            reason: Set(format!("{} ({})", h.name, data.holiday_note)),
            source_uid: Set(format!("demo-{}-{}", h.name, h.from)),
            created_at: Set(now),
            ..Default::default()
        })
        .await?;
    }
    let y: i32 = now
        .with_timezone(&Berlin)
        .date_naive()
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2026);
    tx.insert(season::ActiveModel {
        name: Set(format!("{} {}/{}", data.season_name, y + 1, (y + 2) % 100)),
        starts_on: Set(format!("{}-09-01", y + 1)),
        ends_on: Set(format!("{}-06-30", y + 2)),
        status: Set(crate::domain::SeasonStatus::Open.to_string()),
        created_at: Set(now),
        ..Default::default()
    })
    .await?;
    tx.commit().await?;
    Ok(())
}
