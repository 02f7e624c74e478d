//! Storage backends for Latchkey: [`latchkey_core::store::Store`] over sqlx.
//!
//! SQLite (the embedded default) is in [`sqlite`], PostgreSQL in [`postgres`]; the core
//! store's statements are written once in `sql.rs` and its logic once in `backend.rs`.
//! All SQL lives in this crate.

mod backend;
pub mod postgres;
mod sql;
pub mod sqlite;
mod time;

use std::sync::Arc;

use latchkey_core::store::{Store, StoreError, UniqueField};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Opens the database named by `url` (`sqlite://PATH`), creating it if missing, and runs
/// pending migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        return Ok(Arc::new(SqliteStore::open(std::path::Path::new(path)).await?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(StoreError::Other("PostgreSQL is not supported yet by this build; use sqlite://PATH".into()));
    }
    Err(StoreError::Other(format!(
        "unsupported database URL scheme in {:?}; expected sqlite://PATH",
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
        sqlx::Error::Database(db) if db.message().contains("database is locked") => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}
