//! Demo data: a small realistic file plan (Ratsangelegenheiten, Bauordnung, Personal,
//! Wohngeld, Hundesteuer), a few files of each kind with cases and follow-ups, and — where a
//! file store is at hand (`sample_documents`) — short text documents that the search finds.

use crate::service::documents::{self, DocumentInput};
use crate::service::files::{self, FileInput};
use crate::service::follow_ups::{self, FollowUpInput};
use crate::service::plan::{self, PlanItemInput};
use crate::store::entity::file;
use rathaus_core::Principal;
use rathaus_store::Db;
use rathaus_store::files::{FileStore, Limits};
use rathaus_store::uow::{Actor, scoped};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

const PLAN: &[(&str, &str, i32, &str, &str)] = &[
    ("0", "Allgemeine Verwaltung", 10, "closing", "B"),
    ("02", "Gemeindeorgane", 10, "closing", "A"),
    ("022", "Gemeindevertretung", 10, "closing", "A"),
    (
        "022.31",
        "Ratsangelegenheiten, Sitzungen des Rates",
        30,
        "closing",
        "A",
    ),
    ("1", "Personal", 10, "leaving", "B"),
    ("11", "Personalakten", 10, "leaving", "B"),
    (
        "110.1",
        "Personalakten der Beschäftigten",
        10,
        "leaving",
        "B",
    ),
    ("4", "Soziales", 10, "closing", "B"),
    ("460", "Wohngeld", 10, "approval_end", "B"),
    ("460.12", "Wohngeld: Mietzuschuss", 10, "approval_end", "V"),
    ("6", "Bauen und Planen", 10, "closing", "B"),
    ("632", "Bauordnung", 30, "closing", "B"),
    ("632.1", "Baugenehmigungsverfahren", 30, "closing", "A"),
    ("9", "Finanzen und Steuern", 10, "closing", "V"),
    ("936", "Hundesteuer", 10, "dog_deregistered", "V"),
    (
        "936.1",
        "Hundesteuer: Anmeldungen und Bescheide",
        10,
        "dog_deregistered",
        "V",
    ),
];

fn input(plan: &str, kind: &str, title: &str, subject: &str, birth: &str) -> FileInput {
    FileInput {
        plan_code: plan.into(),
        kind: kind.into(),
        title: title.into(),
        subject_name: subject.into(),
        subject_birth_date: birth.into(),
        ..Default::default()
    }
}

/// The plan, files, cases and follow-ups (no document contents: see `sample_documents`).
pub async fn demo(db: &Db, admin: &Principal) -> anyhow::Result<()> {
    let by = Actor::User(admin);
    let t = admin.tenant_id;
    if !plan::list(&db.conn, by, t).await?.is_empty() {
        return Ok(());
    }
    for (code, title, years, start, disp) in PLAN {
        plan::create(
            &db.conn,
            by,
            t,
            &PlanItemInput {
                code: (*code).into(),
                title: (*title).into(),
                retention_years: years.to_string(),
                retention_start: (*start).into(),
                disposition: (*disp).into(),
            },
        )
        .await?;
    }
    let mut made = vec![];
    for i in [
        input(
            "022.31",
            "general",
            "Sitzungen des Gemeinderats 2026",
            "",
            "",
        ),
        input(
            "632.1",
            "general",
            "Bauantrag Lindenweg 4, Carport",
            "Petra Neumann",
            "",
        ),
        input(
            "632.1",
            "general",
            "Bauvoranfrage Gewerbegebiet Nord",
            "",
            "",
        ),
        FileInput {
            approval_end_on: "2026-09-30".into(),
            application_on: "2025-09-12".into(),
            ..input(
                "460.12",
                "wohngeld",
                "Wohngeld Familie Yılmaz",
                "Ayşe Yılmaz",
                "1984-03-17",
            )
        },
        FileInput {
            approval_end_on: "2027-01-31".into(),
            application_on: "2026-01-05".into(),
            ..input(
                "460.12",
                "wohngeld",
                "Wohngeld Herr Krüger",
                "Dieter Krüger",
                "1951-11-02",
            )
        },
        FileInput {
            dog_name: "Bello".into(),
            dog_breed: "Labrador".into(),
            dog_tag: "HST-0412".into(),
            dog_registered_on: "2023-04-01".into(),
            dog_tax_class: "Ersthund".into(),
            ..input(
                "936.1",
                "dog",
                "Hundesteuer Bello",
                "Jens Hoffmann",
                "1979-06-21",
            )
        },
        FileInput {
            dog_name: "Rocky".into(),
            dog_breed: "American Staffordshire Terrier".into(),
            dog_list_dog: true,
            dog_tag: "HST-0413".into(),
            dog_registered_on: "2024-02-15".into(),
            dog_tax_class: "Listenhund".into(),
            ..input(
                "936.1",
                "dog",
                "Hundesteuer Rocky",
                "Sandra Weiß",
                "1990-12-03",
            )
        },
        input(
            "110.1",
            "personnel",
            "Personalakte Maria Schulz",
            "Maria Schulz",
            "1988-08-08",
        ),
    ] {
        made.push(files::create(&db.conn, by, t, &i).await?);
    }
    // Sub-files of the personnel file, Krankheit among them.
    let personnel = made.last().map(|f| f.id);
    for sub in ["bewerbung", "vertrag", "krankheit"] {
        files::create(
            &db.conn,
            by,
            t,
            &FileInput {
                parent_id: personnel,
                sub_kind: sub.into(),
                ..input(
                    "110.1",
                    "personnel",
                    &format!("Maria Schulz – Teilakte {}", sub.to_uppercase()),
                    "Maria Schulz",
                    "1988-08-08",
                )
            },
        )
        .await?;
    }
    if let Some(f) = made.first() {
        files::create_case(&db.conn, by, t, f.id, "Sitzung vom 12. März").await?;
    }
    if let Some(f) = made.get(3) {
        follow_ups::create(
            &db.conn,
            by,
            t,
            f.id,
            &FollowUpInput {
                due_on: "2026-08-31".into(),
                note: "Weiterleistungsantrag anfordern (Bewilligung endet 30.09.)".into(),
                user_id: Some(admin.user_id.0),
                ..Default::default()
            },
        )
        .await?;
    }
    crate::service::disposal::demo::due_files(db, admin).await?;
    Ok(())
}

const TEXTS: &[(&str, &str, &str)] = &[
    (
        "Sitzungen des Gemeinderats 2026",
        "Niederschrift Ratssitzung",
        "Niederschrift der Sitzung des Gemeinderats. Tagesordnung: Haushaltssatzung, Kindergartengebühren, Sanierung der Turnhalle. Beschluss: einstimmig.",
    ),
    (
        "Bauantrag Lindenweg 4, Carport",
        "Bauantrag Carport",
        "Antrag auf Baugenehmigung für einen Carport mit Abstellraum auf dem Grundstück Lindenweg 4, Flurstück 112/3.",
    ),
    (
        "Wohngeld Familie Yılmaz",
        "Wohngeldantrag",
        "Antrag auf Mietzuschuss nach dem Wohngeldgesetz. Haushalt mit vier Personen, Bruttokaltmiete 780 Euro.",
    ),
    (
        "Wohngeld Familie Yılmaz",
        "Wohngeldbescheid",
        "Bescheid: Wohngeld wird für den Bewilligungszeitraum Oktober 2025 bis September 2026 bewilligt.",
    ),
    (
        "Hundesteuer Rocky",
        "Anmeldung Listenhund",
        "Anmeldung eines Hundes zur Hundesteuer. Rasse American Staffordshire Terrier, Sachkundenachweis und Haftpflichtversicherung liegen vor.",
    ),
    (
        "Personalakte Maria Schulz",
        "Arbeitsvertrag",
        "Arbeitsvertrag nach TVöD, Entgeltgruppe 9a, Sachbearbeitung Bürgerbüro.",
    ),
];

/// Files short text documents into the demo files (needs the file store; `serve --demo`
/// calls it where the store is open, tests and the bench call it directly).
pub async fn sample_documents(db: &Db, store: &FileStore, admin: &Principal) -> anyhow::Result<()> {
    let by = Actor::User(admin);
    let t = admin.tenant_id;
    for (file_title, title, text) in TEXTS {
        let Some(f) = scoped::<file::Entity>(t)
            .filter(file::Column::Title.eq(*file_title))
            .order_by_asc(file::Column::Id)
            .one(&db.conn)
            .await?
        else {
            continue;
        };
        let data = bytes::Bytes::from(text.as_bytes().to_vec());
        documents::add(
            db,
            store,
            by,
            t,
            f.id,
            &DocumentInput {
                title: (*title).into(),
                ..Default::default()
            },
            Limits {
                max_size: 1_000_000,
                quota: None,
            },
            &format!("{title}.txt"),
            futures_util::stream::iter([Ok(data)]),
        )
        .await?;
    }
    Ok(())
}
