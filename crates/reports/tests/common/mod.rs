//! Shared set-up for the Mängelmelder tests: a fresh database (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL) with the module migrated, a tenant with the demo categories,
//! boundary and street directory, and principals with exactly one permission each.
#![allow(dead_code)]

use rathaus_core::{Principal, TenantId, UserId};
use rathaus_reports::Reports;
use rathaus_reports::service::{self, Category, NewReport, ReportsState, Source, Submitted};
use rathaus_store::Db;
use rathaus_store::accounts;
use rathaus_testkit::{Fixture, PASSWORD, TestDb, tenant_fixture};
use rathaus_web::Module;

pub struct Setup {
    pub db: Db,
    /// The database's owner (holds the SQLite file); None for a second tenant in it.
    pub tdb: Option<TestDb>,
    pub f: Fixture,
    pub admin: Principal,
    /// Holds `reports.handle` and `reports.personal_data` (as roles that handled reports
    /// before the permission existed do after migration m0002).
    pub handler: Principal,
    /// Holds `reports.moderate` only.
    pub moderator: Principal,
    /// Holds `reports.manage` only.
    pub manager: Principal,
    /// No permission at all.
    pub clerk: Principal,
    /// The demo categories, by code (winterdienst, strassenschaden, beleuchtung, …).
    pub categories: Vec<Category>,
    /// The module as the app mounts it: services called directly share its state (caches).
    pub module: std::sync::Arc<Reports>,
    /// The file service (in memory) shared by direct service calls and `spawn_app`.
    pub files: std::sync::Arc<rathaus_store::files::FileStore>,
}

impl Setup {
    pub fn tenant(&self) -> TenantId {
        self.f.tenant
    }

    /// The module's state, for direct service calls.
    pub fn st(&self) -> &ReportsState {
        self.module.state()
    }

    /// Re-encodes every photo still in quarantine (what the job `reports.photo_clean` does in
    /// the background), without running other queued jobs; returns how many it cleaned.
    pub async fn clean_photos(&self) -> usize {
        use rathaus_reports::store::entity::photo;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let pending = photo::Entity::find()
            .filter(photo::Column::QuarantineFileId.is_not_null())
            .all(&self.db.conn)
            .await
            .expect("pending photos");
        let mut n = 0;
        for p in pending {
            let done = service::photo_clean::clean(
                &self.db,
                &self.files,
                self.st(),
                TenantId(p.tenant_id),
                service::PhotoId(p.id),
            )
            .await
            .expect("clean photo");
            n += usize::from(done == service::photo_clean::Outcome::Cleaned);
        }
        n
    }

    pub fn category(&self, code: &str) -> &Category {
        self.categories
            .iter()
            .find(|c| c.code == code)
            .expect("demo category")
    }
}

pub async fn migrated() -> TestDb {
    let tdb = TestDb::new().await;
    Reports::new()
        .migrate(&tdb.db)
        .await
        .expect("reports migrations");
    rathaus_core::permissions::register(rathaus_reports::permissions::PERMISSIONS);
    tdb
}

pub async fn principal(db: &Db, tenant: TenantId, user: UserId) -> Principal {
    rathaus_testkit::principal(db, tenant, user).await
}

/// A staff user holding exactly `perms` (through a role of the same name).
pub async fn user_with(db: &Db, tenant: TenantId, email: &str, perms: &[&str]) -> Principal {
    rathaus_testkit::user_with(db, tenant, email, "Bernd Bauhof", perms).await
}

/// A tenant with the demo data of the module (categories, boundary, streets, five reports)
/// and one principal per permission.
pub async fn tenant(db: &Db, slug: &str, host: &str) -> Setup {
    let f = tenant_fixture(db, slug, host).await;
    let admin = principal(db, f.tenant, f.admin).await;
    let clerk = principal(db, f.tenant, f.clerk).await;
    for d in ["Bauhof", "Ordnungsamt", "Bürgerbüro"] {
        accounts::create_department(
            &db.conn,
            f.tenant,
            rathaus_store::uow::Actor::system("test"),
            d,
        )
        .await
        .expect("department");
    }
    let module = std::sync::Arc::new(Reports::new());
    rathaus_reports::demo::demo(db, module.state(), &admin)
        .await
        .expect("demo data");
    let handler = user_with(
        db,
        f.tenant,
        &format!("bauhof@{slug}.example"),
        &[service::HANDLE, service::PERSONAL_DATA],
    )
    .await;
    let moderator = user_with(
        db,
        f.tenant,
        &format!("moderation@{slug}.example"),
        &[service::MODERATE],
    )
    .await;
    let manager = user_with(
        db,
        f.tenant,
        &format!("verwaltung@{slug}.example"),
        &[service::MANAGE],
    )
    .await;
    let categories = service::list_categories(&db.conn, f.tenant, false)
        .await
        .expect("categories");
    Setup {
        db: db.clone(),
        tdb: None,
        f,
        admin,
        handler,
        moderator,
        manager,
        clerk,
        categories,
        module,
        files: std::sync::Arc::new(
            rathaus_store::files::FileStore::from_config(
                &rathaus_store::files::FilesConfig::Memory,
            )
            .expect("in-memory file store"),
        ),
    }
}

pub async fn setup() -> Setup {
    let tdb = migrated().await;
    let mut s = tenant(&tdb.db, "a", "rathaus.a.test").await;
    s.tdb = Some(tdb);
    s
}

/// Marktstraße 10 of the demo directory: inside the demo boundary.
pub const INSIDE: (f64, f64) = (51.3962, 7.191);
/// Well outside the demo boundary (Cologne cathedral).
pub const OUTSIDE: (f64, f64) = (50.9413, 6.9583);

/// A valid web report of `code` at `pos`.
pub fn report(s: &Setup, code: &str, pos: (f64, f64)) -> NewReport {
    NewReport {
        category_id: Some(s.category(code).id),
        position: Some(pos),
        description: "Schlagloch vor der Einfahrt".into(),
        consent: true,
        base_url: "http://rathaus.a.test".into(),
        ..Default::default()
    }
}

/// Submits a valid web report (published at once).
pub async fn submit(s: &Setup, code: &str, pos: (f64, f64)) -> Submitted {
    service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        report(s, code, pos),
    )
    .await
    .expect("report")
}

/// The app with the module mounted as the binary mounts it, serving the test database of `s`
/// on port 0 (takes `s.tdb`, which the app then owns and drops).
pub async fn spawn_app(s: &mut Setup, cfg: rathaus_web::WebConfig) -> rathaus_testkit::TestApp {
    let modules: Vec<std::sync::Arc<dyn Module>> = vec![s.module.clone()];
    let search = rathaus_search::SearchService::in_memory().expect("in-memory search index");
    let st =
        rathaus_web::AppState::with_services(s.db.clone(), cfg, modules, search, s.files.clone());
    rathaus_testkit::TestApp::spawn_state(s.tdb.take().expect("a fresh test database"), st).await
}

/// A client of `host` signed in as `email` (test password).
pub async fn signed_in(
    app: &rathaus_testkit::TestApp,
    host: &str,
    base: &str,
    email: &str,
) -> reqwest::Client {
    let c = app.client(&[host]);
    let r = rathaus_testkit::login(&c, base, email, PASSWORD).await;
    assert_eq!(r.status(), 303, "login of {email}");
    c
}
