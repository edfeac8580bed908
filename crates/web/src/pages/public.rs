use super::{layout, safe_next};
use crate::ctx::{Ctx, Staff, cookie};
use crate::errors::{HtmlError, page};
use crate::i18n::Lang;
use crate::layout::Layout;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::Error;
use rathaus_store::tenants;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTpl {
    l: Layout,
    services: Vec<crate::module::PublicService>,
}

pub async fn home(State(st): State<AppState>, ctx: Ctx) -> Result<Response, HtmlError> {
    let l = layout(&st, &ctx, "home.title");
    let title = format!("{} {}", l.tr("home.welcome"), l.tenant_name);
    let services = st
        .modules
        .iter()
        .flat_map(|m| m.public_services())
        .collect();
    page(HomeTpl {
        l: l.with_title(title),
        services,
    })
}

#[derive(Template)]
#[template(path = "footer_page.html")]
struct FooterPageTpl {
    l: Layout,
    /// Sanitized HTML from `markdown::render`.
    html: String,
    empty: bool,
}

pub async fn footer_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> Result<Response, HtmlError> {
    let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
    if !tenants::PAGES.iter().any(|(s, _)| *s == slug) {
        return Err(Error::NotFound.into());
    }
    let p = tenants::page(&st.db.conn, tid, &slug).await?;
    // Markdown, sanitized: no script or foreign image from the database reaches a page.
    // Plain text with blank lines (the format before Markdown) reads the same.
    let html = crate::markdown::render(&p.body)
        .map(|r| r.html)
        .unwrap_or_default();
    let l = layout(&st, &ctx, "home.title").with_title(p.title);
    page(FooterPageTpl {
        l,
        empty: html.trim().is_empty(),
        html,
    })
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: String,
    #[serde(default)]
    back: String,
}

pub async fn set_lang(State(st): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::parse(&q.lang).unwrap_or(Lang::De);
    let back = safe_next(&q.back).unwrap_or("/").to_string();
    let mut res = Redirect::to(&back).into_response();
    let c = cookie(&st, "lang", lang.code().to_string());
    if let Ok(v) = c.to_string().parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// A dashboard line: the module's sentence with its count filled in.
struct Todo {
    text: String,
    href: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardTpl {
    l: Layout,
    name: String,
    citizen: bool,
    todos: Vec<Todo>,
}

pub async fn dashboard(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let l = layout(&st, &ctx, "dashboard.title");
    let mut todos = Vec::new();
    if !p.citizen {
        let items = match st.todos.get(p.tenant_id.0, p.user_id.0) {
            Some(items) => items,
            None => {
                let generation = st.todos.generation(p.tenant_id.0);
                // The modules answer concurrently; one that fails is left out (and logged)
                // rather than taking the whole start page down, and nothing is kept.
                let answers = futures_util::future::join_all(
                    st.modules.iter().map(|m| m.dashboard(&st.db, &p)),
                )
                .await;
                let mut items = Vec::new();
                let mut complete = true;
                for (m, answer) in st.modules.iter().zip(answers) {
                    match answer {
                        Ok(list) => items.extend(list.into_iter().filter(|i| i.count > 0)),
                        Err(e) => {
                            complete = false;
                            tracing::error!(module = m.name(), error = %e, "dashboard items");
                        }
                    }
                }
                if complete {
                    st.todos
                        .put(p.tenant_id.0, p.user_id.0, generation, items.clone());
                }
                items
            }
        };
        todos.extend(items.into_iter().map(|i| Todo {
            text: l.tr(i.text_key).replace("{n}", &i.count.to_string()),
            href: i.href,
            overdue: i.overdue,
        }));
    }
    page(DashboardTpl {
        l,
        name: p.name,
        citizen: p.citizen,
        todos,
    })
}

/// The tenant's uploaded coat of arms; the hash in the URL makes it cacheable forever.
pub async fn coat_of_arms(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
) -> Result<Response, HtmlError> {
    let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
    let sha = file.strip_suffix(".png").ok_or(Error::NotFound)?;
    let bytes = tenants::coat_of_arms(&st.db.conn, tid, sha)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

pub async fn not_found() -> HtmlError {
    HtmlError(Error::NotFound)
}
