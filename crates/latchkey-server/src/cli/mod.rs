//! The `latchkey` command line: `serve` and the admin subcommands, all on one database.

mod admin;
mod external;
mod mail;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{DatabaseOptions, FileConfig, ServeOptions, StorageConfig, parse_duration_ms, parse_duration_secs};

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Latchkey: a self-hosted, multi-project authentication service",
    long_about = "Latchkey: a self-hosted, multi-project authentication service.\n\n\
        `latchkey serve` runs the HTTP API (embedded SQLite under ./latchkey-data by default,\n\
        or PostgreSQL shared by several processes; the first start of an empty database\n\
        creates a project and an API key and prints them once).\n\
        The other subcommands administer projects and API keys on the same database.\n\n\
        Every option can also be set with the LATCHKEY_* variable shown, or in a TOML file\n\
        given with --config (keys: bind, public_url, database_url, database_pool_size,\n\
        database_pooler, database_migration_url, database_connect_timeout_ms,\n\
        database_acquire_timeout_ms, database_statement_timeout_ms, data_dir,\n\
        master_key_file, log_format, hash_threads, hash_queue, hash_memory_kib, hash_iterations,\n\
        body_limit_bytes, refresh_grace_secs, smtp_url, mail_from, mail_templates_dir,\n\
        smtp_timeout_secs, smtp_ca_file, metrics, metrics_bind, header_timeout_secs, body_timeout_secs,\n\
        idle_timeout_secs, max_connections). Flags and variables win over the file.\n\n\
        LATCHKEY_MASTER_KEY (environment only, so it never shows in a process list): base64 of\n\
        32 random bytes that encrypts secrets at rest. With an embedded database and no key,\n\
        one is generated as master.key (mode 0600) beside a new database file."
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "LATCHKEY_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL: sqlite://PATH (default: sqlite://<data-dir>/latchkey.db) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB (then LATCHKEY_MASTER_KEY is required).
    #[arg(long, env = "LATCHKEY_DATABASE_URL", global = true, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL: connections per process (default 16; the server's max_connections is
    /// shared by every process).
    #[arg(long, env = "LATCHKEY_DATABASE_POOL_SIZE", global = true, value_name = "N")]
    pub database_pool_size: Option<u32>,

    // PostgreSQL availability and poolers.
    /// PostgreSQL: what sits between Latchkey and the server: none, session (a pooler in
    /// session mode) or transaction (a pooler in transaction mode, such as PgBouncer's
    /// pool_mode=transaction; needs --database-migration-url) [default: none].
    #[arg(long, env = "LATCHKEY_DATABASE_POOLER", global = true, value_name = "MODE")]
    pub database_pooler: Option<String>,

    /// PostgreSQL: a direct (not pooled) URL of the same database, used only to run
    /// migrations; required with --database-pooler transaction.
    #[arg(long, env = "LATCHKEY_DATABASE_MIGRATION_URL", global = true, value_name = "URL", hide_env_values = true)]
    pub database_migration_url: Option<String>,

    /// PostgreSQL: how long start-up waits for the database, retrying refused connections,
    /// e.g. 5s or 5000 (milliseconds) [default: 5s].
    #[arg(long, env = "LATCHKEY_DATABASE_CONNECT_TIMEOUT", global = true, value_name = "DURATION",
        value_parser = parse_duration_ms)]
    pub database_connect_timeout: Option<u64>,

    /// PostgreSQL: how long a request waits for a database connection (opening one included)
    /// before answering 503 server/unavailable [default: 1s].
    #[arg(long, env = "LATCHKEY_DATABASE_ACQUIRE_TIMEOUT", global = true, value_name = "DURATION",
        value_parser = parse_duration_ms)]
    pub database_acquire_timeout: Option<u64>,

    /// PostgreSQL: statement_timeout for Latchkey's statements (not migrations); a statement
    /// running longer is cancelled and its request answers 503 server/unavailable; 0 turns it
    /// off [default: 5s].
    #[arg(long, env = "LATCHKEY_DATABASE_STATEMENT_TIMEOUT", global = true, value_name = "DURATION",
        value_parser = parse_duration_ms)]
    pub database_statement_timeout: Option<u64>,

    /// Directory for the embedded database and its generated master key.
    #[arg(long, env = "LATCHKEY_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Log output format: text or json. Filter with LATCHKEY_LOG (e.g. "info,latchkey=debug").
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API.
    Serve(ServeArgs),
    /// Create, list, show and configure projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Create, list and revoke a project's API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// External users: HMAC signing secrets for user JWTs (create, rotate, list, revoke).
    #[command(subcommand, name = "signing-secret")]
    SigningSecret(external::SigningSecretCommand),
    /// External users: public keys (RS256, ES256, EdDSA) for user JWTs (add, list, remove).
    #[command(subcommand, name = "external-key")]
    ExternalKey(external::ExternalKeyCommand),
    /// External users: per-project settings (maximum token lifetime, JWKS URL).
    #[command(subcommand, name = "external-config")]
    ExternalConfig(external::ExternalConfigCommand),
    /// Inspect and requeue the email outbox.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_BIND", value_name = "ADDR")]
    pub bind: Option<String>,
    /// Public base URL: the `iss` of tokens and the base of email links (default http://<bind>).
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Password-hashing threads (default: number of CPUs).
    #[arg(long, env = "LATCHKEY_HASH_THREADS")]
    pub hash_threads: Option<usize>,
    /// Hashing jobs that may wait; beyond this, sign-in/up answer 503 server/busy (default 64).
    #[arg(long, env = "LATCHKEY_HASH_QUEUE")]
    pub hash_queue: Option<usize>,
    /// Argon2id memory in KiB (default and minimum 19456).
    #[arg(long, env = "LATCHKEY_HASH_MEMORY_KIB")]
    pub hash_memory_kib: Option<u32>,
    /// Argon2id iterations (default and minimum 2).
    #[arg(long, env = "LATCHKEY_HASH_ITERATIONS")]
    pub hash_iterations: Option<u32>,
    /// Maximum request body in bytes (default 65536).
    #[arg(long, env = "LATCHKEY_BODY_LIMIT")]
    pub body_limit: Option<usize>,
    /// How long a just-rotated refresh token may be replayed for the same pair (default 30s).
    #[arg(long, env = "LATCHKEY_REFRESH_GRACE", value_parser = parse_duration_secs)]
    pub refresh_grace: Option<i64>,
    /// Default SMTP relay: smtp://user:pass@host:587 (STARTTLS), smtps://… (TLS) or
    /// smtp://127.0.0.1:2525?tls=none (loopback). Unset: emails are written as .eml files
    /// under <data-dir>/mail.
    #[arg(long, env = "LATCHKEY_SMTP_URL", value_name = "URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Default sender, e.g. "Acme <no-reply@acme.example>".
    #[arg(long, env = "LATCHKEY_MAIL_FROM", value_name = "MAILBOX")]
    pub mail_from: Option<String>,
    /// Directory of email template overrides (<dir>/<file> or <dir>/<project-id>/<file>).
    #[arg(long, env = "LATCHKEY_MAIL_TEMPLATES", value_name = "DIR")]
    pub mail_templates: Option<PathBuf>,
    /// SMTP connection and command timeout in seconds (default 30).
    #[arg(long, env = "LATCHKEY_SMTP_TIMEOUT", value_name = "SECS")]
    pub smtp_timeout: Option<u64>,
    /// PEM CA certificate(s) to trust for SMTP relays, besides the built-in Mozilla roots.
    #[arg(long, env = "LATCHKEY_SMTP_CA_FILE", value_name = "FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Record Prometheus metrics and serve them at GET /metrics (default true). Do not expose
    /// /metrics publicly: block it at the proxy or use --metrics-bind.
    #[arg(long, env = "LATCHKEY_METRICS", value_name = "BOOL", value_parser = clap::builder::BoolishValueParser::new())]
    pub metrics: Option<bool>,
    /// Serve /metrics only on this separate address (e.g. 127.0.0.1:9090), not on --bind.
    #[arg(long, env = "LATCHKEY_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<String>,
    // Connections.
    /// Time a client has to send a request's headers, from its first byte (or from connecting);
    /// then the connection is closed (default 10s, at most 300s).
    #[arg(long, env = "LATCHKEY_HEADER_TIMEOUT", value_name = "DURATION", value_parser = parse_duration_secs)]
    pub header_timeout: Option<i64>,
    /// Time a client has to send a request's body, from its headers; then 408
    /// request/body-timeout and the connection is closed (default 30s, at most 600s).
    #[arg(long, env = "LATCHKEY_BODY_TIMEOUT", value_name = "DURATION", value_parser = parse_duration_secs)]
    pub body_timeout: Option<i64>,
    /// Keep-alive connections with no request for this long are closed; keep it above your load
    /// balancer's idle timeout (default 75s, at most 3600s).
    #[arg(long, env = "LATCHKEY_IDLE_TIMEOUT", value_name = "DURATION", value_parser = parse_duration_secs)]
    pub idle_timeout: Option<i64>,
    /// Connections served at once; more are answered 503 server/busy and closed (default 4096,
    /// lowered at start to fit the open-file limit).
    #[arg(long, env = "LATCHKEY_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project (with its signing key).
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        lifetimes: Lifetimes,
        #[arg(long)]
        json: bool,
    },
    /// List projects.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one project.
    Show {
        project: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a project's settings.
    Set {
        project: String,
        #[command(flatten)]
        lifetimes: Lifetimes,
        #[command(flatten)]
        mail: MailFlags,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args, Default)]
pub struct Lifetimes {
    /// Access-token lifetime, e.g. 30m (default 30m).
    #[arg(long, value_parser = parse_duration_secs, value_name = "DURATION")]
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime, e.g. 30d (default 30d).
    #[arg(long, value_parser = parse_duration_secs, value_name = "DURATION")]
    pub refresh_token_ttl: Option<i64>,
}

/// Email settings of `project set`. For the URL and sender flags, `none` clears the value.
#[derive(Debug, Args, Default)]
pub struct MailFlags {
    /// The project's own password-reset page (`?token=` is appended); `none`: hosted page.
    #[arg(long, value_name = "URL")]
    pub reset_page_url: Option<String>,
    /// The project's own email-verification page; `none`: hosted page.
    #[arg(long, value_name = "URL")]
    pub verify_page_url: Option<String>,
    /// Sender for this project's emails, e.g. "Acme <no-reply@acme.example>".
    #[arg(long, value_name = "MAILBOX")]
    pub mail_from: Option<String>,
    /// This project's SMTP relay (same forms as LATCHKEY_SMTP_URL). A password in the URL is
    /// stored encrypted, apart from the URL.
    #[arg(long, value_name = "URL")]
    pub smtp_url: Option<String>,
    /// Read this project's SMTP password from standard input (keeps it out of `ps`).
    #[arg(long)]
    pub smtp_password_stdin: bool,
    /// Password-reset link lifetime, e.g. 1h (default 1h).
    #[arg(long, value_parser = parse_duration_secs, value_name = "DURATION")]
    pub reset_ttl: Option<i64>,
    /// Verification link lifetime, e.g. 24h (default 24h).
    #[arg(long, value_parser = parse_duration_secs, value_name = "DURATION")]
    pub verify_ttl: Option<i64>,
    /// Send a verification email automatically on sign-up.
    #[arg(long, value_name = "BOOL")]
    pub verify_on_sign_up: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List outbox messages, newest first (bodies are encrypted and never shown).
    List {
        /// Only this state: pending, sending, sent, failed or dropped.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Requeue failed messages for another round of delivery attempts.
    Retry {
        /// The message id; omit with --all-failed.
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all_failed: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; it is printed once and stored only as a digest.
    Create {
        #[arg(long)]
        project: String,
        #[arg(long, default_value = "default")]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List a project's keys (prefix only).
    List {
        #[arg(long)]
        project: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        #[arg(long)]
        project: String,
        key_id: String,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = FileConfig::load(cli.config.as_deref())?;
    let master_key = std::env::var("LATCHKEY_MASTER_KEY").ok().filter(|k| !k.trim().is_empty());
    let database = DatabaseOptions {
        pooler: cli.database_pooler,
        migration_url: cli.database_migration_url,
        connect_timeout_ms: cli.database_connect_timeout,
        acquire_timeout_ms: cli.database_acquire_timeout,
        statement_timeout_ms: cli.database_statement_timeout,
    };
    let storage =
        StorageConfig::resolve(cli.database_url, cli.database_pool_size, database, cli.data_dir, master_key, &file)?;
    match cli.command {
        Command::Serve(args) => {
            let options = ServeOptions {
                bind: args.bind,
                public_url: args.public_url,
                hash_threads: args.hash_threads,
                hash_queue: args.hash_queue,
                hash_memory_kib: args.hash_memory_kib,
                hash_iterations: args.hash_iterations,
                body_limit: args.body_limit,
                refresh_grace_secs: args.refresh_grace,
                smtp_url: args.smtp_url,
                mail_from: args.mail_from,
                mail_templates_dir: args.mail_templates,
                smtp_timeout_secs: args.smtp_timeout,
                smtp_ca_file: args.smtp_ca_file,
                metrics: args.metrics,
                metrics_bind: args.metrics_bind,
                header_timeout_secs: args.header_timeout,
                body_timeout_secs: args.body_timeout,
                idle_timeout_secs: args.idle_timeout,
                max_connections: args.max_connections,
            };
            let serve = crate::config::ServeConfig::resolve(options, &file)?;
            crate::serve::run(storage, serve).await
        }
        Command::Project(command) => admin::project(&storage, command).await,
        Command::ApiKey(command) => admin::api_key(&storage, command).await,
        Command::SigningSecret(command) => external::signing_secret(&storage, command).await,
        Command::ExternalKey(command) => external::external_key(&storage, command).await,
        Command::ExternalConfig(command) => external::external_config(&storage, command).await,
        Command::Outbox(command) => mail::outbox(&storage, command).await,
    }
}

/// The log format chosen by flag, variable or file (read before tracing starts).
pub fn log_format(cli: &Cli) -> anyhow::Result<crate::config::LogFormat> {
    let file = FileConfig::load(cli.config.as_deref())?;
    crate::config::parse_log_format(cli.log_format.as_deref().or(file.log_format.as_deref()))
}
