//! Refugee accommodation (issue 12): persons and households, accommodations down to the bed
//! with dated occupancy, the import of the existing Excel lists with a row report, the
//! dashboard and lists, and field-level access to personal data.
//!
//! Pages under /unterbringung, the JSON API under /api/v1/refugees. Layout (dependencies point
//! one way): `domain/` (lists, stays, visibility, the import analysis; pure), `store/`
//! (the `refugees_*` tables), `service/` (use cases), `http/` (the route table), `demo.rs`,
//! `cli.rs`, `jobs.rs`, `permissions.rs`.

pub mod cli;
pub mod demo;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod permissions;
pub mod service;
pub mod store;

use rathaus_core::permissions::PermissionDef;
use rathaus_web::i18n::Lang;
use rathaus_web::module::MigrateFuture;
use sea_orm_migration::MigratorTrait;

/// The module, listed in the binary's `modules()`.
#[derive(Default)]
pub struct Refugees;

/// The module's texts and the import pipeline's, per language.
pub fn translation_files(lang: Lang) -> Vec<&'static str> {
    match lang {
        Lang::De => vec![
            include_str!("../locales/de.toml"),
            rathaus_import::translations(true),
        ],
        Lang::En => vec![
            include_str!("../locales/en.toml"),
            rathaus_import::translations(false),
        ],
    }
}

/// Registers the texts (the web app does this at start; tests and the CLI call it).
pub fn register_texts() {
    for lang in [Lang::De, Lang::En] {
        for src in translation_files(lang) {
            rathaus_web::i18n::register(lang, src);
        }
    }
}

impl rathaus_web::Module for Refugees {
    fn name(&self) -> &'static str {
        "refugees"
    }

    fn dashboard<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        user: &'a rathaus_core::Principal,
    ) -> rathaus_web::module::DashboardFuture<'a> {
        Box::pin(async move {
            let by = rathaus_store::uow::Actor::User(user);
            let Some((count, before)) =
                service::stats::expiring_soon(&db.conn, by, user.tenant_id).await?
            else {
                return Ok(vec![]);
            };
            Ok(vec![rathaus_web::module::DashboardItem {
                text_key: "refugees.dashboard.expiring",
                count,
                href: format!(
                    "/unterbringung/personen?ablauf_vor={}",
                    before.format("%Y-%m-%d")
                ),
                overdue: false,
            }])
        })
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        permissions::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        http::nav()
    }

    fn search_sources(&self) -> Vec<std::sync::Arc<dyn rathaus_search::DocSource>> {
        vec![
            std::sync::Arc::new(service::search::PersonDocs),
            std::sync::Arc::new(service::search::AccommodationDocs),
        ]
    }

    fn routes(&self) -> rathaus_web::Routes {
        http::routes()
    }

    fn translation_files(&self, lang: Lang) -> Vec<&'static str> {
        translation_files(lang)
    }

    fn cli(&self) -> Option<clap::Command> {
        Some(cli::command())
    }

    fn run_cli<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        args: &'a clap::ArgMatches,
    ) -> rathaus_web::module::CliFuture<'a> {
        Box::pin(cli::run(db, args))
    }

    fn demo<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        admin: &'a rathaus_core::Principal,
    ) -> MigrateFuture<'a> {
        Box::pin(demo::demo(db, admin))
    }

    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move {
            // Persons and accommodations are indexed through the platform's search outbox
            // (already there when `migrate_all` runs; a harness that migrates the module
            // alone needs it too).
            rathaus_search::migrate(db).await?;
            store::migrations::Migrator::up(&db.conn, None).await?;
            // The recurring jobs re-queue themselves; this queues the first run of each
            // tenant that has none pending (a tenant made later gets it at the next start).
            jobs::schedule_all(db).await?;
            Ok(())
        })
    }

    fn jobs(
        &self,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        jobs::handlers()
    }
}
