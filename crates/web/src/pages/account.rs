//! The signed-in user's own account: password, second factor, API tokens.

use super::layout;
use crate::ctx::Staff;
use crate::errors::{HtmlError, page, respond};
use crate::forms::FormErrors;
use crate::i18n::catalog;
use crate::layout::Layout;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rathaus_core::validation::FieldErrors;
use rathaus_store::{accounts, mfa, tenants, tokens};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountTpl {
    l: Layout,
    errs: FormErrors,
    email: String,
    name: String,
    department: String,
    roles: Vec<String>,
    totp_enabled: bool,
}

async fn account_page(
    st: &AppState,
    ctx: &crate::ctx::Ctx,
    p: &rathaus_core::Principal,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let u = accounts::user_by_id(&st.db.conn, p.tenant_id, p.user_id.0).await?;
    let depts = accounts::list_departments(&st.db.conn, p.tenant_id).await?;
    let department = u
        .department_id
        .and_then(|d| depts.iter().find(|x| x.id == d))
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let all_roles = accounts::list_roles(&st.db.conn, p.tenant_id).await?;
    let role_ids = accounts::own_role_ids(&st.db.conn, p).await?;
    let roles = all_roles
        .into_iter()
        .filter(|(r, _)| role_ids.contains(&r.id))
        .map(|(r, _)| r.name)
        .collect();
    let tpl = AccountTpl {
        l: layout(st, ctx, "account.title"),
        errs,
        email: u.email,
        name: u.name,
        department,
        roles,
        totp_enabled: u.totp_enabled,
    };
    let failed = tpl.errs.any();
    let r = page(tpl);
    respond(r, failed)
}

pub async fn show(State(st): State<AppState>, Staff(ctx, p): Staff) -> Result<Response, HtmlError> {
    account_page(&st, &ctx, &p, FormErrors::none(catalog(ctx.lang))).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<PasswordForm>,
) -> Result<Response, HtmlError> {
    match accounts::change_own_password(
        &st.db.conn,
        &p,
        &f.current_password,
        &f.new_password,
        ctx.session_token.as_deref(),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/account?notice=password_changed").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            account_page(&st, &ctx, &p, errs).await
        }
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpSetupTpl {
    l: Layout,
    errs: FormErrors,
    enabled: bool,
    required: bool,
    secret: String,
    qr_svg: String,
    otpauth: String,
}

async fn totp_page(
    st: &AppState,
    ctx: &crate::ctx::Ctx,
    p: &rathaus_core::Principal,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let (secret, enabled) = accounts::totp_state(&st.db.conn, p.tenant_id, p.user_id).await?;
    let tenant = tenants::get(&st.db.conn, p.tenant_id).await?;
    let (secret, qr_svg, otpauth) = if enabled {
        (String::new(), String::new(), String::new())
    } else {
        // A pending secret is kept until confirmed, so reloading the page shows the same code.
        let s = match secret {
            Some(s) => s,
            None => {
                let s = mfa::generate_secret();
                accounts::set_totp(&st.db.conn, p, Some(s.clone()), false).await?;
                s
            }
        };
        let url =
            mfa::otpauth_url(&s, &format!("Rathaus {}", tenant.name), &p.email).unwrap_or_default();
        let svg = qrcode::QrCode::new(url.as_bytes())
            .map(|q| {
                q.render::<qrcode::render::svg::Color>()
                    .min_dimensions(200, 200)
                    .build()
            })
            .unwrap_or_default();
        (s, svg, url)
    };
    let failed = errs.any();
    let tpl = TotpSetupTpl {
        l: layout(st, ctx, "totp.title"),
        errs,
        enabled,
        required: tenant.mfa_required,
        secret,
        qr_svg,
        otpauth,
    };
    let r = page(tpl);
    respond(r, failed)
}

pub async fn totp_show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    totp_page(&st, &ctx, &p, FormErrors::none(catalog(ctx.lang))).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

fn code_error(ctx: &crate::ctx::Ctx) -> FormErrors {
    let mut e = FieldErrors::new();
    e.add("code", "err.totp_wrong");
    FormErrors::new(catalog(ctx.lang), e)
}

pub async fn totp_enable(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<CodeForm>,
) -> Result<Response, HtmlError> {
    let (secret, enabled) = accounts::totp_state(&st.db.conn, p.tenant_id, p.user_id).await?;
    let fresh = accounts::consume_totp_code(&st.db.conn, p.tenant_id, p.user_id, &f.code).await?;
    match secret {
        Some(s) if !enabled && fresh => {
            accounts::set_totp(&st.db.conn, &p, Some(s), true).await?;
            Ok(Redirect::to("/account?notice=totp_enabled").into_response())
        }
        _ => totp_page(&st, &ctx, &p, code_error(&ctx)).await,
    }
}

pub async fn totp_disable(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<CodeForm>,
) -> Result<Response, HtmlError> {
    let tenant = tenants::get(&st.db.conn, p.tenant_id).await?;
    if tenant.mfa_required {
        return Err(
            rathaus_core::Error::Conflict("totp.required_cannot_disable".to_string()).into(),
        );
    }
    let (secret, enabled) = accounts::totp_state(&st.db.conn, p.tenant_id, p.user_id).await?;
    let fresh = accounts::consume_totp_code(&st.db.conn, p.tenant_id, p.user_id, &f.code).await?;
    match secret {
        Some(_) if enabled && fresh => {
            accounts::set_totp(&st.db.conn, &p, None, false).await?;
            Ok(Redirect::to("/account?notice=totp_disabled").into_response())
        }
        _ => totp_page(&st, &ctx, &p, code_error(&ctx)).await,
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensTpl {
    l: Layout,
    errs: FormErrors,
    tokens: Vec<tokens::ApiToken>,
    name: String,
    created: Option<String>,
}

async fn tokens_page(
    st: &AppState,
    ctx: &crate::ctx::Ctx,
    p: &rathaus_core::Principal,
    errs: FormErrors,
    name: String,
    created: Option<String>,
) -> Result<Response, HtmlError> {
    let list = tokens::list_own(&st.db.conn, p).await?;
    let failed = errs.any();
    let r = page(TokensTpl {
        l: layout(st, ctx, "tokens.title"),
        errs,
        tokens: list,
        name,
        created,
    });
    respond(r, failed)
}

pub async fn tokens_show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    tokens_page(
        &st,
        &ctx,
        &p,
        FormErrors::none(catalog(ctx.lang)),
        String::new(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

pub async fn tokens_create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<TokenForm>,
) -> Result<Response, HtmlError> {
    match tokens::create(
        &st.db.conn,
        p.tenant_id,
        p.user_id,
        rathaus_store::uow::Actor::User(&p),
        &f.name,
    )
    .await
    {
        // Shown once on this page, never again.
        Ok((plain, _)) => {
            tokens_page(
                &st,
                &ctx,
                &p,
                FormErrors::none(catalog(ctx.lang)),
                String::new(),
                Some(plain),
            )
            .await
        }
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            tokens_page(&st, &ctx, &p, errs, f.name, None).await
        }
    }
}

pub async fn tokens_revoke(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<i64>,
) -> Result<Response, HtmlError> {
    tokens::revoke(&st.db.conn, &p, id).await?;
    Ok(Redirect::to("/account/tokens?notice=token_revoked").into_response())
}
