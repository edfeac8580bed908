//! Calendar feeds (RFC 5545) of the booking module, written by a small serializer here:
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

use crate::entity::{org_member, organisation, reservation, resource, series, user_feed};
use crate::service::{self, CANCELLED, CONFIRMED, MANAGE, REJECTED, REQUESTED, Reservation};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::{Error, Principal, Result, TenantId, UserId};
use rathaus_store::{Actor, audit, begin, db_err};
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::{AppState, WebConfig};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";
pub const PRODID: &str = "-//Rathaus//Ressourcenbuchung//DE";
pub const TZID: &str = "Europe/Berlin";
/// How many occurrences of one series a feed expands at most (the series service refuses
/// rules with more than 1,000).
pub const MAX_OCCURRENCES: u16 = 1000;
/// How long calendar apps may keep a feed before they ask again (ETag makes asking cheap).
const MAX_AGE: &str = "max-age=300";

/// The feed routes and the feed page; mounted by the module's `pages()`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/belegung/{id}/kalender.ics", get(public_feed))
        .route("/buchung/kalender", get(feeds_page))
        .route("/buchung/kalender/erneuern", post(rotate_person))
        .route("/buchung/kalender/person/{file}", get(person_feed))
        .route("/buchung/kalender/verein/{file}", get(org_feed))
        .route("/buchung/kalender/verein/{id}/erneuern", post(rotate_org))
        .route("/buchung/kalender/{resource_id}/{file}", get(staff_feed))
}

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
    r.bookable_by != "staff"
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

/// `scheme://host[:port]` of this request: `public_url` when configured, else the Host
/// header (https when a trusted proxy says so in X-Forwarded-Proto).
pub fn origin(cfg: &WebConfig, headers: &HeaderMap) -> String {
    if let Some(u) = cfg.public_url.as_deref().filter(|u| !u.is_empty()) {
        return u.trim_end_matches('/').to_string();
    }
    let forwarded_https = cfg.trust_forwarded
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{}", host.to_ascii_lowercase())
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

/// Who reads a feed: the public sees busy blocks only, token holders see titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Public,
    Private,
}

/// Everything one feed shows, loaded with one query per table.
#[derive(Debug, Clone)]
pub struct FeedData {
    /// The calendar's name (NAME / X-WR-CALNAME).
    pub name: String,
    pub view: View,
    /// The window: bookings ending before `from` or starting after `to` are left out.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Single bookings and the occurrences of the series below, by start.
    pub reservations: Vec<Reservation>,
    pub series: Vec<series::Model>,
    /// Resource names for LOCATION.
    pub resources: HashMap<i64, String>,
    /// Organisations whose name may appear in the public view (`public_name`).
    pub public_orgs: HashMap<i64, String>,
}

/// How far back and ahead a feed reaches.
pub const FEED_DAYS_BACK: i64 = 30;
pub const FEED_DAYS_AHEAD: i64 = 366;

pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        now - Duration::days(FEED_DAYS_BACK),
        now + Duration::days(FEED_DAYS_AHEAD),
    )
}

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
    let reservations: Vec<Reservation> = rq
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
        .map(|r| r.into_reservation(tenant))
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
        series,
        resources,
        public_orgs,
    })
}

/// The columns of a reservation a feed shows.
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

impl FeedRow {
    /// A reservation with the feed's columns; the rest (booker, fee, decision) stays empty
    /// because no feed shows it.
    fn into_reservation(self, tenant: TenantId) -> Reservation {
        Reservation {
            id: self.id,
            tenant_id: tenant.0,
            resource_id: self.resource_id,
            title: self.title,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            status: self.status,
            booked_by: None,
            created_at: self.created_at,
            decision_reason: None,
            decided_by: None,
            decided_at: None,
            series_id: self.series_id,
            organisation_id: self.organisation_id,
            sequence: self.sequence,
            fee_cents: 0,
            fee_group: String::new(),
            no_show: false,
            updated_at: self.updated_at,
        }
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
    resource_id: i64,
    token: &str,
    now: DateTime<Utc>,
) -> Result<FeedData> {
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
    resource_id: i64,
    now: DateTime<Utc>,
) -> Result<FeedData> {
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
pub async fn user_feed_token<C: TransactionTrait>(db: &C, who: &Principal) -> Result<String> {
    let txn = begin(db).await?;
    let find = || {
        rathaus_store::uow::scoped_by_id::<user_feed::Entity, _>(
            who.tenant_id,
            (who.tenant_id.0, who.user_id.0),
        )
    };
    if let Some(f) = find().one(&txn).await? {
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
    .exec_without_returning(&txn)
    .await?;
    if inserted > 0 {
        audit::record(
            &txn,
            who.tenant_id,
            &Actor::user(who),
            NewEvent::new("booking.feed.person_created", "user", Some(who.user_id.0)),
        )
        .await?;
    }
    let f = find().one(&txn).await?.ok_or(Error::NotFound)?;
    txn.commit().await?;
    Ok(f.token)
}

/// Gives the user a new personal feed token: the old URL answers 404 from now on.
pub async fn rotate_user_feed<C: TransactionTrait>(db: &C, who: &Principal) -> Result<String> {
    // Make sure a row exists, then replace its token.
    user_feed_token(db, who).await?;
    let txn = begin(db).await?;
    let f = user_feed::Entity::find_by_id((who.tenant_id.0, who.user_id.0))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut am: user_feed::ActiveModel = f.into();
    let token = new_token();
    am.token = Set(token.clone());
    am.created_at = Set(Utc::now());
    am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("booking.feed.person_rotated", "user", Some(who.user_id.0)),
    )
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// The organisations `who` is a member of, by name.
pub async fn member_organisations(
    conn: &impl ConnectionTrait,
    who: &Principal,
) -> Result<Vec<organisation::Model>> {
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
    who: &Principal,
    org_id: i64,
) -> Result<organisation::Model> {
    let o = rathaus_store::uow::scoped_by_id::<organisation::Entity, _>(who.tenant_id, org_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    if !who.has(MANAGE) {
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

async fn set_org_token<C: ConnectionTrait>(
    txn: &C,
    who: &Principal,
    o: organisation::Model,
    action: &str,
) -> Result<String> {
    let token = new_token();
    let (id, name) = (o.id, o.name.clone());
    let mut am: organisation::ActiveModel = o.into();
    am.feed_token = Set(token.clone());
    am.update(txn).await?;
    audit::record(
        txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new(action, "booking_organisation", Some(id)).details(json!({"name": name})),
    )
    .await?;
    Ok(token)
}

/// The organisation's feed token (members and `booking.manage`); an organisation created
/// without one gets it now.
pub async fn org_feed_token<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    org_id: i64,
) -> Result<String> {
    let txn = begin(db).await?;
    let o = org_for_feed(&txn, who, org_id).await?;
    if !o.feed_token.is_empty() {
        return Ok(o.feed_token);
    }
    let token = set_org_token(&txn, who, o, "booking.feed.organisation_created").await?;
    txn.commit().await?;
    Ok(token)
}

/// Gives the organisation a new feed token (members and `booking.manage`): the old URL
/// answers 404 from now on. The audit event does not record either token.
pub async fn rotate_org_feed<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    org_id: i64,
) -> Result<String> {
    let txn = begin(db).await?;
    let o = org_for_feed(&txn, who, org_id).await?;
    let token = set_org_token(&txn, who, o, "booking.feed.organisation_rotated").await?;
    txn.commit().await?;
    Ok(token)
}

// ---------------------------------------------------------------- HTTP

fn strip_ics(file: &str) -> Result<&str> {
    file.strip_suffix(".ics")
        .filter(|s| !s.is_empty())
        .ok_or(Error::NotFound)
}

/// The feed as an HTTP answer: strong ETag over the body, 304 when the client has it.
pub fn ics_response(headers: &HeaderMap, body: String, private: bool) -> Response {
    let etag = format!("\"{}\"", &rathaus_store::sha256_hex(&body)[..32]);
    let cache = if private {
        format!("private, {MAX_AGE}")
    } else {
        format!("public, {MAX_AGE}")
    };
    let matches = rathaus_web::conditional::not_modified(headers, &etag);
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        r
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    res
}

/// UIDs carry the tenant's stable host (not the request's), so a feed and a mail attachment
/// name the same booking alike and calendars keep one event.
async fn render_for(
    st: &AppState,
    tenant: TenantId,
    headers: &HeaderMap,
    d: &FeedData,
    private: bool,
) -> Result<Response, HtmlError> {
    let host = rathaus_store::tenants::uid_host(&st.db.conn, tenant).await?;
    Ok(ics_response(headers, calendar(d, &host), private))
}

async fn staff_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((resource_id, file)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let id: i64 = resource_id.parse().map_err(|_| Error::NotFound)?;
    let token = strip_ics(&file)?;
    let d = staff_feed_data(&st.db.conn, tenant, id, token, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, true).await
}

async fn public_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    // Route `/belegung/{id}/kalender.ics`: the id is the whole segment.
    let id: i64 = file.parse().map_err(|_| Error::NotFound)?;
    let d = public_feed_data(&st.db.conn, tenant, id, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, false).await
}

async fn person_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let d = person_feed_data(&st.db.conn, tenant, strip_ics(&file)?, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, true).await
}

async fn org_feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let d = org_feed_data(&st.db.conn, tenant, strip_ics(&file)?, Utc::now()).await?;
    render_for(&st, tenant, &headers, &d, true).await
}

struct OrgFeedRow {
    id: i64,
    name: String,
    url: String,
}

#[derive(Template)]
#[template(path = "booking/feeds_page.html")]
struct FeedsTpl {
    l: Layout,
    person_url: String,
    orgs: Vec<OrgFeedRow>,
    /// A feed was just replaced: which one, for the confirmation.
    rotated: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct FeedsQuery {
    #[serde(default)]
    erneuert: String,
}

async fn feeds_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<FeedsQuery>,
) -> Result<Response, HtmlError> {
    let origin = origin(&st.cfg, &headers);
    let token = user_feed_token(&st.db.conn, &p).await?;
    let mut orgs = vec![];
    for o in member_organisations(&st.db.conn, &p).await? {
        // Organisations are few per user; one made without a token gets it here.
        let token = if o.feed_token.is_empty() {
            org_feed_token(&st.db.conn, &p, o.id).await?
        } else {
            o.feed_token
        };
        orgs.push(OrgFeedRow {
            id: o.id,
            name: o.name,
            url: format!("{origin}{}", org_feed_path(&token)),
        });
    }
    let t = rathaus_web::i18n::catalog(ctx.lang);
    let rotated = match q.erneuert.as_str() {
        "person" => Some(t.get("booking.feeds.rotated_person").to_string()),
        "verein" => Some(t.get("booking.feeds.rotated_org").to_string()),
        _ => None,
    };
    page(FeedsTpl {
        l: layout(&st, &ctx, "booking.feeds.title"),
        person_url: format!("{origin}{}", person_feed_path(&token)),
        orgs,
        rotated,
    })
}

async fn rotate_person(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
) -> Result<Response, HtmlError> {
    rotate_user_feed(&st.db.conn, &p).await?;
    Ok(Redirect::to("/buchung/kalender?erneuert=person").into_response())
}

async fn rotate_org(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    rotate_org_feed(&st.db.conn, &p, id).await?;
    Ok(Redirect::to("/buchung/kalender?erneuert=verein").into_response())
}

// ---------------------------------------------------------------- serializer

/// Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks;
/// other control characters (not allowed in TEXT) are dropped, tabs kept.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Longest line in octets, without the CRLF (RFC 5545 3.1).
pub const MAX_OCTETS: usize = 75;

/// Appends one content line, folded so that no line exceeds 75 octets (a continuation line
/// starts with one space, which counts), never inside a UTF-8 character; ends with CRLF.
pub fn push_line(out: &mut String, line: &str) {
    // Most lines are short: no folding to look for.
    if line.len() <= MAX_OCTETS {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > MAX_OCTETS {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
}

/// A UTC date-time in iCalendar's basic format, e.g. `20270301T170000Z`.
pub fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A local date-time in iCalendar's basic format, e.g. `20270301T180000`.
pub fn local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// `NAME;TZID=Europe/Berlin:<local>` for an instant, or `NAME:<utc>Z` for the rare instant
/// whose wall-clock time is ambiguous (the repeated autumn hour), which TZID cannot express.
pub fn dt_prop(name: &str, t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&Berlin).naive_local();
    match Berlin.from_local_datetime(&l) {
        chrono::LocalResult::Single(_) => format!("{name};TZID={TZID}:{}", local(l)),
        _ => format!("{name}:{}", utc(t)),
    }
}

/// Europe/Berlin with the EU rules since 1996: last Sunday of March 02:00 → 03:00, last
/// Sunday of October 03:00 → 02:00.
pub const VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// RFC 5545 STATUS of a booking status; rejected requests leave calendars like cancelled
/// ones.
pub fn ical_status(status: &str) -> &'static str {
    match status {
        CONFIRMED => "CONFIRMED",
        REQUESTED => "TENTATIVE",
        CANCELLED | REJECTED => "CANCELLED",
        _ => "TENTATIVE",
    }
}

/// The series' local start `YYYY-MM-DDTHH:MM`.
fn parse_local(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// A local time as UTC (the earlier instant of an ambiguous one; a skipped one as if the
/// clock had not changed yet).
fn berlin_to_utc(l: NaiveDateTime) -> DateTime<Utc> {
    match Berlin.from_local_datetime(&l) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => Berlin
            .from_local_datetime(&(l + Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&l), |t| t.with_timezone(&Utc)),
    }
}

/// The stored RRULE as it goes into a feed with a TZID start: UNTIL in UTC as RFC 5545
/// 3.3.10 demands (a stored date means the end of that local day). None for a value that is
/// no plausible RRULE (it never reaches the feed).
pub fn normalise_rrule(rule: &str) -> Option<String> {
    let rule = rule.trim();
    let rule = rule.strip_prefix("RRULE:").unwrap_or(rule);
    if rule.is_empty()
        || !rule
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b";=,+-:".contains(&b))
    {
        return None;
    }
    let mut parts = Vec::new();
    for part in rule.split(';').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=')?;
        let k = k.to_ascii_uppercase();
        if k == "UNTIL" {
            let until = if let Ok(d) = NaiveDate::parse_from_str(v, "%Y%m%d") {
                berlin_to_utc(d.and_hms_opt(23, 59, 59)?)
            } else if let Some(z) = v.strip_suffix('Z') {
                Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(z, "%Y%m%dT%H%M%S").ok()?)
            } else {
                berlin_to_utc(NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()?)
            };
            parts.push(format!("UNTIL={}", utc(until)));
        } else {
            parts.push(format!("{k}={}", v.to_ascii_uppercase()));
        }
    }
    Some(parts.join(";"))
}

/// The local starts of a series (EXDATEs not yet removed), at most `MAX_OCCURRENCES`.
pub fn occurrences(start: NaiveDateTime, rule: &str) -> Option<Vec<NaiveDateTime>> {
    let text = format!("DTSTART;TZID={TZID}:{}\nRRULE:{rule}", local(start));
    let set: rrule::RRuleSet = text.parse().ok()?;
    Some(
        set.all(MAX_OCCURRENCES)
            .dates
            .into_iter()
            .map(|d| d.naive_local())
            .collect(),
    )
}

struct Lines<'a> {
    out: &'a mut String,
    buf: String,
}

impl Lines<'_> {
    fn put(&mut self, args: std::fmt::Arguments) {
        self.buf.clear();
        let _ = self.buf.write_fmt(args);
        push_line(self.out, &self.buf);
    }
}

impl FeedData {
    fn summary(&self, title: &str, org: Option<i64>) -> String {
        match self.view {
            View::Private => escape_text(title),
            View::Public => match org.and_then(|o| self.public_orgs.get(&o)) {
                Some(name) => escape_text(name),
                None => "Belegt".to_string(),
            },
        }
    }

    fn location(&self, resource_id: i64) -> Option<String> {
        self.resources.get(&resource_id).map(|n| escape_text(n))
    }
}

/// A series as its feed shows it: the master and the overrides of single occurrences.
struct SeriesOut<'a> {
    s: &'a series::Model,
    start: NaiveDateTime,
    rule: String,
    exdates: Vec<NaiveDateTime>,
    /// (RECURRENCE-ID, the occurrence's reservation) where it differs from the rule.
    overrides: Vec<(NaiveDateTime, &'a Reservation)>,
}

/// Matches the series' reservations to its occurrences. A reservation at an occurrence's
/// start is that occurrence (an override if its status or length differs). One elsewhere was
/// moved: the series service put its original start into EXDATE, so it is returned as
/// unmatched and written as an event of its own (like an RDATE), which every client reads
/// the same way.
fn match_series<'a>(
    out: &mut SeriesOut<'a>,
    occ: &[NaiveDateTime],
    mine: &[&'a Reservation],
) -> Vec<&'a Reservation> {
    let duration = Duration::minutes(i64::from(out.s.duration_minutes));
    let set: HashSet<NaiveDateTime> = occ.iter().copied().collect();
    let mut taken: HashSet<NaiveDateTime> = HashSet::new();
    let mut unmatched = vec![];
    for r in mine {
        let l = r.starts_at.with_timezone(&Berlin).naive_local();
        if set.contains(&l) && taken.insert(l) {
            if r.status != out.s.status || r.ends_at - r.starts_at != duration {
                out.overrides.push((l, r));
            }
        } else {
            unmatched.push(*r);
        }
    }
    out.overrides.sort_by_key(|(o, _)| *o);
    unmatched
}

/// The whole VCALENDAR of a feed. `host` makes the UIDs (`reservation-<id>@<host>`,
/// `series-<id>@<host>`).
pub fn calendar(d: &FeedData, host: &str) -> String {
    let mut out = String::with_capacity(2048 + d.reservations.len() * 320);
    let mut w = Lines {
        out: &mut out,
        buf: String::with_capacity(128),
    };
    let name = escape_text(&d.name);
    w.put(format_args!("BEGIN:VCALENDAR"));
    w.put(format_args!("VERSION:2.0"));
    w.put(format_args!("PRODID:{PRODID}"));
    w.put(format_args!("CALSCALE:GREGORIAN"));
    w.put(format_args!("METHOD:PUBLISH"));
    // NAME (RFC 7986) and the older X-WR-CALNAME that most calendar apps read.
    w.put(format_args!("NAME:{name}"));
    w.put(format_args!("X-WR-CALNAME:{name}"));
    w.put(format_args!("X-WR-TIMEZONE:{TZID}"));
    w.put(format_args!("REFRESH-INTERVAL;VALUE=DURATION:PT1H"));
    w.put(format_args!("X-PUBLISHED-TTL:PT1H"));
    for l in VTIMEZONE {
        w.put(format_args!("{l}"));
    }

    // Series first: they decide which reservations are occurrences.
    let mut by_series: HashMap<i64, Vec<&Reservation>> = HashMap::new();
    for r in &d.reservations {
        if let Some(s) = r.series_id {
            by_series.entry(s).or_default().push(r);
        }
    }
    let mut covered: HashSet<i64> = HashSet::new();
    let mut shown = vec![];
    for s in &d.series {
        let Some(start) = parse_local(&s.dtstart_local) else {
            continue;
        };
        let Some(rule) = normalise_rrule(&s.rrule) else {
            continue;
        };
        let Some(mut occ) = occurrences(start, &rule) else {
            continue;
        };
        let exdates: Vec<NaiveDateTime> = s.exdates.split(',').filter_map(parse_local).collect();
        occ.retain(|o| !exdates.contains(o));
        let duration = Duration::minutes(i64::from(s.duration_minutes));
        let mine = by_series.get(&s.id).cloned().unwrap_or_default();
        let in_window = occ.iter().any(|o| {
            let b = berlin_to_utc(*o);
            b < d.to && b + duration > d.from
        });
        if !in_window && mine.is_empty() {
            continue;
        }
        let mut so = SeriesOut {
            s,
            start,
            rule,
            exdates,
            overrides: vec![],
        };
        let unmatched = match_series(&mut so, &occ, &mine);
        for r in &mine {
            if !unmatched.iter().any(|u| u.id == r.id) {
                covered.insert(r.id);
            }
        }
        shown.push(so);
    }

    for r in d.reservations.iter().filter(|r| !covered.contains(&r.id)) {
        let stamp = r.updated_at.unwrap_or(r.created_at);
        w.put(format_args!("BEGIN:VEVENT"));
        w.put(format_args!("UID:reservation-{}@{host}", r.id));
        w.put(format_args!("DTSTAMP:{}", utc(stamp)));
        w.put(format_args!("SEQUENCE:{}", r.sequence.max(0)));
        w.put(format_args!("{}", dt_prop("DTSTART", r.starts_at)));
        w.put(format_args!("{}", dt_prop("DTEND", r.ends_at)));
        event_body(
            &mut w,
            d,
            &r.title,
            r.organisation_id,
            r.resource_id,
            &r.status,
        );
        w.put(format_args!("END:VEVENT"));
    }

    for so in &shown {
        let s = so.s;
        let end = so.start + Duration::minutes(i64::from(s.duration_minutes));
        w.put(format_args!("BEGIN:VEVENT"));
        w.put(format_args!("UID:series-{}@{host}", s.id));
        w.put(format_args!("DTSTAMP:{}", utc(s.updated_at)));
        w.put(format_args!("SEQUENCE:{}", s.sequence.max(0)));
        w.put(format_args!("DTSTART;TZID={TZID}:{}", local(so.start)));
        w.put(format_args!("DTEND;TZID={TZID}:{}", local(end)));
        w.put(format_args!("RRULE:{}", so.rule));
        if !so.exdates.is_empty() {
            let list: Vec<String> = so.exdates.iter().map(|e| local(*e)).collect();
            w.put(format_args!("EXDATE;TZID={TZID}:{}", list.join(",")));
        }
        event_body(
            &mut w,
            d,
            &s.title,
            s.organisation_id,
            s.resource_id,
            &s.status,
        );
        w.put(format_args!("END:VEVENT"));
        for (orig, r) in &so.overrides {
            let stamp = r.updated_at.unwrap_or(r.created_at).max(s.updated_at);
            w.put(format_args!("BEGIN:VEVENT"));
            w.put(format_args!("UID:series-{}@{host}", s.id));
            w.put(format_args!("RECURRENCE-ID;TZID={TZID}:{}", local(*orig)));
            w.put(format_args!("DTSTAMP:{}", utc(stamp)));
            w.put(format_args!(
                "SEQUENCE:{}",
                r.sequence.max(s.sequence).max(0)
            ));
            w.put(format_args!("{}", dt_prop("DTSTART", r.starts_at)));
            w.put(format_args!("{}", dt_prop("DTEND", r.ends_at)));
            event_body(
                &mut w,
                d,
                &r.title,
                r.organisation_id,
                r.resource_id,
                &r.status,
            );
            w.put(format_args!("END:VEVENT"));
        }
    }
    w.put(format_args!("END:VCALENDAR"));
    out
}

fn event_body(
    w: &mut Lines,
    d: &FeedData,
    title: &str,
    org: Option<i64>,
    resource_id: i64,
    status: &str,
) {
    let status = ical_status(status);
    w.put(format_args!("SUMMARY:{}", d.summary(title, org)));
    if let Some(loc) = d.location(resource_id) {
        w.put(format_args!("LOCATION:{loc}"));
    }
    w.put(format_args!("STATUS:{status}"));
    // A cancelled booking no longer takes the time.
    let transp = if status == "CANCELLED" {
        "TRANSPARENT"
    } else {
        "OPAQUE"
    };
    w.put(format_args!("TRANSP:{transp}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes folding: CRLF followed by one space or tab joins the lines.
    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "").replace("\r\n\t", "")
    }

    #[test]
    fn escapes_the_special_characters_of_text() {
        assert_eq!(
            escape_text(r"Halle A, Teil 1; Zugang\Tür"),
            r"Halle A\, Teil 1\; Zugang\\Tür"
        );
        assert_eq!(
            escape_text("eins\nzwei\r\ndrei\rvier"),
            r"eins\nzwei\ndrei\nvier"
        );
        assert_eq!(escape_text("a\u{7}b\u{0}c\td"), "abc\td");
    }

    #[test]
    fn long_lines_fold_at_75_octets_never_inside_a_character() {
        for prefix in 0..4 {
            let line = format!("SUMMARY:{}{}", "x".repeat(prefix), "ä€".repeat(60));
            let mut out = String::new();
            push_line(&mut out, &line);
            for l in out.trim_end_matches("\r\n").split("\r\n") {
                assert!(l.len() <= MAX_OCTETS && !l.is_empty(), "{l:?}");
            }
            assert_eq!(unfold(&out), format!("{line}\r\n"));
        }
        let mut out = String::new();
        push_line(&mut out, &"x".repeat(75));
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
    }

    #[test]
    fn times_are_local_with_tzid_except_the_repeated_hour() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 16, 0, 0).unwrap();
        assert_eq!(
            dt_prop("DTSTART", t),
            "DTSTART;TZID=Europe/Berlin:20260701T180000"
        );
        let t = Utc.with_ymd_and_hms(2026, 1, 13, 17, 0, 0).unwrap();
        assert_eq!(
            dt_prop("DTEND", t),
            "DTEND;TZID=Europe/Berlin:20260113T180000"
        );
        // 25 Oct 2026, 02:30 local happens twice; the second one (01:30 UTC) goes as UTC.
        let t = Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap();
        assert_eq!(dt_prop("DTSTART", t), "DTSTART:20261025T013000Z");
    }

    #[test]
    fn until_becomes_utc() {
        assert_eq!(
            normalise_rrule("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630").unwrap(),
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T215959Z"
        );
        assert_eq!(
            normalise_rrule("RRULE:freq=weekly;count=3").unwrap(),
            "FREQ=WEEKLY;COUNT=3"
        );
        assert!(normalise_rrule("FREQ=WEEKLY\r\nX:Y").is_none());
        assert!(normalise_rrule("").is_none());
    }

    #[test]
    fn a_weekly_series_stays_at_18_local_across_both_clock_changes() {
        let start = parse_local("2026-10-20T18:00").unwrap();
        let occ = occurrences(start, "FREQ=WEEKLY;COUNT=25").unwrap();
        assert_eq!(occ.len(), 25);
        assert!(occ.iter().all(|o| o.format("%H:%M").to_string() == "18:00"));
        // UTC offsets differ before and after the changes.
        assert_eq!(berlin_to_utc(occ[0]).format("%H").to_string(), "16");
        assert_eq!(berlin_to_utc(occ[1]).format("%H").to_string(), "17");
        assert_eq!(berlin_to_utc(occ[24]).format("%H").to_string(), "16");
    }
}
