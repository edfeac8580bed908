//! Meetings of the Digitallotsen: planned by date, each with an agenda built from what
//! changed since the previous meeting (phase moves, new measures, overdue measures, decisions
//! due, open concerns) plus items members add; minutes per item and for the meeting
//! (Markdown), attendance.

use super::{COORDINATE, EDIT, Meeting, MeetingItem, READ};
use crate::domain::DONE_PHASE;
use crate::store::entity::{concern, measure, meeting, meeting_item, move_event, phase};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::{BTreeSet, HashMap};

/// Items of one kind an agenda lists at most.
pub const MAX_PER_KIND: u64 = 300;
pub const MAX_MINUTES: usize = 100_000;

/// An agenda item before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: &'static str,
    pub title: String,
    pub measure_id: Option<i64>,
    pub concern_id: Option<i64>,
}

fn excerpt(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

/// The generated agenda of a meeting on `date` covering the changes after `since`.
pub async fn agenda<C: sea_orm::ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    since: DateTime<Utc>,
    date: NaiveDate,
) -> Result<Vec<Item>> {
    let scoped = |t| rathaus_store::uow::scoped::<measure::Entity>(t);
    let mut items = Vec::new();
    // Measures that changed phase.
    let moves = rathaus_store::uow::scoped::<move_event::Entity>(tenant)
        .filter(move_event::Column::At.gt(since))
        .filter(move_event::Column::FromPhaseId.is_not_null())
        .order_by_asc(move_event::Column::At)
        .limit(MAX_PER_KIND * 4)
        .all(conn)
        .await?;
    let moved: BTreeSet<i64> = moves
        .iter()
        .filter(|m| m.from_phase_id != Some(m.to_phase_id))
        .map(|m| m.measure_id)
        .collect();
    let titles: HashMap<i64, String> = if moved.is_empty() {
        HashMap::new()
    } else {
        scoped(tenant)
            .select_only()
            .column(measure::Column::Id)
            .column(measure::Column::Title)
            .filter(measure::Column::Id.is_in(moved.iter().copied().take(MAX_PER_KIND as usize)))
            .into_tuple::<(i64, String)>()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    };
    for id in moved.iter().take(MAX_PER_KIND as usize) {
        if let Some(t) = titles.get(id) {
            items.push(Item {
                kind: "moved",
                title: t.clone(),
                measure_id: Some(*id),
                concern_id: None,
            });
        }
    }
    for m in scoped(tenant)
        .filter(measure::Column::CreatedAt.gt(since))
        .order_by_asc(measure::Column::Id)
        .limit(MAX_PER_KIND)
        .all(conn)
        .await?
    {
        items.push(Item {
            kind: "new",
            title: m.title,
            measure_id: Some(m.id),
            concern_id: None,
        });
    }
    let phases = rathaus_store::uow::scoped::<phase::Entity>(tenant)
        .all(conn)
        .await?;
    let done: Vec<i64> = phases
        .iter()
        .filter(|p| p.key == DONE_PHASE)
        .map(|p| p.id)
        .collect();
    for m in scoped(tenant)
        .filter(measure::Column::Due.lt(date))
        .filter(measure::Column::PhaseId.is_not_in(done))
        .order_by_asc(measure::Column::Due)
        .limit(MAX_PER_KIND)
        .all(conn)
        .await?
    {
        items.push(Item {
            kind: "overdue",
            title: m.title,
            measure_id: Some(m.id),
            concern_id: None,
        });
    }
    // Decisions due: measures assessed and waiting to be planned.
    if let Some(assessed) = phases.iter().find(|p| p.key == "bewertet") {
        for m in scoped(tenant)
            .filter(measure::Column::PhaseId.eq(assessed.id))
            .order_by_desc(measure::Column::Priority)
            .limit(MAX_PER_KIND)
            .all(conn)
            .await?
        {
            items.push(Item {
                kind: "decision",
                title: m.title,
                measure_id: Some(m.id),
                concern_id: None,
            });
        }
    }
    for c in rathaus_store::uow::scoped::<concern::Entity>(tenant)
        .filter(concern::Column::Status.ne("resolved"))
        .order_by_asc(concern::Column::CreatedAt)
        .limit(MAX_PER_KIND)
        .all(conn)
        .await?
    {
        items.push(Item {
            kind: "concern",
            title: excerpt(&c.text, 200),
            measure_id: c.measure_id,
            concern_id: Some(c.id),
        });
    }
    Ok(items)
}

/// Plans a meeting and writes its generated agenda.
pub async fn create(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    date: &str,
    place: &str,
) -> Result<(Meeting, Vec<MeetingItem>)> {
    by.require(COORDINATE)?;
    let mut errs = FieldErrors::new();
    let day = match NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errs.add("date", "programme.err.date");
            None
        }
    };
    let place = errs.optional_text("place", place, 300);
    errs.into_result()?;
    let Some(day) = day else {
        return Err(FieldErrors::single("date", "programme.err.date"));
    };
    let tx = Tx::begin(db, tenant, by).await?;
    let taken = tx
        .find::<meeting::Entity>()
        .filter(meeting::Column::Date.eq(day))
        .one(tx.conn())
        .await?;
    if taken.is_some() {
        return Err(FieldErrors::single("date", "programme.err.meeting_exists"));
    }
    let previous = tx
        .find::<meeting::Entity>()
        .filter(meeting::Column::Date.lt(day))
        .order_by_desc(meeting::Column::Date)
        .one(tx.conn())
        .await?;
    let now = Utc::now();
    let since = previous
        .map(|p| p.created_at)
        .unwrap_or(now - Duration::days(14));
    let m = tx
        .insert(meeting::ActiveModel {
            date: Set(day),
            place: Set(place),
            since: Set(since),
            minutes: Set(String::new()),
            attendance: Set(String::new()),
            created_at: Set(now),
            ..Default::default()
        })
        .await?;
    let items = agenda(tx.conn(), tenant, since, day).await?;
    let mut stored = Vec::with_capacity(items.len());
    if !items.is_empty() {
        let rows: Vec<meeting_item::ActiveModel> = items
            .into_iter()
            .enumerate()
            .map(|(i, it)| meeting_item::ActiveModel {
                tenant_id: Set(tenant.0),
                meeting_id: Set(m.id),
                position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                kind: Set(it.kind.to_string()),
                title: Set(it.title),
                measure_id: Set(it.measure_id),
                concern_id: Set(it.concern_id),
                minutes: Set(String::new()),
                ..Default::default()
            })
            .collect();
        // One statement for the whole agenda (the tenant is set on every row above).
        meeting_item::Entity::insert_many(rows)
            .exec(tx.conn())
            .await?;
        stored = tx
            .find::<meeting_item::Entity>()
            .filter(meeting_item::Column::MeetingId.eq(m.id))
            .order_by_asc(meeting_item::Column::Position)
            .all(tx.conn())
            .await?;
    }
    tx.audit(
        NewEvent::new("programme.meeting.planned", "programme_meeting", Some(m.id))
            .details(serde_json::json!({ "date": day.to_string(), "items": stored.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok((m, stored))
}

/// A meeting with its agenda.
pub async fn get(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<(Meeting, Vec<MeetingItem>)> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    let m = scope.get::<meeting::Entity, _>(id).await?;
    let items = scope
        .find::<meeting_item::Entity>()
        .filter(meeting_item::Column::MeetingId.eq(id))
        .order_by_asc(meeting_item::Column::Position)
        .all(db)
        .await?;
    Ok((m, items))
}

/// Meetings, newest first.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<Meeting>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    Ok(scope
        .find::<meeting::Entity>()
        .order_by_desc(meeting::Column::Date)
        .limit(200)
        .all(db)
        .await?)
}

/// A member adds an item to the agenda.
pub async fn add_item(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    meeting_id: i64,
    title: &str,
) -> Result<MeetingItem> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let title = errs.text("title", title, 400);
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    tx.get::<meeting::Entity, _>(meeting_id).await?;
    let last = tx
        .find::<meeting_item::Entity>()
        .filter(meeting_item::Column::MeetingId.eq(meeting_id))
        .order_by_desc(meeting_item::Column::Position)
        .one(tx.conn())
        .await?;
    let it = tx
        .insert(meeting_item::ActiveModel {
            meeting_id: Set(meeting_id),
            position: Set(last.map(|l| l.position + 1).unwrap_or(0)),
            kind: Set("added".into()),
            title: Set(title),
            measure_id: Set(None),
            concern_id: Set(None),
            minutes: Set(String::new()),
            ..Default::default()
        })
        .await?;
    tx.audit(NewEvent::new(
        "programme.meeting.item_added",
        "programme_meeting",
        Some(meeting_id),
    ))
    .await?;
    tx.commit().await?;
    Ok(it)
}

/// Saves the minutes: the meeting's (Markdown), its attendance, and per item.
pub async fn save_minutes(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    meeting_id: i64,
    minutes: &str,
    attendance: &str,
    items: &[(i64, String)],
) -> Result<()> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let minutes = errs.optional_text("minutes", minutes, MAX_MINUTES);
    let attendance = errs.optional_text("attendance", attendance, 2_000);
    for (id, text) in items {
        errs.optional_text(&format!("item-{id}"), text, MAX_MINUTES);
    }
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    tx.get::<meeting::Entity, _>(meeting_id).await?;
    tx.update_many::<meeting::Entity>()
        .col_expr(meeting::Column::Minutes, minutes.into())
        .col_expr(meeting::Column::Attendance, attendance.into())
        .filter(meeting::Column::Id.eq(meeting_id))
        .exec(tx.conn())
        .await?;
    for (id, text) in items {
        tx.update_many::<meeting_item::Entity>()
            .col_expr(meeting_item::Column::Minutes, text.trim().into())
            .filter(meeting_item::Column::Id.eq(*id))
            .filter(meeting_item::Column::MeetingId.eq(meeting_id))
            .exec(tx.conn())
            .await?;
    }
    tx.audit(NewEvent::new(
        "programme.meeting.minutes",
        "programme_meeting",
        Some(meeting_id),
    ))
    .await?;
    tx.commit().await
}

/// Sends the minutes to every active team member with an e-mail address (`programme.edit`):
/// the minutes as mail text and as a printable HTML attachment, queued in the same
/// transaction as the audit event. Returns how many mails were queued. Empty minutes or a
/// team without addresses are refused with a field error.
pub async fn send_minutes(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    meeting_id: i64,
) -> Result<usize> {
    use crate::formats::minutes;
    use rathaus_store::{accounts, mail};
    by.require(EDIT)?;
    let t = rathaus_web::i18n::catalog(rathaus_web::i18n::Lang::De);
    let tx = Tx::begin(db, tenant, by).await?;
    let m = tx.get::<meeting::Entity, _>(meeting_id).await?;
    let items = tx
        .find::<meeting_item::Entity>()
        .filter(meeting_item::Column::MeetingId.eq(meeting_id))
        .order_by_asc(meeting_item::Column::Position)
        .all(tx.conn())
        .await?;
    if m.minutes.trim().is_empty() && items.iter().all(|i| i.minutes.trim().is_empty()) {
        return Err(FieldErrors::single(
            "minutes",
            "programme.minutes.err.empty",
        ));
    }
    let members = tx
        .find::<crate::store::entity::member::Entity>()
        .all(tx.conn())
        .await?;
    let users =
        accounts::users_by_ids(tx.conn(), tenant, members.iter().map(|x| x.user_id)).await?;
    let to: Vec<String> = users
        .into_iter()
        .filter(|u| u.active && !u.email.trim().is_empty())
        .map(|u| u.email)
        .collect();
    if to.is_empty() {
        return Err(FieldErrors::single(
            "minutes",
            "programme.minutes.err.no_team",
        ));
    }
    let md = |s: &str| {
        rathaus_web::markdown::render(s)
            .map(|r| r.html)
            .unwrap_or_default()
    };
    let date = m.date.format("%d.%m.%Y").to_string();
    let doc = minutes::Minutes {
        heading: t.fmt("programme.minutes.heading", &date),
        place: m.place.clone(),
        attendance: m.attendance.clone(),
        items: items
            .iter()
            .map(|i| minutes::Item {
                kind: t.get(&format!("programme.agenda.{}", i.kind)).to_string(),
                title: i.title.clone(),
                text: i.minutes.clone(),
                html: md(&i.minutes),
            })
            .collect(),
        text: m.minutes.clone(),
        html: md(&m.minutes),
        labels: minutes::Labels {
            place: t.get("programme.meetings.place").to_string(),
            attendance: t.get("programme.meeting.attendance").to_string(),
            agenda: t.get("programme.meeting.agenda").to_string(),
            minutes: t.get("programme.meeting.minutes").to_string(),
        },
    };
    let body = minutes::text(&doc);
    let html = minutes::html(&doc).map_err(rathaus_core::Error::internal)?;
    let attachment = mail::Attachment {
        filename: format!("protokoll-{}.html", m.date.format("%Y-%m-%d")),
        content_type: "text/html; charset=utf-8".into(),
        content: html.into_bytes(),
    };
    for addr in &to {
        mail::queue_with_attachment(
            tx.conn(),
            tenant,
            addr,
            &doc.heading,
            &body,
            attachment.clone(),
        )
        .await?;
    }
    tx.audit(
        NewEvent::new(
            "programme.meeting.minutes_sent",
            "programme_meeting",
            Some(meeting_id),
        )
        .details(serde_json::json!({ "recipients": to.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(to.len())
}
