//! The web layer: router assembly, tenant resolution, sessions, CSRF, security headers,
//! layout templates, static assets, i18n, the JSON API with its OpenAPI document, operations
//! endpoints, and error pages. Module crates mount their routers here.

pub mod api;
pub mod app;
pub mod assets;
pub mod conditional;
pub mod ctx;
pub mod errors;
pub mod export;
pub mod forms;
pub mod i18n;
pub mod input;
pub mod layout;
pub mod live;
pub mod markdown;
pub mod metrics;
pub mod module;
pub mod ops;
pub mod pages;
pub mod ratelimit;
pub mod routes;
pub mod search;
pub mod security;
pub mod state;
pub mod todos;

pub use app::{router, serve};
pub use module::Module;
pub use routes::{Access, Kind, RouteInfo, Routes};
pub use state::{AppState, WebConfig};
