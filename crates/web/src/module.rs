//! How a module (Mängelmelder, booking, E-Akte, …) plugs into the platform: it names its
//! permissions, navigation entries, translations, its route table, jobs and commands.
//! The binary lists the modules; everything else (tenant, session, CSRF, error pages, headers,
//! metrics, OpenAPI) comes from the platform around those routers.

use crate::i18n::Lang;
use crate::layout::NavItem;
use crate::routes::Routes;
use rathaus_core::permissions::PermissionDef;
use rathaus_store::Db;

/// An online service a module offers to citizens, listed on the public home page.
#[derive(Debug, Clone)]
pub struct PublicService {
    pub href: &'static str,
    /// Translation keys of the link text and the sentence under it.
    pub title_key: &'static str,
    pub text_key: &'static str,
}

pub trait Module: Send + Sync + 'static {
    /// Short name, e.g. `reports`.
    fn name(&self) -> &'static str;

    /// Permissions the module checks; they appear in the role form.
    fn permissions(&self) -> &'static [PermissionDef] {
        &[]
    }

    /// Navigation entries, shown to users holding their permission. `any_of:
    /// layout::ANY_SIGNED_IN` shows an entry to every signed-in user, citizens included;
    /// `layout::ANY_STAFF` (empty) to every staff member but no citizen.
    fn nav(&self) -> Vec<NavItem> {
        vec![]
    }

    /// The module's translation file for a language (TOML, like locales/de.toml).
    fn translations(&self, _lang: Lang) -> Option<&'static str> {
        None
    }

    /// The module's translation files for a language, registered one by one (so each file may
    /// use its own `[tables]`); by default the one file of `translations`.
    fn translation_files(&self, lang: Lang) -> Vec<&'static str> {
        self.translations(lang).into_iter().collect()
    }

    /// Online services for citizens, linked from the public home page.
    fn public_services(&self) -> Vec<PublicService> {
        vec![]
    }

    /// The module's route table: pages, API and machine routes, each with who may call it.
    /// The platform builds the router from it, mounts each kind behind its own middleware
    /// (pages: tenant, session, CSRF, error pages; API: bearer tokens, problem documents,
    /// OpenAPI; machine: tenant resolution only, `ctx::machine_context_layer`, where an
    /// unknown host reaches the handler with `ctx.tenant` None) and checks the access rule
    /// before the handler runs. Called once at start; module state goes in with
    /// `Routes::with_state`.
    fn routes(&self) -> Routes {
        Routes::new()
    }

    /// Topics of live updates the module announces (`live::Hub::publish`), with who may
    /// subscribe to each.
    fn live_topics(&self) -> &'static [crate::live::Topic] {
        &[]
    }

    /// The module's documents in the full-text search, one source per kind. The platform
    /// registers them with the search service, applies the outbox the module writes with
    /// `rathaus_search::enqueue`, and `rathaus search reindex` walks them.
    fn search_sources(&self) -> Vec<std::sync::Arc<dyn rathaus_search::DocSource>> {
        vec![]
    }

    /// The module's subcommand (`rathaus <name> …`), listed by `rathaus --help`.
    fn cli(&self) -> Option<clap::Command> {
        None
    }

    /// Runs the module's subcommand with its parsed arguments, on the migrated database;
    /// the exit code tells scripts what happened.
    fn run_cli<'a>(&'a self, _db: &'a Db, _args: &'a clap::ArgMatches) -> CliFuture<'a> {
        Box::pin(async { Ok(std::process::ExitCode::SUCCESS) })
    }

    /// The answer, in the module's own format, to a request for one of its machine routes
    /// that carries a control character in `field` (see `input`); None for paths that are not
    /// the module's, which then get an RFC 9457 problem document.
    fn reject_input(&self, _path: &str, _field: &str) -> Option<axum::response::Response> {
        None
    }

    /// Background jobs the module runs (kind, handler), registered with the job worker; e.g.
    /// booking reminders scheduled with `jobs::enqueue_at`.
    fn jobs(
        &self,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![]
    }

    /// Background jobs that need the file service (e.g. moving photos onto it), registered
    /// with the job worker like `jobs`.
    fn file_jobs(
        &self,
        _files: std::sync::Arc<rathaus_store::files::FileStore>,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![]
    }

    /// Applies the module's migrations, run after the platform's at every start. Each module
    /// keeps its own history table (sea-orm-migration's `migration_table_name`, e.g.
    /// `seaql_migrations_reports`), so modules migrate independently.
    fn migrate<'a>(&'a self, _db: &'a Db) -> MigrateFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    /// Adds the module's demo data to a freshly created demo tenant (`serve --demo`), acting
    /// as the demo tenant's admin through the module's own service.
    fn demo<'a>(&'a self, _db: &'a Db, _admin: &'a rathaus_core::Principal) -> MigrateFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    /// What `user` has to do in this module, for the staff dashboard (one cheap query or
    /// two; items with a count of 0 are not shown). A user without the module's permissions
    /// gets nothing, not an error.
    fn dashboard<'a>(
        &'a self,
        _db: &'a Db,
        _user: &'a rathaus_core::Principal,
    ) -> DashboardFuture<'a> {
        Box::pin(async { Ok(vec![]) })
    }

    /// Long-running tasks beside the job worker (e.g. the E-Akte watching its consume
    /// folder), started by `serve`; each ends soon after `ctx.stop` turns true.
    fn background(&self, _ctx: &Background) -> Vec<BackgroundTask> {
        vec![]
    }

    /// Adds demo data that needs the file service (e.g. documents with content) to the demo
    /// tenant, acting as its admin. `serve --demo` calls it at every start, after `demo`, so
    /// it must skip what is already there.
    fn demo_files<'a>(
        &'a self,
        _db: &'a Db,
        _files: &'a rathaus_store::files::FileStore,
        _admin: &'a rathaus_core::Principal,
    ) -> MigrateFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// What a module's background tasks get from `serve`.
#[derive(Clone)]
pub struct Background {
    pub db: Db,
    pub files: std::sync::Arc<rathaus_store::files::FileStore>,
    /// Turns true when the server stops.
    pub stop: tokio::sync::watch::Receiver<bool>,
    /// What the file service takes (largest upload, the tenant's quota).
    pub limits: rathaus_store::files::Limits,
    /// The module's own settings (`<module>_…`), as configured.
    settings: std::sync::Arc<serde_json::Map<String, serde_json::Value>>,
}

impl Background {
    /// `settings`: the whole configuration as JSON; the module sees only the settings named
    /// after it (`records_consume_dir` for `records`), not the platform's secrets.
    pub fn new(
        module: &str,
        db: Db,
        files: std::sync::Arc<rathaus_store::files::FileStore>,
        stop: tokio::sync::watch::Receiver<bool>,
        limits: rathaus_store::files::Limits,
        settings: &serde_json::Value,
    ) -> Self {
        let prefix = format!("{module}_");
        let own = settings
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Background {
            db,
            files,
            stop,
            limits,
            settings: std::sync::Arc::new(own),
        }
    }

    /// A setting of the module as text; None when unset (or another module's).
    pub fn setting(&self, name: &str) -> Option<String> {
        match self.settings.get(name)? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        }
    }

    /// Waits `d`, or less when the server stops; true when it stops.
    pub async fn pause(&mut self, d: std::time::Duration) -> bool {
        if *self.stop.borrow() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => *self.stop.borrow(),
            r = self.stop.changed() => r.is_err() || *self.stop.borrow(),
        }
    }
}

/// A module's long-running task.
pub type BackgroundTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Something on the staff dashboard that the signed-in user has to do in a module: a count
/// linking to the module's own list of it (e.g. follow-ups due, tasks open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardItem {
    /// Translation key of the sentence, with `{n}` for the count.
    pub text_key: &'static str,
    pub count: u64,
    pub href: String,
    /// Something in it is overdue: shown as urgent.
    pub overdue: bool,
}

/// Result of a module's dashboard hook.
pub type DashboardFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = rathaus_core::Result<Vec<DashboardItem>>> + Send + 'a>,
>;

/// Result of a module's command.
pub type CliFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = anyhow::Result<std::process::ExitCode>> + Send + 'a>,
>;

/// The tenant a command acts on: the one named by its slug, or the only one there is.
pub async fn cli_tenant(db: &Db, slug: Option<&str>) -> anyhow::Result<rathaus_core::TenantId> {
    use anyhow::Context;
    use rathaus_store::tenants;
    if let Some(s) = slug {
        let t = tenants::by_slug(&db.conn, s)
            .await?
            .with_context(|| format!("no tenant with slug {s}"))?;
        return Ok(rathaus_core::TenantId(t.id));
    }
    match tenants::list(&db.conn).await?.as_slice() {
        [(t, _)] => Ok(rathaus_core::TenantId(t.id)),
        [] => anyhow::bail!("there is no tenant yet; add one with `rathaus tenant add`"),
        _ => anyhow::bail!("there are several tenants; name one with --tenant SLUG"),
    }
}

/// Result of a module's asynchronous hook (migrations, demo data).
pub type MigrateFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// Platform migrations (the search outbox and extracted texts included), then every module's.
pub async fn migrate_all(db: &Db, modules: &[std::sync::Arc<dyn Module>]) -> anyhow::Result<()> {
    db.migrate().await?;
    // The platform's search outbox, which module transactions write to.
    rathaus_search::migrate(db).await?;
    // Text extraction's table (`extract_texts`, after the platform's `files`).
    rathaus_extract::migrate(db).await?;
    for m in modules {
        m.migrate(db)
            .await
            .map_err(|e| e.context(format!("migrations of module {}", m.name())))?;
    }
    Ok(())
}

/// The tenant-owned tables that `migrate_all` creates before any module's:
/// the store's, the search outbox's and text extraction's. Tests that check
/// every table with a `tenant_id` is registered start from this list.
pub fn platform_tenant_owned_tables() -> Vec<&'static str> {
    let mut tables = rathaus_store::entity::tenant_owned_tables();
    tables.extend(rathaus_search::outbox::tables::tenant_owned_tables());
    tables.extend(rathaus_extract::store::tables::tenant_owned_tables());
    tables
}

/// Registers the modules' permissions and texts; called once when the state is built.
pub(crate) fn register(modules: &[std::sync::Arc<dyn Module>]) {
    for m in modules {
        rathaus_core::permissions::register(m.permissions());
        for lang in [Lang::De, Lang::En] {
            for src in m.translation_files(lang) {
                crate::i18n::register(lang, src);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn background(
        settings: serde_json::Value,
    ) -> (Background, tokio::sync::watch::Sender<bool>) {
        let db = Db::connect("sqlite::memory:").await.expect("in-memory db");
        let files = rathaus_store::files::FileStore::from_config(
            &rathaus_store::files::FilesConfig::Memory,
        )
        .expect("in-memory file store");
        let (tx, rx) = tokio::sync::watch::channel(false);
        let limits = rathaus_store::files::Limits {
            max_size: 1,
            quota: None,
        };
        let b = Background::new(
            "records",
            db,
            std::sync::Arc::new(files),
            rx,
            limits,
            &settings,
        );
        (b, tx)
    }

    #[tokio::test]
    async fn a_module_sees_only_its_own_settings() {
        let (b, _tx) = background(serde_json::json!({
            "records_consume_dir": "/srv/scan",
            "records_interval": 5,
            "records_unset": null,
            "smtp_password": "geheim",
            "recordsx": "not the module's",
        }))
        .await;
        assert_eq!(
            b.setting("records_consume_dir").as_deref(),
            Some("/srv/scan")
        );
        assert_eq!(b.setting("records_interval").as_deref(), Some("5"));
        assert_eq!(b.setting("records_unset"), None);
        assert_eq!(b.setting("smtp_password"), None);
        assert_eq!(b.setting("recordsx"), None);
    }

    #[tokio::test]
    async fn a_pause_ends_when_the_server_stops() {
        let (mut b, tx) = background(serde_json::json!({})).await;
        assert!(!b.pause(Duration::from_millis(1)).await);
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.send(true).expect("receiver alive");
            tx
        });
        // Returns at the stop, not after ten minutes.
        assert!(b.pause(Duration::from_secs(600)).await);
        drop(stopper.await);
        assert!(b.pause(Duration::from_secs(600)).await, "stays stopped");
    }
}
