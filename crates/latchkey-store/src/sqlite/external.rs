//! [`latchkey_core::store::ExternalStore`] for SQLite (generated; see `backend_external.rs`).

crate::impl_external_store!(super::SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow, crate::sqlite::rows);
