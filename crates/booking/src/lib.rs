//! Resource booking: sports halls and their parts, fields, rooms and equipment, reserved
//! without double booking, on SQLite and PostgreSQL; series, seasons, organisations,
//! blackouts, photos, statistics and calendar feeds.
//!
//! Layout (dependencies point one way: http → service → domain; service → store → domain;
//! formats are pure):
//!
//! - `domain/`: pure types and rules (statuses, kinds, ids, opening hours, wall-clock time);
//! - `store/`: entities, migrations (own history table) and the queries the services share;
//! - `service/`: the use cases: permission check → validation → change + audit → commit;
//! - `formats/`: iCalendar writer and reader, the fee list as CSV/XLSX;
//! - `http/`: `pages/` (HTML under /buchung and /belegung), `api/` (JSON under
//!   /api/v1/booking), `machine/` (calendar feeds), and `http::routes()`, the route table;
//! - `jobs.rs` (reminders), `demo.rs` (+ `demo/*.toml`), `permissions.rs`.

pub mod demo;
pub mod domain;
pub mod formats;
pub mod http;
pub mod jobs;
pub mod permissions;
pub mod service;
pub mod store;

use rathaus_core::permissions::PermissionDef;
use rathaus_web::Routes;
use rathaus_web::i18n::Lang;
use rathaus_web::module::MigrateFuture;
use sea_orm_migration::MigratorTrait;

/// The booking module, listed in the binary's `modules()`.
pub struct Booking;

/// The module's texts: its own TOML files, concatenated.
pub(crate) fn translations(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::De => concat!(
            include_str!("../locales/de.toml"),
            include_str!("../locales/de/rules.toml"),
            include_str!("../locales/de/series.toml"),
            include_str!("../locales/de/feeds.toml"),
            include_str!("../locales/de/views.toml"),
            include_str!("../locales/de/orgs.toml"),
            include_str!("../locales/de/photos.toml"),
        ),
        Lang::En => concat!(
            include_str!("../locales/en.toml"),
            include_str!("../locales/en/rules.toml"),
            include_str!("../locales/en/series.toml"),
            include_str!("../locales/en/feeds.toml"),
            include_str!("../locales/en/views.toml"),
            include_str!("../locales/en/orgs.toml"),
            include_str!("../locales/en/photos.toml"),
        ),
    })
}

/// Adds the module's texts to the catalogues (idempotent: keys already present are kept).
/// For mails sent outside a request, where no web app may have registered them yet.
pub fn register_texts() {
    for lang in [Lang::De, Lang::En] {
        if let Some(src) = translations(lang) {
            rathaus_web::i18n::register(lang, src);
        }
    }
}

impl rathaus_web::Module for Booking {
    fn name(&self) -> &'static str {
        "booking"
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        permissions::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        http::pages::resources::nav()
    }

    fn public_services(&self) -> Vec<rathaus_web::module::PublicService> {
        vec![rathaus_web::module::PublicService {
            href: "/belegung",
            title_key: "booking.service.occupancy",
            text_key: "booking.service.occupancy_text",
        }]
    }

    fn routes(&self) -> Routes {
        http::routes()
    }

    fn translations(&self, lang: Lang) -> Option<&'static str> {
        translations(lang)
    }

    fn demo<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        admin: &'a rathaus_core::Principal,
    ) -> MigrateFuture<'a> {
        Box::pin(demo::demo(db, admin))
    }

    fn dashboard<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        user: &'a rathaus_core::Principal,
    ) -> rathaus_web::module::DashboardFuture<'a> {
        Box::pin(async move {
            let by = rathaus_store::uow::Actor::User(user);
            Ok(vec![rathaus_web::module::DashboardItem {
                text_key: "booking.dashboard.requests",
                count: service::open_requests(&db.conn, by).await?,
                href: "/buchung/anfragen".into(),
                overdue: false,
            }])
        })
    }

    fn jobs(
        &self,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![(
            service::notify::REMINDER_JOB,
            std::sync::Arc::new(jobs::Reminder::new()),
        )]
    }

    fn file_jobs(
        &self,
        files: std::sync::Arc<rathaus_store::files::FileStore>,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![(
            service::photo_files::JOB,
            std::sync::Arc::new(service::photo_files::MoveJob::new(files)),
        )]
    }

    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move {
            store::migrations::Migrator::up(&db.conn, None).await?;
            // Photos still in the database move onto the file service in the background
            // (ADR 0016); queued once per tenant, only while some remain.
            let queued = service::photo_files::enqueue_moves(db).await?;
            if queued > 0 {
                tracing::info!(
                    tenants = queued,
                    "queued moving resource photos to the file service"
                );
            }
            Ok(())
        })
    }
}
