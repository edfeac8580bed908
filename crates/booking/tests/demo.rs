//! The demo data (`src/demo/demo.toml`) parses and is written completely: resources with
//! their hall, parts and equipment, organisations, holiday blackouts and the open season.

use crate::common;

use common::*;
use rathaus_booking::Booking;
use rathaus_booking::store::entity::{blackout, organisation, season};
use rathaus_store::uow::{Actor, Scope};
use rathaus_web::Module;
use sea_orm::PaginatorTrait;

#[tokio::test]
async fn the_demo_writes_its_data_file() {
    let s = setup().await;
    Booking.demo(&s.db, &s.admin).await.unwrap();
    let all = rathaus_booking::service::list_resources(&s.db.conn, Actor::User(&s.admin))
        .await
        .unwrap();
    assert_eq!(all.len(), 10);
    let hall = all.iter().find(|r| r.kind == "hall").unwrap();
    assert_eq!(
        all.iter().filter(|r| r.parent_id == Some(hall.id)).count(),
        3
    );
    assert!(hall.accessibility.contains('\n'));
    assert!(hall.fee_schedule.contains("4000"));
    let beamer = all.iter().find(|r| r.kind == "equipment").unwrap();
    assert!(beamer.room_id.is_some());
    let scope = Scope::user(&s.db.conn, &s.admin);
    assert_eq!(
        scope
            .find::<organisation::Entity>()
            .count(scope.conn())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        scope
            .find::<blackout::Entity>()
            .count(scope.conn())
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        scope
            .find::<season::Entity>()
            .count(scope.conn())
            .await
            .unwrap(),
        1
    );
}
