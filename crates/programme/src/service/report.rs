//! The status report for the mayor and the council: per phase and department, done since
//! the last report, what is next, open concerns, and measures done over time (burn-up).

use super::{COORDINATE, Concern, Measure, Phase, READ, phases};
use crate::domain::DONE_PHASE;
use crate::domain::burnup::{self, BurnUp, Track};
use crate::store::entity::{measure, move_event, report};
use chrono::{DateTime, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub struct Report {
    pub phases: Vec<Phase>,
    /// Measures per phase, in the order of `phases`.
    pub per_phase: Vec<i64>,
    /// Department → measures per phase (in the order of `phases`).
    pub per_department: BTreeMap<String, Vec<i64>>,
    pub last_report: Option<DateTime<Utc>>,
    pub done_since: Vec<Measure>,
    pub next: Vec<Measure>,
    pub open_concerns: Vec<Concern>,
    /// Measures done and in total per week or month of the programme's life.
    pub burn_up: BurnUp,
    pub total: i64,
}

pub async fn build(db: &DatabaseConnection, by: Actor<'_>, tenant: TenantId) -> Result<Report> {
    let phases = phases(db, by, tenant).await?;
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    let rows: Vec<(String, i64, i64)> = scope
        .find::<measure::Entity>()
        .select_only()
        .column(measure::Column::Department)
        .column(measure::Column::PhaseId)
        .column_as(measure::Column::Id.count(), "n")
        .group_by(measure::Column::Department)
        .group_by(measure::Column::PhaseId)
        .into_tuple()
        .all(db)
        .await?;
    let idx = |pid: i64| phases.iter().position(|p| p.id == pid);
    let mut per_phase = vec![0; phases.len()];
    let mut per_department: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut total = 0;
    for (dep, pid, n) in rows {
        if let Some(i) = idx(pid) {
            per_phase[i] += n;
            per_department
                .entry(dep)
                .or_insert_with(|| vec![0; phases.len()])[i] += n;
            total += n;
        }
    }
    let last_report = scope
        .find::<report::Entity>()
        .order_by_desc(report::Column::CreatedAt)
        .one(db)
        .await?
        .map(|r| r.created_at);
    let done: Vec<i64> = phases
        .iter()
        .filter(|p| p.key == DONE_PHASE)
        .map(|p| p.id)
        .collect();
    let done_ids: BTreeSet<i64> = done.iter().copied().collect();
    let is_done = |pid: i64| done_ids.contains(&pid);
    // Every move, oldest first: the burn-up replays them; those into the done phase after
    // the last report are what was done since.
    let moves: Vec<(i64, Option<i64>, i64, DateTime<Utc>)> = scope
        .find::<move_event::Entity>()
        .select_only()
        .column(move_event::Column::MeasureId)
        .column(move_event::Column::FromPhaseId)
        .column(move_event::Column::ToPhaseId)
        .column(move_event::Column::At)
        .order_by_asc(move_event::Column::At)
        .order_by_asc(move_event::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut recent = BTreeSet::new();
    let mut history: HashMap<i64, Vec<(Option<i64>, i64, NaiveDate)>> = HashMap::new();
    for &(mid, from, to, at) in &moves {
        if is_done(to) && last_report.is_none_or(|l| at > l) {
            recent.insert(mid);
        }
        history
            .entry(mid)
            .or_default()
            .push((from, to, at.date_naive()));
    }
    let measures: Vec<(i64, i64, DateTime<Utc>, DateTime<Utc>)> = scope
        .find::<measure::Entity>()
        .select_only()
        .column(measure::Column::Id)
        .column(measure::Column::PhaseId)
        .column(measure::Column::CreatedAt)
        .column(measure::Column::PhaseSince)
        .into_tuple()
        .all(db)
        .await?;
    let tracks: Vec<Track> = measures
        .into_iter()
        .filter(|m| idx(m.1).is_some())
        .map(|(id, phase, created, since)| {
            let created = created.date_naive();
            let moves = history.get(&id).map(Vec::as_slice).unwrap_or_default();
            track(created, moves, (phase, since.date_naive()), &is_done)
        })
        .collect();
    let burn_up = burnup::burn_up(&tracks, Utc::now().date_naive());
    let done_since = if recent.is_empty() {
        vec![]
    } else {
        scope
            .find::<measure::Entity>()
            .filter(measure::Column::Id.is_in(recent))
            .filter(measure::Column::PhaseId.is_in(done))
            .order_by_asc(measure::Column::Title)
            .all(db)
            .await?
    };
    let next_phases: Vec<i64> = phases
        .iter()
        .filter(|p| p.key == "geplant" || p.key == "in_umsetzung" || p.key == "im_test")
        .map(|p| p.id)
        .collect();
    let next = scope
        .find::<measure::Entity>()
        .filter(measure::Column::PhaseId.is_in(next_phases))
        .order_by_asc(measure::Column::Due)
        .order_by_desc(measure::Column::Priority)
        .limit(25)
        .all(db)
        .await?;
    let open_concerns = super::concerns::list(db, by, tenant, None, true).await?;
    Ok(Report {
        phases,
        per_phase,
        per_department,
        last_report,
        done_since,
        next,
        open_concerns,
        burn_up,
        total,
    })
}

/// One measure's track for the burn-up from its moves `(from, to, day)` in order. Days are
/// UTC days (a move late on a Sunday evening in Berlin may count to the next week). A
/// history that does not start at the creation (older data) starts with the phase the
/// first move left; one that does not end in the current phase ends with it.
fn track(
    created: NaiveDate,
    moves: &[(Option<i64>, i64, NaiveDate)],
    (phase, since): (i64, NaiveDate),
    is_done: &impl Fn(i64) -> bool,
) -> Track {
    let mut changes = Vec::with_capacity(moves.len() + 2);
    if let Some(&(Some(from), _, _)) = moves.first() {
        changes.push((created, is_done(from)));
    }
    changes.extend(moves.iter().map(|&(_, to, day)| (day, is_done(to))));
    if moves.last().is_none_or(|&(_, to, _)| to != phase) {
        changes.push((since, is_done(phase)));
    }
    Track { created, changes }
}

/// Records that the report was handed out: the next one shows what was done after now.
pub async fn record(db: &DatabaseConnection, by: Actor<'_>, tenant: TenantId) -> Result<()> {
    by.require(COORDINATE)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let (_, name) = super::who(by);
    let r = tx
        .insert(report::ActiveModel {
            created_at: Set(Utc::now()),
            created_by: Set(name),
            ..Default::default()
        })
        .await?;
    tx.audit(NewEvent::new(
        "programme.report.recorded",
        "programme_report",
        Some(r.id),
    ))
    .await?;
    tx.commit().await
}
