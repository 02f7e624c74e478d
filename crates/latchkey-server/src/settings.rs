//! Settings, declared once. Each field of [`GlobalSettings`] and [`ServeSettings`] is at the
//! same time a flag with its `LATCHKEY_*` variable (clap), a key of the `--config` TOML file
//! (serde: the field name) and a default (clap's `default_value_t`, shown in `--help`).
//!
//! [`layered`] merges them with figment: flags and variables (those clap says were given) over
//! the file over the defaults. The raw values are then checked and turned into typed
//! configuration by `config.rs`, so a bad setting fails at start-up with a message naming it.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, FromArgMatches};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use latchkey_core::hashing::{HashCost, PoolSize};
use latchkey_store::PgStore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::connections::ConnectionLimits;

pub const DEFAULT_DATA_DIR: &str = "./latchkey-data";
pub const DEFAULT_BIND: &str = "127.0.0.1:8787";
pub const DEFAULT_MAIL_FROM: &str = "Latchkey <no-reply@localhost>";
pub const DEFAULT_REFRESH_GRACE_SECS: i64 = 30;
pub const DEFAULT_SMTP_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 365;

const fn millis(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

const fn secs(d: std::time::Duration) -> i64 {
    d.as_secs() as i64
}

/// A URL that may carry a password (database, SMTP relay), in its userinfo or, as libpq also
/// accepts, in a `password=` query parameter. Its `Debug` shows the URL with both replaced by
/// `***`, so settings and configuration can be logged whole.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its password, for the code that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its passwords (userinfo, `password=` query parameter) replaced by `***`;
    /// text that is not a URL as is.
    pub fn redacted(&self) -> String {
        let Ok(mut parsed) = url::Url::parse(&self.0) else { return self.0.clone() };
        let in_query = parsed.query_pairs().any(|(key, _)| key.eq_ignore_ascii_case("password"));
        if parsed.password().is_none() && !in_query {
            return self.0.clone();
        }
        if parsed.password().is_some() {
            let _ = parsed.set_password(Some("***"));
        }
        if in_query {
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(key, value)| {
                    let value = if key.eq_ignore_ascii_case("password") { "***".into() } else { value.into_owned() };
                    (key.into_owned(), value)
                })
                .collect();
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
        }
        parsed.to_string()
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for SecretUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// The `--help` headings of the settings, which set them apart from each command's own
/// options.
pub mod heading {
    pub const STORAGE: &str = "Storage (all commands)";
    pub const LOGGING: &str = "Logging (all commands)";
    pub const CONFIG: &str = "Configuration (all commands)";
    pub const SERVER: &str = "Server";
    pub const CONNECTIONS: &str = "Connections";
    pub const HASHING: &str = "Password hashing";
    pub const MAIL: &str = "Mail";
    pub const METRICS: &str = "Metrics and traces";
}

/// Settings of every subcommand: where the data lives, how it is reached, how logs look.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct GlobalSettings {
    /// Database URL: sqlite://PATH (default: sqlite://<data-dir>/latchkey.db) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB (then LATCHKEY_MASTER_KEY is required).
    #[arg(help_heading = heading::STORAGE, long, env = "LATCHKEY_DATABASE_URL", global = true,
        value_name = "URL", hide_env_values = true)]
    pub database_url: Option<SecretUrl>,

    /// PostgreSQL: connections per process (the server's max_connections is shared by every
    /// process).
    #[arg(help_heading = heading::STORAGE, long, env = "LATCHKEY_DATABASE_POOL_SIZE", global = true, value_name = "N",
        default_value_t = PgStore::DEFAULT_POOL_SIZE)]
    pub database_pool_size: u32,

    // PostgreSQL availability and poolers.
    /// PostgreSQL: what sits between Latchkey and the server: none, session (a pooler in
    /// session mode) or transaction (a pooler in transaction mode, such as PgBouncer's
    /// pool_mode=transaction; needs --database-migration-url).
    #[arg(help_heading = heading::STORAGE, long, env = "LATCHKEY_DATABASE_POOLER", global = true,
        value_name = "MODE", default_value = "none")]
    pub database_pooler: String,

    /// PostgreSQL: a direct (not pooled) URL of the same database, used only to run
    /// migrations; required with --database-pooler transaction.
    #[arg(help_heading = heading::STORAGE, long, env = "LATCHKEY_DATABASE_MIGRATION_URL", global = true,
        value_name = "URL", hide_env_values = true)]
    pub database_migration_url: Option<SecretUrl>,

    /// PostgreSQL: the schema of Latchkey's tables, created if missing (a plain identifier:
    /// lowercase letters, digits, _). Tables an earlier version put in public are served from
    /// there until `latchkey db move-schema` moves them.
    #[arg(help_heading = heading::STORAGE, long, env = "LATCHKEY_DATABASE_SCHEMA", global = true, value_name = "NAME",
        default_value = latchkey_store::PgSchema::DEFAULT)]
    pub database_schema: String,

    /// PostgreSQL: how long start-up waits for the database, retrying refused connections,
    /// e.g. 5s or 5000 (a bare number is milliseconds).
    #[arg(help_heading = heading::STORAGE, long = "database-connect-timeout",
        env = "LATCHKEY_DATABASE_CONNECT_TIMEOUT", global = true,
        value_name = "DURATION", value_parser = parse_duration_ms,
        default_value_t = millis(PgStore::DEFAULT_CONNECT_TIMEOUT))]
    pub database_connect_timeout_ms: u64,

    /// PostgreSQL: how long a request waits for a database connection (opening one included)
    /// before answering 503 server/unavailable (a bare number is milliseconds).
    #[arg(help_heading = heading::STORAGE, long = "database-acquire-timeout",
        env = "LATCHKEY_DATABASE_ACQUIRE_TIMEOUT", global = true,
        value_name = "DURATION", value_parser = parse_duration_ms,
        default_value_t = millis(PgStore::DEFAULT_ACQUIRE_TIMEOUT))]
    pub database_acquire_timeout_ms: u64,

    /// PostgreSQL: statement_timeout for Latchkey's statements (not migrations); a statement
    /// running longer is cancelled and its request answers 503 server/unavailable; 0 turns it
    /// off (a bare number is milliseconds).
    #[arg(help_heading = heading::STORAGE, long = "database-statement-timeout",
        env = "LATCHKEY_DATABASE_STATEMENT_TIMEOUT", global = true,
        value_name = "DURATION", value_parser = parse_duration_ms,
        default_value_t = millis(PgStore::DEFAULT_STATEMENT_TIMEOUT))]
    pub database_statement_timeout_ms: u64,

    /// Directory for the embedded database and its master key (created by `serve` or `init`
    /// only; the other commands need them to exist).
    #[arg(help_heading = heading::STORAGE, long, env = "LATCHKEY_DATA_DIR", global = true,
        value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,

    /// Log output format: text or json. Filter with LATCHKEY_LOG (e.g. "info,latchkey=debug").
    #[arg(help_heading = heading::LOGGING, long, env = "LATCHKEY_LOG_FORMAT", global = true,
        value_name = "FORMAT", default_value = "text")]
    pub log_format: String,

    /// File only: the master key in a file (instead of LATCHKEY_MASTER_KEY).
    #[arg(skip)]
    pub master_key_file: Option<PathBuf>,
}

/// Settings of `latchkey serve`.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct ServeSettings {
    /// Address to listen on.
    #[arg(help_heading = heading::SERVER, long, env = "LATCHKEY_BIND", value_name = "ADDR",
        default_value = DEFAULT_BIND)]
    pub bind: String,
    /// Public base URL: the `iss` of tokens and the base of email links (default http://<bind>).
    #[arg(help_heading = heading::SERVER, long, env = "LATCHKEY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Password-hashing threads (default: number of CPUs).
    #[arg(help_heading = heading::HASHING, long, env = "LATCHKEY_HASH_THREADS", value_name = "N")]
    pub hash_threads: Option<usize>,
    /// Hashing jobs one project may have waiting (all projects: 4x); beyond, 503 server/busy.
    #[arg(help_heading = heading::HASHING, long, env = "LATCHKEY_HASH_QUEUE", value_name = "N",
        default_value_t = PoolSize::default().queue)]
    pub hash_queue: usize,
    /// Argon2id memory in KiB (the default is also the minimum).
    #[arg(help_heading = heading::HASHING, long, env = "LATCHKEY_HASH_MEMORY_KIB", value_name = "KIB",
        default_value_t = HashCost::default().memory_kib)]
    pub hash_memory_kib: u32,
    /// Argon2id iterations (the default is also the minimum).
    #[arg(help_heading = heading::HASHING, long, env = "LATCHKEY_HASH_ITERATIONS", value_name = "N",
        default_value_t = HashCost::default().iterations)]
    pub hash_iterations: u32,
    /// Maximum request body in bytes.
    #[arg(help_heading = heading::SERVER, long = "body-limit", env = "LATCHKEY_BODY_LIMIT",
        value_name = "BYTES", default_value_t = crate::app::DEFAULT_BODY_LIMIT)]
    pub body_limit_bytes: usize,
    /// How long a just-rotated refresh token may be replayed for the same pair, e.g. 30s
    /// (a bare number is seconds).
    #[arg(help_heading = heading::SERVER, long = "refresh-grace", env = "LATCHKEY_REFRESH_GRACE",
        value_parser = parse_duration_secs,
        default_value_t = DEFAULT_REFRESH_GRACE_SECS)]
    pub refresh_grace_secs: i64,
    /// Default SMTP relay: smtp://user:pass@host:587 (STARTTLS), smtps://… (TLS) or
    /// smtp://127.0.0.1:2525?tls=none (loopback). Unset: emails are written as .eml files
    /// under <data-dir>/mail.
    #[arg(help_heading = heading::MAIL, long, env = "LATCHKEY_SMTP_URL", value_name = "URL", hide_env_values = true)]
    pub smtp_url: Option<SecretUrl>,
    /// Default sender.
    #[arg(help_heading = heading::MAIL, long, env = "LATCHKEY_MAIL_FROM", value_name = "MAILBOX",
        default_value = DEFAULT_MAIL_FROM)]
    pub mail_from: String,
    /// Directory of email template overrides (<dir>/<file> or <dir>/<project-id>/<file>).
    #[arg(help_heading = heading::MAIL, long = "mail-templates", env = "LATCHKEY_MAIL_TEMPLATES", value_name = "DIR")]
    pub mail_templates_dir: Option<PathBuf>,
    /// Directory of hosted-page template overrides (<dir>/<file> or <dir>/<project-id>/<file>),
    /// read and checked at start-up.
    #[arg(help_heading = heading::SERVER, long = "page-templates", env = "LATCHKEY_PAGE_TEMPLATES", value_name = "DIR")]
    pub page_templates_dir: Option<PathBuf>,
    /// SMTP connection and command timeout in seconds.
    #[arg(help_heading = heading::MAIL, long = "smtp-timeout", env = "LATCHKEY_SMTP_TIMEOUT", value_name = "SECS",
        default_value_t = DEFAULT_SMTP_TIMEOUT_SECS)]
    pub smtp_timeout_secs: u64,
    /// PEM CA certificate(s) to trust for SMTP relays, besides the built-in Mozilla roots.
    #[arg(help_heading = heading::MAIL, long, env = "LATCHKEY_SMTP_CA_FILE", value_name = "FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Record Prometheus metrics and serve them at GET /metrics. Do not expose /metrics
    /// publicly: block it at the proxy or use --metrics-bind.
    #[arg(help_heading = heading::METRICS, long, env = "LATCHKEY_METRICS", value_name = "BOOL",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(), default_value_t = true)]
    pub metrics: bool,
    /// Serve /metrics only on this separate address (e.g. 127.0.0.1:9090), not on --bind.
    #[arg(help_heading = heading::METRICS, long, env = "LATCHKEY_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<String>,
    /// Export traces over OTLP/HTTP (protobuf) to this collector, e.g. http://127.0.0.1:4318
    /// (spans are posted to <URL>/v1/traces). Unset: OTEL_EXPORTER_OTLP_ENDPOINT or
    /// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT if set, else no traces.
    #[arg(help_heading = heading::METRICS, long, env = "LATCHKEY_OTLP_ENDPOINT", value_name = "URL", hide_env_values = true)]
    pub otlp_endpoint: Option<SecretUrl>,
    // Connections.
    /// Time a client has to send a request's headers, from its first byte (or from connecting);
    /// then the connection is closed (at most 300s; a bare number is seconds).
    #[arg(help_heading = heading::CONNECTIONS, long = "header-timeout", env = "LATCHKEY_HEADER_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_duration_secs, default_value_t = secs(ConnectionLimits::DEFAULT_HEADER_TIMEOUT))]
    pub header_timeout_secs: i64,
    /// Time a client has to send a request's body, from its headers; then 408
    /// request/body-timeout and the connection is closed (at most 600s).
    #[arg(help_heading = heading::CONNECTIONS, long = "body-timeout", env = "LATCHKEY_BODY_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_duration_secs, default_value_t = secs(ConnectionLimits::DEFAULT_BODY_TIMEOUT))]
    pub body_timeout_secs: i64,
    /// Keep-alive connections with no request for this long are closed; keep it above your load
    /// balancer's idle timeout (at most 3600s).
    #[arg(help_heading = heading::CONNECTIONS, long = "idle-timeout", env = "LATCHKEY_IDLE_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_duration_secs, default_value_t = secs(ConnectionLimits::DEFAULT_IDLE_TIMEOUT))]
    pub idle_timeout_secs: i64,
    /// Connections served at once; more are answered 503 server/busy and closed (lowered at
    /// start to fit the open-file limit).
    #[arg(help_heading = heading::CONNECTIONS, long, env = "LATCHKEY_MAX_CONNECTIONS", value_name = "N",
        default_value_t = ConnectionLimits::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Days the audit trail keeps a record; the maintenance task deletes older ones
    /// (1 to 36500).
    #[arg(help_heading = heading::SERVER, long, env = "LATCHKEY_AUDIT_RETENTION_DAYS", value_name = "DAYS",
        default_value_t = DEFAULT_AUDIT_RETENTION_DAYS)]
    pub audit_retention_days: u32,
}

impl Default for GlobalSettings {
    fn default() -> Self {
        declared_defaults()
    }
}

impl Default for ServeSettings {
    fn default() -> Self {
        declared_defaults()
    }
}

/// The defaults exactly as declared on the flags (variables of this process ignored).
fn declared_defaults<T: Args + FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None::<&str>));
    // Every setting has a default or is optional, so an empty command line always parses;
    // the unit tests below build both types.
    command
        .try_get_matches_from(["defaults"])
        .and_then(|matches| T::from_arg_matches(&matches))
        .unwrap_or_else(|e| panic!("settings declaration: {e}"))
}

/// The `--config` TOML file, read once (absent: empty).
#[derive(Debug, Default)]
pub struct ConfigFile {
    path: Option<PathBuf>,
    text: String,
}

impl ConfigFile {
    /// Reads and parses `path`, refusing keys that are no setting.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else { return Ok(Self::default()) };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
        let known = file_keys();
        if let Some(unknown) = table.keys().find(|key| !known.contains(key)) {
            bail!("invalid config file {}: unknown key `{unknown}` (keys: {})", path.display(), known.join(", "));
        }
        Ok(Self { path: Some(path.to_owned()), text })
    }
}

/// Every key the TOML file may hold: the settings' field names.
pub fn file_keys() -> Vec<String> {
    let mut keys = field_names(&GlobalSettings::default());
    keys.extend(field_names(&ServeSettings::default()));
    keys
}

fn field_names(settings: &impl Serialize) -> Vec<String> {
    match serde_json::to_value(settings) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// `parsed` (flags and variables as clap read them into `matches`) over `file` over the
/// declared defaults.
pub fn layered<T>(parsed: &T, matches: &ArgMatches, file: &ConfigFile) -> anyhow::Result<T>
where
    T: Serialize + DeserializeOwned + Default,
{
    let given = |key: &str| {
        matches.ids().any(|id| id.as_str() == key)
            && matches!(matches.value_source(key), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
    };
    let explicit: serde_json::Map<String, serde_json::Value> = match serde_json::to_value(parsed)? {
        serde_json::Value::Object(map) => {
            map.into_iter().filter(|(key, value)| !value.is_null() && given(key)).collect()
        }
        _ => serde_json::Map::new(),
    };
    let defaults: serde_json::Map<String, serde_json::Value> = match serde_json::to_value(T::default())? {
        serde_json::Value::Object(map) => map.into_iter().filter(|(_, value)| !value.is_null()).collect(),
        _ => serde_json::Map::new(),
    };
    Figment::from(Serialized::defaults(defaults))
        .merge(Toml::string(&file.text))
        .merge(Serialized::defaults(explicit))
        .extract()
        .map_err(|e| match &file.path {
            Some(path) => anyhow::anyhow!("invalid config file {}: {e}", path.display()),
            None => anyhow::anyhow!("invalid settings: {e}"),
        })
}

/// `90`, `90s`, `30m`, `12h`, `30d` (humantime syntax) as whole seconds.
pub fn parse_duration_secs(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    if let Ok(secs) = trimmed.parse::<i64>() {
        return Ok(secs);
    }
    humantime::parse_duration(trimmed)
        .map_err(|e| format!("{e} (examples: 90s, 30m, 12h, 30d)"))
        .and_then(|d| i64::try_from(d.as_secs()).map_err(|e| e.to_string()))
}

/// `1500`, `1500ms`, `2s`, `1m` (humantime syntax; a bare number is milliseconds) as
/// milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if let Ok(ms) = trimmed.parse::<u64>() {
        return Ok(ms);
    }
    humantime::parse_duration(trimmed)
        .map_err(|e| format!("{e} (examples: 500ms, 2s, 1m)"))
        .and_then(|d| u64::try_from(d.as_millis()).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_defaults_are_the_library_defaults() {
        let global = GlobalSettings::default();
        assert_eq!(global.database_pool_size, latchkey_store::OpenOptions::default().pg_pool_size);
        assert_eq!(global.database_connect_timeout_ms, 5000);
        assert_eq!(global.database_schema, latchkey_store::OpenOptions::default().pg_schema.as_str());
        assert_eq!(global.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        let serve = ServeSettings::default();
        assert_eq!(serve.bind, DEFAULT_BIND);
        assert_eq!(serve.hash_memory_kib, 19456);
        assert_eq!(serve.refresh_grace_secs, latchkey_core::auth::AuthPolicy::new("x").refresh_grace_secs);
        assert!(serve.metrics);
        assert_eq!(serve.idle_timeout_secs, 75);
        assert_eq!(serve.audit_retention_days, 365);
    }

    #[test]
    fn file_keys_are_the_documented_ones() {
        let keys = file_keys();
        for key in [
            "bind",
            "database_connect_timeout_ms",
            "body_limit_bytes",
            "master_key_file",
            "metrics_bind",
            "otlp_endpoint",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
        }
        assert_eq!(keys.len(), 33, "{keys:?}");
    }

    #[test]
    fn secret_url_debug_hides_the_password() {
        let url = SecretUrl::new("smtp://u:hunter2@mail.example:587");
        assert_eq!(format!("{url:?}"), "smtp://u:***@mail.example:587");
        assert_eq!(url.expose(), "smtp://u:hunter2@mail.example:587");
    }

    #[test]
    fn secret_url_hides_a_password_query_parameter() {
        let url = SecretUrl::new("postgres://db.example/latchkey?sslmode=require&password=hunter2");
        assert_eq!(format!("{url:?}"), "postgres://db.example/latchkey?sslmode=require&password=***");
        let both = SecretUrl::new("postgres://u:hunter2@db/latchkey?PASSWORD=hunter3&application_name=lk");
        let shown = both.redacted();
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("application_name=lk"), "{shown}");
        // Nothing to hide: shown exactly as given.
        let plain = SecretUrl::new("postgres://u@db/latchkey?sslmode=require");
        assert_eq!(plain.redacted(), "postgres://u@db/latchkey?sslmode=require");
    }
}
