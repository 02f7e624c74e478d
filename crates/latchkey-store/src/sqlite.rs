//! Opening the SQLite backend: WAL mode, one writer connection (SQLite serialises writes
//! anyway, and a single writer turns lock contention into a queue), a small pool of readers.
//! The statements are the store's own (`core.rs`, `mail.rs`, `external.rs`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use latchkey_core::store::{StoreError, StoreResult};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::db::Db;
use crate::{SqlStore, map_err};

/// Opens SQLite databases as a [`SqlStore`].
pub enum SqliteStore {}

/// Below this much free space on the database's filesystem the node is not ready. A probe write
/// alone is not enough: it can fit into the few pages a failed larger write left allocated and
/// report ready while sign-ups still fail.
const MIN_FREE_BYTES: u64 = 1 << 20;

/// The pools' `after_release` check: a connection goes back to its pool only when it holds no
/// transaction, in sqlx's bookkeeping and in SQLite's own state; otherwise the pool closes it
/// (closing rolls back and releases the database's write lock) and opens a fresh one.
///
/// Why: sqlx counts transaction depth itself. When a statement or COMMIT fails with
/// `SQLITE_FULL` or `SQLITE_IOERR`, SQLite may already have rolled the transaction back (then
/// sqlx's ROLLBACK fails, its depth stays above zero and every later `begin()` becomes a
/// SAVEPOINT) or kept it open. Either way the single writer lived on out of step with SQLite:
/// later sign-ups answered 201 inside a transaction that never committed, and the write lock
/// stayed held until exit. Checking at release covers every error path and every call site;
/// a fresh connection costs a file open, and only after a failure.
async fn release_if_clean(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    // `lock_handle` is queued behind the rollback a dropped `Transaction` started, so both
    // checks below see the state after it.
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the locked handle is a live connection used by no other thread while we hold it;
    // `sqlite3_get_autocommit` only reads a flag.
    let autocommit = unsafe { libsqlite3_sys::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) } != 0;
    drop(handle);
    if autocommit && !conn.is_in_transaction() {
        return Ok(true);
    }
    tracing::warn!(
        sqlite_autocommit = autocommit,
        sqlx_in_transaction = conn.is_in_transaction(),
        "closing a SQLite connection left inside a failed transaction"
    );
    Ok(false)
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and runs pending migrations.
    pub async fn open(path: &Path) -> StoreResult<SqlStore> {
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
            .after_release(|conn, _| Box::pin(release_if_clean(conn)))
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
            .after_release(|conn, _| Box::pin(release_if_clean(conn)))
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(SqlStore::new(Db::Sqlite { writer, reader, path: path.to_owned() }))
    }
}

/// Readiness: `StorageFull` when the filesystem of the database at `path` has less than
/// [`MIN_FREE_BYTES`] usable by this process. A filesystem that cannot be queried is left to
/// the probe write.
pub(crate) fn check_free_space(path: &Path) -> StoreResult<()> {
    let Ok(stat) = rustix::fs::statvfs(path) else { return Ok(()) };
    let free = usable_bytes(stat.f_bavail, stat.f_bfree, stat.f_frsize, rustix::process::geteuid().is_root());
    if free < MIN_FREE_BYTES {
        return Err(StoreError::StorageFull(format!(
            "{free} bytes free on the filesystem of {} (ready from {MIN_FREE_BYTES})",
            path.display()
        )));
    }
    Ok(())
}

/// Free bytes this process can write: the filesystem keeps some blocks (typically 5 % on
/// ext4) for root, so a process running as root may use every free block (`f_bfree`), others
/// only the available ones (`f_bavail`). Counting only `f_bavail` as root would report a
/// node "not ready" while its writes still succeed.
fn usable_bytes(available_blocks: u64, free_blocks: u64, block_size: u64, root: bool) -> u64 {
    let blocks = if root { free_blocks } else { available_blocks };
    blocks.saturating_mul(block_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_may_use_the_reserved_blocks() {
        assert_eq!(usable_bytes(0, 256, 4096, true), 1 << 20);
        assert_eq!(usable_bytes(0, 256, 4096, false), 0);
        assert_eq!(usable_bytes(10, 256, 4096, false), 40960);
    }
}
