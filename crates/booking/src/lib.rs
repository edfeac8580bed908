//! Resource booking (issue 4): sports halls and their parts, fields, rooms and equipment,
//! reserved without double booking, on SQLite and PostgreSQL. This crate owns the tables
//! `booking_resources` and `booking_reservations` (own migrations), the service that guards
//! them, and the JSON API under /api/v1/booking.

pub mod api;
pub mod entity;
pub mod migrations;
pub mod service;

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

    fn translations(&self, lang: Lang) -> Option<&'static str> {
        Some(match lang {
            Lang::De => include_str!("../locales/de.toml"),
            Lang::En => include_str!("../locales/en.toml"),
        })
    }

    fn api(&self) -> OpenApiRouter<AppState> {
        api::router()
    }

    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move { Ok(migrations::Migrator::up(&db.conn, None).await?) })
    }
}
