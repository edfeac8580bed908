//! Helpers shared by the integration tests of this crate (each test file uses a part of them).
#![allow(dead_code)]

use rathaus_store::Db;
use rathaus_store::entity::{
    api_token, audit_event, audit_head, department, email_confirmation, job, login_attempt, mail,
    mail_attachment, registration_attempt, role, role_permission, tenant, tenant_asset,
    tenant_host, tenant_page, user, user_role,
};
use rathaus_testkit::{PASSWORD, TestApp, login};
use sea_orm::{EntityTrait, QueryOrder};

/// Everything stored that a request could change, as text; sessions are left out because
/// every signed-in request may touch its idle timer.
pub async fn snapshot(db: &Db) -> String {
    let c = &db.conn;
    let mut out = String::new();
    macro_rules! dump {
        ($($m:ident by $col:expr),* $(,)?) => {$(
            let rows = $m::Entity::find().order_by_asc($col).all(c).await.expect("snapshot");
            out.push_str(&format!("{}: {:?}\n", stringify!($m), rows));
        )*};
    }
    dump!(
        tenant by tenant::Column::Id,
        tenant_host by tenant_host::Column::Id,
        tenant_page by tenant_page::Column::Id,
        tenant_asset by tenant_asset::Column::Id,
        user by user::Column::Id,
        role by role::Column::Id,
        role_permission by role_permission::Column::Id,
        user_role by user_role::Column::Id,
        department by department::Column::Id,
        api_token by api_token::Column::Id,
        job by job::Column::Id,
        mail by mail::Column::Id,
        audit_event by audit_event::Column::Id,
        audit_head by audit_head::Column::TenantId,
        login_attempt by login_attempt::Column::Id,
        email_confirmation by email_confirmation::Column::Id,
        registration_attempt by registration_attempt::Column::Id,
        mail_attachment by mail_attachment::Column::Id,
    );
    out
}

/// A client of `app` for `host`, signed in as `email` (password of the testkit).
pub async fn signed_in(app: &TestApp, host: &str, email: &str) -> reqwest::Client {
    let c = app.client(&[host]);
    let r = login(&c, &app.url(host, ""), email, PASSWORD).await;
    assert_eq!(r.status(), 303, "login of {email} failed");
    c
}

pub async fn get(c: &reqwest::Client, url: &str) -> reqwest::Response {
    c.get(url).send().await.expect("GET")
}

/// The CSRF token of this client, from the `hx-headers` every page's body carries (the start
/// page answers every client).
pub async fn csrf(c: &reqwest::Client, base: &str) -> String {
    let r = get(c, &format!("{base}/")).await;
    assert_eq!(r.status(), 200, "start page");
    let html = r.text().await.expect("body");
    let marker = "\"X-CSRF-Token\": \"";
    let start = html.find(marker).expect("page without CSRF token") + marker.len();
    let token = html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(token.len() >= 32, "CSRF token {token:?}");
    token
}

/// POSTs a form with the given CSRF token (no redirects followed).
pub async fn post(
    c: &reqwest::Client,
    url: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    c.post(url).form(&all).send().await.expect("POST")
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The texts of all `<p class="field-error" id="f-FIELD-error">` elements, by field.
pub fn field_errors(html: &str) -> Vec<(String, String)> {
    let marker = "<p class=\"field-error\" id=\"f-";
    html.match_indices(marker)
        .map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            let field = rest
                .split("-error\"")
                .next()
                .unwrap_or_default()
                .to_string();
            let text = rest
                .split_once('>')
                .map(|(_, t)| t.split("</p>").next().unwrap_or_default())
                .unwrap_or_default()
                .to_string();
            (field, text)
        })
        .collect()
}

/// The message beside one field, if any.
pub fn field_error(html: &str, field: &str) -> Option<String> {
    field_errors(html)
        .into_iter()
        .find(|(f, _)| f == field)
        .map(|(_, t)| t)
}

/// The page's first-level heading.
pub fn h1(html: &str) -> String {
    html.split_once("<h1>")
        .and_then(|(_, r)| r.split_once("</h1>"))
        .map(|(h, _)| h.trim().to_string())
        .unwrap_or_default()
}

/// The content of the first `<code class="secret">` (TOTP secrets, new API tokens).
pub fn secret_of(html: &str) -> Option<String> {
    html.split_once("<code class=\"secret\">")
        .and_then(|(_, r)| r.split_once("</code>"))
        .map(|(s, _)| s.trim().to_string())
}

pub async fn audit_events(db: &Db) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Id)
        .all(&db.conn)
        .await
        .expect("audit events")
}

pub async fn users(db: &Db) -> Vec<user::Model> {
    user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(&db.conn)
        .await
        .expect("users")
}
