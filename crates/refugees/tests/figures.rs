//! The dashboard reads today and a chosen day in one pass over the stays, and a name search
//! reads the matching names once for page and total: both agree with the plain per-day
//! figures and with paging, on both databases.

use crate::common;

use chrono::Duration;
use common::*;
use rathaus_refugees::service::occupancy::{CheckIn, check_in};
use rathaus_refugees::service::persons::{PersonFilter, list_persons};
use rathaus_refugees::service::places::accommodations_on;
use rathaus_refugees::service::{stats, today};
use rathaus_store::uow::Actor;

fn figures(
    list: &[rathaus_refugees::service::places::AccommodationDay],
) -> Vec<(String, i64, i64, i64)> {
    list.iter()
        .map(|a| (a.accommodation.name.clone(), a.capacity, a.occupied, a.free))
        .collect()
}

#[tokio::test]
async fn dashboard_days_and_name_search_pages_agree_with_the_plain_figures() {
    let s = setup().await;
    let by = Actor::User(&s.admin);
    let t = today();
    let nord = accommodation(&s, "Haus Nord").await;
    let sued = accommodation(&s, "Haus Süd").await;
    let rn = room(&s, nord, "1.01", 3).await;
    let rs = room(&s, sued, "2.01", 2).await;
    let (bn, bs) = (beds(&s, rn.id).await, beds(&s, rs.id).await);
    // Past, current, open-ended and planned stays.
    let stays = [
        ("Abadi", bn[0], -400, Some(-200)),
        ("Bakr", bn[0], -100, None),
        ("Celik", bn[1], -30, Some(40)),
        ("Dahan", bs[0], 10, Some(100)),
        ("Ebrahimi", bs[1], -365, None),
    ];
    for (name, bed, from, until) in stays {
        let p = person(&s, name).await;
        check_in(
            &s.db.conn,
            by,
            s.f.tenant,
            CheckIn {
                person_id: p,
                bed_id: bed,
                from: t + Duration::days(from),
                until: until.map(|u| t + Duration::days(u)),
            },
        )
        .await
        .unwrap();
    }
    for offset in [-300, -50, 0, 20, 60, 200] {
        let on = t + Duration::days(offset);
        let d = stats::dashboard(&s.db.conn, by, s.f.tenant, Some(on))
            .await
            .unwrap();
        let plain_now = accommodations_on(&s.db.conn, by, s.f.tenant, t)
            .await
            .unwrap();
        let plain_at = accommodations_on(&s.db.conn, by, s.f.tenant, on)
            .await
            .unwrap();
        assert_eq!(figures(&d.now), figures(&plain_now), "today, beside {on}");
        assert_eq!(figures(&d.at), figures(&plain_at), "{on}");
    }
    let at = |days: i64| {
        let db = s.db.conn.clone();
        let admin = s.admin.clone();
        let tenant = s.f.tenant;
        async move {
            figures(
                &accommodations_on(&db, Actor::User(&admin), tenant, t + Duration::days(days))
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(
        at(0).await,
        vec![
            ("Haus Nord".to_string(), 3, 2, 1),
            ("Haus Süd".to_string(), 2, 1, 1)
        ]
    );
    assert_eq!(
        at(20).await,
        vec![
            ("Haus Nord".to_string(), 3, 2, 1),
            ("Haus Süd".to_string(), 2, 2, 0)
        ]
    );
    assert_eq!(
        at(-300).await,
        vec![
            ("Haus Nord".to_string(), 3, 1, 2),
            ("Haus Süd".to_string(), 2, 1, 1)
        ]
    );

    // "b" (typed as "B") is in three surnames and in no given name: paged by two, in order.
    let page = |offset: u64| PersonFilter {
        q: "B".into(),
        offset,
        limit: 2,
        ..Default::default()
    };
    let mut names = Vec::new();
    for offset in [0, 2] {
        let (rows, total) = list_persons(&s.db.conn, by, s.f.tenant, &page(offset))
            .await
            .unwrap();
        assert_eq!(total, 3);
        names.extend(rows.into_iter().map(|p| p.surname));
    }
    assert_eq!(names, ["Abadi", "Bakr", "Ebrahimi"]);
}
