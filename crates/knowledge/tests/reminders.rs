//! The scheduled mails (issue 14, items 3 and 9) on both databases, through a real SMTP
//! server: the weekly review mail to the owner person and the members of the owner role
//! (only pages they may read, only pages due), the daily mail about checklist tasks that
//! fell due (each task once, role members and the linked new colleague included), the
//! first runs queued at migrate, and the chain of runs surviving a failing run without
//! duplicates on retry.

use chrono::{Duration, Utc};
use rathaus_core::{Principal, TenantId};
use rathaus_knowledge::Knowledge;
use rathaus_knowledge::domain::ChecklistKind;
use rathaus_knowledge::permissions::{EDIT, ONBOARDING, READ};
use rathaus_knowledge::service::{self, HandbookInput, PageInput, onboarding, reminders};
use rathaus_store::entity::{job, user_role};
use rathaus_store::uow::Actor;
use rathaus_store::{Db, accounts, jobs};
use rathaus_testkit::smtp::Smtpd;
use rathaus_testkit::{TestDb, tenant_fixture, user_with};
use rathaus_web::{AppState, Module, WebConfig};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::sync::Arc;

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Knowledge)]
}

/// The role `user_with` made for `p` (named after the address).
async fn role_of(db: &Db, tenant: TenantId, p: &Principal) -> i64 {
    accounts::list_roles(&db.conn, tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|(r, _)| r.name == p.email)
        .unwrap()
        .0
        .id
}

async fn grant(db: &Db, tenant: TenantId, user: &Principal, role: i64) {
    user_role::ActiveModel {
        tenant_id: Set(tenant.0),
        user_id: Set(user.user_id.0),
        role_id: Set(role),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .unwrap();
}

/// Backdates a page's creation so that its review interval has run out.
async fn backdate(db: &Db, page: i64, days: i64) {
    use rathaus_knowledge::store::entity::page;
    let pg = page::Entity::find_by_id(page)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let mut am: page::ActiveModel = pg.into();
    am.created_at = Set(Utc::now() - Duration::days(days));
    am.update(&db.conn).await.unwrap();
}

async fn queued(db: &Db, tenant: TenantId, kind: &str) -> Vec<job::Model> {
    job::Entity::find()
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Status.eq(jobs::QUEUED))
        .all(&db.conn)
        .await
        .unwrap()
}

struct World {
    db: Db,
    _tdb: TestDb,
    tenant: TenantId,
    b: TenantId,
    admin: Principal,
    owner: Principal,
    member: Principal,
    other_member: Principal,
    outsider: Principal,
    hr: Principal,
    newcomer: Principal,
    due_page: i64,
    role_page: i64,
    hidden_page: i64,
}

async fn world() -> World {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    rathaus_web::module::migrate_all(&db, &modules())
        .await
        .unwrap();
    // Registers the module's texts (the mails read them).
    let _st = AppState::with_modules(db.clone(), WebConfig::default(), modules());
    let a = tenant_fixture(&db, "a", "erinnerung.a.test").await;
    let b = tenant_fixture(&db, "b", "erinnerung.b.test").await;
    let t = a.tenant;
    let admin = rathaus_testkit::principal(&db, t, a.admin).await;
    let owner = user_with(&db, t, "eigner@a.example", "Erna Eignerin", &[READ, EDIT]).await;
    let member = user_with(&db, t, "redaktion@a.example", "Rita Redaktion", &[READ]).await;
    let other_member = user_with(&db, t, "zweite@a.example", "Zora Zweite", &[READ]).await;
    let outsider = user_with(&db, t, "fremd@a.example", "Fritz Fremd", &[READ]).await;
    let hr = user_with(
        &db,
        t,
        "personal@a.example",
        "Paul Personal",
        &[READ, ONBOARDING],
    )
    .await;
    let newcomer = user_with(&db, t, "neu@a.example", "Nora Neu", &[READ]).await;
    // The editorial role: Rita's role, Zora holds it too.
    let redaktion = role_of(&db, t, &member).await;
    grant(&db, t, &other_member, redaktion).await;
    let member = rathaus_testkit::principal(&db, t, member.user_id).await;
    let other_member = rathaus_testkit::principal(&db, t, other_member.user_id).await;

    let dept = accounts::create_department(&db.conn, t, Actor::system("test"), "Bürgerbüro")
        .await
        .unwrap()
        .id;
    let all = service::create_handbook(
        &db.conn,
        Actor::User(&admin),
        HandbookInput {
            title: "Dienstanweisungen".into(),
            description: String::new(),
            department_id: None,
            visibility: "all".into(),
            role_ids: vec![],
        },
    )
    .await
    .unwrap()
    .id;
    // Only the Bürgerbüro reads it; nobody of the role is in it.
    let closed = service::create_handbook(
        &db.conn,
        Actor::User(&admin),
        HandbookInput {
            title: "Handmappe Bürgerbüro".into(),
            description: String::new(),
            department_id: Some(dept),
            visibility: "department".into(),
            role_ids: vec![],
        },
    )
    .await
    .unwrap()
    .id;
    let mk = |hb: i64, title: &'static str, owner_user: Option<i64>, role: Option<i64>| {
        let db = db.clone();
        let admin = admin.clone();
        async move {
            service::create_page(
                &db.conn,
                Actor::User(&admin),
                PageInput {
                    handbook_id: hb,
                    title: title.into(),
                    body: "Text.".into(),
                    owner_user_id: owner_user,
                    owner_role_id: role,
                    review_days: Some(30),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id
        }
    };
    let due_page = mk(all, "Dienstreisen", Some(owner.user_id.0), None).await;
    let fresh_page = mk(all, "Urlaub", Some(owner.user_id.0), None).await;
    let role_page = mk(all, "Aktenplan", Some(admin.user_id.0), Some(redaktion)).await;
    let hidden_page = mk(closed, "Kasse", Some(admin.user_id.0), Some(redaktion)).await;
    for p in [due_page, role_page, hidden_page] {
        backdate(&db, p, 40).await;
    }
    backdate(&db, fresh_page, 10).await;
    World {
        db,
        _tdb: tdb,
        tenant: t,
        b: b.tenant,
        admin,
        owner,
        member,
        other_member,
        outsider,
        hr,
        newcomer,
        due_page,
        role_page,
        hidden_page,
    }
}

#[tokio::test]
async fn weekly_review_mail_reaches_owner_and_role_members() {
    let w = world().await;
    let db = &w.db;
    let smtpd = Smtpd::start();
    let n = reminders::send_reviews(&db.conn, w.tenant, Utc::now())
        .await
        .unwrap();
    // Erna (her page), Rita and Zora (the role's page), the admin (owner person of both).
    assert_eq!(n, 4);
    smtpd.run_mail_jobs(db).await;
    let got = smtpd.messages();
    let to = |a: &str| got.iter().find(|m| m.to == a);
    let erna = to("eigner@a.example").unwrap();
    assert_eq!(
        erna.subject,
        "Wissen: 1 Handbuchseiten sind zur Prüfung fällig"
    );
    assert!(
        erna.body
            .contains("Dienstreisen (Handmappe Dienstanweisungen)"),
        "{}",
        erna.body
    );
    assert!(
        erna.body
            .contains(&format!("/wissen/seiten/{}", w.due_page))
    );
    // Not yet due: not mailed.
    assert!(!erna.body.contains("Urlaub"), "{}", erna.body);
    for a in ["redaktion@a.example", "zweite@a.example"] {
        let m = to(a).unwrap();
        assert!(m.body.contains("Aktenplan"), "{}", m.body);
        assert!(m.body.contains(&format!("/wissen/seiten/{}", w.role_page)));
        // The role owns it, but its members may not read the handbook.
        assert!(!m.body.contains("Kasse"), "{}", m.body);
        assert!(
            !m.body
                .contains(&format!("/wissen/seiten/{}", w.hidden_page))
        );
    }
    let admin = to(&w.admin.email).unwrap();
    assert!(admin.body.contains("Kasse") && admin.body.contains("Aktenplan"));
    assert!(to("fremd@a.example").is_none());
    assert_eq!(got.len(), 4, "{got:?}");

    // A role member may mark the role's page reviewed; then it is no longer mailed to anyone.
    service::mark_reviewed(&db.conn, Actor::User(&w.other_member), w.role_page)
        .await
        .unwrap();
    let due = service::due_reviews(&db.conn, Actor::User(&w.member))
        .await
        .unwrap();
    assert!(
        due.is_empty(),
        "{:?}",
        due.iter().map(|d| &d.title).collect::<Vec<_>>()
    );
    let outsider = service::mark_reviewed(&db.conn, Actor::User(&w.outsider), w.due_page).await;
    assert!(
        matches!(outsider, Err(rathaus_core::Error::Forbidden)),
        "{outsider:?}"
    );
    let n = reminders::send_reviews(&db.conn, w.tenant, Utc::now())
        .await
        .unwrap();
    assert_eq!(n, 2, "Erna and the admin");

    // The run is audited; the other tenant gets nothing.
    let ev = rathaus_store::entity::audit_event::Entity::find()
        .filter(rathaus_store::entity::audit_event::Column::TenantId.eq(w.tenant.0))
        .filter(
            rathaus_store::entity::audit_event::Column::Action.eq("knowledge.review_mails_sent"),
        )
        .all(&db.conn)
        .await
        .unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        reminders::send_reviews(&db.conn, w.b, Utc::now())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn task_mail_once_per_task_to_person_role_and_newcomer() {
    let w = world().await;
    let db = &w.db;
    let t = w.tenant;
    let dept = accounts::create_department(&db.conn, t, Actor::system("test"), "Personal")
        .await
        .unwrap()
        .id;
    let redaktion = role_of(db, t, &w.member).await;
    let tpl = onboarding::create_template(
        &db.conn,
        Actor::User(&w.admin),
        "Einarbeitung Personal",
        Some(dept),
        ChecklistKind::Onboarding,
        vec![
            onboarding::TaskInput {
                title: "Vertrag vorbereiten".into(),
                offset_days: -5,
                owner: onboarding::Owner::User(w.owner.user_id.0),
                page_id: None,
            },
            onboarding::TaskInput {
                title: "Zugang einrichten".into(),
                offset_days: 0,
                owner: onboarding::Owner::Role(redaktion),
                page_id: None,
            },
            onboarding::TaskInput {
                title: "Handbuch lesen".into(),
                offset_days: 0,
                owner: onboarding::Owner::Newcomer,
                page_id: None,
            },
            onboarding::TaskInput {
                title: "Feedbackgespräch".into(),
                offset_days: 14,
                owner: onboarding::Owner::User(w.owner.user_id.0),
                page_id: None,
            },
        ],
    )
    .await
    .unwrap();
    let today = reminders::today();
    let started = onboarding::start(
        &db.conn,
        Actor::User(&w.hr),
        onboarding::OnboardingInput {
            name: "Nora Neu".into(),
            start_date: today,
            department_id: dept,
            template_id: Some(tpl.id),
            user_id: Some(w.newcomer.user_id.0),
            kind: ChecklistKind::Onboarding,
        },
        today,
    )
    .await
    .unwrap();
    let contract = started
        .tasks
        .iter()
        .find(|x| x.title == "Vertrag vorbereiten")
        .unwrap();
    // The start page: Erna's contract is overdue, her feedback talk two weeks off is not yet
    // listed; a reader without tasks gets no count.
    let erna = rathaus_knowledge::Knowledge
        .dashboard(db, &w.owner)
        .await
        .unwrap();
    assert_eq!(erna[0].href, "/wissen/aufgaben");
    assert_eq!((erna[0].count, erna[0].overdue), (1, true), "{erna:?}");
    let fritz = rathaus_knowledge::Knowledge
        .dashboard(db, &w.outsider)
        .await
        .unwrap();
    assert_eq!(fritz[0].count, 0, "{fritz:?}");
    let smtpd = Smtpd::start();
    let n = reminders::send_tasks(&db.conn, t, today).await.unwrap();
    // Rita and Zora (the role's task), Nora (her own), Erna (the contract, five days ago).
    assert_eq!(n, 4);
    smtpd.run_mail_jobs(db).await;
    let got = smtpd.messages();
    let to = |a: &str| got.iter().find(|m| m.to == a).unwrap();
    let erna = to("eigner@a.example");
    assert_eq!(erna.subject, "Wissen: 1 Checklisten-Aufgaben sind fällig");
    assert!(
        erna.body.contains("Vertrag vorbereiten (Nora Neu)"),
        "{}",
        erna.body
    );
    assert!(
        erna.body
            .contains(&format!("/wissen/aufgaben/{}", contract.id))
    );
    assert!(
        !erna.body.contains("Feedbackgespräch"),
        "not due yet: {}",
        erna.body
    );
    for a in ["redaktion@a.example", "zweite@a.example"] {
        assert!(to(a).body.contains("Zugang einrichten"), "{}", to(a).body);
    }
    assert!(to("neu@a.example").body.contains("Handbuch lesen"));
    assert_eq!(got.len(), 4, "{got:?}");

    // Each task once: the next day's run mails nothing of these.
    assert_eq!(reminders::send_tasks(&db.conn, t, today).await.unwrap(), 0);
    // The one due in two weeks is mailed when it falls due, to Erna only.
    let later = today + Duration::days(14);
    assert_eq!(reminders::send_tasks(&db.conn, t, later).await.unwrap(), 1);
    let feedback = started
        .tasks
        .iter()
        .find(|x| x.title == "Feedbackgespräch")
        .unwrap();
    onboarding::set_done(&db.conn, Actor::User(&w.owner), feedback.id, true)
        .await
        .unwrap();
    assert_eq!(reminders::send_tasks(&db.conn, t, later).await.unwrap(), 0);
    // Audited with the tasks it told of.
    let ev = rathaus_store::entity::audit_event::Entity::find()
        .filter(rathaus_store::entity::audit_event::Column::TenantId.eq(t.0))
        .filter(rathaus_store::entity::audit_event::Column::Action.eq("knowledge.task_mails_sent"))
        .all(&db.conn)
        .await
        .unwrap();
    assert_eq!(ev.len(), 2);
    // The other tenant has no tasks.
    assert_eq!(
        reminders::send_tasks(&db.conn, w.b, later).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn the_chain_of_runs_survives_a_failing_run_without_duplicates() {
    let w = world().await;
    let db = &w.db;
    let t = w.tenant;
    // The tenants came after the migration; the next start queues their first runs once.
    assert!(rathaus_knowledge::jobs::schedule_all(db).await.unwrap() >= 4);
    assert_eq!(rathaus_knowledge::jobs::schedule_all(db).await.unwrap(), 0);
    let first = queued(db, t, reminders::TASKS_JOB).await;
    assert_eq!(first.len(), 1);
    assert_eq!(queued(db, t, reminders::REVIEWS_JOB).await.len(), 1);
    assert!(first[0].run_at > Utc::now());

    // Make this tenant's run due now, and its work fail (the task table is away).
    let mut am: job::ActiveModel = first[0].clone().into();
    am.run_at = Set(Utc::now() - Duration::seconds(1));
    am.update(&db.conn).await.unwrap();
    db.conn
        .execute_unprepared("ALTER TABLE knowledge_tasks RENAME TO knowledge_tasks_away")
        .await
        .unwrap();
    let mut reg = jobs::Registry::default();
    for (kind, h) in Knowledge.jobs() {
        reg.register(kind, h);
    }
    assert!(reg.run_one(db).await.unwrap());
    let after = queued(db, t, reminders::TASKS_JOB).await;
    // The failed run waits for its retry, and tomorrow's run is queued all the same.
    assert_eq!(after.len(), 2, "{after:?}");
    let retry = after.iter().find(|j| j.id == first[0].id).unwrap();
    assert!(retry.last_error.is_some());
    assert!(
        after
            .iter()
            .any(|j| j.id != first[0].id && j.run_at > Utc::now())
    );

    // The retry fails again: still exactly one successor.
    let mut am: job::ActiveModel = retry.clone().into();
    am.run_at = Set(Utc::now() - Duration::seconds(1));
    am.update(&db.conn).await.unwrap();
    assert!(reg.run_one(db).await.unwrap());
    assert_eq!(queued(db, t, reminders::TASKS_JOB).await.len(), 2);

    // Back to work: the retry succeeds, one run stays queued for tomorrow.
    db.conn
        .execute_unprepared("ALTER TABLE knowledge_tasks_away RENAME TO knowledge_tasks")
        .await
        .unwrap();
    let retry = job::Entity::find_by_id(first[0].id)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let mut am: job::ActiveModel = retry.into();
    am.run_at = Set(Utc::now() - Duration::seconds(1));
    am.update(&db.conn).await.unwrap();
    assert!(reg.run_one(db).await.unwrap());
    let done = job::Entity::find_by_id(first[0].id)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, jobs::DONE);
    let left = queued(db, t, reminders::TASKS_JOB).await;
    assert_eq!(left.len(), 1);
    assert!(left[0].run_at > Utc::now());
    // The other tenant's chain was not touched.
    assert_eq!(queued(db, w.b, reminders::TASKS_JOB).await.len(), 1);
}

#[tokio::test]
async fn the_owner_role_is_chosen_in_the_edit_form() {
    use rathaus_testkit::{PASSWORD, TestApp, login, post_form};
    let w = world().await;
    let db = w.db.clone();
    let redaktion = role_of(&db, w.tenant, &w.member).await;
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules());
    let app = TestApp::spawn_state(w._tdb, st).await;
    let base = app.url("erinnerung.a.test", "");
    let c = app.client(&["erinnerung.a.test"]);
    login(&c, &base, &w.admin.email, PASSWORD).await;
    let edit = format!("/wissen/seiten/{}/bearbeiten", w.role_page);
    let html = c
        .get(format!("{base}{edit}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<option value=\"{redaktion}\" selected>")),
        "{html}"
    );
    let save = |role: &'static str, version: &'static str| {
        let c = c.clone();
        let base = base.clone();
        let edit = edit.clone();
        let admin = w.admin.user_id.0.to_string();
        async move {
            post_form(
                &c,
                &base,
                &edit,
                &edit,
                &[
                    ("base_version", version),
                    ("title", "Aktenplan"),
                    ("body_markdown", "Text."),
                    ("review_days", "30"),
                    ("owner_user_id", &admin),
                    ("owner_role_id", role),
                    ("action", "save"),
                ],
            )
            .await
        }
    };
    // An unknown role is refused on the field, in German.
    let r = save("999999", "1").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"f-owner_role_id-error\""), "{body}");
    // No role: the page is the owner person's alone; the role's members no longer review it.
    let r = save("", "1").await;
    assert_eq!(r.status(), 303);
    let pg = service::page_for_edit(&db.conn, Actor::User(&w.admin), w.role_page)
        .await
        .unwrap()
        .1;
    assert_eq!(pg.owner_role_id, None);
    let r = service::mark_reviewed(&db.conn, Actor::User(&w.member), w.role_page).await;
    assert!(matches!(r, Err(rathaus_core::Error::Forbidden)), "{r:?}");
}
