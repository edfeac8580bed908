//! Where the bytes live: a directory on the local disk or an S3-compatible bucket, both
//! through `object_store`, and the object keys of the service.

use object_store::ObjectStore;
use object_store::path::Path as Key;
use rathaus_core::{Error, Result, TenantId};
use std::path::PathBuf;
use std::sync::Arc;

/// The storage the file service writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesConfig {
    /// A directory on the local disk (`<data_dir>/files`), the default.
    Disk { root: PathBuf },
    /// An S3-compatible bucket.
    S3(S3Config),
    /// In the process's memory, lost at exit: for tests and apps built without a data
    /// directory.
    Memory,
}

/// An S3-compatible bucket (AWS, MinIO, Ceph RGW, Garage, a hoster's object storage).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `https://s3.example.net`; None means AWS itself (the endpoint follows from the region).
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO and most
    /// self-hosted servers need it).
    pub path_style: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"…")
            .field("path_style", &self.path_style)
            .finish()
    }
}

/// Which backend a store is, for logs, backups and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Disk(PathBuf),
    S3 { bucket: String },
    Memory,
}

pub(super) fn open(cfg: &FilesConfig) -> Result<(Arc<dyn ObjectStore>, Location)> {
    match cfg {
        FilesConfig::Memory => Ok((
            Arc::new(object_store::memory::InMemory::new()),
            Location::Memory,
        )),
        FilesConfig::Disk { root } => {
            std::fs::create_dir_all(root)
                .map_err(|e| Error::internal(format!("cannot create {}: {e}", root.display())))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(root)
                .map_err(Error::internal_from)?
                // A stored file is durable when `put` returns, like on S3.
                .with_fsync(true)
                .with_automatic_cleanup(true);
            Ok((Arc::new(store), Location::Disk(root.clone())))
        }
        FilesConfig::S3(c) => {
            // reqwest's rustls (object_store's HTTP client) takes the process-wide crypto
            // provider; ring, like the rest of the workspace. Installing it twice is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let mut b = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(&c.bucket)
                .with_region(&c.region)
                .with_access_key_id(&c.access_key_id)
                .with_secret_access_key(&c.secret_access_key)
                .with_virtual_hosted_style_request(!c.path_style)
                .with_retry(object_store::RetryConfig {
                    max_retries: 4,
                    retry_timeout: std::time::Duration::from_secs(60),
                    ..Default::default()
                });
            if let Some(e) = &c.endpoint {
                b = b
                    .with_endpoint(e.trim_end_matches('/'))
                    .with_allow_http(e.starts_with("http://"));
            }
            let store = b.build().map_err(Error::internal_from)?;
            Ok((
                Arc::new(store),
                Location::S3 {
                    bucket: c.bucket.clone(),
                },
            ))
        }
    }
}

/// `t/<tenant>/sha256/<ab>/<cd>/<hash>`: the content address.
pub(super) fn content_key(tenant: TenantId, sha256: &str) -> Key {
    Key::from(format!(
        "t/{}/sha256/{}/{}/{sha256}",
        tenant.0,
        &sha256[0..2],
        &sha256[2..4]
    ))
}

/// `t/<tenant>/sha256/`: the tenant's contents.
pub(super) fn content_prefix(tenant: TenantId) -> Key {
    Key::from(format!("t/{}/sha256", tenant.0))
}

/// `t/<tenant>/tmp/`: uploads in progress (or left by a crash; the collector removes them).
pub(super) fn tmp_prefix(tenant: TenantId) -> Key {
    Key::from(format!("t/{}/tmp", tenant.0))
}

pub(super) fn tmp_key(tenant: TenantId) -> Key {
    Key::from(format!(
        "t/{}/tmp/{}",
        tenant.0,
        uuid::Uuid::new_v4().simple()
    ))
}

/// The hash in a content key (its last part), if it is one.
pub(super) fn sha256_of(key: &Key) -> Option<String> {
    let name = key.filename()?;
    (name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| name.to_string())
}
