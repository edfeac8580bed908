//! Error answers: a 500 and a 413 are German pages with the security headers and no internals.

use rathaus_testkit::{TestApp, TestDb, tenant_fixture};
use rathaus_web::WebConfig;
use sea_orm::ConnectionTrait;

const HOST: &str = "rathaus.e.test";

fn assert_security_headers(r: &reqwest::Response) {
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("referrer-policy"));
    assert!(!h.contains_key("server"));
}

#[tokio::test]
async fn an_internal_error_is_a_german_page_with_headers_and_no_internals() {
    let tdb = TestDb::new().await;
    tenant_fixture(&tdb.db, "e", HOST).await;
    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    // Break the database under the running app: the footer pages' table disappears.
    app.db
        .conn
        .execute_unprepared("DROP TABLE tenant_pages")
        .await
        .unwrap();
    let r = app
        .client(&[HOST])
        .get(app.url(HOST, "/impressum"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_security_headers(&r);
    let body = r.text().await.unwrap();
    assert!(body.contains("Interner Fehler"), "{body}");
    assert!(
        !body.to_lowercase().contains("tenant_pages") && !body.contains("DbErr"),
        "no internals leak: {body}"
    );
    assert!(body.contains("<html lang=\"de\">"));
}

#[tokio::test]
async fn an_oversized_form_is_refused_with_413_and_changes_nothing() {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "e", HOST).await;
    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    let c = app.client(&[HOST]);
    let base = app.url(HOST, "");
    rathaus_testkit::login(&c, &base, &f.admin_email, rathaus_testkit::PASSWORD).await;
    let page = c
        .get(format!("{base}/admin/departments"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = rathaus_testkit::csrf_of(&page);
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = c
        .post(format!("{base}/admin/departments"))
        .form(&[("_csrf", csrf.as_str()), ("name", huge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_security_headers(&r);
    assert!(r.text().await.unwrap().contains("Anfrage zu groß"));
    let depts = rathaus_store::accounts::list_departments(&app.db.conn, f.tenant)
        .await
        .unwrap();
    assert!(depts.is_empty());
}
