//! Retention and the archive hand-over end to end on both databases (SQLite, or PostgreSQL
//! with RATHAUS_TEST_DATABASE_URL): the due list with its access filter, the deletion run of
//! V files with a fault injected half-way (nothing half-deleted, the run resumes), the offer
//! with its state machine (0501, 0504, 0502 → 0505 with V files deleted, the streamed 0503
//! ZIP, 0507, 0506 with success and failure), bad messages that change nothing, every
//! message we write validated with xmllint against the xdomea 3.0.0 schema, the history in
//! the audit chain, and refusals of anonymous callers and users without `records.disposal`.

use chrono::Utc;
use rathaus_core::TenantId;
use rathaus_records::Records;
use rathaus_records::permissions::{DISPOSAL, MANAGE, VIEW};
use rathaus_records::service::disposal;
use rathaus_records::service::files::{self, FileInput};
use rathaus_records::store::entity::{deletion, document, file, offer_file, version};
use rathaus_store::entity::{audit_event, file as stored};
use rathaus_store::uow::{Actor, scoped};
use rathaus_store::{Db, tokens};
use rathaus_testkit::{TestApp, TestDb, tenant_fixture, user_with};
use rathaus_web::Module;
use rathaus_xdomea::{self as x, Message};
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

const HOST: &str = "aussonderung.a.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Records)]
}

async fn token(db: &Db, tenant: TenantId, user: rathaus_core::UserId) -> String {
    tokens::create(&db.conn, tenant, user, Actor::system("test"), "Test")
        .await
        .unwrap()
        .0
}

/// The schema: `RATHAUS_XDOMEA_XSD_DIR` or `../shared/standards/xdomea-3.0.0` beside the
/// repository (as in crates/xdomea/tests).
fn xsd() -> PathBuf {
    let dir = match std::env::var_os("RATHAUS_XDOMEA_XSD_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/standards/xdomea-3.0.0")
        }
    };
    let f = dir.join("xdomea-Nachrichten-AussonderungDurchfuehren.xsd");
    assert!(
        f.exists(),
        "xdomea schema not found at {} (set RATHAUS_XDOMEA_XSD_DIR)",
        f.display()
    );
    f
}

/// Validates with `xmllint --schema`; fails (never skips) when xmllint is missing.
fn validate(xml: &str) {
    let ok = Command::new("xmllint")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "xmllint is missing: install Debian libxml2-utils (apt-get install -y libxml2-utils; scripts/test does it)"
    );
    let mut child = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(xsd())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(xml.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "xmllint rejected the message:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        xml.chars().take(3000).collect::<String>()
    );
}

fn archive() -> x::Party {
    x::Party {
        name: "Landesarchiv Thüringen – Staatsarchiv Gotha".into(),
        ..Default::default()
    }
}

fn header(pid: x::ProcessId) -> x::Header {
    x::Header {
        process_id: pid,
        created_at: Utc::now(),
        sender: archive(),
        recipient: x::Party {
            name: "Gemeinde Großenlüder".into(),
            ..Default::default()
        },
    }
}

fn appraisal_xml(pid: x::ProcessId, decisions: &[(i64, x::Disposition)]) -> String {
    let m = x::Appraisal {
        header: header(pid),
        request_receipt: true,
        decisions: decisions
            .iter()
            .map(|(id, d)| x::Decision {
                id: x::ObjectId::derived(pid.0, x::ObjectKind::File, *id),
                disposition: *d,
            })
            .collect(),
    };
    let xml = m.to_xml().unwrap();
    validate(&xml);
    xml
}

fn receipt_xml(pid: x::ProcessId, kind: x::ReceiptKind) -> String {
    let xml = x::Receipt {
        kind,
        header: header(pid),
    }
    .to_xml()
    .unwrap();
    validate(&xml);
    xml
}

fn import_xml(pid: x::ProcessId, results: &[(i64, bool)]) -> String {
    let xml = x::ImportConfirmation {
        header: header(pid),
        results: results
            .iter()
            .map(|(id, ok)| x::ImportResult {
                id: x::ObjectId::derived(pid.0, x::ObjectKind::File, *id),
                success: *ok,
                error: (!ok).then(|| "Primärdatei nicht lesbar".to_string()),
                archive_id: ok.then(|| format!("StA Gotha, Best. 1-{id}")),
            })
            .collect(),
    }
    .to_xml()
    .unwrap();
    validate(&xml);
    xml
}

/// An open file, opened in 1999.
async fn new_file(db: &Db, t: TenantId, plan: &str, kind: &str, title: &str) -> i64 {
    files::create(
        &db.conn,
        Actor::system("test"),
        t,
        &FileInput {
            plan_code: plan.into(),
            title: title.into(),
            kind: kind.into(),
            opened_on: "1999-02-01".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn state(db: &Db, t: TenantId, id: i64) -> Option<String> {
    scoped::<file::Entity>(t)
        .filter(file::Column::Id.eq(id))
        .one(&db.conn)
        .await
        .unwrap()
        .map(|f| f.state)
}

/// Documents, versions and stored file references of one file.
async fn content_of(db: &Db, t: TenantId, id: i64) -> (u64, u64, u64) {
    let docs = scoped::<document::Entity>(t)
        .filter(document::Column::FileId.eq(id))
        .all(&db.conn)
        .await
        .unwrap();
    let ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
    let vs = scoped::<version::Entity>(t)
        .filter(version::Column::DocumentId.is_in(ids))
        .all(&db.conn)
        .await
        .unwrap();
    let refs: Vec<i64> = vs.iter().map(|v| v.file_ref).collect();
    let stored = scoped::<stored::Entity>(t)
        .filter(stored::Column::Id.is_in(refs))
        .count(&db.conn)
        .await
        .unwrap();
    (docs.len() as u64, vs.len() as u64, stored)
}

#[tokio::test]
async fn due_list_deletion_run_and_archive_hand_over() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let t = a.tenant;
    let viewer = user_with(&db, t, "leser@a.example", "Lea Leser", &[VIEW, MANAGE]).await;
    let officer = user_with(&db, t, "archiv@a.example", "Arne Archiv", &[VIEW, DISPOSAL]).await;
    let files_store = st.files.clone();
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let admin = token(&db, t, a.admin).await;
    let clerk = token(&db, t, a.clerk).await;
    let view_tok = token(&db, t, viewer.user_id).await;
    let officer_tok = token(&db, t, officer.user_id).await;
    let c = app.client(&[HOST]);
    let api = |p: &str| format!("{base}/api/v1/records/disposal{p}");

    // Anonymous callers, a user without any records permission and a reader/clerk without
    // records.disposal are refused on every route.
    let some = "242f44e8-bebf-4503-a086-db252c6a4277";
    let routes: Vec<(&str, String)> = vec![
        ("GET", api("/due?at=2026-01-01")),
        ("GET", api("/deletions")),
        ("POST", api("/deletions")),
        ("GET", api("/offers")),
        ("POST", api("/offers")),
        ("GET", api(&format!("/offers/{some}"))),
        ("GET", api(&format!("/offers/{some}/message-0501.xml"))),
        ("POST", api(&format!("/offers/{some}/appraisal"))),
        ("GET", api(&format!("/offers/{some}/handover.zip"))),
        ("POST", api(&format!("/offers/{some}/receipt"))),
    ];
    for (m, u) in &routes {
        let req = |tok: Option<&str>| {
            let r = if *m == "GET" {
                c.get(u)
            } else {
                c.post(u).json(&json!({"file_ids": [1]}))
            };
            match tok {
                Some(t) => r.bearer_auth(t),
                None => r,
            }
        };
        assert_eq!(req(None).send().await.unwrap().status(), 401, "{m} {u}");
        for tok in [&clerk, &view_tok] {
            assert_eq!(
                req(Some(tok)).send().await.unwrap().status(),
                403,
                "{m} {u}"
            );
        }
    }

    // Every route is in the OpenAPI document.
    let doc: Value = c
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/records/disposal/due",
        "/api/v1/records/disposal/deletions",
        "/api/v1/records/disposal/offers",
        "/api/v1/records/disposal/offers/{id}",
        "/api/v1/records/disposal/offers/{id}/message-0501.xml",
        "/api/v1/records/disposal/offers/{id}/appraisal",
        "/api/v1/records/disposal/offers/{id}/handover.zip",
        "/api/v1/records/disposal/offers/{id}/receipt",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing in the OpenAPI document"
        );
    }

    // The plan: A, B and V items with short retention.
    for (code, title, years, disp) in [
        ("022", "Allgemeine Verwaltung", 5, "A"),
        ("022.31", "Ratsangelegenheiten", 5, "A"),
        ("460", "Soziales", 5, "B"),
        ("460.12", "Wohngeld", 5, "B"),
        ("105", "Ordnungsangelegenheiten", 2, "V"),
    ] {
        let r = c
            .post(format!("{base}/api/v1/records/plan-items"))
            .bearer_auth(&admin)
            .json(&json!({"code": code, "title": title, "retention_years": years, "disposition": disp}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{code}");
    }
    let a1 = new_file(
        &db,
        t,
        "022.31",
        "general",
        "Ratssitzung über die Straßenbenennung",
    )
    .await;
    let a2 = new_file(&db, t, "460", "general", "Zuschüsse für Vereine „Grün“").await;
    let a3 = new_file(&db, t, "460", "general", "Ablehnungen Jugendförderung").await;
    let wg = new_file(&db, t, "460.12", "wohngeld", "Wohngeld Jörg Müller").await;
    let v1 = new_file(&db, t, "105", "general", "Fundsachen Überlandbus").await;
    let v2 = new_file(&db, t, "105", "general", "Sondernutzung Straßenfest").await;
    let v3 = new_file(&db, t, "105", "general", "Lärmbeschwerden Grünstraße").await;
    let not_due = new_file(&db, t, "022.31", "general", "Ratssitzung 2025").await;
    let open = new_file(&db, t, "022.31", "general", "Offene Akte").await;

    // Documents (umlauts in names and titles), a second version, a case with a document.
    let case_a1 = files::create_case(
        &db.conn,
        Actor::system("test"),
        t,
        a1,
        "Vorgang Ältestenrat",
    )
    .await
    .unwrap()
    .id;
    let mut doc_a1 = 0;
    for (id, case) in [
        (a1, None),
        (a1, Some(case_a1)),
        (a2, None),
        (a3, None),
        (wg, None),
        (v1, None),
        (v2, None),
        (v2, None),
        (v3, None),
    ] {
        let mut form = Form::new()
            .text("title", format!("Schreiben „{id}“ – Übersicht"))
            .part(
                "file",
                Part::bytes(format!("Inhalt der Akte {id}: Äpfel, Öl, Übung.").into_bytes())
                    .file_name(format!("Schreiben Größe {id}.txt")),
            );
        if let Some(cid) = case {
            form = form.text("case_id", cid.to_string());
        }
        let r = c
            .post(format!("{base}/api/v1/records/files/{id}/documents"))
            .bearer_auth(&admin)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        if id == a1 {
            doc_a1 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        }
    }
    let r = c
        .post(format!("{base}/api/v1/records/documents/{doc_a1}/versions"))
        .bearer_auth(&admin)
        .multipart(
            Form::new().part(
                "file",
                Part::bytes("Zweite Fassung: Änderungen übernommen.".as_bytes().to_vec())
                    .file_name("Schreiben Größe v2.txt"),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for (id, on) in [
        (a1, "2000-03-01"),
        (a2, "2000-05-02"),
        (a3, "2001-06-03"),
        (wg, "2000-01-10"),
        (v1, "2000-01-01"),
        (v2, "2000-01-01"),
        (v3, "2000-01-01"),
        (not_due, "2025-03-01"),
    ] {
        files::close(&db.conn, Actor::system("test"), t, id, on)
            .await
            .unwrap();
    }

    // The due list: closed main files whose retention ended, by plan item and disposition,
    // access-filtered (the officer holds no Wohngeld permission).
    let today = rathaus_records::service::today();
    let due: Value = c
        .get(api(&format!("/due?at={today}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(due["total"], 7, "{due}");
    let ids: Vec<i64> = due["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert!(!ids.contains(&not_due) && !ids.contains(&open));
    let group = |d: &Value, code: &str| {
        d["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["plan_code"] == code)
            .map(|g| (g["count"].as_i64().unwrap(), g["disposition"].clone()))
    };
    assert_eq!(group(&due, "105"), Some((3, json!("V"))));
    assert_eq!(group(&due, "460"), Some((2, json!("B"))));
    assert_eq!(group(&due, "460.12"), Some((1, json!("B"))));
    let due_o: Value = c
        .get(api(&format!("/due?at={today}")))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(due_o["total"], 6, "the Wohngeld file stays hidden: {due_o}");
    assert_eq!(group(&due_o, "460.12"), None);
    let v_only: Value = c
        .get(api("/due?at=2026-12-31&disposition=V"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v_only["total"], 3);
    let early: Value = c
        .get(api("/due?at=2002-01-01"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(early["total"], 0);
    for bad in ["/due?at=31.12.2026", "/due?limit=0", "/due?disposition=X"] {
        let r = c
            .get(api(bad))
            .bearer_auth(&officer_tok)
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == 400 || r.status() == 422,
            "{bad}: {}",
            r.status()
        );
    }

    // Deletion run of the V files with a fault injected in the second file: the first is
    // deleted, the second is whole (documents, versions, stored files), the third untouched.
    let before_v2 = content_of(&db, t, v2).await;
    assert_eq!(before_v2, (2, 2, 2));
    let err = disposal::run_deletion_with(
        &db.conn,
        &files_store,
        Actor::User(&officer),
        t,
        &[v1, v2, v3],
        &|id| id == v2,
    )
    .await;
    assert!(err.is_err());
    assert_eq!(state(&db, t, v1).await, None);
    assert_eq!(state(&db, t, v2).await.as_deref(), Some("closed"));
    assert_eq!(content_of(&db, t, v2).await, before_v2);
    assert_eq!(state(&db, t, v3).await.as_deref(), Some("closed"));
    assert_eq!(
        scoped::<deletion::Entity>(t).count(&db.conn).await.unwrap(),
        1
    );
    // The run resumes over the same selection; an A file in it is refused, not deleted.
    let r = c
        .post(api("/deletions"))
        .bearer_auth(&officer_tok)
        .json(&json!({"file_ids": [v1, v2, v3, a1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let run: Value = r.json().await.unwrap();
    assert_eq!(run["already_gone"], 1, "{run}");
    assert_eq!(run["deleted"].as_array().unwrap().len(), 2, "{run}");
    assert_eq!(run["refused"][0]["id"], a1);
    assert_eq!(run["refused"][0]["reason"], "records.disposal.err.not_v");
    assert_eq!(state(&db, t, v2).await, None);
    assert_eq!(content_of(&db, t, v2).await, (0, 0, 0));
    let dels: Vec<Value> = c
        .get(api("/deletions"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dels.len(), 3);
    assert!(
        dels.iter()
            .all(|d| d["reason"] == "retention" && d["plan_code"] == "105")
    );
    assert!(
        dels.iter()
            .any(|d| d["title"] == "Sondernutzung Straßenfest")
    );

    // Offers: files not due, open, V or unknown are refused and nothing changes.
    for (ids, key) in [
        (vec![a1, not_due], "records.disposal.err.not_due"),
        (vec![a1, open], "records.disposal.err.not_closed"),
        (vec![a1, 999_999], "records.disposal.err.unknown_file"),
        (vec![], "records.disposal.err.none_selected"),
    ] {
        let r = c
            .post(api("/offers"))
            .bearer_auth(&officer_tok)
            .json(&json!({ "file_ids": ids }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{ids:?}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{ids:?}"
        );
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["code"], key, "{p}");
        assert_eq!(state(&db, t, a1).await.as_deref(), Some("closed"));
    }
    // The officer may not offer the Wohngeld file (hidden: unknown).
    let r = c
        .post(api("/offers"))
        .bearer_auth(&officer_tok)
        .json(&json!({ "file_ids": [wg] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(api("/offers"))
        .bearer_auth(&officer_tok)
        .json(&json!({ "file_ids": [a1, a2, a3] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let offer_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = x::ProcessId(offer_id.parse().unwrap());
    for id in [a1, a2, a3] {
        assert_eq!(state(&db, t, id).await.as_deref(), Some("offered"));
    }
    let r = c
        .post(api("/offers"))
        .bearer_auth(&officer_tok)
        .json(&json!({ "file_ids": [a1] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "records.disposal.err.offered"
    );
    let oa = |p: &str| api(&format!("/offers/{offer_id}{p}"));

    // 0501: valid against the schema, with umlauts and every file.
    let r = c
        .get(oa("/message-0501.xml"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m0501 = r.text().await.unwrap();
    validate(&m0501);
    assert!(m0501.contains("Straßenbenennung") && m0501.contains("Jugendförderung"));
    assert!(m0501.contains("Vorgang Ältestenrat"));

    // A 0506 or 0507 before the hand-over is a conflict; a 0504 is taken.
    for xml in [
        import_xml(pid, &[(a1, true)]),
        receipt_xml(pid, x::ReceiptKind::HandOver),
    ] {
        let r = c
            .post(oa("/receipt"))
            .bearer_auth(&officer_tok)
            .body(xml)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let p: Value = r.json().await.unwrap();
        assert!(p["detail"].as_str().unwrap().contains("(0503)"), "{p}");
    }
    let r = c
        .post(oa("/receipt"))
        .bearer_auth(&officer_tok)
        .body(receipt_xml(pid, x::ReceiptKind::Offer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The hand-over needs the appraisal first.
    let r = c
        .get(oa("/handover.zip"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // Bad appraisals change nothing: not XML, not the appraisal, another process, a file not
    // offered, a file left undecided, B as a decision, empty.
    let other = x::ProcessId::new_random();
    let bad: Vec<(String, u16, &str)> = vec![
        ("<kaputt".into(), 422, "records.disposal.err.malformed"),
        (
            receipt_xml(pid, x::ReceiptKind::Offer),
            422,
            "records.disposal.err.wrong_type",
        ),
        (
            appraisal_xml(other, &[(a1, x::Disposition::A)]),
            422,
            "records.disposal.err.other_process",
        ),
        (
            appraisal_xml(
                pid,
                &[
                    (a1, x::Disposition::A),
                    (a2, x::Disposition::A),
                    (a3, x::Disposition::V),
                    (v1, x::Disposition::V),
                ],
            ),
            422,
            "records.disposal.err.not_offered",
        ),
        (
            appraisal_xml(pid, &[(a1, x::Disposition::A)]),
            422,
            "records.disposal.err.undecided",
        ),
        (
            appraisal_xml(
                pid,
                &[
                    (a1, x::Disposition::A),
                    (a2, x::Disposition::B),
                    (a3, x::Disposition::V),
                ],
            ),
            422,
            "records.disposal.err.appraisal_b",
        ),
        (String::new(), 422, "records.disposal.err.empty"),
    ];
    for (xml, status, key) in bad {
        let r = c
            .post(oa("/appraisal"))
            .bearer_auth(&officer_tok)
            .body(xml)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{key}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["code"], key, "{p}");
        for id in [a1, a2, a3] {
            assert_eq!(state(&db, t, id).await.as_deref(), Some("offered"), "{key}");
        }
        let appraised = scoped::<offer_file::Entity>(t)
            .filter(offer_file::Column::Appraisal.is_not_null())
            .count(&db.conn)
            .await
            .unwrap();
        assert_eq!(appraised, 0, "{key}");
    }

    // The appraisal: a1 and a2 archive, a3 destroy → 0505 (valid), a3 deleted.
    let r = c
        .post(oa("/appraisal"))
        .bearer_auth(&officer_tok)
        .body(appraisal_xml(
            pid,
            &[
                (a1, x::Disposition::A),
                (a2, x::Disposition::A),
                (a3, x::Disposition::V),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m0505 = r.text().await.unwrap();
    validate(&m0505);
    assert!(m0505.contains("Staatsarchiv Gotha"));
    assert_eq!(state(&db, t, a3).await, None);
    assert_eq!(content_of(&db, t, a3).await, (0, 0, 0));
    let r = c
        .post(oa("/appraisal"))
        .bearer_auth(&officer_tok)
        .body(appraisal_xml(
            pid,
            &[
                (a1, x::Disposition::A),
                (a2, x::Disposition::A),
                (a3, x::Disposition::V),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "a second appraisal");

    // The hand-over: a streamed ZIP with the 0503 (valid) and every version of a1 and a2.
    let r = c
        .get(oa("/handover.zip"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(
        r.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let zip = r.bytes().await.unwrap();
    let m0503 = x::unpack_message(&zip).unwrap();
    validate(&m0503);
    assert!(m0503.contains("Ratssitzung über die Straßenbenennung"));
    assert!(
        !m0503.contains("Jugendförderung"),
        "the destroyed file is not handed over"
    );
    // 1 message + a1: 2 documents, one with 2 versions (3) + a2: 1 = 5 entries.
    let entries = zip.windows(4).filter(|w| w == b"PK\x03\x04").count();
    assert_eq!(entries, 5);
    assert!(
        zip.windows(b"Schreiben Gr".len())
            .any(|w| w == b"Schreiben Gr")
    );
    for id in [a1, a2] {
        assert_eq!(state(&db, t, id).await.as_deref(), Some("handed_over"));
    }

    // 0507, then a 0506 naming a file not handed over (422), then a1 imported, a2 failed.
    let r = c
        .post(oa("/receipt"))
        .bearer_auth(&officer_tok)
        .body(receipt_xml(pid, x::ReceiptKind::HandOver))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(oa("/receipt"))
        .bearer_auth(&officer_tok)
        .body(import_xml(pid, &[(a1, true), (a3, true)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(state(&db, t, a1).await.as_deref(), Some("handed_over"));
    let r = c
        .post(oa("/receipt"))
        .bearer_auth(&officer_tok)
        .body(import_xml(pid, &[(a1, true), (a2, false)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["state"], "handed_over", "{out}");
    assert_eq!(state(&db, t, a1).await, None);
    assert_eq!(state(&db, t, a2).await.as_deref(), Some("handed_over"));
    let view: Value = c
        .get(oa(""))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let f2 = view["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_id"] == a2)
        .unwrap()
        .clone();
    assert_eq!(f2["import_error"], "Primärdatei nicht lesbar");
    let f1 = view["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_id"] == a1)
        .unwrap()
        .clone();
    assert_eq!(f1["deleted"], true);
    assert_eq!(f1["archive_id"], format!("StA Gotha, Best. 1-{a1}"));
    // A later 0506 for a2 completes the offer.
    let r = c
        .post(oa("/receipt"))
        .bearer_auth(&officer_tok)
        .body(import_xml(pid, &[(a2, true)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "completed");
    assert_eq!(state(&db, t, a2).await, None);
    let offers: Vec<Value> = c
        .get(api("/offers"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0]["state"], "completed");
    assert_eq!(offers[0]["files"], 3);

    // Deletion records: a3 (appraisal), a1 and a2 (archived); never the content.
    let dels: Vec<Value> = c
        .get(api("/deletions"))
        .bearer_auth(&officer_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dels.len(), 6);
    let reason_of = |title: &str| {
        dels.iter()
            .find(|d| d["title"] == title)
            .map(|d| d["reason"].clone())
    };
    assert_eq!(
        reason_of("Ablehnungen Jugendförderung"),
        Some(json!("appraisal"))
    );
    assert_eq!(
        reason_of("Ratssitzung über die Straßenbenennung"),
        Some(json!("archived"))
    );
    assert_eq!(
        reason_of("Zuschüsse für Vereine „Grün“"),
        Some(json!("archived"))
    );

    // The history of a1 in the audit chain, in order; the chain verifies.
    let events: Vec<String> = scoped::<audit_event::Entity>(t)
        .filter(audit_event::Column::ObjectType.eq("records.file"))
        .filter(audit_event::Column::ObjectId.eq(a1.to_string()))
        .order_by_asc(audit_event::Column::Id)
        .all(&db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    let want = [
        "records.file.closed",
        "records.file.offered",
        "records.file.appraised",
        "records.file.handed_over",
        "records.file.imported",
        "records.file.deleted",
    ];
    let mut pos = 0;
    for w in want {
        let found = events[pos..].iter().position(|e| e == w);
        assert!(
            found.is_some(),
            "{w} missing after position {pos} in {events:?}"
        );
        pos += found.unwrap() + 1;
    }
    assert!(
        events.iter().any(|e| e == "records.document.added"),
        "{events:?}"
    );
    let a3_events: Vec<String> = scoped::<audit_event::Entity>(t)
        .filter(audit_event::Column::ObjectId.eq(a3.to_string()))
        .filter(audit_event::Column::ObjectType.eq("records.file"))
        .all(&db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(a3_events.iter().any(|e| e == "records.file.deleted"));
    let verified = rathaus_store::audit::verify(&db.conn).await.unwrap();
    assert!(verified.is_ok(), "audit chain broken");
    let _ = view_tok;
}

async fn plan_item(db: &Db, t: TenantId, code: &str, title: &str, years: &str, disp: &str) {
    rathaus_records::service::plan::create(
        &db.conn,
        Actor::system("test"),
        t,
        &rathaus_records::service::plan::PlanItemInput {
            code: code.into(),
            title: title.into(),
            retention_years: years.into(),
            retention_start: String::new(),
            disposition: disp.into(),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn pages_due_list_deletion_and_hand_over_steps() {
    use rathaus_testkit::{PASSWORD, csrf_of, login};
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let t = a.tenant;
    let reader = user_with(&db, t, "leser@a.example", "Lea Leser", &[VIEW, MANAGE]).await;
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    plan_item(&db, t, "022", "Ratsangelegenheiten", "5", "A").await;
    plan_item(&db, t, "105", "Fundsachen", "2", "V").await;
    let a1 = new_file(&db, t, "022", "general", "Sitzung über die Brücke").await;
    let a2 = new_file(&db, t, "022", "general", "Sitzung Haushalt").await;
    let v1 = new_file(&db, t, "105", "general", "Fundsache Fahrrad").await;
    for id in [a1, a2, v1] {
        files::close(&db.conn, Actor::system("test"), t, id, "2001-01-01")
            .await
            .unwrap();
    }
    let some = "242f44e8-bebf-4503-a086-db252c6a4277";
    let gets = [
        "/akten/aussonderung".to_string(),
        "/akten/aussonderung/loeschprotokoll".into(),
        format!("/akten/aussonderung/anbietung/{some}"),
        format!("/akten/aussonderung/anbietung/{some}/0501.xml"),
        format!("/akten/aussonderung/anbietung/{some}/0505.xml"),
        format!("/akten/aussonderung/anbietung/{some}/aussonderung.zip"),
    ];
    let posts = [
        "/akten/aussonderung/anbieten".to_string(),
        "/akten/aussonderung/loeschen".into(),
        "/akten/aussonderung/loeschen/ausfuehren".into(),
        format!("/akten/aussonderung/anbietung/{some}/bewertung"),
        format!("/akten/aussonderung/anbietung/{some}/nachricht"),
    ];
    // Anonymous: to the login; staff without records.disposal: 403 on every route.
    let anon = app.client(&[HOST]);
    let anon_k = csrf_of(
        &anon
            .get(format!("{base}/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    for (who, email) in [("clerk", &a.clerk_email), ("reader", &reader.email)] {
        let c = app.client(&[HOST]);
        login(&c, &base, email, PASSWORD).await;
        let k = csrf_of(
            &c.get(format!("{base}/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        for p in &gets {
            let r = c.get(format!("{base}{p}")).send().await.unwrap();
            assert_eq!(r.status(), 403, "{who} {p}");
        }
        for p in &posts {
            let r = c
                .post(format!("{base}{p}"))
                .form(&[("_csrf", k.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{who} {p}");
        }
    }
    for p in &gets {
        let r = anon.get(format!("{base}{p}")).send().await.unwrap();
        assert!(r.status().is_redirection(), "{p}: {}", r.status());
    }
    for p in &posts {
        let r = anon
            .post(format!("{base}{p}"))
            .form(&[("_csrf", anon_k.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{p} (anonymous)");
    }

    let c = app.client(&[HOST]);
    login(&c, &base, &a.admin_email, PASSWORD).await;
    let html = c
        .get(format!("{base}/akten/aussonderung"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("3 fällige Akten"), "{html}");
    assert!(html.contains("Sitzung über die Brücke"));
    let k = csrf_of(&html);
    // A bad date keeps the filter and says why.
    let r = c
        .get(format!("{base}/akten/aussonderung?stichtag=99.99.2026"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Offering the V file is refused with the reason, the selection kept.
    let (a1s, a2s, v1s) = (a1.to_string(), a2.to_string(), v1.to_string());
    let r = c
        .post(format!("{base}/akten/aussonderung/anbieten"))
        .form(&[
            ("_csrf", k.as_str()),
            ("file_ids", &a1s),
            ("file_ids", &v1s),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("zur Vernichtung bestimmt"), "{html}");
    assert!(html.contains(&format!("value=\"{a1}\" id=\"sel-{a1}\"")));
    // Deletion: list → confirm → run.
    let r = c
        .post(format!("{base}/akten/aussonderung/loeschen"))
        .form(&[
            ("_csrf", k.as_str()),
            ("file_ids", &v1s),
            ("file_ids", &a1s),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Endgültig löschen") && html.contains("keine V-Akte"),
        "{html}"
    );
    assert_eq!(
        state(&db, t, v1).await.as_deref(),
        Some("closed"),
        "only confirmed"
    );
    let r = c
        .post(format!("{base}/akten/aussonderung/loeschen/ausfuehren"))
        .form(&[("_csrf", k.as_str()), ("file_ids", &v1s)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Gelöscht: 1"));
    assert_eq!(state(&db, t, v1).await, None);
    let html = c
        .get(format!("{base}/akten/aussonderung/loeschprotokoll"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Fundsache Fahrrad") && html.contains("Aufbewahrungsfrist abgelaufen"));

    // The hand-over steps.
    let r = c
        .post(format!("{base}/akten/aussonderung/anbieten"))
        .form(&[
            ("_csrf", k.as_str()),
            ("file_ids", &a1s),
            ("file_ids", &a2s),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/akten/aussonderung/anbietung/"));
    let offer_id = loc
        .trim_start_matches("/akten/aussonderung/anbietung/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let pid = x::ProcessId(offer_id.parse().unwrap());
    let op = format!("{base}/akten/aussonderung/anbietung/{offer_id}");
    let html = c.get(&op).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Bewertung übernehmen"));
    let m0501 = c
        .get(format!("{op}/0501.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    validate(&m0501);
    let upload = |path: &str, xml: String| {
        c.post(format!("{op}/{path}?_csrf={k}")).multipart(
            Form::new().text("_csrf", k.clone()).part(
                "message",
                Part::bytes(xml.into_bytes()).file_name("nachricht.xml"),
            ),
        )
    };
    // A wrong message keeps the page and says why; nothing changes.
    let r = upload("bewertung", receipt_xml(pid, x::ReceiptKind::Offer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("falschen Typ"));
    let r = upload("nachricht", import_xml(pid, &[(a1, true)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("noch nicht erfolgt"));
    let r = upload(
        "bewertung",
        appraisal_xml(pid, &[(a1, x::Disposition::A), (a2, x::Disposition::V)]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(state(&db, t, a2).await, None);
    let m0505 = c
        .get(format!("{op}/0505.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    validate(&m0505);
    let r = c
        .get(format!("{op}/aussonderung.zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m0503 = x::unpack_message(&r.bytes().await.unwrap()).unwrap();
    validate(&m0503);
    let r = upload("nachricht", import_xml(pid, &[(a1, true)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(state(&db, t, a1).await, None);
    let html = c.get(&op).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("übernommen"), "{html}");
}
