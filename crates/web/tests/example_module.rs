//! The smallest complete module, as docs/modules.md describes it: a migration with its own
//! history table, an entity declared tenant-owned, a permission, a service (permission →
//! validation → change + audit in one unit of work → commit), a page with a form (German
//! errors, input kept) and the tests every route gets (anonymous, without the permission,
//! another tenant, bad input).

use crate::common;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::permissions::PermissionDef;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Principal, Result};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, login, tenant_fixture};
use rathaus_web::ctx::Staff;
use rathaus_web::errors::{HtmlError, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::module::MigrateFuture;
use rathaus_web::{Access, AppState, Module, Routes, WebConfig};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, Set};
use sea_orm_migration::prelude::*;
use std::sync::Arc;

// ---------------------------------------------------------------- permissions

const WRITE: &str = "notices.write";
const PERMISSIONS: &[PermissionDef] = &[PermissionDef {
    code: WRITE,
    label_key: "perm.notices.write",
}];

// ---------------------------------------------------------------- store: entity, migration

mod notice {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notices_notices")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub text: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

// The one line that makes the table reachable through the unit of work.
rathaus_store::tenant_owned!(notice);

struct Migrator;
struct M0001;

impl MigrationName for M0001 {
    fn name(&self) -> &str {
        "m0001_notices"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001 {
    async fn up(&self, m: &SchemaManager) -> std::result::Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        m.create_table(
            Table::create()
                .table("notices_notices")
                .col(big_pk_auto("id"))
                .col(big_integer("tenant_id"))
                .col(string_len("text", 500))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("notices_notices", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await
    }
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M0001)]
    }
    fn migration_table_name() -> DynIden {
        "seaql_migrations_notices".into_iden()
    }
}

// ---------------------------------------------------------------- service

/// Posts a notice: permission → validation → change + audit in one unit of work → commit.
async fn post_notice(db: &DatabaseConnection, by: Actor<'_>, text: &str) -> Result<notice::Model> {
    by.require(WRITE)?;
    let mut errs = FieldErrors::new();
    let text = errs.text("text", text, 500);
    errs.into_result()?;
    let tenant = by
        .principal()
        .map(|p| p.tenant_id)
        .ok_or(rathaus_core::Error::Forbidden)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let n = tx
        .insert(notice::ActiveModel {
            text: Set(text),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    tx.audit(NewEvent::new("notices.posted", "notice", Some(n.id)))
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// The tenant's notices, newest first.
async fn notices(db: &DatabaseConnection, p: &Principal) -> Result<Vec<notice::Model>> {
    let scope = Scope::user(db, p);
    scope.require(WRITE)?;
    Ok(scope
        .find::<notice::Entity>()
        .order_by_desc(notice::Column::Id)
        .all(scope.conn())
        .await?)
}

// ---------------------------------------------------------------- http

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<h1>{{ t.get("notices.title") }}</h1>
<ul>{% for n in list %}<li>{{ n.text }}</li>{% endfor %}</ul>
<form method="post" action="/hinweise">
<input type="hidden" name="_csrf" value="{{ csrf }}">
<label for="f-text">{{ t.get("notices.text") }}</label>
<input id="f-text" name="text" value="{{ text }}"{% if let Some(e) = errs.msg("text") %} aria-invalid="true" aria-describedby="f-text-error"><p class="field-error" id="f-text-error">{{ e }}</p>{% else %}>{% endif %}
<button>{{ t.get("notices.post") }}</button>
</form>"#
)]
struct NoticesPage {
    t: &'static rathaus_web::i18n::Catalog,
    list: Vec<notice::Model>,
    csrf: String,
    text: String,
    errs: FormErrors,
}

#[derive(serde::Deserialize)]
struct NoticeForm {
    #[serde(default)]
    text: String,
}

async fn page(
    st: &AppState,
    ctx: &rathaus_web::ctx::Ctx,
    p: &Principal,
    text: String,
    errs: FormErrors,
) -> std::result::Result<Response, HtmlError> {
    let failed = errs.any();
    let tpl = NoticesPage {
        t: catalog(ctx.lang),
        list: notices(&st.db.conn, p).await?,
        csrf: ctx.csrf.clone(),
        text,
        errs,
    };
    respond(
        tpl.render()
            .map(|h| Html(h).into_response())
            .map_err(|e| HtmlError(rathaus_core::Error::internal(e))),
        failed,
    )
}

async fn show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> std::result::Result<Response, HtmlError> {
    page(
        &st,
        &ctx,
        &p,
        String::new(),
        FormErrors::none(catalog(ctx.lang)),
    )
    .await
}

async fn create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<NoticeForm>,
) -> std::result::Result<Response, HtmlError> {
    match post_notice(&st.db.conn, Actor::User(&p), &f.text).await {
        Ok(_) => Ok(Redirect::to("/hinweise").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            page(&st, &ctx, &p, f.text, errs).await
        }
    }
}

// ---------------------------------------------------------------- the module

struct Notices;

impl Module for Notices {
    fn name(&self) -> &'static str {
        "notices"
    }
    fn permissions(&self) -> &'static [PermissionDef] {
        PERMISSIONS
    }
    fn translations(&self, lang: Lang) -> Option<&'static str> {
        match lang {
            Lang::De => Some(
                "[notices]\ntitle = \"Hinweise\"\ntext = \"Hinweis\"\npost = \"Veröffentlichen\"\n[perm.notices]\nwrite = \"Hinweise schreiben\"\n",
            ),
            Lang::En => None,
        }
    }
    /// The route table: who may call each route; the platform checks it before the
    /// handler, the service checks the permission again (the inner door).
    fn routes(&self) -> Routes {
        Routes::new().get("/hinweise", Access::SignedIn, show).post(
            "/hinweise",
            Access::AnyOf(&[WRITE]),
            create,
        )
    }
    fn migrate<'a>(&'a self, db: &'a rathaus_store::Db) -> MigrateFuture<'a> {
        Box::pin(async move { Ok(Migrator::up(&db.conn, None).await?) })
    }
}

// ---------------------------------------------------------------- tests

const HOST_A: &str = "a.hinweise.test";
const HOST_B: &str = "b.hinweise.test";

#[tokio::test]
async fn the_example_module_keeps_every_rule() {
    let tdb = TestDb::new().await;
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Notices)];
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    let missing = rathaus_testkit::unregistered_tenant_tables(&tdb.db, &tenant_owned_tables())
        .await
        .into_iter()
        .filter(|t| t.starts_with("notices_"))
        .collect::<Vec<_>>();
    assert!(missing.is_empty(), "{missing:?}");
    let a = tenant_fixture(&tdb.db, "a", HOST_A).await;
    let b = tenant_fixture(&tdb.db, "b", HOST_B).await;
    let st = AppState::with_modules(tdb.db.clone(), WebConfig::default(), modules);
    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST_A, "");

    // Anonymous: to the login. Without the permission: 403.
    let anon = app.client(&[HOST_A]);
    let r = anon.get(format!("{base}/hinweise")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let clerk = app.client(&[HOST_A]);
    login(&clerk, &base, &a.clerk_email, PASSWORD).await;
    assert_eq!(
        clerk
            .get(format!("{base}/hinweise"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let k = common::csrf(&clerk, &base).await;
    let r = clerk
        .post(format!("{base}/hinweise"))
        .form(&[("_csrf", k.as_str()), ("text", "Nein")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // With the permission: posted, audited, in tenant a only.
    let admin = app.client(&[HOST_A]);
    login(&admin, &base, &a.admin_email, PASSWORD).await;
    let k = common::csrf(&admin, &base).await;
    let r = admin
        .post(format!("{base}/hinweise"))
        .form(&[("_csrf", k.as_str()), ("text", "Wasserrohrbruch am Markt")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let rows = notice::Entity::find().all(&app.db.conn).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].tenant_id, a.tenant.0);
    assert!(
        rathaus_store::audit::verify(&app.db.conn)
            .await
            .unwrap()
            .is_ok()
    );

    // Bad input: 422, the German message beside the field, the input kept, nothing stored.
    let r = admin
        .post(format!("{base}/hinweise"))
        .form(&[("_csrf", k.as_str()), ("text", "   ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Bitte füllen Sie dieses Feld aus."), "{html}");
    assert_eq!(
        notice::Entity::find()
            .all(&app.db.conn)
            .await
            .unwrap()
            .len(),
        1
    );

    // Tenant b's administrator sees none of tenant a's notices.
    let other = app.client(&[HOST_B]);
    let base_b = app.url(HOST_B, "");
    login(&other, &base_b, &b.admin_email, PASSWORD).await;
    let html = other
        .get(format!("{base_b}/hinweise"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Wasserrohrbruch"), "{html}");
}
