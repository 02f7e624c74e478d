//! The PostgreSQL backend, for several `latchkey serve` processes sharing one database.
//! One pool serves reads and writes; PostgreSQL's row locks make the conditional
//! `UPDATE ... WHERE generation = n` of a refresh exchange race-free across processes.
//!
//! Status: implements [`latchkey_core::store::CoreStore`] (projects, keys, users, sessions,
//! throttling), checked by the same contract tests as SQLite. It is not yet selectable with
//! `LATCHKEY_DATABASE_URL` because the later areas' stores (email, external users) exist for
//! SQLite only so far.

pub mod rows;

use std::time::Duration;

use latchkey_core::store::StoreResult;
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::map_err;

pub struct PgStore {
    pub(crate) writer: PgPool,
    pub(crate) reader: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and runs pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(map_err)?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| latchkey_core::store::StoreError::Other(format!("migration failed: {e}")))?;
        Ok(Self { writer: pool.clone(), reader: pool })
    }
}

crate::impl_core_store!(PgStore, crate::postgres::rows);
