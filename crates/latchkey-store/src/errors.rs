//! sqlx errors as the storage error kinds the core understands.

use latchkey_core::store::{StoreError, UniqueField};

/// Maps a sqlx error to the storage error kinds the core understands.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(unique_field(db.constraint(), db.message()))
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        sqlx::Error::Database(db) if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => {
            sqlite_storage_error(db.code().as_deref(), err.to_string())
        }
        sqlx::Error::Database(db) if db.code().as_deref() == Some(PG_DISK_FULL) => {
            StoreError::StorageFull(err.to_string())
        }
        sqlx::Error::Database(db)
            if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some_and(|e| pg_transient(e.code())) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

/// Which unique rule a write broke, by exact name: PostgreSQL reports the index
/// (`users_project_email`), SQLite only its columns ("UNIQUE constraint failed:
/// users.project_id, users.email"). The names are those of `migrations/*/0001_core.sql`;
/// any other unique rule (a primary key, an API key's digest) is `Other`.
fn unique_field(constraint: Option<&str>, message: &str) -> UniqueField {
    let sqlite_columns = message.strip_prefix("UNIQUE constraint failed: ");
    match constraint.or(sqlite_columns) {
        Some("users_project_email" | "users.project_id, users.email") => UniqueField::Email,
        Some("users_project_username" | "users.project_id, users.username") => UniqueField::Username,
        Some("users_project_foreign_id" | "users.project_id, users.foreign_id") => UniqueField::ForeignId,
        _ => UniqueField::Other,
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

/// PostgreSQL errors (by SQLSTATE) that say "not now" rather than "never": the server is
/// restarting or shutting down, cut this connection (failover, `pg_terminate_backend`), is
/// short of a resource (class 53: connection slots, memory; `53100 disk_full` is matched
/// earlier as `StorageFull`), failed at the system level (class 58: an I/O error), is a
/// read-only replica (a failover left us on the old primary), or aborted a statement or
/// transaction (deadlock, serialization conflict, statement or lock timeout). The API answers
/// them with 503 `server/unavailable` (retry later), not a 500.
fn pg_transient(code: &str) -> bool {
    code.starts_with("08") // connection_exception
        || code.starts_with("53") // insufficient_resources
        || code.starts_with("58") // system_error
        || matches!(
            code,
            "57P01" // admin_shutdown
                | "57P02" // crash_shutdown
                | "57P03" // cannot_connect_now
                | "40001" // serialization_failure
                | "40P01" // deadlock_detected
                | "57014" // query_canceled: the statement timeout ended a wedged statement
                | "25006" // read_only_sql_transaction: a replica, after a failover
                | PG_LOCK_NOT_AVAILABLE
        )
}

/// PostgreSQL's `lock_not_available`: `lock_timeout` expired (or `NOWAIT`).
const PG_LOCK_NOT_AVAILABLE: &str = "55P03";

/// Whether `err` is PostgreSQL's `lock_timeout` expiring (migrations retry on it).
pub(crate) fn is_lock_timeout(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some(PG_LOCK_NOT_AVAILABLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_map_by_exact_index_or_columns() {
        let pg = |name| unique_field(Some(name), "duplicate key value violates unique constraint");
        assert_eq!(pg("users_project_email"), UniqueField::Email);
        assert_eq!(pg("users_project_username"), UniqueField::Username);
        assert_eq!(pg("users_project_foreign_id"), UniqueField::ForeignId);
        assert_eq!(pg("users_pkey"), UniqueField::Other);
        assert_eq!(pg("api_keys_digest_key"), UniqueField::Other);
        let sqlite = |columns: &str| unique_field(None, &format!("UNIQUE constraint failed: {columns}"));
        assert_eq!(sqlite("users.project_id, users.email"), UniqueField::Email);
        assert_eq!(sqlite("users.project_id, users.username"), UniqueField::Username);
        assert_eq!(sqlite("users.project_id, users.foreign_id"), UniqueField::ForeignId);
        // Not a substring guess: other tables' email columns are other rules.
        assert_eq!(sqlite("sign_in_failures.project_id, sign_in_failures.email"), UniqueField::Other);
        assert_eq!(sqlite("users.id"), UniqueField::Other);
    }

    #[test]
    fn postgres_not_now_errors_are_transient() {
        for code in [
            "08006", "08001", // connection failures
            "53000", "53200", "53300", "53400", // class 53 except disk_full
            "58000", "58030", // system_error, io_error
            "57P01", "57P02", "57P03", "57014", "40001", "40P01", "25006", // read_only_sql_transaction
            "55P03", // lock_not_available
        ] {
            assert!(pg_transient(code), "{code} is transient");
        }
        // Retrying cannot help these: a bug, a constraint, a bad value.
        for code in ["42601", "42P01", "23505", "23503", "22P02", "55000", "25001"] {
            assert!(!pg_transient(code), "{code} is not transient");
        }
    }

    #[test]
    fn a_crashed_sqlite_worker_and_io_errors_are_unavailable() {
        assert!(matches!(map_err(sqlx::Error::WorkerCrashed), StoreError::Unavailable(_)));
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "silent");
        assert!(matches!(map_err(sqlx::Error::Io(io)), StoreError::Unavailable(_)));
        assert!(matches!(map_err(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
    }

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
