//! Configuration: the layered [`settings`](crate::settings) checked and turned into typed
//! values before the server binds, so a bad setting fails at start-up with a message naming
//! its variable, never at the first request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use latchkey_core::crypto::MasterKey;
use latchkey_core::hashing::{HashCost, PoolSize};

use crate::connections::ConnectionLimits;
use crate::mail::{SmtpSecurity, SmtpUrl};
use crate::routes::pages::PageTemplates;
pub use crate::settings::{
    DEFAULT_BIND, DEFAULT_DATA_DIR, DEFAULT_MAIL_FROM, GlobalSettings, SecretUrl, ServeSettings, parse_duration_ms,
    parse_duration_secs,
};

/// Where the data lives and how secrets at rest are unlocked (shared by serve and admin).
/// Its `Debug` hides the database password (a `postgres://` URL may carry one).
#[derive(Clone, Debug)]
pub struct StorageConfig {
    pub database_url: SecretUrl,
    /// PostgreSQL connections per process (ignored by SQLite).
    pub database_pool_size: u32,
    /// PostgreSQL timeouts, pooler mode and migration URL.
    pub database: DatabaseSettings,
    pub data_dir: PathBuf,
    pub master_key: MasterKey,
}

/// Upper bound on `LATCHKEY_DATABASE_POOL_SIZE`: far beyond any useful pool, well below
/// anything that would exhaust a server's connection slots by a typo.
pub const MAX_DATABASE_POOL_SIZE: u32 = 500;

/// PostgreSQL availability and pooler settings, resolved and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// `LATCHKEY_DATABASE_POOLER`: none, session or transaction.
    pub pooler: latchkey_store::PgPooler,
    /// `LATCHKEY_DATABASE_MIGRATION_URL`: direct URL for migrations (required in transaction mode).
    pub migration_url: Option<SecretUrl>,
    /// `LATCHKEY_DATABASE_CONNECT_TIMEOUT`: how long start-up waits for the database.
    pub connect_timeout: Duration,
    /// `LATCHKEY_DATABASE_ACQUIRE_TIMEOUT`: how long a request waits for a connection.
    pub acquire_timeout: Duration,
    /// `LATCHKEY_DATABASE_STATEMENT_TIMEOUT`: PostgreSQL's statement_timeout; zero: none.
    pub statement_timeout: Duration,
    /// `LATCHKEY_DATABASE_SCHEMA`: the schema of Latchkey's tables.
    pub schema: latchkey_store::PgSchema,
}

/// Upper bound on the connect and acquire timeouts (a typo must not mean "wait forever").
pub const MAX_DATABASE_WAIT_MS: u64 = 600_000;
/// Upper bound on the statement timeout.
pub const MAX_DATABASE_STATEMENT_TIMEOUT_MS: u64 = 3_600_000;

impl DatabaseSettings {
    fn resolve(settings: &GlobalSettings, postgres: bool) -> anyhow::Result<Self> {
        use latchkey_store::PgPooler;
        let pooler = match settings.database_pooler.trim() {
            "" => PgPooler::None,
            text => PgPooler::parse(text).ok_or_else(|| {
                anyhow::anyhow!("LATCHKEY_DATABASE_POOLER must be none, session or transaction, got {text:?}")
            })?,
        };
        let migration_url = settings.database_migration_url.clone().filter(|u| !u.expose().trim().is_empty());
        if !postgres && (pooler != PgPooler::None || migration_url.is_some()) {
            bail!("LATCHKEY_DATABASE_POOLER and LATCHKEY_DATABASE_MIGRATION_URL apply to PostgreSQL only");
        }
        let schema = latchkey_store::PgSchema::parse(&settings.database_schema)
            .map_err(|e| anyhow::anyhow!("LATCHKEY_DATABASE_SCHEMA: {e}"))?;
        if !postgres && schema != latchkey_store::PgSchema::default() {
            bail!("LATCHKEY_DATABASE_SCHEMA applies to PostgreSQL only (SQLite has no schemas)");
        }
        if let Some(url) = migration_url.as_ref().map(SecretUrl::expose)
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
        let connect_timeout = Duration::from_millis(settings.database_connect_timeout_ms);
        let acquire_timeout = Duration::from_millis(settings.database_acquire_timeout_ms);
        let statement_timeout = Duration::from_millis(settings.database_statement_timeout_ms);
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
        Ok(Self { pooler, migration_url, connect_timeout, acquire_timeout, statement_timeout, schema })
    }
}

impl StorageConfig {
    /// Checks `settings`; `master_key` is `LATCHKEY_MASTER_KEY` (see [`crate::master_key`]).
    pub fn resolve(settings: &GlobalSettings, master_key: Option<String>) -> anyhow::Result<Self> {
        let data_dir = settings.data_dir.clone();
        let database_url = settings
            .database_url
            .clone()
            .unwrap_or_else(|| SecretUrl::new(format!("sqlite://{}", data_dir.join(DEFAULT_DATABASE_FILE).display())));
        let sqlite_path = sqlite_path(database_url.expose());
        if sqlite_path.is_none() && !database_url.expose().starts_with("postgres") {
            bail!(
                "LATCHKEY_DATABASE_URL must start with sqlite:// or postgres://, got {:?}",
                scheme(database_url.expose())
            );
        }
        let database_pool_size = settings.database_pool_size;
        if database_pool_size == 0 || database_pool_size > MAX_DATABASE_POOL_SIZE {
            bail!(
                "LATCHKEY_DATABASE_POOL_SIZE must be between 1 and {MAX_DATABASE_POOL_SIZE}, got {database_pool_size}"
            );
        }
        let database = DatabaseSettings::resolve(settings, sqlite_path.is_none())?;
        let master_key =
            crate::master_key::resolve(master_key, settings.master_key_file.as_deref(), sqlite_path.as_deref())?;
        Ok(Self { database_url, database_pool_size, database, data_dir, master_key })
    }

    /// As [`StorageConfig::resolve`], for a command that must not create anything: the admin
    /// commands. Only `serve` and `init` create the embedded database and its master key; here
    /// a missing database file is an error naming the path looked at and how to fix it, and
    /// nothing is written (no data directory, no key). A PostgreSQL database is created by its
    /// operator, never by Latchkey, so it is used as configured (migrations included).
    pub fn resolve_existing(settings: &GlobalSettings, master_key: Option<String>) -> anyhow::Result<Self> {
        if let Some(path) = embedded_database(settings) {
            // A setting that is wrong whatever the database (a PostgreSQL-only one) is the
            // first thing to say.
            DatabaseSettings::resolve(settings, false)?;
            // Checked before the master key is resolved: that step generates a key beside a
            // database that does not exist yet.
            if !path.exists() {
                let shown = std::path::absolute(&path).unwrap_or(path);
                bail!(
                    "no Latchkey database at {}: admin commands never create one. Create it with `latchkey init` \
                     (or start `latchkey serve` once) with these settings, or point to the existing one with \
                     --data-dir / LATCHKEY_DATA_DIR or --database-url / LATCHKEY_DATABASE_URL",
                    shown.display()
                );
            }
        }
        Self::resolve(settings, master_key)
    }

    /// The file of the embedded (SQLite) database; None for PostgreSQL.
    pub fn embedded_path(&self) -> Option<PathBuf> {
        sqlite_path(self.database_url.expose())
    }

    /// Opens (and migrates) the configured database.
    pub async fn open_store(&self) -> anyhow::Result<std::sync::Arc<dyn latchkey_core::store::Store>> {
        latchkey_store::open_with(self.database_url.expose(), &self.open_options())
            .await
            .context("cannot open the database")
    }

    /// How the store connects, beyond the URL.
    pub fn open_options(&self) -> latchkey_store::OpenOptions {
        latchkey_store::OpenOptions {
            pg_pool_size: self.database_pool_size,
            pg_pooler: self.database.pooler,
            pg_migration_url: self.database.migration_url.as_ref().map(|u| u.expose().to_owned().into()),
            pg_connect_timeout: self.database.connect_timeout,
            pg_acquire_timeout: self.database.acquire_timeout,
            pg_statement_timeout: self.database.statement_timeout,
            pg_schema: self.database.schema.clone(),
        }
    }

    /// Whether the database is PostgreSQL (else the embedded SQLite).
    pub fn is_postgres(&self) -> bool {
        sqlite_path(self.database_url.expose()).is_none()
    }
}

/// The embedded database file `settings` name (the default under the data directory), if the
/// database is SQLite.
pub fn embedded_database(settings: &GlobalSettings) -> Option<PathBuf> {
    match &settings.database_url {
        Some(url) => sqlite_path(url.expose()),
        None => Some(settings.data_dir.join(DEFAULT_DATABASE_FILE)),
    }
}

/// The embedded database's file name in the data directory.
pub const DEFAULT_DATABASE_FILE: &str = "latchkey.db";

/// The file path of a `sqlite://PATH` URL.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).map(PathBuf::from)
}

fn scheme(url: &str) -> &str {
    url.split("://").next().unwrap_or("")
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
    /// `LATCHKEY_AUDIT_RETENTION_DAYS`: the maintenance task deletes older audit records.
    pub audit_retention_days: u32,
    /// `LATCHKEY_PAGE_TEMPLATES`: the hosted pages' templates, overrides compiled and checked.
    pub page_templates: Arc<PageTemplates>,
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
    pub smtp_timeout: Duration,
    /// `LATCHKEY_SMTP_CA_FILE`: PEM CA certificate(s) trusted in addition to the Mozilla roots.
    pub smtp_ca_pem: Option<Vec<u8>>,
}

impl MailConfig {
    pub fn resolve(settings: &ServeSettings) -> anyhow::Result<Self> {
        let smtp = match settings.smtp_url.as_ref().map(SecretUrl::expose).filter(|u| !u.trim().is_empty()) {
            None => None,
            Some(text) => {
                let url = SmtpUrl::parse(text).map_err(|e| {
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
        let from = settings.mail_from.clone();
        from.parse::<lettre::message::Mailbox>().map_err(|e| {
            anyhow::anyhow!("LATCHKEY_MAIL_FROM must be an address like 'Acme <no-reply@acme.example>': {e}")
        })?;
        let templates_dir = settings.mail_templates_dir.clone();
        if let Some(dir) = &templates_dir
            && !dir.is_dir()
        {
            bail!("LATCHKEY_MAIL_TEMPLATES must be an existing directory, got {}", dir.display());
        }
        let timeout = settings.smtp_timeout_secs;
        if !(1..=300).contains(&timeout) {
            bail!("LATCHKEY_SMTP_TIMEOUT must be between 1 and 300 seconds");
        }
        let smtp_ca_pem = match &settings.smtp_ca_file {
            None => None,
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("LATCHKEY_SMTP_CA_FILE: cannot read {}", path.display()))?;
                lettre::transport::smtp::client::Certificate::from_pem(&pem).map_err(|e| {
                    anyhow::anyhow!("LATCHKEY_SMTP_CA_FILE {} is not a PEM certificate: {e}", path.display())
                })?;
                Some(pem)
            }
        };
        Ok(Self { smtp, from, templates_dir, smtp_timeout: Duration::from_secs(timeout), smtp_ca_pem })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Upper bound on `LATCHKEY_MAX_CONNECTIONS` (a typo guard; the open-file limit decides).
pub const MAX_MAX_CONNECTIONS: usize = 1_000_000;

impl ConnectionLimits {
    /// The connection settings, checked.
    pub fn resolve(settings: &ServeSettings) -> anyhow::Result<Self> {
        let secs = |value: i64, name: &str, max: i64| {
            if !(1..=max).contains(&value) {
                bail!("{name} must be between 1 and {max} seconds, got {value}");
            }
            Ok(Duration::from_secs(value.unsigned_abs()))
        };
        let header_timeout = secs(settings.header_timeout_secs, "LATCHKEY_HEADER_TIMEOUT", 300)?;
        let body_timeout = secs(settings.body_timeout_secs, "LATCHKEY_BODY_TIMEOUT", 600)?;
        let idle_timeout = secs(settings.idle_timeout_secs, "LATCHKEY_IDLE_TIMEOUT", 3600)?;
        let max_connections = settings.max_connections;
        if !(1..=MAX_MAX_CONNECTIONS).contains(&max_connections) {
            bail!("LATCHKEY_MAX_CONNECTIONS must be between 1 and {MAX_MAX_CONNECTIONS}, got {max_connections}");
        }
        Ok(Self { header_timeout, body_timeout, idle_timeout, max_connections })
    }
}

impl ServeConfig {
    pub fn resolve(settings: &ServeSettings) -> anyhow::Result<Self> {
        let mail = MailConfig::resolve(settings)?;
        let connections = ConnectionLimits::resolve(settings)?;
        let bind_text = &settings.bind;
        let bind: SocketAddr = bind_text
            .parse()
            .with_context(|| format!("LATCHKEY_BIND must be an address like 127.0.0.1:8787, got {bind_text:?}"))?;
        let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{bind}"));
        let parsed = url::Url::parse(&public_url)
            .with_context(|| format!("LATCHKEY_PUBLIC_URL is not a URL: {public_url:?}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            bail!("LATCHKEY_PUBLIC_URL must be an http(s) URL with a host, got {public_url:?}");
        }
        let public_url = public_url.trim_end_matches('/').to_owned();

        let floor = HashCost::default();
        let hash_cost =
            HashCost { memory_kib: settings.hash_memory_kib, iterations: settings.hash_iterations, parallelism: 1 };
        if hash_cost.memory_kib < floor.memory_kib || hash_cost.iterations < floor.iterations {
            bail!("Argon2id cost below OWASP's floor (19456 KiB, 2 iterations) is refused");
        }
        let hash_pool = PoolSize {
            threads: settings.hash_threads.unwrap_or_else(|| PoolSize::default().threads),
            queue: settings.hash_queue,
        };
        if hash_pool.threads == 0 || hash_pool.threads > 256 || hash_pool.queue == 0 {
            bail!("LATCHKEY_HASH_THREADS must be 1-256 and LATCHKEY_HASH_QUEUE at least 1");
        }
        let body_limit = settings.body_limit_bytes;
        if !(1024..=16 * 1024 * 1024).contains(&body_limit) {
            bail!("LATCHKEY_BODY_LIMIT must be between 1 KiB and 16 MiB");
        }
        let refresh_grace_secs = settings.refresh_grace_secs;
        if !(0..=300).contains(&refresh_grace_secs) {
            bail!("LATCHKEY_REFRESH_GRACE must be between 0 and 300 seconds");
        }
        let metrics = match (settings.metrics, settings.metrics_bind.as_deref().filter(|b| !b.trim().is_empty())) {
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
        let audit_retention_days = settings.audit_retention_days;
        if !(1..=36_500).contains(&audit_retention_days) {
            bail!("LATCHKEY_AUDIT_RETENTION_DAYS must be between 1 and 36500 days");
        }
        let page_templates = Arc::new(match &settings.page_templates_dir {
            None => PageTemplates::built_in(),
            Some(dir) if !dir.is_dir() => {
                bail!("LATCHKEY_PAGE_TEMPLATES must be an existing directory, got {}", dir.display())
            }
            Some(dir) => PageTemplates::load(dir).map_err(|e| anyhow::anyhow!("LATCHKEY_PAGE_TEMPLATES: {e}"))?,
        });
        Ok(Self {
            bind,
            public_url,
            hash_cost,
            hash_pool,
            body_limit,
            refresh_grace_secs,
            mail,
            metrics,
            connections,
            audit_retention_days,
            page_templates,
        })
    }
}

pub fn parse_log_format(text: &str) -> anyhow::Result<LogFormat> {
    match text {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => bail!("LATCHKEY_LOG_FORMAT must be text or json, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::settings::{ConfigFile, layered};

    /// Settings as `latchkey <args> serve <serve_args>` over a TOML file of `toml` resolves them.
    fn settings(args: &[&str], toml: &str) -> (GlobalSettings, ServeSettings) {
        serve_settings(args, &[], toml)
    }

    fn serve_settings(args: &[&str], serve_args: &[&str], toml: &str) -> (GlobalSettings, ServeSettings) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latchkey.toml");
        std::fs::write(&path, toml).unwrap();
        let file = ConfigFile::load(Some(&path)).unwrap();
        let line = ["latchkey"].iter().chain(args).chain(&["serve"]).chain(serve_args);
        let matches = crate::cli::Cli::command().try_get_matches_from(line).unwrap();
        let global = GlobalSettings::from_matches(&matches);
        let serve_matches = matches.subcommand_matches("serve").unwrap();
        let serve = ServeSettings::from_matches(serve_matches);
        (layered(&global, &matches, &file).unwrap(), layered(&serve, serve_matches, &file).unwrap())
    }

    trait FromMatches: clap::FromArgMatches {
        fn from_matches(matches: &clap::ArgMatches) -> Self {
            Self::from_arg_matches(matches).unwrap()
        }
    }
    impl FromMatches for GlobalSettings {}
    impl FromMatches for ServeSettings {}

    fn storage(global: &GlobalSettings) -> anyhow::Result<StorageConfig> {
        let (_, key) = MasterKey::generate();
        StorageConfig::resolve(global, Some(key))
    }

    fn pg(url: &str) -> GlobalSettings {
        GlobalSettings { database_url: Some(SecretUrl::new(url)), ..Default::default() }
    }

    #[test]
    fn storage_config_debug_hides_the_database_password() {
        let url = "postgres://latchkey:hunter2-pw@db.internal:5432/latchkey";
        let storage = storage(&GlobalSettings { database_pool_size: 4, ..pg(url) }).unwrap();
        let debug = format!("{storage:?}");
        assert!(!debug.contains("hunter2-pw"), "{debug}");
        assert!(debug.contains("latchkey:***@db.internal"), "{debug}");
        assert_eq!(storage.database_pool_size, 4);
        assert_eq!(SecretUrl::new("sqlite://./data/latchkey.db").redacted(), "sqlite://./data/latchkey.db");
    }

    #[test]
    fn database_pool_size_comes_from_flag_file_or_default_and_is_bounded() {
        let url = "--database-url=postgres://postgres@127.0.0.1/latchkey";
        let resolve = |args: &[&str], toml: &str| storage(&settings(args, toml).0);
        assert_eq!(resolve(&[url], "").unwrap().database_pool_size, 16);
        assert_eq!(resolve(&[url], "database_pool_size = 32").unwrap().database_pool_size, 32);
        assert_eq!(
            resolve(&[url, "--database-pool-size=8"], "database_pool_size = 32").unwrap().database_pool_size,
            8,
            "the flag wins over the file"
        );
        for bad in [0, MAX_DATABASE_POOL_SIZE + 1] {
            let err = storage(&GlobalSettings { database_pool_size: bad, ..pg("postgres://postgres@127.0.0.1/x") })
                .unwrap_err()
                .to_string();
            assert!(err.contains("LATCHKEY_DATABASE_POOL_SIZE"), "{err}");
        }
    }

    #[test]
    fn database_timeouts_and_pooler_are_resolved_and_checked() {
        use latchkey_store::PgPooler;
        let pg_url = "postgres://postgres@127.0.0.1:6432/latchkey";
        let resolve = |settings: GlobalSettings| storage(&settings).map(|s| s.database);
        let defaults = resolve(pg(pg_url)).unwrap();
        assert_eq!(defaults.pooler, PgPooler::None);
        assert_eq!(defaults.connect_timeout, Duration::from_secs(5));
        assert_eq!(defaults.acquire_timeout, Duration::from_secs(1));
        assert_eq!(defaults.statement_timeout, Duration::from_secs(5));

        let file = "database_pooler = \"transaction\"\n\
                    database_migration_url = \"postgres://postgres@127.0.0.1:5432/latchkey\"\n\
                    database_acquire_timeout_ms = 2500\n\
                    database_statement_timeout_ms = 0\n";
        let flags = ["--database-url", pg_url, "--database-acquire-timeout", "700"];
        let settings = resolve(settings(&flags, file).0).unwrap();
        assert_eq!(settings.pooler, PgPooler::Transaction);
        assert_eq!(settings.acquire_timeout, Duration::from_millis(700), "the flag wins over the file");
        assert_eq!(settings.statement_timeout, Duration::ZERO, "0 turns the statement timeout off");

        let no_migration_url = GlobalSettings { database_pooler: "transaction".into(), ..pg(pg_url) };
        let err = resolve(no_migration_url).unwrap_err().to_string();
        assert!(err.contains("LATCHKEY_DATABASE_MIGRATION_URL") && err.contains("session"), "{err}");
        let bad = [
            GlobalSettings { database_pooler: "statement".into(), ..pg(pg_url) },
            GlobalSettings { database_acquire_timeout_ms: 0, ..pg(pg_url) },
            GlobalSettings { database_connect_timeout_ms: MAX_DATABASE_WAIT_MS + 1, ..pg(pg_url) },
            GlobalSettings { database_statement_timeout_ms: MAX_DATABASE_STATEMENT_TIMEOUT_MS + 1, ..pg(pg_url) },
            GlobalSettings { database_migration_url: Some(SecretUrl::new("mysql://x")), ..pg(pg_url) },
        ];
        for settings in bad {
            assert!(resolve(settings).is_err());
        }
        let session =
            GlobalSettings { database_pooler: "session".into(), ..pg("sqlite:///tmp/latchkey-config-test/none.db") };
        assert!(resolve(session).unwrap_err().to_string().contains("PostgreSQL only"));

        assert_eq!(parse_duration_ms("1500"), Ok(1500));
        assert_eq!(parse_duration_ms("2s"), Ok(2000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert!(parse_duration_ms("soon").is_err());
    }

    #[test]
    fn database_schema_is_a_checked_plain_identifier_for_postgres_only() {
        let pg_url = "postgres://postgres@127.0.0.1:6432/latchkey";
        let resolve = |settings: GlobalSettings| storage(&settings).map(|s| s.database.schema);
        assert_eq!(resolve(pg(pg_url)).unwrap().as_str(), "latchkey");
        let flag = settings(&["--database-url", pg_url, "--database-schema", "authz"], "").0;
        assert_eq!(resolve(flag).unwrap().as_str(), "authz");
        let file = settings(&["--database-url", pg_url], "database_schema = \"auth_2\"\n").0;
        assert_eq!(resolve(file).unwrap().as_str(), "auth_2");
        for bad in ["Authz", "auth-z", "auth z", " authz", "x\"; DROP TABLE users; --", "pg_x", ""] {
            let err = resolve(GlobalSettings { database_schema: bad.into(), ..pg(pg_url) }).unwrap_err().to_string();
            assert!(err.contains("LATCHKEY_DATABASE_SCHEMA") && err.contains("plain identifier"), "{bad:?}: {err}");
        }
        let sqlite =
            GlobalSettings { database_schema: "authz".into(), ..pg("sqlite:///tmp/latchkey-config-test/none.db") };
        assert!(resolve(sqlite).unwrap_err().to_string().contains("PostgreSQL only"));
    }

    #[test]
    fn serve_config_rejects_bad_values() {
        let bad_bind = ServeSettings { bind: "nowhere".into(), ..Default::default() };
        assert!(ServeConfig::resolve(&bad_bind).is_err());
        let bad_url = ServeSettings { public_url: Some("ftp://x".into()), ..Default::default() };
        assert!(ServeConfig::resolve(&bad_url).is_err());
        let weak = ServeSettings { hash_memory_kib: 1024, ..Default::default() };
        assert!(ServeConfig::resolve(&weak).is_err());
        let ok = ServeConfig::resolve(&ServeSettings::default()).unwrap();
        assert_eq!(ok.public_url, "http://127.0.0.1:8787");
        assert_eq!(ok.metrics, MetricsExposure::Main);
    }

    #[test]
    fn metrics_exposure() {
        let off = ServeSettings { metrics: false, metrics_bind: Some("127.0.0.1:9090".into()), ..Default::default() };
        assert_eq!(ServeConfig::resolve(&off).unwrap().metrics, MetricsExposure::Off);
        let separate = ServeSettings { metrics_bind: Some("127.0.0.1:9090".into()), ..Default::default() };
        let addr = "127.0.0.1:9090".parse().unwrap();
        assert_eq!(ServeConfig::resolve(&separate).unwrap().metrics, MetricsExposure::Separate(addr));
        let bad = ServeSettings { metrics_bind: Some("private".into()), ..Default::default() };
        assert!(ServeConfig::resolve(&bad).unwrap_err().to_string().contains("LATCHKEY_METRICS_BIND"));
        let same = ServeSettings { metrics_bind: Some(DEFAULT_BIND.into()), ..Default::default() };
        assert!(ServeConfig::resolve(&same).is_err());
        let from_file = settings(&[], "metrics = false").1;
        assert_eq!(ServeConfig::resolve(&from_file).unwrap().metrics, MetricsExposure::Off);
    }

    #[test]
    fn mail_settings_are_checked_at_start_up() {
        let smtp = |url: &str| ServeSettings { smtp_url: Some(SecretUrl::new(url)), ..Default::default() };
        assert!(ServeConfig::resolve(&smtp("http://mail")).unwrap_err().to_string().contains("LATCHKEY_SMTP_URL"));
        let bad_from = ServeSettings { mail_from: "not an address".into(), ..Default::default() };
        assert!(ServeConfig::resolve(&bad_from).unwrap_err().to_string().contains("LATCHKEY_MAIL_FROM"));
        let mail = ServeConfig::resolve(&smtp("smtp://u:p@mail.example:587")).unwrap().mail;
        assert_eq!(mail.smtp.unwrap().security, SmtpSecurity::StartTls);
        assert!(ServeConfig::resolve(&ServeSettings::default()).unwrap().mail.smtp.is_none());
    }

    #[test]
    fn connection_limits_default_and_are_bounded() {
        let limits = ServeConfig::resolve(&ServeSettings::default()).unwrap().connections;
        assert_eq!(limits, ConnectionLimits::default());
        assert_eq!(limits.header_timeout.as_secs(), 10);
        assert_eq!(limits.body_timeout.as_secs(), 30);
        assert_eq!(limits.idle_timeout.as_secs(), 75);
        let from_file = "idle_timeout_secs = 120\nmax_connections = 50\n";
        let limits = ServeConfig::resolve(&settings(&[], from_file).1).unwrap().connections;
        assert_eq!((limits.idle_timeout.as_secs(), limits.max_connections), (120, 50));
        let flag = serve_settings(&[], &["--max-connections", "10"], from_file).1;
        let limits = ServeConfig::resolve(&flag).unwrap().connections;
        assert_eq!((limits.idle_timeout.as_secs(), limits.max_connections), (120, 10), "the flag wins over the file");
        let bad: [(ServeSettings, &str); 5] = [
            (ServeSettings { header_timeout_secs: 0, ..Default::default() }, "LATCHKEY_HEADER_TIMEOUT"),
            (ServeSettings { body_timeout_secs: 601, ..Default::default() }, "LATCHKEY_BODY_TIMEOUT"),
            (ServeSettings { idle_timeout_secs: -1, ..Default::default() }, "LATCHKEY_IDLE_TIMEOUT"),
            (ServeSettings { max_connections: 0, ..Default::default() }, "LATCHKEY_MAX_CONNECTIONS"),
            (
                ServeSettings { max_connections: MAX_MAX_CONNECTIONS + 1, ..Default::default() },
                "LATCHKEY_MAX_CONNECTIONS",
            ),
        ];
        for (settings, name) in bad {
            let err = ServeConfig::resolve(&settings).unwrap_err().to_string();
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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latchkey.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:1\"\nbnid = 3").unwrap();
        assert!(ConfigFile::load(Some(&path)).is_err());
    }
}
