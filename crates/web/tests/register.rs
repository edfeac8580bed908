//! Citizens' self-registration: the form, the confirmation mail through a real SMTP server,
//! the confirmation link (GET shows, POST confirms), login before and after, and the refusals.

use crate::common;

use common::{audit_events, field_error, get, h1, location, post, users};
use rathaus_core::TenantId;
use rathaus_store::accounts::{self, RegisterPolicy};
use rathaus_store::entity::{email_confirmation, mail, user_role};
use rathaus_testkit::smtp::Smtpd;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture};
use rathaus_web::WebConfig;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

const HOST: &str = "rathaus.r.test";
const NEW_PW: &str = "kastanienallee im herbstwind";

async fn app_with(cfg: WebConfig) -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "r", HOST).await;
    (TestApp::spawn(tdb, cfg).await, f)
}

/// GETs the registration form and POSTs it with these fields.
async fn register(
    app: &TestApp,
    c: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = get(c, &app.url(HOST, "/registrieren")).await;
    assert_eq!(page.status(), 200);
    let k = csrf_of(&page.text().await.unwrap());
    post(c, &app.url(HOST, "/registrieren"), &k, fields).await
}

fn valid<'a>(name: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("email", email),
        ("password", NEW_PW),
        ("consent", "on"),
    ]
}

/// The outbox rows, oldest first.
async fn outbox(app: &TestApp) -> Vec<mail::Model> {
    mail::Entity::find()
        .order_by_asc(mail::Column::Id)
        .all(&app.db.conn)
        .await
        .unwrap()
}

/// The confirmation token in a mail body.
fn token_in(body: &str) -> String {
    let marker = "/registrieren/bestaetigen/";
    let start = body.find(marker).expect("mail without confirmation link") + marker.len();
    body[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

fn main_of(html: &str) -> &str {
    let start = html.find("<main").expect("main");
    let end = html.find("</main>").expect("/main");
    &html[start..end]
}

#[tokio::test]
async fn register_confirm_through_a_real_mail_and_log_in() {
    let smtpd = Smtpd::start();
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);

    // The start page and the login page link to the form.
    let home = get(&c, &app.url(HOST, "/")).await.text().await.unwrap();
    assert!(
        home.contains("href=\"/registrieren\""),
        "start page links to the form"
    );
    let login_page = get(&c, &app.url(HOST, "/login"))
        .await
        .text()
        .await
        .unwrap();
    assert!(login_page.contains("href=\"/registrieren\">Konto anlegen</a>"));

    let form = get(&c, &app.url(HOST, "/registrieren"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(h1(&form), "Konto anlegen");
    assert!(
        form.contains("href=\"/datenschutz\""),
        "consent links the privacy notice"
    );

    let r = register(
        &app,
        &c,
        &valid("Berta Bürger", "Berta.Buerger@Example.org"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(h1(&html), "Bitte prüfen Sie Ihr E-Mail-Postfach");

    // An unconfirmed citizen without roles.
    let u = users(&app.db)
        .await
        .into_iter()
        .find(|u| u.email == "berta.buerger@example.org")
        .expect("citizen stored");
    assert_eq!(u.kind, "citizen");
    assert!(u.email_confirmed_at.is_none());
    assert_ne!(u.password_hash, NEW_PW);
    let roles = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(u.id))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert!(roles.is_empty(), "citizens hold no roles");
    let ev = audit_events(&app.db).await;
    assert!(
        ev.iter().any(|e| e.action == "user.registered"),
        "registration audited"
    );
    // Only the hash of the token is stored.
    let tokens = email_confirmation::Entity::find()
        .all(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].token_hash.len(), 64);

    // The mail job sends the mail to the real SMTP server.
    assert!(
        smtpd.messages().is_empty(),
        "nothing sent before the job runs"
    );
    assert_eq!(smtpd.run_mail_jobs(&app.db).await, 1);
    let got = smtpd.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.to, "berta.buerger@example.org");
    assert!(m.subject.contains("bestätigen"), "{}", m.subject);
    assert!(m.body.contains("Guten Tag Berta Bürger"), "{}", m.body);
    let link_prefix = app.url(HOST, "/registrieren/bestaetigen/");
    assert!(m.body.contains(&link_prefix), "absolute link in {}", m.body);
    let token = token_in(&m.body);
    assert_eq!(tokens[0].token_hash, rathaus_store::sha256_hex(&token));
    let link = format!("{link_prefix}{token}");

    // Before confirming, the login is refused with a clear message and no session.
    let r = login(&c, &app.url(HOST, ""), "berta.buerger@example.org", NEW_PW).await;
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("noch nicht bestätigt"), "{}", main_of(&html));
    let r = get(&c, &app.url(HOST, "/staff")).await;
    assert_eq!(r.status(), 303, "no session for an unconfirmed citizen");

    // GET of the link (as a mail scanner would) changes nothing.
    let before = common::snapshot(&app.db).await;
    let r = get(&app.client(&[HOST]), &link).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(h1(&page), "Konto bestätigen");
    assert!(page.contains("<button type=\"submit\">Konto bestätigen</button>"));
    assert_eq!(
        common::snapshot(&app.db).await,
        before,
        "GET confirmed something"
    );

    // A POST without the CSRF token is refused.
    let r = c.post(&link).form(&[("x", "y")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(common::snapshot(&app.db).await, before);

    // The button confirms.
    let k = csrf_of(&get(&c, &link).await.text().await.unwrap());
    let r = post(&c, &link, &k, &[]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(h1(&html), "Konto bestätigt");
    assert!(html.contains("href=\"/login\""));
    let u = users(&app.db)
        .await
        .into_iter()
        .find(|x| x.id == u.id)
        .unwrap();
    assert!(u.email_confirmed_at.is_some());
    assert!(
        audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "user.email_confirmed")
    );

    // The link works once.
    let r = post(&c, &link, &k, &[]).await;
    assert_eq!(r.status(), 410);
    let html = r.text().await.unwrap();
    assert_eq!(h1(&html), "Bestätigung nicht möglich");
    assert!(html.contains("bereits verwendet"));
    let r = get(&c, &link).await;
    assert_eq!(r.status(), 410);

    // Now the login works; the citizen sees a welcome and no staff things.
    let r = login(&c, &app.url(HOST, ""), "berta.buerger@example.org", NEW_PW).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/staff");
    let r = get(&c, &app.url(HOST, "/staff")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Willkommen in Ihrem Bürgerkonto"));
    assert!(
        !html.contains("href=\"/admin"),
        "no administration links for citizens"
    );
    let r = get(&c, &app.url(HOST, "/admin/users")).await;
    assert_eq!(r.status(), 403);

    // The administration's user list shows staff only.
    let admin = common::signed_in(&app, HOST, &f.admin_email).await;
    let list = get(&admin, &app.url(HOST, "/admin/users"))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains(&f.clerk_email));
    assert!(
        !list.contains("berta.buerger@example.org"),
        "citizens are not staff"
    );
}

#[tokio::test]
async fn a_known_address_is_not_revealed_and_gets_an_account_exists_mail() {
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    let new = register(&app, &c, &valid("Neue Person", "neu@example.org")).await;
    assert_eq!(new.status(), 200);
    let new_html = new.text().await.unwrap();
    let users_before = users(&app.db).await.len();

    // The clerk's address (a staff account): same answer, no new account.
    let known = register(&app, &c, &valid("Jemand Anderes", &f.clerk_email)).await;
    assert_eq!(known.status(), 200);
    let known_html = known.text().await.unwrap();
    assert_eq!(
        main_of(&known_html),
        main_of(&new_html),
        "the answers differ"
    );
    assert_eq!(
        users(&app.db).await.len(),
        users_before,
        "no second account"
    );
    let clerk = users(&app.db)
        .await
        .into_iter()
        .find(|u| u.email == f.clerk_email)
        .unwrap();
    assert_eq!(
        clerk.name, "Carl Clerk",
        "the existing account is untouched"
    );
    assert!(
        rathaus_store::password::verify(PASSWORD, &clerk.password_hash),
        "the existing password is untouched"
    );

    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to_addr, f.clerk_email);
    assert!(
        mails[1].body.contains("bereits ein Konto"),
        "{}",
        mails[1].body
    );
    assert!(
        mails[1].body.contains("Passwort vergessen")
            && mails[1].body.contains("/passwort-vergessen"),
        "the mail points to the reset form: {}",
        mails[1].body
    );
    assert!(!mails[1].body.contains("/registrieren/bestaetigen/"));
    assert!(
        audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "user.register_existing")
    );

    // A second registration of a still unconfirmed address takes it over with a new link;
    // the old link stops working.
    let old = token_in(&mails[0].body);
    let r = register(&app, &c, &valid("Neue Person", "neu@example.org")).await;
    assert_eq!(r.status(), 200);
    let mails = outbox(&app).await;
    let fresh = token_in(&mails[2].body);
    assert_ne!(old, fresh);
    let r = get(
        &c,
        &app.url(HOST, &format!("/registrieren/bestaetigen/{old}")),
    )
    .await;
    assert_eq!(r.status(), 410);
    let r = get(
        &c,
        &app.url(HOST, &format!("/registrieren/bestaetigen/{fresh}")),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn bad_input_answers_422_beside_the_fields_and_keeps_what_was_typed() {
    let (app, _f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    let before = common::snapshot(&app.db).await;

    let r = register(
        &app,
        &c,
        &[
            ("name", "  "),
            ("email", "kein-at-zeichen"),
            ("password", "passwort1"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert_eq!(
        field_error(&html, "name").as_deref(),
        Some("Bitte füllen Sie dieses Feld aus.")
    );
    assert!(
        field_error(&html, "email")
            .unwrap()
            .contains("gültige E-Mail-Adresse")
    );
    assert!(
        field_error(&html, "password")
            .unwrap()
            .contains("zu leicht zu erraten")
    );
    assert!(
        field_error(&html, "consent")
            .unwrap()
            .contains("Datenschutzhinweise")
    );
    assert!(
        html.contains("value=\"kein-at-zeichen\""),
        "the e-mail is kept"
    );
    assert!(
        !html.contains("passwort1"),
        "the password is never sent back"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains("Bitte prüfen Sie die markierten Felder."));

    // A valid name and consent are kept; a short password is refused.
    let r = register(
        &app,
        &c,
        &[
            ("name", "Berta Bürger"),
            ("email", "berta@example.org"),
            ("password", "kurz"),
            ("consent", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"Berta Bürger\""));
    assert!(html.contains("value=\"berta@example.org\""));
    assert!(html.contains("name=\"consent\" value=\"on\" checked"));
    assert!(
        field_error(&html, "password")
            .unwrap()
            .contains("mindestens 8 Zeichen")
    );
    assert!(field_error(&html, "name").is_none());

    // Missing consent alone.
    let r = register(
        &app,
        &c,
        &[
            ("name", "Berta Bürger"),
            ("email", "berta@example.org"),
            ("password", NEW_PW),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert_eq!(
        field_error(&html, "consent").as_deref(),
        Some("Bitte bestätigen Sie, dass Sie die Datenschutzhinweise gelesen haben.")
    );
    assert_eq!(
        common::snapshot(&app.db).await,
        before,
        "bad input stored something"
    );
}

#[tokio::test]
async fn expired_and_unknown_links_are_refused() {
    let (app, _f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    register(&app, &c, &valid("Eva Eilig", "eva@example.org")).await;
    let token = token_in(&outbox(&app).await[0].body);
    let link = app.url(HOST, &format!("/registrieren/bestaetigen/{token}"));

    // 48 hours later.
    let row = email_confirmation::Entity::find()
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    email_confirmation::Entity::update(email_confirmation::ActiveModel {
        id: sea_orm::Set(row.id),
        expires_at: sea_orm::Set(chrono::Utc::now() - chrono::Duration::minutes(1)),
        ..Default::default()
    })
    .exec(&app.db.conn)
    .await
    .unwrap();
    let r = get(&c, &link).await;
    assert_eq!(r.status(), 410);
    let html = r.text().await.unwrap();
    assert!(html.contains("abgelaufen"));
    assert!(!html.contains("<button type=\"submit\">Konto bestätigen"));
    let k = common::csrf(&c, &app.url(HOST, "")).await;
    let r = post(&c, &link, &k, &[]).await;
    assert_eq!(r.status(), 410);
    let u = users(&app.db)
        .await
        .into_iter()
        .find(|u| u.email == "eva@example.org")
        .unwrap();
    assert!(
        u.email_confirmed_at.is_none(),
        "an expired link confirms nothing"
    );

    for bad in ["unbekannt", "x", &"a".repeat(300)] {
        let url = app.url(HOST, &format!("/registrieren/bestaetigen/{bad}"));
        let r = get(&c, &url).await;
        assert_eq!(r.status(), 404);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Bestätigungslink ist ungültig"),
            "{}",
            main_of(&html)
        );
        let r = post(&c, &url, &k, &[]).await;
        assert_eq!(r.status(), 404);
    }
}

#[tokio::test]
async fn registrations_are_limited_per_client_address() {
    let cfg = WebConfig {
        register: RegisterPolicy {
            per_ip: 2,
            ..RegisterPolicy::default()
        },
        ..WebConfig::default()
    };
    let (app, _f) = app_with(cfg).await;
    let c = app.client(&[HOST]);
    for i in 0..2 {
        let e = format!("person{i}@example.org");
        let r = register(&app, &c, &valid("Person", &e)).await;
        assert_eq!(r.status(), 200);
    }
    let r = register(&app, &c, &valid("Person", "person9@example.org")).await;
    assert_eq!(r.status(), 429);
    let html = r.text().await.unwrap();
    assert!(html.contains("Zu viele Registrierungen"));
    assert!(html.contains("value=\"person9@example.org\""));
    assert_eq!(outbox(&app).await.len(), 2, "no third mail");
    assert!(
        audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "user.register_throttled")
    );
}

#[tokio::test]
async fn create_citizen_for_demo_data_and_other_modules() {
    let (app, f) = app_with(WebConfig::default()).await;
    let t: TenantId = f.tenant;
    let ok = accounts::create_citizen(
        &app.db.conn,
        t,
        "Clara Confirmed",
        "clara@example.org",
        NEW_PW,
        true,
    )
    .await
    .unwrap();
    assert_eq!(ok.kind, accounts::KIND_CITIZEN);
    let p = accounts::principal(&app.db.conn, t, rathaus_core::UserId(ok.id))
        .await
        .unwrap()
        .unwrap();
    assert!(p.citizen);
    assert!(p.permissions.is_empty() && !p.is_admin);
    let staff = accounts::principal(&app.db.conn, t, f.clerk)
        .await
        .unwrap()
        .unwrap();
    assert!(!staff.citizen);

    let pending = accounts::create_citizen(
        &app.db.conn,
        t,
        "Paul Pending",
        "paul@example.org",
        NEW_PW,
        false,
    )
    .await
    .unwrap();
    assert!(pending.email_confirmed_at.is_none());
    let taken =
        accounts::create_citizen(&app.db.conn, t, "X", "clara@example.org", NEW_PW, true).await;
    assert!(matches!(taken, Err(rathaus_core::Error::Invalid(_))));

    let c = app.client(&[HOST]);
    let r = login(&c, &app.url(HOST, ""), "clara@example.org", NEW_PW).await;
    assert_eq!(r.status(), 303);
    let html = get(&c, &app.url(HOST, "/staff"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Clara Confirmed"));
    assert!(
        html.contains("href=\"/staff\""),
        "the overview is there for citizens too"
    );
    let c = app.client(&[HOST]);
    let r = login(&c, &app.url(HOST, ""), "paul@example.org", NEW_PW).await;
    assert_eq!(r.status(), 403);
}
