//! The inbox's department choice over the pages, on both databases: a clerk works in their
//! department's inbox by default and may switch to the general one, never to another
//! department's (refused with the error on the page, nothing stored, its scans invisible and
//! not assignable); an admin chooses any department's inbox, uploads into it and assigns from
//! it back to the same inbox.

use rathaus_records::Records;
use rathaus_records::permissions::{MANAGE, VIEW};
use rathaus_records::service::files::{self, FileInput};
use rathaus_records::service::plan::{self, PlanItemInput};
use rathaus_records::store::entity::inbox_item;
use rathaus_store::accounts::{self, RoleInput, UserInput};
use rathaus_store::uow::{Actor, scoped};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture};
use rathaus_web::Module;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
use std::sync::Arc;

const HOST: &str = "posteingang.a.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Records)]
}

fn scan(csrf: &str, name: &str) -> Form {
    Form::new().text("_csrf", csrf.to_string()).part(
        "file",
        Part::bytes(format!("Scan {name}").into_bytes()).file_name(name.to_string()),
    )
}

#[tokio::test]
async fn clerks_choose_their_departments_inbox_and_no_other() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let t = a.tenant;
    let admin = rathaus_testkit::principal(&db, t, a.admin).await;
    let bau = accounts::create_department(&db.conn, t, Actor::system("test"), "Bauamt")
        .await
        .unwrap()
        .id;
    let ord = accounts::create_department(&db.conn, t, Actor::system("test"), "Ordnungsamt")
        .await
        .unwrap()
        .id;
    let role = accounts::create_role(
        &db.conn,
        t,
        Actor::system("test"),
        RoleInput {
            name: "Akten",
            description: "",
            permissions: &[MANAGE.to_string(), VIEW.to_string()],
        },
    )
    .await
    .unwrap();
    accounts::create_user(
        &db.conn,
        t,
        Actor::system("test"),
        UserInput {
            email: "bau@a.example",
            name: "Bernd Bau",
            password: PASSWORD,
            department_id: Some(bau),
            role_ids: &[role.id],
            active: true,
        },
    )
    .await
    .unwrap();
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
    let f = files::create(
        &db.conn,
        Actor::User(&admin),
        t,
        &FileInput {
            plan_code: "100".into(),
            title: "Sammelakte".into(),
            kind: "general".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let inbox = format!("{base}/akten/posteingang");
    let items = |d: Option<i64>| {
        let db = db.clone();
        async move {
            let q = scoped::<inbox_item::Entity>(t);
            let q = match d {
                Some(d) => q.filter(inbox_item::Column::DepartmentId.eq(d)),
                None => q.filter(inbox_item::Column::DepartmentId.is_null()),
            };
            q.count(&db.conn).await.unwrap()
        }
    };

    // The clerk: their department's inbox by default, the general one on choice; the other
    // department is not offered.
    let c = app.client(&[HOST]);
    login(&c, &base, "bau@a.example", PASSWORD).await;
    let page = c.get(&inbox).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains(&format!("<option value=\"{bau}\" selected>Bauamt</option>")),
        "{page}"
    );
    assert!(!page.contains("Ordnungsamt"));
    assert!(page.contains(&format!(
        "action=\"/akten/posteingang?bereich={bau}&amp;_csrf="
    )));
    let k = csrf_of(&page);
    let r = c
        .post(format!("{inbox}?bereich={bau}&_csrf={k}"))
        .multipart(scan(&k, "bau-1.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/akten/posteingang?bereich={bau}&notice=records_uploaded")
    );
    assert_eq!(items(Some(bau)).await, 1);
    let page = c.get(&inbox).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("bau-1.txt"));
    let general = c
        .get(format!("{inbox}?bereich="))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!general.contains("bau-1.txt"));
    assert!(
        general.contains("<option value=\"\" selected>"),
        "{general}"
    );

    // Another department's inbox: refused with the error, nothing stored.
    let r = c
        .post(format!("{inbox}?bereich={ord}&_csrf={k}"))
        .multipart(scan(&k, "fremd.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Diesen Posteingang können Sie nicht wählen.")
    );
    assert_eq!(items(Some(ord)).await, 0);
    let r = c
        .get(format!("{inbox}?bereich={ord}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c.get(format!("{inbox}?bereich=abc")).send().await.unwrap();
    assert_eq!(r.status(), 422);

    // The admin chooses the other department, uploads there and assigns back to it.
    let adm = app.client(&[HOST]);
    login(&adm, &base, &a.admin_email, PASSWORD).await;
    let page = adm
        .get(format!("{inbox}?bereich={ord}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Bauamt") && page.contains("Ordnungsamt"));
    let ka = csrf_of(&page);
    let r = adm
        .post(format!("{inbox}?bereich={ord}&_csrf={ka}"))
        .multipart(scan(&ka, "ord-1.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(items(Some(ord)).await, 1);
    let ord_item = scoped::<inbox_item::Entity>(t)
        .filter(inbox_item::Column::DepartmentId.eq(ord))
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    // Invisible to the clerk, and not assignable by them.
    let page = c.get(&inbox).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("ord-1.txt"));
    let r = c
        .post(format!("{inbox}/{}/zuordnen", ord_item.id))
        .form(&[
            ("_csrf", k.as_str()),
            ("file_number", f.file_number.as_str()),
            ("bereich", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = adm
        .post(format!("{inbox}/{}/zuordnen", ord_item.id))
        .form(&[
            ("_csrf", ka.as_str()),
            ("file_number", f.file_number.as_str()),
            ("bereich", &ord.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/akten/posteingang?bereich={ord}&notice=records_assigned")
    );
}
