//! The route inventory: every route of the app (crates/web/src/app.rs and the OpenAPI
//! document) is listed here with who may use it, and each is tried as an anonymous client, as a
//! clerk without permissions, as users lacking exactly the one permission the route needs, as
//! users holding only that permission, and as the admin. A route added to app.rs without a row
//! here makes the first check fail.

use crate::common;

use common::{csrf, get, h1, location, post, signed_in, snapshot};
use rathaus_core::permissions::{self as perms};
use rathaus_core::{TenantId, UserId};
use rathaus_store::accounts::{self, RoleInput, UserInput};
use rathaus_store::{jobs, tenants, tokens};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, tenant_fixture};
use rathaus_web::WebConfig;
use std::collections::BTreeSet;

const HOST: &str = "rathaus.a.test";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Guard {
    /// Open to everyone; the anonymous client gets this status.
    Public(u16),
    /// Any signed-in staff member (no permission needed).
    Staff,
    /// A signed-in staff member holding this permission.
    Perm(&'static str),
    /// The API: a bearer token, never the session cookie.
    Bearer,
}

struct Route {
    method: &'static str,
    pattern: &'static str,
    /// The concrete path tried, with real ids.
    path: String,
    guard: Guard,
    /// Form fields for POSTs (besides `_csrf`): valid input, so that a missing check would
    /// let the request through and change something.
    form: Vec<(&'static str, String)>,
    /// What the admin's POST answers, and whether it changes stored data. Proves the form
    /// above is one that works, so the refusals are meaningful.
    admin_post: Option<(u16, bool)>,
    /// Sent as multipart/form-data with this file in the field `wappen` (the CSRF token then
    /// travels in the query string).
    upload: Option<Vec<u8>>,
    /// What a GET answers to callers the guard lets through (200 unless noted).
    ok: u16,
}

fn route(method: &'static str, pattern: &'static str, path: String, guard: Guard) -> Route {
    Route {
        method,
        pattern,
        path,
        guard,
        form: vec![],
        admin_post: None,
        upload: None,
        ok: 200,
    }
}

impl Route {
    fn form(mut self, fields: &[(&'static str, &str)]) -> Self {
        self.form = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self
    }
    fn admin(mut self, status: u16, changes: bool) -> Self {
        self.admin_post = Some((status, changes));
        self
    }
    fn ok(mut self, status: u16) -> Self {
        self.ok = status;
        self
    }
    fn upload(mut self, bytes: Vec<u8>) -> Self {
        self.upload = Some(bytes);
        self
    }

    /// POSTs this route's form (with the CSRF token if given).
    async fn post(&self, c: &reqwest::Client, url: &str, csrf: Option<&str>) -> reqwest::Response {
        if let Some(bytes) = &self.upload {
            let url = match csrf {
                Some(k) => format!("{url}?_csrf={k}"),
                None => url.to_string(),
            };
            let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name("wappen.png");
            let form = reqwest::multipart::Form::new().part("wappen", part);
            return c.post(url).multipart(form).send().await.expect("POST");
        }
        let fields: Vec<(&str, &str)> = self.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match csrf {
            Some(k) => post(c, url, k, &fields).await,
            None => c.post(url).form(&fields).send().await.expect("POST"),
        }
    }
}

fn png(w: u32, h: u32, red: u8) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(w, h, image::Rgba([red, 30, 30, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// Real objects the `{id}` routes point at.
struct Ids {
    user: i64,
    role_edit: i64,
    role_delete: i64,
    dept_rename: i64,
    dept_delete: i64,
    job: i64,
    token: i64,
    asset: String,
    coat_of_arms: String,
}

fn table(ids: &Ids) -> Vec<Route> {
    use Guard::*;
    let p = |s: &str| s.to_string();
    vec![
        route("GET", "/", p("/"), Public(200)),
        route("GET", "/{page}", p("/impressum"), Public(200)),
        route(
            "GET",
            "/sprache",
            p("/sprache?lang=de&back=%2F"),
            Public(303),
        ),
        route("GET", "/login", p("/login"), Public(200)),
        // Empty fields: the form comes back with a message, nothing is looked up.
        route("POST", "/login", p("/login"), Public(422)).form(&[("email", ""), ("password", "")]),
        route("GET", "/login/totp", p("/login/totp"), Public(303)),
        route("POST", "/login/totp", p("/login/totp"), Public(303)).form(&[("code", "123456")]),
        route("POST", "/logout", p("/logout"), Public(303)),
        route("GET", "/registrieren", p("/registrieren"), Public(200)),
        // Empty fields: the form comes back with messages, nothing is stored or sent.
        route("POST", "/registrieren", p("/registrieren"), Public(422)).form(&[
            ("name", ""),
            ("email", ""),
            ("password", ""),
        ]),
        // An unknown link: a German message, nothing changes (GET never changes anything).
        route(
            "GET",
            "/registrieren/bestaetigen/{token}",
            p("/registrieren/bestaetigen/unbekannt"),
            Public(404),
        ),
        route(
            "POST",
            "/registrieren/bestaetigen/{token}",
            p("/registrieren/bestaetigen/unbekannt"),
            Public(404),
        ),
        route(
            "GET",
            "/passwort-vergessen",
            p("/passwort-vergessen"),
            Public(200),
        ),
        // An empty address: the form comes back with a message, nothing is stored or sent.
        route(
            "POST",
            "/passwort-vergessen",
            p("/passwort-vergessen"),
            Public(422),
        )
        .form(&[("email", "")]),
        // An unknown reset link: a German message, nothing changes.
        route(
            "GET",
            "/passwort-vergessen/{token}",
            p("/passwort-vergessen/unbekannt"),
            Public(404),
        ),
        route(
            "POST",
            "/passwort-vergessen/{token}",
            p("/passwort-vergessen/unbekannt"),
            Public(404),
        )
        .form(&[("password", "gewitterwolke am abendhimmel")]),
        route("GET", "/staff", p("/staff"), Staff),
        route("GET", "/suche", p("/suche?q=Antrag"), Staff),
        route("GET", "/account", p("/account"), Staff),
        route("POST", "/account/password", p("/account/password"), Staff)
            .form(&[
                ("current_password", PASSWORD),
                ("new_password", "gewitterwolke am abendhimmel"),
            ])
            .admin(303, true),
        route("GET", "/account/totp", p("/account/totp"), Staff),
        route("POST", "/account/totp", p("/account/totp"), Staff)
            .form(&[("code", "000000")])
            .admin(422, false),
        route(
            "POST",
            "/account/totp/disable",
            p("/account/totp/disable"),
            Staff,
        )
        .form(&[("code", "000000")])
        .admin(422, false),
        route("GET", "/account/tokens", p("/account/tokens"), Staff),
        route("POST", "/account/tokens", p("/account/tokens"), Staff)
            .form(&[("name", "Fachverfahren")])
            .admin(200, true),
        route(
            "POST",
            "/account/tokens/{id}/revoke",
            format!("/account/tokens/{}/revoke", ids.token),
            Staff,
        )
        .admin(303, true),
        // No module of this test offers a topic: the admin gets 404, the others the guard.
        route("GET", "/live", p("/live?topic=keines"), Staff).ok(404),
        route("POST", "/markdown/vorschau", p("/markdown/vorschau"), Staff)
            .form(&[("body", "# Vorschau")])
            .admin(200, false),
        route(
            "GET",
            "/admin/users",
            p("/admin/users"),
            Perm(perms::ADMIN_USERS),
        ),
        route(
            "GET",
            "/admin/users/new",
            p("/admin/users/new"),
            Perm(perms::ADMIN_USERS),
        ),
        route(
            "POST",
            "/admin/users/new",
            p("/admin/users/new"),
            Perm(perms::ADMIN_USERS),
        )
        .form(&[
            ("name", "Neue Kollegin"),
            ("email", "neu@a.example"),
            ("password", "wolkenbruch am nachmittag"),
            ("active", "on"),
        ])
        .admin(303, true),
        route(
            "GET",
            "/admin/users/{id}",
            format!("/admin/users/{}", ids.user),
            Perm(perms::ADMIN_USERS),
        ),
        route(
            "POST",
            "/admin/users/{id}",
            format!("/admin/users/{}", ids.user),
            Perm(perms::ADMIN_USERS),
        )
        .form(&[
            ("name", "Umbenannte Person"),
            ("email", "opfer@a.example"),
            ("password", ""),
            ("active", "on"),
        ])
        .admin(303, true),
        route(
            "POST",
            "/admin/users/{id}/reset-totp",
            format!("/admin/users/{}/reset-totp", ids.user),
            Perm(perms::ADMIN_USERS),
        )
        .admin(303, true),
        route(
            "GET",
            "/admin/roles",
            p("/admin/roles"),
            Perm(perms::ADMIN_ROLES),
        ),
        route(
            "GET",
            "/admin/roles/new",
            p("/admin/roles/new"),
            Perm(perms::ADMIN_ROLES),
        ),
        route(
            "POST",
            "/admin/roles/new",
            p("/admin/roles/new"),
            Perm(perms::ADMIN_ROLES),
        )
        .form(&[
            ("name", "Neue Rolle"),
            ("description", ""),
            ("permissions", perms::ADMIN_USERS),
        ])
        .admin(303, true),
        route(
            "GET",
            "/admin/roles/{id}",
            format!("/admin/roles/{}", ids.role_edit),
            Perm(perms::ADMIN_ROLES),
        ),
        route(
            "POST",
            "/admin/roles/{id}",
            format!("/admin/roles/{}", ids.role_edit),
            Perm(perms::ADMIN_ROLES),
        )
        .form(&[
            ("name", "Geänderte Rolle"),
            ("description", "alles"),
            ("permissions", perms::ADMIN_SETTINGS),
        ])
        .admin(303, true),
        route(
            "POST",
            "/admin/roles/{id}/delete",
            format!("/admin/roles/{}/delete", ids.role_delete),
            Perm(perms::ADMIN_ROLES),
        )
        .admin(303, true),
        route(
            "GET",
            "/admin/departments",
            p("/admin/departments"),
            Perm(perms::ADMIN_DEPARTMENTS),
        ),
        route(
            "POST",
            "/admin/departments",
            p("/admin/departments"),
            Perm(perms::ADMIN_DEPARTMENTS),
        )
        .form(&[("name", "Standesamt")])
        .admin(303, true),
        route(
            "POST",
            "/admin/departments/{id}",
            format!("/admin/departments/{}", ids.dept_rename),
            Perm(perms::ADMIN_DEPARTMENTS),
        )
        .form(&[("name", "Bürgerservice")])
        .admin(303, true),
        route(
            "POST",
            "/admin/departments/{id}/delete",
            format!("/admin/departments/{}/delete", ids.dept_delete),
            Perm(perms::ADMIN_DEPARTMENTS),
        )
        .admin(303, true),
        route(
            "GET",
            "/admin/audit",
            p("/admin/audit"),
            Perm(perms::ADMIN_AUDIT),
        ),
        route(
            "GET",
            "/admin/jobs",
            p("/admin/jobs"),
            Perm(perms::ADMIN_JOBS),
        ),
        route(
            "POST",
            "/admin/jobs/{id}/retry",
            format!("/admin/jobs/{}/retry", ids.job),
            Perm(perms::ADMIN_JOBS),
        )
        .admin(303, true),
        route(
            "GET",
            "/admin/settings",
            p("/admin/settings"),
            Perm(perms::ADMIN_SETTINGS),
        ),
        route(
            "POST",
            "/admin/settings",
            p("/admin/settings"),
            Perm(perms::ADMIN_SETTINGS),
        )
        .form(&[("name", "Gemeinde Umbenannt")])
        .admin(303, true),
        route(
            "POST",
            "/admin/settings/wappen",
            p("/admin/settings/wappen"),
            Perm(perms::ADMIN_SETTINGS),
        )
        .upload(png(40, 48, 90))
        .admin(303, true),
        route(
            "POST",
            "/admin/settings/wappen/delete",
            p("/admin/settings/wappen/delete"),
            Perm(perms::ADMIN_SETTINGS),
        )
        .admin(303, true),
        route(
            "GET",
            "/wappen/{file}",
            format!("/wappen/{}.png", ids.coat_of_arms),
            Public(200),
        ),
        route(
            "GET",
            "/admin/pages/{slug}",
            p("/admin/pages/impressum"),
            Perm(perms::ADMIN_SETTINGS),
        ),
        route(
            "POST",
            "/admin/pages/{slug}",
            p("/admin/pages/impressum"),
            Perm(perms::ADMIN_SETTINGS),
        )
        .form(&[("title", "Impressum"), ("body", "Neuer Text")])
        .admin(303, true),
        route(
            "GET",
            "/api/openapi.json",
            p("/api/openapi.json"),
            Public(200),
        ),
        route(
            "ANY",
            "/api/{*rest}",
            p("/api/v1/gibt-es-nicht"),
            Public(404),
        ),
        route("GET", "/api/v1/me", p("/api/v1/me"), Bearer),
        route(
            "GET",
            "/api/v1/search",
            p("/api/v1/search?q=Antrag"),
            Bearer,
        ),
        route("GET", "/healthz", p("/healthz"), Public(200)),
        route("GET", "/readyz", p("/readyz"), Public(200)),
        // From loopback; other clients need the token (see headers.rs).
        route("GET", "/metrics", p("/metrics"), Public(200)),
        route("GET", "/static/{*path}", ids.asset.clone(), Public(200)),
    ]
}

/// Every route the app mounts: the platform's route table (pages and the API) and the
/// plumbing around it (health, metrics, assets, the OpenAPI document and the API's 404).
fn mounted_routes() -> BTreeSet<(String, String)> {
    let mut out: BTreeSet<(String, String)> = rathaus_web::app::platform_routes()
        .table()
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    for (m, p) in [
        ("GET", "/api/openapi.json"),
        ("ANY", "/api/{*rest}"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/static/{*path}"),
    ] {
        out.insert((m.to_string(), p.to_string()));
    }
    out
}

/// The route table's access rule agrees with the guard this test expects.
#[test]
fn the_table_declares_the_expected_access() {
    use rathaus_web::{Access, Kind};
    let ids = Ids {
        user: 1,
        role_edit: 1,
        role_delete: 1,
        dept_rename: 1,
        dept_delete: 1,
        job: 1,
        token: 1,
        asset: String::new(),
        coat_of_arms: String::new(),
    };
    let expected = table(&ids);
    for r in rathaus_web::app::platform_routes().table() {
        let row = expected
            .iter()
            .find(|e| e.method == r.method.as_str() && e.pattern == r.path)
            .unwrap_or_else(|| panic!("{} {} has no row", r.method, r.path));
        let ok = match (row.guard, r.access, r.kind) {
            (Guard::Public(_), Access::Public | Access::Secret, _) => true,
            (Guard::Staff, Access::SignedIn, Kind::Page) => true,
            (Guard::Perm(p), Access::AnyOf(ps), Kind::Page) => ps == [p],
            (Guard::Bearer, Access::SignedIn, Kind::Api) => true,
            _ => false,
        };
        assert!(
            ok,
            "{} {}: table says {:?}, test expects {:?}",
            r.method, r.path, r.access, row.guard
        );
    }
}

async fn user_with(
    db: &rathaus_store::Db,
    tenant: TenantId,
    email: &str,
    permissions: &[&str],
) -> UserId {
    let role = accounts::create_role(
        &db.conn,
        tenant,
        rathaus_store::uow::Actor::system("test"),
        RoleInput {
            name: &format!("Rolle {email}"),
            description: "",
            permissions: &permissions
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
        },
    )
    .await
    .expect("role");
    let u = accounts::create_user(
        &db.conn,
        tenant,
        rathaus_store::uow::Actor::system("test"),
        UserInput {
            email,
            name: email,
            password: PASSWORD,
            department_id: None,
            role_ids: &[role.id],
            active: true,
        },
    )
    .await
    .expect("user");
    UserId(u.id)
}

fn is_forbidden_page(status: u16, html: &str) -> bool {
    status == 403 && h1(html) == "Keine Berechtigung" && html.contains("<html lang=\"de\">")
}

#[tokio::test]
async fn every_route_is_listed_and_refuses_anonymous_and_unpermitted_users() {
    let tdb = TestDb::new().await;
    let f = tenant_fixture(&tdb.db, "a", HOST).await;
    let db = tdb.db.clone();
    let t = f.tenant;

    // Objects for the {id} routes.
    let victim = accounts::create_user(
        &db.conn,
        t,
        rathaus_store::uow::Actor::system("test"),
        UserInput {
            email: "opfer@a.example",
            name: "Otto Opfer",
            password: PASSWORD,
            department_id: None,
            role_ids: &[],
            active: true,
        },
    )
    .await
    .unwrap();
    let mk_role = |name: &'static str| {
        let db = db.clone();
        async move {
            accounts::create_role(
                &db.conn,
                t,
                rathaus_store::uow::Actor::system("test"),
                RoleInput {
                    name,
                    description: "",
                    permissions: &[],
                },
            )
            .await
            .unwrap()
            .id
        }
    };
    let role_edit = mk_role("Zu ändern").await;
    let role_delete = mk_role("Zu löschen").await;
    let dept_rename = accounts::create_department(
        &db.conn,
        t,
        rathaus_store::uow::Actor::system("test"),
        "Bürgerbüro",
    )
    .await
    .unwrap()
    .id;
    let dept_delete = accounts::create_department(
        &db.conn,
        t,
        rathaus_store::uow::Actor::system("test"),
        "Bauhof",
    )
    .await
    .unwrap()
    .id;
    jobs::enqueue(&db.conn, t, "test.fails", serde_json::json!({}), 1)
        .await
        .unwrap();
    let claimed = jobs::claim(&db).await.unwrap().expect("job claimed");
    jobs::fail(&db.conn, &claimed, "kaputt").await.unwrap();
    let (admin_token, tok) = tokens::create(
        &db.conn,
        t,
        f.admin,
        rathaus_store::uow::Actor::system("test"),
        "Zugriffstest",
    )
    .await
    .unwrap();
    let (clerk_token, _) = tokens::create(
        &db.conn,
        t,
        f.clerk,
        rathaus_store::uow::Actor::system("test"),
        "Zugriffstest",
    )
    .await
    .unwrap();
    let admin_p = accounts::principal(&db.conn, t, f.admin)
        .await
        .unwrap()
        .unwrap();
    let coat_of_arms = tenants::set_coat_of_arms(&db.conn, &admin_p, &png(30, 36, 200))
        .await
        .unwrap();

    // Per permission: a user holding all the others, and one holding only it.
    let all: Vec<&str> = perms::all().iter().map(|d| d.code).collect();
    let mut without = vec![];
    let mut only = vec![];
    for (i, p) in all.iter().enumerate() {
        let others: Vec<&str> = all.iter().copied().filter(|x| x != p).collect();
        let e1 = format!("ohne{i}@a.example");
        let e2 = format!("nur{i}@a.example");
        user_with(&db, t, &e1, &others).await;
        user_with(&db, t, &e2, &[p]).await;
        without.push((*p, e1));
        only.push((*p, e2));
    }

    let app = TestApp::spawn(tdb, WebConfig::default()).await;
    let base = app.url(HOST, "");
    let url = |path: &str| app.url(HOST, path);

    let anon = app.client(&[HOST]);
    let home = get(&anon, &base).await.text().await.unwrap();
    let asset = home
        .split_once("<link rel=\"stylesheet\" href=\"")
        .and_then(|(_, r)| r.split_once('"'))
        .map(|(h, _)| h.to_string())
        .expect("stylesheet link");
    let ids = Ids {
        user: victim.id,
        role_edit,
        role_delete,
        dept_rename,
        dept_delete,
        job: claimed.id,
        token: tok.id,
        asset,
        coat_of_arms,
    };
    let routes = table(&ids);

    // 1. The table lists exactly the routes of the source and of the OpenAPI document.
    let mut expected = mounted_routes();
    let doc: serde_json::Value = get(&anon, &url("/api/openapi.json"))
        .await
        .json()
        .await
        .unwrap();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            expected.insert((method.to_uppercase(), path.clone()));
        }
    }
    let listed: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.to_string(), r.pattern.to_string()))
        .collect();
    assert_eq!(listed.len(), routes.len(), "a route is listed twice");
    let unlisted: Vec<_> = expected.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "routes without a row in the access table: {unlisted:?}"
    );
    let stale: Vec<_> = listed.difference(&expected).collect();
    assert!(
        stale.is_empty(),
        "rows for routes that do not exist: {stale:?}"
    );

    // Clients: anonymous (with and without a CSRF cookie), clerk, admin, and per permission.
    let anon_csrf = csrf(&anon, &base).await;
    let clerk = signed_in(&app, HOST, &f.clerk_email).await;
    let clerk_csrf = csrf(&clerk, &base).await;
    let admin = signed_in(&app, HOST, &f.admin_email).await;
    let admin_csrf = csrf(&admin, &base).await;
    let mut without_c = vec![];
    for (p, e) in &without {
        let c = signed_in(&app, HOST, e).await;
        let k = csrf(&c, &base).await;
        without_c.push((*p, e.clone(), c, k));
    }
    let mut only_c = vec![];
    for (p, e) in &only {
        only_c.push((*p, e.clone(), signed_in(&app, HOST, e).await));
    }

    // 2. Public routes answer anonymous clients.
    for r in routes.iter() {
        let Guard::Public(status) = r.guard else {
            continue;
        };
        let methods: &[&str] = if r.method == "ANY" {
            &["GET", "POST"]
        } else {
            &[r.method]
        };
        for m in methods {
            let res = if *m == "GET" {
                get(&anon, &url(&r.path)).await
            } else {
                r.post(&anon, &url(&r.path), Some(&anon_csrf)).await
            };
            assert_eq!(
                res.status(),
                status,
                "{m} {} (anonymous) answered {}",
                r.path,
                res.status()
            );
        }
    }

    // 3. The API takes bearer tokens only, not the session cookie.
    for r in routes.iter().filter(|r| r.guard == Guard::Bearer) {
        let res = get(&anon, &url(&r.path)).await;
        assert_eq!(res.status(), 401, "{} without token", r.path);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let res = get(&admin, &url(&r.path)).await;
        assert_eq!(
            res.status(),
            401,
            "{}: the session cookie must not authenticate the API",
            r.path
        );
        for token in [&admin_token, &clerk_token] {
            let res = anon
                .get(url(&r.path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{} with a token", r.path);
        }
    }

    // 4. Pages (GET).
    for r in routes.iter().filter(|r| r.method == "GET") {
        let needs = match r.guard {
            Guard::Staff => None,
            Guard::Perm(p) => Some(p),
            _ => continue,
        };
        let res = get(&anon, &url(&r.path)).await;
        assert_eq!(res.status(), 303, "GET {} anonymous", r.path);
        assert_eq!(
            location(&res),
            format!("/login?next={}", rathaus_web::ctx::urlencode(&r.path)),
            "GET {} anonymous",
            r.path
        );

        let res = get(&clerk, &url(&r.path)).await;
        let status = res.status().as_u16();
        let html = res.text().await.unwrap();
        match needs {
            None => assert_eq!(status, r.ok, "GET {} as clerk", r.path),
            Some(p) => assert!(
                is_forbidden_page(status, &html),
                "GET {} as clerk without {p}: {status} {}",
                r.path,
                h1(&html)
            ),
        }
        if let Some(p) = needs {
            for (q, e, c, _) in &without_c {
                if *q == p {
                    let res = get(c, &url(&r.path)).await;
                    let status = res.status().as_u16();
                    let html = res.text().await.unwrap();
                    assert!(
                        is_forbidden_page(status, &html),
                        "GET {} as {e}, who holds every permission but {p}: {status}",
                        r.path
                    );
                }
            }
            for (q, e, c) in &only_c {
                if *q == p {
                    let res = get(c, &url(&r.path)).await;
                    assert_eq!(res.status(), r.ok, "GET {} as {e}, who holds {p}", r.path);
                }
            }
        }
        let res = get(&admin, &url(&r.path)).await;
        assert_eq!(res.status(), r.ok, "GET {} as admin", r.path);
    }

    // 5. Forms (POST): refused ones change nothing.
    for r in routes.iter().filter(|r| r.method == "POST") {
        let needs = match r.guard {
            Guard::Staff => None,
            Guard::Perm(p) => Some(p),
            _ => continue,
        };
        let before = snapshot(&db).await;
        let res = r.post(&anon, &url(&r.path), Some(&anon_csrf)).await;
        assert_eq!(res.status(), 303, "POST {} anonymous", r.path);
        assert_eq!(location(&res), "/login", "POST {} anonymous", r.path);
        let res = r.post(&app.client(&[HOST]), &url(&r.path), None).await;
        assert_eq!(
            res.status(),
            403,
            "POST {} anonymous without CSRF token",
            r.path
        );
        assert_eq!(
            snapshot(&db).await,
            before,
            "POST {} by anonymous changed data",
            r.path
        );

        if let Some(p) = needs {
            let res = r.post(&clerk, &url(&r.path), Some(&clerk_csrf)).await;
            let status = res.status().as_u16();
            let html = res.text().await.unwrap();
            assert!(
                is_forbidden_page(status, &html),
                "POST {} as clerk without {p}: {status} {}",
                r.path,
                h1(&html)
            );
            for (q, e, c, k) in &without_c {
                if *q == p {
                    let res = r.post(c, &url(&r.path), Some(k)).await;
                    let status = res.status().as_u16();
                    let html = res.text().await.unwrap();
                    assert!(
                        is_forbidden_page(status, &html),
                        "POST {} as {e}, who holds every permission but {p}: {status}",
                        r.path
                    );
                }
            }
            assert_eq!(
                snapshot(&db).await,
                before,
                "POST {} by users without {p} changed data",
                r.path
            );
        }
    }

    // 6. The same forms from the admin work: the refusals above were not for bad input.
    for r in routes.iter().filter(|r| r.method == "POST") {
        let Some((status, changes)) = r.admin_post else {
            assert!(
                matches!(r.guard, Guard::Public(_)),
                "POST {} needs an admin expectation",
                r.path
            );
            continue;
        };
        let before = snapshot(&db).await;
        let res = r.post(&admin, &url(&r.path), Some(&admin_csrf)).await;
        assert_eq!(res.status(), status, "POST {} as admin", r.path);
        let changed = snapshot(&db).await != before;
        assert_eq!(changed, changes, "POST {} as admin: data changed?", r.path);
    }
}
