//! Demo data of the disposal: a few files whose retention has ended (two `A`, one `B`, two
//! `V`), so the due list, a deletion run and an offer to the archive can be tried at once.

use crate::service::files::{self, FileInput};
use rathaus_core::Principal;
use rathaus_store::Db;
use rathaus_store::uow::Actor;

/// Creates and closes the due files in the demo plan (called once by `crate::demo::demo`).
pub async fn due_files(db: &Db, admin: &Principal) -> anyhow::Result<()> {
    let by = Actor::User(admin);
    let t = admin.tenant_id;
    let files: [(&str, &str, &str, &str, &str, &str); 5] = [
        (
            "022.31",
            "general",
            "Sitzungen des Gemeinderats 1988–1990",
            "1988-01-04",
            "1990-12-17",
            "",
        ),
        (
            "632.1",
            "general",
            "Bauantrag Mühlenstraße 7, Umbau der Scheune",
            "1989-03-01",
            "1991-06-30",
            "",
        ),
        (
            "632",
            "general",
            "Bauvoranfrage Am Anger 3 (zurückgezogen)",
            "1990-05-02",
            "1992-02-14",
            "",
        ),
        (
            "9",
            "general",
            "Kassenbelege Gebühren 2010",
            "2010-01-04",
            "2011-03-31",
            "",
        ),
        (
            "936.1",
            "dog",
            "Hundesteuer Struppi (abgemeldet)",
            "2008-05-01",
            "2012-07-31",
            "2012-06-30",
        ),
    ];
    for (plan, kind, title, opened, closed, deregistered) in files {
        let f = files::create(
            &db.conn,
            by,
            t,
            &FileInput {
                plan_code: plan.into(),
                kind: kind.into(),
                title: title.into(),
                opened_on: opened.into(),
                dog_deregistered_on: deregistered.into(),
                dog_name: if kind == "dog" {
                    "Struppi".into()
                } else {
                    String::new()
                },
                ..Default::default()
            },
        )
        .await?;
        files::close(&db.conn, by, t, f.id, closed).await?;
    }
    Ok(())
}
