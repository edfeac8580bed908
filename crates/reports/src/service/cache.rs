//! A per-tenant generation counter for in-process caches of public answers (Open311 lists,
//! map GeoJSON). Every write of this process bumps it, so this process never serves its own
//! stale answer; other `serve` processes behind a load balancer see a change once their
//! cache entry expires (`TTL`). ADR 0006 explains the trade-off.

use bytes::Bytes;
use rathaus_core::TenantId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Bytes each kind of cached answer may hold per process.
pub const MAX_BYTES: usize = 24 * 1024 * 1024;

/// How long another process may serve an answer from before a change.
pub const TTL: Duration = Duration::from_secs(10);

/// The tenants' generations, held by the module's state.
#[derive(Default)]
pub struct Generations(Mutex<HashMap<i64, u64>>);

impl Generations {
    /// The tenant's current generation.
    pub fn of(&self, tenant: TenantId) -> u64 {
        self.0
            .lock()
            .map(|g| g.get(&tenant.0).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Marks every cached answer of the tenant as stale (after a committed change).
    pub fn bump(&self, tenant: TenantId) {
        if let Ok(mut g) = self.0.lock() {
            *g.entry(tenant.0).or_insert(0) += 1;
        }
    }
}

/// Rendered public answers (Open311 lists, map GeoJSON) of one kind, bounded by bytes.
/// An answer is fresh while the tenant's generation is unchanged and it is younger than
/// [`TTL`]; one request per key recomputes an expired answer while the others get the expired
/// one (same generation, younger than 2 × TTL), so the expiry never makes a crowd wait.
pub struct Answers {
    max_bytes: usize,
    inner: Mutex<AnswersInner>,
}

struct Answer {
    generation: u64,
    at: std::time::Instant,
    body: Bytes,
}

#[derive(Default)]
struct AnswersInner {
    entries: HashMap<String, Answer>,
    bytes: usize,
    /// One computation per key at a time.
    flights: HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>,
}

impl Answers {
    pub fn new(max_bytes: usize) -> Answers {
        Answers {
            max_bytes,
            inner: Mutex::new(AnswersInner {
                entries: HashMap::new(),
                bytes: 0,
                flights: HashMap::new(),
            }),
        }
    }

    fn lookup(&self, key: &str, generation: u64, max_age: Duration) -> Option<Bytes> {
        let c = self.inner.lock().ok()?;
        c.entries
            .get(key)
            .filter(|e| e.generation == generation && e.at.elapsed() < max_age)
            .map(|e| e.body.clone())
    }

    fn put(&self, key: String, generation: u64, body: Bytes) {
        let Ok(mut c) = self.inner.lock() else {
            return;
        };
        if body.len() > self.max_bytes / 4 {
            return;
        }
        if let Some(old) = c.entries.remove(&key) {
            c.bytes -= old.body.len();
        }
        if c.bytes + body.len() > self.max_bytes {
            // Dropping everything is crude but bounded and cheap; hot answers return at once.
            c.entries.clear();
            c.bytes = 0;
        }
        c.bytes += body.len();
        c.entries.insert(
            key,
            Answer {
                generation,
                at: std::time::Instant::now(),
                body,
            },
        );
    }

    fn flight(&self, key: &str) -> Option<std::sync::Arc<tokio::sync::Mutex<()>>> {
        let mut c = self.inner.lock().ok()?;
        if c.flights.len() >= 1024 {
            c.flights.retain(|_, m| std::sync::Arc::strong_count(m) > 1);
        }
        Some(c.flights.entry(key.to_string()).or_default().clone())
    }

    /// The cached answer for `key` of the tenant's current generation, or the one `compute`
    /// renders (then cached). Errors are not cached.
    pub async fn get_or_compute<E, F>(
        &self,
        generations: &Generations,
        tenant: TenantId,
        key: &str,
        compute: F,
    ) -> Result<Bytes, E>
    where
        F: std::future::Future<Output = Result<Bytes, E>>,
    {
        let key = format!("{}|{key}", tenant.0);
        let generation = generations.of(tenant);
        if let Some(b) = self.lookup(&key, generation, TTL) {
            return Ok(b);
        }
        let lock = self.flight(&key);
        let _guard = match &lock {
            Some(l) => match l.try_lock() {
                Ok(g) => Some(g),
                Err(_) => {
                    if let Some(b) = self.lookup(&key, generation, 2 * TTL) {
                        return Ok(b);
                    }
                    Some(l.lock().await)
                }
            },
            None => None,
        };
        if let Some(b) = self.lookup(&key, generation, TTL) {
            return Ok(b);
        }
        let body = compute.await?;
        self.put(key, generation, body.clone());
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_are_reused_until_a_change_and_bounded_by_bytes() {
        let a = Answers::new(1000);
        let g = Generations::default();
        let t = TenantId(987_654);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let compute = |n: usize| {
            let calls = &calls;
            async move {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok::<_, ()>(Bytes::from(vec![b'x'; n]))
            }
        };
        assert_eq!(
            a.get_or_compute(&g, t, "k", compute(100))
                .await
                .unwrap()
                .len(),
            100
        );
        assert_eq!(
            a.get_or_compute(&g, t, "k", compute(100))
                .await
                .unwrap()
                .len(),
            100
        );
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        g.bump(t);
        a.get_or_compute(&g, t, "k", compute(100)).await.unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        // Past the byte bound the cache starts afresh instead of growing.
        for i in 0..20 {
            a.get_or_compute(&g, t, &format!("k{i}"), compute(200))
                .await
                .unwrap();
        }
        let bytes = a.inner.lock().unwrap().bytes;
        assert!(bytes <= 1000, "{bytes}");
        // Errors are not kept.
        assert!(
            a.get_or_compute(&g, t, "e", async { Err::<Bytes, _>(()) })
                .await
                .is_err()
        );
        assert!(a.lookup(&format!("{}|e", t.0), g.of(t), TTL).is_none());
    }
}
