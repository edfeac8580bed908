//! The audit log is append-only and hash-chained per tenant: each event's hash covers its own
//! content and the previous event's hash, so altering or removing a row breaks the chain.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hash of the (virtual) event before the first one of a tenant.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a service records. `actor` is None for the system (CLI, jobs) or an anonymous visitor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewEvent {
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub details: serde_json::Value,
}

impl NewEvent {
    pub fn new(action: &str, object_type: &str, object_id: Option<impl ToString>) -> Self {
        Self {
            action: action.into(),
            object_type: object_type.into(),
            object_id: object_id.map(|v| v.to_string()),
            details: serde_json::Value::Null,
        }
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Every field that the hash covers, in a fixed order.
pub struct ChainFields<'a> {
    pub tenant_id: i64,
    pub seq: i64,
    pub at: &'a str,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<&'a str>,
    pub details: &'a str,
    pub prev_hash: &'a str,
}

pub fn chain_hash(f: &ChainFields<'_>) -> String {
    // Length-prefixed fields make the encoding unambiguous.
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(&f.tenant_id.to_string());
    put(&f.seq.to_string());
    put(f.at);
    put(&f.actor_id.map(|a| a.to_string()).unwrap_or_default());
    put(f.actor_label);
    put(f.action);
    put(f.object_type);
    put(f.object_id.unwrap_or("\u{0}"));
    put(f.details);
    put(f.prev_hash);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_changes_with_any_field() {
        let base = ChainFields {
            tenant_id: 1,
            seq: 1,
            at: "2026-01-01T00:00:00Z",
            actor_id: Some(2),
            actor_label: "a",
            action: "login",
            object_type: "user",
            object_id: Some("2"),
            details: "{}",
            prev_hash: GENESIS_HASH,
        };
        let h = chain_hash(&base);
        assert_eq!(h.len(), 64);
        assert_ne!(h, chain_hash(&ChainFields { seq: 2, ..base }));
        assert_ne!(
            h,
            chain_hash(&ChainFields {
                object_id: None,
                ..base
            })
        );
        assert_ne!(
            h,
            chain_hash(&ChainFields {
                details: "{\"x\":1}",
                ..base
            })
        );
    }
}
