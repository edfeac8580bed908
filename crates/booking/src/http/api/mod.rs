//! The booking JSON API under /api/v1/booking: resources, availability, reservations.
//! Bearer token required (`ApiUser`); every error is an RFC 9457 problem document, including
//! malformed JSON, query strings and path segments (`ApiJson`, `ApiQuery`, `ApiPath`).

use crate::domain::{ReservationId, ResourceId};
use crate::http::MANAGERS;
use rathaus_store::uow::Actor;
use rathaus_web::Access::SignedIn;
use rathaus_web::Routes;

use crate::http::origin;
use crate::service::feeds;
use crate::service::series::{self, ExDate, SeriesInput};
use crate::service::{self, Busy, ReservationInput, ReserveError, ResourceInput};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_web::AppState;
use rathaus_web::api::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, Problem};
use rathaus_web::i18n::{Lang, catalog};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

// ---------------------------------------------------------------- types

/// A bookable resource.
#[derive(Serialize, ToSchema)]
pub struct ResourceOut {
    pub id: i64,
    pub name: String,
    /// `hall`, `hall_part`, `field`, `room` or `equipment`.
    pub kind: String,
    /// The hall of a `hall_part`.
    pub parent_id: Option<i64>,
    pub capacity: Option<i32>,
    pub requires_approval: bool,
    pub min_minutes: i32,
    pub max_minutes: i32,
    pub buffer_minutes: i32,
    pub horizon_days: i32,
    pub active: bool,
    /// `public` (every confirmed account), `organisations` or `staff`.
    pub bookable_by: String,
    pub address: String,
    /// Absolute URL of the resource's calendar feed (iCalendar, RFC 5545). For resources the
    /// public or organisations may book: the public occupancy feed (busy times only, no
    /// titles or names). For staff-only resources: the feed with its secret token, given only
    /// to staff with `booking.manage` (who see every reservation anyway); `null` otherwise.
    #[schema(format = "uri")]
    pub ical_url: Option<String>,
}

impl ResourceOut {
    /// The resource as `who` sees it; `origin` is `scheme://host` of the feed URL.
    fn new(r: service::Resource, who: &Principal, origin: &str) -> Self {
        ResourceOut {
            ical_url: feeds::public_feed_url(origin, &r).or_else(|| {
                service::may_read_feed(Actor::Token(who)).then(|| feeds::feed_url(origin, &r))
            }),
            bookable_by: r.bookable_by.clone(),
            address: r.address.clone(),
            id: r.id,
            name: r.name,
            kind: r.kind,
            parent_id: r.parent_id,
            capacity: r.capacity,
            requires_approval: r.requires_approval,
            min_minutes: r.min_minutes,
            max_minutes: r.max_minutes,
            buffer_minutes: r.buffer_minutes,
            horizon_days: r.horizon_days,
            active: r.active,
        }
    }
}

/// A new resource; omitted rules take their defaults (15 to 1,440 minutes, no buffer, 365
/// days ahead).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    pub name: String,
    /// `hall`, `hall_part`, `field`, `room` or `equipment`.
    pub kind: String,
    #[serde(default)]
    pub requires_approval: bool,
    /// Required for a `hall_part`: the hall it belongs to.
    pub parent_id: Option<i64>,
    pub capacity: Option<i32>,
    pub min_minutes: Option<i32>,
    pub max_minutes: Option<i32>,
    pub buffer_minutes: Option<i32>,
    pub horizon_days: Option<i32>,
    /// `public`, `organisations` or `staff` (default).
    pub bookable_by: Option<String>,
    pub address: Option<String>,
    pub description: Option<String>,
}

/// A time window, RFC 3339 with offset, e.g. `2027-03-01T18:00:00+01:00`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// Start (inclusive), RFC 3339 with offset.
    #[param(value_type = String, format = DateTime)]
    pub from: DateTime<FixedOffset>,
    /// End (exclusive), RFC 3339 with offset; at most 366 days after `from`.
    #[param(value_type = String, format = DateTime)]
    pub to: DateTime<FixedOffset>,
}

#[derive(Serialize, ToSchema)]
pub struct Availability {
    pub resource_id: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Busy slots of the resource, of its hall or of its parts, without titles or names.
    pub busy: Vec<Busy>,
}

/// A reservation request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReservation {
    pub resource_id: i64,
    /// RFC 3339 with offset, whole minutes.
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<FixedOffset>,
    /// RFC 3339 with offset, whole minutes, after `start`.
    #[schema(value_type = String, format = DateTime)]
    pub end: DateTime<FixedOffset>,
    pub title: String,
    /// RRULE (RFC 5545) making this a recurring series, e.g. `FREQ=WEEKLY;BYDAY=TU;UNTIL=20280627`:
    /// `FREQ` `DAILY`, `WEEKLY` or `MONTHLY`, with `COUNT` or `UNTIL`, at most 1,000
    /// occurrences. The wall-clock time of `start` in Europe/Berlin is kept for every
    /// occurrence (18:00 stays 18:00 across the clock changes); `end` gives the duration.
    pub rrule: Option<String>,
    /// With `rrule`: local days (`2027-12-21`) or local starts (`2027-12-21T18:00`) left out.
    pub exdates: Option<Vec<String>>,
    /// With `rrule`: occurrences on a blackout (holidays, maintenance) are left out instead
    /// of refusing the series.
    #[serde(default)]
    pub skip_blackouts: bool,
    /// The organisation booked for (the booker must be a member).
    pub organisation_id: Option<i64>,
    /// Equipment booked along with the room (a projector, chairs): resources of kind
    /// `equipment` that belong to this room or to no room, for the same time, all or nothing
    /// (at most 20; not with `rrule`).
    pub equipment: Option<Vec<i64>>,
}

/// Most equipment items one reservation takes along.
const MAX_EQUIPMENT: usize = 20;

/// A reservation of equipment made together with its room's.
#[derive(Serialize, ToSchema)]
pub struct EquipmentReservation {
    pub id: i64,
    pub resource_id: i64,
    /// `requested` or `confirmed`.
    pub status: String,
    pub fee_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReservationOut {
    pub id: i64,
    pub resource_id: i64,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `requested` (awaiting approval), `confirmed`, `cancelled` or `rejected`.
    pub status: String,
    pub booked_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The recurring series this is an occurrence of.
    pub series_id: Option<i64>,
    /// RFC 5545 SEQUENCE: rises with every change calendars must notice.
    pub sequence: i32,
    /// The fee in cents, from the resource's fee schedule.
    pub fee_cents: i64,
    /// The organisation booked for.
    pub organisation_id: Option<i64>,
    /// Why a request was rejected.
    pub decision_reason: Option<String>,
    /// Only when a series was just created: how many occurrences it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<usize>,
    /// Only when equipment was booked along with the room: its reservations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<EquipmentReservation>,
}

impl From<service::Reservation> for ReservationOut {
    fn from(r: service::Reservation) -> Self {
        ReservationOut {
            id: r.id,
            resource_id: r.resource_id,
            title: r.title,
            start: r.starts_at,
            end: r.ends_at,
            status: r.status,
            booked_by: r.booked_by,
            created_at: r.created_at,
            series_id: r.series_id,
            sequence: r.sequence,
            fee_cents: r.fee_cents,
            organisation_id: r.organisation_id,
            decision_reason: r.decision_reason,
            occurrences: None,
            equipment: vec![],
        }
    }
}

/// RFC 9457 problem document of a refused reservation, with the slots in the way.
#[derive(Serialize, ToSchema)]
pub struct ConflictProblem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The active reservations (including buffer time) that the requested slot overlaps.
    pub conflicts: Vec<Busy>,
}

fn conflict(slots: Vec<Busy>) -> Response {
    let t = catalog(Lang::De);
    let mut res = (
        StatusCode::CONFLICT,
        Json(ConflictProblem {
            kind: "https://rathaus.dev/problems/booking-conflict".into(),
            title: t.get("booking.api.conflict_title").to_string(),
            status: StatusCode::CONFLICT.as_u16(),
            detail: t.get(service::CONFLICT_KEY).to_string(),
            conflicts: slots,
        }),
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}

fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

// ---------------------------------------------------------------- handlers

/// Bookable resources of the tenant (with `booking.manage` also inactive ones).
#[utoipa::path(
    get,
    path = "/api/v1/booking/resources",
    tag = "booking",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Resources by name", body = [ResourceOut]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_resources(
    State(st): State<AppState>,
    headers: HeaderMap,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<ResourceOut>>, ApiError> {
    let list = service::list_resources(&st.db.conn, Actor::Token(&p)).await?;
    let origin = origin(&st.cfg, &headers);
    Ok(Json(
        list.into_iter()
            .map(|r| ResourceOut::new(r, &p, &origin))
            .collect(),
    ))
}

/// Creates a resource (permission `booking.manage`).
#[utoipa::path(
    post,
    path = "/api/v1/booking/resources",
    tag = "booking",
    security(("bearer" = [])),
    request_body = NewResource,
    responses(
        (status = 201, description = "Created", body = ResourceOut),
        (status = 400, description = "Unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission booking.manage", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_resource(
    State(st): State<AppState>,
    headers: HeaderMap,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewResource>,
) -> Result<Response, ApiError> {
    let mut inp = ResourceInput::new(&b.name, &b.kind);
    inp.requires_approval = b.requires_approval;
    inp.parent_id = b.parent_id;
    inp.capacity = b.capacity;
    inp.min_minutes = b.min_minutes.unwrap_or(inp.min_minutes);
    inp.max_minutes = b.max_minutes.unwrap_or(inp.max_minutes);
    inp.buffer_minutes = b.buffer_minutes.unwrap_or(inp.buffer_minutes);
    inp.horizon_days = b.horizon_days.unwrap_or(inp.horizon_days);
    if let Some(v) = b.bookable_by {
        inp.bookable_by = v;
    }
    inp.address = b.address.unwrap_or_default();
    inp.description = b.description.unwrap_or_default();
    let r = service::create_resource(&st.db.conn, Actor::Token(&p), inp).await?;
    Ok(created(
        format!("/api/v1/booking/resources/{}", r.id),
        ResourceOut::new(r, &p, &origin(&st.cfg, &headers)),
    ))
}

/// One resource.
#[utoipa::path(
    get,
    path = "/api/v1/booking/resources/{id}",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Resource id")),
    responses(
        (status = 200, description = "The resource", body = ResourceOut),
        (status = 400, description = "Malformed path or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_resource(
    State(st): State<AppState>,
    headers: HeaderMap,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResourceOut>, ApiError> {
    let r = service::get_resource(&st.db.conn, Actor::Token(&p), ResourceId(id)).await?;
    Ok(Json(ResourceOut::new(r, &p, &origin(&st.cfg, &headers))))
}

/// Busy slots of a resource between `from` and `to` (including its hall's or parts').
#[utoipa::path(
    get,
    path = "/api/v1/booking/resources/{id}/availability",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Resource id"), Window),
    responses(
        (status = 200, description = "Busy slots", body = Availability),
        (status = 400, description = "Missing or malformed from/to", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "to not after from, or window too wide", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn availability(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(w): ApiQuery<Window>,
) -> Result<Json<Availability>, ApiError> {
    let (from, to) = (w.from.to_utc(), w.to.to_utc());
    let busy =
        service::availability(&st.db.conn, Actor::Token(&p), ResourceId(id), from, to).await?;
    Ok(Json(Availability {
        resource_id: id,
        from,
        to,
        busy,
    }))
}

/// Books a slot: `confirmed`, or `requested` where the resource needs approval. Who may book
/// depends on the resource (`bookable_by`): staff with `booking.book`, members of an
/// organisation for it (`organisation_id`), citizens for public resources. With `rrule` it
/// books a recurring series in one go (all occurrences or none) and answers with the first
/// occurrence, its `series_id` and the number of `occurrences`; a 409 then lists every slot
/// in the way of any occurrence, a 422 names the field (`rrule`, `start`, `exdates`, ...).
#[utoipa::path(
    post,
    path = "/api/v1/booking/reservations",
    tag = "booking",
    security(("bearer" = [])),
    request_body = NewReservation,
    responses(
        (status = 201, description = "Booked or requested (with rrule: the first occurrence of the series; with equipment: the room's reservation with the equipment's in `equipment`)", body = ReservationOut),
        (status = 400, description = "Unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to book this resource", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown resource", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slot (or any occurrence of the series, or any equipment) overlaps active reservations", body = ConflictProblem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input: times, rules of the resource, a malformed RRULE or one with more than 1,000 occurrences, a local time that does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reserve(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewReservation>,
) -> Response {
    let equipment = b.equipment.unwrap_or_default();
    if equipment.len() > MAX_EQUIPMENT {
        return ApiError(FieldErrors::single(
            "equipment",
            "booking.api.equipment_many",
        ))
        .into_response();
    }
    if let Some(rule) = b.rrule {
        if !equipment.is_empty() {
            return ApiError(FieldErrors::single(
                "equipment",
                "booking.api.equipment_series",
            ))
            .into_response();
        }
        let times = (b.start, b.end);
        let extra = (b.exdates, b.skip_blackouts, b.organisation_id);
        return reserve_series(&st, &p, b.resource_id, b.title, times, rule, extra).await;
    }
    if b.exdates.is_some() || b.skip_blackouts {
        return ApiError(FieldErrors::single("rrule", "err.required")).into_response();
    }
    let inp = ReservationInput {
        resource_id: b.resource_id,
        title: b.title,
        start: b.start.to_utc(),
        end: b.end.to_utc(),
        organisation_id: b.organisation_id,
    };
    match service::reserve_with_equipment(&st.db.conn, Actor::Token(&p), inp, &equipment).await {
        Ok(all) => {
            let mut all = all.into_iter();
            let Some(room) = all.next() else {
                return ApiError(Error::internal("no reservation made")).into_response();
            };
            let location = format!("/api/v1/booking/reservations/{}", room.id);
            let mut out = ReservationOut::from(room);
            out.equipment = all
                .map(|e| EquipmentReservation {
                    id: e.id,
                    resource_id: e.resource_id,
                    status: e.status,
                    fee_cents: e.fee_cents,
                })
                .collect();
            created(location, out)
        }
        Err(ReserveError::Conflict(slots)) => conflict(slots),
        Err(ReserveError::Other(e)) => ApiError(e).into_response(),
    }
}

/// A series from the API's fields: `start`'s Europe/Berlin wall-clock time is the local
/// start of the first occurrence, `end - start` the duration of each.
async fn reserve_series(
    st: &AppState,
    p: &Principal,
    resource_id: i64,
    title: String,
    (start, end): (DateTime<FixedOffset>, DateTime<FixedOffset>),
    rrule: String,
    (exdates, skip_blackouts, organisation_id): (Option<Vec<String>>, bool, Option<i64>),
) -> Response {
    let mut errs = FieldErrors::new();
    let minutes = (end - start).num_minutes();
    if end == start {
        errs.add("end", "booking.err.zero_length");
    } else if end < start {
        errs.add("end", "booking.err.end_before_start");
    }
    let mut parsed = vec![];
    for x in exdates.unwrap_or_default() {
        match ExDate::parse(&x) {
            Some(d) => parsed.push(d),
            None => {
                errs.add("exdates", "booking.series.err.exdate_invalid");
                break;
            }
        }
    }
    if let Err(e) = errs.into_result() {
        return ApiError(e).into_response();
    }
    let inp = SeriesInput {
        resource_id,
        title,
        dtstart_local: start.with_timezone(&Berlin).naive_local(),
        duration_minutes: i32::try_from(minutes).unwrap_or(i32::MAX),
        rrule,
        exdates: parsed,
        skip_blackouts,
        organisation_id,
    };
    match series::reserve_series(&st.db.conn, Actor::Token(p), inp).await {
        Ok((s, list)) => {
            let n = list.len();
            match list.into_iter().next() {
                Some(first) => {
                    let mut out = ReservationOut::from(first);
                    out.occurrences = Some(n);
                    created(format!("/api/v1/booking/reservations/{}", out.id), out)
                }
                None => ApiError(Error::internal(format!("series {} without dates", s.id)))
                    .into_response(),
            }
        }
        Err(ReserveError::Conflict(slots)) => conflict(slots),
        Err(ReserveError::Other(e)) => ApiError(e).into_response(),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Start (inclusive), RFC 3339 with offset.
    #[param(value_type = String, format = DateTime)]
    pub from: DateTime<FixedOffset>,
    /// End (exclusive), RFC 3339 with offset; at most 366 days after `from`.
    #[param(value_type = String, format = DateTime)]
    pub to: DateTime<FixedOffset>,
    /// Only this resource.
    pub resource_id: Option<i64>,
}

/// Reservations between `from` and `to`: all with `booking.manage`, else one's own.
#[utoipa::path(
    get,
    path = "/api/v1/booking/reservations",
    tag = "booking",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Reservations by start", body = [ReservationOut]),
        (status = 400, description = "Missing or malformed from/to", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "to not after from, or window too wide", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_reservations(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ReservationOut>>, ApiError> {
    let list = service::list_reservations(
        &st.db.conn,
        Actor::Token(&p),
        q.resource_id.map(ResourceId),
        q.from.to_utc(),
        q.to.to_utc(),
    )
    .await?;
    Ok(Json(list.into_iter().map(ReservationOut::from).collect()))
}

/// One reservation: one's own, or any with `booking.manage`.
#[utoipa::path(
    get,
    path = "/api/v1/booking/reservations/{id}",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Reservation id")),
    responses(
        (status = 200, description = "The reservation", body = ReservationOut),
        (status = 400, description = "Malformed path or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here, or someone else's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_reservation(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReservationOut>, ApiError> {
    Ok(Json(
        service::get_reservation(&st.db.conn, Actor::Token(&p), ReservationId(id))
            .await?
            .into(),
    ))
}

/// Cancels a reservation (one's own, or any with `booking.manage`); answers with it.
#[utoipa::path(
    delete,
    path = "/api/v1/booking/reservations/{id}",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Reservation id")),
    responses(
        (status = 200, description = "Cancelled (also when it already was)", body = ReservationOut),
        (status = 400, description = "Malformed path or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here, or someone else's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rejected request cannot be cancelled", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn cancel_reservation(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReservationOut>, ApiError> {
    Ok(Json(
        service::cancel(&st.db.conn, Actor::Token(&p), ReservationId(id))
            .await?
            .into(),
    ))
}

/// The reason of a rejection.
#[derive(Deserialize, ToSchema)]
pub struct Rejection {
    /// Why the request is rejected (1 to 500 characters), shown to the booker.
    pub reason: String,
}

/// Approves a request (permission `booking.manage`): it becomes `confirmed`.
#[utoipa::path(
    post,
    path = "/api/v1/booking/reservations/{id}/approve",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Reservation id")),
    responses(
        (status = 200, description = "Approved: the reservation, now confirmed", body = ReservationOut),
        (status = 400, description = "Malformed path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission booking.manage", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No open request, or the slot overlaps confirmed reservations (then with the slots in the way)", body = ConflictProblem, content_type = "application/problem+json"),
    )
)]
async fn approve_reservation(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Response {
    match service::approve(&st.db.conn, Actor::Token(&p), ReservationId(id)).await {
        Ok(r) => Json(ReservationOut::from(r)).into_response(),
        Err(ReserveError::Conflict(slots)) => conflict(slots),
        Err(ReserveError::Other(e)) => ApiError(e).into_response(),
    }
}

/// Rejects a request with a reason (permission `booking.manage`): it becomes `rejected`
/// and its slot is free again.
#[utoipa::path(
    post,
    path = "/api/v1/booking/reservations/{id}/reject",
    tag = "booking",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Reservation id")),
    request_body = Rejection,
    responses(
        (status = 200, description = "Rejected: the reservation, now rejected", body = ReservationOut),
        (status = 400, description = "Malformed path or unreadable JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing permission booking.manage", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown here", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No open request", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason missing or longer than 500 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reject_reservation(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Rejection>,
) -> Result<Json<ReservationOut>, ApiError> {
    Ok(Json(
        service::reject(&st.db.conn, Actor::Token(&p), ReservationId(id), &b.reason)
            .await?
            .into(),
    ))
}

pub(crate) fn routes() -> Routes {
    Routes::new()
        // Every API user sees what they may book; the service filters and decides.
        .api(SignedIn, routes!(list_resources))
        .api(MANAGERS, routes!(create_resource))
        .api(SignedIn, routes!(get_resource))
        .api(SignedIn, routes!(availability))
        .api(SignedIn, routes!(list_reservations))
        .api(SignedIn, routes!(reserve))
        .api(SignedIn, routes!(get_reservation))
        .api(SignedIn, routes!(cancel_reservation))
        .api(MANAGERS, routes!(approve_reservation))
        .api(MANAGERS, routes!(reject_reservation))
}
