//! Changing a person: the HTML form at the person page (the groups the editor may see, German
//! errors that keep what was typed, CSRF, audited) and its API counterpart (PATCH with
//! problem documents); callers without `refugees.edit` and anonymous ones are refused, and an
//! anonymised person cannot be changed.

use crate::common;

use common::*;
use rathaus_refugees::Refugees;
use rathaus_refugees::store::person;
use rathaus_store::entity::audit_event;
use rathaus_store::tokens;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, csrf_of, login};
use rathaus_web::{AppState, Module, WebConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::sync::Arc;

const HOST: &str = "a.refugees.test";
const HOST_B: &str = "b.refugees.test";

struct World {
    app: TestApp,
    s: Setup,
    b: Setup,
    base: String,
}

async fn world() -> World {
    let tdb = migrated().await;
    let s = tenant(&tdb.db, "a", HOST).await;
    let b = tenant(&tdb.db, "b", HOST_B).await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Refugees)];
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    World { app, s, b, base }
}

impl World {
    async fn signed_in(&self, email: &str) -> reqwest::Client {
        let c = self.app.client(&[HOST, HOST_B]);
        assert_eq!(login(&c, &self.base, email, PASSWORD).await.status(), 303);
        c
    }
}

async fn get(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts the form with the CSRF token of the edit page (taken from `csrf_page`).
async fn post(
    c: &reqwest::Client,
    url: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    c.post(url).form(&all).send().await.unwrap()
}

async fn row(s: &Setup, id: i64) -> person::Model {
    person::Entity::find_by_id(id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap()
}

async fn changes(s: &Setup, id: i64) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("refugees.person_changed"))
        .filter(audit_event::Column::ObjectId.eq(id.to_string()))
        .order_by_asc(audit_event::Column::Id)
        .all(&s.db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn staff_with_the_edit_permission_change_a_person_on_the_form() {
    let w = world().await;
    let s = &w.s;
    let id = person(s, "Okafor").await;
    let page = format!("{}/unterbringung/personen/{id}", w.base);
    let form = format!("{page}/bearbeiten");
    let admin = w.signed_in(&s.admin.email).await;

    // The record links to the form; the form shows what is stored.
    let (st, html) = get(&admin, &page).await;
    assert_eq!(st, 200);
    assert!(html.contains(&format!("href=\"/unterbringung/personen/{id}/bearbeiten\"")));
    let (st, html) = get(&admin, &form).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("value=\"Okafor\""), "{html}");
    assert!(html.contains("value=\"1990-05-01\""));
    assert!(html.contains("<option value=\"duldung\" selected>"));
    assert!(html.contains("Braucht Dolmetscher"));
    let csrf = csrf_of(&html);

    // A valid change (German date format too) goes in and comes back to the record.
    let r = post(
        &admin,
        &form,
        &csrf,
        &[
            ("surname", "Okafor-Weber"),
            ("given_names", "Amara"),
            ("birth_date", "02.06.1991"),
            ("nationality", "nigerianisch"),
            ("sex", "female"),
            ("languages", "Englisch, Igbo"),
            ("phone", "0151 2345678"),
            ("needs", "wheelchair"),
            ("needs", "infants"),
            ("notes", "Termin beim Sozialamt am Montag"),
            ("residence_status", "erlaubnis"),
            ("residence_paragraph", "§ 25 Abs. 2 AufenthG"),
            ("permit_valid_until", "2028-03-31"),
            ("allocation_date", "2024-02-01"),
            ("allocation_ref", "ZU-2024-17"),
            ("benefits_ref", "AsylbLG 4711"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("/unterbringung/personen/{id}?gespeichert=1"));
    let (_, html) = get(&admin, &format!("{}{to}", w.base)).await;
    assert!(
        html.contains("Die Änderungen wurden gespeichert."),
        "{html}"
    );
    assert!(html.contains("Okafor-Weber"));
    let m = row(s, id).await;
    assert_eq!(m.surname, "Okafor-Weber");
    assert_eq!(m.given_names, "Amara");
    assert_eq!(m.birth_date, Some(d("1991-06-02")));
    assert_eq!(m.sex, "female");
    assert_eq!(m.needs, "wheelchair,infants");
    assert_eq!(m.residence_status, "erlaubnis");
    assert_eq!(m.residence_paragraph, "§ 25 Abs. 2 AufenthG");
    assert_eq!(m.permit_valid_until, Some(d("2028-03-31")));
    assert_eq!(m.allocation_date, Some(d("2024-02-01")));
    assert_eq!(m.benefits_ref, "AsylbLG 4711");

    // Audited in the same transaction: who, and which fields (never the values).
    let ev = changes(s, id).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].actor_id, Some(s.admin.user_id.0));
    let details: Value = serde_json::from_str(&ev[0].details).unwrap();
    let fields: Vec<&str> = details["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(fields.contains(&"surname") && fields.contains(&"birth_date"));
    assert!(fields.contains(&"residence_status") && fields.contains(&"needs"));
    assert!(!ev[0].details.contains("Okafor"), "{}", ev[0].details);

    // Bad input: refused with German messages beside the fields, the typed values kept,
    // nothing written.
    let before = row(s, id).await;
    let r = post(
        &admin,
        &form,
        &csrf,
        &[
            ("surname", "   "),
            ("given_names", "Amara Typed"),
            ("birth_date", "31.02.2020"),
            ("nationality", "getippt-ungueltig"),
            ("permit_valid_until", "irgendwann"),
            ("residence_status", "erlaubnis"),
            ("notes", "neu getippt"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Bitte füllen Sie dieses Feld aus."), "{html}");
    assert!(html.contains("Bitte ein gültiges Datum angeben (TT.MM.JJJJ)."));
    assert!(html.contains("value=\"31.02.2020\""));
    assert!(html.contains("value=\"irgendwann\""));
    assert!(html.contains("value=\"Amara Typed\""));
    assert!(html.contains("value=\"getippt-ungueltig\""));
    assert!(html.contains(">neu getippt</textarea>"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains("role=\"alert\""));
    assert_eq!(row(s, id).await, before);

    // A birth date in the future: the service's own check, in German.
    let future = (rathaus_refugees::service::today() + chrono::Days::new(30)).to_string();
    let r = post(
        &admin,
        &form,
        &csrf,
        &[
            ("surname", "Okafor"),
            ("given_names", "Amara"),
            ("birth_date", &future),
            ("residence_status", "gibtsnicht"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Das Geburtsdatum liegt in der Zukunft."),
        "{html}"
    );
    assert!(html.contains("„gibtsnicht“ ist kein bekannter Aufenthaltsstatus"));
    assert!(html.contains(&format!("value=\"{future}\"")));
    assert_eq!(row(s, id).await, before);
    assert_eq!(changes(s, id).await.len(), 1);

    // Without the CSRF token: refused, nothing written.
    let r = admin
        .post(&form)
        .form(&[("surname", "Ohne Token"), ("given_names", "X")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(row(s, id).await, before);

    // Another tenant's admin: the person does not exist there.
    let other = w.app.client(&[HOST_B]);
    let base_b = w.app.url(HOST_B, "");
    login(&other, &base_b, &w.b.admin.email, PASSWORD).await;
    let (st, html) = get(
        &other,
        &format!("{base_b}/unterbringung/personen/{id}/bearbeiten"),
    )
    .await;
    assert_eq!(st, 404);
    let csrf_b = csrf_of(&html);
    let r = post(
        &other,
        &format!("{base_b}/unterbringung/personen/{id}/bearbeiten"),
        &csrf_b,
        &[("surname", "Fremd"), ("given_names", "X")],
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(row(s, id).await, before);
}

#[tokio::test]
async fn the_form_holds_only_the_groups_the_editor_may_see() {
    let w = world().await;
    let s = &w.s;
    let id = person(s, "Mensah").await;
    let form = format!("{}/unterbringung/personen/{id}/bearbeiten", w.base);
    // The clerk holds `refugees.edit` and `refugees.read_basic`: names only.
    let clerk = w.signed_in(&s.clerk.email).await;
    let (st, html) = get(&clerk, &form).await;
    assert_eq!(st, 200);
    assert!(html.contains("value=\"Mensah\""));
    for hidden in [
        "birth_date",
        "notes",
        "residence_status",
        "1990-05-01",
        "Dolmetscher",
        "duldung",
    ] {
        assert!(!html.contains(hidden), "{hidden} shown to the clerk");
    }
    // Fields of hidden groups in a post are ignored: what is stored stays.
    let before = row(s, id).await;
    let r = post(
        &clerk,
        &form,
        &csrf_of(&html),
        &[
            ("surname", "Mensah-Boateng"),
            ("given_names", "Kofi"),
            ("notes", "überschrieben"),
            ("birth_date", "2000-01-01"),
            ("residence_status", "other"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let m = row(s, id).await;
    assert_eq!(m.surname, "Mensah-Boateng");
    assert_eq!(m.given_names, "Kofi");
    assert_eq!(m.notes, before.notes);
    assert_eq!(m.birth_date, before.birth_date);
    assert_eq!(m.residence_status, before.residence_status);
    assert_eq!(changes(s, id).await.len(), 1);
}

#[tokio::test]
async fn callers_without_the_edit_permission_and_anonymous_ones_are_refused() {
    let w = world().await;
    let s = &w.s;
    let id = person(s, "Asante").await;
    let page = format!("{}/unterbringung/personen/{id}", w.base);
    let form = format!("{page}/bearbeiten");
    let before = row(s, id).await;

    // The caretaker reads the record but sees no link and may not open or post the form.
    let caretaker = w.signed_in(&s.caretaker.email).await;
    let (st, html) = get(&caretaker, &page).await;
    assert_eq!(st, 200);
    assert!(!html.contains("/bearbeiten"));
    let (st, _) = get(&caretaker, &form).await;
    assert_eq!(st, 403);
    let csrf = csrf_of(&html);
    let r = post(
        &caretaker,
        &form,
        &csrf,
        &[("surname", "X"), ("given_names", "Y")],
    )
    .await;
    assert_eq!(r.status(), 403);

    // Without any permission of the module.
    let nobody = w.signed_in(&s.nobody.email).await;
    let (st, html) = get(&nobody, &format!("{}/", w.base)).await;
    assert_eq!(st, 200);
    let r = post(
        &nobody,
        &form,
        &csrf_of(&html),
        &[("surname", "X"), ("given_names", "Y")],
    )
    .await;
    assert_eq!(r.status(), 403);

    // `refugees.edit` without a read permission: neither the form nor a post.
    let blind = rathaus_testkit::user_with(
        &s.db,
        s.f.tenant,
        "blind@a.example",
        "Test Person",
        &[rathaus_refugees::permissions::EDIT],
    )
    .await;
    let blind = w.signed_in(&blind.email).await;
    let (st, _) = get(&blind, &form).await;
    assert_eq!(st, 403);
    let (_, html) = get(&blind, &format!("{}/", w.base)).await;
    let r = post(
        &blind,
        &form,
        &csrf_of(&html),
        &[("surname", "X"), ("given_names", "Y")],
    )
    .await;
    assert_eq!(r.status(), 403);

    // Anonymous: sent to the login, for the form and for a post with a valid CSRF token.
    let anon = w.app.client(&[HOST]);
    let r = anon.get(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let (_, html) = get(&anon, &format!("{}/login", w.base)).await;
    let r = post(
        &anon,
        &form,
        &csrf_of(&html),
        &[("surname", "X"), ("given_names", "Y")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    assert_eq!(row(s, id).await, before);
    assert!(changes(s, id).await.is_empty());
}

#[tokio::test]
async fn an_anonymised_person_cannot_be_changed() {
    use chrono::{Datelike, NaiveDate};
    let w = world().await;
    let s = &w.s;
    let acc = accommodation(s, "Haus am Markt").await;
    let r = room(s, acc, "1", 1).await;
    let bed = beds(s, r.id).await[0];
    let id = person(s, "Boateng").await;
    let t = rathaus_refugees::service::today();
    rathaus_refugees::service::occupancy::check_in(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        rathaus_refugees::service::occupancy::CheckIn {
            person_id: id,
            bed_id: bed,
            from: NaiveDate::from_ymd_opt(t.year() - 10, 1, 1).unwrap(),
            until: NaiveDate::from_ymd_opt(t.year() - 9, 1, 1),
        },
    )
    .await
    .unwrap();
    rathaus_refugees::service::retention::anonymise(&s.db.conn, s.f.tenant, t)
        .await
        .unwrap();
    let admin = w.signed_in(&s.admin.email).await;
    let page = format!("{}/unterbringung/personen/{id}", w.base);
    let (_, html) = get(&admin, &page).await;
    assert!(!html.contains("/bearbeiten"));
    let (st, html) = get(&admin, &format!("{page}/bearbeiten")).await;
    assert_eq!(st, 409);
    assert!(html.contains("anonymisiert"), "{html}");
    let r = post(
        &admin,
        &format!("{page}/bearbeiten"),
        &csrf_of(&html),
        &[("surname", "Wieder"), ("given_names", "Da")],
    )
    .await;
    assert_eq!(r.status(), 409);
    // The API answers the same, as a problem document with the German reason.
    let tok = token(&s.db, &s.admin).await;
    let r = w
        .app
        .client(&[HOST])
        .patch(w.app.url(HOST, &format!("/api/v1/refugees/persons/{id}")))
        .bearer_auth(&tok)
        .json(&json!({"surname": "Wieder"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let p: Value = r.json().await.unwrap();
    assert!(
        p["detail"].as_str().unwrap().contains("anonymisiert"),
        "{p}"
    );
    assert_eq!(row(s, id).await.surname, "");
}

async fn token(db: &rathaus_store::Db, who: &rathaus_core::Principal) -> String {
    tokens::create(
        &db.conn,
        who.tenant_id,
        who.user_id,
        Actor::system("test"),
        "Test",
    )
    .await
    .unwrap()
    .0
}

#[tokio::test]
async fn the_api_changes_a_person_with_problem_documents() {
    let w = world().await;
    let s = &w.s;
    let id = person(s, "Diallo").await;
    let c = w.app.client(&[HOST]);
    let url = w.app.url(HOST, &format!("/api/v1/refugees/persons/{id}"));
    let admin = token(&s.db, &s.admin).await;
    let caretaker = token(&s.db, &s.caretaker).await;
    let before = row(s, id).await;

    let patch = |tok: Option<&str>, body: Value| {
        let mut r = c.patch(&url).json(&body);
        if let Some(t) = tok {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    // Anonymous and without the permission.
    let r = patch(None, json!({"surname": "X"})).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = patch(Some(&caretaker), json!({"surname": "X"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    // Bad input: 422 with the fields and German messages.
    let r = patch(
        Some(&admin),
        json!({"surname": "", "birth_date": "31.02.2020"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"birth_date"), "{p}");
    let r = patch(Some(&admin), json!({"surname": ""})).await.unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "surname");
    assert_eq!(
        p["errors"][0]["message"],
        "Bitte füllen Sie dieses Feld aus."
    );
    assert_eq!(row(s, id).await, before);
    // A good change: 200 with the person, audited.
    let r = patch(
        Some(&admin),
        json!({"surname": "Diallo-Bah", "permit_valid_until": "2029-12-31"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["surname"], "Diallo-Bah");
    let m = row(s, id).await;
    assert_eq!(m.permit_valid_until, Some(d("2029-12-31")));
    assert_eq!(changes(s, id).await.len(), 1);
    // Another tenant's token: not found.
    let other = token(&w.b.db, &w.b.admin).await;
    let c_b = w.app.client(&[HOST_B]);
    let r = c_b
        .patch(w.app.url(HOST_B, &format!("/api/v1/refugees/persons/{id}")))
        .bearer_auth(&other)
        .json(&json!({"surname": "Fremd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(row(s, id).await.surname, "Diallo-Bah");
}
