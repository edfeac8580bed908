//! Citizens' self-registration: the form, the "check your mail" page, and the confirmation
//! link (GET shows a button, only the POST confirms: mail scanners follow links).

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
use rathaus_store::accounts::{self, RegisterResult, Registration, RegistrationMail, TokenState};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterTpl {
    l: Layout,
    errs: FormErrors,
    name: String,
    email: String,
    consent: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "register_sent.html")]
struct SentTpl {
    l: Layout,
}

#[derive(Template)]
#[template(path = "register_confirm.html")]
struct ConfirmTpl {
    l: Layout,
    /// The link is valid: show the confirm button.
    ready: bool,
    action: String,
    text: String,
    failed: bool,
}

pub async fn form(State(st): State<AppState>, ctx: Ctx) -> Result<Response, HtmlError> {
    if ctx.staff().is_some() {
        return Ok(Redirect::to("/staff").into_response());
    }
    page(RegisterTpl {
        l: layout(&st, &ctx, "register.title"),
        errs: FormErrors::none(catalog(ctx.lang)),
        name: String::new(),
        email: String::new(),
        consent: false,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    consent: String,
}

/// Subject and body of the registration mails, in the user's language.
fn compose(
    t: &Catalog,
    tenant: &str,
    origin: &str,
    mail: RegistrationMail<'_>,
) -> (String, String) {
    let fill = |key: &str, name: &str, link: &str| {
        t.get(key)
            .replace("{name}", name)
            .replace("{tenant}", tenant)
            .replace("{link}", link)
            .replace("{login}", &format!("{origin}/login"))
    };
    match mail {
        RegistrationMail::Confirm { name, token } => {
            let link = format!("{origin}/registrieren/bestaetigen/{token}");
            (
                fill("mail.confirm_subject", name, &link),
                fill("mail.confirm_body", name, &link),
            )
        }
        RegistrationMail::Exists { name } => (
            fill("mail.exists_subject", name, ""),
            fill(
                "mail.exists_body",
                name,
                &format!("{origin}/passwort-vergessen"),
            ),
        ),
    }
}

pub async fn submit(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<RegisterForm>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant.as_ref().ok_or(Error::NotFound)?;
    let tid = rathaus_core::TenantId(tenant.id);
    let t = catalog(ctx.lang);
    let origin = origin(&st.cfg, &headers);
    let consent = f.consent == "on";
    let result = accounts::register_citizen(
        &st.db.conn,
        tid,
        Registration {
            name: &f.name,
            email: &f.email,
            password: &f.password,
            privacy_consent: consent,
        },
        &ctx.client_ip,
        &st.cfg.register,
        |m| compose(t, &tenant.name, &origin, m),
    )
    .await;
    // The form again, with what was typed (never the password).
    let again = |status: StatusCode, errs: FormErrors, error: Option<String>| {
        page(RegisterTpl {
            l: layout(&st, &ctx, "register.title"),
            errs,
            name: f.name.clone(),
            email: f.email.clone(),
            consent,
            error,
        })
        .map(|mut r| {
            *r.status_mut() = status;
            r
        })
    };
    match result {
        Ok(RegisterResult::MailQueued) => page(SentTpl {
            l: layout(&st, &ctx, "register.sent_title"),
        }),
        Ok(RegisterResult::Throttled) => again(
            StatusCode::TOO_MANY_REQUESTS,
            FormErrors::none(t),
            Some(t.get("register.throttled").to_string()),
        ),
        Err(e) => again(
            StatusCode::UNPROCESSABLE_ENTITY,
            FormErrors::from_error(t, e)?,
            None,
        ),
    }
}

fn confirm_page(
    st: &AppState,
    ctx: &Ctx,
    token: &str,
    state: TokenState,
    done: bool,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (status, title, text) = match (state, done) {
        (TokenState::Valid, true) => (StatusCode::OK, "confirm.done_title", "confirm.done_text"),
        (TokenState::Valid, false) => (StatusCode::OK, "confirm.title", ""),
        (TokenState::Used, _) => (StatusCode::GONE, "confirm.failed_title", "confirm.used"),
        (TokenState::Expired, _) => (StatusCode::GONE, "confirm.failed_title", "confirm.expired"),
        (TokenState::Unknown, _) => (
            StatusCode::NOT_FOUND,
            "confirm.failed_title",
            "confirm.unknown",
        ),
    };
    page(ConfirmTpl {
        l: layout(st, ctx, title),
        ready: state == TokenState::Valid && !done,
        action: format!("/registrieren/bestaetigen/{}", crate::ctx::urlencode(token)),
        text: if text.is_empty() {
            String::new()
        } else {
            t.get(text).to_string()
        },
        failed: state != TokenState::Valid,
    })
    .map(|mut r| {
        *r.status_mut() = status;
        r
    })
}

/// The link from the mail: looks at the token, changes nothing.
pub async fn confirm_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, HtmlError> {
    let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
    let state = accounts::confirmation_state(&st.db.conn, tid, &token).await?;
    confirm_page(&st, &ctx, &token, state, false)
}

pub async fn confirm(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, HtmlError> {
    let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
    let state = accounts::confirm_email(&st.db.conn, tid, &token, &ctx.client_ip).await?;
    confirm_page(&st, &ctx, &token, state, true)
}
