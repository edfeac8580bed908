//! A module's route table: every route with its method, path, kind (page, API, machine) and
//! who may call it. The router is built from the table, the platform enforces the access
//! rule before the handler runs (deny by default: a route cannot be added without one), the
//! OpenAPI paths come from its API entries, and one generic test walks the tables of all
//! modules (`crates/rathaus/tests/access.rs`). Services still check permissions themselves;
//! the table is the outer door, the service the inner one.

use crate::api::ApiError;
use crate::ctx::{Ctx, login_redirect};
use crate::errors::HtmlError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use rathaus_core::Error;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without signing in (public pages, the Open311 reads, public photos).
    Public,
    /// Anyone holding a secret the handler checks: a feed token in the URL, an Open311 API
    /// key. Without it the handler answers 404 or the format's own error.
    Secret,
    /// Every signed-in user, citizens included; the service decides what each one sees.
    SignedIn,
    /// Signed-in users holding at least one of these permissions (admins hold all).
    AnyOf(&'static [&'static str]),
}

/// Where a route is mounted, which decides its middleware (see `app::router`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// HTML pages and forms: session, CSRF, German error pages.
    Page,
    /// JSON under /api/v1: bearer tokens, RFC 9457 problems, documented in OpenAPI.
    Api,
    /// Feeds and standards APIs with their own authentication: tenant resolution only.
    Machine,
}

/// One row of a route table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// In axum's syntax, e.g. `/buchung/{id}`.
    pub path: String,
    pub kind: Kind,
    pub access: Access,
}

/// A route table under construction, with the routers built from it.
pub struct Routes {
    pub(crate) pages: Router<AppState>,
    pub(crate) api: OpenApiRouter<AppState>,
    pub(crate) machine: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            pages: Router::new(),
            api: OpenApiRouter::new(),
            machine: Router::new(),
            table: vec![],
        }
    }

    /// The table: one row per method and path.
    pub fn table(&self) -> &[RouteInfo] {
        &self.table
    }

    /// A page or form route.
    pub fn page<H, T>(self, method: Method, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Kind::Page, method, path, access, h)
    }

    /// A machine route (feed, standards API).
    pub fn machine<H, T>(self, method: Method, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Kind::Machine, method, path, access, h)
    }

    /// `page(GET, …)`.
    pub fn get<H, T>(self, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.page(Method::GET, path, access, h)
    }

    /// `page(POST, …)`.
    pub fn post<H, T>(self, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.page(Method::POST, path, access, h)
    }

    /// An API route from utoipa's `routes!(handler)`: method and path come from the
    /// handler's `#[utoipa::path]`, so the table and the OpenAPI document cannot disagree.
    pub fn api(mut self, access: Access, r: UtoipaMethodRouter<AppState>) -> Self {
        let (schemas, paths, mr) = r;
        for (path, item) in paths.paths.iter() {
            for method in methods_of(item) {
                self.table.push(RouteInfo {
                    method,
                    path: path.clone(),
                    kind: Kind::Api,
                    access,
                });
            }
        }
        let mr = guard(mr, Kind::Api, access);
        self.api = self.api.routes((schemas, paths, mr));
        self
    }

    /// Adds another table (e.g. one per file of a module's `http/`).
    pub fn merge(mut self, other: Routes) -> Self {
        self.pages = self.pages.merge(other.pages);
        self.api = self.api.merge(other.api);
        self.machine = self.machine.merge(other.machine);
        self.table.extend(other.table);
        self
    }

    /// Hands a value (the module's state, built once at start) to every route added so
    /// far; handlers take it with `Extension<T>`. Call it last.
    pub fn with_state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        let ext = axum::Extension(value);
        self.pages = self.pages.layer(ext.clone());
        self.api = self.api.layer(ext.clone());
        self.machine = self.machine.layer(ext);
        self
    }

    fn add<H, T>(
        mut self,
        kind: Kind,
        method: Method,
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let Ok(filter) = MethodFilter::try_from(method.clone()) else {
            // Only the standard methods are routable; a route table naming another is a
            // programming error caught by the first test that builds it.
            panic!("unsupported method {method} for {path}");
        };
        let mr = guard(on(filter, h), kind, access);
        match kind {
            Kind::Page => self.pages = self.pages.route(path, mr),
            Kind::Machine => self.machine = self.machine.route(path, mr),
            Kind::Api => self.api = self.api.route(path, mr),
        }
        self.table.push(RouteInfo {
            method,
            path: path.to_string(),
            kind,
            access,
        });
        self
    }
}

fn methods_of(item: &utoipa::openapi::path::PathItem) -> Vec<Method> {
    [
        (item.get.is_some(), Method::GET),
        (item.post.is_some(), Method::POST),
        (item.put.is_some(), Method::PUT),
        (item.patch.is_some(), Method::PATCH),
        (item.delete.is_some(), Method::DELETE),
        (item.head.is_some(), Method::HEAD),
        (item.options.is_some(), Method::OPTIONS),
    ]
    .into_iter()
    .filter_map(|(on, m)| on.then_some(m))
    .collect()
}

/// Wraps a route in the check of its access rule.
fn guard(mr: MethodRouter<AppState>, kind: Kind, access: Access) -> MethodRouter<AppState> {
    match (kind, access) {
        (_, Access::Public | Access::Secret) => mr,
        (Kind::Page, _) => mr.route_layer(from_fn(move |req: Request, next: Next| {
            page_guard(access, req, next)
        })),
        (Kind::Api | Kind::Machine, _) => {
            mr.route_layer(from_fn(move |req: Request, next: Next| {
                api_guard(access, req, next)
            }))
        }
    }
}

fn permitted(p: &rathaus_core::Principal, access: Access) -> bool {
    match access {
        Access::Public | Access::Secret | Access::SignedIn => true,
        Access::AnyOf(perms) => perms.iter().any(|x| p.has(x)),
    }
}

async fn page_guard(access: Access, req: Request, next: Next) -> Response {
    let ctx = req.extensions().get::<Ctx>();
    match ctx.and_then(Ctx::staff) {
        None => login_redirect(req.method(), req.uri()).into_response(),
        Some(p) if !permitted(p, access) => HtmlError(Error::Forbidden).into_response(),
        Some(_) => next.run(req).await,
    }
}

async fn api_guard(access: Access, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let st = parts.extensions.get::<AppState>().cloned();
    let Some(st) = st else {
        return ApiError(Error::Unauthenticated).into_response();
    };
    match crate::api::ApiUser::from_request_parts(&mut parts, &st).await {
        Err(e) => e.into_response(),
        Ok(u) if !permitted(&u.0, access) => ApiError(Error::Forbidden).into_response(),
        Ok(u) => {
            // The handler's `ApiUser` takes it from here instead of asking the database again.
            parts.extensions.insert(u);
            next.run(Request::from_parts(parts, body)).await
        }
    }
}
