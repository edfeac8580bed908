//! The daily follow-up mail through the outbox to a real local SMTP server (SQLite, or
//! PostgreSQL with RATHAUS_TEST_DATABASE_URL): a person's follow-ups due today go to them, a
//! department's to its members who may open the file, one mail per person with links; done,
//! future and unreadable ones are left out; a second run the same day mails nothing; the next
//! day's run is queued once, also when today's run fails.

use chrono::Duration;
use rathaus_core::{Principal, TenantId, UserId};
use rathaus_records::Records;
use rathaus_records::permissions::{DOG, MANAGE, VIEW, WOHNGELD};
use rathaus_records::service::files::{self, FileInput};
use rathaus_records::service::follow_ups::{self, FollowUpInput};
use rathaus_records::service::plan::{self, PlanItemInput};
use rathaus_records::service::{follow_up_mail, today};
use rathaus_store::accounts::{self, RoleInput, UserInput};
use rathaus_store::entity::{audit_event, job};
use rathaus_store::jobs::Handler;
use rathaus_store::uow::{Actor, scoped};
use rathaus_store::{Db, jobs};
use rathaus_testkit::smtp::Smtpd;
use rathaus_testkit::{PASSWORD, TestDb, tenant_fixture, user_with};
use rathaus_web::Module;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::Arc;

const HOST: &str = "akten.a.test";

async fn member(db: &Db, t: TenantId, email: &str, perms: &[&str], dept: i64) -> Principal {
    let permissions: Vec<String> = perms.iter().map(|p| p.to_string()).collect();
    let role = accounts::create_role(
        &db.conn,
        t,
        Actor::system("test"),
        RoleInput {
            name: email,
            description: "",
            permissions: &permissions,
        },
    )
    .await
    .unwrap();
    let u = accounts::create_user(
        &db.conn,
        t,
        Actor::system("test"),
        UserInput {
            email,
            name: "Bea Bauamt",
            password: PASSWORD,
            department_id: Some(dept),
            role_ids: &[role.id],
            active: true,
        },
    )
    .await
    .unwrap();
    rathaus_testkit::principal(db, t, UserId(u.id)).await
}

async fn new_file(db: &Db, admin: &Principal, kind: &str, title: &str) -> i64 {
    files::create(
        &db.conn,
        Actor::User(admin),
        admin.tenant_id,
        &FileInput {
            plan_code: "100".into(),
            title: title.into(),
            kind: kind.into(),
            subject_name: "Erika Mustermann".into(),
            subject_birth_date: "1970-01-01".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn follow_up(
    db: &Db,
    admin: &Principal,
    file: i64,
    due: chrono::NaiveDate,
    user: Option<UserId>,
    dept: Option<i64>,
    note: &str,
) -> i64 {
    follow_ups::create(
        &db.conn,
        Actor::User(admin),
        admin.tenant_id,
        file,
        &FollowUpInput {
            due_on: due.format("%Y-%m-%d").to_string(),
            note: note.into(),
            case_id: None,
            user_id: user.map(|u| u.0),
            department_id: dept,
        },
    )
    .await
    .unwrap()
    .id
}

async fn waiting(db: &Db, t: TenantId) -> Vec<job::Model> {
    scoped::<job::Entity>(t)
        .filter(job::Column::Kind.eq(follow_up_mail::JOB))
        .filter(job::Column::Status.eq(jobs::QUEUED))
        .all(&db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn follow_ups_are_mailed_on_their_day_once_and_the_chain_survives_failure() {
    let smtpd = Smtpd::start();
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    let modules: Vec<Arc<dyn rathaus_web::Module>> = vec![Arc::new(Records)];
    rathaus_web::module::migrate_all(&db, &modules)
        .await
        .unwrap();
    rathaus_records::register_texts();
    rathaus_core::permissions::register(rathaus_records::permissions::PERMISSIONS);
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
    let bau = accounts::create_department(&db.conn, t, Actor::system("test"), "Bauamt")
        .await
        .unwrap()
        .id;
    // Two members of the department: one may read general files, one only dog files.
    let reader = member(&db, t, "bea@a.example", &[VIEW], bau).await;
    let dogs_only = member(&db, t, "dora@a.example", &[DOG], bau).await;
    // A clerk with their own follow-ups, one of them in a Wohngeld file.
    let clerk = user_with(
        &db,
        t,
        "wanda@a.example",
        "Wanda Wohngeld",
        &[VIEW, MANAGE, WOHNGELD],
    )
    .await;

    let today = today();
    let general = new_file(&db, &admin, "general", "Bauantrag Gartenhaus Lindenweg").await;
    let wohngeld = new_file(&db, &admin, "wohngeld", "Wohngeld Mustermann").await;
    let general_no = scoped::<rathaus_records::store::entity::file::Entity>(t)
        .filter(rathaus_records::store::entity::file::Column::Id.eq(general))
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap()
        .file_number;
    // Due today for the department: to the reader, not the dog clerk.
    follow_up(
        &db,
        &admin,
        general,
        today,
        None,
        Some(bau),
        "Stellungnahme Nachbar",
    )
    .await;
    // A Wohngeld file for the department: nobody there may open it.
    follow_up(&db, &admin, wohngeld, today, None, Some(bau), "Geheim").await;
    // The clerk's own: two due today, one tomorrow, one done.
    follow_up(
        &db,
        &admin,
        wohngeld,
        today,
        Some(clerk.user_id),
        None,
        "Bescheid prüfen",
    )
    .await;
    follow_up(
        &db,
        &admin,
        general,
        today,
        Some(clerk.user_id),
        None,
        "Rückruf",
    )
    .await;
    follow_up(
        &db,
        &admin,
        general,
        today + Duration::days(1),
        Some(clerk.user_id),
        None,
        "Morgen",
    )
    .await;
    let done = follow_up(
        &db,
        &admin,
        general,
        today,
        Some(clerk.user_id),
        None,
        "Erledigt",
    )
    .await;
    follow_ups::done(&db.conn, Actor::User(&admin), t, done)
        .await
        .unwrap();

    // The start page counts the same ones as the mail: the clerk's two of today, the
    // reader's department one; a follow-up due yesterday makes it overdue.
    let board = |p: Principal| {
        let db = db.clone();
        async move { Records.dashboard(&db, &p).await.unwrap()[0].clone() }
    };
    let wanda = board(clerk.clone()).await;
    assert_eq!((wanda.count, wanda.overdue), (2, false), "{wanda:?}");
    assert_eq!(wanda.href, "/akten/wiedervorlagen");
    assert_eq!(board(reader.clone()).await.count, 1);
    assert_eq!(board(dogs_only.clone()).await.count, 0);
    let late = follow_up(
        &db,
        &admin,
        general,
        today - Duration::days(1),
        Some(clerk.user_id),
        None,
        "Gestern",
    )
    .await;
    let wanda = board(clerk.clone()).await;
    assert_eq!((wanda.count, wanda.overdue), (3, true), "{wanda:?}");
    follow_ups::done(&db.conn, Actor::User(&admin), t, late)
        .await
        .unwrap();

    // Queued at migrate (the tenant came later: the next start queues it), once.
    assert_eq!(follow_up_mail::schedule_all(&db).await.unwrap(), 1);
    assert_eq!(follow_up_mail::schedule_all(&db).await.unwrap(), 0);
    let first = waiting(&db, t).await;
    assert_eq!(first.len(), 1);

    // Its time has come: the run as the worker does it.
    let mut due: job::ActiveModel = first[0].clone().into();
    due.run_at = sea_orm::Set(chrono::Utc::now() - Duration::seconds(1));
    sea_orm::ActiveModelTrait::update(due, &db.conn)
        .await
        .unwrap();
    let handler = rathaus_records::jobs::FollowUpMail::new();
    handler.run(&db, &first[0]).await.unwrap();
    jobs::complete(&db.conn, first[0].id).await.unwrap();
    let next = waiting(&db, t).await;
    assert_eq!(next.len(), 1);
    assert_ne!(next[0].id, first[0].id);
    assert!(next[0].run_at > chrono::Utc::now() + Duration::hours(1));

    assert_eq!(smtpd.run_mail_jobs(&db).await, 2);
    let got = smtpd.messages();
    let mut to: Vec<&str> = got.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, vec!["bea@a.example", "wanda@a.example"], "{got:?}");
    let de = today.format("%d.%m.%Y").to_string();
    for m in &got {
        assert_eq!(m.subject, format!("Wiedervorlagen am {de}"));
        assert!(
            !m.body.contains("Erledigt") && !m.body.contains("Morgen"),
            "{}",
            m.body
        );
    }
    let bea = got.iter().find(|m| m.to == "bea@a.example").unwrap();
    assert!(bea.body.contains(&general_no), "{}", bea.body);
    assert!(bea.body.contains("Stellungnahme Nachbar"));
    assert!(
        bea.body
            .contains(&format!("https://{HOST}/akten/akte/{general}")),
        "{}",
        bea.body
    );
    assert!(!bea.body.contains("Geheim") && !bea.body.contains("Wohngeld Mustermann"));
    let wanda = got.iter().find(|m| m.to == "wanda@a.example").unwrap();
    for s in [
        "Bescheid prüfen",
        "Rückruf",
        "Wohngeld Mustermann",
        "(2)",
        &format!("https://{HOST}/akten/akte/{wohngeld}"),
    ] {
        assert!(wanda.body.contains(s), "{s} in {}", wanda.body);
    }
    assert!(!got.iter().any(|m| m.to == dogs_only.email));
    let _ = reader;

    // Audited.
    let audited = scoped::<audit_event::Entity>(t)
        .filter(audit_event::Column::Action.eq("records.follow_ups_mailed"))
        .count(&db.conn)
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // The same run again (a retry after a lost lease): no mail twice, no second chain.
    handler.run(&db, &first[0]).await.unwrap();
    assert_eq!(waiting(&db, t).await.len(), 1);
    assert_eq!(smtpd.run_mail_jobs(&db).await, 0);
    assert_eq!(smtpd.messages().len(), 2);

    // Today's run fails (its table is gone): tomorrow's run is queued all the same, once.
    job::Entity::delete_many()
        .filter(job::Column::Kind.eq(follow_up_mail::JOB))
        .exec(&db.conn)
        .await
        .unwrap();
    db.conn
        .execute_unprepared("DROP TABLE records_follow_up_notices")
        .await
        .unwrap();
    let failing = jobs::enqueue(&db.conn, t, follow_up_mail::JOB, serde_json::json!({}), 3)
        .await
        .unwrap();
    assert!(handler.run(&db, &failing).await.is_err());
    assert!(handler.run(&db, &failing).await.is_err());
    let after = waiting(&db, t).await;
    let later: Vec<_> = after
        .iter()
        .filter(|j| j.run_at > chrono::Utc::now() + Duration::hours(1))
        .collect();
    assert_eq!(later.len(), 1, "{after:?}");
}
