//! Configuration in one place: defaults that run, a TOML file, environment variables and
//! command-line flags, in rising order of precedence. Nothing else reads the environment.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use torg_core::intake::IntakeLimits;
use torg_domain::inquiry::TextLimits;
use torg_http::{RateLimits, WebSettings};

/// The options every subcommand that acts on an installation takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct InstallationArgs {
    /// A TOML configuration file (see torg.example.toml).
    #[arg(long, global = true, env = "TORG_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where Torg keeps its SQLite database and files [default: ./data].
    #[arg(long, global = true, env = "TORG_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The database: a PostgreSQL URL (postgres://…) or a SQLite file [default: DATA_DIR/torg.db].
    #[arg(long, global = true, env = "TORG_DATABASE_URL")]
    pub database: Option<String>,
    /// The address to serve on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "TORG_LISTEN")]
    pub listen: Option<String>,
}

/// The configuration file. Every key is optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    /// Set when Torg is served over HTTPS (by itself or a proxy): Secure cookies and HSTS.
    pub secure_cookies: Option<bool>,
    /// The address citizens reach Torg by, for links in receipts.
    pub public_url: Option<String>,
    /// Largest message text in bytes [default: 65536].
    pub max_text_bytes: Option<usize>,
    /// Largest attachment in bytes [default: 26214400].
    pub max_attachment_bytes: Option<usize>,
    /// The operator token that may read /metrics (Prometheus). Unset: metrics are off.
    pub metrics_token: Option<String>,
    /// Warn staff when this share of an inquiry's time has passed [default: 0.75].
    pub escalation_share: Option<f64>,
    /// A directory of extra Fluent catalogues (`xx.ftl`) for more interface languages.
    pub locales_dir: Option<PathBuf>,
    /// Login attempts per minute per client address [default: 10; 0 turns the limit off].
    pub rate_limit_login_per_minute: Option<u32>,
    /// Portal and chat submissions per minute per client address [default: 20; 0: off].
    pub rate_limit_portal_per_minute: Option<u32>,
    /// The chat's typing signals per minute per client address [default: 30; 0: off].
    pub rate_limit_typing_per_minute: Option<u32>,
    /// Calls of the SMS and Meta hooks per minute per client address [default: 6000; 0: off].
    pub rate_limit_hooks_per_minute: Option<u32>,
    /// API requests per second per token [default: 200; 0: off].
    pub rate_limit_api_per_second: Option<u32>,
    /// A staff session unused this many minutes is over [default: 60].
    pub session_idle_minutes: Option<u64>,
    /// Allow mail servers reached without encryption (`plain`) [default: false; tests only].
    pub allow_plain_mail: Option<bool>,
    /// The hosts connectors may reach: names, addresses or `*.domain` [default: any].
    pub connector_hosts: Option<Vec<String>>,
    /// Behind a reverse proxy: the client's address is the last X-Forwarded-For entry.
    pub trust_forwarded_for: Option<bool>,
    /// The file with the key that seals stored secrets [default: DATA_DIR/secret.key, made on
    /// first use]. Every node of an installation needs the same key.
    pub secret_key_file: Option<PathBuf>,
}

/// The settings Torg runs with, built once and passed down.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub web: WebSettings,
    pub locales_dir: Option<PathBuf>,
    /// The key that seals mail server passwords in the database.
    pub secret_key_file: PathBuf,
}

impl Settings {
    pub fn load(args: &InstallationArgs) -> Result<Settings> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })?;
                toml::from_str::<FileConfig>(&text).with_context(|| {
                    format!("the configuration file {} is not valid", path.display())
                })?
            }
            None => FileConfig::default(),
        };
        Settings::from_parts(args, file)
    }

    pub fn from_parts(args: &InstallationArgs, file: FileConfig) -> Result<Settings> {
        let listen_text = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let listen: SocketAddr = listen_text.parse().with_context(|| {
            format!("--listen {listen_text:?} is not an address; write it like 127.0.0.1:8080")
        })?;
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = args
            .database
            .clone()
            .or(file.database)
            .unwrap_or_else(|| data_dir.join("torg.db").to_string_lossy().into_owned());
        let defaults = IntakeLimits::default();
        let limits = IntakeLimits {
            text: TextLimits {
                max_text_bytes: file.max_text_bytes.unwrap_or(defaults.text.max_text_bytes),
            },
            max_attachment_bytes: file
                .max_attachment_bytes
                .unwrap_or(defaults.max_attachment_bytes),
        };
        let secret_key_file = file
            .secret_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("secret.key"));
        Ok(Settings {
            listen,
            data_dir,
            database_url,
            web: WebSettings {
                limits,
                // Behind HTTPS (a public address of https://) cookies are Secure unless the
                // operator says otherwise.
                secure_cookies: file.secure_cookies.unwrap_or_else(|| {
                    file.public_url
                        .as_deref()
                        .is_some_and(|u| u.starts_with("https://"))
                }),
                public_url: file.public_url,
                metrics_token: file.metrics_token,
                escalation_permille: file.escalation_share.map(|s| (s * 1000.0).round() as i64),
                trust_forwarded_for: file.trust_forwarded_for.unwrap_or(false),
                // Read from `secret_key_file` when the server starts.
                secret_key: None,
                streams: torg_http::StreamLimits::default(),
                session_idle: file
                    .session_idle_minutes
                    .map(|m| std::time::Duration::from_secs(m.max(1) * 60)),
                connectors: torg_core::connectors::ConnectorPolicy {
                    allow_plain_mail: file.allow_plain_mail.unwrap_or(false),
                    hosts: torg_domain::connector::HostRules::new(
                        file.connector_hosts.as_deref().unwrap_or_default(),
                    ),
                },
                rate_limits: {
                    let d = RateLimits::default();
                    RateLimits {
                        login_per_minute: file
                            .rate_limit_login_per_minute
                            .unwrap_or(d.login_per_minute),
                        portal_per_minute: file
                            .rate_limit_portal_per_minute
                            .unwrap_or(d.portal_per_minute),
                        typing_per_minute: file
                            .rate_limit_typing_per_minute
                            .unwrap_or(d.typing_per_minute),
                        hooks_per_minute: file
                            .rate_limit_hooks_per_minute
                            .unwrap_or(d.hooks_per_minute),
                        api_per_second: file.rate_limit_api_per_second.unwrap_or(d.api_per_second),
                    }
                },
            },
            locales_dir: file.locales_dir,
            secret_key_file,
        })
    }

    /// The address gateways and networks reach Torg at: `public_url`, else the listen address.
    pub fn public_url(&self) -> String {
        self.web
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The installation's secret key, made (readable by its owner only) when missing.
    pub fn secret_key(&self) -> Result<torg_core::sealing::SecretKey> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = &self.secret_key_file;
        match std::fs::read_to_string(path) {
            Ok(text) => torg_core::sealing::SecretKey::from_hex(&text).with_context(|| {
                format!(
                    "{} does not hold a secret key (64 hex digits)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let key = torg_core::sealing::SecretKey::generate();
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .with_context(|| format!("cannot create the secret key {}", path.display()))?;
                std::io::Write::write_all(&mut f, key.to_hex().as_bytes())?;
                Ok(key)
            }
            Err(e) => {
                Err(e).with_context(|| format!("cannot read the secret key {}", path.display()))
            }
        }
    }

    /// Whether the database is the embedded SQLite one (inside the data directory or not).
    pub fn is_sqlite(&self) -> bool {
        !self.database_url.starts_with("postgres://")
            && !self.database_url.starts_with("postgresql://")
    }

    /// Creates the data directory if needed.
    pub fn prepare_data_dir(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                self.data_dir.display()
            )
        })?;
        if self.is_sqlite()
            && let Some(parent) =
                Path::new(self.database_url.trim_start_matches("sqlite://")).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run() {
        let s = Settings::from_parts(&InstallationArgs::default(), FileConfig::default())
            .expect("defaults");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "data/torg.db");
        assert_eq!(s.web.limits.text.max_text_bytes, 65536);
        assert_eq!(s.web.limits.max_attachment_bytes, 25 * 1024 * 1024);
    }

    #[test]
    fn cookies_are_secure_behind_https_unless_told() {
        let at = |toml_text: &str| {
            let file: FileConfig = toml::from_str(toml_text).expect("toml");
            Settings::from_parts(&InstallationArgs::default(), file)
                .expect("settings")
                .web
                .secure_cookies
        };
        assert!(!at(""));
        assert!(at("public_url = \"https://kontakt.nordby.no\""));
        assert!(!at("public_url = \"http://127.0.0.1:8080\""));
        assert!(!at(
            "public_url = \"https://kontakt.nordby.no\"\nsecure_cookies = false"
        ));
    }

    #[test]
    fn flags_beat_the_file() {
        let file: FileConfig = toml::from_str(
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/torg\"\nmax_text_bytes = 1000",
        )
        .expect("toml");
        let args = InstallationArgs {
            listen: Some("127.0.0.1:9999".into()),
            ..Default::default()
        };
        let s = Settings::from_parts(&args, file).expect("settings");
        assert_eq!(s.listen.to_string(), "127.0.0.1:9999");
        assert_eq!(s.database_url, "/srv/torg/torg.db");
        assert_eq!(s.web.limits.text.max_text_bytes, 1000);
    }

    #[test]
    fn bad_values_say_what_to_do() {
        let args = InstallationArgs {
            listen: Some("localhost".into()),
            ..Default::default()
        };
        let e = Settings::from_parts(&args, FileConfig::default()).expect_err("bad");
        assert!(e.to_string().contains("127.0.0.1:8080"));
        assert!(
            toml::from_str::<FileConfig>("lisen = 1").is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../../torg.example.toml");
        let file: FileConfig = toml::from_str(text).expect("torg.example.toml is valid");
        assert!(file.listen.is_some());
    }
}
