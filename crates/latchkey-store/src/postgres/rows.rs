//! Row <-> record mapping for PostgreSQL (generated; see `backend.rs`).

crate::row_mappers!(sqlx::Postgres, sqlx::postgres::PgRow);
