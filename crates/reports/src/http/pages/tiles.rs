//! Map tiles through our own server: `/maengel/kacheln/{z}/{x}/{y}.png` fetches the tile from
//! the tenant's configured tile server (default OpenStreetMap) and caches it. Citizens'
//! browsers therefore never contact a third party (their IP address stays with the
//! municipality) and the Content-Security-Policy stays `img-src 'self'`. Only tiles that
//! overlap the tenant's boundary are fetched, so the route is no open proxy. When the tile
//! server cannot be reached the route answers 502 at once for a minute; the map pages work
//! without tiles (address field, list).

use crate::service;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rathaus_web::AppState;
use rathaus_web::ctx::Ctx;
use std::sync::Arc;

/// The template Leaflet gets: tiles from this server.
pub const URL_TEMPLATE: &str = "/maengel/kacheln/{z}/{x}/{y}.png";
pub const MAX_ZOOM: u32 = 19;
/// The longitude/latitude box of a tile (slippy map numbering).
pub fn tile_bounds(z: u32, x: u32, y: u32) -> (f64, f64, f64, f64) {
    let n = f64::from(1u32 << z);
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| {
        (std::f64::consts::PI * (1.0 - 2.0 * y / n))
            .sinh()
            .atan()
            .to_degrees()
    };
    let (x, y) = (f64::from(x), f64::from(y));
    (lon(x), lat(y + 1.0), lon(x + 1.0), lat(y))
}

/// Whether a tile is a real one and lies over the area (min_lat, min_lon, max_lat, max_lon)
/// widened by a margin of one degree-ish at low zoom levels.
pub fn allowed(z: u32, x: u32, y: u32, area: Option<(f64, f64, f64, f64)>) -> bool {
    if z > MAX_ZOOM || x >= (1u32 << z) || y >= (1u32 << z) {
        return false;
    }
    let Some((min_lat, min_lon, max_lat, max_lon)) = area else {
        return true;
    };
    let margin = 0.05;
    let (w, s, e, n) = tile_bounds(z, x, y);
    !(e < min_lon - margin || w > max_lon + margin || n < min_lat - margin || s > max_lat + margin)
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

pub(crate) async fn tile(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<service::ReportsState>>,
    ctx: axum::Extension<Ctx>,
    Path((z, x, y)): Path<(String, String, String)>,
) -> Response {
    let Some(tenant) = ctx.tenant_id() else {
        return not_found();
    };
    let (Ok(z), Ok(x), Some(Ok(y))) = (
        z.parse::<u32>(),
        x.parse::<u32>(),
        y.strip_suffix(".png").map(str::parse::<u32>),
    ) else {
        return not_found();
    };
    let Ok(settings) = service::settings(&st.db.conn, tenant).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let template = settings.tile_url.trim().to_string();
    if template.is_empty() {
        return not_found();
    }
    let area = match service::boundary_of(&state, &settings) {
        Ok(b) => b.map(|b| b.bbox()),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if !allowed(z, x, y, area) {
        return not_found();
    }
    match state.tiles.get(&template, z, x, y).await {
        Some((mime, bytes)) => image(mime, bytes),
        None => StatusCode::BAD_GATEWAY.into_response(),
    }
}

fn image(mime: &'static str, bytes: Vec<u8>) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_tiles_over_the_area_are_allowed() {
        let area = Some((51.38, 7.13, 51.43, 7.26));
        // Zoom 0: the one world tile covers everything.
        assert!(allowed(0, 0, 0, area));
        assert!(!allowed(0, 1, 0, area));
        assert!(!allowed(20, 0, 0, None));
        // Zoom 15 tile over Beispielstadt (7.2°E, 51.41°N) and one over Berlin.
        let n = f64::from(1u32 << 15);
        let x = ((7.2 + 180.0) / 360.0 * n) as u32;
        let lat = 51.41f64.to_radians();
        let y =
            ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
        assert!(allowed(15, x, y, area));
        let bx = ((13.4 + 180.0) / 360.0 * n) as u32;
        assert!(!allowed(15, bx, y, area));
        let (w, s, e, nn) = tile_bounds(15, x, y);
        assert!(w <= 7.2 && 7.2 <= e && s <= 51.41 && 51.41 <= nn);
    }
}
