//! E-Akte (issue 11): the file plan (Aktenplan), files with Aktenzeichen, cases and
//! documents with versions on the platform's file store, full-text search, restricted file
//! kinds (Wohngeld, dog tax, personnel) filtered in every query, the read audit, follow-ups
//! and the inbox. The retention/archive hand-over builds on the tables in `store`.
//!
//! Pages under /akten, the JSON API under /api/v1/records. Layout (dependencies point one
//! way): `domain/` (enums, plan codes, Aktenzeichen pattern, retention; pure), `store/` (the
//! `records_*` tables), `service/` (use cases, the access filter and the search source),
//! `http/` (the route table), `demo.rs`, `cli.rs`.

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
use std::sync::Arc;

/// The records module, listed in the binary's `modules()`.
#[derive(Default)]
pub struct Records;

/// The module's texts and the import pipeline's, per language.
pub fn translation_files(lang: Lang) -> Vec<&'static str> {
    match lang {
        Lang::De => vec![
            include_str!("../locales/de.toml"),
            include_str!("../locales/disposal.de.toml"),
            rathaus_import::translations(true),
        ],
        Lang::En => vec![
            include_str!("../locales/en.toml"),
            include_str!("../locales/disposal.en.toml"),
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

impl rathaus_web::Module for Records {
    fn name(&self) -> &'static str {
        "records"
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        permissions::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        http::nav()
    }

    fn routes(&self) -> rathaus_web::Routes {
        http::routes()
    }

    fn translation_files(&self, lang: Lang) -> Vec<&'static str> {
        translation_files(lang)
    }

    fn search_sources(&self) -> Vec<Arc<dyn rathaus_search::DocSource>> {
        vec![Arc::new(service::search::DocumentDocs)]
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

    fn demo_files<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        files: &'a rathaus_store::files::FileStore,
        admin: &'a rathaus_core::Principal,
    ) -> MigrateFuture<'a> {
        Box::pin(async move {
            demo::sample_documents(db, files, admin).await?;
            Ok(())
        })
    }

    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move {
            store::migrations::Migrator::up(&db.conn, None).await?;
            // The daily mail re-queues itself; this queues the first run of each tenant that
            // has none waiting (a tenant made later gets it at the next start).
            jobs::schedule_all(db).await?;
            Ok(())
        })
    }

    fn jobs(&self) -> Vec<(&'static str, Arc<dyn rathaus_store::jobs::Handler>)> {
        jobs::handlers()
    }

    fn background(
        &self,
        ctx: &rathaus_web::module::Background,
    ) -> Vec<rathaus_web::module::BackgroundTask> {
        match ctx.setting("records_consume_dir") {
            Some(dir) if !dir.is_empty() => vec![Box::pin(jobs::watch_consume_folder(
                dir.into(),
                ctx.clone(),
            ))],
            _ => vec![],
        }
    }

    fn dashboard<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        user: &'a rathaus_core::Principal,
    ) -> rathaus_web::module::DashboardFuture<'a> {
        Box::pin(async move {
            let by = rathaus_store::uow::Actor::User(user);
            let (count, overdue) = service::follow_ups::due_today(&db.conn, by, user).await?;
            Ok(vec![rathaus_web::module::DashboardItem {
                text_key: "records.dashboard.follow_ups",
                count,
                href: "/akten/wiedervorlagen".into(),
                overdue,
            }])
        })
    }
}
