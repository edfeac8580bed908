//! An S3-compatible server for the file service's tests: `scripts/test` starts moto on
//! 127.0.0.1 and exports `RATHAUS_TEST_S3_ENDPOINT`. Each test gets a bucket of its own.

use rathaus_store::files::S3Config;
use std::sync::atomic::{AtomicUsize, Ordering};

static BUCKETS: AtomicUsize = AtomicUsize::new(0);

/// The test server's endpoint. Unset, S3 tests are skipped with a note, except in CI (`CI`
/// set), where that is an error, as for PostgreSQL.
pub fn endpoint() -> Option<String> {
    match std::env::var("RATHAUS_TEST_S3_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim().trim_end_matches('/').to_string()),
        _ if std::env::var_os("CI").is_some() => {
            panic!("RATHAUS_TEST_S3_ENDPOINT is not set, and CI must test the S3 backend")
        }
        _ => {
            eprintln!(
                "note: RATHAUS_TEST_S3_ENDPOINT is not set; skipping the S3 backend (scripts/test starts one)"
            );
            None
        }
    }
}

/// A fresh, empty bucket on the test server (created with a plain S3 `PUT /<bucket>`), or
/// None when there is no test server (see `endpoint`).
pub async fn bucket() -> Option<S3Config> {
    let endpoint = endpoint()?;
    let bucket = format!(
        "rathaus-test-{}-{}-{}",
        std::process::id(),
        BUCKETS.fetch_add(1, Ordering::SeqCst),
        uuid_part()
    );
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("S3 test server (RATHAUS_TEST_S3_ENDPOINT) does not answer");
    assert!(
        r.status().is_success(),
        "cannot create bucket {bucket}: {}",
        r.status()
    );
    Some(S3Config {
        endpoint: Some(endpoint),
        bucket,
        region: "us-east-1".into(),
        access_key_id: "rathaus-test".into(),
        secret_access_key: "rathaus-test-secret".into(),
        path_style: true,
    })
}

/// Multipart uploads still open in the bucket (begun, neither completed nor aborted).
pub async fn open_multipart_uploads(cfg: &S3Config) -> usize {
    let endpoint = cfg
        .endpoint
        .as_deref()
        .expect("test bucket has an endpoint");
    let body = reqwest::Client::new()
        .get(format!("{endpoint}/{}?uploads", cfg.bucket))
        .send()
        .await
        .expect("list multipart uploads")
        .text()
        .await
        .expect("list body");
    body.matches("<Upload>").count()
}

fn uuid_part() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{nanos:x}")
}
