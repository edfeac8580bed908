//! Map tiles fetched from a tenant's tile server, cached in the module's state. Only the
//! caller decides which tiles may be fetched (`http::pages::tiles::allowed`).

use rathaus_store::outbound;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CACHE_ENTRIES: usize = 4096;
const CACHE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_TILE_BYTES: usize = 1024 * 1024;
/// A tile server that failed is not asked again for this long.
const DOWN_FOR: Duration = Duration::from_secs(60);

/// (tile URL template, z, x, y).
type Key = (String, u32, u32, u32);

#[derive(Default)]
struct Inner {
    tiles: HashMap<Key, (Instant, &'static str, Vec<u8>)>,
    /// Tile servers that failed recently, with the time of the failure.
    down: HashMap<String, Instant>,
}

/// The tiles of every tenant's tile server, bounded by entries.
#[derive(Default)]
pub struct TileCache(Mutex<Inner>);

/// A tile: its media type and bytes; None when the tile server is down or refused.
pub type Tile = Option<(&'static str, Vec<u8>)>;

impl TileCache {
    /// The tile from the cache or from the tile server (`template` with `{z}`, `{x}`, `{y}`
    /// and `{s}`).
    pub async fn get(&self, template: &str, z: u32, x: u32, y: u32) -> Tile {
        let key = (template.to_string(), z, x, y);
        if let Ok(c) = self.0.lock() {
            if let Some((at, mime, bytes)) = c.tiles.get(&key)
                && at.elapsed() < CACHE_TTL
            {
                return Some((mime, bytes.clone()));
            }
            if c.down
                .get(template)
                .is_some_and(|at| at.elapsed() < DOWN_FOR)
            {
                return None;
            }
        }
        let url = template
            .replace("{z}", &z.to_string())
            .replace("{x}", &x.to_string())
            .replace("{y}", &y.to_string())
            .replace("{s}", "a");
        match fetch(&url).await {
            Some((mime, bytes)) => {
                if let Ok(mut c) = self.0.lock() {
                    if c.tiles.len() >= CACHE_ENTRIES {
                        c.tiles.clear();
                    }
                    c.tiles.insert(key, (Instant::now(), mime, bytes.clone()));
                }
                Some((mime, bytes))
            }
            None => {
                if let Ok(mut c) = self.0.lock() {
                    c.down.insert(template.to_string(), Instant::now());
                }
                None
            }
        }
    }
}

/// The tile from the tile server, through the platform's guarded client (no internal
/// addresses, short timeout, size limit).
async fn fetch(url: &str) -> Tile {
    let res = match outbound::get(url, &[], Duration::from_secs(5), MAX_TILE_BYTES).await {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(%url, error = %e, "tile server not reached");
            return None;
        }
    };
    if !(200..300).contains(&res.status) {
        tracing::info!(%url, status = res.status, "tile server refused");
        return None;
    }
    let mime = match res.content_type.as_str() {
        t if t.starts_with("image/png") => "image/png",
        t if t.starts_with("image/jpeg") => "image/jpeg",
        t if t.starts_with("image/webp") => "image/webp",
        _ => return None,
    };
    Some((mime, res.body))
}
