//! Control characters in forms, query strings and paths get a clear German error before any
//! handler runs, on SQLite and PostgreSQL alike (PostgreSQL cannot store NUL in text; it used
//! to answer 500). Security review, finding 3.

use crate::common;

use common::{csrf, get, post, snapshot};
use rathaus_testkit::{TestApp, TestDb, tenant_fixture};
use rathaus_web::WebConfig;

const HOST: &str = "rathaus.a.test";

#[tokio::test]
async fn nul_bytes_are_refused_everywhere_with_a_german_page() {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    let base = app.url(HOST, "");
    let c = app.client(&[HOST]);
    let before = snapshot(&app.db).await;

    let k = csrf(&c, &base).await;
    let login_email = format!("{}\0", f.admin_email);
    for fields in [
        vec![("email", login_email.as_str()), ("password", "x")],
        vec![("email", "a@a.example"), ("password", "pass\0word")],
    ] {
        let r = post(&c, &format!("{base}/login"), &k, &fields).await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("unzulässige Steuerzeichen"), "{html}");
        assert!(html.contains("<h1"), "a whole page with the layout");
    }
    let k = csrf(&c, &base).await;
    let r = post(
        &c,
        &format!("{base}/registrieren"),
        &k,
        &[("name", "Erika\u{7}"), ("email", "erika@example.org")],
    )
    .await;
    assert_eq!(r.status(), 400);
    for url in [
        format!("{base}/sprache?lang=de&back=/%00"),
        format!("{base}/login?next=%1b"),
        format!("{base}/admin/users/%00"),
    ] {
        let r = get(&c, &url).await;
        assert_eq!(r.status(), 400, "{url}");
    }
    assert_eq!(snapshot(&app.db).await, before, "nothing stored");

    // Text with line breaks and tabs passes (a wrong password is the answer here).
    let k = csrf(&c, &base).await;
    let r = post(
        &c,
        &format!("{base}/login"),
        &k,
        &[("email", f.admin_email.as_str()), ("password", "a\tb\r\nc")],
    )
    .await;
    assert_eq!(r.status(), 422);
}
