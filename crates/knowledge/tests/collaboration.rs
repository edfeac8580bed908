//! Collaboration (issue 14 item 10) on both databases: comments on pages and checklist
//! tasks, `@address` mentions mailed through a real SMTP server only to colleagues who may
//! read what was commented, deleting comments, the feed of page changes per handbook, the
//! pages and the JSON API, bad input that keeps the typed text, every route refused to
//! anonymous callers and to staff without the right, and another tenant.

use rathaus_core::{Error, Principal, TenantId};
use rathaus_knowledge::Knowledge;
use rathaus_knowledge::domain::ChecklistKind;
use rathaus_knowledge::domain::comments::{Change, Target};
use rathaus_knowledge::permissions::{EDIT, ONBOARDING, READ};
use rathaus_knowledge::service::{
    self, HandbookInput, PageInput, SaveInput, changes, comments, onboarding,
};
use rathaus_store::uow::Actor;
use rathaus_store::{Db, accounts, tokens};
use rathaus_testkit::smtp::Smtpd;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, post_form, tenant_fixture, user_with};
use rathaus_web::{Access, AppState, Module, WebConfig};
use std::sync::Arc;

const HOST_A: &str = "kollab.a.test";
const HOST_B: &str = "kollab.b.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Knowledge)]
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

fn keys(e: Error) -> Vec<String> {
    match e {
        Error::Invalid(f) => f.0.into_iter().map(|x| x.key).collect(),
        other => panic!("not invalid: {other:?}"),
    }
}

async fn token(db: &Db, tenant: TenantId, user: rathaus_core::UserId) -> String {
    tokens::create(&db.conn, tenant, user, Actor::system("test"), "Test")
        .await
        .unwrap()
        .0
}

/// Two tenants; in a: a department handbook of the Bürgerbüro with one page, its editor and
/// a colleague in the Bürgerbüro, a reader and an editor from elsewhere, an HR person, and a
/// started onboarding whose first task the colleague owns.
struct World {
    db: Db,
    st: AppState,
    tdb: Option<TestDb>,
    a: rathaus_testkit::Fixture,
    b: rathaus_testkit::Fixture,
    admin: Principal,
    editor: Principal,
    colleague: Principal,
    reader: Principal,
    outsider: Principal,
    hr: Principal,
    handbook: i64,
    page: i64,
    task: i64,
    other_task: i64,
}

async fn world() -> World {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    rathaus_web::module::migrate_all(&db, &modules())
        .await
        .unwrap();
    // Registers the module's texts (the mails read them).
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules());
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    let t = a.tenant;
    let editor = user_with(&db, t, "autor@a.example", "Otto Autor", &[READ, EDIT]).await;
    let colleague = user_with(&db, t, "kollegin@a.example", "Kim Kollegin", &[READ]).await;
    let reader = user_with(&db, t, "leser@a.example", "Lea Leser", &[READ]).await;
    let outsider = user_with(&db, t, "bauhof@a.example", "Bea Bauhof", &[READ, EDIT]).await;
    let hr = user_with(
        &db,
        t,
        "personal@a.example",
        "Paul Personal",
        &[READ, ONBOARDING],
    )
    .await;
    let buero = accounts::create_department(&db.conn, t, Actor::system("test"), "Bürgerbüro")
        .await
        .unwrap()
        .id;
    let bau = accounts::create_department(&db.conn, t, Actor::system("test"), "Bauhof")
        .await
        .unwrap()
        .id;
    put_in_department(&db, &editor, buero).await;
    put_in_department(&db, &colleague, buero).await;
    put_in_department(&db, &outsider, bau).await;
    let handbook = service::create_handbook(
        &db.conn,
        Actor::User(&admin),
        HandbookInput {
            title: "Handmappe Bürgerbüro".into(),
            description: String::new(),
            department_id: Some(buero),
            visibility: "department".into(),
            role_ids: vec![],
        },
    )
    .await
    .unwrap()
    .id;
    let page = service::create_page(
        &db.conn,
        Actor::User(&editor),
        PageInput {
            handbook_id: handbook,
            title: "Meldebescheinigung".into(),
            body: "Ausstellen am Schalter.".into(),
            note: "Erste Fassung".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let tpl = onboarding::create_template(
        &db.conn,
        Actor::User(&admin),
        "Bürgerbüro",
        Some(buero),
        ChecklistKind::Onboarding,
        vec![
            onboarding::TaskInput {
                title: "Schalter zeigen".into(),
                offset_days: 0,
                owner: onboarding::Owner::User(colleague.user_id.0),
                page_id: Some(page),
            },
            onboarding::TaskInput {
                title: "Schlüssel ausgeben".into(),
                offset_days: 1,
                owner: onboarding::Owner::User(admin.user_id.0),
                page_id: None,
            },
        ],
    )
    .await
    .unwrap();
    let started = onboarding::start(
        &db.conn,
        Actor::User(&hr),
        onboarding::OnboardingInput {
            name: "Nora Neu".into(),
            start_date: onboarding::today(),
            department_id: buero,
            template_id: Some(tpl.id),
            user_id: None,
            kind: ChecklistKind::Onboarding,
        },
        onboarding::today(),
    )
    .await
    .unwrap();
    let task = started.tasks[0].id;
    let other_task = started.tasks[1].id;
    World {
        db,
        st,
        tdb: Some(tdb),
        a,
        b,
        admin,
        editor,
        colleague,
        reader,
        outsider,
        hr,
        handbook,
        page,
        task,
        other_task,
    }
}

#[tokio::test]
async fn comments_with_mentions_deletion_and_the_feed_of_changes() {
    let smtpd = Smtpd::start();
    let w = world().await;
    let db = &w.db;
    let page = Target::Page(w.page);

    // A comment in Markdown, sanitized; mentions reach only colleagues who may read the page.
    let body = "Bitte **prüfen**: @Kollegin@A.example? <script>alert(1)</script>\n\n\
                Auch @leser@a.example (darf nicht lesen), @bauhof@a.example (anderer \
                Fachbereich), @unbekannt@a.example, @admin@b.example (andere Gemeinde) und \
                ich selbst @autor@a.example.";
    let added = comments::add(&db.conn, Actor::User(&w.editor), page, body)
        .await
        .unwrap();
    assert_eq!(added.notified, vec![w.colleague.user_id.0]);
    let list = comments::list(&db.conn, Actor::User(&w.colleague), page)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].author, "Otto Autor");
    assert!(
        list[0].html.contains("<strong>prüfen</strong>"),
        "{}",
        list[0].html
    );
    assert!(!list[0].html.contains("<script"), "{}", list[0].html);
    // Unknown handles stay text.
    assert!(
        list[0].html.contains("@unbekannt@a.example"),
        "{}",
        list[0].html
    );
    assert!(!list[0].may_delete);
    assert!(
        comments::list(&db.conn, Actor::User(&w.editor), page)
            .await
            .unwrap()[0]
            .may_delete
    );

    // The mail went through the outbox to the SMTP server, with the text from the locale.
    assert!(smtpd.run_mail_jobs(db).await >= 1);
    let got = smtpd.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, "kollegin@a.example");
    assert_eq!(
        got[0].subject,
        "Otto Autor hat Sie in einem Kommentar erwähnt"
    );
    assert!(
        got[0].body.contains("„Meldebescheinigung“"),
        "{}",
        got[0].body
    );
    assert!(got[0].body.contains("Bitte **prüfen**"), "{}", got[0].body);
    assert!(
        got[0].body.contains(&format!("/wissen/seiten/{}", w.page)),
        "{}",
        got[0].body
    );

    // Who may not read the page may neither read nor write its comments.
    for p in [&w.reader, &w.outsider] {
        assert!(matches!(
            comments::list(&db.conn, Actor::User(p), page).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            comments::add(&db.conn, Actor::User(p), page, "Hallo").await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            comments::delete(&db.conn, Actor::User(p), added.comment.id).await,
            Err(Error::NotFound)
        ));
    }
    // Bad input: empty, too long; nothing stored.
    for (text, key) in [
        ("  \n ", "knowledge.err.comment_empty"),
        (&*"x".repeat(5001), "knowledge.err.comment_too_long"),
    ] {
        let e = comments::add(&db.conn, Actor::User(&w.colleague), page, text)
            .await
            .unwrap_err();
        assert_eq!(keys(e), vec![key]);
    }
    assert_eq!(
        comments::list(&db.conn, Actor::User(&w.editor), page)
            .await
            .unwrap()
            .len(),
        1
    );

    // Deleting: not someone else's; the author may, and a knowledge manager.
    let own = comments::add(&db.conn, Actor::User(&w.colleague), page, "Erledigt.")
        .await
        .unwrap();
    assert!(own.notified.is_empty());
    assert!(matches!(
        comments::delete(&db.conn, Actor::User(&w.colleague), added.comment.id).await,
        Err(Error::Forbidden)
    ));
    assert_eq!(
        comments::delete(&db.conn, Actor::User(&w.colleague), own.comment.id)
            .await
            .unwrap(),
        page
    );
    comments::delete(&db.conn, Actor::User(&w.admin), added.comment.id)
        .await
        .unwrap();
    assert!(
        comments::list(&db.conn, Actor::User(&w.editor), page)
            .await
            .unwrap()
            .is_empty()
    );

    // A task: its owner and HR comment; someone else's task is not visible; a mention of a
    // colleague who does not see the task is not mailed.
    let task = Target::Task(w.task);
    let a = comments::add(
        &db.conn,
        Actor::User(&w.colleague),
        task,
        "Termin steht, @personal@a.example und @leser@a.example",
    )
    .await
    .unwrap();
    assert_eq!(a.notified, vec![w.hr.user_id.0]);
    assert_eq!(
        comments::list(&db.conn, Actor::User(&w.hr), task)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        comments::list(&db.conn, Actor::User(&w.reader), task).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        comments::add(
            &db.conn,
            Actor::User(&w.colleague),
            Target::Task(w.other_task),
            "x"
        )
        .await,
        Err(Error::NotFound)
    ));
    smtpd.run_mail_jobs(db).await;
    let got = smtpd.messages();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].to, "personal@a.example");
    assert!(
        got[1].body.contains("Schalter zeigen (Nora Neu)"),
        "{}",
        got[1].body
    );
    // HR may delete a comment on a task.
    comments::delete(&db.conn, Actor::User(&w.hr), a.comment.id)
        .await
        .unwrap();

    // The feed: created, edited, reviewed, newest first; paged; drafts only for editors.
    service::save_page(
        &db.conn,
        Actor::User(&w.editor),
        w.page,
        SaveInput {
            base_version: 1,
            title: "Meldebescheinigung".into(),
            body: "Ausstellen am Schalter oder online.".into(),
            note: "Online".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    service::mark_reviewed(&db.conn, Actor::User(&w.admin), w.page)
        .await
        .unwrap();
    let draft = service::create_page(
        &db.conn,
        Actor::User(&w.editor),
        PageInput {
            handbook_id: w.handbook,
            title: "Entwurf".into(),
            body: "Noch geheim".into(),
            draft: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let f = changes::feed(&db.conn, Actor::User(&w.colleague), w.handbook, None, 50)
        .await
        .unwrap();
    let kinds: Vec<(Change, i32)> = f.rows.iter().map(|c| (c.kind, c.version)).collect();
    assert_eq!(
        kinds,
        vec![
            (Change::Reviewed, 2),
            (Change::Edited, 2),
            (Change::Created, 1)
        ]
    );
    assert_eq!(f.rows[1].note, "Online");
    assert_eq!(f.department.as_deref(), Some("Bürgerbüro"));
    assert!(f.next.is_none());
    let f = changes::feed(&db.conn, Actor::User(&w.editor), w.handbook, None, 2)
        .await
        .unwrap();
    assert_eq!(f.rows[0].page_id, draft.id);
    let next = f.next.unwrap();
    let older = changes::feed(&db.conn, Actor::User(&w.editor), w.handbook, Some(next), 2)
        .await
        .unwrap();
    assert_eq!(
        older.rows.iter().map(|c| c.kind).collect::<Vec<_>>(),
        vec![Change::Edited, Change::Created]
    );
    assert!(older.next.is_none());
    assert!(matches!(
        changes::feed(&db.conn, Actor::User(&w.reader), w.handbook, None, 50).await,
        Err(Error::NotFound)
    ));

    // The migration's backfill tells the same history from the versions and reviews.
    let feed_of = |p: &Principal| {
        let (db, p) = (db.clone(), p.clone());
        async move {
            changes::feed(&db.conn, Actor::User(&p), w.handbook, None, 50)
                .await
                .unwrap()
                .rows
                .into_iter()
                .map(|c| (c.page_id, c.kind, c.version, c.actor, c.note))
                .collect::<Vec<_>>()
        }
    };
    let before = feed_of(&w.editor).await;
    assert_eq!(before.len(), 4);
    {
        use sea_orm::ConnectionTrait;
        db.conn
            .execute_unprepared("DELETE FROM knowledge_changes")
            .await
            .unwrap();
        db.conn
            .execute_unprepared(rathaus_knowledge::store::migrations::BACKFILL_CHANGES)
            .await
            .unwrap();
    }
    assert_eq!(feed_of(&w.editor).await, before);

    // Another tenant sees nothing of it.
    let other = rathaus_testkit::principal(db, w.b.tenant, w.b.admin).await;
    let c = comments::add(&db.conn, Actor::User(&w.editor), page, "Noch da")
        .await
        .unwrap();
    for r in [
        comments::list(&db.conn, Actor::User(&other), page)
            .await
            .map(|_| ()),
        comments::add(&db.conn, Actor::User(&other), page, "x")
            .await
            .map(|_| ()),
        comments::delete(&db.conn, Actor::User(&other), c.comment.id)
            .await
            .map(|_| ()),
        comments::list(&db.conn, Actor::User(&other), task)
            .await
            .map(|_| ()),
        changes::feed(&db.conn, Actor::User(&other), w.handbook, None, 50)
            .await
            .map(|_| ()),
    ] {
        assert!(matches!(r, Err(Error::NotFound)), "{r:?}");
    }
    assert!(
        rathaus_store::audit::verify(&db.conn)
            .await
            .unwrap()
            .is_ok()
    );
    drop(w.tdb);
}

#[tokio::test]
async fn pages_and_api_for_comments_and_the_feed() {
    let mut w = world().await;
    let st = w.st.clone();
    let app = TestApp::spawn_state(w.tdb.take().unwrap(), st).await;
    let base = app.url(HOST_A, "");
    let c = app.client(&[HOST_A]);
    login(&c, &base, &w.editor.email, PASSWORD).await;
    let get = |path: String| {
        let c = c.clone();
        let url = format!("{base}{path}");
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // The page has the comment form; a comment is stored and shown.
    let (s, html) = get(format!("/wissen/seiten/{}", w.page)).await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!("action=\"/wissen/seiten/{}/kommentare\"", w.page)),
        "{html}"
    );
    let action = format!("/wissen/seiten/{}/kommentare", w.page);
    let page_path = format!("/wissen/seiten/{}", w.page);
    let r = post_form(
        &c,
        &base,
        &page_path,
        &action,
        &[("body", "Gilt das auch _samstags_?")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        loc.starts_with(&format!(
            "/wissen/seiten/{}?notice=knowledge_comment_added#kommentar-",
            w.page
        )),
        "{loc}"
    );
    let (_, html) = get(page_path.clone()).await;
    assert!(
        html.contains("<em>samstags</em>") && html.contains("Otto Autor"),
        "{html}"
    );
    // Too long: refused with the German message, the typed text kept.
    let long = format!("Mein langer Text {}", "ä".repeat(5000));
    let r = post_form(&c, &base, &page_path, &action, &[("body", &long)]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Der Kommentar ist zu lang (höchstens 5000 Zeichen)."),
        "{html}"
    );
    assert!(html.contains(&long), "the typed text is kept");
    let r = post_form(&c, &base, &page_path, &action, &[("body", "   ")]).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Bitte schreiben Sie einen Kommentar.")
    );
    // Without the CSRF token: refused.
    let r = c
        .post(format!("{base}{action}"))
        .form(&[("body", "ohne Token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Delete through the form.
    let cid = loc.rsplit('-').next().unwrap().to_string();
    let r = post_form(
        &c,
        &base,
        &page_path,
        &format!("/wissen/kommentare/{cid}/loeschen"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = get(page_path.clone()).await;
    assert!(!html.contains("samstags"), "{html}");

    // The feed is linked from the handbook and lists the page.
    let (_, html) = get(format!("/wissen/handbuecher/{}", w.handbook)).await;
    let feed = format!("/wissen/handbuecher/{}/aenderungen", w.handbook);
    assert!(html.contains(&feed), "{html}");
    let (s, html) = get(feed.clone()).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Meldebescheinigung") && html.contains("angelegt (Version 1)"),
        "{html}"
    );
    assert!(html.contains("Fachbereichs Bürgerbüro"), "{html}");
    let (s, _) = get(format!("{feed}?vor=abc")).await;
    assert_eq!(s, 404);

    // The task's page, linked from the checklist, with its comments (as the colleague).
    let kc = app.client(&[HOST_A]);
    login(&kc, &base, &w.colleague.email, PASSWORD).await;
    let html = kc
        .get(format!("{base}/wissen/aufgaben"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let task_path = format!("/wissen/aufgaben/{}", w.task);
    assert!(html.contains(&format!("href=\"{task_path}\"")), "{html}");
    let html = kc
        .get(format!("{base}{task_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Schalter zeigen") && html.contains("Nora Neu"),
        "{html}"
    );
    let r = post_form(
        &kc,
        &base,
        &task_path,
        &format!("{task_path}/kommentare"),
        &[("body", "Erledige ich am Montag.")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &kc,
        &base,
        &task_path,
        &format!("{task_path}/kommentare"),
        &[("body", "")],
    )
    .await;
    assert_eq!(r.status(), 422);
    // Someone else's task: 404.
    let r = kc
        .get(format!("{base}/wissen/aufgaben/{}", w.other_task))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // JSON API.
    let tok = token(&w.db, w.a.tenant, w.editor.user_id).await;
    let api = format!("{base}/api/v1/knowledge/pages/{}/comments", w.page);
    let r = c
        .post(&api)
        .bearer_auth(&tok)
        .json(&serde_json::json!({"body_markdown": "Per API @kollegin@a.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let made: serde_json::Value = r.json().await.unwrap();
    assert_eq!(made["notified"], serde_json::json!([w.colleague.user_id.0]));
    let r = c
        .post(&api)
        .bearer_auth(&tok)
        .json(&serde_json::json!({"body_markdown": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let list: serde_json::Value = c
        .get(&api)
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["may_delete"], true);
    let hr_tok = token(&w.db, w.a.tenant, w.hr.user_id).await;
    let tapi = format!("{base}/api/v1/knowledge/tasks/{}/comments", w.task);
    let tl: serde_json::Value = c
        .get(&tapi)
        .bearer_auth(&hr_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tl.as_array().unwrap().len(), 1, "{tl}");
    let r = c
        .post(&tapi)
        .bearer_auth(&hr_tok)
        .json(&serde_json::json!({"body_markdown": "Danke"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reader_tok = token(&w.db, w.a.tenant, w.reader.user_id).await;
    let r = c.get(&api).bearer_auth(&reader_tok).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let del = format!("{base}/api/v1/knowledge/comments/{}", made["id"]);
    let r = c.delete(&del).bearer_auth(&hr_tok).send().await.unwrap();
    assert_eq!(r.status(), 404, "HR does not read the Bürgerbüro handbook");
    let r = c.delete(&del).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), 204);
    // Another tenant: 404.
    let b_tok = token(&w.db, w.b.tenant, w.b.admin).await;
    let bc = app.client(&[HOST_B]);
    let r = bc
        .get(app.url(
            HOST_B,
            &format!("/api/v1/knowledge/pages/{}/comments", w.page),
        ))
        .bearer_auth(&b_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = bc
        .get(app.url(
            HOST_B,
            &format!("/api/v1/knowledge/tasks/{}/comments", w.task),
        ))
        .bearer_auth(&b_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The OpenAPI document lists the comment routes.
    let spec: serde_json::Value = c
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/knowledge/pages/{id}/comments",
        "/api/v1/knowledge/tasks/{id}/comments",
        "/api/v1/knowledge/comments/{id}",
    ] {
        assert!(spec["paths"][p].is_object(), "{p}");
    }
}

/// The module's routes of collaboration, from its route table: every one refuses anonymous
/// callers (login or 401) and signed-in staff without a knowledge permission (403); and
/// staff with the permission but without access to the object get 404.
#[tokio::test]
async fn every_collaboration_route_refuses_anonymous_and_unprivileged_callers() {
    let mut w = world().await;
    let cid = comments::add(
        &w.db.conn,
        Actor::User(&w.editor),
        Target::Page(w.page),
        "Hallo",
    )
    .await
    .unwrap()
    .comment
    .id;
    let st = w.st.clone();
    let app = TestApp::spawn_state(w.tdb.take().unwrap(), st).await;
    let base = app.url(HOST_A, "");
    let routes: Vec<_> = Knowledge
        .routes()
        .table()
        .iter()
        .filter(|r| {
            r.path.contains("kommentare")
                || r.path.contains("comments")
                || r.path.contains("aenderungen")
                || (r.path == "/wissen/aufgaben/{id}" && r.method == "GET")
        })
        .cloned()
        .collect();
    assert_eq!(
        routes.len(),
        10,
        "{:?}",
        routes
            .iter()
            .map(|r| (&r.method, &r.path))
            .collect::<Vec<_>>()
    );
    let anon = app.client(&[HOST_A]);
    let clerk = app.client(&[HOST_A]);
    login(&clerk, &base, &w.a.clerk_email, PASSWORD).await;
    let clerk_tok = token(&w.db, w.a.tenant, w.a.clerk).await;
    let reader = app.client(&[HOST_A]);
    login(&reader, &base, &w.reader.email, PASSWORD).await;
    let reader_tok = token(&w.db, w.a.tenant, w.reader.user_id).await;
    for r in routes {
        let id = if r.path.contains("handbuecher") {
            w.handbook
        } else if r.path.contains("aufgaben") || r.path.contains("tasks") {
            w.task
        } else if r.path.starts_with("/wissen/kommentare")
            || r.path.starts_with("/api/v1/knowledge/comments")
        {
            cid
        } else {
            w.page
        };
        let path = r.path.replace("{id}", &id.to_string());
        let m = r.method.as_str();
        assert!(matches!(r.access, Access::AnyOf(_)), "{m} {path}");
        if r.path.starts_with("/api/") {
            let send = |tok: Option<&str>| {
                let mut q = anon.request(r.method.clone(), format!("{base}{path}"));
                if let Some(t) = tok {
                    q = q.bearer_auth(t);
                }
                if m == "POST" {
                    q = q.json(&serde_json::json!({"body_markdown": "x"}));
                }
                q.send()
            };
            assert_eq!(
                send(None).await.unwrap().status(),
                401,
                "anonymous {m} {path}"
            );
            assert_eq!(
                send(Some(&clerk_tok)).await.unwrap().status(),
                403,
                "clerk {m} {path}"
            );
            assert_eq!(
                send(Some(&reader_tok)).await.unwrap().status(),
                404,
                "reader {m} {path}"
            );
        } else {
            let send = |c: &reqwest::Client, form_page: &'static str| {
                let c = c.clone();
                let (base, path, m) = (base.clone(), path.clone(), m.to_string());
                async move {
                    if m == "GET" {
                        c.get(format!("{base}{path}")).send().await.unwrap()
                    } else {
                        post_form(&c, &base, form_page, &path, &[("body", "x")]).await
                    }
                }
            };
            let res = send(&anon, "/login").await;
            let loc = res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            assert!(
                res.status() == 303 && loc.starts_with("/login"),
                "anonymous {m} {path}: {} {loc}",
                res.status()
            );
            assert_eq!(
                send(&clerk, "/staff").await.status(),
                403,
                "clerk {m} {path}"
            );
            assert_eq!(
                send(&reader, "/staff").await.status(),
                404,
                "reader {m} {path}"
            );
        }
    }
    // Nothing was changed by the refused calls.
    assert_eq!(
        comments::list(&w.db.conn, Actor::User(&w.editor), Target::Page(w.page))
            .await
            .unwrap()
            .len(),
        1
    );
}
