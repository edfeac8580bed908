//! "Forgot password" for citizens: the request form (one answer whether or not the address
//! has an account), and the link from the mail (GET shows the new-password form and changes
//! nothing, because mail scanners follow links; only the POST sets the password).

use super::layout;
use crate::ctx::{Ctx, origin};
use crate::errors::{HtmlError, page};
use crate::forms::FormErrors;
use crate::i18n::{Catalog, catalog};
use crate::layout::Layout;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rathaus_core::Error;
use rathaus_store::accounts::TokenState;
use rathaus_store::password_reset::{self, ResetMail, ResetRequest};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotTpl {
    l: Layout,
    errs: FormErrors,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "password_forgot_sent.html")]
struct SentTpl {
    l: Layout,
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetTpl {
    l: Layout,
    /// The link is valid: show the new-password form.
    ready: bool,
    errs: FormErrors,
    action: String,
    text: String,
    failed: bool,
}

fn with_status(r: Result<Response, HtmlError>, status: StatusCode) -> Result<Response, HtmlError> {
    r.map(|mut r| {
        *r.status_mut() = status;
        r
    })
}

pub async fn form(State(st): State<AppState>, ctx: Ctx) -> Result<Response, HtmlError> {
    if ctx.staff().is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    page(ForgotTpl {
        l: layout(&st, &ctx, "reset.title"),
        errs: FormErrors::none(catalog(ctx.lang)),
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// Subject and body of the reset mails, in the user's language.
fn compose(t: &Catalog, tenant: &str, origin: &str, mail: ResetMail<'_>) -> (String, String) {
    let fill = |key: &str, name: &str, link: &str| {
        t.get(key)
            .replace("{name}", name)
            .replace("{tenant}", tenant)
            .replace("{link}", link)
            .replace("{login}", &format!("{origin}/login"))
    };
    match mail {
        ResetMail::Link { name, token } => {
            let link = format!("{origin}/passwort-vergessen/{token}");
            (
                fill("reset.mail_subject", name, &link),
                fill("reset.mail_body", name, &link),
            )
        }
        ResetMail::Staff { name } => (
            fill("reset.staff_mail_subject", name, ""),
            fill("reset.staff_mail_body", name, ""),
        ),
    }
}

pub async fn submit(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<ForgotForm>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant.as_ref().ok_or(Error::NotFound)?;
    let tid = rathaus_core::TenantId(tenant.id);
    let t = catalog(ctx.lang);
    let origin = origin(&st.cfg, &headers);
    let result = password_reset::request_password_reset(
        &st.db.conn,
        tid,
        &f.email,
        &ctx.client_ip,
        &st.cfg.register,
        |m| compose(t, &tenant.name, &origin, m),
    )
    .await;
    let again = |status: StatusCode, errs: FormErrors, error: Option<String>| {
        with_status(
            page(ForgotTpl {
                l: layout(&st, &ctx, "reset.title"),
                errs,
                email: f.email.clone(),
                error,
            }),
            status,
        )
    };
    match result {
        Ok(ResetRequest::Accepted) => page(SentTpl {
            l: layout(&st, &ctx, "reset.sent_title"),
        }),
        Ok(ResetRequest::Throttled) => again(
            StatusCode::TOO_MANY_REQUESTS,
            FormErrors::none(t),
            Some(t.get("reset.throttled").to_string()),
        ),
        Err(e) => again(
            StatusCode::UNPROCESSABLE_ENTITY,
            FormErrors::from_error(t, e)?,
            None,
        ),
    }
}

/// The page behind a reset link: the form (valid link), the result, or why it does not work.
fn reset_page(
    st: &AppState,
    ctx: &Ctx,
    token: &str,
    state: TokenState,
    done: bool,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (status, title, text) = match (state, done) {
        (TokenState::Valid, true) => (StatusCode::OK, "reset.done_title", "reset.done_text"),
        (TokenState::Valid, false) if errs.any() => {
            (StatusCode::UNPROCESSABLE_ENTITY, "reset.new_title", "")
        }
        (TokenState::Valid, false) => (StatusCode::OK, "reset.new_title", ""),
        (TokenState::Used, _) => (StatusCode::GONE, "reset.failed_title", "reset.used"),
        (TokenState::Expired, _) => (StatusCode::GONE, "reset.failed_title", "reset.expired"),
        (TokenState::Unknown, _) => (StatusCode::NOT_FOUND, "reset.failed_title", "reset.unknown"),
    };
    with_status(
        page(ResetTpl {
            l: layout(st, ctx, title),
            ready: state == TokenState::Valid && !done,
            errs,
            action: format!("/passwort-vergessen/{}", crate::ctx::urlencode(token)),
            text: if text.is_empty() {
                String::new()
            } else {
                t.get(text).to_string()
            },
            failed: state != TokenState::Valid,
        }),
        status,
    )
}

/// The link from the mail: looks at the token, changes nothing.
pub async fn reset_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, HtmlError> {
    let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
    let state = password_reset::password_reset_state(&st.db.conn, tid, &token).await?;
    let errs = FormErrors::none(catalog(ctx.lang));
    reset_page(&st, &ctx, &token, state, false, errs)
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn reset(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(f): Form<ResetForm>,
) -> Result<Response, HtmlError> {
    let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
    let t = catalog(ctx.lang);
    match password_reset::reset_password_with_token(
        &st.db.conn,
        tid,
        &token,
        &f.password,
        &ctx.client_ip,
    )
    .await
    {
        Ok(state) => reset_page(&st, &ctx, &token, state, true, FormErrors::none(t)),
        // The form again with the message beside the field; the password is never sent back.
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            reset_page(&st, &ctx, &token, TokenState::Valid, false, errs)
        }
    }
}
