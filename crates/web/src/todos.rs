//! The start page's "what is due" items per user, kept for a short while (ADR 0021).
//!
//! Every module hook runs its own queries, so the items cost a dozen queries per visit of
//! `/staff`. They are kept per user for `TTL` and dropped for the whole tenant by any
//! request that may change data there (every method but GET, HEAD and OPTIONS, pages and API
//! alike): what a user just did shows at once; a change by someone else or by a job shows
//! within `TTL`.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::module::DashboardItem;

/// How long items are kept when nothing in the tenant changes through the app.
pub const TTL: Duration = Duration::from_secs(30);
/// More users than this (over all tenants) and the whole store is dropped: memory stays
/// bounded, and a busy installation only loses the reuse.
const MAX_USERS: usize = 50_000;

/// When the items were computed, the tenant's generation then, and the items.
type Entry = (Instant, u64, Vec<DashboardItem>);

#[derive(Default)]
pub struct TodoCache {
    /// By (tenant, user).
    items: RwLock<HashMap<(i64, i64), Entry>>,
    /// Bumped by every request that may change a tenant's data.
    generations: RwLock<HashMap<i64, u64>>,
}

impl TodoCache {
    /// The tenant's current generation: taken before the items are computed, so a change that
    /// commits meanwhile makes them stale rather than kept.
    pub fn generation(&self, tenant: i64) -> u64 {
        self.generations
            .read()
            .map(|g| g.get(&tenant).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The user's items, when computed less than `TTL` ago and nothing changed since.
    pub fn get(&self, tenant: i64, user: i64) -> Option<Vec<DashboardItem>> {
        let generation = self.generation(tenant);
        let items = self.items.read().ok()?;
        let (at, g, list) = items.get(&(tenant, user))?;
        (*g == generation && at.elapsed() < TTL).then(|| list.clone())
    }

    pub fn put(&self, tenant: i64, user: i64, generation: u64, list: Vec<DashboardItem>) {
        if let Ok(mut items) = self.items.write() {
            if items.len() >= MAX_USERS {
                items.clear();
            }
            items.insert((tenant, user), (Instant::now(), generation, list));
        }
    }

    /// Something in the tenant may have changed: every user's items are computed again.
    pub fn changed(&self, tenant: i64) {
        if let Ok(mut g) = self.generations.write() {
            *g.entry(tenant).or_default() += 1;
        }
    }
}

/// Whether a request with this method may change data.
pub fn may_change(method: &axum::http::Method) -> bool {
    !matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u64) -> Vec<DashboardItem> {
        vec![DashboardItem {
            text_key: "x",
            count: n,
            href: "/x".into(),
            overdue: false,
        }]
    }

    #[test]
    fn items_are_kept_per_user_until_the_tenant_changes() {
        let c = TodoCache::default();
        let g = c.generation(1);
        c.put(1, 10, g, item(3));
        assert_eq!(c.get(1, 10).map(|l| l[0].count), Some(3));
        assert!(c.get(1, 11).is_none(), "another user");
        assert!(c.get(2, 10).is_none(), "another tenant");
        c.changed(2);
        assert!(c.get(1, 10).is_some(), "a change elsewhere");
        c.changed(1);
        assert!(c.get(1, 10).is_none(), "a change in the tenant");
        // Computed before a change that committed meanwhile: not kept.
        let before = c.generation(1);
        c.changed(1);
        c.put(1, 10, before, item(4));
        assert!(c.get(1, 10).is_none());
    }
}
