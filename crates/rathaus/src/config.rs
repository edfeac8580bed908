//! Configuration: defaults, then `rathaus.toml`, then `RATHAUS_*` environment variables; any
//! setting may also come from a file named by `RATHAUS_<SETTING>_FILE` (for secrets).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use rathaus_store::mail::{SmtpConfig, Tls};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    pub session_idle_minutes: u32,
    pub session_absolute_hours: u32,
    pub login_max_failures: u32,
    pub login_window_minutes: u32,
    pub metrics_token: Option<String>,
    pub trust_forwarded_headers: bool,
    pub request_timeout_seconds: u32,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_tls: Option<Tls>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_from: Option<String>,
    /// Tile servers and geocoders may use plain `http://` (operator only, never a tenant).
    pub outbound_allow_http: bool,
    /// Comma-separated hosts the server may fetch from although they are internal addresses.
    pub outbound_allow_hosts: String,
    /// Where the daily audit anchor (every tenant's chain head) is mailed, if anywhere.
    pub audit_anchor_mail: Option<String>,
    /// The largest upload the file service takes, in MB (until tenants have their own).
    pub files_max_upload_mb: u32,
    /// Bytes of distinct files a tenant may store, in MB; 0 means no quota.
    pub files_quota_mb: u64,
    /// An S3-compatible bucket for the stored files instead of `data_dir/files`.
    pub s3_bucket: Option<String>,
    /// `https://s3.example.net`; without it AWS itself (by region).
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO and most self-hosted).
    pub s3_path_style: bool,
    /// The E-Akte's consume folder: files dropped into `<dir>/<department>/` land in that
    /// department's inbox (with several tenants `<dir>/<tenant slug>/<department>/`).
    pub records_consume_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            log_format: LogFormat::Text,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_max_failures: 5,
            login_window_minutes: 15,
            metrics_token: None,
            trust_forwarded_headers: false,
            request_timeout_seconds: 30,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: None,
            smtp_username: None,
            smtp_password: None,
            smtp_from: None,
            outbound_allow_http: false,
            outbound_allow_hosts: String::new(),
            audit_anchor_mail: None,
            files_max_upload_mb: 25,
            files_quota_mb: 0,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_path_style: false,
            records_consume_dir: None,
        }
    }
}

/// The names of all settings, taken from the struct itself.
fn setting_names() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => vec![],
    }
}

/// Only `RATHAUS_<SETTING>` variables are read: tools around Rathaus (tests, scripts) use the
/// same prefix for their own variables. Unknown keys in rathaus.toml are still refused.
fn env_provider() -> Env {
    let names = setting_names();
    Env::prefixed("RATHAUS_")
        .filter(move |k| names.iter().any(|n| n.eq_ignore_ascii_case(k.as_str())))
}

/// Loads and checks the configuration. The error is one line naming the setting.
pub fn load(file: Option<&std::path::Path>) -> Result<Config, String> {
    let path = file
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("rathaus.toml"));
    if file.is_some() && !path.exists() {
        return Err(format!(
            "configuration file {} does not exist",
            path.display()
        ));
    }
    let mut fig = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file(&path))
        .merge(env_provider());
    // `RATHAUS_SMTP_PASSWORD_FILE=/run/secrets/smtp` sets smtp_password from that file.
    for (k, v) in std::env::vars() {
        let Some(name) = k
            .strip_prefix("RATHAUS_")
            .and_then(|n| n.strip_suffix("_FILE"))
        else {
            continue;
        };
        let key = name.to_ascii_lowercase();
        if !setting_names().contains(&key) {
            continue;
        }
        let content = std::fs::read_to_string(&v)
            .map_err(|e| format!("setting {key} (RATHAUS_{name}_FILE): cannot read {v}: {e}"))?;
        fig = fig.merge(Serialized::default(
            &key,
            content.trim_end_matches(['\n', '\r']).to_string(),
        ));
    }
    let cfg: Config = fig
        .extract()
        .map_err(|e| e.into_iter().next().map(describe).unwrap_or_default())?;
    cfg.check()?;
    Ok(cfg)
}

/// One line naming the setting, its environment variable and where the bad value came from.
fn describe(e: figment::Error) -> String {
    use figment::error::Kind;
    let source = e
        .metadata
        .as_ref()
        .map(|m| m.name.to_string())
        .unwrap_or_default();
    let source = if source.contains("environment") {
        "environment".to_string()
    } else {
        source
    };
    if let Kind::UnknownField(field, _) = &e.kind {
        return format!("unknown setting `{field}` in {source}");
    }
    // The path may start with the profile name ("default").
    let key = e
        .path
        .iter()
        .filter(|p| p.as_str() != "default")
        .cloned()
        .collect::<Vec<_>>()
        .join(".");
    if key.is_empty() {
        return format!("{} (from {source})", e.kind);
    }
    format!(
        "setting {key} (RATHAUS_{}): {} (from {source})",
        key.to_ascii_uppercase(),
        e.kind
    )
}

impl Config {
    fn check(&self) -> Result<(), String> {
        if let Some(u) = &self.database_url {
            rathaus_store::db::backend_of(u)
                .map_err(|e| format!("setting database_url (RATHAUS_DATABASE_URL): {e}"))?;
        }
        if let Some(u) = &self.public_url {
            let parsed = url::Url::parse(u)
                .map_err(|e| format!("setting public_url (RATHAUS_PUBLIC_URL): {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(
                    "setting public_url (RATHAUS_PUBLIC_URL): must start with http:// or https://"
                        .into(),
                );
            }
        }
        if self.session_idle_minutes == 0 || self.session_absolute_hours == 0 {
            return Err(
                "setting session_idle_minutes / session_absolute_hours: must be at least 1".into(),
            );
        }
        if self.login_max_failures == 0 {
            return Err(
                "setting login_max_failures (RATHAUS_LOGIN_MAX_FAILURES): must be at least 1"
                    .into(),
            );
        }
        if self.smtp_host.is_some() && self.smtp_from.is_none() {
            return Err(
                "setting smtp_from (RATHAUS_SMTP_FROM): required when smtp_host is set".into(),
            );
        }
        if let Some(a) = &self.audit_anchor_mail {
            rathaus_store::mail::check_mailbox(a).map_err(|e| {
                format!("setting audit_anchor_mail (RATHAUS_AUDIT_ANCHOR_MAIL): {e}")
            })?;
        }
        if let Some(f) = &self.smtp_from {
            rathaus_store::mail::check_mailbox(f)
                .map_err(|e| format!("setting smtp_from (RATHAUS_SMTP_FROM): {e}"))?;
        }
        self.check_files()
    }

    fn check_files(&self) -> Result<(), String> {
        if self.files_max_upload_mb == 0 {
            return Err(
                "setting files_max_upload_mb (RATHAUS_FILES_MAX_UPLOAD_MB): must be at least 1"
                    .into(),
            );
        }
        let s3_used = self.s3_endpoint.is_some()
            || self.s3_access_key_id.is_some()
            || self.s3_secret_access_key.is_some();
        let Some(bucket) = &self.s3_bucket else {
            if s3_used {
                return Err(
                    "setting s3_bucket (RATHAUS_S3_BUCKET): required when another s3_ setting is set"
                        .into(),
                );
            }
            return Ok(());
        };
        if bucket.trim().is_empty() {
            return Err("setting s3_bucket (RATHAUS_S3_BUCKET): must not be empty".into());
        }
        if self.s3_access_key_id.is_none() || self.s3_secret_access_key.is_none() {
            return Err(
                "setting s3_access_key_id / s3_secret_access_key (RATHAUS_S3_ACCESS_KEY_ID, \
                 RATHAUS_S3_SECRET_ACCESS_KEY, or their _FILE forms): required with s3_bucket"
                    .into(),
            );
        }
        if let Some(e) = &self.s3_endpoint {
            let parsed = url::Url::parse(e)
                .map_err(|err| format!("setting s3_endpoint (RATHAUS_S3_ENDPOINT): {err}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(
                    "setting s3_endpoint (RATHAUS_S3_ENDPOINT): must start with http:// or https://"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// Where the file service stores: the S3 bucket when `s3_bucket` is set, else
    /// `data_dir/files`. Open it with `rathaus_store::files::FileStore::from_config`.
    // Used once `serve` and `backup` open the file service (the wiring follows).
    pub fn files(&self) -> rathaus_store::files::FilesConfig {
        use rathaus_store::files::{FilesConfig, S3Config};
        match &self.s3_bucket {
            Some(bucket) => FilesConfig::S3(S3Config {
                endpoint: self.s3_endpoint.clone(),
                bucket: bucket.clone(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone().unwrap_or_default(),
                secret_access_key: self.s3_secret_access_key.clone().unwrap_or_default(),
                path_style: self.s3_path_style,
            }),
            None => FilesConfig::Disk {
                root: self.data_dir.join(rathaus_store::backup::FILES_DIR),
            },
        }
    }

    /// The upload limits of the installation (until tenants have their own settings).
    #[allow(dead_code)]
    pub fn file_limits(&self) -> rathaus_store::files::Limits {
        rathaus_store::files::Limits {
            max_size: u64::from(self.files_max_upload_mb) * 1_000_000,
            quota: (self.files_quota_mb > 0).then(|| self.files_quota_mb.saturating_mul(1_000_000)),
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| rathaus_store::db::default_sqlite_url(&self.data_dir))
    }

    pub fn smtp(&self) -> Option<SmtpConfig> {
        let host = self.smtp_host.clone()?;
        let tls = self.smtp_tls.clone().unwrap_or(Tls::Starttls);
        let port = self.smtp_port.unwrap_or(match tls {
            Tls::None => 25,
            Tls::Starttls => 587,
            Tls::Tls => 465,
        });
        Some(SmtpConfig {
            host,
            port,
            tls,
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            from: self.smtp_from.clone().unwrap_or_default(),
        })
    }

    /// What the server may fetch from addresses tenants configure (tiles, geocoder).
    pub fn outbound(&self) -> rathaus_store::outbound::Policy {
        rathaus_store::outbound::Policy {
            allow_http: self.outbound_allow_http,
            allow_hosts: self
                .outbound_allow_hosts
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    pub fn web(&self) -> rathaus_web::WebConfig {
        rathaus_web::WebConfig {
            public_url: self.public_url.clone(),
            session: rathaus_store::sessions::Timeouts {
                idle: chrono::Duration::minutes(self.session_idle_minutes.into()),
                absolute: chrono::Duration::hours(self.session_absolute_hours.into()),
            },
            login: rathaus_store::accounts::LoginPolicy {
                max_failures: self.login_max_failures.into(),
                window: chrono::Duration::minutes(self.login_window_minutes.into()),
            },
            metrics_token: self.metrics_token.clone(),
            trust_forwarded: self.trust_forwarded_headers,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_seconds.into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rathaus_store::files::FilesConfig;

    fn s3() -> Config {
        Config {
            s3_bucket: Some("rathaus-dateien".into()),
            s3_endpoint: Some("https://s3.example.net".into()),
            s3_access_key_id: Some("AKIA".into()),
            s3_secret_access_key: Some("geheim".into()),
            s3_path_style: true,
            ..Config::default()
        }
    }

    #[test]
    fn s3_settings_have_environment_variables_and_file_forms() {
        // RATHAUS_<NAME> and RATHAUS_<NAME>_FILE are read for every setting name.
        let names = setting_names();
        for n in [
            "s3_endpoint",
            "s3_bucket",
            "s3_region",
            "s3_access_key_id",
            "s3_secret_access_key",
            "s3_path_style",
            "files_max_upload_mb",
            "files_quota_mb",
        ] {
            assert!(names.iter().any(|k| k == n), "{n}");
        }
    }

    #[test]
    fn files_go_to_the_data_dir_unless_a_bucket_is_set() {
        let cfg = Config::default();
        assert!(cfg.check().is_ok());
        assert_eq!(
            cfg.files(),
            FilesConfig::Disk {
                root: PathBuf::from("./data/files")
            }
        );
        let cfg = s3();
        assert!(cfg.check().is_ok());
        let FilesConfig::S3(s) = cfg.files() else {
            panic!("S3 expected")
        };
        assert_eq!(s.bucket, "rathaus-dateien");
        assert_eq!(s.endpoint.as_deref(), Some("https://s3.example.net"));
        assert_eq!(s.region, "us-east-1");
        assert!(s.path_style);
        assert!(
            !format!("{s:?}").contains("geheim"),
            "the secret is not logged"
        );
    }

    #[test]
    fn incomplete_s3_settings_are_refused_naming_the_setting() {
        let no_bucket = Config {
            s3_bucket: None,
            ..s3()
        };
        assert!(no_bucket.check().unwrap_err().contains("RATHAUS_S3_BUCKET"));
        let no_secret = Config {
            s3_secret_access_key: None,
            ..s3()
        };
        assert!(
            no_secret
                .check()
                .unwrap_err()
                .contains("RATHAUS_S3_SECRET_ACCESS_KEY")
        );
        let bad_endpoint = Config {
            s3_endpoint: Some("ftp://s3.example.net".into()),
            ..s3()
        };
        assert!(
            bad_endpoint
                .check()
                .unwrap_err()
                .contains("RATHAUS_S3_ENDPOINT")
        );
        let no_upload = Config {
            files_max_upload_mb: 0,
            ..Config::default()
        };
        assert!(no_upload.check().is_err());
    }

    #[test]
    fn upload_limits_in_bytes() {
        let l = Config::default().file_limits();
        assert_eq!((l.max_size, l.quota), (25_000_000, None));
        let l = Config {
            files_quota_mb: 2000,
            ..Config::default()
        }
        .file_limits();
        assert_eq!(l.quota, Some(2_000_000_000));
    }
}
