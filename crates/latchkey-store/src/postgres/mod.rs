//! The PostgreSQL backend, for several `latchkey serve` processes sharing one database.
//! One pool serves reads and writes; PostgreSQL's row locks make the conditional
//! `UPDATE ... WHERE generation = n` of a refresh exchange race-free across processes.
//!
//! Status: implements every area of [`latchkey_core::store::Store`] (core, external users,
//! email), checked by the same contract tests as SQLite, runs the server's HTTP tests
//! (`LATCHKEY_TEST_BACKEND=postgres`), and is selected by `LATCHKEY_DATABASE_URL=postgres://…`.

mod external;
mod mail;
pub mod rows;

use std::time::Duration;

use latchkey_core::store::StoreResult;
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::map_err;

pub struct PgStore {
    pub(crate) writer: PgPool,
    pub(crate) reader: PgPool,
    pub(crate) write_health: crate::health::WriteHealth,
}

impl PgStore {
    /// Connections per process unless configured otherwise: several processes share one
    /// server, whose default `max_connections` is 100.
    pub const DEFAULT_POOL_SIZE: u32 = 16;

    /// Connects to `url` (`postgres://user@host:port/db`) with the default pool size and runs
    /// pending migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_with_pool_size(url, Self::DEFAULT_POOL_SIZE).await
    }

    /// As [`PgStore::open`], with at most `max_connections` (at least 1) connections.
    pub async fn open_with_pool_size(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(map_err)?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| latchkey_core::store::StoreError::Other(format!("migration failed: {e}")))?;
        Ok(Self { writer: pool.clone(), reader: pool, write_health: Default::default() })
    }
}

impl PgStore {
    /// Readiness: the server's disk is PostgreSQL's to watch; its `disk_full` shows in the
    /// probe write.
    pub(crate) fn check_free_space(&self) -> StoreResult<()> {
        Ok(())
    }
}

crate::impl_core_store!(PgStore, crate::postgres::rows);
