//! The live preview of every Markdown editor: with JavaScript the editor's "Vorschau" button
//! posts the form here (htmx) and shows the answer below the form; without JavaScript the
//! same button submits the form to its own handler, which renders the preview itself.

use crate::ctx::Staff;
use crate::errors::HtmlError;
use crate::i18n::catalog;
use crate::markdown;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    body: String,
}

#[derive(Template)]
#[template(path = "markdown_preview.html")]
struct PreviewTpl {
    title: String,
    html: Option<String>,
    error: Option<String>,
}

pub async fn preview(
    Staff(ctx, _p): Staff,
    Form(f): Form<PreviewForm>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (html, error) = match markdown::render(&f.body) {
        Ok(r) => (Some(r.html), None),
        Err(_) => (
            None,
            Some(t.fmt(
                "markdown.too_large",
                &(markdown::MAX_BYTES / 1024).to_string(),
            )),
        ),
    };
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let tpl = PreviewTpl {
        title: t.get("form.preview_title").to_string(),
        html,
        error,
    };
    let body = tpl.render().map_err(rathaus_core::Error::internal_from)?;
    Ok((status, Html(body)).into_response())
}
