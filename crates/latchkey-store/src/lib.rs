//! Storage backends for Latchkey: [`latchkey_core::store::Store`] over sqlx, on SQLite (the
//! embedded default) or PostgreSQL.
//!
//! One store type, [`SqlStore`], holds the open database ([`db::Db`]: SQLite's pools or
//! PostgreSQL's) and implements each area of the store once, as ordinary methods with the SQL
//! beside its binds: `core.rs` (projects, keys, users, sessions, lockout), `mail.rs` (mail
//! settings, link tokens, the outbox), `external.rs` (external users), `audit.rs` (the audit
//! trail), `user_admin.rs` (operator actions on users and sessions). `db.rs` dispatches each
//! statement to the backend; `types.rs` has the stored forms of ids, instants and JSON;
//! `sqlite.rs` and `postgres/` open the databases. All SQL lives in this crate.

mod audit;
mod core;
mod db;
mod errors;
mod external;
mod health;
mod import_settings;
mod mail;
pub mod postgres;
mod project_admin;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod types;
mod user_admin;
mod user_import;

use std::sync::Arc;
use std::time::Duration;

use latchkey_core::store::{Store, StoreError};
use secrecy::SecretString;

pub(crate) use errors::map_err;
pub use postgres::{PgPooler, PgSchema, PgStore, SchemaMove};
pub use sqlite::SqliteStore;

/// The store: every area of [`Store`] over the database it opened ([`SqliteStore::open`],
/// [`PgStore::open_with`], or [`open`] by URL).
pub struct SqlStore {
    db: db::Db,
    /// The single-flight readiness probe (see `CoreStore::ping` in `core.rs`).
    readiness: health::Readiness,
}

impl SqlStore {
    fn new(db: db::Db) -> Self {
        Self { db, readiness: Default::default() }
    }

    /// A statement for the readers.
    fn read(&self, sql: &'static str) -> db::Stmt<'_> {
        self.db.reader().query(sql)
    }

    /// A lone write (a transaction: [`db::Db::begin`]).
    fn write(&self, sql: &'static str) -> db::Stmt<'_> {
        self.db.writer().query(sql)
    }
}

/// How to open a database, beyond its URL. `Debug` shows whether a migration URL is set,
/// never the URL (it may carry a password).
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// PostgreSQL: connections per process (SQLite's pools are fixed: one writer, a few readers).
    pub pg_pool_size: u32,
    // PostgreSQL availability and poolers (ignored by SQLite).
    /// What sits between this process and PostgreSQL.
    pub pg_pooler: PgPooler,
    /// A direct (non-pooled) URL for migrations; required with a transaction-mode pooler.
    pub pg_migration_url: Option<SecretString>,
    /// How long start-up waits for the database.
    pub pg_connect_timeout: Duration,
    /// How long a statement waits for a connection before failing as unavailable.
    pub pg_acquire_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for the store's statements; zero: none.
    pub pg_statement_timeout: Duration,
    /// The PostgreSQL schema of Latchkey's tables (a deployment of an earlier version is
    /// served from `public` until moved: see `postgres/schema.rs`).
    pub pg_schema: PgSchema,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            pg_pool_size: PgStore::DEFAULT_POOL_SIZE,
            pg_pooler: PgPooler::None,
            pg_migration_url: None,
            pg_connect_timeout: PgStore::DEFAULT_CONNECT_TIMEOUT,
            pg_acquire_timeout: PgStore::DEFAULT_ACQUIRE_TIMEOUT,
            pg_statement_timeout: PgStore::DEFAULT_STATEMENT_TIMEOUT,
            pg_schema: PgSchema::default(),
        }
    }
}

/// Opens the database named by `url` (`sqlite://PATH`, `postgres://…` or `postgresql://…`)
/// with default options, creating a SQLite file if missing, and runs pending migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, &OpenOptions::default()).await
}

/// As [`open`], with `options`.
pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        return Ok(Arc::new(SqliteStore::open(std::path::Path::new(path)).await?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::open_with(url, options).await?));
    }
    Err(StoreError::Other(format!(
        "unsupported database URL scheme in {:?}; expected sqlite://PATH or postgres://USER@HOST/DB",
        url.split("://").next().unwrap_or("")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_options_debug_hides_the_migration_url() {
        let options = OpenOptions {
            pg_migration_url: Some("postgres://admin:hunter2@db/latchkey".to_owned().into()),
            ..OpenOptions::default()
        };
        let shown = format!("{options:?}");
        assert!(shown.contains("pg_migration_url"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
