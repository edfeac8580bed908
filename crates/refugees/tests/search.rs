//! Persons and accommodations in the platform search: found by the readers of the module's
//! lists once the outbox is applied, never by others or another tenant; a person's document
//! holds only the names; renaming, the import and the anonymisation keep the index in step,
//! and a rebuild leaves anonymised persons out.

use crate::common;

use chrono::{Datelike, NaiveDate};
use common::xlsx::{C::*, workbook};
use common::*;
use rathaus_core::Principal;
use rathaus_refugees::Refugees;
use rathaus_refugees::service::occupancy::{CheckIn, check_in};
use rathaus_refugees::service::persons::{self, PersonInput};
use rathaus_refugees::service::{imports, retention, today};
use rathaus_store::uow::Actor;
use rathaus_web::{AppState, Module, WebConfig};
use std::sync::Arc;

struct World {
    st: AppState,
    s: Setup,
    b: Setup,
}

async fn world() -> World {
    let tdb = migrated().await;
    let s = tenant(&tdb.db, "a", "a.refugees.test").await;
    let mut b = tenant(&tdb.db, "b", "b.refugees.test").await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Refugees)];
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    b.tdb = Some(tdb);
    World { st, s, b }
}

impl World {
    /// The urls `who` finds for `text`, after applying the outbox.
    async fn found(&self, who: &Principal, text: &str) -> Vec<String> {
        self.st.search.apply_outbox(&self.st.db).await.unwrap();
        rathaus_web::search::run(&self.st, who, text, None, 50, 0)
            .await
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.url)
            .collect()
    }
}

fn person_url(id: i64) -> String {
    format!("/unterbringung/personen/{id}")
}

#[tokio::test]
async fn persons_and_accommodations_are_found_by_the_readers_of_the_lists_only() {
    let w = world().await;
    let s = &w.s;
    let acc = create_acc(
        s,
        "Containeranlage Birkenweg",
        "Birkenweg 5, 12345 Beispielstadt",
    )
    .await;
    let p = person(s, "Okonkwo").await;
    let acc_url = format!("/unterbringung/unterkuenfte/{acc}");

    // Every holder of a read permission finds both, by name and by address.
    for who in [&s.caretaker, &s.social, &s.office, &s.admin] {
        assert_eq!(w.found(who, "Okonkwo").await, vec![person_url(p)]);
        assert_eq!(w.found(who, "Birkenweg").await, vec![acc_url.clone()]);
    }
    assert_eq!(
        w.found(&s.caretaker, "Okonkwo Amir").await,
        vec![person_url(p)]
    );
    // The address's street is searchable, a word of it alone too.
    assert_eq!(
        w.found(&s.caretaker, "Beispielstadt").await,
        vec![acc_url.clone()]
    );

    // No read permission: nothing, also for a clerk's colleague of another module.
    assert!(w.found(&s.nobody, "Okonkwo").await.is_empty());
    assert!(w.found(&s.nobody, "Birkenweg").await.is_empty());

    // Only names are indexed: notes, status and birth data are not findable, not even by
    // the admin (the index cannot hide single fields).
    for text in ["Dolmetscher", "Duldung", "duldung", "1990"] {
        assert!(w.found(&s.admin, text).await.is_empty(), "{text}");
    }

    // Another tenant's admin finds nothing of tenant A.
    assert!(w.found(&w.b.admin, "Okonkwo").await.is_empty());
    assert!(w.found(&w.b.admin, "Birkenweg").await.is_empty());
    // … and tenant B's own person does not show up in A.
    let pb = person(&w.b, "Okonkwo").await;
    assert_eq!(w.found(&w.b.admin, "Okonkwo").await, vec![person_url(pb)]);
    assert_eq!(w.found(&s.admin, "Okonkwo").await, vec![person_url(p)]);
}

async fn create_acc(s: &Setup, name: &str, address: &str) -> i64 {
    rathaus_refugees::service::places::create_accommodation(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        rathaus_refugees::service::places::AccommodationInput {
            name: name.into(),
            kind: "container_site".into(),
            address: address.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn a_renamed_person_is_found_under_the_new_name_only() {
    let w = world().await;
    let s = &w.s;
    let p = person(s, "Mustafa").await;
    assert_eq!(w.found(&s.caretaker, "Mustafa").await, vec![person_url(p)]);
    persons::update_person(
        &s.db.conn,
        Actor::User(&s.clerk),
        s.f.tenant,
        p,
        PersonInput {
            surname: Some("Mostafa".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(w.found(&s.caretaker, "Mustafa").await.is_empty());
    assert_eq!(w.found(&s.caretaker, "Mostafa").await, vec![person_url(p)]);
}

#[tokio::test]
async fn an_anonymised_person_leaves_the_index() {
    let w = world().await;
    let s = &w.s;
    let acc = accommodation(s, "Gemeinschaftsunterkunft Süd").await;
    let r = room(s, acc, "1", 2).await;
    let beds = beds(s, r.id).await;
    let t = today();
    let long_ago = NaiveDate::from_ymd_opt(t.year() - 10, 1, 1).unwrap();
    let left = NaiveDate::from_ymd_opt(t.year() - 9, 1, 1).unwrap();
    let gone = person(s, "Haddad").await;
    let stays = person(s, "Haddadi").await;
    for (p, bed, until) in [(gone, beds[0], Some(left)), (stays, beds[1], None)] {
        check_in(
            &s.db.conn,
            Actor::User(&s.admin),
            s.f.tenant,
            CheckIn {
                person_id: p,
                bed_id: bed,
                from: long_ago,
                until,
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(
        w.found(&s.caretaker, "Haddad").await,
        vec![person_url(gone)]
    );
    let out = retention::anonymise(&s.db.conn, s.f.tenant, t)
        .await
        .unwrap();
    assert_eq!(out.anonymised, 1);
    assert!(w.found(&s.caretaker, "Haddad").await.is_empty());
    assert!(w.found(&s.admin, "Haddad").await.is_empty());
    assert_eq!(
        w.found(&s.caretaker, "Haddadi").await,
        vec![person_url(stays)]
    );

    // A rebuild from the tables leaves the anonymised person out as well (and does not stop
    // early at it).
    w.st.search
        .reindex(&w.st.db, None, None, |_| {})
        .await
        .unwrap();
    assert!(w.found(&s.admin, "Haddad").await.is_empty());
    assert_eq!(w.found(&s.admin, "Haddadi").await, vec![person_url(stays)]);
    assert_eq!(
        w.found(&s.admin, "Gemeinschaftsunterkunft").await,
        vec![format!("/unterbringung/unterkuenfte/{acc}")]
    );
}

#[tokio::test]
async fn imported_persons_and_accommodations_are_found() {
    let w = world().await;
    let s = &w.s;
    let file = workbook(&[
        (
            "Kapazität",
            vec![
                vec![S("Unterkunft"), S("Zimmer"), S("Betten")],
                vec![S("Haus Lindenhof"), S("1"), N(2.0)],
            ],
        ),
        (
            "Haus Lindenhof",
            vec![
                vec![
                    S("Name"),
                    S("Vorname"),
                    S("Geb.-Datum"),
                    S("Zimmer"),
                    S("Einzug"),
                ],
                vec![
                    S("Sadeghi"),
                    S("Leila"),
                    D(1988, 4, 3),
                    S("1"),
                    S("01.02.2024"),
                ],
            ],
        ),
    ]);
    let out = imports::import(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        &file,
        None,
        true,
    )
    .await
    .unwrap();
    assert!(out.committed, "{:?}", out.errors);
    let hits = w.found(&s.caretaker, "Sadeghi").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].starts_with("/unterbringung/personen/"));
    let hits = w.found(&s.caretaker, "Lindenhof").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].starts_with("/unterbringung/unterkuenfte/"));
}
