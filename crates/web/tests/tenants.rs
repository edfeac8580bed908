//! Tenant isolation: nothing of tenant A is reachable from tenant B, through pages, forms,
//! sessions or API tokens; unknown hosts are refused; a single tenant answers on any host.

use crate::common;

use common::{csrf, get, h1, location, post, signed_in, snapshot};
use rathaus_store::accounts::{self, RoleInput};
use rathaus_store::{jobs, tokens};
use rathaus_testkit::{Fixture, PASSWORD, TestApp, TestDb, login, tenant_fixture};
use rathaus_web::WebConfig;

const A: &str = "a.test";
const B: &str = "b.test";

struct Two {
    app: TestApp,
    a: Fixture,
    b: Fixture,
}

async fn two_tenants() -> Two {
    let tdb = TestDb::new().await;
    let a = tenant_fixture(&tdb.db, "a", A).await;
    let b = tenant_fixture(&tdb.db, "b", B).await;
    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    Two { app, a, b }
}

fn session_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rathaus_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string()
}

#[tokio::test]
async fn sessions_and_tokens_of_a_do_not_work_on_b() {
    let Two { app, a, .. } = two_tenants().await;
    let base_a = app.url(A, "");
    let base_b = app.url(B, "");

    // A's session cookie, replayed on B's host (a browser would never send it; an attacker would).
    let c = app.client(&[A]);
    let r = login(&c, &base_a, &a.admin_email, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = session_cookie(&r);
    let other = app.client(&[A, B]);
    let r = other
        .get(format!("{base_a}/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "control: the cookie works on A");
    for path in ["/staff", "/admin/users", "/account"] {
        let r = other
            .get(format!("{base_b}{path}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "A's session on B's {path}");
        assert!(location(&r).starts_with("/login"), "{path}");
    }

    // A's credentials do not sign in on B.
    let r = login(&app.client(&[B]), &base_b, &a.admin_email, PASSWORD).await;
    assert_eq!(r.status(), 422);

    // A's API token.
    let (token, _) = tokens::create(
        &app.db.conn,
        a.tenant,
        a.admin,
        rathaus_store::uow::Actor::system("test"),
        "A",
    )
    .await
    .unwrap();
    let r = other
        .get(format!("{base_a}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "control: the token works on A");
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["tenant"]["slug"], "a");
    let r = other
        .get(format!("{base_b}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "A's token on B");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn b_admin_gets_404_for_every_object_of_a_and_changes_nothing() {
    let Two { app, a, b } = two_tenants().await;
    let db = app.db.clone();
    let base_b = app.url(B, "");

    // Objects of A, one for each kind of {id} route.
    let a_role = accounts::create_role(
        &db.conn,
        a.tenant,
        rathaus_store::uow::Actor::system("test"),
        RoleInput {
            name: "Geheime Rolle A",
            description: "",
            permissions: &[],
        },
    )
    .await
    .unwrap();
    let a_dept = accounts::create_department(
        &db.conn,
        a.tenant,
        rathaus_store::uow::Actor::system("test"),
        "Geheimer Fachbereich A",
    )
    .await
    .unwrap();
    jobs::enqueue(&db.conn, a.tenant, "test.fails", serde_json::json!({}), 1)
        .await
        .unwrap();
    let a_job = jobs::claim(&db).await.unwrap().unwrap();
    jobs::fail(&db.conn, &a_job, "kaputt").await.unwrap();
    let (_, a_token) = tokens::create(
        &db.conn,
        a.tenant,
        a.admin,
        rathaus_store::uow::Actor::system("test"),
        "A",
    )
    .await
    .unwrap();
    let a_admin_role = accounts::role_by_name(&db.conn, a.tenant, "admin")
        .await
        .unwrap()
        .unwrap();

    let admin_b = signed_in(&app, B, &b.admin_email).await;
    let k = csrf(&admin_b, &base_b).await;

    for id in [a.clerk.0, a.admin.0] {
        let r = get(&admin_b, &format!("{base_b}/admin/users/{id}")).await;
        assert_eq!(r.status(), 404, "GET A's user {id} from B");
        assert_eq!(h1(&r.text().await.unwrap()), "Seite nicht gefunden");
    }
    for id in [a_role.id, a_admin_role.id] {
        let r = get(&admin_b, &format!("{base_b}/admin/roles/{id}")).await;
        assert_eq!(r.status(), 404, "GET A's role {id} from B");
    }

    let posts: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            format!("/admin/users/{}", a.clerk.0),
            vec![
                ("name", "Übernommen".into()),
                ("email", a.clerk_email.clone()),
                ("password", "".into()),
                ("active", "on".into()),
            ],
        ),
        (
            format!("/admin/users/{}", a.admin.0),
            vec![
                ("name", "Anna Admin".into()),
                ("email", a.admin_email.clone()),
                ("password", "übernahme durch gemeinde b".into()),
            ],
        ),
        (
            format!("/admin/roles/{}", a_role.id),
            vec![
                ("name", "Übernommen".into()),
                ("permissions", "admin.users".into()),
            ],
        ),
        (format!("/admin/roles/{}/delete", a_role.id), vec![]),
        (
            format!("/admin/departments/{}", a_dept.id),
            vec![("name", "Übernommen".into())],
        ),
        (format!("/admin/departments/{}/delete", a_dept.id), vec![]),
        (format!("/admin/jobs/{}/retry", a_job.id), vec![]),
        (format!("/account/tokens/{}/revoke", a_token.id), vec![]),
    ];
    let before = snapshot(&db).await;
    for (path, fields) in &posts {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post(&admin_b, &format!("{base_b}{path}"), &k, &fields).await;
        assert_eq!(r.status(), 404, "POST {path} (A's object) from B");
    }
    assert_eq!(snapshot(&db).await, before, "B changed data of A");

    // B may not hand out A's roles or put users into A's departments either.
    let users_before = common::users(&db).await.len();
    for (field, value) in [
        ("roles", a_admin_role.id.to_string()),
        ("department_id", a_dept.id.to_string()),
    ] {
        let r = post(
            &admin_b,
            &format!("{base_b}/admin/users/new"),
            &k,
            &[
                ("name", "Bea Bürger"),
                ("email", "bea@b.example"),
                ("password", "wolkenbruch am nachmittag"),
                ("active", "on"),
                (field, &value),
            ],
        )
        .await;
        assert_eq!(r.status(), 422, "{field} of A");
        let html = r.text().await.unwrap();
        assert!(common::field_error(&html, field).is_some(), "{field}");
    }
    assert_eq!(common::users(&db).await.len(), users_before);
}

#[tokio::test]
async fn b_lists_show_nothing_of_a() {
    let Two { app, a, b } = two_tenants().await;
    let db = app.db.clone();
    let (base_a, base_b) = (app.url(A, ""), app.url(B, ""));

    // A's admin leaves traces: a department, a role, a job, audit events.
    let admin_a = signed_in(&app, A, &a.admin_email).await;
    let ka = csrf(&admin_a, &base_a).await;
    let r = post(
        &admin_a,
        &format!("{base_a}/admin/departments"),
        &ka,
        &[("name", "Geheimer Fachbereich A")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post(
        &admin_a,
        &format!("{base_a}/admin/roles/new"),
        &ka,
        &[("name", "Geheime Rolle A"), ("description", "")],
    )
    .await;
    assert_eq!(r.status(), 303);
    jobs::enqueue(
        &db.conn,
        a.tenant,
        "geheime.aufgabe.a",
        serde_json::json!({}),
        1,
    )
    .await
    .unwrap();

    // Controls: A sees its own things.
    let audit_a = get(&admin_a, &format!("{base_a}/admin/audit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(audit_a.contains("Geheimer Fachbereich A"));
    assert!(audit_a.contains(&a.admin_email));

    let admin_b = signed_in(&app, B, &b.admin_email).await;
    // Filtering B's log by A's admin or by an action only A has finds nothing.
    for path in [
        "/admin/audit?actor=admin%40a.example",
        "/admin/audit?action=department.created",
    ] {
        let r = get(&admin_b, &format!("{base_b}{path}")).await;
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("Keine Ereignisse gefunden."), "{path}");
        assert!(!html.contains("Geheimer Fachbereich A"), "{path}");
    }
    let pages = [
        "/admin/audit",
        "/admin/users",
        "/admin/roles",
        "/admin/departments",
        "/admin/jobs",
        "/admin/users/new",
        "/account/tokens",
        "/staff",
    ];
    for path in pages {
        let r = get(&admin_b, &format!("{base_b}{path}")).await;
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        for secret in [
            "@a.example",
            "Geheimer Fachbereich A",
            "Geheime Rolle A",
            "geheime.aufgabe.a",
        ] {
            assert!(!html.contains(secret), "B's {path} shows {secret:?} of A");
        }
    }
    // B's lists are not simply empty.
    let users_b = get(&admin_b, &format!("{base_b}/admin/users"))
        .await
        .text()
        .await
        .unwrap();
    assert!(users_b.contains(&b.clerk_email));
    let audit_b = get(&admin_b, &format!("{base_b}/admin/audit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(audit_b.contains(&b.admin_email), "B's own login is listed");
}

#[tokio::test]
async fn an_unknown_host_is_refused_when_there_are_two_tenants() {
    let Two { app, a, .. } = two_tenants().await;
    let c = app.client(&["c.test", A]);
    let before = snapshot(&app.db).await;
    for path in ["/", "/login", "/staff", "/impressum"] {
        let r = get(&c, &app.url("c.test", path)).await;
        assert_eq!(r.status(), 404, "{path}");
        let html = r.text().await.unwrap();
        assert_eq!(h1(&html), "Unbekannte Adresse", "{path}");
        assert!(html.contains("<html lang=\"de\">"));
    }
    // Not even a login attempt reaches the database.
    let r = c
        .post(app.url("c.test", "/login"))
        .form(&[("email", a.admin_email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The API answers such a host with a problem document.
    let r = get(&c, &app.url("c.test", "/api/v1/me")).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(snapshot(&app.db).await, before);
    // Host names are matched without port and case.
    let r = get(&c, &app.url(A, "/")).await;
    assert_eq!(r.status(), 200);
    let r = c
        .get(app.url(A, "/"))
        .header("host", "A.TEST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_single_tenant_answers_on_any_host() {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "einzig", "rathaus.einzig.test").await;
    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    for host in ["irgendwas.test", "localhost", "127.0.0.1"] {
        let c = app.client(&[host]);
        let base = app.url(host, "");
        let r = get(&c, &format!("{base}/")).await;
        assert_eq!(r.status(), 200, "{host}");
        assert!(r.text().await.unwrap().contains("Gemeinde einzig"));
        let r = login(&c, &base, &f.admin_email, PASSWORD).await;
        assert_eq!(r.status(), 303, "login on {host}");
        assert_eq!(get(&c, &format!("{base}/staff")).await.status(), 200);
    }
}
