//! The module over HTTP: the JSON API as the issue specifies it, the pages on the demo data,
//! field-level access (caretaker, social work, foreigners office) and audited record reads,
//! the import flow without JavaScript (upload → report → commit).

use crate::common;

use common::xlsx::{C::*, workbook};
use common::*;
use rathaus_refugees::Refugees;
use rathaus_store::tokens;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, csrf_of, login};
use rathaus_web::{AppState, Module, WebConfig};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::sync::Arc;

const HOST: &str = "a.refugees.test";
const HOST_B: &str = "b.refugees.test";

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

struct World {
    app: TestApp,
    s: Setup,
    b: Setup,
}

async fn world() -> World {
    let tdb = migrated().await;
    let s = tenant(&tdb.db, "a", HOST).await;
    let b = tenant(&tdb.db, "b", HOST_B).await;
    rathaus_refugees::demo::demo(&tdb.db, &s.admin)
        .await
        .unwrap();
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Refugees)];
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    World { app, s, b }
}

async fn get_json(c: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let r = c.get(url).bearer_auth(token).send().await.unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_answers_as_the_issue_says() {
    let w = world().await;
    let c = w.app.client(&[HOST, HOST_B]);
    let base = w.app.url(HOST, "/api/v1/refugees");
    let admin = token(&w.s.db, &w.s.admin).await;
    let caretaker = token(&w.s.db, &w.s.caretaker).await;
    let social = token(&w.s.db, &w.s.social).await;
    let nobody = token(&w.s.db, &w.s.nobody).await;
    let other = token(&w.b.db, &w.b.admin).await;

    // Accommodations on a day.
    let (st, v) = get_json(&c, &format!("{base}/accommodations"), &admin).await;
    assert_eq!(st, 200, "{v}");
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for a in list {
        assert!(a["id"].is_i64() && a["name"].is_string());
        assert_eq!(
            a["capacity"].as_i64().unwrap(),
            a["occupied"].as_i64().unwrap() + a["free"].as_i64().unwrap()
        );
    }
    let (st, v) = get_json(&c, &format!("{base}/accommodations?at=31.02.2026"), &admin).await;
    assert_eq!(st, 422, "{v}");
    let (st, _) = get_json(&c, &format!("{base}/accommodations"), &nobody).await;
    assert_eq!(st, 403);
    let base_b = w.app.url(HOST_B, "/api/v1/refugees");
    let (st, v) = get_json(&c, &format!("{base_b}/accommodations"), &other).await;
    assert_eq!((st, v.as_array().map(Vec::len)), (200, Some(0)));

    // Persons: create, read (audited), patch, list with filters.
    let r = c
        .post(format!("{base}/persons"))
        .bearer_auth(&admin)
        .json(&json!({"surname": "Moradi", "given_names": "Nima", "birth_date": "1995-04-03", "residence_status": "gestattung", "permit_valid_until": "2026-01-15"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    let id = p["id"].as_i64().unwrap();
    let r = c
        .post(format!("{base}/persons"))
        .bearer_auth(&admin)
        .json(&json!({"surname": "  ", "given_names": "X", "birth_date": "2099-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["errors"].to_string().contains("Zukunft"),
        "{problem}"
    );
    let (st, v) = get_json(&c, &format!("{base}/persons/{id}"), &admin).await;
    assert_eq!(st, 200);
    assert_eq!(v["residence"]["status"], "gestattung");
    let (st, v) = get_json(&c, &format!("{base}/persons/{id}"), &caretaker).await;
    assert_eq!(st, 200);
    assert!(
        v.get("residence").is_none() && v.get("social").is_none(),
        "{v}"
    );
    let (_, v) = get_json(&c, &format!("{base}/persons/{id}"), &social).await;
    assert!(
        v.get("residence").is_none() && v["social"]["birth_date"] == "1995-04-03",
        "{v}"
    );
    let (st, _) = get_json(&c, &format!("{base_b}/persons/{id}"), &other).await;
    assert_eq!(st, 404);
    let r = c
        .patch(format!("{base}/persons/{id}"))
        .bearer_auth(&admin)
        .json(&json!({"phone": "0151 1234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (st, v) = get_json(
        &c,
        &format!("{base}/persons?permit_expires_before=2026-02-01&limit=10"),
        &admin,
    )
    .await;
    assert_eq!(st, 200);
    assert!(v["total"].as_u64().unwrap() >= 1, "{v}");
    let (st, _) = get_json(&c, &format!("{base}/persons?status=duldung"), &caretaker).await;
    assert_eq!(st, 403, "filtering by residence data needs the permission");
    let (st, v) = get_json(&c, &format!("{base}/persons?q=haddad"), &caretaker).await;
    assert_eq!((st, v["total"].as_u64()), (200, Some(3)));
    // An offset beyond the documented maximum is refused, not answered with an empty page.
    let (st, v) = get_json(&c, &format!("{base}/persons?offset=2147483648"), &admin).await;
    assert_eq!(
        (st, v["errors"][0]["field"].as_str()),
        (422, Some("offset"))
    );
    let (st, v) = get_json(&c, &format!("{base}/persons?limit=501"), &admin).await;
    assert_eq!((st, v["errors"][0]["field"].as_str()), (422, Some("limit")));

    // Free beds and a check-in; the same bed again is 409.
    let (st, beds) = get_json(&c, &format!("{base}/beds?free_at=2030-01-01"), &admin).await;
    assert_eq!(st, 200);
    let bed = beds.as_array().unwrap()[0]["id"].as_i64().unwrap();
    let body = json!({"person_id": id, "bed_id": bed, "from": "2030-01-01", "until": "2030-02-01"});
    let r = c
        .post(format!("{base}/occupancies"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let nima2 = c
        .post(format!("{base}/persons"))
        .bearer_auth(&admin)
        .json(&json!({"surname": "Moradi", "given_names": "Leyla", "birth_date": "1997-01-01"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let body = json!({"person_id": nima2, "bed_id": bed, "from": "2030-01-31"});
    let r = c
        .post(format!("{base}/occupancies"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body =
        json!({"person_id": nima2, "bed_id": bed, "from": "2030-02-01", "until": "2030-01-01"});
    let r = c
        .post(format!("{base}/occupancies"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "check-out before check-in");
    let (_, beds2) = get_json(&c, &format!("{base}/beds?free_at=2030-01-15"), &admin).await;
    assert!(
        beds2
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["id"].as_i64() != Some(bed))
    );

    // Statistics.
    let (st, v) = get_json(&c, &format!("{base}/statistics?month=2026-12"), &admin).await;
    assert_eq!(st, 200, "{v}");
    assert!(v["by_status"].is_object());
    let (st, _) = get_json(&c, &format!("{base}/statistics?month=13-2026"), &admin).await;
    assert_eq!(st, 422);

    // Import: dry run 200, errors with dry_run=false 422 and nothing written.
    let bad = workbook(&[(
        "Haus",
        vec![
            vec![S("Name"), S("Zimmer"), S("Einzug")],
            vec![E, S("1"), S("01.01.2024")],
        ],
    )]);
    let form = || Form::new().part("file", Part::bytes(bad.clone()).file_name("liste.xlsx"));
    let r = c
        .post(format!("{base}/imports?dry_run=true"))
        .bearer_auth(&admin)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["committed"], false);
    assert_eq!(rep["errors"][0]["row"], 2);
    assert_eq!(rep["errors"][0]["column"], "Name");
    assert_eq!(rep["errors"][0]["sheet"], "Haus");
    let r = c
        .post(format!("{base}/imports?dry_run=false"))
        .bearer_auth(&admin)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(format!("{base}/imports"))
        .bearer_auth(&caretaker)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let doc: Value = c
        .get(w.app.url(HOST, "/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/refugees/imports",
        "/api/v1/refugees/persons/{id}",
        "/api/v1/refugees/occupancies",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} not in the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn pages_show_each_role_only_its_fields_and_reads_are_audited() {
    let w = world().await;
    let base = w.app.url(HOST, "");
    let persons = rathaus_refugees::service::persons::list_persons(
        &w.s.db.conn,
        Actor::User(&w.s.admin),
        w.s.f.tenant,
        &rathaus_refugees::service::persons::PersonFilter {
            q: "Haddad".into(),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .0;
    let lina = persons.iter().find(|p| p.given_names == "Lina").unwrap().id;

    let admin = w.app.client(&[HOST]);
    login(&admin, &base, &w.s.admin.email, PASSWORD).await;
    for path in [
        "/unterbringung",
        "/unterbringung/personen",
        "/unterbringung/haushalte",
        "/unterbringung/import",
        "/unterbringung/personen?status=duldung&ablauf_vor=2030-01-01",
    ] {
        let r = admin.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let html = admin
        .get(format!("{base}/unterbringung"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Lindenstraße"), "{html}");
    let acc = html
        .split("/unterbringung/unterkuenfte/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let r = admin
        .get(format!("{base}/unterbringung/unterkuenfte/{acc}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = admin
        .get(format!("{base}/unterbringung/personen/{lina}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("syrisch") && html.contains("Aufenthaltserlaubnis"),
        "{html}"
    );

    let who = |email: String| {
        let c = w.app.client(&[HOST]);
        let base = base.clone();
        async move {
            login(&c, &base, &email, PASSWORD).await;
            c.get(format!("{base}/unterbringung/personen/{lina}"))
                .send()
                .await
                .unwrap()
        }
    };
    let caretaker = who(w.s.caretaker.email.clone()).await;
    assert_eq!(caretaker.status(), 200);
    let html = caretaker.text().await.unwrap();
    assert!(html.contains("Haddad") && html.contains("EG 01"), "{html}");
    assert!(
        !html.contains("syrisch")
            && !html.contains("Aufenthaltserlaubnis")
            && !html.contains("1988"),
        "{html}"
    );
    let html = who(w.s.social.email.clone()).await.text().await.unwrap();
    assert!(
        html.contains("syrisch") && !html.contains("Aufenthaltserlaubnis"),
        "{html}"
    );
    let html = who(w.s.office.email.clone()).await.text().await.unwrap();
    assert!(html.contains("Aufenthaltserlaubnis"), "{html}");
    let r = who(w.s.nobody.email.clone()).await;
    assert_eq!(r.status(), 403);
    // Another tenant's administrator: 404.
    let other = w.app.client(&[HOST_B]);
    let base_b = w.app.url(HOST_B, "");
    login(&other, &base_b, &w.b.admin.email, PASSWORD).await;
    let r = other
        .get(format!("{base_b}/unterbringung/personen/{lina}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Every read of the record is in the audit log (admin, caretaker, social, office).
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let reads = rathaus_store::entity::audit_event::Entity::find()
        .filter(rathaus_store::entity::audit_event::Column::Action.eq("refugees.person_read"))
        .count(&w.s.db.conn)
        .await
        .unwrap();
    assert!(reads >= 4, "{reads}");
}

/// The month's statistics (page and downloads), the person list as CSV/XLSX with each role's
/// columns (audited), and the caretaker's printable list; bad month or format input is a
/// German error that keeps what was typed.
#[tokio::test]
async fn statistics_downloads_and_print_list_show_each_role_its_fields() {
    let w = world().await;
    let base = w.app.url(HOST, "");
    let admin = w.app.client(&[HOST]);
    login(&admin, &base, &w.s.admin.email, PASSWORD).await;
    let get = |c: &reqwest::Client, path: &str| {
        let (c, url) = (c.clone(), format!("{base}{path}"));
        async move { c.get(url).send().await.unwrap() }
    };

    let html = get(&admin, "/unterbringung").await.text().await.unwrap();
    assert!(html.contains("href=\"/unterbringung/statistik\""), "{html}");
    let r = get(&admin, "/unterbringung/statistik").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Monatsstatistik") && html.contains("syrisch"),
        "{html}"
    );
    assert!(
        html.contains("Aufenthaltserlaubnis") && html.contains("<meter"),
        "{html}"
    );
    let r = get(&admin, "/unterbringung/statistik?monat=2026-13").await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Monat als JJJJ-MM") && html.contains("value=\"2026-13\""),
        "{html}"
    );

    let r = get(&admin, "/unterbringung/statistik/export?format=csv").await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}Bereich;Merkmal;Anzahl\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("syrisch;") && csv.contains("Aufenthaltserlaubnis;"),
        "{csv}"
    );
    let r = get(&admin, "/unterbringung/statistik/export?format=xlsx").await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    assert!(
        range
            .rows()
            .any(|r| r[1] == calamine::Data::String("syrisch".into()))
    );
    for bad in ["format=pdf", "monat=11.2026"] {
        let r = get(&admin, &format!("/unterbringung/statistik/export?{bad}")).await;
        assert_eq!(r.status(), 422, "{bad}");
    }

    // The person list with its filter, as the admin (every group) and the caretaker (names).
    let html = get(&admin, "/unterbringung/personen?q=Haddad")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("/unterbringung/personen/export?q=Haddad"),
        "{html}"
    );
    let csv = get(&admin, "/unterbringung/personen/export?q=Haddad&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("Aufenthaltsstatus") && csv.contains("syrisch"),
        "{csv}"
    );
    assert_eq!(csv.matches("Haddad").count(), 3, "{csv}");
    let caretaker = w.app.client(&[HOST]);
    login(&caretaker, &base, &w.s.caretaker.email, PASSWORD).await;
    let r = get(
        &caretaker,
        "/unterbringung/personen/export?q=Haddad&format=xlsx",
    )
    .await;
    assert_eq!(r.status(), 200);
    let mut wb =
        calamine::Xlsx::new(std::io::Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    let cells: Vec<String> = range.cells().map(|(_, _, c)| c.to_string()).collect();
    assert!(cells.iter().any(|c| c == "Haddad"), "{cells:?}");
    assert!(
        !cells
            .iter()
            .any(|c| c == "syrisch" || c == "Aufenthaltsstatus" || c == "Geburtsdatum"),
        "{cells:?}"
    );
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let exports = rathaus_store::entity::audit_event::Entity::find()
        .filter(rathaus_store::entity::audit_event::Column::Action.eq("refugees.persons_exported"))
        .count(&w.s.db.conn)
        .await
        .unwrap();
    assert_eq!(exports, 2);

    // The print list: names, rooms and beds only, even for the admin.
    let html = get(&admin, "/unterbringung").await.text().await.unwrap();
    let before = html
        .split(">Gemeinschaftsunterkunft Lindenstraße<")
        .next()
        .unwrap();
    let acc = before
        .rsplit("/unterbringung/unterkuenfte/")
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let html = get(&admin, &format!("/unterbringung/unterkuenfte/{acc}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("/unterbringung/unterkuenfte/{acc}/belegungsliste")),
        "{html}"
    );
    let r = get(
        &caretaker,
        &format!("/unterbringung/unterkuenfte/{acc}/belegungsliste"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = get(
        &admin,
        &format!("/unterbringung/unterkuenfte/{acc}/belegungsliste"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        html.contains("Belegungsliste") && html.contains("Haddad"),
        "{html}"
    );
    assert!(
        !html.contains("syrisch") && !html.contains("Aufenthaltserlaubnis"),
        "{html}"
    );

    // Without the module's permission: 403; another tenant's admin finds no accommodation.
    let nobody = w.app.client(&[HOST]);
    login(&nobody, &base, &w.s.nobody.email, PASSWORD).await;
    for path in [
        "/unterbringung/statistik".to_string(),
        "/unterbringung/statistik/export".into(),
        "/unterbringung/personen/export".into(),
        format!("/unterbringung/unterkuenfte/{acc}/belegungsliste"),
    ] {
        assert_eq!(get(&nobody, &path).await.status(), 403, "{path}");
    }
    let other = w.app.client(&[HOST_B]);
    let base_b = w.app.url(HOST_B, "");
    login(&other, &base_b, &w.b.admin.email, PASSWORD).await;
    let r = other
        .get(format!(
            "{base_b}/unterbringung/unterkuenfte/{acc}/belegungsliste"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn import_flow_without_javascript_and_household_move() {
    let w = world().await;
    let base = w.app.url(HOST, "");
    let admin = w.app.client(&[HOST]);
    login(&admin, &base, &w.s.admin.email, PASSWORD).await;
    let html = admin
        .get(format!("{base}/unterbringung/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let book = workbook(&[
        (
            "Kapazität",
            vec![
                vec![S("Unterkunft"), S("Zimmer"), S("Betten")],
                vec![S("Haus Eiche"), S("1"), N(2.0)],
            ],
        ),
        (
            "Haus Eiche",
            vec![
                vec![
                    S("Nachname"),
                    S("Vorname"),
                    S("Geburtsdatum"),
                    S("Raum"),
                    S("Einzug"),
                ],
                vec![
                    S("Sorokin"),
                    S("Ivan"),
                    D(1970, 1, 1),
                    S("1"),
                    S("01.01.2024"),
                ],
            ],
        ),
    ]);
    let form = Form::new().part("file", Part::bytes(book).file_name("liste.xlsx"));
    let r = admin
        .post(format!("{base}/unterbringung/import?_csrf={csrf}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Jetzt übernehmen"), "{html}");
    let fid = html
        .split("name=\"file_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = admin
        .post(format!("{base}/unterbringung/import/uebernehmen"))
        .form(&[("_csrf", csrf.as_str()), ("file_id", fid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("übernommen"));
    let html = admin
        .get(format!("{base}/unterbringung/personen?q=sorokin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sorokin"), "{html}");

    // A file with errors: 422 with the report, no commit button.
    let bad = workbook(&[(
        "Liste",
        vec![
            vec![S("Name"), S("Zimmer"), S("Einzug")],
            vec![S("X"), S("1"), S("31.02.2024")],
        ],
    )]);
    let r = admin
        .post(format!("{base}/unterbringung/import?_csrf={csrf}"))
        .multipart(Form::new().part("file", Part::bytes(bad).file_name("x.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("kein gültiges Datum") && !html.contains("Jetzt übernehmen"),
        "{html}"
    );

    // Moving a household with a plain form.
    let html = admin
        .get(format!("{base}/unterbringung/haushalte"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = html
        .split("action=\"/unterbringung/haushalte/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let room = html
        .split("<option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = admin
        .post(format!("{base}/unterbringung/haushalte/{action}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("room_id", room.as_str()),
            ("on", "2031-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = admin
        .get(format!("{base}/unterbringung/haushalte?erledigt=umgezogen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("umgezogen"));
}
