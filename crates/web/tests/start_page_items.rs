//! The start page's module items are kept per user for a short while (ADR 0021): a second
//! visit asks the modules nothing; a request that may change data in the tenant (any method
//! but GET, HEAD, OPTIONS) makes the next visit ask again; each user has their own items, and
//! another tenant's changes leave them alone.

use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture};
use rathaus_web::i18n::Lang;
use rathaus_web::module::{DashboardFuture, DashboardItem};
use rathaus_web::{AppState, Module, WebConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const HOST: &str = "start.a.test";
const HOST_B: &str = "start.b.test";

struct Counting(Arc<AtomicUsize>);

impl Module for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn translations(&self, lang: Lang) -> Option<&'static str> {
        match lang {
            Lang::De => Some("[counting]\ndue = \"{n} things due\"\n"),
            Lang::En => None,
        }
    }
    fn dashboard<'a>(
        &'a self,
        _db: &'a rathaus_store::Db,
        _user: &'a rathaus_core::Principal,
    ) -> DashboardFuture<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Ok(vec![DashboardItem {
                text_key: "counting.due",
                count: 7,
                href: "/x".into(),
                overdue: false,
            }])
        })
    }
}

#[tokio::test]
async fn start_page_items_are_kept_per_user_until_the_tenant_changes() {
    let asked = Arc::new(AtomicUsize::new(0));
    let tdb = TestDb::new().await;
    let a = tenant_fixture(&tdb.db, "a", HOST).await;
    let b = tenant_fixture(&tdb.db, "b", HOST_B).await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Counting(asked.clone()))];
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");
    let base_b = app.url(HOST_B, "");
    let start = |c: reqwest::Client, base: String| async move {
        let r = c.get(format!("{base}/staff")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    };
    let n = || asked.load(Ordering::SeqCst);

    // Signing in writes a session: everyone signs in first.
    let admin = app.client(&[HOST]);
    login(&admin, &base, &a.admin_email, PASSWORD).await;
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &a.clerk_email, PASSWORD).await;
    let other = app.client(&[HOST_B]);
    login(&other, &base_b, &b.admin_email, PASSWORD).await;

    assert!(
        start(admin.clone(), base.clone())
            .await
            .contains("7 things due")
    );
    assert_eq!(n(), 1);
    assert!(
        start(admin.clone(), base.clone())
            .await
            .contains("7 things due")
    );
    assert_eq!(n(), 1, "the second visit reuses the items");
    start(clerk.clone(), base.clone()).await;
    assert_eq!(n(), 2, "every user has their own items");

    // A change in another tenant leaves tenant a's items alone.
    start(other.clone(), base_b.clone()).await;
    assert_eq!(n(), 3);
    other.post(format!("{base_b}/staff")).send().await.unwrap();
    start(admin.clone(), base.clone()).await;
    assert_eq!(n(), 3);

    // Any request that may change data in tenant a (here one the app refuses) and any API
    // call with such a method count alike.
    let r = admin.post(format!("{base}/staff")).send().await.unwrap();
    assert!(r.status().is_client_error());
    start(admin.clone(), base.clone()).await;
    assert_eq!(n(), 4, "asked again after a change");
    start(admin.clone(), base.clone()).await;
    assert_eq!(n(), 4);
    admin
        .delete(format!("{base}/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    start(admin.clone(), base.clone()).await;
    assert_eq!(n(), 5);
}
