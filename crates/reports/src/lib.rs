//! Mängelmelder (issue 3): citizens report defects (winter service, potholes, street lights,
//! blocked gullies, illegal dumping) on a map or by address, staff triage and answer them, the
//! public follows progress, and an Open311 GeoReport v2 API at /open311/v2 serves other apps.
//!
//! Pages: the public form and views under /maengel, the staff inbox under /maengel/verwaltung,
//! the settings under /maengel/einstellungen. Layout (dependencies point one way):
//!
//! - `domain/`: statuses, priorities, moderation, ids, boundary and positions, street
//!   directory, proof of work; pure.
//! - `formats/`: Open311 (JSON, XML) and Atom encoders; pure.
//! - `store/`: the `reports_*` entities and the module's own migrations.
//! - `service/`: every use case (permission, validation, change with audit, commit), the
//!   queries behind the pages, and [`service::ReportsState`] (caches, rate limits).
//! - `http/`: thin handlers and the one route table ([`http::routes`]).
//! - `jobs.rs`, `demo.rs`, `cli.rs` (`rathaus reports …`), `permissions.rs`.

pub mod cli;
pub mod demo;
pub mod domain;
pub mod formats;
pub mod http;
pub mod jobs;
pub mod permissions;
pub mod service;
pub mod store;

use rathaus_core::permissions::PermissionDef;
use rathaus_web::i18n::Lang;
use rathaus_web::module::MigrateFuture;
use sea_orm_migration::MigratorTrait;
use service::ReportsState;
use std::sync::Arc;

/// The Mängelmelder module, listed in the binary's `modules()`; holds the module's state,
/// built once.
#[derive(Default)]
pub struct Reports {
    state: Arc<ReportsState>,
}

impl Reports {
    pub fn new() -> Self {
        Self::default()
    }

    /// The state the routes, services and jobs share (tests call services with it).
    pub fn state(&self) -> &Arc<ReportsState> {
        &self.state
    }
}

impl rathaus_web::Module for Reports {
    fn name(&self) -> &'static str {
        "reports"
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        permissions::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        http::pages::staff::nav()
    }

    fn search_sources(&self) -> Vec<Arc<dyn rathaus_search::DocSource>> {
        vec![Arc::new(service::search::ReportDocs)]
    }

    fn public_services(&self) -> Vec<rathaus_web::module::PublicService> {
        vec![
            rathaus_web::module::PublicService {
                href: "/maengel/melden",
                title_key: "reports.service.report",
                text_key: "reports.service.report_text",
            },
            rathaus_web::module::PublicService {
                href: "/maengel",
                title_key: "reports.service.list",
                text_key: "reports.service.list_text",
            },
        ]
    }

    fn routes(&self) -> rathaus_web::Routes {
        http::routes(self.state.clone())
    }

    fn cli(&self) -> Option<clap::Command> {
        Some(cli::command())
    }

    fn run_cli<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        args: &'a clap::ArgMatches,
    ) -> rathaus_web::module::CliFuture<'a> {
        Box::pin(cli::run(db, &self.state, args))
    }

    fn reject_input(&self, path: &str, field: &str) -> Option<axum::response::Response> {
        http::machine::open311::reject_input(path, field)
    }

    /// One file per part of the module, each parsed on its own.
    fn translation_files(&self, lang: Lang) -> Vec<&'static str> {
        service::notify::translation_files(lang)
    }

    fn jobs(
        &self,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![(jobs::ERASE, Arc::new(jobs::Erase))]
    }

    fn file_jobs(
        &self,
        files: Arc<rathaus_store::files::FileStore>,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![
            (
                service::photo_files::JOB,
                Arc::new(service::photo_files::MoveJob::new(files.clone())),
            ),
            (
                service::photo_clean::JOB,
                Arc::new(service::photo_clean::CleanJob::new(
                    files,
                    self.state.clone(),
                )),
            ),
        ]
    }

    fn demo<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        admin: &'a rathaus_core::Principal,
    ) -> MigrateFuture<'a> {
        Box::pin(demo::demo(db, &self.state, admin))
    }

    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move {
            // Reports are indexed through the platform's search outbox (already there when
            // `migrate_all` runs; a harness that migrates the module alone needs it too).
            rathaus_search::migrate(db).await?;
            store::migrations::Migrator::up(&db.conn, None).await?;
            // Photos still in the database move onto the file service in the background
            // (ADR 0016); queued once per tenant, only while some remain.
            let queued = service::photo_files::enqueue_moves(db).await?;
            if queued > 0 {
                tracing::info!(
                    tenants = queued,
                    "queued moving report photos to the file service"
                );
            }
            Ok(())
        })
    }
}
