//! No double occupancy under concurrent load: many tasks on a multi-threaded runtime, each
//! with its own pool connection, check different persons into the same last bed for
//! overlapping days at once. Exactly one wins; everyone else gets a conflict, never an error.

use crate::common;

use common::*;
use rathaus_core::Error;
use rathaus_refugees::service::occupancy::{BED_TAKEN, CheckIn, check_in};
use rathaus_store::uow::Actor;
use std::sync::Arc;

const TASKS: usize = 16;
const ROUNDS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn two_clerks_one_last_bed_exactly_one_wins() {
    let s = setup().await;
    let acc = accommodation(&s, "Containeranlage Nord").await;
    let r = room(&s, acc, "1.01", 1).await;
    let bed = beds(&s, r.id).await[0];
    let mut persons = Vec::new();
    for i in 0..TASKS * ROUNDS {
        persons.push(person(&s, &format!("Person{i}")).await);
    }
    let clerks = Arc::new([s.clerk.clone(), s.other_clerk.clone()]);
    for round in 0..ROUNDS {
        // Each round a month of its own; the stays within a round overlap pairwise.
        let base = d("2027-01-01") + chrono::Duration::days(40 * round as i64);
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..TASKS {
            let db = s.db.clone();
            let barrier = barrier.clone();
            let clerks = clerks.clone();
            let tenant = s.f.tenant;
            let c = CheckIn {
                person_id: persons[round * TASKS + i],
                bed_id: bed,
                from: base + chrono::Duration::days((i % 5) as i64),
                until: Some(base + chrono::Duration::days(10 + (i % 3) as i64)),
            };
            tasks.spawn(async move {
                barrier.wait().await;
                check_in(&db.conn, Actor::User(&clerks[i % 2]), tenant, c).await
            });
        }
        let (mut won, mut refused) = (0, 0);
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                Ok(_) => won += 1,
                Err(Error::Conflict(k)) if k == BED_TAKEN => refused += 1,
                Err(e) => panic!("round {round}: unexpected error {e:?}"),
            }
        }
        assert_eq!((won, refused), (1, TASKS - 1), "round {round}");
    }
    use sea_orm::EntityTrait;
    let all = rathaus_refugees::store::occupancy::Entity::find()
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(all.len(), ROUNDS);
    assert!(
        rathaus_store::audit::verify(&s.db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}
