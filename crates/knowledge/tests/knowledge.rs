//! The knowledge module end to end on both databases (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): visibility, versions with optimistic locking, diffs, restore,
//! unsafe Markdown, links to deleted pages, read confirmations, reviews, search, onboarding,
//! the pages and the JSON API, and another tenant.

use rathaus_core::{Error, Principal, TenantId};
use rathaus_knowledge::Knowledge;
use rathaus_knowledge::domain::ChecklistKind;
use rathaus_knowledge::permissions::{EDIT, ONBOARDING, READ};
use rathaus_knowledge::service::{self, HandbookInput, PageInput, SaveInput, onboarding};
use rathaus_store::uow::Actor;
use rathaus_store::{Db, accounts, tokens};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture, user_with};
use rathaus_web::Module;
use std::sync::Arc;

const HOST_A: &str = "wissen.a.test";
const HOST_B: &str = "wissen.b.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Knowledge)]
}

async fn department(db: &Db, tenant: TenantId, name: &str) -> i64 {
    accounts::create_department(&db.conn, tenant, Actor::system("test"), name)
        .await
        .unwrap()
        .id
}

async fn put_in_department(db: &Db, p: &Principal, dept: i64) {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let u = rathaus_store::entity::user::Entity::find_by_id(p.user_id.0)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let mut am: rathaus_store::entity::user::ActiveModel = u.into();
    am.department_id = Set(Some(dept));
    am.update(&db.conn).await.unwrap();
}

async fn handbook(db: &Db, admin: &Principal, title: &str, vis: &str, dept: Option<i64>) -> i64 {
    service::create_handbook(
        &db.conn,
        Actor::User(admin),
        HandbookInput {
            title: title.into(),
            description: String::new(),
            department_id: dept,
            visibility: vis.into(),
            role_ids: vec![],
        },
    )
    .await
    .unwrap()
    .id
}

fn page_input(handbook_id: i64, title: &str, body: &str) -> PageInput {
    PageInput {
        handbook_id,
        title: title.into(),
        body: body.into(),
        ..Default::default()
    }
}

fn field_keys(e: &Error) -> Vec<String> {
    match e {
        Error::Invalid(f) => f.0.iter().map(|x| x.key.clone()).collect(),
        other => panic!("not invalid: {other:?}"),
    }
}

#[tokio::test]
async fn handbooks_versions_locking_visibility_and_bad_input() {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    rathaus_web::module::migrate_all(&db, &modules())
        .await
        .unwrap();
    rathaus_core::permissions::register(rathaus_knowledge::permissions::PERMISSIONS);
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    let reader = user_with(&db, a.tenant, "leser@a.example", "Lea Leser", &[READ]).await;
    let editor = user_with(
        &db,
        a.tenant,
        "autor@a.example",
        "Otto Autor",
        &[READ, EDIT],
    )
    .await;
    let other = user_with(
        &db,
        a.tenant,
        "andere@a.example",
        "Ina Andere",
        &[READ, EDIT],
    )
    .await;
    let buero = department(&db, a.tenant, "Bürgerbüro").await;
    let bau = department(&db, a.tenant, "Bauhof").await;
    put_in_department(&db, &editor, buero).await;
    put_in_department(&db, &other, bau).await;

    let all = handbook(&db, &admin, "Dienstanweisungen", "all", None).await;
    let dept = handbook(
        &db,
        &admin,
        "Handmappe Bürgerbüro",
        "department",
        Some(buero),
    )
    .await;

    // Visibility: the department handbook is its members' (and managers') only.
    let seen = |p: &Principal| {
        let db = db.clone();
        let p = p.clone();
        async move {
            service::list_handbooks(&db.conn, Actor::User(&p))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.h.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(seen(&reader).await, vec!["Dienstanweisungen"]);
    assert_eq!(seen(&editor).await.len(), 2);
    assert_eq!(seen(&other).await, vec!["Dienstanweisungen"]);
    assert!(matches!(
        service::handbook(&db.conn, Actor::User(&other), dept).await,
        Err(Error::NotFound)
    ));
    // Readers cannot write; editors cannot write where they cannot read.
    assert!(matches!(
        service::create_page(&db.conn, Actor::User(&reader), page_input(all, "X", "x")).await,
        Err(Error::Forbidden)
    ));
    let e = service::create_page(&db.conn, Actor::User(&other), page_input(dept, "X", "x"))
        .await
        .unwrap_err();
    assert_eq!(field_keys(&e), vec!["err.invalid_choice"]);
    // A department handbook without a department, a handbook without title: refused.
    let e = service::create_handbook(
        &db.conn,
        Actor::User(&admin),
        HandbookInput {
            title: " ".into(),
            description: String::new(),
            department_id: None,
            visibility: "department".into(),
            role_ids: vec![],
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        field_keys(&e),
        vec!["err.required", "knowledge.err.department_needed"]
    );

    // Versions: every save is one; a stale save is refused and changes nothing.
    let pg = service::create_page(
        &db.conn,
        Actor::User(&editor),
        page_input(dept, "Anmeldung", "Die Frist beträgt 14 Tage."),
    )
    .await
    .unwrap();
    assert_eq!(pg.version, 1);
    let save = |by: &Principal, base: i32, body: &str| {
        let db = db.clone();
        let by = by.clone();
        let body = body.to_string();
        async move {
            service::save_page(
                &db.conn,
                Actor::User(&by),
                pg.id,
                SaveInput {
                    base_version: base,
                    title: "Anmeldung".into(),
                    body,
                    note: "Frist".into(),
                    major: false,
                    settings: None,
                },
            )
            .await
        }
    };
    let v2 = save(&editor, 1, "Die Frist beträgt zwei Wochen.")
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let stale = save(&admin, 1, "Die Frist beträgt 30 Tage.").await;
    assert!(
        matches!(&stale, Err(Error::Conflict(k)) if k == service::CONFLICT_KEY),
        "{stale:?}"
    );
    let versions = service::versions(&db.conn, Actor::User(&editor), pg.id)
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(versions[0].author_name, "Otto Autor");
    let (_, _, d) = service::diff(&db.conn, Actor::User(&editor), pg.id, 1, 2)
        .await
        .unwrap();
    assert!(d.html.contains("<del>14 Tage.</del>"), "{}", d.html);
    assert!(d.html.contains("<ins>zwei Wochen.</ins>"), "{}", d.html);
    // Restore: version 1 comes back as version 3; nothing is overwritten.
    let v3 = service::restore(&db.conn, Actor::User(&editor), pg.id, 1, 2, "zurück")
        .await
        .unwrap();
    assert_eq!(
        (v3.version, v3.body.as_str()),
        (3, "Die Frist beträgt 14 Tage.")
    );
    assert_eq!(
        service::versions(&db.conn, Actor::User(&editor), pg.id)
            .await
            .unwrap()
            .len(),
        3
    );

    // Bad input: 10 MB, a NUL byte, a long title; nothing is written.
    let big = "a".repeat(10 * 1024 * 1024);
    let e = save(&editor, 3, &big).await.unwrap_err();
    assert_eq!(field_keys(&e), vec!["knowledge.err.too_large"]);
    let e = save(&editor, 3, "a\0b").await.unwrap_err();
    assert_eq!(field_keys(&e), vec!["err.control_chars"]);
    let e = service::create_page(
        &db.conn,
        Actor::User(&editor),
        page_input(dept, &"T".repeat(201), "x"),
    )
    .await
    .unwrap_err();
    assert_eq!(field_keys(&e), vec!["err.too_long"]);
    assert_eq!(
        service::versions(&db.conn, Actor::User(&editor), pg.id)
            .await
            .unwrap()
            .len(),
        3
    );

    // Unsafe Markdown renders safely; links by id follow renames and mark deleted pages.
    let target = service::create_page(
        &db.conn,
        Actor::User(&editor),
        page_input(all, "Urlaub", "Urlaubsregeln"),
    )
    .await
    .unwrap();
    let evil = format!(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[klick](javascript:alert(3))\n\n![b](data:image/png;base64,AAAA)\n\n<!-- <script>alert(4)</script> -->\n\nSiehe [[seite:{}]] und [[seite:999999]].",
        target.id
    );
    let p2 = service::create_page(
        &db.conn,
        Actor::User(&editor),
        page_input(all, "Böse", &evil),
    )
    .await
    .unwrap();
    let v = service::page_view(&db.conn, Actor::User(&reader), p2.id, "gelöscht")
        .await
        .unwrap();
    for bad in [
        "<script",
        "onerror",
        "javascript:",
        "data:image",
        "alert(4)",
    ] {
        assert!(!v.html.contains(bad), "{bad} in {}", v.html);
    }
    assert!(
        v.html
            .contains(&format!("href=\"/wissen/seiten/{}\"", target.id)),
        "{}",
        v.html
    );
    assert!(v.html.contains(">Urlaub<"), "{}", v.html);
    assert_eq!(v.broken_links, vec![999999]);
    service::save_page(
        &db.conn,
        Actor::User(&editor),
        target.id,
        SaveInput {
            base_version: 1,
            title: "Urlaub und Dienstbefreiung".into(),
            body: "Urlaubsregeln".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let v = service::page_view(&db.conn, Actor::User(&reader), p2.id, "gelöscht")
        .await
        .unwrap();
    assert!(
        v.html.contains(">Urlaub und Dienstbefreiung<"),
        "{}",
        v.html
    );
    service::delete_page(&db.conn, Actor::User(&editor), target.id)
        .await
        .unwrap();
    let v = service::page_view(&db.conn, Actor::User(&reader), p2.id, "gelöscht")
        .await
        .unwrap();
    assert!(v.html.contains("<del>gelöscht</del>"), "{}", v.html);
    assert_eq!(v.broken_links, vec![target.id, 999999]);
    assert!(matches!(
        service::page_view(&db.conn, Actor::User(&reader), target.id, "x").await,
        Err(Error::NotFound)
    ));

    // Read confirmation per major version: a minor save keeps it, a major save asks again.
    let rule = service::create_page(
        &db.conn,
        Actor::User(&admin),
        PageInput {
            handbook_id: all,
            title: "Arbeitszeit".into(),
            body: "Kernzeit 9 bis 15 Uhr".into(),
            requires_confirmation: true,
            review_days: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    service::confirm(&db.conn, Actor::User(&reader), rule.id)
        .await
        .unwrap();
    service::confirm(&db.conn, Actor::User(&reader), rule.id)
        .await
        .unwrap();
    let confirmed = |p: &Principal| {
        let db = db.clone();
        let p = p.clone();
        async move {
            service::page_view(&db.conn, Actor::User(&p), rule.id, "x")
                .await
                .unwrap()
                .confirmed
        }
    };
    assert!(confirmed(&reader).await);
    let mut major = SaveInput {
        base_version: 1,
        title: "Arbeitszeit".into(),
        body: "Kernzeit 9 bis 14 Uhr".into(),
        ..Default::default()
    };
    service::save_page(&db.conn, Actor::User(&admin), rule.id, major)
        .await
        .unwrap();
    assert!(
        confirmed(&reader).await,
        "a minor change keeps the confirmation"
    );
    major = SaveInput {
        base_version: 2,
        title: "Arbeitszeit".into(),
        body: "Kernzeit 8 bis 14 Uhr".into(),
        major: true,
        ..Default::default()
    };
    service::save_page(&db.conn, Actor::User(&admin), rule.id, major)
        .await
        .unwrap();
    assert!(!confirmed(&reader).await, "a major change asks again");
    let rows = service::confirmations(&db.conn, Actor::User(&admin), rule.id)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].current);
    assert!(matches!(
        service::confirmations(&db.conn, Actor::User(&reader), rule.id).await,
        Err(Error::Forbidden)
    ));
    // Review: the owner (the author by default) marks it reviewed.
    assert!(matches!(
        service::mark_reviewed(&db.conn, Actor::User(&reader), rule.id).await,
        Err(Error::Forbidden)
    ));
    service::mark_reviewed(&db.conn, Actor::User(&admin), rule.id)
        .await
        .unwrap();
    let v = service::page_view(&db.conn, Actor::User(&reader), rule.id, "x")
        .await
        .unwrap();
    assert!(!v.outdated);
    assert!(v.page.reviewed_by.is_some());

    // Drafts: editors only.
    let draft = service::create_page(
        &db.conn,
        Actor::User(&editor),
        PageInput {
            handbook_id: all,
            title: "Entwurf".into(),
            body: "noch nicht fertig".into(),
            draft: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        service::page_view(&db.conn, Actor::User(&reader), draft.id, "x")
            .await
            .is_err()
    );
    assert!(
        service::page_view(&db.conn, Actor::User(&editor), draft.id, "x")
            .await
            .is_ok()
    );

    // A visibility change is a permission change: audited, and the reader loses the handbook.
    assert!(matches!(
        service::update_handbook(
            &db.conn,
            Actor::User(&editor),
            all,
            HandbookInput {
                title: "Dienstanweisungen".into(),
                description: String::new(),
                department_id: Some(bau),
                visibility: "department".into(),
                role_ids: vec![],
            }
        )
        .await,
        Err(Error::Forbidden)
    ));
    service::update_handbook(
        &db.conn,
        Actor::User(&admin),
        all,
        HandbookInput {
            title: "Dienstanweisungen".into(),
            description: String::new(),
            department_id: Some(bau),
            visibility: "department".into(),
            role_ids: vec![],
        },
    )
    .await
    .unwrap();
    assert!(seen(&reader).await.is_empty());
    assert_eq!(seen(&other).await, vec!["Dienstanweisungen"]);

    // Another tenant sees none of it.
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let admin_b = rathaus_testkit::principal(&db, b.tenant, b.admin).await;
    assert!(
        service::list_handbooks(&db.conn, Actor::User(&admin_b))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        service::page_view(&db.conn, Actor::User(&admin_b), rule.id, "x").await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        service::save_page(
            &db.conn,
            Actor::User(&admin_b),
            rule.id,
            SaveInput {
                base_version: 3,
                title: "x".into(),
                body: "x".into(),
                ..Default::default()
            }
        )
        .await,
        Err(Error::NotFound)
    ));
    assert!(
        rathaus_store::audit::verify(&db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn onboarding_from_templates_with_dates_owners_and_bad_input() {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    rathaus_web::module::migrate_all(&db, &modules())
        .await
        .unwrap();
    rathaus_core::permissions::register(rathaus_knowledge::permissions::PERMISSIONS);
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    let hr = user_with(
        &db,
        a.tenant,
        "hr@a.example",
        "Hanna HR",
        &[ONBOARDING, READ],
    )
    .await;
    let it = user_with(&db, a.tenant, "it@a.example", "Ilja IT", &[READ]).await;
    let it_role = accounts::own_role_ids(&db.conn, &it).await.unwrap()[0];
    let dept = department(&db, a.tenant, "Bauhof").await;
    let empty_dept = department(&db, a.tenant, "Kämmerei").await;
    let task = |title: &str, offset: i32, owner: onboarding::Owner| onboarding::TaskInput {
        title: title.into(),
        offset_days: offset,
        owner,
        page_id: None,
    };
    // A task a thousand days before the start is refused.
    let e = onboarding::create_template(
        &db.conn,
        Actor::User(&admin),
        "Einarbeitung Bauhof",
        Some(dept),
        ChecklistKind::Onboarding,
        vec![task("Zu früh", -1000, onboarding::Owner::Newcomer)],
    )
    .await
    .unwrap_err();
    assert_eq!(field_keys(&e), vec!["knowledge.err.offset_range"]);
    let tpl = onboarding::create_template(
        &db.conn,
        Actor::User(&admin),
        "Einarbeitung Bauhof",
        Some(dept),
        ChecklistKind::Onboarding,
        vec![
            task("Laptop einrichten", -5, onboarding::Owner::Role(it_role)),
            task(
                "Einführungsgespräch",
                0,
                onboarding::Owner::User(admin.user_id.0),
            ),
            task("Handbuch lesen", 1, onboarding::Owner::Newcomer),
        ],
    )
    .await
    .unwrap();
    assert!(tpl.is_default);
    let today = onboarding::today();
    let start = today + chrono::Duration::days(10);
    let input = |d: i64, date| onboarding::OnboardingInput {
        name: "Jana Neumann".into(),
        start_date: date,
        department_id: d,
        template_id: None,
        user_id: None,
        kind: ChecklistKind::Onboarding,
    };
    assert!(matches!(
        onboarding::start(&db.conn, Actor::User(&it), input(dept, start), today).await,
        Err(Error::Forbidden)
    ));
    let s = onboarding::start(&db.conn, Actor::User(&hr), input(dept, start), today)
        .await
        .unwrap();
    assert!(!s.past);
    let dues: Vec<_> = s
        .tasks
        .iter()
        .map(|t| (t.due_date - start).num_days())
        .collect();
    assert_eq!(dues, vec![-5, 0, 1]);
    assert_eq!(s.tasks[0].owner_label, "it@a.example");
    assert_eq!(s.tasks[1].owner_label, "Anna Admin");
    assert_eq!(s.tasks[2].owner_label, "Jana Neumann");
    // The IT role's holder sees the task and marks it done; others cannot.
    let mine = onboarding::my_tasks(&db.conn, Actor::User(&it))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let reader = user_with(&db, a.tenant, "leser@a.example", "Lea", &[READ]).await;
    assert!(matches!(
        onboarding::set_done(&db.conn, Actor::User(&reader), mine[0].0.id, true).await,
        Err(Error::NotFound)
    ));
    let t = onboarding::set_done(&db.conn, Actor::User(&it), mine[0].0.id, true)
        .await
        .unwrap();
    assert!(t.done_at.is_some());
    // A start in the past is allowed with a warning; tasks due are overdue.
    let past = onboarding::start(
        &db.conn,
        Actor::User(&hr),
        input(dept, today - chrono::Duration::days(7)),
        today,
    )
    .await
    .unwrap();
    assert!(past.past);
    assert!(onboarding::overdue(&past.tasks[0], today));
    // Far off, no default template: refused with clear messages, nothing written.
    let e = onboarding::start(
        &db.conn,
        Actor::User(&hr),
        input(dept, today - chrono::Duration::days(800)),
        today,
    )
    .await
    .unwrap_err();
    assert_eq!(field_keys(&e), vec!["knowledge.err.start_range"]);
    let e = onboarding::start(&db.conn, Actor::User(&hr), input(empty_dept, start), today)
        .await
        .unwrap_err();
    assert_eq!(field_keys(&e), vec!["knowledge.err.no_template"]);
    // A leaving colleague: no leaving template yet, so refused; with one (the department's
    // first of its kind becomes its default) the checklist counts from the last working day,
    // and the onboarding default stays.
    let leaving = |date| onboarding::OnboardingInput {
        kind: ChecklistKind::Offboarding,
        ..input(dept, date)
    };
    let e = onboarding::start(&db.conn, Actor::User(&hr), leaving(start), today)
        .await
        .unwrap_err();
    assert_eq!(field_keys(&e), vec!["knowledge.err.no_template"]);
    let off = onboarding::create_template(
        &db.conn,
        Actor::User(&admin),
        "Ausscheiden Bauhof",
        Some(dept),
        ChecklistKind::Offboarding,
        vec![
            task("Wissen übergeben", -14, onboarding::Owner::Newcomer),
            task("Schlüssel zurück", 0, onboarding::Owner::Role(it_role)),
        ],
    )
    .await
    .unwrap();
    assert!(off.is_default && off.kind == "offboarding");
    let s = onboarding::start(&db.conn, Actor::User(&hr), leaving(start), today)
        .await
        .unwrap();
    assert_eq!(s.onboarding.kind, "offboarding");
    assert_eq!(s.onboarding.template_id, off.id);
    let dues: Vec<_> = s
        .tasks
        .iter()
        .map(|t| (t.due_date - start).num_days())
        .collect();
    assert_eq!(dues, vec![-14, 0]);
    let s = onboarding::start(&db.conn, Actor::User(&hr), input(dept, start), today)
        .await
        .unwrap();
    assert_eq!(
        (s.onboarding.kind.as_str(), s.onboarding.template_id),
        ("onboarding", tpl.id)
    );
    assert_eq!(
        onboarding::list(&db.conn, Actor::User(&hr))
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(
        rathaus_store::audit::verify(&db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}

async fn token(db: &Db, tenant: TenantId, user: rathaus_core::UserId) -> String {
    tokens::create(&db.conn, tenant, user, Actor::system("test"), "Test")
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn pages_and_api_with_conflicts_search_and_onboarding() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    for d in ["Bürgerbüro", "Bauhof"] {
        department(&db, a.tenant, d).await;
    }
    Knowledge.demo(&db, &admin).await.unwrap();
    let search = st.search.clone();
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST_A, "");
    let tok = token(&db, a.tenant, a.admin).await;
    let clerk_tok = token(&db, a.tenant, a.clerk).await;
    let c = app.client(&[HOST_A, HOST_B]);

    // API: handbooks and pages.
    let r = c
        .get(format!("{base}/api/v1/knowledge/handbooks"))
        .bearer_auth(&clerk_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .get(format!("{base}/api/v1/knowledge/handbooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(format!("{base}/api/v1/knowledge/handbooks"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"title": "Bauhof intern", "department": "Bauhof", "visibility": "department"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let h: serde_json::Value = r.json().await.unwrap();
    let hid = h["id"].as_i64().unwrap();
    let r = c
        .post(format!("{base}/api/v1/knowledge/pages"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"handbook_id": hid, "title": "Streudienst", "body_markdown": "# Streudienst\n\nAb 4 Uhr <script>x()</script> räumen."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["version"], 1);
    let pid = created["id"].as_i64().unwrap();
    let page: serde_json::Value = c
        .get(format!("{base}/api/v1/knowledge/pages/{pid}"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        page["html"]
            .as_str()
            .unwrap()
            .contains("<h1 id=\"md-streudienst\">"),
        "{page}"
    );
    assert!(
        !page["html"].as_str().unwrap().contains("<script"),
        "{page}"
    );
    let put = |base_version: i64, body: &'static str| {
        c.put(format!("{base}/api/v1/knowledge/pages/{pid}"))
            .bearer_auth(&tok)
            .json(&serde_json::json!({"base_version": base_version, "title": "Streudienst", "body_markdown": body}))
            .send()
    };
    let r = put(1, "Ab 3 Uhr räumen.").await.unwrap();
    assert_eq!(r.status(), 200);
    let r = put(1, "Ab 5 Uhr räumen.").await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c
        .post(format!("{base}/api/v1/knowledge/pages"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"handbook_id": hid, "title": "Groß", "body_markdown": "a".repeat(2 * 1024 * 1024)}))
        .send()
        .await
        .unwrap();
    assert!([413, 422].contains(&r.status().as_u16()), "{}", r.status());
    let v: serde_json::Value = c
        .get(format!("{base}/api/v1/knowledge/pages/{pid}/versions"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);

    // Search through the outbox.
    search.apply_outbox(&db).await.unwrap();
    let s: serde_json::Value = c
        .get(format!("{base}/api/v1/knowledge/search?q=Streudienst"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["total"], 1, "{s}");
    let s: serde_json::Value = c
        .get(format!("{base}/api/v1/knowledge/search?q=Kernzeit"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["total"], 1, "{s}");

    // Onboarding: the department's default template.
    let past = (onboarding::today() - chrono::Duration::days(3)).to_string();
    let r = c
        .post(format!("{base}/api/v1/knowledge/onboardings"))
        .bearer_auth(&tok)
        .json(
            &serde_json::json!({"name": "Max Muster", "start_date": past, "department": "Bauhof"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let o: serde_json::Value = r.json().await.unwrap();
    assert_eq!(o["past"], true);
    let tasks = o["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 6);
    assert!(
        tasks
            .iter()
            .all(|t| t["owner"].as_str().is_some_and(|s| !s.is_empty())),
        "{o}"
    );
    let tid = tasks[0]["id"].as_i64().unwrap();
    let r = c
        .patch(format!("{base}/api/v1/knowledge/tasks/{tid}"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"done": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{base}/api/v1/knowledge/onboardings"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"name": "Max", "start_date": "2001-01-01", "department": 999999}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // A leaving colleague: the department's leaving checklist (from the demo).
    let last_day = (onboarding::today() + chrono::Duration::days(20)).to_string();
    let r = c
        .post(format!("{base}/api/v1/knowledge/onboardings"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"name": "Olaf Alt", "start_date": last_day, "department": "Bauhof", "kind": "offboarding"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let leaving: serde_json::Value = r.json().await.unwrap();
    assert_eq!(leaving["kind"], "offboarding", "{leaving}");
    let titles: Vec<&str> = leaving["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"Schlüssel, Dienstausweis und Laptop zurücknehmen"),
        "{leaving}"
    );
    let r = c
        .post(format!("{base}/api/v1/knowledge/onboardings"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"name": "Olaf", "start_date": last_day, "department": "Bauhof", "kind": "rente"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    // Another tenant: 404 on a's page.
    let tok_b = token(&db, b.tenant, b.admin).await;
    let r = c
        .get(app.url(HOST_B, &format!("/api/v1/knowledge/pages/{pid}")))
        .bearer_auth(&tok_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Pages: the editor with preview, a concurrent save and its conflict page.
    let admin_c = app.client(&[HOST_A]);
    login(&admin_c, &base, &a.admin_email, PASSWORD).await;
    let html = admin_c
        .get(format!("{base}/wissen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Dienstanweisungen"), "{html}");
    let edit = admin_c
        .get(format!("{base}/wissen/seiten/{pid}/bearbeiten"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let k = rathaus_testkit::csrf_of(&edit);
    let form = |body: &str, action: &str, base_version: &str| {
        vec![
            ("_csrf".to_string(), k.clone()),
            ("base_version".into(), base_version.into()),
            ("title".into(), "Streudienst".into()),
            ("body_markdown".into(), body.into()),
            ("note".into(), "Uhrzeit".into()),
            ("action".into(), action.into()),
        ]
    };
    let r = admin_c
        .post(format!("{base}/wissen/seiten/{pid}/bearbeiten"))
        .form(&form(
            "**fett** <img src=x onerror=alert(1)>",
            "preview",
            "2",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<strong>fett</strong>"), "{html}");
    assert!(!html.contains("<img src=x onerror"), "{html}");
    let r = admin_c
        .post(format!("{base}/wissen/seiten/{pid}/bearbeiten"))
        .form(&form("Ab 2 Uhr räumen.", "save", "2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = admin_c
        .post(format!("{base}/wissen/seiten/{pid}/bearbeiten"))
        .form(&form("Meine eigene Fassung.", "save", "2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("Meine eigene Fassung."), "{html}");
    assert!(html.contains("Ab 2 Uhr räumen."), "{html}");
    assert!(html.contains("Meine Fassung speichern"), "{html}");
    let r = admin_c
        .post(format!("{base}/wissen/seiten/{pid}/bearbeiten"))
        .form(&{
            let mut f = form("Text", "save", "3");
            f[2].1 = "  ".into();
            f
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // Every page of the module answers for the admin.
    for path in [
        "/wissen".to_string(),
        format!("/wissen/handbuecher/{hid}"),
        format!("/wissen/handbuecher/{hid}/neue-seite"),
        format!("/wissen/seiten/{pid}"),
        format!("/wissen/seiten/{pid}/versionen"),
        format!("/wissen/seiten/{pid}/vergleich?a=1&b=3"),
        "/wissen/pruefung".into(),
        "/wissen/suche?q=Streudienst".into(),
        "/wissen/einarbeitung".into(),
        format!("/wissen/einarbeitung/{}", o["id"]),
        "/wissen/aufgaben".into(),
    ] {
        let r = admin_c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // The leaving checklist's page names the last working day.
    let html = admin_c
        .get(format!("{base}/wissen/einarbeitung/{}", leaving["id"]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Ausscheiden von Olaf Alt") && html.contains("Letzter Arbeitstag"),
        "{html}"
    );
    let html = admin_c
        .get(format!("{base}/wissen/einarbeitung"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("value=\"offboarding\"") && html.contains("Ausscheiden Bauhof"),
        "{html}"
    );

    // A new page can start from a template (title and Markdown in the reader's language);
    // an unknown template starts empty.
    let html = admin_c
        .get(format!("{base}/wissen/handbuecher/{hid}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for code in ["process", "checklist", "contacts"] {
        assert!(
            html.contains(&format!(
                "/wissen/handbuecher/{hid}/neue-seite?vorlage={code}"
            )),
            "{html}"
        );
    }
    let get = |path: String| {
        let c = admin_c.clone();
        let url = format!("{base}{path}");
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = get(format!(
        "/wissen/handbuecher/{hid}/neue-seite?vorlage=checklist"
    ))
    .await;
    assert!(html.contains("value=\"Checkliste: …\""), "{html}");
    assert!(html.contains("- [ ] Ergebnis dokumentiert"), "{html}");
    let html = get(format!(
        "/wissen/handbuecher/{hid}/neue-seite?vorlage=process"
    ))
    .await;
    assert!(html.contains("## Rechtsgrundlage"), "{html}");
    let html = get(format!(
        "/wissen/handbuecher/{hid}/neue-seite?vorlage=%3Cscript%3E"
    ))
    .await;
    assert!(
        html.contains("name=\"title\" type=\"text\" value=\"\""),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");

    // The clerk without permissions is refused.
    let clerk = app.client(&[HOST_A]);
    login(&clerk, &base, &a.clerk_email, PASSWORD).await;
    let r = clerk.get(format!("{base}/wissen")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = clerk
        .get(format!(
            "{base}/wissen/handbuecher/{hid}/neue-seite?vorlage=checklist"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn every_table_with_a_tenant_column_is_registered() {
    let tdb = TestDb::new().await;
    rathaus_web::module::migrate_all(&tdb.db, &modules())
        .await
        .unwrap();
    let mut registered = rathaus_web::module::platform_tenant_owned_tables();
    registered.extend(rathaus_knowledge::store::entity::tenant_owned_tables());
    let missing = rathaus_testkit::unregistered_tenant_tables(&tdb.db, &registered).await;
    assert!(
        missing.is_empty(),
        "not declared with tenant_owned!: {missing:?}"
    );
}
