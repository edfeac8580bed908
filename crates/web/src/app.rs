//! Router assembly and the server loop with graceful shutdown.

use crate::pages::{account, admin, auth, markdown, password_reset, public, register};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use crate::{api, assets, conditional, ctx, errors, input, ops, security};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::Response;
use axum::routing::get;
use rathaus_core::permissions as perms;
use std::net::SocketAddr;
use tower_http::timeout::TimeoutLayer;

/// The platform's own route table: public pages, sign-in and registration, the account
/// pages, the administration and the API's `/api/v1/me`.
pub fn platform_routes() -> Routes {
    use Access::{AnyOf, Public, Secret, SignedIn};
    let users = AnyOf(&[perms::ADMIN_USERS]);
    let roles = AnyOf(&[perms::ADMIN_ROLES]);
    let departments = AnyOf(&[perms::ADMIN_DEPARTMENTS]);
    let settings = AnyOf(&[perms::ADMIN_SETTINGS]);
    Routes::new()
        .get("/", Public, public::home)
        .get("/{page}", Public, public::footer_page)
        .get("/sprache", Public, public::set_lang)
        .get("/wappen/{file}", Public, public::coat_of_arms)
        .get("/login", Public, auth::login_form)
        .post("/login", Public, auth::login)
        // The half-signed-in state (password done, code outstanding) is not `SignedIn`.
        .get("/login/totp", Public, auth::totp_form)
        .post("/login/totp", Public, auth::totp)
        .post("/logout", Public, auth::logout)
        .get("/registrieren", Public, register::form)
        .post("/registrieren", Public, register::submit)
        .get(
            "/registrieren/bestaetigen/{token}",
            Secret,
            register::confirm_form,
        )
        .post(
            "/registrieren/bestaetigen/{token}",
            Secret,
            register::confirm,
        )
        .get("/passwort-vergessen", Public, password_reset::form)
        .post("/passwort-vergessen", Public, password_reset::submit)
        .get(
            "/passwort-vergessen/{token}",
            Secret,
            password_reset::reset_form,
        )
        .post("/passwort-vergessen/{token}", Secret, password_reset::reset)
        .get("/staff", SignedIn, public::dashboard)
        // Citizens are refused in the handler (the search is for staff).
        .get("/suche", SignedIn, crate::search::page_handler)
        .get("/account", SignedIn, account::show)
        .post("/account/password", SignedIn, account::change_password)
        .get("/account/totp", SignedIn, account::totp_show)
        .post("/account/totp", SignedIn, account::totp_enable)
        .post("/account/totp/disable", SignedIn, account::totp_disable)
        .get("/account/tokens", SignedIn, account::tokens_show)
        .post("/account/tokens", SignedIn, account::tokens_create)
        .post(
            "/account/tokens/{id}/revoke",
            SignedIn,
            account::tokens_revoke,
        )
        .post("/markdown/vorschau", SignedIn, markdown::preview)
        // Each topic's permission is checked when subscribing.
        .get("/live", SignedIn, crate::live::subscribe)
        .get("/admin/users", users, admin::users)
        .get("/admin/users/new", users, admin::user_new)
        .post("/admin/users/new", users, admin::user_create)
        .get("/admin/users/{id}", users, admin::user_edit)
        .post("/admin/users/{id}", users, admin::user_update)
        .post(
            "/admin/users/{id}/reset-totp",
            users,
            admin::user_reset_totp,
        )
        .get("/admin/roles", roles, admin::roles)
        .get("/admin/roles/new", roles, admin::role_new)
        .post("/admin/roles/new", roles, admin::role_create)
        .get("/admin/roles/{id}", roles, admin::role_edit)
        .post("/admin/roles/{id}", roles, admin::role_update)
        .post("/admin/roles/{id}/delete", roles, admin::role_delete)
        .get("/admin/departments", departments, admin::departments)
        .post("/admin/departments", departments, admin::department_create)
        .post(
            "/admin/departments/{id}",
            departments,
            admin::department_rename,
        )
        .post(
            "/admin/departments/{id}/delete",
            departments,
            admin::department_delete,
        )
        .get(
            "/admin/audit",
            AnyOf(&[perms::ADMIN_AUDIT]),
            admin::audit_log,
        )
        .get("/admin/jobs", AnyOf(&[perms::ADMIN_JOBS]), admin::jobs_list)
        .post(
            "/admin/jobs/{id}/retry",
            AnyOf(&[perms::ADMIN_JOBS]),
            admin::job_retry,
        )
        .get("/admin/settings", settings, admin::settings)
        .post("/admin/settings", settings, admin::settings_save)
        .post(
            "/admin/settings/wappen",
            settings,
            admin::coat_of_arms_upload,
        )
        .post(
            "/admin/settings/wappen/delete",
            settings,
            admin::coat_of_arms_remove,
        )
        .get("/admin/pages/{slug}", settings, admin::page_edit)
        .post("/admin/pages/{slug}", settings, admin::page_save)
        .api(SignedIn, utoipa_axum::routes!(api::me))
        .api(SignedIn, utoipa_axum::routes!(crate::search::api_search))
}

/// gzip or br for clients that accept it, on machine and API answers only: HTML pages carry
/// the CSRF token next to text the visitor controls, which compression would expose to a
/// length side channel (BREACH).
fn compression() -> tower_http::compression::CompressionLayer {
    tower_http::compression::CompressionLayer::new()
        .gzip(true)
        .br(true)
}

/// The whole application: the platform's routes and every mounted module's.
pub fn router(st: AppState) -> Router {
    let platform = platform_routes();
    let mut html = Router::new();
    let mut module_api = vec![platform.api];
    let mut machine = Router::new();
    for m in st.modules.iter() {
        let r = m.routes();
        html = html.merge(r.pages);
        module_api.push(r.api);
        machine = machine.merge(r.machine);
    }
    let html = html
        .merge(platform.pages)
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
        .layer(axum::middleware::from_fn(conditional::etags))
        .layer(compression())
        .layer(from_fn_with_state(st.clone(), input::api))
        // Bearer tokens only: no session lookup and no CSRF cookie on API answers.
        .layer(from_fn_with_state(st.clone(), ctx::machine_context_layer));

    let machine = machine
        .layer(axum::middleware::from_fn(conditional::etags))
        .layer(compression())
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
/// While it serves, the search index follows the modules' outbox.
pub async fn serve(
    listener: tokio::net::TcpListener,
    st: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let indexer = tokio::spawn(st.search.clone().run_worker(
        st.db.clone(),
        std::time::Duration::from_millis(500),
        stop_rx,
    ));
    let app = router(st);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_tx.send(true);
    let _ = indexer.await;
    served
}
