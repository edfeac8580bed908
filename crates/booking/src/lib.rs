//! Resource booking (issue 4): sports halls and their parts, fields, rooms and equipment,
//! reserved without double booking, on SQLite and PostgreSQL. This crate owns the tables
//! `booking_resources` and `booking_reservations` (own migrations), the service that guards
//! them, the staff pages under /buchung and the JSON API under /api/v1/booking.

pub mod api;
pub mod blackouts;
pub mod demo;
pub mod edit;
pub mod entity;
pub mod ical;
pub mod migrations;
pub mod mine;
pub mod notify;
pub mod orgs;
pub mod pages;
pub mod photos;
pub mod rules;
pub mod season;
pub mod series;
pub mod service;
pub mod settings;
pub mod stats;
pub mod time;
pub mod views;

use rathaus_core::permissions::PermissionDef;
use rathaus_web::AppState;
use rathaus_web::i18n::Lang;
use rathaus_web::module::MigrateFuture;
use sea_orm_migration::MigratorTrait;
use utoipa_axum::router::OpenApiRouter;

/// The booking module, listed in the binary's `modules()`.
pub struct Booking;

impl rathaus_web::Module for Booking {
    fn name(&self) -> &'static str {
        "booking"
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        service::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        pages::nav()
    }

    fn public_services(&self) -> Vec<rathaus_web::module::PublicService> {
        vec![rathaus_web::module::PublicService {
            href: "/belegung",
            title_key: "booking.service.occupancy",
            text_key: "booking.service.occupancy_text",
        }]
    }

    /// Staff pages and the calendar feeds (which authenticate by their secret token).
    fn pages(&self) -> axum::Router<AppState> {
        pages::router()
            .merge(edit::router())
            .merge(mine::router())
            .merge(settings::router())
            .merge(ical::router())
            .merge(views::router())
            .merge(stats::router())
            .merge(blackouts::router())
            .merge(series::router())
            .merge(orgs::router())
            .merge(season::router())
            .merge(photos::router())
    }

    fn translations(&self, lang: Lang) -> Option<&'static str> {
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

    fn api(&self) -> OpenApiRouter<AppState> {
        api::router()
    }

    fn demo<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        admin: &'a rathaus_core::Principal,
    ) -> MigrateFuture<'a> {
        Box::pin(demo::demo(db, admin))
    }

    fn jobs(
        &self,
    ) -> Vec<(
        &'static str,
        std::sync::Arc<dyn rathaus_store::jobs::Handler>,
    )> {
        vec![(notify::REMINDER_JOB, std::sync::Arc::new(notify::Reminder))]
    }

    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move { Ok(migrations::Migrator::up(&db.conn, None).await?) })
    }
}
