//! Art. 15 DSGVO disclosure per person: a JSON download with every field, the household,
//! the occupancy history with accommodation and room, and who read the record; only for
//! holders of `refugees.disclose`, never across tenants, and audited itself.

use crate::common;

use common::*;
use rathaus_refugees::Refugees;
use rathaus_refugees::permissions::{DISCLOSE, READ_BASIC, READ_RESIDENCE, READ_SOCIAL};
use rathaus_refugees::service::occupancy::{CheckIn, check_in};
use rathaus_refugees::service::persons::{self, PersonInput};
use rathaus_store::entity::audit_event;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, login};
use rathaus_web::{AppState, Module, WebConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use std::sync::Arc;

const HOST: &str = "a.refugees.test";
const HOST_B: &str = "b.refugees.test";

#[tokio::test]
async fn the_disclosure_holds_everything_and_only_the_right_role_gets_it() {
    let tdb = migrated().await;
    let s = tenant(&tdb.db, "a", HOST).await;
    let b = tenant(&tdb.db, "b", HOST_B).await;
    // A clerk who reads every group but may not disclose.
    let reader = rathaus_testkit::user_with(
        &s.db,
        s.f.tenant,
        "alle@a.example",
        "Alle Gruppen",
        &[READ_BASIC, READ_SOCIAL, READ_RESIDENCE],
    )
    .await;
    let dpo = rathaus_testkit::user_with(
        &s.db,
        s.f.tenant,
        "datenschutz@a.example",
        "Datenschutz",
        &[DISCLOSE],
    )
    .await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Refugees)];
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;

    let acc = accommodation(&s, "Gemeinschaftsunterkunft Süd").await;
    let r = room(&s, acc, "2.04", 2).await;
    let bed = beds(&s, r.id).await[1];
    let id = persons::create_person(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        PersonInput {
            surname: Some("Haddad".into()),
            given_names: Some("Lina".into()),
            birth_date: Some(Some(d("2001-07-12"))),
            sex: Some("female".into()),
            nationality: Some("syrisch".into()),
            languages: Some("Arabisch, Englisch".into()),
            phone: Some("0151 7654321".into()),
            residence_status: Some("erlaubnis".into()),
            residence_paragraph: Some("§ 25 Abs. 2".into()),
            permit_valid_until: Some(Some(d("2028-03-31"))),
            allocation_ref: Some("ZW-2024-88".into()),
            benefits_ref: Some("SGB II 0815".into()),
            needs: Some(vec!["ground_floor".into()]),
            notes: Some("Termin beim Jobcenter".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    persons::create_household(&s.db.conn, Actor::User(&s.admin), s.f.tenant, "BG-7", &[id])
        .await
        .unwrap();
    check_in(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        CheckIn {
            person_id: id,
            bed_id: bed,
            from: d("2025-02-01"),
            until: None,
        },
    )
    .await
    .unwrap();

    let base = app.url(HOST, "");
    let path = format!("/unterbringung/personen/{id}/auskunft");
    // Two reads of the record, by the caretaker and the reader.
    let caretaker = app.client(&[HOST]);
    login(&caretaker, &base, &s.caretaker.email, PASSWORD).await;
    let all = app.client(&[HOST]);
    login(&all, &base, &reader.email, PASSWORD).await;
    for c in [&caretaker, &all] {
        let r = c
            .get(format!("{base}/unterbringung/personen/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(!r.text().await.unwrap().contains(&path));
    }
    // Neither may disclose: the caretaker, nor a reader of every group without the right.
    for c in [&caretaker, &all] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }

    // The admin finds the link on the person page and gets the file.
    let admin = app.client(&[HOST]);
    login(&admin, &base, &s.admin.email, PASSWORD).await;
    let html = admin
        .get(format!("{base}/unterbringung/personen/{id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("href=\"{path}\"")), "{html}");
    assert!(html.contains("Art. 15 DSGVO"), "{html}");
    let r = admin.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment;") && cd.contains(&format!("auskunft-person-{id}-")),
        "{cd}"
    );
    assert_eq!(h["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    let p = &v["person"];
    assert_eq!(v["basis"], "Art. 15 DSGVO");
    assert_eq!(p["id"], id);
    assert_eq!(p["surname"], "Haddad");
    assert_eq!(p["given_names"], "Lina");
    assert_eq!(p["birth_date"], "2001-07-12");
    assert_eq!(p["sex"], "female");
    assert_eq!(p["nationality"], "syrisch");
    assert_eq!(p["languages"], "Arabisch, Englisch");
    assert_eq!(p["phone"], "0151 7654321");
    assert_eq!(p["residence_status"], "erlaubnis");
    assert_eq!(p["residence_paragraph"], "§ 25 Abs. 2");
    assert_eq!(p["permit_valid_until"], "2028-03-31");
    assert_eq!(p["allocation_ref"], "ZW-2024-88");
    assert_eq!(p["benefits_ref"], "SGB II 0815");
    assert_eq!(p["needs"], serde_json::json!(["ground_floor"]));
    assert_eq!(p["notes"], "Termin beim Jobcenter");
    assert!(p["anonymised_at"].is_null());
    assert_eq!(v["household"]["reference"], "BG-7");
    assert_eq!(v["household"]["head"], true);
    let occ = v["occupancies"].as_array().unwrap();
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0]["accommodation"], "Gemeinschaftsunterkunft Süd");
    assert_eq!(occ[0]["address"], "Hauptstraße 1");
    assert_eq!(occ[0]["room"], "2.04");
    assert_eq!(occ[0]["bed"], 2);
    assert_eq!(occ[0]["from"], "2025-02-01");
    assert!(occ[0]["until"].is_null());
    // Who read the record: the caretaker, the reader and the admin (the page above).
    let reads: Vec<&str> = v["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        reads,
        [
            s.caretaker.email.as_str(),
            reader.email.as_str(),
            s.admin.email.as_str()
        ]
    );
    assert!(
        v["reads"][0]["at"].as_str().unwrap().len() >= 19,
        "{}",
        v["reads"]
    );
    let processing: Vec<&str> = v["processing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        processing.contains(&"refugees.person_created")
            && processing.contains(&"refugees.checked_in"),
        "{processing:?}"
    );

    // A data protection officer with only this right gets it too (without reading rights).
    let c = app.client(&[HOST]);
    login(&c, &base, &dpo.email, PASSWORD).await;
    let r = c.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Another tenant's admin: not found; a bad id: not found.
    let other = app.client(&[HOST_B]);
    let base_b = app.url(HOST_B, "");
    login(&other, &base_b, &b.admin.email, PASSWORD).await;
    let r = other.get(format!("{base_b}{path}")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = admin
        .get(format!("{base}/unterbringung/personen/x/auskunft"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Each disclosure is in the audit log, by whom and about whom.
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("refugees.person_disclosed"))
        .order_by_asc(audit_event::Column::Seq)
        .all(&s.db.conn)
        .await
        .unwrap();
    let who: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| (e.actor_label.as_str(), e.object_id.as_deref()))
        .collect();
    let id_s = id.to_string();
    assert_eq!(
        who,
        [
            (s.admin.email.as_str(), Some(id_s.as_str())),
            (dpo.email.as_str(), Some(id_s.as_str()))
        ]
    );
    assert!(events.iter().all(|e| e.tenant_id == s.f.tenant.0));
}
