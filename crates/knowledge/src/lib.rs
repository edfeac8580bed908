//! Wissen (issue 14): department handbooks (Handmappen) with chapters and Markdown pages,
//! every save a version with word diffs and restore, optimistic locking, review intervals,
//! read confirmations, search, and onboarding checklists for new colleagues.
//!
//! Pages under /wissen, the JSON API under /api/v1/knowledge. Layout (dependencies point
//! one way): `domain/` (visibility, diff, links, dates; pure), `store/` (the `knowledge_*`
//! entities and migrations), `service/` (use cases and the search source), `http/` (thin
//! handlers, one route table), `demo.rs`.

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

/// Registers the module's texts (the mails of its jobs read them; the binary starts the
/// job worker before the web app registers the modules' translations).
pub fn register_texts() {
    rathaus_web::i18n::register(Lang::De, include_str!("../locales/de.toml"));
    rathaus_web::i18n::register(Lang::En, include_str!("../locales/en.toml"));
}

/// The knowledge module, listed in the binary's `modules()`.
#[derive(Default)]
pub struct Knowledge;

impl Knowledge {
    pub fn new() -> Self {
        Self
    }
}

impl rathaus_web::Module for Knowledge {
    fn name(&self) -> &'static str {
        "knowledge"
    }

    fn permissions(&self) -> &'static [PermissionDef] {
        permissions::PERMISSIONS
    }

    fn nav(&self) -> Vec<rathaus_web::layout::NavItem> {
        http::pages::nav()
    }

    fn translations(&self, lang: Lang) -> Option<&'static str> {
        Some(match lang {
            Lang::De => include_str!("../locales/de.toml"),
            Lang::En => include_str!("../locales/en.toml"),
        })
    }

    fn search_sources(&self) -> Vec<Arc<dyn rathaus_search::DocSource>> {
        vec![Arc::new(service::search::PageDocs)]
    }

    fn routes(&self) -> rathaus_web::Routes {
        http::routes()
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
            store::migrations::Migrator::up(&db.conn, None).await?;
            // The recurring mails re-queue themselves; this queues the first run of each
            // tenant that has none pending.
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

    fn dashboard<'a>(
        &'a self,
        db: &'a rathaus_store::Db,
        user: &'a rathaus_core::Principal,
    ) -> rathaus_web::module::DashboardFuture<'a> {
        Box::pin(async move {
            let by = rathaus_store::uow::Actor::User(user);
            let (tasks, overdue) = service::onboarding::due_soon(&db.conn, by).await?;
            let reviews = service::due_review_count(&db.conn, by).await?;
            Ok(vec![
                rathaus_web::module::DashboardItem {
                    text_key: "knowledge.dashboard.tasks",
                    count: tasks,
                    href: "/wissen/aufgaben".into(),
                    overdue,
                },
                rathaus_web::module::DashboardItem {
                    text_key: "knowledge.dashboard.reviews",
                    count: reviews,
                    href: "/wissen/pruefung".into(),
                    overdue: reviews > 0,
                },
            ])
        })
    }
}
