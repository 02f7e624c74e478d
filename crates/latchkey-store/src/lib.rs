//! Storage backends for Latchkey: [`latchkey_core::store::Store`] over sqlx.
//!
//! SQLite (the embedded default) is in [`sqlite`], PostgreSQL in [`postgres`]; each area's
//! statements are written once (`sql.rs`, `sql_external.rs`, `sql_mail.rs`) and its logic
//! once (`backend.rs`, `backend_external.rs`, `backend_mail.rs`), as macros instantiated for
//! both backends. All SQL lives in this crate.

mod backend;
mod backend_external;
mod backend_mail;
mod health;
pub mod postgres;
mod sql;
mod sql_external;
mod sql_mail;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod time;

use std::sync::Arc;
use std::time::Duration;

use latchkey_core::store::{Store, StoreError, UniqueField};

pub use postgres::{PgPooler, PgStore};
pub use sqlite::SqliteStore;

/// How to open a database, beyond its URL.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// PostgreSQL: connections per process (SQLite's pools are fixed: one writer, a few readers).
    pub pg_pool_size: u32,
    // PostgreSQL availability and poolers (ignored by SQLite).
    /// What sits between this process and PostgreSQL.
    pub pg_pooler: PgPooler,
    /// A direct (non-pooled) URL for migrations; required with a transaction-mode pooler.
    pub pg_migration_url: Option<String>,
    /// How long start-up waits for the database.
    pub pg_connect_timeout: Duration,
    /// How long a statement waits for a connection before failing as unavailable.
    pub pg_acquire_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for the store's statements; zero: none.
    pub pg_statement_timeout: Duration,
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
        }
    }
}

/// Shows whether a migration URL is set, never the URL (it may carry a password).
impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("pg_pool_size", &self.pg_pool_size)
            .field("pg_pooler", &self.pg_pooler)
            .field("pg_migration_url", &self.pg_migration_url.as_ref().map(|_| "***"))
            .field("pg_connect_timeout", &self.pg_connect_timeout)
            .field("pg_acquire_timeout", &self.pg_acquire_timeout)
            .field("pg_statement_timeout", &self.pg_statement_timeout)
            .finish()
    }
}

/// A transaction of backend `DB` as the shared logic uses it (`&mut *tx`, `tx.commit()`):
/// sqlx's own for SQLite, [`postgres::PgTx`] for PostgreSQL (pooler-safe).
#[doc(hidden)]
pub trait HasTx {
    type Tx;
}
impl HasTx for sqlx::Sqlite {
    type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;
}
impl HasTx for sqlx::Postgres {
    type Tx = postgres::PgTx;
}
#[doc(hidden)]
pub type Tx<DB> = <DB as HasTx>::Tx;

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

/// Maps a sqlx error to the storage error kinds the core understands.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            // SQLite: "UNIQUE constraint failed: users.project_id, users.email";
            // PostgreSQL: the index name, e.g. "users_project_email".
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
            let field = if text.contains("email") {
                UniqueField::Email
            } else if text.contains("username") {
                UniqueField::Username
            } else if text.contains("foreign_id") {
                UniqueField::ForeignId
            } else {
                UniqueField::Other
            };
            StoreError::Conflict(field)
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            StoreError::Unavailable(err.to_string())
        }
        sqlx::Error::Database(db) if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => {
            sqlite_storage_error(db.code().as_deref(), err.to_string())
        }
        sqlx::Error::Database(db) if db.code().as_deref() == Some(PG_DISK_FULL) => {
            StoreError::StorageFull(err.to_string())
        }
        sqlx::Error::Database(db)
            if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some_and(pg_transient) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

/// PostgreSQL's `disk_full` (class 53, insufficient resources).
const PG_DISK_FULL: &str = "53100";

/// SQLite errors by primary result code (the low byte of the extended code sqlx reports), not
/// by message: a full disk is `StorageFull`; an I/O error, a read-only or unopenable file, a
/// corrupt database and lock contention are `Unavailable` (503, retry later: an operator can
/// fix each without the client changing anything). Anything else (constraints, SQL errors,
/// misuse) stays `Other` and is a 500, since retrying cannot help. The failed statement or
/// transaction never survives on the connection: see `sqlite::release_if_clean`.
fn sqlite_storage_error(code: Option<&str>, detail: String) -> StoreError {
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const READONLY: i32 = 8;
    const IOERR: i32 = 10;
    const CORRUPT: i32 = 11;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    const PROTOCOL: i32 = 15;
    const NOTADB: i32 = 26;
    match code.and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff) {
        Some(FULL) => StoreError::StorageFull(detail),
        Some(BUSY | LOCKED | READONLY | IOERR | CORRUPT | CANTOPEN | PROTOCOL | NOTADB) => {
            StoreError::Unavailable(detail)
        }
        _ => StoreError::Other(detail),
    }
}

/// PostgreSQL errors that say "not now" rather than "never": the server is restarting or
/// shutting down, cut this connection (failover, `pg_terminate_backend`), has no connection
/// slot left, or aborted a transaction to break a deadlock or a serialization conflict. The
/// API answers them with 503 `server/unavailable` (retry later), not a 500.
fn pg_transient(err: &sqlx::postgres::PgDatabaseError) -> bool {
    let code = err.code();
    code.starts_with("08") // connection_exception
        || matches!(
            code,
            "57P01" // admin_shutdown
                | "57P02" // crash_shutdown
                | "57P03" // cannot_connect_now
                | "53300" // too_many_connections
                | "40001" // serialization_failure
                | "40P01" // deadlock_detected
                | "57014" // query_canceled: the statement timeout ended a wedged statement
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_errors_map_by_primary_result_code() {
        let kind = |code: &str| match sqlite_storage_error(Some(code), String::new()) {
            StoreError::StorageFull(_) => "full",
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Other(_) => "other",
            other => panic!("{other:?}"),
        };
        assert_eq!(kind("13"), "full"); // SQLITE_FULL
        // SQLITE_BUSY, BUSY_SNAPSHOT, LOCKED, READONLY, READONLY_DBMOVED, IOERR_WRITE,
        // IOERR_FSYNC, CORRUPT, CANTOPEN, NOTADB
        for code in ["5", "517", "6", "8", "1032", "778", "1034", "11", "14", "26"] {
            assert_eq!(kind(code), "unavailable", "code {code}");
        }
        // SQLITE_ERROR (bad SQL), CONSTRAINT_CHECK, MISUSE: retrying cannot help.
        for code in ["1", "275", "21"] {
            assert_eq!(kind(code), "other", "code {code}");
        }
        assert!(matches!(sqlite_storage_error(None, String::new()), StoreError::Other(_)));
    }
}
