//! Digitalisation programme (issue 13): the measures catalogue from the department
//! interviews, a Kanban board with phases and WIP limits, the Digitallotsen team with its
//! meetings (agenda generated from the changes since the last one), the concerns log and the
//! status report for the mayor.
//!
//! Pages under /programm, the JSON API under /api/v1/programme. Layout (dependencies point
//! one way): `domain/` (priority, positions, limits; pure), `store/` (the `programme_*`
//! tables), `service/` (every use case), `http/` (thin handlers, one route table),
//! `demo.rs`, `cli.rs` (the list import), `permissions.rs`.

pub mod cli;
pub mod demo;
pub mod domain;
pub mod formats;
pub mod http;
pub mod permissions;
pub mod service;
pub mod store;

use rathaus_core::permissions::PermissionDef;
use rathaus_web::i18n::Lang;
use rathaus_web::live::Topic;
use rathaus_web::module::MigrateFuture;
use sea_orm_migration::MigratorTrait;

/// The programme module, listed in the binary's `modules()`.
#[derive(Default)]
pub struct Programme;

impl Programme {
    pub fn new() -> Self {
        Programme
    }
}

const TOPICS: &[Topic] = &[Topic {
    name: service::TOPIC,
    any_of: &[permissions::READ],
}];

impl rathaus_web::Module for Programme {
    fn name(&self) -> &'static str {
        "programme"
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        permissions::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        vec![rathaus_web::layout::NavItem {
            href: "/programm",
            label_key: "programme.nav",
            any_of: &[permissions::READ],
        }]
    }

    fn translations(&self, lang: Lang) -> Option<&'static str> {
        Some(match lang {
            Lang::De => include_str!("../locales/de.toml"),
            Lang::En => include_str!("../locales/en.toml"),
        })
    }

    /// The module's texts and the import pipeline's (the list import's report).
    fn translation_files(&self, lang: Lang) -> Vec<&'static str> {
        let own = self.translations(lang).into_iter();
        own.chain([rathaus_import::translations(lang == Lang::De)])
            .collect()
    }

    fn search_sources(&self) -> Vec<std::sync::Arc<dyn rathaus_search::DocSource>> {
        vec![std::sync::Arc::new(service::search::MeasureDocs)]
    }

    fn live_topics(&self) -> &'static [Topic] {
        TOPICS
    }

    fn routes(&self) -> rathaus_web::Routes {
        http::routes()
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
        Box::pin(async move { Ok(store::migrations::Migrator::up(&db.conn, None).await?) })
    }

    fn dashboard<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        user: &'a rathaus_core::Principal,
    ) -> rathaus_web::module::DashboardFuture<'a> {
        Box::pin(async move {
            let by = rathaus_store::uow::Actor::User(user);
            let (count, overdue) = service::measures::due_for(&db.conn, by, user).await?;
            Ok(vec![rathaus_web::module::DashboardItem {
                text_key: "programme.dashboard.due",
                count,
                href: "/programm/massnahmen".into(),
                overdue,
            }])
        })
    }
}
