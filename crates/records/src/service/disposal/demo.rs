//! Demo data of the disposal: a few files whose retention has ended (two `A`, one `B`, two
//! `V`), so the due list, a deletion run and an offer to the archive can be tried at once.
//! The files themselves are listed in the demo data file (`due_files` in `demo/demo.toml`).

use crate::service::files::{self, FileInput};
use rathaus_core::Principal;
use rathaus_store::Db;
use rathaus_store::uow::Actor;
use serde::Deserialize;

/// A closed file of the demo (dates as `YYYY-MM-DD`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DueFile {
    pub plan: String,
    pub kind: String,
    pub title: String,
    pub opened_on: String,
    pub closed_on: String,
    pub dog_name: String,
    pub dog_deregistered_on: String,
}

/// Creates and closes the due files in the demo plan (called once by `crate::demo::demo`).
pub async fn due_files(db: &Db, admin: &Principal, list: &[DueFile]) -> anyhow::Result<()> {
    let by = Actor::User(admin);
    let t = admin.tenant_id;
    for d in list {
        let f = files::create(
            &db.conn,
            by,
            t,
            &FileInput {
                plan_code: d.plan.clone(),
                kind: d.kind.clone(),
                title: d.title.clone(),
                opened_on: d.opened_on.clone(),
                dog_name: d.dog_name.clone(),
                dog_deregistered_on: d.dog_deregistered_on.clone(),
                ..Default::default()
            },
        )
        .await?;
        files::close(&db.conn, by, t, f.id, &d.closed_on).await?;
    }
    Ok(())
}
