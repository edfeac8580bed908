//! Blackout periods (Sperrzeiten): days on which a resource, or every resource of the tenant,
//! cannot be booked: school holidays, public holidays, maintenance. Staff with
//! `booking.manage` enter them by hand (whole local days, `from` to `to` inclusive) or import
//! them from an iCalendar file as published for school and public holidays (all-day VEVENTs
//! with `DTSTART;VALUE=DATE` and an exclusive `DTEND`, or date-times). A repeated import of
//! the same file updates the periods it made before (matched by the event's UID) instead of
//! doubling them. Or they take over the public and school holidays of the tenant's Land
//! (`rathaus_core::calendar`, chosen in the tenant's settings) for a year; each holiday has a
//! stable UID (`domain::holidays`), so a second take-over doubles nothing.
//!
//! Stored as UTC `starts_at`/`ends_at` from local midnights (Europe/Berlin), so a blackout
//! covers whole local days whatever the clock change. `rules::check_slot` reads the table.
//!
//! Pages: `/buchung/sperrzeiten` (list, add form, upload), `POST /buchung/sperrzeiten/{id}/loeschen`,
//! `POST /buchung/sperrzeiten/import?_csrf=…` (multipart: the CSRF token is in the query),
//! `POST /buchung/sperrzeiten/kalender` (take over the holidays).

use crate::domain::BlackoutId;
use crate::domain::ResourceId;
use crate::domain::holidays::{self, HolidayChoice};
use crate::formats::ics_import::parse_events;
pub use crate::formats::ics_import::{MAX_DAYS, MAX_IMPORT_EVENTS};

pub use crate::domain::time::midnight_utc;
use crate::permissions::MANAGE;
use crate::service::person;
use crate::store::entity::{blackout, resource};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::calendar::{Land, school_years_known};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::db_err;
use rathaus_store::uow::{Actor, Tx};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::HashMap;
use std::ops::RangeInclusive;

pub use blackout::Model as Blackout;

/// The largest iCalendar file accepted (2 MiB).
pub const MAX_ICS_BYTES: usize = 2 * 1024 * 1024;
/// How many blackouts the list shows at once (from the chosen day on).
pub const LIST_LIMIT: u64 = 500;
pub const MAX_REASON: usize = 200;

// ---------------------------------------------------------------- service

/// The local days a blackout covers: first and last (inclusive).
pub fn local_days(b: &Blackout) -> (NaiveDate, NaiveDate) {
    let first = b.starts_at.with_timezone(&Berlin).date_naive();
    // The end is exclusive: the last covered instant's day.
    let last = (b.ends_at - Duration::seconds(1))
        .with_timezone(&Berlin)
        .date_naive();
    (first, last.max(first))
}

async fn check_resource(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_id: Option<i64>,
    errs: &mut FieldErrors,
) -> Result<()> {
    if let Some(id) = resource_id {
        let found = rathaus_store::uow::scoped_by_id::<resource::Entity, _>(tenant, id)
            .one(conn)
            .await?;
        if found.is_none() {
            errs.add("resource_id", "err.invalid_choice");
        }
    }
    Ok(())
}

/// The tenant's blackouts that end on or after local day `from`, by start, at most
/// `LIST_LIMIT` (permission `booking.manage`).
pub async fn list_blackouts(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    from: NaiveDate,
) -> Result<Vec<Blackout>> {
    let who = person(by)?;
    by.require(MANAGE)?;
    rathaus_store::uow::scoped::<blackout::Entity>(who.tenant_id)
        .filter(blackout::Column::EndsAt.gt(midnight_utc(from)))
        .order_by_asc(blackout::Column::StartsAt)
        .order_by_asc(blackout::Column::Id)
        .limit(LIST_LIMIT)
        .all(conn)
        .await
        .map_err(db_err)
}

/// The blackouts touching [from, to) that apply to one of `resource_ids` or to all
/// resources: for rules and views (no permission needed: blackouts are public facts).
pub async fn blackouts_between(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_ids: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Blackout>> {
    use sea_orm::Condition;
    rathaus_store::uow::scoped::<blackout::Entity>(tenant)
        .filter(blackout::Column::StartsAt.lt(to))
        .filter(blackout::Column::EndsAt.gt(from))
        .filter(
            Condition::any()
                .add(blackout::Column::ResourceId.is_null())
                .add(blackout::Column::ResourceId.is_in(resource_ids.iter().copied())),
        )
        .order_by_asc(blackout::Column::StartsAt)
        .all(conn)
        .await
        .map_err(db_err)
}

fn blackout_json(b: &Blackout) -> serde_json::Value {
    json!({
        "resource_id": b.resource_id, "starts_at": b.starts_at, "ends_at": b.ends_at,
        "reason": b.reason, "source_uid": b.source_uid,
    })
}

/// Adds a blackout of whole local days `from` to `to` (inclusive) for one resource or, with
/// `None`, every resource (permission `booking.manage`).
pub async fn add_blackout(
    db: &DatabaseConnection,
    by: Actor<'_>,
    resource_id: Option<ResourceId>,
    from: NaiveDate,
    to: NaiveDate,
    reason: &str,
) -> Result<Blackout> {
    let resource_id = resource_id.map(i64::from);
    let who = person(by)?;
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let reason = errs.text("reason", reason, MAX_REASON);
    if to < from {
        errs.add("to", "booking.blackouts.err.to_before_from");
    } else if (to - from).num_days() >= MAX_DAYS {
        errs.add_arg("to", "booking.blackouts.err.too_long", Some(MAX_DAYS));
    }
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    check_resource(tx.conn(), who.tenant_id, resource_id, &mut errs).await?;
    errs.into_result()?;
    let b = blackout::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        resource_id: Set(resource_id),
        starts_at: Set(midnight_utc(from)),
        ends_at: Set(midnight_utc(to + Duration::days(1))),
        reason: Set(reason),
        source_uid: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(tx.conn())
    .await?;
    tx.audit(
        NewEvent::new("booking.blackout.created", "booking_blackout", Some(b.id))
            .details(blackout_json(&b)),
    )
    .await?;
    tx.commit().await?;
    Ok(b)
}

/// Deletes a blackout (permission `booking.manage`); another tenant's is NotFound.
pub async fn delete_blackout(db: &DatabaseConnection, by: Actor<'_>, id: BlackoutId) -> Result<()> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let b = rathaus_store::uow::scoped_by_id::<blackout::Entity, _>(who.tenant_id, id)
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    blackout::Entity::delete_by_id(id).exec(tx.conn()).await?;
    tx.audit(
        NewEvent::new("booking.blackout.deleted", "booking_blackout", Some(id))
            .details(blackout_json(&b)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// New blackouts.
    pub created: usize,
    /// Blackouts of an earlier import whose dates or reason changed.
    pub updated: usize,
    /// Events that could not become a blackout (recurring, cancelled, without a start, …).
    pub skipped: usize,
    /// Events already imported as they are.
    pub unchanged: usize,
}

/// Imports the events of an iCalendar file (at most `MAX_ICS_BYTES`) as blackouts of one
/// resource or, with `None`, of every resource (permission `booking.manage`). An event seen
/// before (same UID, same resource choice) updates its blackout. Everything or nothing is
/// stored, with one audit event.
pub async fn import_ics(
    db: &DatabaseConnection,
    by: Actor<'_>,
    resource_id: Option<ResourceId>,
    bytes: &[u8],
) -> Result<ImportSummary> {
    let resource_id = resource_id.map(i64::from);
    let who = person(by)?;
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let events = if bytes.len() > MAX_ICS_BYTES {
        errs.add_arg("file", "booking.blackouts.err.too_large", Some("2 MB"));
        vec![]
    } else {
        match parse_events(bytes) {
            Ok(e) => e,
            Err(key) => {
                errs.add("file", key);
                vec![]
            }
        }
    };
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    check_resource(tx.conn(), who.tenant_id, resource_id, &mut errs).await?;
    errs.into_result()?;

    let mut existing = by_uid(&tx, resource_id).await?;
    let mut sum = ImportSummary::default();
    let now = Utc::now();
    for ev in events {
        let Some(p) = ev.period() else {
            sum.skipped += 1;
            continue;
        };
        let reason: String = ev.summary.trim().chars().take(MAX_REASON).collect();
        let reason = if reason.is_empty() {
            "Import".to_string()
        } else {
            reason
        };
        let row = Period {
            uid: &ev.uid,
            starts_at: p.0,
            ends_at: p.1,
            reason,
        };
        upsert(&tx, resource_id, &mut existing, row, now, &mut sum).await?;
    }
    tx.audit(
        NewEvent::new("booking.blackout.imported", "booking_blackout", None::<i64>).details(
            json!({
                "resource_id": resource_id, "created": sum.created, "updated": sum.updated,
                "skipped": sum.skipped, "unchanged": sum.unchanged, "bytes": bytes.len(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(sum)
}

/// The blackouts an earlier import or take-over made for this resource choice, by UID.
async fn by_uid(tx: &Tx<'_>, resource_id: Option<i64>) -> Result<HashMap<String, Blackout>> {
    Ok(tx
        .find::<blackout::Entity>()
        .filter(match resource_id {
            Some(r) => blackout::Column::ResourceId.eq(r),
            None => blackout::Column::ResourceId.is_null(),
        })
        .filter(blackout::Column::SourceUid.ne(""))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|b| (b.source_uid.clone(), b))
        .collect())
}

/// One period to store under a UID.
struct Period<'a> {
    uid: &'a str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: String,
}

/// Creates the blackout of `p`, updates the one made before under its UID, or leaves it as
/// it is; counts which.
async fn upsert(
    tx: &Tx<'_>,
    resource_id: Option<i64>,
    existing: &mut HashMap<String, Blackout>,
    p: Period<'_>,
    now: DateTime<Utc>,
    sum: &mut ImportSummary,
) -> Result<()> {
    match existing.get(p.uid) {
        Some(b) if b.starts_at == p.starts_at && b.ends_at == p.ends_at && b.reason == p.reason => {
            sum.unchanged += 1;
        }
        Some(b) => {
            let mut am: blackout::ActiveModel = b.clone().into();
            am.starts_at = Set(p.starts_at);
            am.ends_at = Set(p.ends_at);
            am.reason = Set(p.reason);
            let b = am.update(tx.conn()).await?;
            existing.insert(p.uid.to_string(), b);
            sum.updated += 1;
        }
        None => {
            let b = tx
                .insert(blackout::ActiveModel {
                    resource_id: Set(resource_id),
                    starts_at: Set(p.starts_at),
                    ends_at: Set(p.ends_at),
                    reason: Set(p.reason),
                    source_uid: Set(p.uid.to_string()),
                    created_at: Set(now),
                    ..Default::default()
                })
                .await?;
            existing.insert(p.uid.to_string(), b);
            sum.created += 1;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- holiday calendar

/// The tenant's Land, whose holidays `take_over_holidays` uses, and the years for which its
/// school holidays are on record.
#[derive(Debug, Clone)]
pub struct HolidayCalendar {
    pub land: Land,
    pub school_years: Option<RangeInclusive<i32>>,
}

/// The calendar the take-over form offers (permission `booking.manage`).
pub async fn holiday_calendar(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
) -> Result<HolidayCalendar> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let land = rathaus_store::tenants::land_of(conn, who.tenant_id).await?;
    Ok(HolidayCalendar {
        land,
        school_years: school_years_known(land),
    })
}

/// Takes over the public holidays and/or school holidays of the tenant's Land (its settings)
/// in `year` as blackouts of one resource or, with `None`, of every resource (permission
/// `booking.manage`). Each holiday has a stable UID: running it again for the same year and
/// resource choice adds nothing and updates what the calendar corrected. Everything or nothing
/// is stored, with one audit event.
pub async fn take_over_holidays(
    db: &DatabaseConnection,
    by: Actor<'_>,
    resource_id: Option<ResourceId>,
    year: i32,
    choice: HolidayChoice,
) -> Result<ImportSummary> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let resource_id = resource_id.map(i64::from);
    let mut errs = FieldErrors::new();
    if !choice.public && !choice.school {
        errs.add("which", "booking.blackouts.err.choose_holidays");
    }
    errs.in_range("year", year, holidays::YEARS);
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let land = rathaus_store::tenants::land_of(tx.conn(), who.tenant_id).await?;
    if choice.school && holidays::YEARS.contains(&year) {
        match school_years_known(land) {
            Some(known) if known.contains(&year) => {}
            Some(known) => errs.add_arg(
                "year",
                "booking.blackouts.err.school_years",
                Some(format!("{}\u{2013}{}", known.start(), known.end())),
            ),
            None => errs.add("year", "booking.blackouts.err.school_none"),
        }
    }
    check_resource(tx.conn(), who.tenant_id, resource_id, &mut errs).await?;
    errs.into_result()?;

    // The stored reason is the holiday's German name: blackouts are shown to everyone.
    let t = catalog(Lang::De);
    let mut existing = by_uid(&tx, resource_id).await?;
    let mut sum = ImportSummary::default();
    let now = Utc::now();
    for p in holidays::periods(land, year, choice) {
        let row = Period {
            uid: &p.uid,
            starts_at: midnight_utc(p.first),
            ends_at: midnight_utc(p.last + Duration::days(1)),
            reason: t.get(p.name_key).chars().take(MAX_REASON).collect(),
        };
        upsert(&tx, resource_id, &mut existing, row, now, &mut sum).await?;
    }
    tx.audit(
        NewEvent::new(
            "booking.blackout.holidays_taken_over",
            "booking_blackout",
            None::<i64>,
        )
        .details(json!({
            "resource_id": resource_id, "land": land.code(), "year": year,
            "public_holidays": choice.public, "school_holidays": choice.school,
            "created": sum.created, "updated": sum.updated, "unchanged": sum.unchanged,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(sum)
}
