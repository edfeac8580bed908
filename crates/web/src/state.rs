use crate::layout::NavItem;
use crate::metrics::Metrics;
use crate::module::Module;
use rathaus_store::Db;
use rathaus_store::accounts::{LoginPolicy, RegisterPolicy};
use rathaus_store::sessions::Timeouts;
use std::sync::Arc;
use std::time::Duration;

/// What the web layer needs from the configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address users reach; `https://…` switches on Secure/`__Host-` cookies and HSTS.
    pub public_url: Option<String>,
    pub session: Timeouts,
    pub login: LoginPolicy,
    /// Limits of the citizens' self-registration (per client address and e-mail address).
    pub register: RegisterPolicy,
    /// Bearer token that may read /metrics from other hosts than loopback.
    pub metrics_token: Option<String>,
    /// Take the client address from X-Forwarded-For (behind a reverse proxy only).
    pub trust_forwarded: bool,
    pub request_timeout: Duration,
    /// Largest request body in bytes.
    pub body_limit: usize,
    /// Largest multipart upload any route takes (routes with photos set their own, larger
    /// limits); multipart bodies up to this size are read once to screen their text fields.
    pub upload_limit: usize,
    /// The time services read (sessions' timeouts); tests move a `TestClock` instead of
    /// sleeping.
    pub clock: std::sync::Arc<dyn rathaus_core::clock::Clock>,
}

impl WebConfig {
    pub fn https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_url: None,
            session: Timeouts {
                idle: chrono::Duration::minutes(30),
                absolute: chrono::Duration::hours(12),
            },
            login: LoginPolicy::default(),
            register: RegisterPolicy::default(),
            metrics_token: None,
            trust_forwarded: false,
            request_timeout: Duration::from_secs(30),
            body_limit: 2 * 1024 * 1024,
            upload_limit: 32 * 1024 * 1024,
            clock: std::sync::Arc::new(rathaus_core::clock::SystemClock),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cfg: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    /// Navigation entries of the platform and the mounted modules.
    pub nav: Arc<Vec<NavItem>>,
    pub tenants: Arc<crate::ctx::TenantCache>,
    pub modules: Arc<Vec<Arc<dyn Module>>>,
    /// Live updates (server-sent events) of this process.
    pub live: rathaus_store::live::Hub,
    /// The full-text index with every module's document kinds registered; `serve` applies
    /// the outbox to it while the app runs.
    pub search: Arc<rathaus_search::SearchService>,
    /// Stored files (disk or S3; in memory for apps built without a data directory).
    pub files: Arc<rathaus_store::files::FileStore>,
    /// The start page's items per user, until the tenant changes (`todos`).
    pub todos: Arc<crate::todos::TodoCache>,
}

impl AppState {
    pub fn new(db: Db, cfg: WebConfig) -> Self {
        Self::with_modules(db, cfg, vec![])
    }

    /// The state for a platform with these modules mounted, with the search index and the
    /// files in memory (tests); `serve` passes its own with `with_services`.
    pub fn with_modules(db: Db, cfg: WebConfig, modules: Vec<Arc<dyn Module>>) -> Self {
        // Neither can fail for the in-memory backends.
        let search = rathaus_search::SearchService::in_memory().expect("in-memory search index");
        let files = rathaus_store::files::FileStore::from_config(
            &rathaus_store::files::FilesConfig::Memory,
        )
        .expect("in-memory file store");
        Self::with_services(db, cfg, modules, search, Arc::new(files))
    }

    /// The state with the search index and file store the binary opened from its
    /// configuration; the modules' document kinds are registered with `search` here.
    pub fn with_services(
        db: Db,
        cfg: WebConfig,
        modules: Vec<Arc<dyn Module>>,
        mut search: rathaus_search::SearchService,
        files: Arc<rathaus_store::files::FileStore>,
    ) -> Self {
        crate::module::register(&modules);
        for m in &modules {
            for source in m.search_sources() {
                search.register(source);
            }
        }
        let mut nav = crate::layout::platform_nav();
        // Module entries go before the administration entries.
        let admin_at = nav
            .iter()
            .position(|i| i.href.starts_with("/admin"))
            .unwrap_or(nav.len());
        let module_nav: Vec<NavItem> = modules.iter().flat_map(|m| m.nav()).collect();
        nav.splice(admin_at..admin_at, module_nav);
        AppState {
            live: rathaus_store::live::Hub::new(db.clone()),
            db,
            cfg: Arc::new(cfg),
            metrics: Arc::new(Metrics::new()),
            nav: Arc::new(nav),
            tenants: Arc::new(crate::ctx::TenantCache::default()),
            modules: Arc::new(modules),
            search: Arc::new(search),
            files,
            todos: Arc::default(),
        }
    }

    pub fn session_cookie(&self) -> &'static str {
        if self.cfg.https() {
            "__Host-rathaus_session"
        } else {
            "rathaus_session"
        }
    }

    pub fn csrf_cookie(&self) -> &'static str {
        if self.cfg.https() {
            "__Host-rathaus_csrf"
        } else {
            "rathaus_csrf"
        }
    }
}
