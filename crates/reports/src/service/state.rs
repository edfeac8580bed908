//! The module's state, built once at start (`Reports::new`) and handed to the handlers
//! (`Routes::with_state`), the services and the jobs: in-process caches and the rate
//! limits. Per process; behind several instances each keeps its own (ADR 0006).

use crate::domain::geo::Boundary;
use crate::domain::streets::Directory;
use crate::service::cache::{Answers, Generations, MAX_BYTES};
use chrono::{DateTime, Utc};
use rathaus_web::ratelimit::RateLimiter;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Reports one client address may send per window (in memory, per process).
pub const RATE_LIMIT: usize = 10;
/// How long the per-address limits of the public form count.
pub const RATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// A tenant's street directory: when it was loaded, its rows then, the index.
pub(crate) type CachedDirectory = (Instant, u64, Arc<Directory>);
/// A tenant's boundary with the settings' `updated_at` it was parsed from.
pub(crate) type CachedBoundary = (DateTime<Utc>, Option<Arc<Boundary>>);

pub struct ReportsState {
    /// Bumped by every committed change, so this process never serves its own stale answer.
    pub generations: Generations,
    /// Rendered Open311 lists.
    pub open311_answers: Answers,
    /// Rendered GeoJSON of the public map.
    pub map_answers: Answers,
    /// Map tiles fetched from the tenants' tile servers.
    pub tiles: crate::service::tiles::TileCache,
    /// The tenants' street directories in memory: (loaded at, rows, directory).
    pub(crate) directories: Mutex<HashMap<i64, CachedDirectory>>,
    /// The tenants' parsed boundaries, with the settings' `updated_at` they were parsed from.
    pub(crate) boundaries: Mutex<HashMap<i64, CachedBoundary>>,
    /// Reports and follow requests per client address (public form), per [`RATE_WINDOW`].
    pub public_limits: RateLimiter,
    /// Open311 requests per API key, per minute (each key has its own limit).
    pub api_key_limits: RateLimiter,
    /// Spent proofs of work so far, to clean up expired ones now and then.
    pub(crate) pow_spends: AtomicU64,
    /// When the last report with photos was accepted (ms since `started`): the background
    /// re-encoding waits for a quiet moment, so that a burst of submissions gets the cores.
    pub(crate) last_photo_submission: AtomicU64,
    pub(crate) started: Instant,
}

/// How long no photo submission must have come in before a photo is re-encoded.
const QUIET: Duration = Duration::from_millis(300);
/// The longest a re-encoding waits for quiet (a steady stream of submissions still gets its
/// photos cleaned).
const MAX_WAIT: Duration = Duration::from_secs(10);

impl ReportsState {
    /// Notes that a report with photos was just accepted.
    pub(crate) fn photo_submitted(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_photo_submission
            .store(ms.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits until no photo submission came in for [`QUIET`], at most [`MAX_WAIT`].
    pub(crate) async fn quiet_for_photos(&self) {
        let give_up = Instant::now() + MAX_WAIT;
        loop {
            let last = self
                .last_photo_submission
                .load(std::sync::atomic::Ordering::Relaxed);
            let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let quiet_ms = u64::try_from(QUIET.as_millis()).unwrap_or(u64::MAX);
            if last == 0 || now.saturating_sub(last) >= quiet_ms || Instant::now() >= give_up {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Default for ReportsState {
    fn default() -> Self {
        ReportsState {
            generations: Generations::default(),
            open311_answers: Answers::new(MAX_BYTES),
            map_answers: Answers::new(MAX_BYTES),
            tiles: crate::service::tiles::TileCache::default(),
            directories: Mutex::default(),
            boundaries: Mutex::default(),
            public_limits: RateLimiter::new(RATE_WINDOW),
            api_key_limits: RateLimiter::new(Duration::from_secs(60)),
            pow_spends: AtomicU64::new(0),
            last_photo_submission: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}
