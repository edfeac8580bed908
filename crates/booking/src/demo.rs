//! Demo data of the booking module for `rathaus serve --demo`: a sports hall with three
//! thirds, a field, the council chamber, meeting rooms, a room citizens can book, a projector;
//! a club and a school; NRW school holidays as blackouts; an open hall season.

use crate::domain::time::midnight_utc as local_midnight;
use crate::service::rules::{self, Week};
use crate::service::{self, ResourceInput};
use crate::store::entity::{blackout, org_member, organisation, season};
use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::{Principal, TenantId};
use rathaus_store::uow::Actor;
use rathaus_store::{Db, accounts};
use sea_orm::{ActiveModelTrait, Set};
use std::collections::BTreeMap;

/// The demo citizen created by the binary's demo; in the demo she is also the club's member.
pub const DEMO_MEMBER_EMAIL: &str = "buergerin@beispielstadt.example";
pub const DEMO_CLUB: &str = "TV Beispielstadt 1890 e.V.";

fn hours(weekdays: (u32, u32), weekend: Option<(u32, u32)>) -> Week {
    let mut w: Week = [Some(weekdays); 7];
    w[5] = weekend;
    w[6] = weekend;
    w
}

fn fees(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(g, c)| (g.to_string(), *c)).collect()
}

pub async fn demo(db: &Db, admin: &Principal) -> anyhow::Result<()> {
    let conn = &db.conn;
    let tid = admin.tenant_id;
    let mut hall = ResourceInput::new("Sporthalle Am Markt", service::HALL);
    hall.capacity = Some(200);
    hall.address = "Marktstraße 12, 12345 Beispielstadt".into();
    hall.description = "Dreifachhalle mit Tribüne, teilbar in drei Hallendrittel.".into();
    hall.accessibility = "Stufenloser Zugang\nBarrierefreies WC\nBehindertenparkplatz".into();
    hall.bookable_by = rules::ORGANISATIONS.into();
    hall.requires_approval = true;
    hall.min_minutes = 60;
    hall.max_minutes = 240;
    hall.buffer_minutes = 15;
    hall.horizon_days = 400;
    hall.cancel_hours = 48;
    hall.opening_hours = Some(hours((8 * 60, 22 * 60), Some((9 * 60, 20 * 60))));
    hall.fee_schedule = fees(&[
        ("school", 0),
        ("club", 0),
        ("other", 2500),
        ("citizen", 4000),
    ]);
    let hall = service::create_resource(conn, Actor::User(admin), hall).await?;
    for part in ["Hallendrittel A", "Hallendrittel B", "Hallendrittel C"] {
        let mut p = ResourceInput::new(part, service::HALL_PART);
        p.parent_id = Some(hall.id);
        p.capacity = Some(60);
        p.address = hall.address.clone();
        p.bookable_by = rules::ORGANISATIONS.into();
        p.requires_approval = true;
        p.min_minutes = 60;
        p.max_minutes = 240;
        p.buffer_minutes = 15;
        p.horizon_days = 400;
        p.cancel_hours = 48;
        p.opening_hours = Some(hours((8 * 60, 22 * 60), Some((9 * 60, 20 * 60))));
        p.fee_schedule = fees(&[("other", 1000), ("citizen", 1500)]);
        service::create_resource(conn, Actor::User(admin), p).await?;
    }
    let mut field = ResourceInput::new("Sportplatz Waldstraße", "field");
    field.address = "Waldstraße 40, 12345 Beispielstadt".into();
    field.description = "Kunstrasenplatz mit Flutlicht.".into();
    field.bookable_by = rules::ORGANISATIONS.into();
    field.requires_approval = true;
    field.horizon_days = 400;
    field.opening_hours = Some(hours((8 * 60, 22 * 60), Some((9 * 60, 21 * 60))));
    service::create_resource(conn, Actor::User(admin), field).await?;
    let mut chamber = ResourceInput::new("Ratssaal", "room");
    chamber.capacity = Some(80);
    chamber.address = "Rathausplatz 1, 12345 Beispielstadt".into();
    chamber.accessibility = "Aufzug\nInduktionsschleife".into();
    chamber.requires_approval = true;
    let chamber = service::create_resource(conn, Actor::User(admin), chamber).await?;
    for (name, cap) in [("Besprechungsraum 1.12", 10), ("Besprechungsraum 2.04", 6)] {
        let mut r = ResourceInput::new(name, "room");
        r.capacity = Some(cap);
        r.address = "Rathausplatz 1, 12345 Beispielstadt".into();
        service::create_resource(conn, Actor::User(admin), r).await?;
    }
    let mut civic = ResourceInput::new("Bürgerhaus – Gruppenraum", "room");
    civic.capacity = Some(25);
    civic.address = "Lindenallee 3, 12345 Beispielstadt".into();
    civic.description = "Gruppenraum mit Teeküche für Treffen, Kurse und Familienfeiern.".into();
    civic.accessibility = "Stufenloser Zugang\nBarrierefreies WC".into();
    civic.bookable_by = rules::PUBLIC.into();
    civic.min_minutes = 60;
    civic.max_minutes = 480;
    civic.cancel_hours = 24;
    civic.opening_hours = Some(hours((8 * 60, 22 * 60), Some((10 * 60, 22 * 60))));
    civic.fee_schedule = fees(&[("citizen", 1000), ("other", 500)]);
    service::create_resource(conn, Actor::User(admin), civic).await?;
    let mut beamer = ResourceInput::new("Beamer (mobil)", "equipment");
    beamer.room_id = Some(chamber.id);
    service::create_resource(conn, Actor::User(admin), beamer).await?;

    let now = Utc::now();
    let club = organisation::ActiveModel {
        tenant_id: Set(tid.0),
        name: Set(DEMO_CLUB.into()),
        kind: Set("club".into()),
        contact_email: Set("vorstand@tv-beispielstadt.example".into()),
        public_name: Set(true),
        feed_token: Set(rathaus_store::random_token(service::FEED_TOKEN_BYTES)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    organisation::ActiveModel {
        tenant_id: Set(tid.0),
        name: Set("Grundschule am Park".into()),
        kind: Set("school".into()),
        contact_email: Set("sekretariat@gs-am-park.example".into()),
        public_name: Set(false),
        feed_token: Set(rathaus_store::random_token(service::FEED_TOKEN_BYTES)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    if let Some(u) = accounts::find_by_email(conn, tid, DEMO_MEMBER_EMAIL).await? {
        org_member::ActiveModel {
            tenant_id: Set(tid.0),
            organisation_id: Set(club.id),
            user_id: Set(u.id),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    add_holidays(db, tid).await?;
    let year = now
        .with_timezone(&Berlin)
        .date_naive()
        .format("%Y")
        .to_string();
    let y: i32 = year.parse().unwrap_or(2026);
    season::ActiveModel {
        tenant_id: Set(tid.0),
        name: Set(format!("Hallensaison {}/{}", y + 1, (y + 2) % 100)),
        starts_on: Set(format!("{}-09-01", y + 1)),
        ends_on: Set(format!("{}-06-30", y + 2)),
        status: Set("open".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// School holidays (example dates; a real tenant imports the official ICS) as tenant-wide
/// blackouts.
async fn add_holidays(db: &Db, tid: TenantId) -> anyhow::Result<()> {
    const HOLIDAYS: &[(&str, &str, &str)] = &[
        ("Weihnachtsferien", "2026-12-23", "2027-01-06"),
        ("Osterferien", "2027-03-22", "2027-04-03"),
        ("Sommerferien", "2027-07-19", "2027-08-31"),
        ("Herbstferien", "2027-10-25", "2027-11-06"),
        ("Weihnachtsferien", "2027-12-24", "2028-01-08"),
    ];
    for (name, from, to) in HOLIDAYS {
        let (Ok(from), Ok(to)) = (
            NaiveDate::parse_from_str(from, "%Y-%m-%d"),
            NaiveDate::parse_from_str(to, "%Y-%m-%d"),
        ) else {
            continue;
        };
        blackout::ActiveModel {
            tenant_id: Set(tid.0),
            resource_id: Set(None),
            starts_at: Set(local_midnight(from)),
            ends_at: Set(local_midnight(to + chrono::Duration::days(1))),
            reason: Set(format!("{name} (Beispieldaten)")),
            source_uid: Set(format!("demo-{name}-{from}")),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&db.conn)
        .await?;
    }
    Ok(())
}
