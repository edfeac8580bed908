//! A per-tenant generation counter for in-process caches of public answers (Open311 lists,
//! map GeoJSON). Every write of this process bumps it, so this process never serves its own
//! stale answer; other `serve` processes behind a load balancer see a change once their
//! cache entry expires (`TTL`). ADR 0006 explains the trade-off.

use rathaus_core::TenantId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long another process may serve an answer from before a change.
pub const TTL: Duration = Duration::from_secs(10);

fn generations() -> &'static Mutex<HashMap<i64, u64>> {
    static G: OnceLock<Mutex<HashMap<i64, u64>>> = OnceLock::new();
    G.get_or_init(Default::default)
}

/// The tenant's current generation.
pub fn generation(tenant: TenantId) -> u64 {
    generations()
        .lock()
        .map(|g| g.get(&tenant.0).copied().unwrap_or(0))
        .unwrap_or(0)
}

/// Marks every cached answer of the tenant as stale (after a committed change).
pub fn bump(tenant: TenantId) {
    if let Ok(mut g) = generations().lock() {
        *g.entry(tenant.0).or_insert(0) += 1;
    }
}
