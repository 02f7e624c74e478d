//! [`latchkey_core::store::ExternalStore`] for PostgreSQL (generated; see `backend_external.rs`).

crate::impl_external_store!(super::PgStore, sqlx::Postgres, sqlx::postgres::PgRow, crate::postgres::rows);
