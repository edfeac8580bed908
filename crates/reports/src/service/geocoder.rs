//! An optional Nominatim-compatible geocoder, asked on the server when the tenant's street
//! directory does not know a typed address (`geocoder_url` in the settings, e.g.
//! `https://nominatim.example.org/search`). The search is bounded to the tenant's boundary box.
//! The citizen's browser never talks to it.

use rathaus_store::outbound;
use std::time::Duration;

/// A geocoder's answer for one place is small; anything larger is not one.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

#[derive(serde::Deserialize)]
struct Place {
    lat: String,
    lon: String,
}

/// The first hit for `text`, as (lat, lon); None when the geocoder fails or finds nothing.
/// `area` is (min_lat, min_lon, max_lat, max_lon).
pub async fn geocode(
    url: &str,
    text: &str,
    area: Option<(f64, f64, f64, f64)>,
) -> Option<(f64, f64)> {
    let mut q: Vec<(&str, String)> = vec![
        ("q", text.to_string()),
        ("format", "jsonv2".into()),
        ("limit", "1".into()),
        ("countrycodes", "de".into()),
    ];
    if let Some((min_lat, min_lon, max_lat, max_lon)) = area {
        q.push((
            "viewbox",
            format!("{min_lon},{max_lat},{max_lon},{min_lat}"),
        ));
        q.push(("bounded", "1".into()));
    }
    let res = match outbound::get(url, &q, Duration::from_secs(4), MAX_ANSWER_BYTES).await {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e, "geocoder not reached");
            return None;
        }
    };
    if !(200..300).contains(&res.status) {
        tracing::info!(status = res.status, "geocoder refused");
        return None;
    }
    let places: Vec<Place> = serde_json::from_slice(&res.body).ok()?;
    let p = places.first()?;
    let lat = p.lat.trim().parse::<f64>().ok()?;
    let lon = p.lon.trim().parse::<f64>().ok()?;
    crate::domain::geo::Point::new(lat, lon)
        .ok()
        .map(|_| (lat, lon))
}
