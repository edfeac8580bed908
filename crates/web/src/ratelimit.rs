//! The one in-memory rate limiter of the platform: a sliding window of hits per tenant and
//! key (a client address, an API key's hash, `folgen:` and an address, …), with the limit
//! given per call so that each API key can have its own. A module keeps one per purpose in
//! its state. Per process: behind several instances each counts alone, which is enough to
//! stop floods (login throttling, which must hold across instances, is in the database).

use rathaus_core::TenantId;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before idle ones are dropped, so a flood of new addresses cannot grow memory
/// without bound.
const PRUNE_AT: usize = 10_000;

pub struct RateLimiter {
    window: Duration,
    hits: Mutex<HashMap<(i64, String), VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(window: Duration) -> Self {
        RateLimiter {
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Whether one more hit would stay within `limit` (does not count it).
    pub fn allows(&self, tenant: TenantId, key: &str, limit: usize) -> bool {
        self.with(tenant, key, Instant::now(), |q| q.len() < limit)
    }

    /// Counts a hit (e.g. after the request succeeded).
    pub fn record(&self, tenant: TenantId, key: &str) {
        let now = Instant::now();
        self.with(tenant, key, now, |q| q.push_back(now));
    }

    /// Counts a hit when it stays within `limit`; false (and not counted) when it does not.
    pub fn hit(&self, tenant: TenantId, key: &str, limit: usize) -> bool {
        let now = Instant::now();
        self.with(tenant, key, now, |q| {
            let ok = q.len() < limit;
            if ok {
                q.push_back(now);
            }
            ok
        })
    }

    fn with<R>(
        &self,
        tenant: TenantId,
        key: &str,
        now: Instant,
        f: impl FnOnce(&mut VecDeque<Instant>) -> R,
    ) -> R {
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still usable.
        let mut h = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let window = self.window;
        if h.len() > PRUNE_AT {
            h.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = h.entry((tenant.0, key.to_string())).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        f(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_tenant_and_key_within_the_window() {
        let r = RateLimiter::new(Duration::from_secs(60));
        let (a, b) = (TenantId(1), TenantId(2));
        assert!(r.hit(a, "1.2.3.4", 2));
        assert!(r.hit(a, "1.2.3.4", 2));
        assert!(!r.hit(a, "1.2.3.4", 2), "the third hit is over the limit");
        assert!(r.hit(a, "5.6.7.8", 2), "another key counts alone");
        assert!(r.hit(b, "1.2.3.4", 2), "another tenant counts alone");
        assert!(!r.allows(a, "1.2.3.4", 2));
        assert!(r.allows(a, "1.2.3.4", 3), "a higher limit for the same key");
    }

    #[test]
    fn hits_expire_after_the_window() {
        let r = RateLimiter::new(Duration::from_millis(30));
        let t = TenantId(1);
        r.record(t, "k");
        assert!(!r.allows(t, "k", 1));
        std::thread::sleep(Duration::from_millis(40));
        assert!(r.allows(t, "k", 1));
    }
}
