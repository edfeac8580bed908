//! Errors become German pages (HTML) here; the API has its own problem documents (api.rs).
//! Handlers return `HtmlError`; it leaves a marker that `render_error_pages` turns into a full
//! page with the request's layout, so every error page looks like the rest of the site.

use crate::ctx::Ctx;
use crate::i18n::catalog;
use crate::layout::Layout;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use rathaus_core::Error;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorTpl {
    pub l: Layout,
    pub heading: String,
    pub text: String,
    pub status: u16,
}

/// Marker left on an error response for `render_error_pages`.
#[derive(Clone, Copy)]
struct ErrorMarker;

pub struct HtmlError(pub Error);

impl From<Error> for HtmlError {
    fn from(e: Error) -> Self {
        HtmlError(e)
    }
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Unauthenticated => StatusCode::UNAUTHORIZED,
        Error::Forbidden => StatusCode::FORBIDDEN,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        if let Error::Internal(cause) = &self.0 {
            tracing::error!(error = %cause.chain(), "internal error");
        }
        let status = status_of(&self.0);
        let mut res = status.into_response();
        if let Error::Conflict(msg) = self.0 {
            res.extensions_mut().insert(ConflictText(msg));
        }
        res.extensions_mut().insert(ErrorMarker);
        res
    }
}

#[derive(Clone)]
struct ConflictText(String);

/// Also turns bodiless 404/405 answers of the router into German pages.
pub async fn render_error_pages(State(_st): State<AppState>, req: Request, next: Next) -> Response {
    let ctx = req.extensions().get::<Ctx>().cloned();
    let res = next.run(req).await;
    let marked = res.extensions().get::<ErrorMarker>().is_some();
    let bare_router_error = matches!(
        res.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) && res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_none();
    if !(marked || bare_router_error) {
        return res;
    }
    let Some(ctx) = ctx else { return res };
    let conflict = res.extensions().get::<ConflictText>().map(|c| c.0.clone());
    let mut page = ErrorPage::status(&ctx, res.status());
    if let Some(key) = conflict {
        let text = catalog(ctx.lang).get(&key).to_string();
        page = ErrorPage::render(&ctx, StatusCode::CONFLICT, "error.409.title", Some(text));
    }
    page
}

pub struct ErrorPage;

impl ErrorPage {
    pub fn status(ctx: &Ctx, status: StatusCode) -> Response {
        let key = match status.as_u16() {
            401 | 403 => "error.403.title",
            404 | 405 => "error.404.title",
            409 => "error.409.title",
            413 => "error.413.title",
            422 => "error.422.title",
            429 => "error.429.title",
            _ => "error.500.title",
        };
        Self::render(ctx, status, key, None)
    }

    pub fn unknown_host(ctx: &Ctx) -> Response {
        Self::render(ctx, StatusCode::NOT_FOUND, "error.host.title", None)
    }

    pub fn csrf(ctx: &Ctx) -> Response {
        Self::render(ctx, StatusCode::FORBIDDEN, "error.csrf.title", None)
    }

    pub fn render(
        ctx: &Ctx,
        status: StatusCode,
        title_key: &str,
        text: Option<String>,
    ) -> Response {
        let t = catalog(ctx.lang);
        let mut l = Layout::new(ctx, &ctx.nav, title_key);
        if ctx.tenant.is_none() {
            l = Layout::bare(t, String::new(), ctx.csrf.clone(), &ctx.path)
                .with_title(t.get(title_key));
        }
        let text_key = title_key.replace(".title", ".text");
        let tpl = ErrorTpl {
            heading: t.get(title_key).to_string(),
            text: text.unwrap_or_else(|| t.get(&text_key).to_string()),
            status: status.as_u16(),
            l,
        };
        match tpl.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page template failed");
                (status, "Fehler").into_response()
            }
        }
    }
}

/// Renders a template into a 200 response, or a 500 page marker.
pub fn page(tpl: impl Template) -> Result<Response, HtmlError> {
    tpl.render()
        .map(|h| Html(h).into_response())
        .map_err(|e| HtmlError(Error::internal(e)))
}

/// A rendered form page, answered with 422 when it shows validation errors.
pub fn respond(r: Result<Response, HtmlError>, failed: bool) -> Result<Response, HtmlError> {
    r.map(|mut r| {
        if failed {
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        r
    })
}
