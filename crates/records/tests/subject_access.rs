//! The subject access export (Art. 15 DSGVO) over the pages, on both databases: the ZIP holds
//! the person's documents (by name in any order and birth date) and a readable index, not
//! another person's, and only what the requester may see; anonymous callers and users without
//! the permission are refused; every export is audited; bad input shows the form again with
//! the typed values and changes nothing.

use rathaus_core::Principal;
use rathaus_records::Records;
use rathaus_records::permissions::{MANAGE, SUBJECT_ACCESS, VIEW};
use rathaus_records::service::documents::{self, DocumentInput};
use rathaus_records::service::files::{self, FileInput};
use rathaus_records::service::plan::{self, PlanItemInput};
use rathaus_store::Db;
use rathaus_store::entity::audit_event;
use rathaus_store::files::{FileStore, Limits};
use rathaus_store::uow::{Actor, scoped};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture, user_with};
use rathaus_web::Module;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::io::Read;
use std::sync::Arc;

const HOST: &str = "auskunft.a.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Records)]
}

/// A file about `name` born on `birth`, with one text document; returns its Aktenzeichen.
async fn file_with_doc(
    db: &Db,
    store: &FileStore,
    admin: &Principal,
    kind: &str,
    name: &str,
    birth: &str,
    doc: (&str, &str),
) -> String {
    let f = files::create(
        &db.conn,
        Actor::User(admin),
        admin.tenant_id,
        &FileInput {
            plan_code: "100".into(),
            title: format!("Akte {}", doc.0),
            kind: kind.into(),
            subject_name: name.into(),
            subject_birth_date: birth.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    documents::add(
        db,
        store,
        Actor::User(admin),
        admin.tenant_id,
        f.id,
        &DocumentInput {
            title: doc.0.into(),
            doc_date: "2026-03-01".into(),
            ..Default::default()
        },
        Limits {
            max_size: 1_000_000,
            quota: None,
        },
        &format!("{}.txt", doc.0),
        futures_util::stream::iter([Ok(bytes::Bytes::from(doc.1.to_string()))]),
    )
    .await
    .unwrap();
    f.file_number
}

/// The ZIP's entries: name → content.
fn entries(zip: &[u8]) -> Vec<(String, String)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            (f.name().unwrap().to_string(), s)
        })
        .collect()
}

async fn audits(db: &Db, t: rathaus_core::TenantId) -> Vec<audit_event::Model> {
    scoped::<audit_event::Entity>(t)
        .filter(audit_event::Column::Action.eq("records.subject_access"))
        .order_by_asc(audit_event::Column::Seq)
        .all(&db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn subject_access_zip_holds_the_persons_documents_and_is_audited() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let t = a.tenant;
    let admin = rathaus_testkit::principal(&db, t, a.admin).await;
    plan::create(
        &db.conn,
        Actor::User(&admin),
        t,
        &PlanItemInput {
            code: "100".into(),
            title: "Allgemeines".into(),
            retention_years: "5".into(),
            retention_start: String::new(),
            disposition: "V".into(),
        },
    )
    .await
    .unwrap();
    let store = st.files.clone();
    let own = file_with_doc(
        &db,
        &store,
        &admin,
        "general",
        "Erika Mustermann",
        "1970-01-01",
        ("Bauantrag Gartenhaus", "Antrag von Erika"),
    )
    .await;
    // The same person written the other way round, in a Wohngeld file.
    let social = file_with_doc(
        &db,
        &store,
        &admin,
        "wohngeld",
        "Mustermann,  Erika",
        "01.01.1970",
        ("Wohngeldbescheid", "Bescheid für Erika"),
    )
    .await;
    // Same name, other birth date; other name, same birth date: other people.
    let namesake = file_with_doc(
        &db,
        &store,
        &admin,
        "general",
        "Erika Mustermann",
        "1980-05-05",
        ("Fremder Antrag", "Namensvetterin"),
    )
    .await;
    let other = file_with_doc(
        &db,
        &store,
        &admin,
        "general",
        "Max Muster",
        "1970-01-01",
        ("Max Antrag", "Max"),
    )
    .await;
    // Data protection: may disclose and read general files, not Wohngeld files.
    let dpo = user_with(
        &db,
        t,
        "datenschutz@a.example",
        "Dana Datenschutz",
        &[SUBJECT_ACCESS, VIEW],
    )
    .await;
    user_with(&db, t, "leser@a.example", "Lea Leser", &[VIEW, MANAGE]).await;
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let url = format!("{base}/akten/auskunft");

    // Anonymous: to the login, also the post; a reader without the permission: 403.
    let anon = app.client(&[HOST]);
    let r = anon.get(&url).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let home = anon
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = anon
        .post(&url)
        .form(&[
            ("_csrf", csrf_of(&home).as_str()),
            ("name", "Erika Mustermann"),
            ("birth_date", "1970-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let reader = app.client(&[HOST]);
    login(&reader, &base, "leser@a.example", PASSWORD).await;
    assert_eq!(reader.get(&url).send().await.unwrap().status(), 403);
    let start = reader
        .get(format!("{base}/akten"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!start.contains("/akten/auskunft"));
    let home = reader
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = reader
        .post(&url)
        .form(&[
            ("_csrf", csrf_of(&home).as_str()),
            ("name", "Erika Mustermann"),
            ("birth_date", "1970-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(audits(&db, t).await.is_empty());

    // The data protection officer reaches the form from the start page.
    let c = app.client(&[HOST]);
    login(&c, &base, "datenschutz@a.example", PASSWORD).await;
    let start = c
        .get(format!("{base}/akten"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(start.contains("href=\"/akten/auskunft\""), "{start}");
    let form = c.get(&url).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let k = csrf_of(&form.text().await.unwrap());

    // Without the CSRF token: refused.
    let r = c
        .post(&url)
        .form(&[("name", "Erika Mustermann"), ("birth_date", "1970-01-01")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Bad input: the form again with the typed values and German errors; nothing audited.
    for (name, birth, kept) in [
        ("", "1970-01-01", "value=\"1970-01-01\""),
        (
            "Erika Mustermann",
            "31.02.1970",
            "value=\"Erika Mustermann\"",
        ),
        ("Erika Mustermann", "", "value=\"Erika Mustermann\""),
    ] {
        let r = c
            .post(&url)
            .form(&[("_csrf", k.as_str()), ("name", name), ("birth_date", birth)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{name} {birth}");
        let body = r.text().await.unwrap();
        assert!(body.contains(kept), "{kept} in {body}");
        assert!(body.contains(&format!("value=\"{birth}\"")), "{body}");
        assert!(body.contains("aria-invalid=\"true\""), "{body}");
        assert!(body.contains("Bitte"), "{body}");
    }
    assert!(audits(&db, t).await.is_empty());

    // The export: the general file's document and the index, nothing of the Wohngeld file
    // (not readable for this user) nor of the other people.
    let r = c
        .post(&url)
        .form(&[
            ("_csrf", k.as_str()),
            ("name", "  erika   MUSTERMANN "),
            ("birth_date", "01.01.1970"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".zip")
    );
    let zip = r.bytes().await.unwrap();
    let got = entries(&zip);
    assert_eq!(got.len(), 2, "{got:?}");
    let index = &got.iter().find(|(n, _)| n == "index.html").unwrap().1;
    for s in [
        "Auskunft nach Art. 15 DSGVO",
        "erika   MUSTERMANN",
        "01.01.1970",
        own.as_str(),
        "Akte Bauantrag Gartenhaus",
        "Bauantrag Gartenhaus",
        "01.03.2026",
        "Dana Datenschutz",
    ] {
        assert!(index.contains(s), "{s} in {index}");
    }
    for s in [
        social.as_str(),
        namesake.as_str(),
        other.as_str(),
        "Wohngeldbescheid",
    ] {
        assert!(!index.contains(s), "{s} in {index}");
    }
    let doc = got.iter().find(|(n, _)| n != "index.html").unwrap();
    assert_eq!(doc.1, "Antrag von Erika");
    assert!(doc.0.ends_with("Bauantrag_Gartenhaus.txt"), "{}", doc.0);
    assert!(index.contains(&format!("href=\"{}\"", doc.0)), "{index}");

    // Audited: who, for whom, how many.
    let ev = audits(&db, t).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].actor_id, Some(dpo.user_id.0));
    let d: serde_json::Value = serde_json::from_str(&ev[0].details).unwrap();
    assert_eq!(d["name"], "erika   MUSTERMANN");
    assert_eq!(d["birth_date"], "1970-01-01");
    assert_eq!(
        (d["files"].as_i64(), d["documents"].as_i64()),
        (Some(1), Some(1))
    );

    // The admin sees the Wohngeld file too; its opening is in the read audit.
    let adm = app.client(&[HOST]);
    login(&adm, &base, &a.admin_email, PASSWORD).await;
    let page = adm.get(&url).send().await.unwrap().text().await.unwrap();
    let r = adm
        .post(&url)
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("name", "Erika Mustermann"),
            ("birth_date", "1970-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = entries(&r.bytes().await.unwrap());
    assert_eq!(got.len(), 3, "{got:?}");
    let index = &got.iter().find(|(n, _)| n == "index.html").unwrap().1;
    assert!(index.contains(&own) && index.contains(&social), "{index}");
    assert!(!index.contains(&namesake) && !index.contains(&other));
    assert!(got.iter().any(|(_, c)| c == "Bescheid für Erika"));
    assert_eq!(audits(&db, t).await.len(), 2);
    let reads = scoped::<audit_event::Entity>(t)
        .filter(audit_event::Column::Action.eq(files::READ_FILE))
        .filter(audit_event::Column::Details.contains("subject_access"))
        .count(&db.conn)
        .await
        .unwrap();
    assert_eq!(reads, 1);

    // Nobody found: an index that says so.
    let r = adm
        .post(&url)
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("name", "Niemand Unbekannt"),
            ("birth_date", "1999-09-09"),
        ])
        .send()
        .await
        .unwrap();
    let got = entries(&r.bytes().await.unwrap());
    assert_eq!(got.len(), 1);
    assert!(got[0].1.contains("keine Akten"), "{}", got[0].1);
}
