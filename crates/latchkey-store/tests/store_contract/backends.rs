//! Fresh, isolated stores for the contract tests.

use std::sync::Arc;

use latchkey_core::store::Store;
use latchkey_core::store::memory::MemoryStore;
use latchkey_store::testing::TempDatabase;

pub struct TempSqlite(#[allow(dead_code)] tempfile::TempDir);

pub async fn sqlite() -> (TempSqlite, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = latchkey_store::SqliteStore::open(&dir.path().join("contract.db")).await.expect("open sqlite");
    (TempSqlite(dir), Arc::new(store))
}

/// Connections per test store: enough for the racing cases to race, few enough that parallel
/// tests (of several checkouts sharing one server) stay well below `max_connections`.
pub const TEST_POOL: u32 = 8;

/// A database created for one test and dropped when the guard goes, even after a panic.
pub async fn postgres() -> (TempDatabase, Arc<dyn Store>) {
    let db = TempDatabase::create().await;
    let store = latchkey_store::PgStore::open_with_pool_size(db.url(), TEST_POOL).await.expect("open postgres");
    (db, Arc::new(store))
}

/// The core's in-memory store: nothing to clean up.
pub async fn memory() -> ((), Arc<dyn Store>) {
    ((), Arc::new(MemoryStore::new()))
}
