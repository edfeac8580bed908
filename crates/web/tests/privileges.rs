//! Nobody grants a right they lack, nobody takes over an account that holds more rights than
//! they do, and the last administrator stays (security review, finding 1); redirect targets
//! stay on the site (finding 2).

use crate::common;

use common::{csrf, field_error, get, location, post, signed_in};
use rathaus_core::permissions::{ADMIN_ROLES, ADMIN_USERS};
use rathaus_core::{Error, UserId};
use rathaus_store::accounts::{self, RoleInput, UserInput};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, principal, tenant_fixture, user_with};
use rathaus_web::WebConfig;

const HOST: &str = "rathaus.a.test";

async fn app() -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    (TestApp::spawn(tdb, WebConfig::default()).await, f)
}

async fn admin_role_id(app: &TestApp, f: &rathaus_testkit::Fixture) -> i64 {
    accounts::role_by_name(&app.db.conn, f.tenant, "admin")
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn roles_of(app: &TestApp, f: &rathaus_testkit::Fixture, user: i64) -> Vec<i64> {
    let admin = principal(&app.db, f.tenant, f.admin).await;
    accounts::get_user(&app.db.conn, &admin, user)
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn a_user_administrator_cannot_make_anyone_an_administrator() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let hr = user_with(
        &app.db,
        f.tenant,
        "hr@a.example",
        "Hanna HR",
        &[ADMIN_USERS],
    )
    .await;
    let admin_role = admin_role_id(&app, &f).await;
    let c = signed_in(&app, HOST, "hr@a.example").await;
    let k = csrf(&c, &base).await;
    let own_roles = roles_of(&app, &f, hr.user_id.0).await;

    // Not themselves …
    let mut fields = vec![
        ("name", "Hanna HR".to_string()),
        ("email", "hr@a.example".to_string()),
        ("active", "on".to_string()),
        ("roles", admin_role.to_string()),
    ];
    fields.extend(own_roles.iter().map(|r| ("roles", r.to_string())));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post(
        &c,
        &format!("{base}/admin/users/{}", hr.user_id.0),
        &k,
        &fields,
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        field_error(&html, "roles")
            .unwrap()
            .contains("Rechte Sie selbst haben"),
        "{html}"
    );
    assert_eq!(roles_of(&app, &f, hr.user_id.0).await, own_roles);

    // … nor a new account.
    let r = post(
        &c,
        &format!("{base}/admin/users/new"),
        &k,
        &[
            ("name", "Mallory"),
            ("email", "mallory@a.example"),
            ("password", "ein langes neues Passwort 7"),
            ("active", "on"),
            ("roles", &admin_role.to_string()),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        accounts::find_by_email(&app.db.conn, f.tenant, "mallory@a.example")
            .await
            .unwrap()
            .is_none()
    );

    // A role within their own rights is fine.
    let helper = accounts::create_role(
        &app.db.conn,
        f.tenant,
        rathaus_store::uow::Actor::system("test"),
        RoleInput {
            name: "Personalhilfe",
            description: "",
            permissions: &[ADMIN_USERS.to_string()],
        },
    )
    .await
    .unwrap();
    let r = post(
        &c,
        &format!("{base}/admin/users/new"),
        &k,
        &[
            ("name", "Paul"),
            ("email", "paul@a.example"),
            ("password", "ein langes neues Passwort 7"),
            ("active", "on"),
            ("roles", &helper.id.to_string()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn a_user_administrator_cannot_take_over_an_administrator() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    user_with(
        &app.db,
        f.tenant,
        "hr@a.example",
        "Hanna HR",
        &[ADMIN_USERS],
    )
    .await;
    let admin_role = admin_role_id(&app, &f).await.to_string();
    let c = signed_in(&app, HOST, "hr@a.example").await;
    let k = csrf(&c, &base).await;
    let url = format!("{base}/admin/users/{}", f.admin.0);

    for (what, fields) in [
        (
            "password",
            vec![
                ("name", "Anna Admin"),
                ("email", f.admin_email.as_str()),
                ("password", "übernommen und ganz neu 9"),
                ("active", "on"),
                ("roles", admin_role.as_str()),
            ],
        ),
        (
            "e-mail",
            vec![
                ("name", "Anna Admin"),
                ("email", "hr-inbox@a.example"),
                ("active", "on"),
                ("roles", admin_role.as_str()),
            ],
        ),
        (
            "roles",
            vec![
                ("name", "Anna Admin"),
                ("email", f.admin_email.as_str()),
                ("active", "on"),
            ],
        ),
        (
            "disabling",
            vec![
                ("name", "Anna Admin"),
                ("email", f.admin_email.as_str()),
                ("roles", admin_role.as_str()),
            ],
        ),
    ] {
        let r = post(&c, &url, &k, &fields).await;
        assert_eq!(r.status(), 403, "{what}");
    }
    let r = post(&c, &format!("{url}/reset-totp"), &k, &[]).await;
    assert_eq!(r.status(), 403, "TOTP reset");

    // The administrator is untouched and still signs in with the old password.
    let admin = accounts::user_by_id(&app.db.conn, f.tenant, f.admin.0)
        .await
        .unwrap();
    assert_eq!(admin.email, f.admin_email);
    assert!(admin.active);
    assert_eq!(roles_of(&app, &f, f.admin.0).await.len(), 1);
    let fresh = app.client(&[HOST]);
    let r = login(&fresh, &base, &f.admin_email, PASSWORD).await;
    assert_eq!(r.status(), 303);

    // The same rules hold for the service itself (the CLI and other callers).
    let hr_id = accounts::find_by_email(&app.db.conn, f.tenant, "hr@a.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    let hr = principal(&app.db, f.tenant, UserId(hr_id)).await;
    let e = accounts::reset_totp(
        &app.db.conn,
        f.tenant,
        rathaus_store::uow::Actor::User(&hr),
        f.admin,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden));

    // A clerk with fewer rights may still be managed by the user administrator.
    let r = post(
        &c,
        &format!("{base}/admin/users/{}", f.clerk.0),
        &k,
        &[
            ("name", "Carl Clerk"),
            ("email", f.clerk_email.as_str()),
            ("password", "ein langes neues Passwort 7"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn a_role_administrator_cannot_widen_roles_beyond_their_own_rights() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let ra = user_with(
        &app.db,
        f.tenant,
        "roles@a.example",
        "Rolf Rollen",
        &[ADMIN_ROLES],
    )
    .await;
    let c = signed_in(&app, HOST, "roles@a.example").await;
    let k = csrf(&c, &base).await;

    let r = post(
        &c,
        &format!("{base}/admin/roles/new"),
        &k,
        &[("name", "Alles"), ("permissions", ADMIN_USERS)],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        field_error(&r.text().await.unwrap(), "permissions")
            .unwrap()
            .contains("die Sie selbst haben")
    );
    assert!(
        accounts::role_by_name(&app.db.conn, f.tenant, "Alles")
            .await
            .unwrap()
            .is_none()
    );

    // Their own role (named like their address by the testkit) cannot be widened either.
    let own = accounts::role_by_name(&app.db.conn, f.tenant, "roles@a.example")
        .await
        .unwrap()
        .unwrap();
    let r = post(
        &c,
        &format!("{base}/admin/roles/{}", own.id),
        &k,
        &[
            ("name", "roles@a.example"),
            ("permissions", ADMIN_ROLES),
            ("permissions", ADMIN_USERS),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let after = principal(&app.db, f.tenant, ra.user_id).await;
    assert!(!after.has(ADMIN_USERS));

    // A role holding rights they lack is not theirs to edit or delete.
    let strong = accounts::create_role(
        &app.db.conn,
        f.tenant,
        rathaus_store::uow::Actor::system("test"),
        RoleInput {
            name: "Personal",
            description: "",
            permissions: &[ADMIN_USERS.to_string()],
        },
    )
    .await
    .unwrap();
    let r = post(
        &c,
        &format!("{base}/admin/roles/{}", strong.id),
        &k,
        &[("name", "Personal")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = post(
        &c,
        &format!("{base}/admin/roles/{}/delete", strong.id),
        &k,
        &[],
    )
    .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_last_administrator_cannot_be_demoted_or_disabled() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let admin_role = admin_role_id(&app, &f).await;
    let c = signed_in(&app, HOST, &f.admin_email).await;
    let k = csrf(&c, &base).await;
    let url = format!("{base}/admin/users/{}", f.admin.0);
    let demote = [
        ("name", "Anna Admin"),
        ("email", f.admin_email.as_str()),
        ("active", "on"),
    ];
    let r = post(&c, &url, &k, &demote).await;
    assert_eq!(r.status(), 422);
    assert!(
        field_error(&r.text().await.unwrap(), "roles")
            .unwrap()
            .contains("letzte aktive Administrationskonto")
    );
    assert_eq!(roles_of(&app, &f, f.admin.0).await, vec![admin_role]);

    // An inactive second administrator does not count; an active one does.
    let second = accounts::create_user(
        &app.db.conn,
        f.tenant,
        rathaus_store::uow::Actor::system("test"),
        UserInput {
            email: "bernd@a.example",
            name: "Bernd Admin",
            password: PASSWORD,
            department_id: None,
            role_ids: &[admin_role],
            active: false,
        },
    )
    .await
    .unwrap();
    let r = post(&c, &url, &k, &demote).await;
    assert_eq!(r.status(), 422);

    let admin = principal(&app.db, f.tenant, f.admin).await;
    let e = accounts::update_user(
        &app.db.conn,
        &admin,
        second.id,
        UserInput {
            email: "bernd@a.example",
            name: "Bernd Admin",
            password: "",
            department_id: None,
            role_ids: &[admin_role],
            active: true,
        },
    )
    .await;
    assert!(e.is_ok());
    let r = post(&c, &url, &k, &demote).await;
    assert_eq!(r.status(), 303);

    // Now Bernd is the last one and cannot demote himself.
    let bernd = principal(&app.db, f.tenant, UserId(second.id)).await;
    let e = accounts::update_user(
        &app.db.conn,
        &bernd,
        second.id,
        UserInput {
            email: "bernd@a.example",
            name: "Bernd Admin",
            password: "",
            department_id: None,
            role_ids: &[],
            active: true,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
}

#[tokio::test]
async fn redirect_targets_stay_on_the_site() {
    let (app, f) = app().await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    for back in [
        "/%09/evil.example",
        "/%0d/evil.example",
        "/%0a/evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "/.//evil.example",
        "https:evil.example",
        "https://evil.example/",
    ] {
        let r = get(&c, &format!("{base}/sprache?lang=en&back={back}")).await;
        assert_eq!(r.status(), 303, "{back}");
        assert_eq!(location(&r), "/", "{back}");
    }
    let r = get(&c, &format!("{base}/sprache?lang=de&back=/maengel%3Fa%3Db")).await;
    assert_eq!(location(&r), "/maengel?a=b");

    // The login's `next` too.
    let page = get(&c, &format!("{base}/login"))
        .await
        .text()
        .await
        .unwrap();
    let k = rathaus_testkit::csrf_of(&page);
    let r = post(
        &c,
        &format!("{base}/login"),
        &k,
        &[
            ("email", f.admin_email.as_str()),
            ("password", PASSWORD),
            ("next", "/\t/evil.example"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/staff");
}
