//! The booking service: resources (halls and their parts, fields, rooms, equipment) and
//! reservations. The only way into the module's tables; every change is checked (permission
//! first, then the input), written with its audit event in one transaction.
//!
//! No double booking: `reserve` locks the resources that can block each other (a hall and its
//! parts) inside its transaction before it looks for overlaps, so two concurrent requests for
//! overlapping slots are serialised and the second one sees the first (ADR 0004).

pub mod blackouts;
pub mod feeds;
pub mod notify;
pub mod orgs;
pub mod photo_files;
pub mod photos;
pub mod rules;
pub mod season;
pub mod series;
pub mod settings;
pub mod stats;
pub mod views;

use crate::domain::OrganisationId;
use crate::domain::{ReservationId, ResourceId};
use crate::domain::{ReservationStatus, ResourceKind};
use crate::store::entity::{reservation, resource};
use chrono::{DateTime, Duration, Timelike, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

pub use reservation::Model as Reservation;
pub use resource::Model as Resource;

pub use crate::permissions::{BOOK, MANAGE};

// The stored texts of the domain enums (`domain::kinds`), for queries on the text columns.
pub const HALL: &str = ResourceKind::Hall.as_str();
pub const HALL_PART: &str = ResourceKind::HallPart.as_str();
pub const KINDS: &[&str] = &[
    HALL,
    HALL_PART,
    ResourceKind::Field.as_str(),
    ResourceKind::Room.as_str(),
    ResourceKind::Equipment.as_str(),
];

pub const REQUESTED: &str = ReservationStatus::Requested.as_str();
pub const CONFIRMED: &str = ReservationStatus::Confirmed.as_str();
pub const CANCELLED: &str = ReservationStatus::Cancelled.as_str();
pub const REJECTED: &str = ReservationStatus::Rejected.as_str();
/// Reservations in these states block their slot.
pub const ACTIVE: &[&str] = &[REQUESTED, CONFIRMED];

/// Translation key of the overlap error.
pub const CONFLICT_KEY: &str = "booking.err.conflict";

/// The longest reservation any resource may allow (14 days). It also bounds the index range
/// the overlap check scans: no reservation starts earlier than this before the new one ends.
pub const MAX_MINUTES: i32 = 14 * 24 * 60;
pub const MAX_BUFFER_MINUTES: i32 = 24 * 60;
pub const MAX_HORIZON_DAYS: i32 = 10 * 365;
/// The widest window `availability` answers for.
pub const MAX_AVAILABILITY_DAYS: i64 = 366;

use rathaus_store::db_err;

// ---------------------------------------------------------------- actors

/// The person behind a user or token actor. Bookings, memberships and decisions name a user,
/// so the system (jobs, CLI) cannot act where a person is needed.
pub(crate) fn person<'a>(by: Actor<'a>) -> Result<&'a Principal> {
    match by {
        Actor::User(p) | Actor::Token(p) => Ok(p),
        Actor::System { .. } => Err(Error::Forbidden),
    }
}

/// Whether the actor holds a permission (the system holds all).
pub(crate) fn may(by: Actor<'_>, permission: &str) -> bool {
    by.require(permission).is_ok()
}

// ---------------------------------------------------------------- resources

/// What staff enter for a resource. `ResourceInput::new` fills in the defaults.
#[derive(Debug, Clone)]
pub struct ResourceInput {
    pub name: String,
    pub kind: String,
    /// The hall of a `hall_part`; must be empty for every other kind.
    pub parent_id: Option<i64>,
    pub capacity: Option<i32>,
    pub requires_approval: bool,
    pub min_minutes: i32,
    pub max_minutes: i32,
    /// Free time kept before and after each reservation (cleaning, changing over).
    pub buffer_minutes: i32,
    /// How many days ahead a reservation may start.
    pub horizon_days: i32,
    pub active: bool,
    pub address: String,
    pub description: String,
    /// Accessibility features, one per line.
    pub accessibility: String,
    /// None: open around the clock.
    pub opening_hours: Option<crate::service::rules::Week>,
    /// `public`, `organisations` or `staff`.
    pub bookable_by: String,
    /// Fee group -> cents per hour.
    pub fee_schedule: BTreeMap<String, i64>,
    /// Hours before the start after which bookers can no longer cancel.
    pub cancel_hours: i32,
    /// For equipment: the room it belongs with.
    pub room_id: Option<i64>,
}

impl ResourceInput {
    pub fn new(name: &str, kind: &str) -> Self {
        ResourceInput {
            name: name.to_string(),
            kind: kind.to_string(),
            parent_id: None,
            capacity: None,
            requires_approval: false,
            min_minutes: 15,
            max_minutes: 24 * 60,
            buffer_minutes: 0,
            horizon_days: 365,
            active: true,
            address: String::new(),
            description: String::new(),
            accessibility: String::new(),
            opening_hours: None,
            bookable_by: crate::service::rules::STAFF.to_string(),
            fee_schedule: BTreeMap::new(),
            cancel_hours: 0,
            room_id: None,
        }
    }
}

pub(crate) async fn find_resource(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
) -> Result<Resource> {
    rathaus_store::uow::scoped_by_id::<resource::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Checks the fields and the parent hall; `id` is the resource being edited, if any.
async fn validate_resource(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: Option<i64>,
    inp: &ResourceInput,
) -> Result<String> {
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, 200);
    let kind_ok = KINDS.contains(&inp.kind.as_str());
    if !kind_ok {
        errs.add("kind", "err.invalid_choice");
    }
    match (inp.kind.as_str(), inp.parent_id) {
        (HALL_PART, None) => errs.add("parent_id", "err.required"),
        (HALL_PART, Some(p)) => {
            let parent = rathaus_store::uow::scoped_by_id::<resource::Entity, _>(tenant, p)
                .one(conn)
                .await?;
            if Some(p) == id || parent.is_none_or(|r| r.kind != HALL) {
                errs.add("parent_id", "booking.err.parent_not_hall");
            }
        }
        (_, Some(_)) if kind_ok => errs.add("parent_id", "booking.err.parent_only_parts"),
        _ => {}
    }
    if inp.capacity.is_some_and(|c| c < 1) {
        errs.add("capacity", "booking.err.positive");
    }
    if !(1..=MAX_MINUTES).contains(&inp.min_minutes) {
        errs.add_arg(
            "min_minutes",
            "booking.err.minutes_range",
            Some(MAX_MINUTES),
        );
    }
    if !(1..=MAX_MINUTES).contains(&inp.max_minutes) {
        errs.add_arg(
            "max_minutes",
            "booking.err.minutes_range",
            Some(MAX_MINUTES),
        );
    } else if inp.max_minutes < inp.min_minutes {
        errs.add("max_minutes", "booking.err.max_below_min");
    }
    if !(0..=MAX_BUFFER_MINUTES).contains(&inp.buffer_minutes) {
        errs.add_arg(
            "buffer_minutes",
            "booking.err.buffer_range",
            Some(MAX_BUFFER_MINUTES),
        );
    }
    if !(1..=MAX_HORIZON_DAYS).contains(&inp.horizon_days) {
        errs.add_arg(
            "horizon_days",
            "booking.err.horizon_range",
            Some(MAX_HORIZON_DAYS),
        );
    }
    if !crate::service::rules::BOOKABLE_BY.contains(&inp.bookable_by.as_str()) {
        errs.add("bookable_by", "err.invalid_choice");
    }
    errs.optional_text("address", &inp.address, 300);
    errs.optional_text("description", &inp.description, MAX_DESCRIPTION);
    errs.optional_text("accessibility", &inp.accessibility, 500);
    for (group, cents) in &inp.fee_schedule {
        if !crate::service::rules::FEE_GROUPS.contains(&group.as_str()) {
            errs.add("fee_schedule", "err.invalid_choice");
        } else if !(0..=MAX_FEE_CENTS_PER_HOUR).contains(cents) {
            errs.add_arg(
                &format!("fee_{group}"),
                "booking.rules.fee_range",
                Some(MAX_FEE_CENTS_PER_HOUR / 100),
            );
        }
    }
    if !(0..=MAX_CANCEL_HOURS).contains(&inp.cancel_hours) {
        errs.add_arg(
            "cancel_hours",
            "booking.rules.cancel_hours_range",
            Some(MAX_CANCEL_HOURS),
        );
    }
    if let Some(room) = inp.room_id {
        let ok = inp.kind == ResourceKind::Equipment.as_str()
            && rathaus_store::uow::scoped_by_id::<resource::Entity, _>(tenant, room)
                .one(conn)
                .await?
                .is_some_and(|r| r.kind == ResourceKind::Room.as_str());
        if !ok {
            errs.add("room_id", "booking.rules.room_only_equipment");
        }
    }
    errs.into_result()?;
    Ok(name)
}

/// The longest resource description.
pub const MAX_DESCRIPTION: usize = 4000;
/// The highest hourly fee (cents): 10,000 euros.
pub const MAX_FEE_CENTS_PER_HOUR: i64 = 1_000_000;
/// The longest cancellation deadline: 30 days.
pub const MAX_CANCEL_HOURS: i32 = 720;

fn resource_json(r: &Resource) -> serde_json::Value {
    json!({
        "name": r.name, "kind": r.kind, "parent_id": r.parent_id, "capacity": r.capacity,
        "requires_approval": r.requires_approval, "min_minutes": r.min_minutes,
        "max_minutes": r.max_minutes, "buffer_minutes": r.buffer_minutes,
        "horizon_days": r.horizon_days, "active": r.active, "address": r.address,
        "bookable_by": r.bookable_by, "opening_hours": r.opening_hours,
        "fee_schedule": r.fee_schedule, "cancel_hours": r.cancel_hours, "room_id": r.room_id,
    })
}

pub async fn create_resource(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: ResourceInput,
) -> Result<Resource> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let name = validate_resource(tx.conn(), who.tenant_id, None, &inp).await?;
    let r = resource::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        name: Set(name),
        kind: Set(inp.kind),
        parent_id: Set(inp.parent_id),
        capacity: Set(inp.capacity),
        requires_approval: Set(inp.requires_approval),
        min_minutes: Set(inp.min_minutes),
        max_minutes: Set(inp.max_minutes),
        buffer_minutes: Set(inp.buffer_minutes),
        horizon_days: Set(inp.horizon_days),
        active: Set(inp.active),
        address: Set(inp.address.trim().to_string()),
        description: Set(inp.description.trim().to_string()),
        accessibility: Set(inp.accessibility.trim().to_string()),
        opening_hours: Set(crate::service::rules::opening_hours_json(
            inp.opening_hours.as_ref(),
        )),
        bookable_by: Set(inp.bookable_by),
        fee_schedule: Set(fee_json(&inp.fee_schedule)),
        cancel_hours: Set(inp.cancel_hours),
        room_id: Set(inp.room_id),
        feed_token: Set(new_feed_token()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(tx.conn())
    .await?;
    tx.audit(
        NewEvent::new("booking.resource.created", "booking_resource", Some(r.id))
            .details(resource_json(&r)),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Edits a resource. Its place in a hall (kind, parent) cannot change while it has
/// reservations that still lie ahead, and a hall keeps its kind while it has parts: either
/// would change which reservations block each other after they were accepted.
pub async fn update_resource(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: ResourceId,
    inp: ResourceInput,
) -> Result<Resource> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let before = find_resource(tx.conn(), who.tenant_id, id).await?;
    // Same lock as `reserve` takes, so an edit and a reservation of this hall do not interleave.
    let mut ids = vec![id];
    ids.extend(before.parent_id);
    ids.extend(inp.parent_id);
    lock_resources(tx.conn(), who.tenant_id, &ids).await?;
    let name = validate_resource(tx.conn(), who.tenant_id, Some(id), &inp).await?;
    if before.kind == HALL && inp.kind != HALL {
        let parts = tx
            .find::<resource::Entity>()
            .filter(resource::Column::ParentId.eq(id))
            .count(tx.conn())
            .await?;
        if parts > 0 {
            return Err(FieldErrors::single("kind", "booking.err.hall_has_parts"));
        }
    }
    if before.kind != inp.kind || before.parent_id != inp.parent_id {
        let ahead = tx
            .find::<reservation::Entity>()
            .filter(reservation::Column::ResourceId.eq(id))
            .filter(reservation::Column::Status.is_in(ACTIVE.iter().copied()))
            .filter(reservation::Column::EndsAt.gt(Utc::now()))
            .count(tx.conn())
            .await?;
        if ahead > 0 {
            return Err(FieldErrors::single("kind", "booking.err.structure_in_use"));
        }
    }
    let mut am: resource::ActiveModel = before.clone().into();
    am.name = Set(name);
    am.kind = Set(inp.kind);
    am.parent_id = Set(inp.parent_id);
    am.capacity = Set(inp.capacity);
    am.requires_approval = Set(inp.requires_approval);
    am.min_minutes = Set(inp.min_minutes);
    am.max_minutes = Set(inp.max_minutes);
    am.buffer_minutes = Set(inp.buffer_minutes);
    am.horizon_days = Set(inp.horizon_days);
    am.active = Set(inp.active);
    am.address = Set(inp.address.trim().to_string());
    am.description = Set(inp.description.trim().to_string());
    am.accessibility = Set(inp.accessibility.trim().to_string());
    am.opening_hours = Set(crate::service::rules::opening_hours_json(
        inp.opening_hours.as_ref(),
    ));
    am.bookable_by = Set(inp.bookable_by);
    am.fee_schedule = Set(fee_json(&inp.fee_schedule));
    am.cancel_hours = Set(inp.cancel_hours);
    am.room_id = Set(inp.room_id);
    let after = am.update(tx.conn()).await?;
    tx.audit(
        NewEvent::new("booking.resource.updated", "booking_resource", Some(id))
            .details(json!({"before": resource_json(&before), "after": resource_json(&after)})),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

fn fee_json(f: &BTreeMap<String, i64>) -> String {
    if f.is_empty() {
        String::new()
    } else {
        serde_json::to_string(f).unwrap_or_default()
    }
}

pub use crate::domain::FEED_TOKEN_BYTES;

fn new_feed_token() -> String {
    rathaus_store::random_token(FEED_TOKEN_BYTES)
}

/// Who may learn a resource's feed URL. The feed shows every reservation's title, which the
/// API shows only to staff with `booking.manage` (bookers see their own reservations and the
/// busy times of others), so the URL is theirs to hand on.
pub fn may_read_feed(by: Actor<'_>) -> bool {
    may(by, MANAGE)
}

/// Gives the resource a new calendar feed token: the old feed URL answers 404 from now on
/// (permission `booking.manage`). The audit event does not record either token.
pub async fn rotate_feed_token(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: ResourceId,
) -> Result<Resource> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let before = find_resource(tx.conn(), who.tenant_id, id).await?;
    let mut am: resource::ActiveModel = before.into();
    am.feed_token = Set(new_feed_token());
    let after = am.update(tx.conn()).await?;
    tx.audit(
        NewEvent::new(
            "booking.resource.feed_token_rotated",
            "booking_resource",
            Some(id),
        )
        .details(json!({"name": after.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The tenant's resources by name that `who` may book: staff with `booking.book` all active
/// ones, managers also the inactive ones, citizens the public ones, members of an
/// organisation also those open to organisations.
pub async fn list_resources(conn: &impl ConnectionTrait, by: Actor<'_>) -> Result<Vec<Resource>> {
    let who = person(by)?;
    let mut q = rathaus_store::uow::scoped::<resource::Entity>(who.tenant_id);
    if !may(by, MANAGE) {
        q = q.filter(resource::Column::Active.eq(true));
    }
    let all = q
        .order_by_asc(resource::Column::Name)
        .order_by_asc(resource::Column::Id)
        .all(conn)
        .await?;
    if may(by, BOOK) || may(by, MANAGE) {
        return Ok(all);
    }
    let member = !crate::service::rules::organisations_of(conn, by)
        .await?
        .is_empty();
    Ok(all
        .into_iter()
        .filter(|r| crate::service::rules::may_see(by, r, member))
        .collect())
}

/// One resource; another tenant's (or, without `booking.manage`, an inactive one) is NotFound.
pub async fn get_resource(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    id: ResourceId,
) -> Result<Resource> {
    let id = i64::from(id);
    let who = person(by)?;
    let r = find_resource(conn, who.tenant_id, id).await?;
    if !r.active && !may(by, MANAGE) {
        return Err(Error::NotFound);
    }
    if !(may(by, BOOK) || may(by, MANAGE) || r.bookable_by == crate::service::rules::PUBLIC) {
        let member = !crate::service::rules::organisations_of(conn, by)
            .await?
            .is_empty();
        if !crate::service::rules::may_see(by, &r, member) {
            return Err(Error::NotFound);
        }
    }
    Ok(r)
}

/// The resources whose reservations block `r`: itself, its hall (for a hall part) or its parts
/// (for a hall). Sibling parts do not block each other.
pub(crate) async fn blocking_set(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    r: &Resource,
) -> Result<Vec<Resource>> {
    let mut set = vec![r.clone()];
    if r.kind == HALL {
        set.extend(
            rathaus_store::uow::scoped::<resource::Entity>(tenant)
                .filter(resource::Column::ParentId.eq(r.id))
                .all(conn)
                .await?,
        );
    } else if let Some(p) = r.parent_id {
        set.push(find_resource(conn, tenant, p).await?);
    }
    set.sort_by_key(|r| r.id);
    Ok(set)
}

/// Locks resource rows for the rest of the transaction, in id order so that two transactions
/// locking overlapping sets cannot deadlock. PostgreSQL: `SELECT … ORDER BY id FOR UPDATE`.
/// SQLite has no row locks; there the transaction already holds the database's single write
/// lock (`BEGIN IMMEDIATE`), which serialises every writer.
pub(crate) async fn lock_resources<C: ConnectionTrait>(
    txn: &C,
    tenant: TenantId,
    ids: &[i64],
) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        lock_query(tenant, ids).into_tuple::<i64>().all(txn).await?;
    }
    Ok(())
}

fn lock_query(tenant: TenantId, ids: &[i64]) -> sea_orm::Select<resource::Entity> {
    rathaus_store::uow::scoped::<resource::Entity>(tenant)
        .select_only()
        .column(resource::Column::Id)
        .filter(resource::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(resource::Column::Id)
        .lock_exclusive()
}

// ---------------------------------------------------------------- reservations

#[derive(Debug, Clone)]
pub struct ReservationInput {
    pub resource_id: i64,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Booked for this organisation (the booker must be a member).
    pub organisation_id: Option<i64>,
}

/// A busy slot: when a resource (or a part or hall blocking it) is taken. Carries no title
/// and no name, so it can be shown to anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Busy {
    pub resource_id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `requested` (tentative) or `confirmed`.
    pub status: String,
}

impl From<&Reservation> for Busy {
    fn from(r: &Reservation) -> Self {
        Busy {
            resource_id: r.resource_id,
            start: r.starts_at,
            end: r.ends_at,
            status: r.status.clone(),
        }
    }
}

/// Why `reserve` refused. A conflict names the slots in the way; everything else is the
/// platform's error.
#[derive(Debug)]
pub enum ReserveError {
    Conflict(Vec<Busy>),
    Other(Error),
}

impl From<Error> for ReserveError {
    fn from(e: Error) -> Self {
        ReserveError::Other(e)
    }
}

impl From<ReserveError> for Error {
    fn from(e: ReserveError) -> Self {
        match e {
            ReserveError::Conflict(_) => Error::Conflict(CONFLICT_KEY.to_string()),
            ReserveError::Other(e) => e,
        }
    }
}

/// Checks what can be checked without the resource.
fn validate_times(inp: &ReservationInput, now: DateTime<Utc>) -> Result<String> {
    let mut errs = FieldErrors::new();
    let title = errs.text("title", &inp.title, 200);
    let whole = |t: &DateTime<Utc>| t.second() == 0 && t.nanosecond() == 0;
    if !whole(&inp.start) {
        errs.add("start", "booking.err.whole_minutes");
    } else if inp.start < now {
        errs.add("start", "booking.err.in_past");
    }
    if !whole(&inp.end) {
        errs.add("end", "booking.err.whole_minutes");
    } else if inp.end == inp.start {
        errs.add("end", "booking.err.zero_length");
    } else if inp.end < inp.start {
        errs.add("end", "booking.err.end_before_start");
    }
    errs.into_result()?;
    Ok(title)
}

/// Reservations of `set` in one of `statuses` that come closer to [start, end) than the
/// buffer time of either side's resource.
pub(crate) async fn overlapping(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    set: &[Resource],
    statuses: &[&str],
    own_buffer: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Reservation>> {
    let buffers: BTreeMap<i64, i32> = set.iter().map(|r| (r.id, r.buffer_minutes)).collect();
    let widest = Duration::minutes(i64::from(buffers.values().copied().max().unwrap_or(0)));
    let (lo, hi) = (start - widest, end + widest);
    let found = rathaus_store::uow::scoped::<reservation::Entity>(tenant)
        .filter(reservation::Column::ResourceId.is_in(buffers.keys().copied()))
        .filter(reservation::Column::Status.is_in(statuses.iter().copied()))
        .filter(reservation::Column::StartsAt.lt(hi))
        // No reservation is longer than MAX_MINUTES: bounds the index range scanned.
        .filter(reservation::Column::StartsAt.gt(lo - Duration::minutes(i64::from(MAX_MINUTES))))
        .filter(reservation::Column::EndsAt.gt(lo))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .all(conn)
        .await?;
    Ok(found
        .into_iter()
        .filter(|x| {
            let gap = own_buffer.max(buffers.get(&x.resource_id).copied().unwrap_or(0));
            let gap = Duration::minutes(i64::from(gap));
            x.starts_at < end + gap && x.ends_at + gap > start
        })
        .collect())
}

/// The blocking set of `r` (see `blocking_set`), locked for the rest of the transaction.
/// Everything read after this sees what a competitor that held the lock committed: under
/// READ COMMITTED each statement sees what committed before it, so a competitor has either
/// committed its change or rolled back.
pub(crate) async fn lock_blocking_set<C: ConnectionTrait>(
    txn: &C,
    tenant: TenantId,
    r: &Resource,
) -> Result<Vec<Resource>> {
    let set = blocking_set(txn, tenant, r).await?;
    let ids: Vec<i64> = set.iter().map(|r| r.id).collect();
    lock_resources(txn, tenant, &ids).await?;
    Ok(set)
}

/// Books a slot: `confirmed` at once, or `requested` where the resource needs approval (a
/// request blocks the slot too, unless the tenant turned that off). Who may book is decided
/// by `rules::booker_for`, the slot's own rules by `rules::check_slot`. Refuses with
/// `ReserveError::Conflict` when an active reservation of the resource, its hall or its parts
/// lies within the buffer time. The confirmation mail (with the .ics) is queued in the same
/// transaction.
pub async fn reserve(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: ReservationInput,
) -> Result<Reservation, ReserveError> {
    let _who = person(by)?;
    let mut all = reserve_with_equipment(db, by, inp, &[]).await?;
    Ok(all.remove(0))
}

/// `reserve` for a room together with equipment booked along with it (a projector, chairs):
/// the same time for all, all or nothing, under one lock of every blocking set involved.
/// Equipment must be of kind `equipment` and belong to this room or to no room. Returns the
/// room's reservation first, then the equipment's.
pub async fn reserve_with_equipment(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: ReservationInput,
    equipment: &[i64],
) -> Result<Vec<Reservation>, ReserveError> {
    let who = person(by)?;
    let now = Utc::now();
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let r = find_resource(tx.conn(), who.tenant_id, inp.resource_id).await?;
    // Who may book comes before anything about the input: someone not allowed learns nothing.
    crate::service::rules::booker_for(tx.conn(), by, &r, inp.organisation_id.map(OrganisationId))
        .await?;
    let title = validate_times(&inp, now)?;
    let mut items = vec![r.clone()];
    let mut wanted: Vec<i64> = equipment.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    for id in wanted.into_iter().filter(|id| *id != r.id) {
        let e = find_resource(tx.conn(), who.tenant_id, id)
            .await
            .ok()
            .filter(|e| {
                e.kind == ResourceKind::Equipment.as_str()
                    && e.room_id.is_none_or(|room| room == r.id)
            })
            .ok_or_else(|| FieldErrors::single("equipment", "booking.rules.equipment_not_here"))?;
        items.push(e);
    }
    let mut bookers = Vec::with_capacity(items.len());
    for it in &items {
        bookers.push(
            crate::service::rules::booker_for(
                tx.conn(),
                by,
                it,
                inp.organisation_id.map(OrganisationId),
            )
            .await?,
        );
    }
    for it in &items {
        crate::service::rules::check_slot(tx.conn(), it, inp.start, inp.end, now).await?;
    }
    let settings = crate::service::rules::settings(tx.conn(), who.tenant_id).await?;
    let mut sets = Vec::with_capacity(items.len());
    let mut ids = std::collections::BTreeSet::new();
    for it in &items {
        let set = blocking_set(tx.conn(), who.tenant_id, it).await?;
        ids.extend(set.iter().map(|x| x.id));
        sets.push(set);
    }
    lock_resources(
        tx.conn(),
        who.tenant_id,
        &ids.into_iter().collect::<Vec<_>>(),
    )
    .await?;
    let mut clash = vec![];
    for (it, set) in items.iter().zip(&sets) {
        clash.extend(
            overlapping(
                tx.conn(),
                who.tenant_id,
                set,
                crate::service::rules::blocking_statuses(&settings),
                it.buffer_minutes,
                inp.start,
                inp.end,
            )
            .await?,
        );
    }
    if !clash.is_empty() {
        return Err(ReserveError::Conflict(
            clash.iter().map(Busy::from).collect(),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (it, booker) in items.iter().zip(&bookers) {
        let status = if it.requires_approval {
            REQUESTED
        } else {
            CONFIRMED
        };
        let res = reservation::ActiveModel {
            tenant_id: Set(who.tenant_id.0),
            resource_id: Set(it.id),
            title: Set(title.clone()),
            starts_at: Set(inp.start),
            ends_at: Set(inp.end),
            status: Set(status.to_string()),
            booked_by: Set(Some(who.user_id.0)),
            organisation_id: Set(booker.organisation_id),
            fee_group: Set(booker.fee_group.clone()),
            fee_cents: Set(crate::service::rules::fee_cents(
                it,
                &booker.fee_group,
                inp.start,
                inp.end,
            )),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(tx.conn())
        .await
        .map_err(db_err)?;
        tx.audit(
            NewEvent::new(
                "booking.reservation.created",
                "booking_reservation",
                Some(res.id),
            )
            .details(json!({
                "resource_id": it.id, "resource": it.name, "title": res.title,
                "start": res.starts_at, "end": res.ends_at, "status": res.status,
                "organisation_id": res.organisation_id, "fee_cents": res.fee_cents,
                "with": (it.id != r.id).then_some(r.id),
            })),
        )
        .await?;
        crate::service::notify::created(tx.conn(), &settings, it, &res).await?;
        out.push(res);
    }
    tx.commit().await?;
    Ok(out)
}

/// Equipment that can be booked along with `room`: active items of kind `equipment` that
/// belong to it or to no room.
pub async fn equipment_for(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    room: &Resource,
) -> Result<Vec<Resource>> {
    let _who = person(by)?;
    if room.kind == ResourceKind::Equipment.as_str() {
        return Ok(Vec::new());
    }
    Ok(list_resources(conn, by)
        .await?
        .into_iter()
        .filter(|e| {
            e.kind == ResourceKind::Equipment.as_str()
                && e.active
                && e.room_id.is_none_or(|x| x == room.id)
        })
        .collect())
}

/// May `who` see (and cancel) reservation `r`: the booker, a member of its organisation, or
/// staff with `booking.manage`.
pub(crate) async fn may_see_reservation(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    booked_by: Option<i64>,
    organisation_id: Option<i64>,
) -> Result<bool> {
    let who = person(by)?;
    if may(by, MANAGE) || booked_by == Some(who.user_id.0) {
        return Ok(true);
    }
    Ok(match organisation_id {
        Some(o) => crate::service::rules::organisations_of(conn, by)
            .await?
            .contains(&o),
        None => false,
    })
}

async fn find_visible(conn: &impl ConnectionTrait, by: Actor<'_>, id: i64) -> Result<Reservation> {
    let who = person(by)?;
    let r = rathaus_store::uow::scoped_by_id::<reservation::Entity, _>(who.tenant_id, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    // Someone else's reservation answers like a missing one.
    if !may_see_reservation(conn, by, r.booked_by, r.organisation_id).await? {
        return Err(Error::NotFound);
    }
    Ok(r)
}

/// One reservation: the booker's own, or any with `booking.manage`.
pub async fn get_reservation(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    id: ReservationId,
) -> Result<Reservation> {
    let id = i64::from(id);
    let _who = person(by)?;
    find_visible(conn, by, id).await
}

/// Reservations overlapping [from, to): all with `booking.manage`, else one's own and those of
/// one's organisations.
pub async fn list_reservations(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    resource_id: Option<ResourceId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Reservation>> {
    let resource_id = resource_id.map(i64::from);
    let who = person(by)?;
    validate_window(from, to)?;
    let mut q = rathaus_store::uow::scoped::<reservation::Entity>(who.tenant_id)
        .filter(reservation::Column::StartsAt.lt(to))
        .filter(reservation::Column::EndsAt.gt(from));
    if let Some(r) = resource_id {
        q = q.filter(reservation::Column::ResourceId.eq(r));
    }
    if !may(by, MANAGE) {
        let orgs = crate::service::rules::organisations_of(conn, by).await?;
        q = q.filter(
            sea_orm::Condition::any()
                .add(reservation::Column::BookedBy.eq(who.user_id.0))
                .add(reservation::Column::OrganisationId.is_in(orgs)),
        );
    }
    q.order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// Cancels a reservation (the booker's own, or any with `booking.manage`); the slot is free
/// again at once. Cancelling a cancelled reservation changes nothing; a rejected request
/// cannot be cancelled.
pub async fn cancel(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: ReservationId,
) -> Result<Reservation> {
    let id = i64::from(id);
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let before = find_visible(tx.conn(), by, id).await?;
    if before.status == CANCELLED {
        return Ok(before);
    }
    if before.status == REJECTED {
        return Err(Error::Conflict("booking.err.not_active".into()));
    }
    let r = find_resource(tx.conn(), who.tenant_id, before.resource_id).await?;
    let now = Utc::now();
    check_cancel_deadline(by, &r, before.starts_at, now)?;
    let mut am: reservation::ActiveModel = before.clone().into();
    am.status = Set(CANCELLED.to_string());
    am.sequence = Set(before.sequence + 1);
    am.updated_at = Set(Some(now));
    let after = am.update(tx.conn()).await?;
    crate::service::notify::cancelled(tx.conn(), &r, &after).await?;
    tx.audit(
        NewEvent::new(
            "booking.reservation.cancelled",
            "booking_reservation",
            Some(id),
        )
        .details(json!({
            "resource_id": before.resource_id, "title": before.title,
            "start": before.starts_at, "end": before.ends_at, "status_before": before.status,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Bookers cannot cancel later than the resource's deadline (`cancel_hours` before the
/// start); staff with `booking.manage` (and the system) can, e.g. when a hall closes
/// unexpectedly.
pub(crate) fn check_cancel_deadline(
    by: Actor<'_>,
    r: &Resource,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    if !may(by, MANAGE)
        && r.cancel_hours > 0
        && now > starts_at - Duration::hours(i64::from(r.cancel_hours))
    {
        let mut errs = FieldErrors::new();
        errs.add_arg("id", "booking.rules.cancel_deadline", Some(r.cancel_hours));
        return Err(Error::Invalid(errs));
    }
    Ok(())
}

// ---------------------------------------------------------------- approval

/// Translation key of the refusal to decide on a reservation that is no open request.
pub const NOT_REQUESTED_KEY: &str = "booking.err.not_requested";
/// The longest reason for a rejection.
pub const MAX_REASON: usize = 500;
/// How many open requests the queue shows at once (the earliest first).
pub const QUEUE_LIMIT: u64 = 500;

/// The open requests (status `requested`) of the tenant by start, the earliest
/// `QUEUE_LIMIT` of them (permission `booking.manage`).
pub async fn list_requests(conn: &impl ConnectionTrait, by: Actor<'_>) -> Result<Vec<Reservation>> {
    let who = person(by)?;
    by.require(MANAGE)?;
    rathaus_store::uow::scoped::<reservation::Entity>(who.tenant_id)
        .filter(reservation::Column::Status.eq(REQUESTED))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .limit(QUEUE_LIMIT)
        .all(conn)
        .await
        .map_err(db_err)
}

/// Open single requests per page of the approval queue.
pub const QUEUE_PAGE: u64 = 50;

/// One page of the open single requests (occurrences of a series are decided with their
/// series), by start then id, after the keyset `after`; plus the keyset of the next page if
/// there is one (permission `booking.manage`).
/// For the staff dashboard: open requests (single and series) awaiting an approver; none
/// for a user who may not decide them.
pub async fn open_requests(conn: &impl ConnectionTrait, by: Actor<'_>) -> Result<u64> {
    let who = person(by)?;
    if by.require(MANAGE).is_err() {
        return Ok(0);
    }
    let singles = rathaus_store::uow::scoped::<reservation::Entity>(who.tenant_id)
        .filter(reservation::Column::Status.eq(REQUESTED))
        .filter(reservation::Column::SeriesId.is_null())
        .count(conn)
        .await?;
    let series = crate::service::series::pending_series(conn, by)
        .await?
        .len() as u64;
    Ok(singles + series)
}

pub async fn list_requests_page(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    after: Option<(DateTime<Utc>, i64)>,
) -> Result<(Vec<Reservation>, Option<(DateTime<Utc>, i64)>)> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let mut q = rathaus_store::uow::scoped::<reservation::Entity>(who.tenant_id)
        .filter(reservation::Column::Status.eq(REQUESTED))
        .filter(reservation::Column::SeriesId.is_null());
    if let Some((t, id)) = after {
        q = q.filter(
            sea_orm::Condition::any()
                .add(reservation::Column::StartsAt.gt(t))
                .add(
                    sea_orm::Condition::all()
                        .add(reservation::Column::StartsAt.eq(t))
                        .add(reservation::Column::Id.gt(id)),
                ),
        );
    }
    let mut rows = q
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .limit(QUEUE_PAGE + 1)
        .all(conn)
        .await?;
    let next = if rows.len() as u64 > QUEUE_PAGE {
        rows.truncate(QUEUE_PAGE as usize);
        rows.last().map(|r| (r.starts_at, r.id))
    } else {
        None
    };
    Ok((rows, next))
}

pub(crate) async fn find_reservation(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
) -> Result<Reservation> {
    rathaus_store::uow::scoped_by_id::<reservation::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Opens the decision on request `id`: locks its resource's blocking set (the lock `reserve`
/// takes, so decisions and reservations of the hall do not interleave), then reads the
/// reservation again and refuses unless it is still `requested`.
async fn open_request(
    tx: &Tx<'_>,
    by: Actor<'_>,
    id: i64,
) -> Result<(Reservation, Resource, Vec<Resource>)> {
    let who = person(by)?;
    tx.require(MANAGE)?;
    let first = find_reservation(tx.conn(), who.tenant_id, id).await?;
    let r = find_resource(tx.conn(), who.tenant_id, first.resource_id).await?;
    let set = lock_blocking_set(tx.conn(), who.tenant_id, &r).await?;
    let res = find_reservation(tx.conn(), who.tenant_id, id).await?;
    if res.status != REQUESTED {
        return Err(Error::Conflict(NOT_REQUESTED_KEY.into()));
    }
    Ok((res, r, set))
}

async fn decide(
    tx: &Tx<'_>,
    by: Actor<'_>,
    before: &Reservation,
    status: &str,
    reason: Option<String>,
) -> Result<Reservation> {
    let who = person(by)?;
    let mut am: reservation::ActiveModel = before.clone().into();
    am.status = Set(status.to_string());
    am.decision_reason = Set(reason.clone());
    am.decided_by = Set(Some(who.user_id.0));
    am.decided_at = Set(Some(Utc::now()));
    am.sequence = Set(before.sequence + 1);
    am.updated_at = Set(Some(Utc::now()));
    let after = am.update(tx.conn()).await?;
    let action = if status == CONFIRMED {
        "booking.reservation.approved"
    } else {
        "booking.reservation.rejected"
    };
    tx.audit(
        NewEvent::new(action, "booking_reservation", Some(before.id)).details(json!({
            "resource_id": before.resource_id, "title": before.title,
            "start": before.starts_at, "end": before.ends_at,
            "status_before": before.status, "status": after.status, "reason": reason,
        })),
    )
    .await?;
    Ok(after)
}

/// Approves a request (permission `booking.manage`): it becomes `confirmed`. Refused with
/// `ReserveError::Conflict` when a confirmed reservation of the resource, its hall or its
/// parts now lies within the buffer time (checked under the same lock as `reserve`), and with
/// a Conflict error when the reservation is no open request.
pub async fn approve(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: ReservationId,
) -> Result<Reservation, ReserveError> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let (before, r, set) = open_request(&tx, by, id).await?;
    let clash = overlapping(
        tx.conn(),
        who.tenant_id,
        &set,
        &[CONFIRMED],
        r.buffer_minutes,
        before.starts_at,
        before.ends_at,
    )
    .await?;
    if !clash.is_empty() {
        return Err(ReserveError::Conflict(
            clash.iter().map(Busy::from).collect(),
        ));
    }
    let after = decide(&tx, by, &before, CONFIRMED, None).await?;
    crate::service::notify::decided(tx.conn(), &r, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Rejects a request with a reason (permission `booking.manage`; 1 to `MAX_REASON`
/// characters): it becomes `rejected` and frees its slot.
pub async fn reject(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: ReservationId,
    reason: &str,
) -> Result<Reservation> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let reason = errs.text("reason", reason, MAX_REASON);
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    // Unknown or decided reservations answer so before a reason is asked for.
    let (before, r, _) = open_request(&tx, by, id).await?;
    errs.into_result()?;
    let after = decide(&tx, by, &before, REJECTED, Some(reason)).await?;
    crate::service::notify::decided(tx.conn(), &r, &after).await?;
    tx.commit().await?;
    Ok(after)
}

fn validate_window(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<()> {
    let mut errs = FieldErrors::new();
    if to <= from {
        errs.add("to", "booking.err.end_before_start");
    } else if to - from > Duration::days(MAX_AVAILABILITY_DAYS) {
        errs.add_arg(
            "to",
            "booking.err.window_too_wide",
            Some(MAX_AVAILABILITY_DAYS),
        );
    }
    errs.into_result()
}

/// When a resource is taken between `from` and `to`: its own active reservations and those of
/// its hall or parts. Busy times are public (issue 4: the occupancy view shows them to
/// everyone), so any principal of the tenant may ask; no titles or names are returned.
pub async fn availability(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    resource_id: ResourceId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>> {
    let resource_id = i64::from(resource_id);
    let who = person(by)?;
    let r = get_resource(conn, by, ResourceId(resource_id)).await?;
    validate_window(from, to)?;
    let set = blocking_set(conn, who.tenant_id, &r).await?;
    let found = rathaus_store::uow::scoped::<reservation::Entity>(who.tenant_id)
        .filter(reservation::Column::ResourceId.is_in(set.iter().map(|r| r.id)))
        .filter(reservation::Column::Status.is_in(ACTIVE.iter().copied()))
        .filter(reservation::Column::StartsAt.lt(to))
        .filter(reservation::Column::StartsAt.gt(from - Duration::minutes(i64::from(MAX_MINUTES))))
        .filter(reservation::Column::EndsAt.gt(from))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .all(conn)
        .await?;
    Ok(found.iter().map(Busy::from).collect())
}

// ---------------------------------------------------------------- calendar feed

/// How far back and ahead a resource's calendar feed reaches.
pub const FEED_DAYS_BACK: i64 = 30;
pub const FEED_DAYS_AHEAD: i64 = 365;

/// What a resource's calendar feed shows: the resource and its active reservations.
#[derive(Debug, Clone)]
pub struct Feed {
    pub resource: Resource,
    pub reservations: Vec<Reservation>,
}

/// The calendar feed of a resource for whoever holds its secret token (no session: calendar
/// apps fetch it). A wrong token, or a resource of another tenant, is NotFound. Holds the
/// resource's own active reservations (requested and confirmed) from `FEED_DAYS_BACK` days
/// before `now` to `FEED_DAYS_AHEAD` days after it, by start: one range scan of the
/// `(tenant_id, resource_id, starts_at)` index after the primary-key lookup of the resource.
pub async fn feed(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_id: ResourceId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Feed> {
    let resource_id = i64::from(resource_id);
    let r = find_resource(conn, tenant, resource_id).await?;
    let same = r.feed_token.len() == token.len()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            r.feed_token.as_bytes(),
            token.as_bytes(),
        ));
    if !same || r.feed_token.is_empty() {
        return Err(Error::NotFound);
    }
    let (from, to) = (
        now - Duration::days(FEED_DAYS_BACK),
        now + Duration::days(FEED_DAYS_AHEAD),
    );
    let reservations = rathaus_store::uow::scoped::<reservation::Entity>(tenant)
        .filter(reservation::Column::ResourceId.eq(r.id))
        .filter(reservation::Column::StartsAt.lt(to))
        // No reservation is longer than MAX_MINUTES: bounds the index range scanned.
        .filter(reservation::Column::StartsAt.gt(from - Duration::minutes(i64::from(MAX_MINUTES))))
        .filter(reservation::Column::EndsAt.gt(from))
        .filter(reservation::Column::Status.is_in(ACTIVE.iter().copied()))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .all(conn)
        .await?;
    Ok(Feed {
        resource: r,
        reservations,
    })
}

/// A signed-in user's upcoming reservations ("Meine Buchungen"): their own and those of their
/// organisations, ending after `now` and starting within `ahead`, at most `limit`, with the
/// names of their resources and organisations. Read through the tenant-scoped unit of work.
pub struct Upcoming {
    pub reservations: Vec<Reservation>,
    pub resource_names: BTreeMap<i64, String>,
    pub organisation_names: BTreeMap<i64, String>,
}

pub async fn upcoming_of(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    now: DateTime<Utc>,
    ahead: Duration,
    limit: u64,
) -> Result<Upcoming> {
    let who = person(by)?;
    use crate::store::entity::organisation;
    use sea_orm::{Condition, QuerySelect};
    let scope = rathaus_store::uow::Scope::user(conn, who);
    let own_orgs = crate::service::rules::organisations_of(conn, by).await?;
    let reservations = scope
        .find::<reservation::Entity>()
        .filter(
            Condition::any()
                .add(reservation::Column::BookedBy.eq(who.user_id.0))
                .add(reservation::Column::OrganisationId.is_in(own_orgs.clone())),
        )
        .filter(reservation::Column::Status.is_in(ACTIVE.iter().copied()))
        .filter(reservation::Column::EndsAt.gt(now))
        .filter(reservation::Column::StartsAt.lt(now + ahead))
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<i64> = reservations.iter().map(|r| r.resource_id).collect();
    let resource_names = scope
        .find::<resource::Entity>()
        .filter(resource::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let organisation_names = scope
        .find::<organisation::Entity>()
        .filter(organisation::Column::Id.is_in(own_orgs))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(Upcoming {
        reservations,
        resource_names,
        organisation_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::QueryTrait;

    #[test]
    fn the_lock_is_a_row_lock_in_id_order_on_postgres() {
        let sql = lock_query(TenantId(1), &[3, 1, 2])
            .build(sea_orm::DbBackend::Postgres)
            .to_string();
        assert!(
            sql.ends_with(r#"ORDER BY "booking_resources"."id" ASC FOR UPDATE"#),
            "{sql}"
        );
    }
}
