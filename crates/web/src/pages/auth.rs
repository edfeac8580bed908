//! Login (password, then TOTP when the user has it), logout.

use super::{layout, safe_next};
use crate::ctx::{Ctx, cookie};
use crate::errors::{HtmlError, page};
use crate::forms::FormErrors;
use crate::i18n::catalog;
use crate::layout::Layout;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use axum_extra::extract::cookie::Cookie;
use rathaus_core::{Error, TenantId, UserId};
use rathaus_store::accounts::{self, LoginResult};
use rathaus_store::sessions;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl {
    l: Layout,
    errs: FormErrors,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Response, HtmlError> {
    if ctx.staff().is_some() {
        return Ok(Redirect::to("/staff").into_response());
    }
    let t = catalog(ctx.lang);
    page(LoginTpl {
        l: layout(&st, &ctx, "login.title"),
        errs: FormErrors::none(t),
        email: String::new(),
        next: q.next,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

fn set_cookie(res: &mut Response, c: Cookie<'static>) {
    if let Ok(v) = c.to_string().parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub async fn login(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<LoginForm>,
) -> Result<Response, HtmlError> {
    let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
    let t = catalog(ctx.lang);
    let again = |status: StatusCode, key: &str| -> Result<Response, HtmlError> {
        let tpl = LoginTpl {
            l: layout(&st, &ctx, "login.title"),
            errs: FormErrors::none(t),
            email: f.email.clone(),
            next: f.next.clone(),
            error: Some(t.get(key).to_string()),
        };
        page(tpl).map(|mut r| {
            *r.status_mut() = status;
            r
        })
    };
    if f.email.trim().is_empty() || f.password.is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "login.missing");
    }
    match accounts::login(
        &st.db.conn,
        tid,
        &f.email,
        &f.password,
        &ctx.client_ip,
        &st.cfg.login,
    )
    .await?
    {
        LoginResult::Failed => again(StatusCode::UNPROCESSABLE_ENTITY, "login.failed"),
        LoginResult::Throttled => again(StatusCode::TOO_MANY_REQUESTS, "login.throttled"),
        LoginResult::Unconfirmed => again(StatusCode::FORBIDDEN, "login.unconfirmed"),
        LoginResult::Ok(u) => {
            // A fresh session id at every login (no fixation); the old session ends.
            if let Some(old) = &ctx.session_token {
                sessions::delete(&st.db.conn, old).await?;
            }
            let token = sessions::create(
                &st.db.conn,
                tid,
                UserId(u.id),
                u.totp_enabled,
                &st.cfg.session,
            )
            .await?;
            let next = safe_next(&f.next).unwrap_or("/staff");
            let target = if u.totp_enabled {
                format!("/login/totp?next={}", crate::ctx::urlencode(next))
            } else {
                next.to_string()
            };
            let mut res = Redirect::to(&target).into_response();
            set_cookie(&mut res, cookie(&st, st.session_cookie(), token));
            // The anonymous CSRF cookie is replaced too: signed-in forms carry a token bound
            // to the session, and nothing known before the login stays useful after it.
            set_cookie(
                &mut res,
                cookie(&st, st.csrf_cookie(), rathaus_store::random_token(32)),
            );
            Ok(res)
        }
    }
}

#[derive(Template)]
#[template(path = "login_totp.html")]
struct TotpTpl {
    l: Layout,
    errs: FormErrors,
    next: String,
}

pub async fn totp_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Response, HtmlError> {
    if !ctx.mfa_pending {
        return Ok(Redirect::to("/login").into_response());
    }
    page(TotpTpl {
        l: layout(&st, &ctx, "login.totp_title"),
        errs: FormErrors::none(catalog(ctx.lang)),
        next: q.next,
    })
}

#[derive(Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

pub async fn totp(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<TotpForm>,
) -> Result<Response, HtmlError> {
    let (Some(user), Some(token), true) =
        (ctx.user.clone(), ctx.session_token.clone(), ctx.mfa_pending)
    else {
        return Ok(Redirect::to("/login").into_response());
    };
    let tid: TenantId = user.tenant_id;
    if accounts::throttled(&st.db.conn, tid, &user.email, &ctx.client_ip, &st.cfg.login).await? {
        sessions::delete(&st.db.conn, &token).await?;
        return Ok(Redirect::to("/login?notice=throttled").into_response());
    }
    let (_, enabled) = accounts::totp_state(&st.db.conn, tid, user.user_id).await?;
    // Each code is accepted once: a code seen over someone's shoulder is already spent.
    let ok =
        enabled && accounts::consume_totp_code(&st.db.conn, tid, user.user_id, &f.code).await?;
    if !ok {
        accounts::second_factor_failed(&st.db.conn, tid, &user, &ctx.client_ip).await?;
        let mut errs = rathaus_core::validation::FieldErrors::new();
        errs.add("code", "err.totp_wrong");
        let tpl = TotpTpl {
            l: layout(&st, &ctx, "login.totp_title"),
            errs: FormErrors::new(catalog(ctx.lang), errs),
            next: f.next,
        };
        return page(tpl).map(|mut r| {
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        });
    }
    let fresh = sessions::complete_mfa(&st.db.conn, &token).await?;
    let mut res = Redirect::to(safe_next(&f.next).unwrap_or("/staff")).into_response();
    set_cookie(&mut res, cookie(&st, st.session_cookie(), fresh));
    Ok(res)
}

pub async fn logout(State(st): State<AppState>, ctx: Ctx) -> Result<Response, HtmlError> {
    if let (Some(token), Some(user)) = (&ctx.session_token, &ctx.user) {
        sessions::logout(&st.db.conn, user, token).await?;
    }
    let mut res = Redirect::to("/login?notice=logged_out").into_response();
    let mut gone = cookie(&st, st.session_cookie(), String::new());
    gone.make_removal();
    set_cookie(&mut res, gone);
    Ok(res)
}
