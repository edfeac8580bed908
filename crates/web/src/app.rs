//! Router assembly and the server loop with graceful shutdown.

use crate::pages::{account, admin, auth, public, register};
use crate::state::AppState;
use crate::{api, assets, ctx, errors, input, ops, security};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::Response;
use axum::routing::{get, post};
use std::net::SocketAddr;
use tower_http::timeout::TimeoutLayer;

/// The whole application: the platform's routes and every mounted module's.
pub fn router(st: AppState) -> Router {
    let mut html = Router::new();
    let mut module_api = vec![];
    let mut machine = Router::new();
    for m in st.modules.iter() {
        let r = m.routes();
        html = html.merge(r.pages).merge(m.pages());
        module_api.push(r.api.merge(m.api()));
        machine = machine.merge(r.machine).merge(m.machine());
    }
    let html = html
        .route("/", get(public::home))
        .route("/{page}", get(public::footer_page))
        .route("/sprache", get(public::set_lang))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/login/totp", get(auth::totp_form).post(auth::totp))
        .route("/logout", post(auth::logout))
        .route("/registrieren", get(register::form).post(register::submit))
        .route(
            "/registrieren/bestaetigen/{token}",
            get(register::confirm_form).post(register::confirm),
        )
        .route("/staff", get(public::dashboard))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route(
            "/account/totp",
            get(account::totp_show).post(account::totp_enable),
        )
        .route("/account/totp/disable", post(account::totp_disable))
        .route(
            "/account/tokens",
            get(account::tokens_show).post(account::tokens_create),
        )
        .route("/account/tokens/{id}/revoke", post(account::tokens_revoke))
        .route("/admin/users", get(admin::users))
        .route(
            "/admin/users/new",
            get(admin::user_new).post(admin::user_create),
        )
        .route(
            "/admin/users/{id}",
            get(admin::user_edit).post(admin::user_update),
        )
        .route("/admin/users/{id}/reset-totp", post(admin::user_reset_totp))
        .route("/admin/roles", get(admin::roles))
        .route(
            "/admin/roles/new",
            get(admin::role_new).post(admin::role_create),
        )
        .route(
            "/admin/roles/{id}",
            get(admin::role_edit).post(admin::role_update),
        )
        .route("/admin/roles/{id}/delete", post(admin::role_delete))
        .route(
            "/admin/departments",
            get(admin::departments).post(admin::department_create),
        )
        .route("/admin/departments/{id}", post(admin::department_rename))
        .route(
            "/admin/departments/{id}/delete",
            post(admin::department_delete),
        )
        .route("/admin/audit", get(admin::audit_log))
        .route("/admin/jobs", get(admin::jobs_list))
        .route("/admin/jobs/{id}/retry", post(admin::job_retry))
        .route(
            "/admin/settings",
            get(admin::settings).post(admin::settings_save),
        )
        .route("/admin/settings/wappen", post(admin::coat_of_arms_upload))
        .route(
            "/admin/settings/wappen/delete",
            post(admin::coat_of_arms_remove),
        )
        .route("/wappen/{file}", get(public::coat_of_arms))
        .route(
            "/admin/pages/{slug}",
            get(admin::page_edit).post(admin::page_save),
        )
        .fallback(public::not_found)
        // Inner to outer: error pages need the context; CSRF needs the context; input is
        // screened for control characters only once the request passed the CSRF check.
        .layer(from_fn_with_state(st.clone(), errors::render_error_pages))
        .layer(from_fn_with_state(st.clone(), input::pages))
        .layer(from_fn_with_state(st.clone(), security::csrf))
        .layer(from_fn_with_state(st.clone(), ctx::context_layer));

    let (api_routes, openapi) = api::router(module_api);
    let openapi_json = openapi.to_pretty_json().unwrap_or_default();
    let api = api_routes
        .route(
            "/api/openapi.json",
            get(move || async move { ([("content-type", "application/json")], openapi_json) }),
        )
        .route("/api/{*rest}", axum::routing::any(api::not_found))
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(from_fn_with_state(st.clone(), input::api))
        // Bearer tokens only: no session lookup and no CSRF cookie on API answers.
        .layer(from_fn_with_state(st.clone(), ctx::machine_context_layer));

    let machine = machine
        .layer(from_fn_with_state(st.clone(), input::machine))
        .layer(from_fn_with_state(st.clone(), ctx::machine_context_layer));

    let ops = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{*path}", get(assets::serve));

    Router::new()
        .merge(ops)
        .merge(api)
        .merge(machine)
        .merge(html)
        .layer(from_fn_with_state(st.clone(), ops::track))
        // One span per request (method, path, status, latency) at debug level:
        // `RATHAUS_LOG=info,tower_http=debug` shows them.
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(DefaultBodyLimit::max(st.cfg.body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            st.cfg.request_timeout,
        ))
        .layer(map_response(strip_server))
        .layer(from_fn_with_state(st.clone(), security::headers))
        .with_state(st)
}

async fn strip_server(mut r: Response) -> Response {
    r.headers_mut().remove(axum::http::header::SERVER);
    r
}

/// Serves until `shutdown` resolves, then stops accepting and drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    st: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(st);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
