//! The `latchkey` command line: `serve` and the admin subcommands, all on one database.

mod admin;
mod audit;
mod db;
mod external;
mod import_settings;
mod init;
mod mail;
mod signing_key;
mod user;
mod user_import;
mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use latchkey_core::auth::{Admin, Deps};
use latchkey_core::clock::SystemClock;
use latchkey_core::hashing::{HashCost, HasherPool, PoolSize};

use crate::config::{StorageConfig, parse_duration_secs};
use crate::settings::{ConfigFile, GlobalSettings, ServeSettings, heading, layered};

/// The help's description; the TOML keys are listed from the settings themselves.
const ABOUT: &str = "Latchkey: a self-hosted, multi-project authentication service.\n\n\
    `latchkey serve` runs the HTTP API (embedded SQLite under ./latchkey-data by default,\n\
    or PostgreSQL shared by several processes; the first start of an empty database\n\
    creates a project and an API key and prints them once).\n\
    `latchkey init` prepares the data directory without serving.\n\
    The other subcommands administer projects, keys and users on the same database; they\n\
    never create one (run `serve` or `init` first, or point them at it with --data-dir).";

const MASTER_KEY_HELP: &str = "LATCHKEY_MASTER_KEY (environment only, so it never shows in a process list): base64 of\n\
    32 random bytes that encrypts secrets at rest. With an embedded database and no key,\n\
    `serve` or `init` generates one as master.key (mode 0600) beside a new database file.";

/// The help of `--project ID`, the same in every command that acts on one project.
pub(crate) const PROJECT_HELP: &str = "The project's id (a UUID; `latchkey project list` shows them)";

/// The help of `--json`.
pub(crate) const JSON_HELP: &str = "Print JSON (camelCase keys, as the HTTP API) instead of text";

#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about = "Latchkey: a self-hosted, multi-project authentication service")]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "LATCHKEY_CONFIG", global = true, value_name = "FILE", help_heading = heading::CONFIG)]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: GlobalSettings,

    #[command(subcommand)]
    pub command: Command,
}

/// The command line definition, its long help listing every TOML key.
pub fn command() -> clap::Command {
    let keys = crate::settings::file_keys().join(", ");
    let keys = textwrap(&format!(
        "Every option can also be set with the LATCHKEY_* variable shown, or in a TOML file given with --config \
         (keys: {keys}). Flags and variables win over the file, the file over the defaults shown."
    ));
    Cli::command().long_about(format!("{ABOUT}\n\n{keys}\n\n{MASTER_KEY_HELP}"))
}

/// `text` broken into lines of at most 90 characters.
fn textwrap(text: &str) -> String {
    let (mut wrapped, mut width) = (String::new(), 0);
    for word in text.split_whitespace() {
        if width > 0 {
            let fits = width + 1 + word.len() <= 90;
            wrapped.push(if fits { ' ' } else { '\n' });
            width = if fits { width + 1 } else { 0 };
        }
        wrapped.push_str(word);
        width += word.len();
    }
    wrapped
}

/// A parsed command line, with the matches that tell which settings were given as flags or
/// variables (they win over the file).
pub struct Invocation {
    cli: Cli,
    matches: ArgMatches,
}

impl Invocation {
    /// Parses this process's arguments; prints help or the usage error and exits on failure.
    pub fn parse() -> Self {
        let matches = command().get_matches();
        match Cli::from_arg_matches(&matches) {
            Ok(cli) => Self { cli, matches },
            Err(e) => e.exit(),
        }
    }

    /// Reads the `--config` file and layers the settings over it.
    pub fn load(self) -> anyhow::Result<Loaded> {
        let file = ConfigFile::load(self.cli.config.as_deref())?;
        let global = layered(&self.cli.settings, &self.matches, &file)?;
        let command = match self.cli.command {
            Command::Serve(flags) => {
                let given = self.matches.subcommand_matches("serve").unwrap_or(&self.matches);
                Command::Serve(layered(&flags, given, &file)?)
            }
            other => other,
        };
        Ok(Loaded { global, command })
    }
}

/// The command line with its settings layered over the file and the defaults.
pub struct Loaded {
    global: GlobalSettings,
    /// The command, `serve`'s settings layered too.
    command: Command,
}

impl Loaded {
    /// The log format (read before tracing starts).
    pub fn log_format(&self) -> anyhow::Result<crate::config::LogFormat> {
        crate::config::parse_log_format(&self.global.log_format)
    }

    /// Where `serve` exports traces (read before tracing starts); None for the other commands
    /// and when no collector is configured.
    pub fn trace_export(&self) -> anyhow::Result<Option<crate::telemetry::TraceExport>> {
        match &self.command {
            Command::Serve(settings) => crate::telemetry::TraceExport::resolve(settings),
            _ => Ok(None),
        }
    }

    /// Whether this is `latchkey serve` (the only long-running command).
    pub fn is_serve(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }

    /// Runs the command.
    pub async fn run(self) -> anyhow::Result<()> {
        let master_key = crate::master_key::from_environment();
        match self.command {
            // Only `serve` and `init` may create the embedded database and its master key.
            Command::Serve(settings) => {
                let storage = StorageConfig::resolve(&self.global, master_key)?;
                let serve = crate::config::ServeConfig::resolve(&settings)?;
                crate::serve::run(storage, serve).await
            }
            Command::Init(args) => init::init(&self.global, master_key, args).await,
            Command::Admin(command) => {
                let storage = StorageConfig::resolve_existing(&self.global, master_key)?;
                command.run(&storage).await
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (the first start creates the embedded database and its master key).
    Serve(ServeSettings),
    /// Create the embedded database and its master key in the data directory (on PostgreSQL:
    /// apply the migrations) and check the key; safe to run again. Prints where they are.
    Init(init::InitArgs),
    #[command(flatten)]
    Admin(AdminCommand),
}

/// The commands that administer an existing database (they never create one).
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
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
    /// Users and their sessions: list, show, create, update, suspend, delete, set a password,
    /// sign out, clear a lockout (the admin API's operations; actor `cli`).
    #[command(subcommand)]
    User(user::UserCommand),
    /// Access-token signing keys: rotate, list.
    #[command(subcommand, name = "signing-key")]
    SigningKey(signing_key::SigningKeyCommand),
    /// The audit trail of admin actions and security events.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The database itself: move-schema (PostgreSQL tables from public into their schema).
    #[command(subcommand)]
    Db(db::DbCommand),
}

impl AdminCommand {
    async fn run(self, storage: &StorageConfig) -> anyhow::Result<()> {
        match self {
            Self::Project(command) => admin::project(storage, command).await,
            Self::ApiKey(command) => admin::api_key(storage, command).await,
            Self::SigningSecret(command) => external::signing_secret(storage, command).await,
            Self::ExternalKey(command) => external::external_key(storage, command).await,
            Self::ExternalConfig(command) => external::external_config(storage, command).await,
            Self::Outbox(command) => mail::outbox(storage, command).await,
            Self::User(command) => user::user(storage, command).await,
            Self::SigningKey(command) => signing_key::signing_key(storage, command).await,
            Self::Audit(command) => audit::audit(storage, command).await,
            Self::Db(command) => db::db(storage, command).await,
        }
    }
}

/// `--project ID` of `project show|set|delete`, which also take the id as an argument (their
/// earlier spelling, hidden from the help but still accepted).
#[derive(Debug, Args)]
pub struct ProjectSelector {
    #[arg(long = "project", value_name = "ID", help = PROJECT_HELP, required_unless_present = "project_arg")]
    project: Option<String>,
    /// The project's id as an argument (the earlier spelling of --project).
    #[arg(value_name = "ID", hide = true, conflicts_with = "project")]
    project_arg: Option<String>,
}

impl ProjectSelector {
    /// The id given either way (clap requires one).
    fn text(&self) -> &str {
        self.project.as_deref().or(self.project_arg.as_deref()).unwrap_or_default()
    }
}

// Parsed once per process: the size of `Set` costs nothing worth boxing its flags for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project (with its signing key).
    Create {
        /// The project's name (1 to 100 characters), used in emails and hosted pages.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        lifetimes: Lifetimes,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// List projects.
    List {
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// Show one project.
    Show {
        #[command(flatten)]
        project: ProjectSelector,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// Change a project's settings (name, token lifetimes, email).
    Set {
        #[command(flatten)]
        project: ProjectSelector,
        /// A new name (1 to 100 characters), used in emails and hosted pages.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        lifetimes: Lifetimes,
        /// The hosted pages' "Back to <name>" link: an https URL (http only for localhost);
        /// `none` removes the link.
        #[arg(long, value_name = "URL")]
        app_url: Option<String>,
        #[command(flatten)]
        mail: MailFlags,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// Delete a project and everything in it (users, sessions, keys, mail, audit trail).
    /// Irreversible: --confirm must repeat the project id.
    Delete {
        #[command(flatten)]
        project: ProjectSelector,
        /// The project id again.
        #[arg(long, value_name = "ID")]
        confirm: String,
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
        /// How many messages (1 to 10000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// Requeue failed messages for another round of delivery attempts.
    Retry {
        /// The message id; omit with --all-failed.
        id: Option<String>,
        /// Requeue every failed message.
        #[arg(long, conflicts_with = "id")]
        all_failed: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; it is printed once and stored only as a digest.
    Create {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        /// A name to tell keys apart in listings.
        #[arg(long, default_value = "default")]
        name: String,
        /// `auth`: the SDK's routes only. `admin`: those and the admin API
        /// (`/v7/{project}/admin/...`: users, sessions, signing keys, the audit trail).
        #[arg(long, default_value = "auth", value_parser = ["auth", "admin"])]
        scope: String,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// List a project's keys (prefix and scope only).
    List {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        /// The key's id (`api-key list` shows it).
        key_id: String,
    },
}

/// The operator services over the configured database (opened and migrated), built from the
/// same [`Deps`] as `serve` builds them, with a one-thread hashing pool at the default cost
/// (for passwords an operator sets; a server with a higher cost rehashes at the next sign-in).
async fn open_admin(storage: &StorageConfig) -> anyhow::Result<Admin> {
    let store = storage.open_store().await?;
    let hasher = HasherPool::start(HashCost::default(), PoolSize { threads: 1, queue: 4 })?;
    Ok(Admin::new(Deps::new(store, storage.master_key.clone(), Arc::new(SystemClock)), Arc::new(hasher)))
}
