//! Demo data of the Mängelmelder for `rathaus serve --demo`: the nine categories the issue
//! names (routed to Bauhof, Ordnungsamt and Bürgerbüro), the fictional boundary of
//! Beispielstadt, a small street directory inside it, and a handful of reports in different
//! states so the public map and the inbox are not empty.

use crate::domain::streets::Address;
use crate::service::ReportId;
use crate::service::{
    self, AttributeDef, CategoryInput, Change, NewReport, ReportsState, Source, Status,
};
use rathaus_core::Principal;
use rathaus_store::{Db, accounts};

/// The demo's texts and values (German, as a municipality would enter them).
const DATA: &str = include_str!("demo/data.toml");

#[derive(serde::Deserialize)]
struct Data {
    streets: Vec<String>,
    categories: Vec<DemoCategory>,
    reports: Vec<DemoReport>,
}

#[derive(serde::Deserialize)]
struct DemoCategory {
    code: String,
    name: String,
    group: String,
    department: String,
    description: String,
    #[serde(default)]
    attributes: Vec<AttributeDef>,
}

#[derive(serde::Deserialize)]
struct DemoReport {
    category: String,
    /// Index into `streets`.
    street: usize,
    number: u32,
    text: String,
    status: Status,
    reply: String,
}

fn data() -> anyhow::Result<Data> {
    Ok(toml::from_str(DATA)?)
}

/// Street directory of the demo: each street runs west to east at its own latitude through
/// the middle of the fictional town, house numbers every ~40 m.
pub fn demo_streets() -> Vec<Address> {
    let streets = data().map(|d| d.streets).unwrap_or_default();
    let mut out = Vec::new();
    for (i, street) in streets.iter().enumerate() {
        let lat = 51.395 + i as f64 * 0.0012;
        for n in 1..=30u32 {
            let lon = 7.185 + f64::from(n) * 0.0006;
            out.push(Address {
                street: street.clone(),
                house_number: n.to_string(),
                postcode: "12345".to_string(),
                lat,
                lon,
            });
        }
    }
    out
}

pub async fn demo(db: &Db, state: &ReportsState, admin: &Principal) -> anyhow::Result<()> {
    let conn = &db.conn;
    let tid = admin.tenant_id;
    let departments = accounts::list_departments(conn, tid).await?;
    let dept = |name: &str| departments.iter().find(|d| d.name == name).map(|d| d.id);
    let data = data()?;
    let mut ids = std::collections::HashMap::new();
    for (i, c) in data.categories.into_iter().enumerate() {
        let created = service::create_category(
            conn,
            state,
            rathaus_store::uow::Actor::User(admin),
            tid,
            CategoryInput {
                code: c.code.clone(),
                name: c.name,
                group_name: c.group,
                description: c.description,
                keywords: String::new(),
                department_id: dept(&c.department),
                attributes: c.attributes,
                active: true,
                position: i32::try_from(i)?,
            },
        )
        .await?;
        ids.insert(c.code, created.id);
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

    let streets = demo_streets();
    // The demo reports carry no photos, so their file service is never written to.
    let no_photos =
        rathaus_store::files::FileStore::from_config(&rathaus_store::files::FilesConfig::Memory)?;
    for r in data.reports {
        let Some(a) = data.streets.get(r.street).and_then(|name| {
            streets
                .iter()
                .find(|a| a.street == *name && a.house_number == r.number.to_string())
        }) else {
            continue;
        };
        let s = service::submit(
            db,
            &no_photos,
            state,
            tid,
            Source::Staff,
            rathaus_store::uow::Actor::User(admin),
            NewReport {
                category_id: ids.get(&r.category).copied(),
                position: Some((a.lat, a.lon)),
                address: crate::service::directory::label(a),
                description: r.text,
                consent: true,
                ..Default::default()
            },
        )
        .await?;
        if r.status != Status::New {
            service::change(
                conn,
                state,
                rathaus_store::uow::Actor::User(admin),
                tid,
                ReportId(s.report.id),
                Change {
                    status: Some(r.status.to_string()),
                    public_reply: r.reply,
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_data_file_reads() {
        let d = data().expect("demo/data.toml");
        assert_eq!(d.categories.len(), 9);
        assert_eq!(d.streets.len(), 16);
        assert!(d.reports.iter().all(|r| r.street < d.streets.len()));
        assert_eq!(demo_streets().len(), 16 * 30);
    }
}
