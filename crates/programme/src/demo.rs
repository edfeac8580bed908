//! Demo data for `serve --demo`: some 30 measures across departments and phases, a few
//! concerns, the admin as coordinator of the team, a meeting with its agenda. The texts are
//! in `demo/demo.toml`; everything is written through the module's own services as the demo
//! tenant's admin.

use crate::domain::DEFAULT_PHASES;
use crate::service::concerns::{self, ConcernInput};
use crate::service::measures::{self, MeasureInput};
use crate::service::moves::{self, MoveInput};
use crate::service::{interviews, meetings, team};
use rathaus_core::Principal;
use rathaus_store::uow::Actor;
use serde::Deserialize;

#[derive(Deserialize)]
struct Demo {
    measure: Vec<DemoMeasure>,
    concern: Vec<DemoConcern>,
    team: DemoTeam,
    meeting: DemoMeeting,
    interviews: DemoInterviews,
}

#[derive(Deserialize)]
struct DemoInterviews {
    people: String,
    notes: String,
}

#[derive(Deserialize)]
struct DemoMeasure {
    title: String,
    department: String,
    category: String,
    benefit: i32,
    effort: i32,
    /// Index into the default phases.
    phase: usize,
}

#[derive(Deserialize)]
struct DemoConcern {
    text: String,
    kind: String,
}

#[derive(Deserialize)]
struct DemoTeam {
    department: String,
    role: String,
}

#[derive(Deserialize)]
struct DemoMeeting {
    date: String,
    place: String,
}

pub async fn demo(db: &rathaus_store::Db, admin: &Principal) -> anyhow::Result<()> {
    let data: Demo = toml::from_str(include_str!("demo/demo.toml"))?;
    let conn = &db.conn;
    let by = Actor::User(admin);
    let tenant = admin.tenant_id;
    // One interview per department, the measures raised from it.
    let mut departments: Vec<&str> = data.measure.iter().map(|m| m.department.as_str()).collect();
    departments.sort();
    departments.dedup();
    for (i, d) in departments.iter().enumerate() {
        let date = format!("2026-10-{:02}", i + 1);
        let (people, notes) = (&data.interviews.people, &data.interviews.notes);
        interviews::create(conn, by, tenant, d, &date, people, notes).await?;
    }
    let mut ids = Vec::new();
    for (i, d) in data.measure.iter().enumerate() {
        let inp = MeasureInput {
            title: d.title.clone(),
            description: format!("{}\n\n- {}", d.title, d.department),
            source: d.department.clone(),
            department: d.department.clone(),
            category: d.category.clone(),
            size: crate::domain::SIZES[i % 3].to_string(),
            benefit: d.benefit.to_string(),
            effort: d.effort.to_string(),
            responsible_id: admin.user_id.0.to_string(),
            due: format!("2027-{:02}-15", i % 12 + 1),
            ..Default::default()
        };
        let (m, _) = measures::create(conn, None, by, tenant, &inp).await?;
        if let Some((key, _, _)) = DEFAULT_PHASES.get(d.phase).filter(|_| d.phase > 0) {
            let mv = MoveInput {
                phase: (*key).to_string(),
                before_id: None,
                version: None,
            };
            // A full phase keeps the measure where it is.
            if let Err(e) = moves::move_card(conn, None, by, tenant, m.id, &mv).await {
                tracing::debug!(error = %e, "demo move skipped");
            }
        }
        ids.push(m.id);
    }
    for (i, c) in data.concern.iter().enumerate() {
        let inp = ConcernInput {
            text: c.text.clone(),
            kind: c.kind.clone(),
            measure_id: ids.get(i * 2 + 1).copied(),
            anonymous: i == 1,
        };
        concerns::create(conn, None, by, tenant, &inp).await?;
    }
    team::add(
        conn,
        by,
        tenant,
        admin.user_id.0,
        &data.team.department,
        &data.team.role,
        true,
    )
    .await?;
    meetings::create(conn, by, tenant, &data.meeting.date, &data.meeting.place).await?;
    Ok(())
}
