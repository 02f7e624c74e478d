//! Fresh, isolated stores for the contract tests.

use std::sync::Arc;

use latchkey_core::store::Store;
use latchkey_core::store::memory::MemoryStore;
use latchkey_store::testing::TempDatabase;
use latchkey_store::{OpenOptions, PgSchema};

pub struct TempSqlite(#[allow(dead_code)] tempfile::TempDir);

pub async fn sqlite() -> (TempSqlite, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = latchkey_store::SqliteStore::open(&dir.path().join("contract.db")).await.expect("open sqlite");
    (TempSqlite(dir), Arc::new(store))
}

/// Connections per test store: enough for the racing cases to race, few enough that parallel
/// tests (of several checkouts sharing one server) stay well below `max_connections`.
pub const TEST_POOL: u32 = 8;

/// A database created for one test and dropped when the guard goes, even after a panic, with
/// Latchkey's tables in `schema` (`None`: the default) and decoys of the same names in
/// `public`, where the search path of a plain connection looks first: a statement that
/// resolved a name there would fail on a decoy's columns or change its row (checked after
/// each case).
pub async fn postgres(schema: Option<&str>) -> (TempDatabase, Arc<dyn Store>) {
    let db = TempDatabase::create().await;
    db.add_decoys().await;
    let mut options = OpenOptions { pg_pool_size: TEST_POOL, ..OpenOptions::default() };
    if let Some(schema) = schema {
        options.pg_schema = PgSchema::parse(schema).expect("a valid schema name");
    }
    let store = latchkey_store::PgStore::open_with(db.url(), &options).await.expect("open postgres");
    let tables = db.tables_in(options.pg_schema.as_str()).await;
    for table in ["_sqlx_migrations", "projects", "users", "sessions"] {
        assert!(tables.iter().any(|t| t == table), "{table} in schema {}: {tables:?}", options.pg_schema);
    }
    (db, Arc::new(store))
}

/// The core's in-memory store: nothing to clean up.
pub async fn memory() -> ((), Arc<dyn Store>) {
    ((), Arc::new(MemoryStore::new()))
}
