//! Bad input on the admin and account forms: 422, a German message beside the field, what was
//! typed kept, and nothing stored. Good input is stored and audited with the acting admin.

use crate::common;

use common::{audit_events, csrf, field_error, get, post, signed_in, snapshot};
use rathaus_store::accounts;
use rathaus_testkit::{Fixture, PASSWORD, TestApp, TestDb, login, tenant_fixture};
use rathaus_web::WebConfig;

const HOST: &str = "rathaus.a.test";

struct Setup {
    app: TestApp,
    a: Fixture,
    b: Fixture,
    admin: reqwest::Client,
    k: String,
    base: String,
}

async fn setup() -> Setup {
    let tdb = TestDb::new().await;
    let a = tenant_fixture(&tdb.db, "a", HOST).await;
    let b = tenant_fixture(&tdb.db, "b", "rathaus.b.test").await;
    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    let base = app.url(HOST, "");
    let admin = signed_in(&app, HOST, &a.admin_email).await;
    let k = csrf(&admin, &base).await;
    Setup {
        app,
        a,
        b,
        admin,
        k,
        base,
    }
}

const SUMMARY: &str = "Bitte prüfen Sie die markierten Felder.";

/// One kind of bad input for the new-user form.
struct Case<'a> {
    case: &'a str,
    email: &'a str,
    password: &'a str,
    /// A further field sent with the form.
    extra: Option<(&'a str, &'a str)>,
    /// The field the message must stand beside, and words of it.
    field: &'a str,
    words: &'a str,
}

#[tokio::test]
async fn bad_user_input_is_refused_beside_the_field_and_nothing_is_stored() {
    let Setup {
        app,
        a,
        b,
        admin,
        k,
        base,
    } = setup().await;
    let db = &app.db;
    let b_role = accounts::role_by_name(&db.conn, b.tenant, "admin")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let b_dept = accounts::create_department(
        &db.conn,
        b.tenant,
        rathaus_store::uow::Actor::system("test"),
        "Fremdes Amt",
    )
    .await
    .unwrap()
    .id
    .to_string();
    let a_role = accounts::role_by_name(&db.conn, a.tenant, "Sachbearbeitung")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let taken = a.clerk_email.to_uppercase();
    let good_pw = "wolkenbruch am nachmittag";

    let cases = [
        Case {
            case: "invalid e-mail",
            email: "erika.musterfrau-at-example",
            password: good_pw,
            extra: None,
            field: "email",
            words: "gültige E-Mail-Adresse",
        },
        Case {
            case: "e-mail without domain",
            email: "erika@localhost",
            password: good_pw,
            extra: None,
            field: "email",
            words: "gültige E-Mail-Adresse",
        },
        Case {
            case: "five characters",
            email: "erika@a.example",
            password: "kurz5",
            extra: None,
            field: "password",
            words: "mindestens 8 Zeichen",
        },
        Case {
            case: "common password",
            email: "erika@a.example",
            password: "password1",
            extra: None,
            field: "password",
            words: "zu leicht zu erraten",
        },
        Case {
            case: "e-mail already used (other case)",
            email: &taken,
            password: good_pw,
            extra: None,
            field: "email",
            words: "bereits verwendet",
        },
        Case {
            case: "role of another tenant",
            email: "erika@a.example",
            password: good_pw,
            extra: Some(("roles", &b_role)),
            field: "roles",
            words: "Eintrag aus der Liste",
        },
        Case {
            case: "department of another tenant",
            email: "erika@a.example",
            password: good_pw,
            extra: Some(("department_id", &b_dept)),
            field: "department_id",
            words: "Eintrag aus der Liste",
        },
    ];
    let users_before = common::users(db).await.len();
    let before = snapshot(db).await;
    for Case {
        case,
        email,
        password,
        extra,
        field,
        words,
    } in &cases
    {
        let mut fields = vec![
            ("name", "Erika Musterfrau"),
            ("email", *email),
            ("password", *password),
            ("roles", a_role.as_str()),
            ("active", "on"),
        ];
        if let Some(x) = extra {
            fields.push(*x);
        }
        let r = post(&admin, &format!("{base}/admin/users/new"), &k, &fields).await;
        assert_eq!(r.status(), 422, "{case}");
        let html = r.text().await.unwrap();
        let msg = field_error(&html, field).unwrap_or_else(|| panic!("{case}: no message"));
        assert!(msg.contains(words), "{case}: {msg}");
        assert!(html.contains(SUMMARY), "{case}");
        assert!(
            html.contains("value=\"Erika Musterfrau\""),
            "{case}: typed name kept"
        );
        assert!(
            html.contains(&format!("value=\"{email}\"")),
            "{case}: typed e-mail kept"
        );
        assert!(
            !html.contains(&format!("value=\"{password}\"")),
            "{case}: the password is not sent back"
        );
        assert!(
            html.contains(&format!("value=\"{a_role}\" checked")),
            "{case}: chosen role kept"
        );
        assert!(html.contains("aria-invalid=\"true\"") || field == &"roles");
        assert_eq!(common::users(db).await.len(), users_before, "{case}");
    }
    // Everything missing at once: one message per field.
    let r = post(&admin, &format!("{base}/admin/users/new"), &k, &[]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    for field in ["name", "email", "password"] {
        assert!(
            field_error(&html, field).is_some_and(|m| m.starts_with("Bitte")),
            "{field}"
        );
    }
    assert_eq!(
        snapshot(db).await,
        before,
        "nothing stored, nothing audited"
    );

    // Good input: stored, and audited with the acting admin.
    let r = post(
        &admin,
        &format!("{base}/admin/users/new"),
        &k,
        &[
            ("name", "Erika Musterfrau"),
            ("email", "Erika@A.example"),
            ("password", good_pw),
            ("roles", a_role.as_str()),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(common::location(&r), "/admin/users?notice=user_created");
    let erika = accounts::find_by_email(&db.conn, a.tenant, "erika@a.example")
        .await
        .unwrap()
        .expect("stored, e-mail in lower case");
    let ev = common::audit_events(db)
        .await
        .into_iter()
        .find(|e| e.action == "user.created" && e.object_id == Some(erika.id.to_string()))
        .expect("user.created event");
    assert_eq!(ev.actor_id, Some(a.admin.0));
    assert_eq!(ev.actor_label, a.admin_email);
    assert_eq!(ev.tenant_id, a.tenant.0);
    assert!(
        !ev.details.contains(good_pw),
        "no password in the audit log"
    );
    let list = get(&admin, &format!("{base}/admin/users?notice=user_created"))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Der Benutzer wurde angelegt."));
    assert!(list.contains("erika@a.example"));
    let c = app.client(&[HOST]);
    assert_eq!(
        login(&c, &base, "erika@a.example", good_pw).await.status(),
        303
    );
}

#[tokio::test]
async fn bad_user_edits_are_refused() {
    let Setup {
        app,
        a,
        admin,
        k,
        base,
        ..
    } = setup().await;
    let before = snapshot(&app.db).await;
    let path = format!("{base}/admin/users/{}", a.clerk.0);
    // Another user's address.
    let r = post(
        &admin,
        &path,
        &k,
        &[
            ("name", "Carl Umbenannt"),
            ("email", a.admin_email.as_str()),
            ("password", ""),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "email").is_some_and(|m| m.contains("bereits verwendet")));
    assert!(html.contains("value=\"Carl Umbenannt\""));
    // A new password that is too short.
    let r = post(
        &admin,
        &path,
        &k,
        &[
            ("name", "Carl Clerk"),
            ("email", a.clerk_email.as_str()),
            ("password", "1234567"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        field_error(&r.text().await.unwrap(), "password")
            .is_some_and(|m| m.contains("mindestens 8 Zeichen"))
    );
    // The admin cannot lock themselves out.
    let r = post(
        &admin,
        &format!("{base}/admin/users/{}", a.admin.0),
        &k,
        &[
            ("name", "Anna Admin"),
            ("email", a.admin_email.as_str()),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        field_error(&r.text().await.unwrap(), "active")
            .is_some_and(|m| m.contains("eigenes Konto"))
    );
    // An unknown user.
    let r = post(
        &admin,
        &format!("{base}/admin/users/999999"),
        &k,
        &[
            ("name", "Niemand"),
            ("email", "niemand@a.example"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(snapshot(&app.db).await, before);
}

#[tokio::test]
async fn bad_role_input_is_refused() {
    let Setup {
        app,
        a,
        admin,
        k,
        base,
        ..
    } = setup().await;
    let db = &app.db;
    let before = snapshot(db).await;
    let new = format!("{base}/admin/roles/new");

    let r = post(
        &admin,
        &new,
        &k,
        &[("name", "   "), ("description", "Kasse und Buchhaltung")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "name").is_some_and(|m| m.starts_with("Bitte")));
    assert!(html.contains("Kasse und Buchhaltung"), "description kept");

    let r = post(
        &admin,
        &new,
        &k,
        &[
            ("name", "Sachbearbeitung"),
            ("description", ""),
            ("permissions", "admin.audit"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422, "duplicate role name");
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "name").is_some_and(|m| m.contains("bereits verwendet")));
    assert!(html.contains("value=\"Sachbearbeitung\""));
    assert!(
        html.contains("value=\"admin.audit\" checked"),
        "chosen permission kept"
    );

    let r = post(
        &admin,
        &new,
        &k,
        &[("name", "Allmacht"), ("permissions", "alles.erlaubt")],
    )
    .await;
    assert_eq!(r.status(), 422, "unknown permission");
    assert!(field_error(&r.text().await.unwrap(), "permissions").is_some());

    let r = post(&admin, &new, &k, &[("name", &"R".repeat(101))]).await;
    assert_eq!(r.status(), 422, "too long");
    assert!(
        field_error(&r.text().await.unwrap(), "name")
            .is_some_and(|m| m.contains("höchstens 100 Zeichen"))
    );
    assert_eq!(snapshot(db).await, before);

    // Renaming onto an existing name, and touching the built-in admin role.
    let r = post(&admin, &new, &k, &[("name", "Kämmerei")]).await;
    assert_eq!(r.status(), 303);
    let kaemmerei = accounts::role_by_name(&db.conn, a.tenant, "Kämmerei")
        .await
        .unwrap()
        .unwrap();
    let before = snapshot(db).await;
    let r = post(
        &admin,
        &format!("{base}/admin/roles/{}", kaemmerei.id),
        &k,
        &[("name", "Sachbearbeitung")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        field_error(&r.text().await.unwrap(), "name")
            .is_some_and(|m| m.contains("bereits verwendet"))
    );
    let builtin = accounts::role_by_name(&db.conn, a.tenant, "admin")
        .await
        .unwrap()
        .unwrap();
    for path in [
        format!("/admin/roles/{}", builtin.id),
        format!("/admin/roles/{}/delete", builtin.id),
    ] {
        let r = post(
            &admin,
            &format!("{base}{path}"),
            &k,
            &[("name", "Kein Admin mehr")],
        )
        .await;
        assert_eq!(r.status(), 409, "{path}");
        assert_eq!(common::h1(&r.text().await.unwrap()), "Nicht möglich");
    }
    assert_eq!(snapshot(db).await, before);
}

/// The message and value of the rename form of one department row.
fn rename_field(html: &str, id: i64) -> (Option<String>, Option<String>) {
    let input = format!("id=\"rename-{id}\"");
    let value = html.split_once(&input).and_then(|(_, r)| {
        r.split_once("value=\"")
            .and_then(|(_, v)| v.split_once('"'))
            .map(|(v, _)| v.to_string())
    });
    let marker = format!("id=\"rename-{id}-error\">");
    let msg = html
        .split_once(&marker)
        .and_then(|(_, r)| r.split_once("</p>"))
        .map(|(m, _)| m.to_string());
    (value, msg)
}

#[tokio::test]
async fn bad_department_input_is_refused() {
    let Setup {
        app,
        a,
        admin,
        k,
        base,
        ..
    } = setup().await;
    let db = &app.db;
    let url = format!("{base}/admin/departments");
    assert_eq!(
        post(&admin, &url, &k, &[("name", "Bauhof")]).await.status(),
        303
    );
    assert_eq!(
        post(&admin, &url, &k, &[("name", "Kämmerei")])
            .await
            .status(),
        303
    );
    let before = snapshot(db).await;

    let r = post(&admin, &url, &k, &[("name", " Bauhof ")]).await;
    assert_eq!(r.status(), 422, "duplicate");
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "name").is_some_and(|m| m.contains("bereits verwendet")));
    assert!(html.contains(SUMMARY));
    let r = post(&admin, &url, &k, &[("name", "")]).await;
    assert_eq!(r.status(), 422, "empty");
    assert!(field_error(&r.text().await.unwrap(), "name").is_some_and(|m| m.starts_with("Bitte")));

    // Renaming onto an existing name: the message stands beside that row's field, which keeps
    // what was typed.
    let depts = accounts::list_departments(&db.conn, a.tenant)
        .await
        .unwrap();
    let kaemmerei = depts.iter().find(|d| d.name == "Kämmerei").unwrap();
    let r = post(
        &admin,
        &format!("{url}/{}", kaemmerei.id),
        &k,
        &[("name", "Bauhof")],
    )
    .await;
    assert_eq!(r.status(), 422, "rename onto an existing name");
    let html = r.text().await.unwrap();
    let (value, msg) = rename_field(&html, kaemmerei.id);
    assert!(
        msg.as_deref()
            .is_some_and(|m| m.contains("bereits verwendet")),
        "message beside the rename field: {msg:?}"
    );
    assert_eq!(value.as_deref(), Some("Bauhof"), "typed name kept");
    assert!(
        field_error(&html, "name").is_none(),
        "not beside the field for a new department"
    );
    let r = post(
        &admin,
        &format!("{url}/{}", kaemmerei.id),
        &k,
        &[("name", "")],
    )
    .await;
    assert_eq!(r.status(), 422, "rename to nothing");
    assert!(
        rename_field(&r.text().await.unwrap(), kaemmerei.id)
            .1
            .is_some()
    );
    assert_eq!(snapshot(db).await, before);
}

#[tokio::test]
async fn own_password_change_needs_the_current_password() {
    let Setup {
        app,
        a,
        admin,
        k,
        base,
        ..
    } = setup().await;
    let before = snapshot(&app.db).await;
    let r = post(
        &admin,
        &format!("{base}/account/password"),
        &k,
        &[
            ("current_password", "das-ist-falsch"),
            ("new_password", "gewitterwolke am abendhimmel"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        field_error(&html, "current_password")
            .is_some_and(|m| m.contains("bisherige Passwort ist nicht richtig"))
    );
    assert!(
        !html.contains("gewitterwolke"),
        "passwords are not sent back"
    );
    let r = post(
        &admin,
        &format!("{base}/account/password"),
        &k,
        &[("current_password", PASSWORD), ("new_password", "kurz")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        field_error(&r.text().await.unwrap(), "new_password")
            .is_some_and(|m| m.contains("mindestens 8 Zeichen"))
    );
    assert_eq!(snapshot(&app.db).await, before);
    let c = app.client(&[HOST]);
    assert_eq!(
        login(&c, &base, &a.admin_email, PASSWORD).await.status(),
        303,
        "the old password still works"
    );

    let r = post(
        &admin,
        &format!("{base}/account/password"),
        &k,
        &[
            ("current_password", PASSWORD),
            ("new_password", "gewitterwolke am abendhimmel"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    // The session opened with the old password ends; the one that changed it stays.
    let r = c.get(format!("{base}/staff")).send().await.unwrap();
    assert_eq!(r.status(), 303, "other session ended");
    let r = admin.get(format!("{base}/staff")).send().await.unwrap();
    assert_eq!(r.status(), 200, "own session kept");
    let c = app.client(&[HOST]);
    assert_eq!(
        login(&c, &base, &a.admin_email, PASSWORD).await.status(),
        422
    );
    assert_eq!(
        login(&c, &base, &a.admin_email, "gewitterwolke am abendhimmel")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn bad_settings_and_page_input_is_refused() {
    let Setup {
        app,
        admin,
        k,
        base,
        ..
    } = setup().await;
    let before = snapshot(&app.db).await;
    let r = post(
        &admin,
        &format!("{base}/admin/settings"),
        &k,
        &[("name", " "), ("mfa_required", "on")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "name").is_some_and(|m| m.starts_with("Bitte")));
    assert!(
        html.contains("name=\"mfa_required\" value=\"on\" checked")
            || html.contains("name=\"mfa_required\" checked"),
        "the ticked box stays ticked"
    );
    // A Bundesland that does not exist: refused beside the select, the choice kept.
    let r = post(
        &admin,
        &format!("{base}/admin/settings"),
        &k,
        &[("name", "Gemeinde a"), ("land", "XX")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "land").is_some_and(|m| m.starts_with("Bitte")));
    let r = post(
        &admin,
        &format!("{base}/admin/pages/impressum"),
        &k,
        &[("title", ""), ("body", "Rathausplatz 1")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(field_error(&html, "title").is_some_and(|m| m.starts_with("Bitte")));
    assert!(html.contains("Rathausplatz 1"), "typed text kept");
    let r = post(
        &admin,
        &format!("{base}/admin/pages/gibt-es-nicht"),
        &k,
        &[("title", "X"), ("body", "Y")],
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(snapshot(&app.db).await, before);
}

/// The tenant's Bundesland decides its public holidays (rathaus_core::calendar): chosen in the
/// settings, audited, and NRW for tenants from before the setting.
#[tokio::test]
async fn the_bundesland_is_chosen_in_the_settings() {
    let Setup {
        app,
        admin,
        k,
        base,
        ..
    } = setup().await;
    let html = get(&admin, &format!("{base}/admin/settings"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<option value=\"NW\" selected>Nordrhein-Westfalen</option>"),
        "{html}"
    );
    assert_eq!(html.matches("<option value=").count(), 16);
    let r = post(
        &admin,
        &format!("{base}/admin/settings"),
        &k,
        &[("name", "Gemeinde a"), ("land", "SN")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let tenant = rathaus_store::tenants::by_slug(&app.db.conn, "a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.land, "SN");
    let land = rathaus_store::tenants::land_of(&app.db.conn, rathaus_core::TenantId(tenant.id))
        .await
        .unwrap();
    assert_eq!(land, rathaus_core::calendar::Land::SN);
    let events = audit_events(&app.db).await;
    let last = events.last().unwrap();
    assert_eq!(last.action, "settings.updated");
    assert!(last.details.contains("\"land\":\"SN\""), "{}", last.details);
    // A form without the field keeps the Land.
    let r = post(
        &admin,
        &format!("{base}/admin/settings"),
        &k,
        &[("name", "Gemeinde a")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let tenant = rathaus_store::tenants::by_slug(&app.db.conn, "a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.land, "SN");
}

/// Footer pages are Markdown, sanitized; the editor's preview works without JavaScript (the
/// form comes back with the rendering, nothing saved) and with it (`/markdown/vorschau`), and
/// a document over the limit is refused with a German message, the text kept.
#[tokio::test]
async fn footer_pages_are_markdown_with_a_preview() {
    let Setup {
        app,
        admin,
        k,
        base,
        ..
    } = setup().await;
    let body = "## Anschrift\n\nRathausplatz **1**\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))";
    let before = snapshot(&app.db).await;
    let r = post(
        &admin,
        &format!("{base}/admin/pages/impressum"),
        &k,
        &[("title", "Impressum"), ("body", body), ("preview", "1")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<h2 id=\"md-anschrift\">Anschrift</h2>"),
        "{html}"
    );
    assert!(html.contains("Rathausplatz <strong>1</strong>"));
    assert!(!html.contains("<script>alert") && !html.contains("href=\"javascript:"));
    assert!(
        html.contains("Rathausplatz **1**"),
        "the typed text stays in the field"
    );
    assert_eq!(snapshot(&app.db).await, before, "a preview saves nothing");

    let r = post(
        &admin,
        &format!("{base}/markdown/vorschau"),
        &k,
        &[("body", body)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<strong>1</strong>") && !html.contains("<script>alert"));
    assert!(!html.contains("<html"), "a fragment for htmx, not a page");

    let huge = "x".repeat(rathaus_web::markdown::MAX_BYTES + 1);
    let r = post(
        &admin,
        &format!("{base}/markdown/vorschau"),
        &k,
        &[("body", &huge)],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("zu lang"));
    let r = post(
        &admin,
        &format!("{base}/admin/pages/impressum"),
        &k,
        &[("title", "Impressum"), ("body", &huge), ("preview", "1")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(field_error(&r.text().await.unwrap(), "body").is_some_and(|m| m.contains("zu lang")));

    let r = post(
        &admin,
        &format!("{base}/admin/pages/impressum"),
        &k,
        &[("title", "Impressum"), ("body", body)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = get(&admin, &format!("{base}/impressum"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<h2 id=\"md-anschrift\">Anschrift</h2>"),
        "{page}"
    );
    assert!(!page.contains("<script>alert") && !page.contains("javascript:"));
}
