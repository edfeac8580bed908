//! Operations endpoints: liveness, readiness, Prometheus metrics. Not tenant-scoped.

use crate::metrics::{LatencyLabels, RouteLabels};
use crate::state::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::time::Instant;
use subtle::ConstantTimeEq;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(st): State<AppState>) -> Response {
    if st.db.ping().await {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

/// Loopback clients may read metrics; others need the configured bearer token.
pub async fn metrics(State(st): State<AppState>, req: Request) -> Response {
    let headers: &HeaderMap = req.headers();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>();
    let loopback =
        peer.is_some_and(|p| p.0.ip().is_loopback()) && headers.get("x-forwarded-for").is_none();
    let token_ok = st.cfg.metrics_token.as_deref().is_some_and(|t| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                given.len() == t.len() && bool::from(given.as_bytes().ct_eq(t.as_bytes()))
            })
    });
    if !(loopback || token_ok) {
        return (StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    if let Some(pool) = pool_state(&st) {
        st.metrics.pool_size.set(pool.0);
        st.metrics.pool_idle.set(pool.1);
    }
    let mut res = st.metrics.encode().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}

fn pool_state(st: &AppState) -> Option<(i64, i64)> {
    use rathaus_store::Backend;
    match st.db.backend {
        Backend::Sqlite => {
            let p = st.db.conn.get_sqlite_connection_pool();
            Some((p.size() as i64, p.num_idle() as i64))
        }
        Backend::Postgres => {
            let p = st.db.conn.get_postgres_connection_pool();
            Some((p.size() as i64, p.num_idle() as i64))
        }
    }
}

/// Counts and times every request by its route pattern (never the raw path: ids would
/// explode the label set).
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    st.metrics
        .latency
        .get_or_create(&LatencyLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    st.metrics
        .requests
        .get_or_create(&RouteLabels {
            method,
            route,
            status: res.status().as_u16(),
        })
        .inc();
    res
}
