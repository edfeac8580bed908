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
        Ok(())
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
