//! A module plugs in through `rathaus_web::Module`: its own migrations (own history table),
//! permission in the role form, navigation for permitted users only, pages behind the
//! platform's session/CSRF/error handling, API routes in the OpenAPI document, translations.

use axum::extract::State;
use axum::http::Method;
use axum::response::{Html, IntoResponse, Response};
use rathaus_core::permissions::PermissionDef;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture};
use rathaus_web::ctx::Staff;
use rathaus_web::errors::HtmlError;
use rathaus_web::i18n::Lang;
use rathaus_web::layout::NavItem;
use rathaus_web::module::MigrateFuture;
use rathaus_web::{Access, Routes};
use rathaus_web::{AppState, Module, WebConfig};
use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;
use std::sync::Arc;
use utoipa_axum::routes;

const HOST: &str = "rathaus.m.test";
const READ: &str = "notes.read";
const PERMS: &[PermissionDef] = &[PermissionDef {
    code: READ,
    label_key: "perm.notes.read",
}];

struct Notes;

struct NotesMigrator;
struct CreateNotes;

impl MigrationName for CreateNotes {
    fn name(&self) -> &str {
        "m0001_notes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNotes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        m.create_table(
            Table::create()
                .table("notes")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(text("body"))
                .take(),
        )
        .await
    }
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("notes").take()).await
    }
}

#[async_trait::async_trait]
impl MigratorTrait for NotesMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateNotes)]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_notes".into_iden()
    }
}

async fn notes_page(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
) -> Result<Response, HtmlError> {
    p.require(READ)?;
    let n = st
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            st.db.db_backend(),
            "SELECT COUNT(*) AS n FROM notes",
        ))
        .await;
    Ok(Html(format!(
        "<h1>{}</h1><p>{}</p>",
        rathaus_web::i18n::catalog(Lang::De).get("notes.title"),
        n.is_ok()
    ))
    .into_response())
}

/// Number of notes.
#[utoipa::path(get, path = "/api/v1/notes/count", tag = "notes", responses((status = 200, description = "count", body = i64)))]
async fn count() -> axum::Json<i64> {
    axum::Json(0)
}

impl Module for Notes {
    fn name(&self) -> &'static str {
        "notes"
    }
    fn permissions(&self) -> &'static [PermissionDef] {
        PERMS
    }
    fn nav(&self) -> Vec<NavItem> {
        vec![NavItem {
            href: "/notizen",
            label_key: "notes.title",
            any_of: &[READ],
        }]
    }
    fn translations(&self, lang: Lang) -> Option<&'static str> {
        match lang {
            Lang::De => Some(
                "[notes]\ntitle = \"Notizbuch\"\nservice = \"Notizen der Gemeinde\"\nservice_text = \"Was die Gemeinde notiert.\"\n[perm.notes]\nread = \"Notizen lesen\"\n",
            ),
            Lang::En => None,
        }
    }
    fn routes(&self) -> Routes {
        Routes::new()
            .get("/notizen", Access::AnyOf(&[READ]), notes_page)
            .machine(Method::POST, "/maschine/ping", Access::Public, || async {
                "pong"
            })
            .api(Access::Public, routes!(count))
    }
    fn public_services(&self) -> Vec<rathaus_web::module::PublicService> {
        vec![rathaus_web::module::PublicService {
            href: "/notizen",
            title_key: "notes.service",
            text_key: "notes.service_text",
        }]
    }
    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move { Ok(NotesMigrator::up(&db.conn, None).await?) })
    }
}

#[tokio::test]
async fn a_module_plugs_into_the_platform() {
    let tdb = TestDb::new().await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Notes)];
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    // Its own history table: the platform's migrations are untouched, a second run is a no-op.
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    tdb.db
        .conn
        .execute_unprepared("SELECT COUNT(*) FROM notes")
        .await
        .unwrap();

    let f = tenant_fixture(&tdb.db, "m", HOST).await;
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST, "");

    // The home page lists the module's online service.
    let home = app
        .client(&[HOST])
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("href=\"/notizen\"") && home.contains("Notizen der Gemeinde"),
        "{home}"
    );
    // Machine routes authenticate themselves: no CSRF token needed (a page POST would be 403).
    let r = app
        .client(&[HOST])
        .post(format!("{base}/maschine/ping"))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("set-cookie").is_none(),
        "no session cookies on machine routes"
    );
    assert_eq!(r.text().await.unwrap(), "pong");

    // The admin (all permissions) sees the entry and the page.
    let admin = app.client(&[HOST]);
    login(&admin, &base, &f.admin_email, PASSWORD).await;
    let dash = admin
        .get(format!("{base}/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dash.contains("href=\"/notizen\"") && dash.contains("Notizbuch"),
        "{dash}"
    );
    let r = admin.get(format!("{base}/notizen")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Notizbuch"));
    // The role form offers the module's permission with its text.
    let form = admin
        .get(format!("{base}/admin/roles/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("value=\"notes.read\"") && form.contains("Notizen lesen"));

    // A clerk without the permission: no entry, 403 page; anonymous: login redirect.
    let clerk = app.client(&[HOST]);
    login(&clerk, &base, &f.clerk_email, PASSWORD).await;
    let dash = clerk
        .get(format!("{base}/staff"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!dash.contains("/notizen"));
    let r = clerk.get(format!("{base}/notizen")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Keine Berechtigung"));
    let r = app
        .client(&[HOST])
        .get(format!("{base}/notizen"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // The API route is served and documented; security headers apply to module routes too.
    let r = app
        .client(&[HOST])
        .get(format!("{base}/api/v1/notes/count"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("content-security-policy"));
    let doc: serde_json::Value = app
        .client(&[HOST])
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"].get("/api/v1/notes/count").is_some());
    assert!(doc["paths"].get("/api/v1/me").is_some());
}
