//! One access test for every route of every module this build serves (`rathaus::modules()`),
//! read from the modules' route tables, so a new route or a new module is covered without
//! touching this file:
//! - anonymous: a page that needs a signed-in user sends to the login; an API or machine
//!   route answers 401;
//! - a user holding every permission except the ones a route accepts: 403;
//! - another tenant: every GET route with ids that shows tenant A's demo data to A's admin
//!   answers 404 to B's admin (who holds every permission too).
//!
//! The platform's own routes have the finer-grained test in crates/web/tests/access.rs.

use rathaus_core::permissions::PLATFORM;
use rathaus_store::tokens;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture, user_with};
use rathaus_web::{Access, AppState, Kind, RouteInfo, WebConfig};
use std::collections::BTreeSet;

const HOST_A: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

/// The path with every `{param}` (and `{*rest}`) replaced by `1`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else { break };
        out.push('1');
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

fn all_permissions() -> BTreeSet<&'static str> {
    let mut all: BTreeSet<&'static str> = PLATFORM.iter().map(|p| p.code).collect();
    for m in rathaus::modules() {
        all.extend(m.permissions().iter().map(|p| p.code));
    }
    all
}

fn table() -> Vec<(&'static str, RouteInfo)> {
    let mut out = vec![];
    for m in rathaus::modules() {
        for r in m.routes().table() {
            out.push((m.name(), r.clone()));
        }
    }
    out
}

#[test]
fn every_module_declares_its_routes() {
    let mut seen = BTreeSet::new();
    for m in rathaus::modules() {
        let routes = m.routes();
        assert!(
            !routes.table().is_empty(),
            "module {} has an empty route table",
            m.name()
        );
        for r in routes.table() {
            assert!(
                seen.insert((r.method.clone(), r.path.clone())),
                "{} {} is declared twice",
                r.method,
                r.path
            );
            if let Access::AnyOf(ps) = r.access {
                assert!(
                    !ps.is_empty(),
                    "{} {}: AnyOf(&[]) lets nobody in",
                    r.method,
                    r.path
                );
                for p in ps {
                    assert!(
                        all_permissions().contains(p),
                        "{} {}: unknown permission {p}",
                        r.method,
                        r.path
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_route_refuses_anonymous_unpermitted_and_other_tenant_callers() {
    let tdb = TestDb::new().await;
    let db = tdb.db.clone();
    let modules = rathaus::modules();
    rathaus_web::module::migrate_all(&db, &modules)
        .await
        .unwrap();
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules.clone());
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let admin_a = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    for m in &modules {
        m.demo(&db, &admin_a).await.unwrap();
    }

    // One user per permission set a route accepts, holding every other permission.
    let routes = table();
    let all = all_permissions();
    let mut lacking: Vec<(&'static [&'static str], reqwest::Client, String, String)> = vec![];
    let app = TestApp::spawn_state(tdb, st).await;
    let base_a = app.url(HOST_A, "");
    let base_b = app.url(HOST_B, "");
    for (_, r) in &routes {
        let Access::AnyOf(ps) = r.access else {
            continue;
        };
        if lacking.iter().any(|(q, ..)| *q == ps) {
            continue;
        }
        let n = lacking.len();
        let email = format!("ohne{n}@a.example");
        let others: Vec<&str> = all.iter().copied().filter(|p| !ps.contains(p)).collect();
        let u = user_with(&db, a.tenant, &email, "Ohne Recht", &others).await;
        let c = app.client(&[HOST_A]);
        assert_eq!(login(&c, &base_a, &email, PASSWORD).await.status(), 303);
        let csrf = csrf_of(
            &c.get(format!("{base_a}/account"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        let (token, _) = tokens::create(
            &db.conn,
            a.tenant,
            u.user_id,
            rathaus_store::uow::Actor::system("test"),
            "Test",
        )
        .await
        .unwrap();
        lacking.push((ps, c, csrf, token));
    }

    let anon = app.client(&[HOST_A]);
    let anon_csrf = csrf_of(
        &anon
            .get(format!("{base_a}/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let mut checked = 0;
    for (module, r) in &routes {
        if matches!(r.access, Access::Public | Access::Secret) {
            continue;
        }
        let url = format!("{base_a}{}", concrete(&r.path));
        let what = format!("{module}: {} {}", r.method, r.path);
        // Anonymous.
        let res = anon
            .request(r.method.clone(), &url)
            .form(&[("_csrf", anon_csrf.as_str())])
            .send()
            .await
            .unwrap();
        match r.kind {
            Kind::Page => {
                assert_eq!(res.status(), 303, "{what} (anonymous)");
                let to = res.headers()["location"].to_str().unwrap();
                assert!(to.starts_with("/login"), "{what} (anonymous) went to {to}");
            }
            Kind::Api | Kind::Machine => assert_eq!(res.status(), 401, "{what} (anonymous)"),
        }
        // Every permission but the route's.
        if let Access::AnyOf(ps) = r.access {
            let (_, c, csrf, token) = lacking.iter().find(|(q, ..)| *q == ps).unwrap();
            let req = c.request(r.method.clone(), &url);
            let req = match r.kind {
                Kind::Page => req.form(&[("_csrf", csrf.as_str())]),
                Kind::Api | Kind::Machine => app
                    .client(&[HOST_A])
                    .request(r.method.clone(), &url)
                    .bearer_auth(token),
            };
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 403, "{what} without {ps:?}");
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} guarded routes found");

    // Another tenant: what A's admin sees under an id, B's admin does not.
    let admin_of = |base: String, email: String, host: &'static str| {
        let c = app.client(&[host]);
        async move {
            assert_eq!(login(&c, &base, &email, PASSWORD).await.status(), 303);
            c
        }
    };
    let ca = admin_of(base_a.clone(), a.admin_email.clone(), HOST_A).await;
    let cb = admin_of(base_b.clone(), b.admin_email.clone(), HOST_B).await;
    let mut isolated = vec![];
    for (module, r) in &routes {
        if r.kind != Kind::Page || r.method != reqwest::Method::GET || !r.path.contains('{') {
            continue;
        }
        if matches!(r.access, Access::Public | Access::Secret) {
            continue;
        }
        let path = concrete(&r.path);
        let own = ca.get(format!("{base_a}{path}")).send().await.unwrap();
        if own.status() != 200 {
            continue;
        }
        let other = cb.get(format!("{base_b}{path}")).send().await.unwrap();
        assert_eq!(
            other.status(),
            404,
            "{module}: {path} of tenant A shown to tenant B"
        );
        isolated.push(path);
    }
    eprintln!(
        "{checked} guarded routes refused anonymous and unpermitted callers; \
         {} id routes isolated between tenants: {isolated:?}",
        isolated.len()
    );
    assert!(
        isolated.len() >= 3,
        "too few id routes showed demo data to check isolation: {isolated:?}"
    );
}
