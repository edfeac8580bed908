//! Calendar feeds (RFC 5545) of the booking module: what each feed holds, its tokens and
//! URLs (the writer is `formats::ical`, the HTTP side `http::machine::feeds`):
//!
//! - `GET /belegung/{resource_id}/kalender.ics`: the public occupancy of a resource that is not
//!   staff-only (busy blocks of the resource, its hall and its parts: "Belegt", or the
//!   organisation's name where it agreed; never a person's name or a title);
//! - `GET /buchung/kalender/{resource_id}/{token}.ics`: a resource's staff feed with titles,
//!   behind the resource's secret token;
//! - `GET /buchung/kalender/person/{token}.ics`: one user's own bookings (secret token from
//!   `booking_user_feeds`, made on the first visit of `/buchung/kalender`, rotatable);
//! - `GET /buchung/kalender/verein/{token}.ics`: an organisation's bookings
//!   (`booking_organisations.feed_token`, rotatable by its members and by staff);
//! - `GET /buchung/kalender`: the page that shows a user their feed URLs and lets them
//!   replace (revoke) them.
//!
//! Calendar apps fetch feeds without a session, so the token is the only credential: a wrong
//! or retired token, or another tenant's, answers 404. Times are Europe/Berlin wall-clock
//! times (`DTSTART;TZID=Europe/Berlin`, with a VTIMEZONE) so that a weekly 18:00 series stays
//! at 18:00 across the clock changes. A series (`booking_series`) is one VEVENT with RRULE
//! and EXDATE; occurrences whose status or length differs from the series become
//! RECURRENCE-ID overrides, moved ones (their original start is an EXDATE) events of their own. Cancelled and rejected bookings within the window stay in the
//! feed as `STATUS:CANCELLED`, so that subscribed calendars remove them.
//!
//! A feed is built from one query per table (resources, reservations, series,
//! organisations), never one per row, and answers with a strong ETag (SHA-256 of the body);
//! `If-None-Match` with it gives 304.

use crate::domain::{OrganisationId, ResourceId};
use crate::formats::ical::{self, FeedData, View, window};

use crate::service::{self, MANAGE, Reservation};
use crate::service::{may, person};
use crate::store::entity::{org_member, organisation, reservation, resource, series, user_feed};
use chrono::{DateTime, Duration, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Error, Result, TenantId, UserId};
use rathaus_store::db_err;
use rathaus_store::uow::{Actor, Tx};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

// ---------------------------------------------------------------- URLs

/// The path of a resource's staff feed (secret token).
pub fn feed_path(r: &service::Resource) -> String {
    format!("/buchung/kalender/{}/{}.ics", r.id, r.feed_token)
}

/// The absolute staff feed URL of a resource.
pub fn feed_url(origin: &str, r: &service::Resource) -> String {
    format!("{origin}{}", feed_path(r))
}

/// Whether a resource has a public occupancy feed: all but staff-only resources.
pub fn has_public_feed(r: &service::Resource) -> bool {
    r.bookable_by != crate::domain::BookableBy::Staff.as_str()
}

/// The path of a resource's public occupancy feed, if it has one.
pub fn public_feed_path(r: &service::Resource) -> Option<String> {
    has_public_feed(r).then(|| format!("/belegung/{}/kalender.ics", r.id))
}

/// The absolute public occupancy feed URL of a resource (None for staff-only resources):
/// what the API gives as `ical_url`.
pub fn public_feed_url(origin: &str, r: &service::Resource) -> Option<String> {
    public_feed_path(r).map(|p| format!("{origin}{p}"))
}

pub fn person_feed_path(token: &str) -> String {
    format!("/buchung/kalender/person/{token}.ics")
}

pub fn org_feed_path(token: &str) -> String {
    format!("/buchung/kalender/verein/{token}.ics")
}

/// The host name of an origin, without scheme, port or path (for UIDs).
pub fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.starts_with('[') {
        // IPv6 literal: keep the brackets, drop the port.
        return authority.find(']').map_or(authority, |i| &authority[..=i]);
    }
    authority.split(':').next().unwrap_or(authority)
}

// ---------------------------------------------------------------- what a feed holds

/// Whose bookings a feed holds.
enum Subject {
    Resources(Vec<i64>),
    Person(i64),
    Organisation(i64),
}

async fn load(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    subject: Subject,
    name: String,
    view: View,
    now: DateTime<Utc>,
) -> Result<FeedData> {
    let (from, to) = window(now);
    let mut rq = rathaus_store::uow::scoped::<reservation::Entity>(tenant)
        .filter(reservation::Column::StartsAt.lt(to))
        .filter(reservation::Column::EndsAt.gt(from));
    let mut sq = rathaus_store::uow::scoped::<series::Entity>(tenant);
    match &subject {
        Subject::Resources(ids) => {
            rq = rq
                .filter(reservation::Column::ResourceId.is_in(ids.iter().copied()))
                // No reservation is longer than MAX_MINUTES: bounds the index range scanned.
                .filter(
                    reservation::Column::StartsAt
                        .gt(from - Duration::minutes(i64::from(service::MAX_MINUTES))),
                );
            sq = sq.filter(series::Column::ResourceId.is_in(ids.iter().copied()));
        }
        Subject::Person(user) => {
            rq = rq.filter(reservation::Column::BookedBy.eq(*user));
            sq = sq.filter(series::Column::BookedBy.eq(*user));
        }
        Subject::Organisation(org) => {
            rq = rq.filter(reservation::Column::OrganisationId.eq(*org));
            sq = sq.filter(series::Column::OrganisationId.eq(*org));
        }
    }
    // Only the columns a feed shows: decoding whole rows was most of a busy feed's time.
    let reservations: Vec<ical::Event> = rq
        .select_only()
        .columns([
            reservation::Column::Id,
            reservation::Column::ResourceId,
            reservation::Column::Title,
            reservation::Column::StartsAt,
            reservation::Column::EndsAt,
            reservation::Column::Status,
            reservation::Column::SeriesId,
            reservation::Column::OrganisationId,
            reservation::Column::Sequence,
            reservation::Column::CreatedAt,
            reservation::Column::UpdatedAt,
        ])
        .order_by_asc(reservation::Column::StartsAt)
        .order_by_asc(reservation::Column::Id)
        .into_model::<FeedRow>()
        .all(conn)
        .await?
        .into_iter()
        .map(ical::Event::from)
        .collect();
    // A series with no row in the window (every occurrence has one, cancelled ones too) has
    // nothing to show: only the series the rows name are loaded and expanded.
    let series_ids: BTreeSet<i64> = reservations.iter().filter_map(|r| r.series_id).collect();
    let series = if series_ids.is_empty() {
        Vec::new()
    } else {
        sq.filter(series::Column::Id.is_in(series_ids))
            .order_by_asc(series::Column::Id)
            .all(conn)
            .await?
    };
    let resource_ids: BTreeSet<i64> = reservations
        .iter()
        .map(|r| r.resource_id)
        .chain(series.iter().map(|s| s.resource_id))
        .collect();
    let resources = if resource_ids.is_empty() {
        HashMap::new()
    } else {
        rathaus_store::uow::scoped::<resource::Entity>(tenant)
            .filter(resource::Column::Id.is_in(resource_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect()
    };
    let org_ids: BTreeSet<i64> = reservations
        .iter()
        .filter_map(|r| r.organisation_id)
        .chain(series.iter().filter_map(|s| s.organisation_id))
        .collect();
    let public_orgs = if view == View::Public && !org_ids.is_empty() {
        rathaus_store::uow::scoped::<organisation::Entity>(tenant)
            .filter(organisation::Column::Id.is_in(org_ids))
            .filter(organisation::Column::PublicName.eq(true))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    } else {
        HashMap::new()
    };
    Ok(FeedData {
        name,
        view,
        from,
        to,
        reservations,
        series: series.iter().map(series_event_of).collect(),
        resources,
        public_orgs,
        busy_label: crate::service::notify::texts()
            .get("booking.feeds.busy")
            .to_string(),
    })
}

/// The columns of a reservation a feed shows: decoding whole rows was most of a busy
/// feed's time.
#[derive(sea_orm::FromQueryResult)]
struct FeedRow {
    id: i64,
    resource_id: i64,
    title: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    status: String,
    series_id: Option<i64>,
    organisation_id: Option<i64>,
    sequence: i32,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
}

impl From<FeedRow> for ical::Event {
    fn from(r: FeedRow) -> Self {
        ical::Event {
            id: r.id,
            resource_id: r.resource_id,
            title: r.title,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            status: r.status,
            series_id: r.series_id,
            organisation_id: r.organisation_id,
            sequence: r.sequence,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A reservation as the calendar writer takes it.
pub fn event_of(r: &Reservation) -> ical::Event {
    ical::Event {
        id: r.id,
        resource_id: r.resource_id,
        title: r.title.clone(),
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        status: r.status.clone(),
        series_id: r.series_id,
        organisation_id: r.organisation_id,
        sequence: r.sequence,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A series as the calendar writer takes it.
pub fn series_event_of(s: &series::Model) -> ical::SeriesEvent {
    ical::SeriesEvent {
        id: s.id,
        resource_id: s.resource_id,
        title: s.title.clone(),
        dtstart_local: s.dtstart_local.clone(),
        duration_minutes: s.duration_minutes,
        rrule: s.rrule.clone(),
        exdates: s.exdates.clone(),
        status: s.status.clone(),
        sequence: s.sequence,
        organisation_id: s.organisation_id,
        updated_at: s.updated_at,
    }
}

fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty()
        && a.len() == b.len()
        && bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

/// Tokens are URL-safe base64; anything else is not looked up at all.
fn plausible_token(t: &str) -> bool {
    (16..=64).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn find_resource(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
) -> Result<service::Resource> {
    rathaus_store::uow::scoped_by_id::<resource::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// A resource's staff feed for whoever holds its token: its own bookings with titles.
pub async fn staff_feed_data(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_id: ResourceId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<FeedData> {
    let resource_id = i64::from(resource_id);
    let r = find_resource(conn, tenant, resource_id).await?;
    if !same_token(&r.feed_token, token) {
        return Err(Error::NotFound);
    }
    load(
        conn,
        tenant,
        Subject::Resources(vec![r.id]),
        r.name,
        View::Private,
        now,
    )
    .await
}

/// The public occupancy of a resource (not staff-only): busy blocks of the resource and of
/// those that block it (its hall, or its parts), without titles.
pub async fn public_feed_data(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_id: ResourceId,
    now: DateTime<Utc>,
) -> Result<FeedData> {
    let resource_id = i64::from(resource_id);
    let r = find_resource(conn, tenant, resource_id).await?;
    if !has_public_feed(&r) {
        return Err(Error::NotFound);
    }
    let set = service::blocking_set(conn, tenant, &r).await?;
    let ids = set.iter().map(|x| x.id).collect();
    let name = r.name.clone();
    load(
        conn,
        tenant,
        Subject::Resources(ids),
        name,
        View::Public,
        now,
    )
    .await
}

/// What a resource's public feed shows, summed up in two aggregate queries: it changes
/// whenever a reservation enters or leaves the feed's window or changes (status, time,
/// sequence), a series of the resources changes, or the resource is renamed. It validates a
/// cached feed, and the client's ETag, without loading and rendering the feed; being read
/// from the database, it holds across processes.
pub async fn public_feed_version(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_id: ResourceId,
    now: DateTime<Utc>,
) -> Result<String> {
    let resource_id = i64::from(resource_id);
    use sea_orm::sea_query::Expr;
    let r = find_resource(conn, tenant, resource_id).await?;
    if !has_public_feed(&r) {
        return Err(Error::NotFound);
    }
    let set = service::blocking_set(conn, tenant, &r).await?;
    let ids: Vec<i64> = set.iter().map(|x| x.id).collect();
    let (from, to) = window(now);
    type Sums = (
        i64,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Option<Sums> = rathaus_store::uow::scoped::<reservation::Entity>(tenant)
        .filter(reservation::Column::ResourceId.is_in(ids.iter().copied()))
        .filter(reservation::Column::StartsAt.lt(to))
        .filter(reservation::Column::EndsAt.gt(from))
        .filter(
            reservation::Column::StartsAt
                .gt(from - Duration::minutes(i64::from(service::MAX_MINUTES))),
        )
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(Expr::cust("CAST(SUM(id) AS BIGINT)"), "ids")
        .column_as(Expr::cust("CAST(SUM(sequence) AS BIGINT)"), "seq")
        .column_as(Expr::cust("CAST(MAX(updated_at) AS TEXT)"), "upd")
        .column_as(Expr::cust("CAST(MAX(created_at) AS TEXT)"), "crt")
        .into_tuple()
        .one(conn)
        .await?;
    let series: Option<Option<String>> = rathaus_store::uow::scoped::<series::Entity>(tenant)
        .filter(series::Column::ResourceId.is_in(ids.iter().copied()))
        .select_only()
        .column_as(Expr::cust("CAST(MAX(updated_at) AS TEXT)"), "upd")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(format!(
        "{}|{}|{ids:?}|{rows:?}|{series:?}",
        r.name, r.bookable_by
    ))
}

/// One user's own bookings, for the holder of their personal feed token. A deactivated
/// user's feed is gone.
pub async fn person_feed_data(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<FeedData> {
    if !plausible_token(token) {
        return Err(Error::NotFound);
    }
    let f = rathaus_store::uow::scoped::<user_feed::Entity>(tenant)
        .filter(user_feed::Column::Token.eq(token))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let p = rathaus_store::accounts::principal(conn, tenant, UserId(f.user_id))
        .await?
        .ok_or(Error::NotFound)?;
    let name = format!("Buchungen {}", p.name);
    load(
        conn,
        tenant,
        Subject::Person(f.user_id),
        name,
        View::Private,
        now,
    )
    .await
}

/// An organisation's bookings, for the holder of its feed token.
pub async fn org_feed_data(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<FeedData> {
    if !plausible_token(token) {
        return Err(Error::NotFound);
    }
    let o = rathaus_store::uow::scoped::<organisation::Entity>(tenant)
        .filter(organisation::Column::FeedToken.eq(token))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    load(
        conn,
        tenant,
        Subject::Organisation(o.id),
        o.name,
        View::Private,
        now,
    )
    .await
}

// ---------------------------------------------------------------- tokens

fn new_token() -> String {
    rathaus_store::random_token(service::FEED_TOKEN_BYTES)
}

/// The user's personal feed token; made (and audited) on the first call. Any signed-in
/// principal has one.
pub async fn user_feed_token(db: &DatabaseConnection, by: Actor<'_>) -> Result<String> {
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let find = || {
        rathaus_store::uow::scoped_by_id::<user_feed::Entity, _>(
            who.tenant_id,
            (who.tenant_id.0, who.user_id.0),
        )
    };
    if let Some(f) = find().one(tx.conn()).await? {
        return Ok(f.token);
    }
    // A concurrent first visit may have inserted it meanwhile: keep theirs.
    let inserted = user_feed::Entity::insert(user_feed::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        user_id: Set(who.user_id.0),
        token: Set(new_token()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([user_feed::Column::TenantId, user_feed::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    if inserted > 0 {
        tx.audit(NewEvent::new(
            "booking.feed.person_created",
            "user",
            Some(who.user_id.0),
        ))
        .await?;
    }
    let f = find().one(tx.conn()).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(f.token)
}

/// Gives the user a new personal feed token: the old URL answers 404 from now on.
pub async fn rotate_user_feed(db: &DatabaseConnection, by: Actor<'_>) -> Result<String> {
    let who = person(by)?;
    // Make sure a row exists, then replace its token.
    user_feed_token(db, by).await?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let f = user_feed::Entity::find_by_id((who.tenant_id.0, who.user_id.0))
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    let mut am: user_feed::ActiveModel = f.into();
    let token = new_token();
    am.token = Set(token.clone());
    am.created_at = Set(Utc::now());
    am.update(tx.conn()).await?;
    tx.audit(NewEvent::new(
        "booking.feed.person_rotated",
        "user",
        Some(who.user_id.0),
    ))
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The organisations `who` is a member of, by name.
pub async fn member_organisations(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
) -> Result<Vec<organisation::Model>> {
    let who = person(by)?;
    let ids: Vec<i64> = rathaus_store::uow::scoped::<org_member::Entity>(who.tenant_id)
        .filter(org_member::Column::UserId.eq(who.user_id.0))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.organisation_id)
        .collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    rathaus_store::uow::scoped::<organisation::Entity>(who.tenant_id)
        .filter(organisation::Column::Id.is_in(ids))
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// The organisation if `who` may handle its feed (a member, or staff with `booking.manage`);
/// anyone else, and another tenant's organisation, gets NotFound.
async fn org_for_feed(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    org_id: i64,
) -> Result<organisation::Model> {
    let who = person(by)?;
    let o = rathaus_store::uow::scoped_by_id::<organisation::Entity, _>(who.tenant_id, org_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    if !may(by, MANAGE) {
        rathaus_store::uow::scoped_by_id::<org_member::Entity, _>(
            who.tenant_id,
            (org_id, who.user_id.0),
        )
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    }
    Ok(o)
}

async fn set_org_token(
    tx: &Tx<'_>,
    by: Actor<'_>,
    o: organisation::Model,
    action: &str,
) -> Result<String> {
    let _who = person(by)?;
    let token = new_token();
    let (id, name) = (o.id, o.name.clone());
    let mut am: organisation::ActiveModel = o.into();
    am.feed_token = Set(token.clone());
    am.update(tx.conn()).await?;
    tx.audit(
        NewEvent::new(action, "booking_organisation", Some(id)).details(json!({"name": name})),
    )
    .await?;
    Ok(token)
}

/// The organisation's feed token (members and `booking.manage`); an organisation created
/// without one gets it now.
pub async fn org_feed_token(
    db: &DatabaseConnection,
    by: Actor<'_>,
    org_id: OrganisationId,
) -> Result<String> {
    let org_id = i64::from(org_id);
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let o = org_for_feed(tx.conn(), by, org_id).await?;
    if !o.feed_token.is_empty() {
        return Ok(o.feed_token);
    }
    let token = set_org_token(&tx, by, o, "booking.feed.organisation_created").await?;
    tx.commit().await?;
    Ok(token)
}

/// Gives the organisation a new feed token (members and `booking.manage`): the old URL
/// answers 404 from now on. The audit event does not record either token.
pub async fn rotate_org_feed(
    db: &DatabaseConnection,
    by: Actor<'_>,
    org_id: OrganisationId,
) -> Result<String> {
    let org_id = i64::from(org_id);
    let who = person(by)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let o = org_for_feed(tx.conn(), by, org_id).await?;
    let token = set_org_token(&tx, by, o, "booking.feed.organisation_rotated").await?;
    tx.commit().await?;
    Ok(token)
}
