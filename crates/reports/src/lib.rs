//! Mängelmelder (issue 3): citizens report defects (winter service, potholes, street lights,
//! blocked gullies, illegal dumping) on a map or by address, staff triage and answer them, the
//! public follows progress, and an Open311 GeoReport v2 API at /open311/v2 serves other apps.
//!
//! The crate owns the `reports_*` tables (own migrations) and the service that guards them;
//! pages: the public form and views under /maengel, the staff inbox under
//! /maengel/verwaltung, the settings under /maengel/einstellungen.

pub mod admin;
pub mod altcha;
pub mod atom;
pub mod cache;
pub mod demo;
pub mod directory;
pub mod entity;
pub mod geo;
pub mod geocoder;
pub mod keys;
pub mod migrations;
pub mod notify;
pub mod open311;
pub mod open311_api;
pub mod public;
pub mod retention;
pub mod service;
pub mod staff;
pub mod streets;
pub mod tiles;

use rathaus_core::permissions::PermissionDef;
use rathaus_web::AppState;
use rathaus_web::i18n::Lang;
use rathaus_web::module::MigrateFuture;
use sea_orm_migration::MigratorTrait;

/// The Mängelmelder module, listed in the binary's `modules()`.
pub struct Reports;

impl rathaus_web::Module for Reports {
    fn name(&self) -> &'static str {
        "reports"
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        service::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        staff::nav()
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

    fn pages(&self) -> axum::Router<AppState> {
        public::router()
            .merge(staff::router())
            .merge(admin::router())
            .merge(tiles::router())
    }

    fn machine(&self) -> axum::Router<AppState> {
        open311_api::router()
    }

    fn reject_input(&self, path: &str, field: &str) -> Option<axum::response::Response> {
        open311_api::reject_input(path, field)
    }

    /// One file per part of the module, each parsed on its own.
    fn translation_files(&self, lang: Lang) -> Vec<&'static str> {
        match lang {
            Lang::De => vec![
                include_str!("../locales/de.toml"),
                include_str!("../locales/de/public.toml"),
                include_str!("../locales/de/staff.toml"),
                include_str!("../locales/de/admin.toml"),
                include_str!("../locales/de/open311.toml"),
            ],
            Lang::En => vec![
                include_str!("../locales/en.toml"),
                include_str!("../locales/en/public.toml"),
                include_str!("../locales/en/staff.toml"),
                include_str!("../locales/en/admin.toml"),
                include_str!("../locales/en/open311.toml"),
            ],
        }
    }

    fn jobs(
        &self,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![(retention::JOB, std::sync::Arc::new(retention::Erase))]
    }

    fn demo<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        admin: &'a rathaus_core::Principal,
    ) -> MigrateFuture<'a> {
        Box::pin(demo::demo(db, admin))
    }

    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move { Ok(migrations::Migrator::up(&db.conn, None).await?) })
    }
}
