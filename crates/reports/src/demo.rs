//! Demo data of the Mängelmelder for `rathaus serve --demo`: the nine categories the issue
//! names (routed to Bauhof, Ordnungsamt and Bürgerbüro), the fictional boundary of
//! Beispielstadt, a small street directory inside it, and a handful of reports in different
//! states so the public map and the inbox are not empty.

use crate::service::{self, AttributeDef, ReportsState, CategoryInput, Change, NewReport, Source};
use crate::domain::streets::Address;
use rathaus_core::Principal;
use rathaus_store::{Db, accounts};

/// (code, name, group, department, description)
const CATEGORIES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "winterdienst",
        "Winterdienst",
        "Straße und Verkehr",
        "Bauhof",
        "Nicht geräumte oder gestreute Straßen und Gehwege",
    ),
    (
        "strassenschaden",
        "Straßenschaden/Schlagloch",
        "Straße und Verkehr",
        "Bauhof",
        "Schlaglöcher, Risse und Absenkungen in Straßen, Rad- und Gehwegen",
    ),
    (
        "beleuchtung",
        "Straßenbeleuchtung",
        "Straße und Verkehr",
        "Bauhof",
        "Defekte oder dauernd brennende Straßenlaternen",
    ),
    (
        "verkehrszeichen",
        "Verkehrszeichen",
        "Straße und Verkehr",
        "Ordnungsamt",
        "Beschädigte, verdrehte oder fehlende Verkehrszeichen",
    ),
    (
        "gully",
        "Gully/Kanal",
        "Sauberkeit und Umwelt",
        "Bauhof",
        "Verstopfte Straßeneinläufe, fehlende Kanaldeckel",
    ),
    (
        "muell",
        "Illegale Müllablagerung",
        "Sauberkeit und Umwelt",
        "Ordnungsamt",
        "Wilder Müll, Sperrmüll am Straßenrand",
    ),
    (
        "spielplatz",
        "Spielplatz",
        "Grün und Spielplätze",
        "Bauhof",
        "Beschädigte Spielgeräte, Verunreinigungen",
    ),
    (
        "gruen",
        "Grünfläche/Baum",
        "Grün und Spielplätze",
        "Bauhof",
        "Umgestürzte Bäume, herabhängende Äste, ungepflegte Grünflächen",
    ),
    (
        "sonstiges",
        "Sonstiges",
        "Sonstiges",
        "Bürgerbüro",
        "Alles andere",
    ),
];

const STREETS: &[&str] = &[
    "Marktplatz",
    "Marktstraße",
    "Rathausplatz",
    "Hauptstraße",
    "Bahnhofstraße",
    "Schulstraße",
    "Kirchstraße",
    "Gartenweg",
    "Lindenallee",
    "Am Sportplatz",
    "Mühlenweg",
    "Goethestraße",
    "Schillerstraße",
    "Waldstraße",
    "Ringstraße",
    "Birkenweg",
];

/// Street directory of the demo: each street runs west to east at its own latitude through
/// the middle of the fictional town, house numbers every ~40 m.
pub fn demo_streets() -> Vec<Address> {
    let mut out = Vec::new();
    for (i, street) in STREETS.iter().enumerate() {
        let lat = 51.395 + i as f64 * 0.0012;
        for n in 1..=30u32 {
            let lon = 7.185 + f64::from(n) * 0.0006;
            out.push(Address {
                street: (*street).to_string(),
                house_number: n.to_string(),
                postcode: "12345".to_string(),
                lat,
                lon,
            });
        }
    }
    out
}

fn attributes(code: &str) -> Vec<AttributeDef> {
    match code {
        "strassenschaden" => vec![AttributeDef {
            code: "art".into(),
            description: "Art des Schadens".into(),
            datatype: "singlevaluelist".into(),
            required: false,
            values: vec![
                ("schlagloch".into(), "Schlagloch".into()),
                ("riss".into(), "Riss".into()),
                ("absenkung".into(), "Absenkung".into()),
                ("sonstiges".into(), "Sonstiges".into()),
            ],
        }],
        "beleuchtung" => vec![AttributeDef {
            code: "mast".into(),
            description: "Mastnummer (falls lesbar)".into(),
            datatype: "string".into(),
            required: false,
            values: vec![],
        }],
        _ => vec![],
    }
}

pub async fn demo(db: &Db, state: &ReportsState, admin: &Principal) -> anyhow::Result<()> {
    let conn = &db.conn;
    let tid = admin.tenant_id;
    let departments = accounts::list_departments(conn, tid).await?;
    let dept = |name: &str| departments.iter().find(|d| d.name == name).map(|d| d.id);
    let mut ids = std::collections::HashMap::new();
    for (i, (code, name, group, department, description)) in CATEGORIES.iter().enumerate() {
        let c = service::create_category(
            conn,
            state,
            admin,
            CategoryInput {
                code: (*code).into(),
                name: (*name).into(),
                group_name: (*group).into(),
                description: (*description).into(),
                keywords: String::new(),
                department_id: dept(department),
                attributes: attributes(code),
                active: true,
                position: i as i32,
            },
        )
        .await?;
        ids.insert(*code, c.id);
    }
    service::set_boundary(
        conn,
        rathaus_store::uow::Actor::User(admin),
        tid,
        Some(crate::domain::geo::DEMO_BOUNDARY),
    )
    .await?;
    crate::service::directory::import(
        conn,
        state,
        rathaus_store::uow::Actor::User(admin),
        tid,
        demo_streets(),
        &|_| {},
    )
    .await?;

    // (category, street index, house number, text, status, public reply)
    let reports: &[(&str, usize, u32, &str, &str, &str)] = &[
        (
            "strassenschaden",
            3,
            12,
            "Tiefes Schlagloch auf der rechten Fahrspur, etwa 30 cm breit.",
            service::IN_PROGRESS,
            "Danke für den Hinweis. Der Bauhof bessert die Stelle in dieser Woche aus.",
        ),
        (
            "beleuchtung",
            4,
            5,
            "Die Laterne vor dem Haus flackert seit Tagen.",
            service::DONE,
            "Das Leuchtmittel wurde getauscht.",
        ),
        (
            "muell",
            13,
            28,
            "Am Waldrand liegen mehrere Säcke Bauschutt.",
            service::CONFIRMED,
            "",
        ),
        (
            "gully",
            1,
            3,
            "Der Gully ist verstopft, bei Regen steht das Wasser bis zum Bordstein.",
            service::NEW,
            "",
        ),
        (
            "spielplatz",
            9,
            20,
            "Die Schaukel am Spielplatz hat eine gerissene Kette.",
            service::PLANNED,
            "Ersatzteile sind bestellt, die Reparatur ist für nächste Woche eingeplant.",
        ),
    ];
    let streets = demo_streets();
    for (code, street, number, text, status, reply) in reports {
        let Some(a) = streets
            .iter()
            .find(|a| a.street == STREETS[*street] && a.house_number == number.to_string())
        else {
            continue;
        };
        let s = service::submit(
            conn,
            state,
            tid,
            Source::Staff,
            rathaus_store::uow::Actor::User(admin),
            NewReport {
                category_id: ids.get(code).copied(),
                position: Some((a.lat, a.lon)),
                address: crate::service::directory::label(a),
                description: (*text).into(),
                consent: true,
                ..Default::default()
            },
        )
        .await?;
        if *status != service::NEW {
            service::change(
                conn,
                state,
                admin,
                s.report.id,
                Change {
                    status: Some((*status).into()),
                    public_reply: (*reply).into(),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}
