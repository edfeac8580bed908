//! The `programme_*` tables: entities and the module's own migrations.

pub mod entity;
pub mod migrations;

use entity::{
    concern, interview, measure, meeting, meeting_item, member, move_event, phase, report, settings,
};

rathaus_store::tenant_owned!(
    phase,
    measure,
    move_event,
    concern,
    member,
    meeting,
    meeting_item,
    report,
    interview,
    settings
);
