//! The SQLite backend: WAL mode, one writer connection (SQLite serialises writes anyway, and
//! a single writer turns lock contention into a queue), a small pool of readers.

mod external;
mod mail;
pub mod rows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use latchkey_core::store::{StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::map_err;

pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(map_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode is durable against process crashes; only an OS crash or power
            // loss can lose the last transactions, and never corrupts the database.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2) as u32;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers * 2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Self { writer, reader })
    }
}

impl SqliteStore {
    /// First-start bootstrap: take the write lock before reading (see `create_first_project`).
    const BOOTSTRAP_BEGIN: &'static str = "BEGIN IMMEDIATE";
    const BOOTSTRAP_LOCK: Option<&'static str> = None;
}

crate::impl_core_store!(SqliteStore, crate::sqlite::rows);
