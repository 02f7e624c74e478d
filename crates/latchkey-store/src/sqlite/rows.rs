//! Row <-> record mapping for SQLite (generated; see `backend.rs`).

crate::row_mappers!(sqlx::Sqlite, sqlx::sqlite::SqliteRow);
