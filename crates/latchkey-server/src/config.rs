//! Configuration: flags and `LATCHKEY_*` variables (clap), over an optional TOML file, over
//! defaults. Everything is resolved and checked before the server binds, so a bad setting
//! fails at start-up with a message naming it, never at the first request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use latchkey_core::crypto::MasterKey;
use latchkey_core::hashing::{HashCost, PoolSize};
use serde::Deserialize;

use crate::connections::ConnectionLimits;
use crate::mail::{SmtpSecurity, SmtpUrl};

/// The optional TOML file (`--config` / `LATCHKEY_CONFIG`). Unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<String>,
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub database_pool_size: Option<u32>,
    // PostgreSQL availability and poolers.
    pub database_pooler: Option<String>,
    pub database_migration_url: Option<String>,
    pub database_connect_timeout_ms: Option<u64>,
    pub database_acquire_timeout_ms: Option<u64>,
    pub database_statement_timeout_ms: Option<u64>,
    pub data_dir: Option<PathBuf>,
    pub master_key_file: Option<PathBuf>,
    pub log_format: Option<String>,
    pub hash_threads: Option<usize>,
    pub hash_queue: Option<usize>,
    pub hash_memory_kib: Option<u32>,
    pub hash_iterations: Option<u32>,
    pub body_limit_bytes: Option<usize>,
    pub refresh_grace_secs: Option<i64>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub mail_templates_dir: Option<PathBuf>,
    pub smtp_timeout_secs: Option<u64>,
    pub smtp_ca_file: Option<PathBuf>,
    pub metrics: Option<bool>,
    pub metrics_bind: Option<String>,
    // Connections (see `connections.rs`).
    pub header_timeout_secs: Option<i64>,
    pub body_timeout_secs: Option<i64>,
    pub idle_timeout_secs: Option<i64>,
    pub max_connections: Option<usize>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else { return Ok(Self::default()) };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

pub const DEFAULT_DATA_DIR: &str = "./latchkey-data";
pub const DEFAULT_BIND: &str = "127.0.0.1:8787";

/// Where the data lives and how secrets at rest are unlocked (shared by serve and admin).
/// Its `Debug` hides the database password (a `postgres://` URL may carry one).
#[derive(Clone)]
pub struct StorageConfig {
    pub database_url: String,
    /// PostgreSQL connections per process (ignored by SQLite).
    pub database_pool_size: u32,
    /// PostgreSQL timeouts, pooler mode and migration URL (see [`DatabaseOptions`]).
    pub database: DatabaseSettings,
    pub data_dir: PathBuf,
    pub master_key: MasterKey,
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("database_url", &redact_password(&self.database_url))
            .field("database_pool_size", &self.database_pool_size)
            .field("database", &self.database)
            .field("data_dir", &self.data_dir)
            .field("master_key", &self.master_key)
            .finish()
    }
}

/// `url` with its password (if any) replaced by `***`; text that is not a URL is left alone.
fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Upper bound on `LATCHKEY_DATABASE_POOL_SIZE`: far beyond any useful pool, well below
/// anything that would exhaust a server's connection slots by a typo.
pub const MAX_DATABASE_POOL_SIZE: u32 = 500;

/// PostgreSQL availability and pooler settings as given by flags or variables, before the
/// file, defaults and checks.
#[derive(Default, Clone)]
pub struct DatabaseOptions {
    pub pooler: Option<String>,
    pub migration_url: Option<String>,
    pub connect_timeout_ms: Option<u64>,
    pub acquire_timeout_ms: Option<u64>,
    pub statement_timeout_ms: Option<u64>,
}

/// PostgreSQL availability and pooler settings, resolved and checked.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// `LATCHKEY_DATABASE_POOLER`: none, session or transaction.
    pub pooler: latchkey_store::PgPooler,
    /// `LATCHKEY_DATABASE_MIGRATION_URL`: direct URL for migrations (required in transaction mode).
    pub migration_url: Option<String>,
    /// `LATCHKEY_DATABASE_CONNECT_TIMEOUT`: how long start-up waits for the database.
    pub connect_timeout: Duration,
    /// `LATCHKEY_DATABASE_ACQUIRE_TIMEOUT`: how long a request waits for a connection.
    pub acquire_timeout: Duration,
    /// `LATCHKEY_DATABASE_STATEMENT_TIMEOUT`: PostgreSQL's statement_timeout; zero: none.
    pub statement_timeout: Duration,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("pooler", &self.pooler)
            .field("migration_url", &self.migration_url.as_deref().map(redact_password))
            .field("connect_timeout", &self.connect_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// Upper bound on the connect and acquire timeouts (a typo must not mean "wait forever").
pub const MAX_DATABASE_WAIT_MS: u64 = 600_000;
/// Upper bound on the statement timeout.
pub const MAX_DATABASE_STATEMENT_TIMEOUT_MS: u64 = 3_600_000;

impl DatabaseSettings {
    fn resolve(options: DatabaseOptions, file: &FileConfig, postgres: bool) -> anyhow::Result<Self> {
        use latchkey_store::{PgPooler, PgStore};
        let pooler_text = options.pooler.or_else(|| file.database_pooler.clone());
        let pooler = match pooler_text.as_deref().map(str::trim) {
            None | Some("") => PgPooler::None,
            Some(text) => PgPooler::parse(text).ok_or_else(|| {
                anyhow::anyhow!("LATCHKEY_DATABASE_POOLER must be none, session or transaction, got {text:?}")
            })?,
        };
        let migration_url =
            options.migration_url.or_else(|| file.database_migration_url.clone()).filter(|u| !u.trim().is_empty());
        if !postgres && (pooler != PgPooler::None || migration_url.is_some()) {
            bail!("LATCHKEY_DATABASE_POOLER and LATCHKEY_DATABASE_MIGRATION_URL apply to PostgreSQL only");
        }
        if let Some(url) = &migration_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            bail!("LATCHKEY_DATABASE_MIGRATION_URL must be a postgres:// URL, got {:?}", scheme(url));
        }
        if pooler == PgPooler::Transaction && migration_url.is_none() {
            bail!(
                "LATCHKEY_DATABASE_POOLER=transaction needs LATCHKEY_DATABASE_MIGRATION_URL, a direct (not pooled) \
                 URL of the same database: migrations hold a session-level lock and use prepared statements, \
                 which a transaction-mode pooler cannot carry (a pooler in session mode needs neither: \
                 LATCHKEY_DATABASE_POOLER=session)"
            );
        }
        let ms = |flag: Option<u64>, key: Option<u64>, default: Duration| {
            flag.or(key).map(Duration::from_millis).unwrap_or(default)
        };
        let connect_timeout =
            ms(options.connect_timeout_ms, file.database_connect_timeout_ms, PgStore::DEFAULT_CONNECT_TIMEOUT);
        let acquire_timeout =
            ms(options.acquire_timeout_ms, file.database_acquire_timeout_ms, PgStore::DEFAULT_ACQUIRE_TIMEOUT);
        let statement_timeout =
            ms(options.statement_timeout_ms, file.database_statement_timeout_ms, PgStore::DEFAULT_STATEMENT_TIMEOUT);
        for (name, value) in [
            ("LATCHKEY_DATABASE_CONNECT_TIMEOUT", connect_timeout),
            ("LATCHKEY_DATABASE_ACQUIRE_TIMEOUT", acquire_timeout),
        ] {
            if value.is_zero() || value.as_millis() > u128::from(MAX_DATABASE_WAIT_MS) {
                bail!("{name} must be between 1ms and {}s", MAX_DATABASE_WAIT_MS / 1000);
            }
        }
        if statement_timeout.as_millis() > u128::from(MAX_DATABASE_STATEMENT_TIMEOUT_MS) {
            bail!(
                "LATCHKEY_DATABASE_STATEMENT_TIMEOUT must be at most {}s (0 turns it off)",
                MAX_DATABASE_STATEMENT_TIMEOUT_MS / 1000
            );
        }
        Ok(Self { pooler, migration_url, connect_timeout, acquire_timeout, statement_timeout })
    }
}

impl StorageConfig {
    pub fn resolve(
        database_url: Option<String>,
        database_pool_size: Option<u32>,
        database: DatabaseOptions,
        data_dir: Option<PathBuf>,
        master_key: Option<String>,
        file: &FileConfig,
    ) -> anyhow::Result<Self> {
        let data_dir = data_dir.or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = database_url
            .or_else(|| file.database_url.clone())
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("latchkey.db").display()));
        let sqlite_path = sqlite_path(&database_url);
        if sqlite_path.is_none() && !database_url.starts_with("postgres") {
            bail!("LATCHKEY_DATABASE_URL must start with sqlite:// or postgres://, got {:?}", scheme(&database_url));
        }
        let database_pool_size = database_pool_size
            .or(file.database_pool_size)
            .unwrap_or(latchkey_store::OpenOptions::default().pg_pool_size);
        if database_pool_size == 0 || database_pool_size > MAX_DATABASE_POOL_SIZE {
            bail!(
                "LATCHKEY_DATABASE_POOL_SIZE must be between 1 and {MAX_DATABASE_POOL_SIZE}, got {database_pool_size}"
            );
        }
        let database = DatabaseSettings::resolve(database, file, sqlite_path.is_none())?;
        let master_key = match (master_key, &file.master_key_file, sqlite_path) {
            (Some(text), _, _) => MasterKey::from_base64(&text).map_err(|_| {
                anyhow::anyhow!(
                    "LATCHKEY_MASTER_KEY must be the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
                )
            })?,
            (None, Some(path), _) => read_key_file(path)?,
            (None, None, Some(db)) => embedded_master_key(&db)?,
            (None, None, None) => {
                bail!("LATCHKEY_MASTER_KEY is required with a server database (it encrypts signing keys at rest)")
            }
        };
        Ok(Self { database_url, database_pool_size, database, data_dir, master_key })
    }

    /// Opens (and migrates) the configured database.
    pub async fn open_store(&self) -> anyhow::Result<std::sync::Arc<dyn latchkey_core::store::Store>> {
        let options = latchkey_store::OpenOptions {
            pg_pool_size: self.database_pool_size,
            pg_pooler: self.database.pooler,
            pg_migration_url: self.database.migration_url.clone().map(Into::into),
            pg_connect_timeout: self.database.connect_timeout,
            pg_acquire_timeout: self.database.acquire_timeout,
            pg_statement_timeout: self.database.statement_timeout,
        };
        latchkey_store::open_with(&self.database_url, &options).await.context("cannot open the database")
    }
}

/// The file path of a `sqlite://PATH` URL.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).map(PathBuf::from)
}

/// Embedded mode: the master key lives in `master.key` beside the database file, readable by
/// the owner only. It is generated only for a database that does not exist yet: a missing
/// key beside an existing database is an error, never silently replaced.
fn embedded_master_key(database: &Path) -> anyhow::Result<MasterKey> {
    let dir = database.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let key_path = dir.join("master.key");
    if key_path.exists() {
        return read_key_file(&key_path);
    }
    if database.exists() {
        bail!(
            "the database {} exists but its master key file {} is missing: restore it, or set LATCHKEY_MASTER_KEY",
            database.display(),
            key_path.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let (key, text) = MasterKey::generate();
    write_private_file(&key_path, &text)
        .with_context(|| format!("cannot write master key file {}", key_path.display()))?;
    tracing::info!(path = %key_path.display(), "generated a new master key");
    Ok(key)
}

fn scheme(url: &str) -> &str {
    url.split("://").next().unwrap_or("")
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read master key file {}", path.display()))?;
    MasterKey::from_base64(&text)
        .map_err(|_| anyhow::anyhow!("master key file {} is not base64 of 32 bytes", path.display()))
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything `latchkey serve` needs beyond storage.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub public_url: String,
    pub hash_cost: HashCost,
    pub hash_pool: PoolSize,
    pub body_limit: usize,
    pub refresh_grace_secs: i64,
    pub mail: MailConfig,
    pub metrics: MetricsExposure,
    pub connections: ConnectionLimits,
}

/// Where `GET /metrics` is served (`LATCHKEY_METRICS`, `LATCHKEY_METRICS_BIND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsExposure {
    /// No metrics recorded, no `/metrics` route.
    Off,
    /// `/metrics` on the main listener (the default).
    Main,
    /// `/metrics` only on this separate listener, for example a private interface.
    Separate(SocketAddr),
}

/// Server-wide email settings (projects may override relay and sender).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `LATCHKEY_SMTP_URL`; None: messages are written as `.eml` files under the data directory.
    pub smtp: Option<SmtpUrl>,
    /// `LATCHKEY_MAIL_FROM`, a mailbox such as `Acme <no-reply@acme.example>`.
    pub from: String,
    /// `LATCHKEY_MAIL_TEMPLATES`: optional directory of template overrides.
    pub templates_dir: Option<PathBuf>,
    pub smtp_timeout: std::time::Duration,
    /// `LATCHKEY_SMTP_CA_FILE`: PEM CA certificate(s) trusted in addition to the Mozilla roots.
    pub smtp_ca_pem: Option<Vec<u8>>,
}

pub const DEFAULT_MAIL_FROM: &str = "Latchkey <no-reply@localhost>";

impl MailConfig {
    pub fn resolve(options: &ServeOptions, file: &FileConfig) -> anyhow::Result<Self> {
        let smtp = match options.smtp_url.clone().or_else(|| file.smtp_url.clone()).filter(|u| !u.trim().is_empty()) {
            None => None,
            Some(text) => {
                let url = SmtpUrl::parse(&text).map_err(|e| {
                    anyhow::anyhow!(
                        "LATCHKEY_SMTP_URL is invalid: {e} (examples: smtp://user:pass@host:587, smtps://host, \
                         smtp://127.0.0.1:2525?tls=none)"
                    )
                })?;
                if url.security == SmtpSecurity::None && !is_loopback(&url.host) {
                    tracing::warn!(relay = %url, "LATCHKEY_SMTP_URL sends mail unencrypted to a non-loopback host");
                }
                Some(url)
            }
        };
        let from = options.mail_from.clone().or_else(|| file.mail_from.clone()).unwrap_or(DEFAULT_MAIL_FROM.into());
        from.parse::<lettre::message::Mailbox>().map_err(|e| {
            anyhow::anyhow!("LATCHKEY_MAIL_FROM must be an address like 'Acme <no-reply@acme.example>': {e}")
        })?;
        let templates_dir = options.mail_templates_dir.clone().or_else(|| file.mail_templates_dir.clone());
        if let Some(dir) = &templates_dir
            && !dir.is_dir()
        {
            bail!("LATCHKEY_MAIL_TEMPLATES must be an existing directory, got {}", dir.display());
        }
        let timeout = options.smtp_timeout_secs.or(file.smtp_timeout_secs).unwrap_or(30);
        if !(1..=300).contains(&timeout) {
            bail!("LATCHKEY_SMTP_TIMEOUT must be between 1 and 300 seconds");
        }
        let smtp_ca_pem = match options.smtp_ca_file.clone().or_else(|| file.smtp_ca_file.clone()) {
            None => None,
            Some(path) => {
                let pem = std::fs::read(&path)
                    .with_context(|| format!("LATCHKEY_SMTP_CA_FILE: cannot read {}", path.display()))?;
                lettre::transport::smtp::client::Certificate::from_pem(&pem).map_err(|e| {
                    anyhow::anyhow!("LATCHKEY_SMTP_CA_FILE {} is not a PEM certificate: {e}", path.display())
                })?;
                Some(pem)
            }
        };
        Ok(Self { smtp, from, templates_dir, smtp_timeout: std::time::Duration::from_secs(timeout), smtp_ca_pem })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Raw serve options (from flags/env), before defaults and checks.
#[derive(Debug, Default, Clone)]
pub struct ServeOptions {
    pub bind: Option<String>,
    pub public_url: Option<String>,
    pub hash_threads: Option<usize>,
    pub hash_queue: Option<usize>,
    pub hash_memory_kib: Option<u32>,
    pub hash_iterations: Option<u32>,
    pub body_limit: Option<usize>,
    pub refresh_grace_secs: Option<i64>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub mail_templates_dir: Option<PathBuf>,
    pub smtp_timeout_secs: Option<u64>,
    pub smtp_ca_file: Option<PathBuf>,
    pub metrics: Option<bool>,
    pub metrics_bind: Option<String>,
    // Connections.
    pub header_timeout_secs: Option<i64>,
    pub body_timeout_secs: Option<i64>,
    pub idle_timeout_secs: Option<i64>,
    pub max_connections: Option<usize>,
}

/// Upper bound on `LATCHKEY_MAX_CONNECTIONS` (a typo guard; the open-file limit decides).
pub const MAX_MAX_CONNECTIONS: usize = 1_000_000;

impl ConnectionLimits {
    /// The connection settings from flags/variables over the file over the defaults.
    pub fn resolve(options: &ServeOptions, file: &FileConfig) -> anyhow::Result<Self> {
        let secs = |flag: Option<i64>, key: Option<i64>, default: std::time::Duration, name: &str, max: i64| {
            let value = flag.or(key).unwrap_or(default.as_secs() as i64);
            if !(1..=max).contains(&value) {
                bail!("{name} must be between 1 and {max} seconds, got {value}");
            }
            Ok(std::time::Duration::from_secs(value as u64))
        };
        let header_timeout = secs(
            options.header_timeout_secs,
            file.header_timeout_secs,
            Self::DEFAULT_HEADER_TIMEOUT,
            "LATCHKEY_HEADER_TIMEOUT",
            300,
        )?;
        let body_timeout = secs(
            options.body_timeout_secs,
            file.body_timeout_secs,
            Self::DEFAULT_BODY_TIMEOUT,
            "LATCHKEY_BODY_TIMEOUT",
            600,
        )?;
        let idle_timeout = secs(
            options.idle_timeout_secs,
            file.idle_timeout_secs,
            Self::DEFAULT_IDLE_TIMEOUT,
            "LATCHKEY_IDLE_TIMEOUT",
            3600,
        )?;
        let max_connections = options.max_connections.or(file.max_connections).unwrap_or(Self::DEFAULT_MAX_CONNECTIONS);
        if !(1..=MAX_MAX_CONNECTIONS).contains(&max_connections) {
            bail!("LATCHKEY_MAX_CONNECTIONS must be between 1 and {MAX_MAX_CONNECTIONS}, got {max_connections}");
        }
        Ok(Self { header_timeout, body_timeout, idle_timeout, max_connections })
    }
}

impl ServeConfig {
    pub fn resolve(options: ServeOptions, file: &FileConfig) -> anyhow::Result<Self> {
        let mail = MailConfig::resolve(&options, file)?;
        let connections = ConnectionLimits::resolve(&options, file)?;
        let bind_text = options.bind.or_else(|| file.bind.clone()).unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr = bind_text
            .parse()
            .with_context(|| format!("LATCHKEY_BIND must be an address like 127.0.0.1:8787, got {bind_text:?}"))?;
        let public_url =
            options.public_url.or_else(|| file.public_url.clone()).unwrap_or_else(|| format!("http://{bind}"));
        let parsed = url::Url::parse(&public_url)
            .with_context(|| format!("LATCHKEY_PUBLIC_URL is not a URL: {public_url:?}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            bail!("LATCHKEY_PUBLIC_URL must be an http(s) URL with a host, got {public_url:?}");
        }
        let public_url = public_url.trim_end_matches('/').to_owned();

        let defaults = HashCost::default();
        let hash_cost = HashCost {
            memory_kib: options.hash_memory_kib.or(file.hash_memory_kib).unwrap_or(defaults.memory_kib),
            iterations: options.hash_iterations.or(file.hash_iterations).unwrap_or(defaults.iterations),
            parallelism: 1,
        };
        if hash_cost.memory_kib < defaults.memory_kib || hash_cost.iterations < defaults.iterations {
            bail!("Argon2id cost below OWASP's floor (19456 KiB, 2 iterations) is refused");
        }
        let pool_defaults = PoolSize::default();
        let hash_pool = PoolSize {
            threads: options.hash_threads.or(file.hash_threads).unwrap_or(pool_defaults.threads),
            queue: options.hash_queue.or(file.hash_queue).unwrap_or(pool_defaults.queue),
        };
        if hash_pool.threads == 0 || hash_pool.threads > 256 || hash_pool.queue == 0 {
            bail!("LATCHKEY_HASH_THREADS must be 1-256 and LATCHKEY_HASH_QUEUE at least 1");
        }
        let body_limit = options.body_limit.or(file.body_limit_bytes).unwrap_or(crate::app::DEFAULT_BODY_LIMIT);
        if !(1024..=16 * 1024 * 1024).contains(&body_limit) {
            bail!("LATCHKEY_BODY_LIMIT must be between 1 KiB and 16 MiB");
        }
        let refresh_grace_secs = options.refresh_grace_secs.or(file.refresh_grace_secs).unwrap_or(30);
        if !(0..=300).contains(&refresh_grace_secs) {
            bail!("LATCHKEY_REFRESH_GRACE must be between 0 and 300 seconds");
        }
        let metrics = match (
            options.metrics.or(file.metrics).unwrap_or(true),
            options.metrics_bind.or_else(|| file.metrics_bind.clone()).filter(|b| !b.trim().is_empty()),
        ) {
            (false, _) => MetricsExposure::Off,
            (true, None) => MetricsExposure::Main,
            (true, Some(text)) => {
                let addr: SocketAddr = text.parse().with_context(|| {
                    format!("LATCHKEY_METRICS_BIND must be an address like 127.0.0.1:9090, got {text:?}")
                })?;
                if addr == bind {
                    bail!(
                        "LATCHKEY_METRICS_BIND must differ from LATCHKEY_BIND (leave it unset to serve /metrics on the main address)"
                    );
                }
                MetricsExposure::Separate(addr)
            }
        };
        Ok(Self { bind, public_url, hash_cost, hash_pool, body_limit, refresh_grace_secs, mail, metrics, connections })
    }
}

pub fn parse_log_format(text: Option<&str>) -> anyhow::Result<LogFormat> {
    match text.unwrap_or("text") {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => bail!("LATCHKEY_LOG_FORMAT must be text or json, got {other:?}"),
    }
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
    fn storage_config_debug_hides_the_database_password() {
        let (_, key) = MasterKey::generate();
        let url = "postgres://latchkey:hunter2-pw@db.internal:5432/latchkey";
        let storage = StorageConfig::resolve(
            Some(url.into()),
            Some(4),
            DatabaseOptions::default(),
            None,
            Some(key),
            &FileConfig::default(),
        )
        .unwrap();
        let debug = format!("{storage:?}");
        assert!(!debug.contains("hunter2-pw"), "{debug}");
        assert!(debug.contains("latchkey:***@db.internal"), "{debug}");
        assert_eq!(storage.database_pool_size, 4);
        assert_eq!(redact_password("sqlite://./data/latchkey.db"), "sqlite://./data/latchkey.db");
    }

    #[test]
    fn database_pool_size_comes_from_flag_file_or_default_and_is_bounded() {
        let (_, key) = MasterKey::generate();
        let url = || Some("postgres://postgres@127.0.0.1/latchkey".to_owned());
        let file = FileConfig { database_pool_size: Some(32), ..Default::default() };
        let resolve = |size, file: &FileConfig| {
            StorageConfig::resolve(url(), size, DatabaseOptions::default(), None, Some(key.clone()), file)
        };
        assert_eq!(resolve(None, &FileConfig::default()).unwrap().database_pool_size, 16);
        assert_eq!(resolve(None, &file).unwrap().database_pool_size, 32);
        assert_eq!(resolve(Some(8), &file).unwrap().database_pool_size, 8, "the flag wins over the file");
        for bad in [0, MAX_DATABASE_POOL_SIZE + 1] {
            let err = resolve(Some(bad), &file).unwrap_err().to_string();
            assert!(err.contains("LATCHKEY_DATABASE_POOL_SIZE"), "{err}");
        }
    }

    #[test]
    fn database_timeouts_and_pooler_are_resolved_and_checked() {
        use latchkey_store::PgPooler;
        let (_, key) = MasterKey::generate();
        let pg = || Some("postgres://postgres@127.0.0.1:6432/latchkey".to_owned());
        let resolve = |url: Option<String>, options: DatabaseOptions, file: &FileConfig| {
            StorageConfig::resolve(url, None, options, None, Some(key.clone()), file).map(|s| s.database)
        };
        let defaults = resolve(pg(), DatabaseOptions::default(), &FileConfig::default()).unwrap();
        assert_eq!(defaults.pooler, PgPooler::None);
        assert_eq!(defaults.connect_timeout, Duration::from_secs(5));
        assert_eq!(defaults.acquire_timeout, Duration::from_secs(1));
        assert_eq!(defaults.statement_timeout, Duration::from_secs(5));

        let file = FileConfig {
            database_pooler: Some("transaction".into()),
            database_migration_url: Some("postgres://postgres@127.0.0.1:5432/latchkey".into()),
            database_acquire_timeout_ms: Some(2500),
            database_statement_timeout_ms: Some(0),
            ..Default::default()
        };
        let flags = DatabaseOptions { acquire_timeout_ms: Some(700), ..Default::default() };
        let settings = resolve(pg(), flags, &file).unwrap();
        assert_eq!(settings.pooler, PgPooler::Transaction);
        assert_eq!(settings.acquire_timeout, Duration::from_millis(700), "the flag wins over the file");
        assert_eq!(settings.statement_timeout, Duration::ZERO, "0 turns the statement timeout off");

        let no_migration_url = DatabaseOptions { pooler: Some("transaction".into()), ..Default::default() };
        let err = resolve(pg(), no_migration_url, &FileConfig::default()).unwrap_err().to_string();
        assert!(err.contains("LATCHKEY_DATABASE_MIGRATION_URL") && err.contains("session"), "{err}");
        let bad = [
            DatabaseOptions { pooler: Some("statement".into()), ..Default::default() },
            DatabaseOptions { acquire_timeout_ms: Some(0), ..Default::default() },
            DatabaseOptions { connect_timeout_ms: Some(MAX_DATABASE_WAIT_MS + 1), ..Default::default() },
            DatabaseOptions { statement_timeout_ms: Some(MAX_DATABASE_STATEMENT_TIMEOUT_MS + 1), ..Default::default() },
            DatabaseOptions { migration_url: Some("mysql://x".into()), ..Default::default() },
        ];
        for options in bad {
            assert!(resolve(pg(), options, &FileConfig::default()).is_err());
        }
        let sqlite = Some("sqlite:///tmp/latchkey-config-test/none.db".to_owned());
        let session = DatabaseOptions { pooler: Some("session".into()), ..Default::default() };
        assert!(resolve(sqlite, session, &FileConfig::default()).unwrap_err().to_string().contains("PostgreSQL only"));

        assert_eq!(parse_duration_ms("1500"), Ok(1500));
        assert_eq!(parse_duration_ms("2s"), Ok(2000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert!(parse_duration_ms("soon").is_err());
    }

    #[test]
    fn serve_config_rejects_bad_values() {
        let file = FileConfig::default();
        let bad_bind = ServeOptions { bind: Some("nowhere".into()), ..Default::default() };
        assert!(ServeConfig::resolve(bad_bind, &file).is_err());
        let bad_url = ServeOptions { public_url: Some("ftp://x".into()), ..Default::default() };
        assert!(ServeConfig::resolve(bad_url, &file).is_err());
        let weak = ServeOptions { hash_memory_kib: Some(1024), ..Default::default() };
        assert!(ServeConfig::resolve(weak, &file).is_err());
        let ok = ServeConfig::resolve(ServeOptions::default(), &file).unwrap();
        assert_eq!(ok.public_url, "http://127.0.0.1:8787");
        assert_eq!(ok.metrics, MetricsExposure::Main);
    }

    #[test]
    fn metrics_exposure() {
        let file = FileConfig::default();
        let off =
            ServeOptions { metrics: Some(false), metrics_bind: Some("127.0.0.1:9090".into()), ..Default::default() };
        assert_eq!(ServeConfig::resolve(off, &file).unwrap().metrics, MetricsExposure::Off);
        let separate = ServeOptions { metrics_bind: Some("127.0.0.1:9090".into()), ..Default::default() };
        let addr = "127.0.0.1:9090".parse().unwrap();
        assert_eq!(ServeConfig::resolve(separate, &file).unwrap().metrics, MetricsExposure::Separate(addr));
        let bad = ServeOptions { metrics_bind: Some("private".into()), ..Default::default() };
        assert!(ServeConfig::resolve(bad, &file).unwrap_err().to_string().contains("LATCHKEY_METRICS_BIND"));
        let same = ServeOptions { metrics_bind: Some(DEFAULT_BIND.into()), ..Default::default() };
        assert!(ServeConfig::resolve(same, &file).is_err());
        let from_file = FileConfig { metrics: Some(false), ..Default::default() };
        assert_eq!(ServeConfig::resolve(ServeOptions::default(), &from_file).unwrap().metrics, MetricsExposure::Off);
    }

    #[test]
    fn mail_settings_are_checked_at_start_up() {
        let file = FileConfig::default();
        let bad = ServeOptions { smtp_url: Some("http://mail".into()), ..Default::default() };
        assert!(ServeConfig::resolve(bad, &file).unwrap_err().to_string().contains("LATCHKEY_SMTP_URL"));
        let bad_from = ServeOptions { mail_from: Some("not an address".into()), ..Default::default() };
        assert!(ServeConfig::resolve(bad_from, &file).unwrap_err().to_string().contains("LATCHKEY_MAIL_FROM"));
        let ok = ServeOptions { smtp_url: Some("smtp://u:p@mail.example:587".into()), ..Default::default() };
        let mail = ServeConfig::resolve(ok, &file).unwrap().mail;
        assert_eq!(mail.smtp.unwrap().security, SmtpSecurity::StartTls);
        assert!(ServeConfig::resolve(ServeOptions::default(), &file).unwrap().mail.smtp.is_none());
    }

    #[test]
    fn connection_limits_default_and_are_bounded() {
        let file = FileConfig::default();
        let limits = ServeConfig::resolve(ServeOptions::default(), &file).unwrap().connections;
        assert_eq!(limits, ConnectionLimits::default());
        assert_eq!(limits.header_timeout.as_secs(), 10);
        assert_eq!(limits.body_timeout.as_secs(), 30);
        assert_eq!(limits.idle_timeout.as_secs(), 75);
        let from_file = FileConfig { idle_timeout_secs: Some(120), max_connections: Some(50), ..Default::default() };
        let flag = ServeOptions { max_connections: Some(10), ..Default::default() };
        let limits = ServeConfig::resolve(flag, &from_file).unwrap().connections;
        assert_eq!((limits.idle_timeout.as_secs(), limits.max_connections), (120, 10), "the flag wins over the file");
        let bad: [(ServeOptions, &str); 5] = [
            (ServeOptions { header_timeout_secs: Some(0), ..Default::default() }, "LATCHKEY_HEADER_TIMEOUT"),
            (ServeOptions { body_timeout_secs: Some(601), ..Default::default() }, "LATCHKEY_BODY_TIMEOUT"),
            (ServeOptions { idle_timeout_secs: Some(-1), ..Default::default() }, "LATCHKEY_IDLE_TIMEOUT"),
            (ServeOptions { max_connections: Some(0), ..Default::default() }, "LATCHKEY_MAX_CONNECTIONS"),
            (
                ServeOptions { max_connections: Some(MAX_MAX_CONNECTIONS + 1), ..Default::default() },
                "LATCHKEY_MAX_CONNECTIONS",
            ),
        ];
        for (options, name) in bad {
            let err = ServeConfig::resolve(options, &file).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("90"), Ok(90));
        assert_eq!(parse_duration_secs("30m"), Ok(1800));
        assert_eq!(parse_duration_secs("30d"), Ok(30 * 86400));
        assert!(parse_duration_secs("soon").is_err());
    }

    #[test]
    fn file_config_rejects_unknown_keys() {
        assert!(toml::from_str::<FileConfig>("bind = \"127.0.0.1:1\"\nbnid = 3").is_err());
    }
}
