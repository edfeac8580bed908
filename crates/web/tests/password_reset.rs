//! "Forgot password" for citizens: the request (one answer for every address), the mail with
//! the link through a real SMTP server, the link (GET shows, POST sets), sessions ended, the
//! link working once and for an hour, throttling, bad input and CSRF.

use crate::common;

use common::{audit_events, field_error, get, h1, location, post, users};
use rathaus_core::TenantId;
use rathaus_store::accounts::{self, RegisterPolicy, TokenState};
use rathaus_store::entity::{mail, password_reset, password_reset_attempt, user};
use rathaus_store::password_reset::{ResetMail, ResetRequest};
use rathaus_testkit::smtp::Smtpd;
use rathaus_testkit::{TestApp, TestDb, csrf_of, login, tenant_fixture};
use rathaus_web::WebConfig;
use sea_orm::{EntityTrait, QueryOrder, Set};

const HOST: &str = "rathaus.pw.test";
const OLD_PW: &str = "lindenblüten am marktplatz";
const NEW_PW: &str = "kastanienallee im herbstwind";
const CITIZEN: &str = "berta.buerger@example.org";

async fn app_with(cfg: WebConfig) -> (TestApp, rathaus_testkit::Fixture) {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "pw", HOST).await;
    (TestApp::spawn(tdb, cfg).await, f)
}

/// A citizen account (confirmed or not) with `OLD_PW`.
async fn citizen(app: &TestApp, t: TenantId, email: &str, confirmed: bool) -> user::Model {
    accounts::create_citizen(&app.db.conn, t, "Berta Bürger", email, OLD_PW, confirmed)
        .await
        .unwrap()
}

/// GETs the request form and POSTs this address.
async fn request(app: &TestApp, c: &reqwest::Client, email: &str) -> reqwest::Response {
    let page = get(c, &app.url(HOST, "/passwort-vergessen")).await;
    assert_eq!(page.status(), 200);
    let k = csrf_of(&page.text().await.unwrap());
    post(
        c,
        &app.url(HOST, "/passwort-vergessen"),
        &k,
        &[("email", email)],
    )
    .await
}

/// GETs the link's form and POSTs a new password.
async fn set_password(c: &reqwest::Client, link: &str, pw: &str) -> reqwest::Response {
    let page = get(c, link).await;
    assert_eq!(page.status(), 200, "form behind {link}");
    let k = csrf_of(&page.text().await.unwrap());
    post(c, link, &k, &[("password", pw)]).await
}

/// The outbox rows, oldest first.
async fn outbox(app: &TestApp) -> Vec<mail::Model> {
    mail::Entity::find()
        .order_by_asc(mail::Column::Id)
        .all(&app.db.conn)
        .await
        .unwrap()
}

async fn resets(app: &TestApp) -> Vec<password_reset::Model> {
    password_reset::Entity::find()
        .order_by_asc(password_reset::Column::Id)
        .all(&app.db.conn)
        .await
        .unwrap()
}

/// Everything a request could change: the shared snapshot plus this feature's tables.
async fn snapshot(app: &TestApp) -> String {
    let attempts = password_reset_attempt::Entity::find()
        .order_by_asc(password_reset_attempt::Column::Id)
        .all(&app.db.conn)
        .await
        .unwrap();
    format!(
        "{}resets: {:?}\nattempts: {:?}\n",
        common::snapshot(&app.db).await,
        resets(app).await,
        attempts
    )
}

/// The reset token in a mail body.
fn token_in(body: &str) -> String {
    let marker = "/passwort-vergessen/";
    let start = body.find(marker).expect("mail without reset link") + marker.len();
    body[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

fn link(app: &TestApp, token: &str) -> String {
    app.url(HOST, &format!("/passwort-vergessen/{token}"))
}

fn main_of(html: &str) -> &str {
    let start = html.find("<main").expect("main");
    let end = html.find("</main>").expect("/main");
    &html[start..end]
}

async fn user_by_email(app: &TestApp, email: &str) -> user::Model {
    users(&app.db)
        .await
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
}

#[tokio::test]
async fn reset_through_a_real_mail_sets_the_password_and_ends_every_session() {
    let smtpd = Smtpd::start();
    let (app, f) = app_with(WebConfig::default()).await;
    let u = citizen(&app, f.tenant, CITIZEN, true).await;

    // A session of the citizen elsewhere (e.g. on a stolen laptop).
    let elsewhere = app.client(&[HOST]);
    let r = login(&elsewhere, &app.url(HOST, ""), CITIZEN, OLD_PW).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        get(&elsewhere, &app.url(HOST, "/staff")).await.status(),
        200
    );

    // The login page links to the form.
    let c = app.client(&[HOST]);
    let login_page = get(&c, &app.url(HOST, "/login"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        login_page.contains("<a href=\"/passwort-vergessen\">Passwort vergessen?</a>"),
        "login page links to the form"
    );
    let form = get(&c, &app.url(HOST, "/passwort-vergessen"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(h1(&form), "Passwort vergessen");

    let r = request(&app, &c, " Berta.Buerger@Example.org ").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(h1(&html), "Bitte prüfen Sie Ihr E-Mail-Postfach");
    assert!(html.contains("Wenn es zu dieser E-Mail-Adresse ein Bürgerkonto gibt"));

    // Only the token's hash is stored, valid for an hour; nothing changed on the account yet.
    let rows = resets(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].user_id, u.id);
    assert_eq!(rows[0].token_hash.len(), 64);
    assert!(rows[0].used_at.is_none());
    assert_eq!(
        rows[0].expires_at - rows[0].created_at,
        chrono::Duration::hours(1)
    );
    let unchanged = user_by_email(&app, CITIZEN).await;
    assert_eq!(unchanged.password_hash, u.password_hash);

    // The mail job sends the mail to the real SMTP server.
    assert_eq!(smtpd.run_mail_jobs(&app.db).await, 1);
    let got = smtpd.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.to, CITIZEN);
    assert!(m.subject.contains("Neues Passwort"), "{}", m.subject);
    assert!(m.body.contains("Guten Tag Berta Bürger"), "{}", m.body);
    assert!(m.body.contains("eine Stunde gültig"), "{}", m.body);
    let prefix = app.url(HOST, "/passwort-vergessen/");
    assert!(m.body.contains(&prefix), "absolute link in {}", m.body);
    let token = token_in(&m.body);
    assert_eq!(rows[0].token_hash, rathaus_store::sha256_hex(&token));
    let link = format!("{prefix}{token}");

    // GET of the link (as a mail scanner would) changes nothing.
    let before = snapshot(&app).await;
    let r = get(&app.client(&[HOST]), &link).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(h1(&page), "Neues Passwort festlegen");
    assert!(page.contains("name=\"password\" type=\"password\""));
    assert!(page.contains("autocomplete=\"new-password\""));
    assert_eq!(snapshot(&app).await, before, "GET changed something");

    // The form sets the password.
    let r = set_password(&c, &link, NEW_PW).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(h1(&html), "Passwort geändert");
    assert!(html.contains("href=\"/login\""));
    assert!(!html.contains(NEW_PW), "the password is never sent back");
    let after = user_by_email(&app, CITIZEN).await;
    assert!(rathaus_store::password::verify(
        NEW_PW,
        &after.password_hash
    ));
    assert!(resets(&app).await[0].used_at.is_some());
    let ev = audit_events(&app.db).await;
    for action in [
        "user.password_reset_requested",
        "user.password_reset_by_mail",
    ] {
        assert!(ev.iter().any(|e| e.action == action), "{action} audited");
    }

    // The session elsewhere is ended.
    let r = get(&elsewhere, &app.url(HOST, "/staff")).await;
    assert_eq!(r.status(), 303, "the old session survived the reset");
    assert!(location(&r).starts_with("/login"));

    // The old password no longer works, the new one does.
    let r = login(&c, &app.url(HOST, ""), CITIZEN, OLD_PW).await;
    assert_eq!(r.status(), 422);
    let r = login(&c, &app.url(HOST, ""), CITIZEN, NEW_PW).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/staff");
    assert_eq!(get(&c, &app.url(HOST, "/staff")).await.status(), 200);

    // The link works once.
    let other = app.client(&[HOST]);
    let r = get(&other, &link).await;
    assert_eq!(r.status(), 410);
    let html = r.text().await.unwrap();
    assert_eq!(h1(&html), "Link nicht gültig");
    assert!(html.contains("bereits verwendet"), "{}", main_of(&html));
    assert!(!html.contains("name=\"password\""));
    let k = common::csrf(&other, &app.url(HOST, "")).await;
    let r = post(
        &other,
        &link,
        &k,
        &[("password", "ganz anderes passwort hier")],
    )
    .await;
    assert_eq!(r.status(), 410);
    assert!(rathaus_store::password::verify(
        NEW_PW,
        &user_by_email(&app, CITIZEN).await.password_hash
    ));
}

#[tokio::test]
async fn unknown_disabled_and_staff_addresses_get_the_same_answer() {
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    citizen(&app, f.tenant, CITIZEN, true).await;
    let gone = citizen(&app, f.tenant, "gesperrt@example.org", true).await;
    user::Entity::update(user::ActiveModel {
        id: Set(gone.id),
        active: Set(false),
        ..Default::default()
    })
    .exec(&app.db.conn)
    .await
    .unwrap();

    let known = request(&app, &c, CITIZEN).await;
    assert_eq!(known.status(), 200);
    let known_html = known.text().await.unwrap();
    assert_eq!(outbox(&app).await.len(), 1);
    assert_eq!(resets(&app).await.len(), 1);

    for other in ["niemand@example.org", "gesperrt@example.org"] {
        let before = outbox(&app).await.len();
        let r = request(&app, &c, other).await;
        assert_eq!(r.status(), 200, "{other}");
        let html = r.text().await.unwrap();
        assert_eq!(
            main_of(&html),
            main_of(&known_html),
            "{other}: answers differ"
        );
        assert_eq!(
            outbox(&app).await.len(),
            before,
            "{other}: a mail was queued"
        );
    }
    assert_eq!(
        resets(&app).await.len(),
        1,
        "no token for unknown or disabled"
    );

    // A staff account: the same answer; its owner gets a mail pointing to the administration,
    // without a link, and the account is untouched.
    let clerk_before = user_by_email(&app, &f.clerk_email).await;
    let r = request(&app, &c, &f.clerk_email).await;
    assert_eq!(r.status(), 200);
    assert_eq!(main_of(&r.text().await.unwrap()), main_of(&known_html));
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to_addr, f.clerk_email);
    assert!(
        mails[1].body.contains("Administration"),
        "{}",
        mails[1].body
    );
    assert!(!mails[1].body.contains("/passwort-vergessen/"));
    assert_eq!(resets(&app).await.len(), 1, "no token for staff");
    assert_eq!(user_by_email(&app, &f.clerk_email).await, clerk_before);

    let outcomes: Vec<String> = audit_events(&app.db)
        .await
        .into_iter()
        .filter(|e| e.action == "user.password_reset_requested")
        .map(|e| e.details)
        .collect();
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    for o in ["mailed", "unknown", "inactive", "staff"] {
        assert!(
            outcomes
                .iter()
                .any(|d| d.contains(&format!("\"outcome\":\"{o}\""))),
            "{o} not in {outcomes:?}"
        );
    }
}

#[tokio::test]
async fn the_reset_confirms_an_unconfirmed_address_and_a_new_link_replaces_the_old() {
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    citizen(&app, f.tenant, CITIZEN, false).await;
    request(&app, &c, CITIZEN).await;
    request(&app, &c, CITIZEN).await;
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 2);
    let (old, fresh) = (token_in(&mails[0].body), token_in(&mails[1].body));
    assert_ne!(old, fresh);
    let r = get(&c, &link(&app, &old)).await;
    assert_eq!(r.status(), 410, "the older link stops working");

    let r = set_password(&c, &link(&app, &fresh), NEW_PW).await;
    assert_eq!(r.status(), 200);
    let u = user_by_email(&app, CITIZEN).await;
    assert!(
        u.email_confirmed_at.is_some(),
        "the reset proved the address"
    );
    let r = login(&c, &app.url(HOST, ""), CITIZEN, NEW_PW).await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn expired_and_unknown_links_are_refused() {
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    citizen(&app, f.tenant, CITIZEN, true).await;
    request(&app, &c, CITIZEN).await;
    let token = token_in(&outbox(&app).await[0].body);
    let url = link(&app, &token);

    // An hour later.
    let row = resets(&app).await.remove(0);
    password_reset::Entity::update(password_reset::ActiveModel {
        id: Set(row.id),
        expires_at: Set(chrono::Utc::now() - chrono::Duration::minutes(1)),
        ..Default::default()
    })
    .exec(&app.db.conn)
    .await
    .unwrap();
    let before = snapshot(&app).await;
    let r = get(&c, &url).await;
    assert_eq!(r.status(), 410);
    let html = r.text().await.unwrap();
    assert!(html.contains("abgelaufen"), "{}", main_of(&html));
    assert!(html.contains("href=\"/passwort-vergessen\""));
    assert!(!html.contains("name=\"password\""));
    let k = common::csrf(&c, &app.url(HOST, "")).await;
    let r = post(&c, &url, &k, &[("password", NEW_PW)]).await;
    assert_eq!(r.status(), 410);
    assert_eq!(
        snapshot(&app).await,
        before,
        "an expired link changed something"
    );

    for bad in ["unbekannt", "x", &"a".repeat(300)] {
        let url = link(&app, bad);
        let r = get(&c, &url).await;
        assert_eq!(r.status(), 404);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Dieser Link ist ungültig"),
            "{}",
            main_of(&html)
        );
        let r = post(&c, &url, &k, &[("password", NEW_PW)]).await;
        assert_eq!(r.status(), 404);
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn bad_passwords_answer_422_beside_the_field_and_change_nothing() {
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    citizen(&app, f.tenant, CITIZEN, true).await;
    request(&app, &c, CITIZEN).await;
    let url = link(&app, &token_in(&outbox(&app).await[0].body));
    let before = snapshot(&app).await;

    for (pw, msg) in [
        ("passwort1", "zu leicht zu erraten"),
        ("kurz7", "mindestens 8 Zeichen"),
        ("", "mindestens 8 Zeichen"),
        ("12345678", "zu leicht zu erraten"),
    ] {
        let r = set_password(&c, &url, pw).await;
        assert_eq!(r.status(), 422, "{pw:?}");
        let html = r.text().await.unwrap();
        assert_eq!(h1(&html), "Neues Passwort festlegen");
        let e = field_error(&html, "password").unwrap_or_default();
        assert!(e.contains(msg), "{pw:?}: {e}");
        assert!(html.contains("aria-invalid=\"true\""));
        if !pw.is_empty() {
            assert!(!html.contains(pw), "the password {pw:?} was sent back");
        }
        assert_eq!(snapshot(&app).await, before, "{pw:?} changed something");
    }
    // The link still works.
    let r = set_password(&c, &url, NEW_PW).await;
    assert_eq!(r.status(), 200);

    // The request form checks the address format only.
    let r = request(&app, &c, "kein-at-zeichen").await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        field_error(&html, "email")
            .unwrap()
            .contains("gültige E-Mail-Adresse")
    );
    assert!(html.contains("value=\"kein-at-zeichen\""));
}

#[tokio::test]
async fn both_forms_need_the_csrf_token() {
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    citizen(&app, f.tenant, CITIZEN, true).await;
    request(&app, &c, CITIZEN).await;
    let url = link(&app, &token_in(&outbox(&app).await[0].body));
    let before = snapshot(&app).await;

    let fresh = app.client(&[HOST]);
    get(&fresh, &url).await;
    let r = fresh
        .post(app.url(HOST, "/passwort-vergessen"))
        .form(&[("email", CITIZEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = fresh
        .post(&url)
        .form(&[("password", NEW_PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A wrong token is no better than none.
    let r = post(&fresh, &url, "falsch", &[("password", NEW_PW)]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        snapshot(&app).await,
        before,
        "a forged POST changed something"
    );
}

#[tokio::test]
async fn requests_are_limited_per_address_and_per_client() {
    let (app, f) = app_with(WebConfig::default()).await;
    let c = app.client(&[HOST]);
    citizen(&app, f.tenant, CITIZEN, true).await;
    // Three per address and hour (the registration's limits).
    for _ in 0..3 {
        assert_eq!(request(&app, &c, CITIZEN).await.status(), 200);
    }
    let attempts = password_reset_attempt::Entity::find()
        .all(&app.db.conn)
        .await
        .unwrap()
        .len();
    let r = request(&app, &c, CITIZEN).await;
    assert_eq!(r.status(), 429);
    let html = r.text().await.unwrap();
    assert!(html.contains("Zu viele Anfragen"), "{}", main_of(&html));
    assert!(html.contains(&format!("value=\"{CITIZEN}\"")));
    assert_eq!(outbox(&app).await.len(), 3, "no fourth mail");
    assert_eq!(
        password_reset_attempt::Entity::find()
            .all(&app.db.conn)
            .await
            .unwrap()
            .len(),
        attempts,
        "a refused request adds no row"
    );
    assert!(
        audit_events(&app.db)
            .await
            .iter()
            .any(|e| e.action == "user.password_reset_throttled")
    );

    // Per client address, whatever the e-mail address.
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
        let r = request(&app, &c, &format!("person{i}@example.org")).await;
        assert_eq!(r.status(), 200);
    }
    let r = request(&app, &c, "person9@example.org").await;
    assert_eq!(r.status(), 429);
}

#[tokio::test]
async fn two_racing_uses_of_one_link_set_the_password_once() {
    let (app, f) = app_with(WebConfig::default()).await;
    let t = f.tenant;
    citizen(&app, t, CITIZEN, true).await;
    let mut token = String::new();
    let r = rathaus_store::password_reset::request_password_reset(
        &app.db.conn,
        t,
        CITIZEN,
        "192.0.2.1",
        &RegisterPolicy::default(),
        |m| {
            if let ResetMail::Link { token: tk, .. } = m {
                token = tk.to_string();
            }
            ("Betreff".into(), "Text".into())
        },
    )
    .await
    .unwrap();
    assert_eq!(r, ResetRequest::Accepted);
    assert_eq!(
        rathaus_store::password_reset::password_reset_state(&app.db.conn, t, &token)
            .await
            .unwrap(),
        TokenState::Valid
    );
    let a = rathaus_store::password_reset::reset_password_with_token(
        &app.db.conn,
        t,
        &token,
        NEW_PW,
        "192.0.2.1",
    );
    let b = rathaus_store::password_reset::reset_password_with_token(
        &app.db.conn,
        t,
        &token,
        "ganz anderes passwort hier",
        "192.0.2.2",
    );
    let (a, b) = tokio::join!(a, b);
    let mut got = [a.unwrap(), b.unwrap()];
    got.sort_by_key(|s| *s != TokenState::Valid);
    assert_eq!(got, [TokenState::Valid, TokenState::Used]);
    let done = audit_events(&app.db)
        .await
        .into_iter()
        .filter(|e| e.action == "user.password_reset_by_mail")
        .count();
    assert_eq!(done, 1);
    // Another tenant's host does not know the token.
    let other = tenant_fixture(&app.db, "anders", "anders.pw.test").await;
    assert_eq!(
        rathaus_store::password_reset::password_reset_state(&app.db.conn, other.tenant, &token)
            .await
            .unwrap(),
        TokenState::Unknown
    );
}
