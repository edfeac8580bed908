//! The JSON API under /api/v1: bearer tokens, RFC 9457 problem documents, and an OpenAPI 3.1
//! document at /api/openapi.json generated from the handlers.

use crate::ctx::Ctx;
use crate::errors::status_of;
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use rathaus_core::{Error, Principal};
use rathaus_store::tokens;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

/// RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field errors for 422 answers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message: String,
}

pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let t = crate::i18n::catalog(crate::i18n::Lang::De);
        let (slug, title) = match &self.0 {
            Error::Unauthenticated => ("unauthenticated", "Nicht angemeldet"),
            Error::Forbidden => ("forbidden", "Keine Berechtigung"),
            Error::NotFound => ("not-found", "Nicht gefunden"),
            Error::Invalid(_) => ("validation", "Ungültige Eingabe"),
            Error::Conflict(_) => ("conflict", "Konflikt"),
            Error::TooManyRequests => ("rate-limited", "Zu viele Anfragen"),
            Error::Internal(cause) => {
                tracing::error!(error = %cause.chain(), "internal error (api)");
                ("internal", "Interner Fehler")
            }
        };
        let errors = match &self.0 {
            Error::Invalid(f) => {
                f.0.iter()
                    .map(|e| ProblemField {
                        field: e.field.clone(),
                        code: e.key.clone(),
                        message: e
                            .arg
                            .as_deref()
                            .map(|a| t.fmt(&e.key, a))
                            .unwrap_or_else(|| t.get(&e.key).to_string()),
                    })
                    .collect()
            }
            _ => vec![],
        };
        let detail = match &self.0 {
            Error::Conflict(key) => Some(t.get(key).to_string()),
            Error::Unauthenticated => {
                Some("Ein gültiges API-Token wird als Bearer-Token erwartet.".into())
            }
            _ => None,
        };
        problem(
            status,
            Problem {
                kind: format!("https://rathaus.dev/problems/{slug}"),
                title: title.into(),
                status: status.as_u16(),
                detail,
                errors,
            },
        )
    }
}

pub fn problem(status: StatusCode, p: Problem) -> Response {
    let mut res = (status, Json(p)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

/// The principal behind `Authorization: Bearer rh_…` in the request's tenant. Cookies never
/// authenticate the API, so it needs no CSRF protection.
#[derive(Clone)]
pub struct ApiUser(pub Principal);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        // Already authenticated by the route table's access check.
        if let Some(u) = parts.extensions.get::<ApiUser>() {
            return Ok(u.clone());
        }
        let ctx = parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or(Error::Unauthenticated)?;
        let tid = ctx.tenant_id().ok_or(Error::NotFound)?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Error::Unauthenticated)?;
        match tokens::authenticate(&st.db.conn, tid, token).await? {
            Some(p) => Ok(ApiUser(p)),
            None => Err(ApiError(Error::Unauthenticated)),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tenant: TenantInfo,
    /// Effective permissions; `admin` holders get every known permission listed.
    pub permissions: Vec<String>,
    pub is_admin: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TenantInfo {
    pub slug: String,
    pub name: String,
}

/// The signed-in token owner.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "platform",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's owner", body = Me),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn me(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Me>, ApiError> {
    let t = rathaus_store::tenants::get(&st.db.conn, p.tenant_id).await?;
    let permissions = if p.is_admin {
        rathaus_core::permissions::all()
            .iter()
            .map(|d| d.code.to_string())
            .collect()
    } else {
        p.permissions.iter().cloned().collect()
    };
    Ok(Json(Me {
        id: p.user_id.0,
        email: p.email,
        name: p.name,
        tenant: TenantInfo {
            slug: t.slug,
            name: t.name,
        },
        permissions,
        is_admin: p.is_admin,
    }))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Rathaus API", description = "JSON API of Rathaus. Errors are RFC 9457 problem documents."),
    modifiers(&BearerAuth),
    components(schemas(Problem, ProblemField))
)]
struct ApiDoc;

/// The API routes and the OpenAPI document describing exactly them.
pub fn router(
    modules: Vec<OpenApiRouter<AppState>>,
) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut r = OpenApiRouter::with_openapi(ApiDoc::openapi());
    for m in modules {
        r = r.merge(m);
    }
    r.split_for_parts()
}

/// Unknown paths under /api answer with a problem document, not an HTML page.
pub async fn not_found() -> Response {
    ApiError(Error::NotFound).into_response()
}

/// A known API path with a method it does not take: a problem document too (axum keeps the
/// `Allow` header).
pub async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        Problem {
            kind: "https://rathaus.dev/problems/method-not-allowed".into(),
            title: crate::i18n::catalog(crate::i18n::Lang::De)
                .get("api.method_not_allowed")
                .to_string(),
            status: StatusCode::METHOD_NOT_ALLOWED.as_u16(),
            detail: None,
            errors: vec![],
        },
    )
}

// ---------------------------------------------------------------- extractors

/// A request the framework could not read (bad JSON, wrong content type, bad query or path):
/// answered as a problem document instead of axum's plain-text rejection.
pub struct BadRequest {
    status: StatusCode,
    detail: String,
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        let t = crate::i18n::catalog(crate::i18n::Lang::De);
        let (slug, title) = match self.status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "api.media_type"),
            StatusCode::UNPROCESSABLE_ENTITY => ("invalid-body", "api.invalid_body"),
            _ => ("bad-request", "api.bad_request"),
        };
        problem(
            self.status,
            Problem {
                kind: format!("https://rathaus.dev/problems/{slug}"),
                title: t.get(title).to_string(),
                status: self.status.as_u16(),
                detail: Some(self.detail),
                errors: vec![],
            },
        )
    }
}

macro_rules! bad_request_from {
    ($($t:ty),*) => {$(
        impl From<$t> for BadRequest {
            fn from(r: $t) -> Self {
                BadRequest { status: r.status(), detail: r.body_text() }
            }
        }
    )*};
}
bad_request_from!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::QueryRejection,
    axum::extract::rejection::PathRejection
);

/// `axum::Json` with problem-document rejections.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(BadRequest))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` with problem-document rejections.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(BadRequest))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` with problem-document rejections (e.g. `ApiPath(id): ApiPath<i64>`).
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(BadRequest))]
pub struct ApiPath<T>(pub T);
