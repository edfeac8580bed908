//! The status report for the mayor and the council: per phase and department, done since
//! the last report, what is next, open concerns, and measures done over time (burn-up).

use super::{COORDINATE, Concern, Measure, Phase, READ, phases};
use crate::domain::DONE_PHASE;
use crate::store::entity::{measure, move_event, report};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::{BTreeMap, BTreeSet};

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
    /// (Monday of the week, measures done up to that week).
    pub burn_up: Vec<(NaiveDate, i64)>,
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
    let done_moves = scope
        .find::<move_event::Entity>()
        .filter(move_event::Column::ToPhaseId.is_in(done.clone()))
        .order_by_asc(move_event::Column::At)
        .all(db)
        .await?;
    // Burn-up: each measure counted once, at its first arrival in the done phase.
    let mut seen = BTreeSet::new();
    let mut weeks: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut recent = BTreeSet::new();
    for m in &done_moves {
        if seen.insert(m.measure_id) {
            let d = m.at.date_naive();
            let monday = d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
            *weeks.entry(monday).or_default() += 1;
        }
        if last_report.is_none_or(|l| m.at > l) {
            recent.insert(m.measure_id);
        }
    }
    let mut acc = 0;
    let burn_up = weeks
        .into_iter()
        .map(|(w, n)| {
            acc += n;
            (w, acc)
        })
        .collect();
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
