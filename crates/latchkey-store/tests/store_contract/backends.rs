//! Fresh, isolated stores for the contract tests.

use std::sync::Arc;

use latchkey_core::store::CoreStore;
use sqlx::Connection;

/// Where the PostgreSQL server is (CI and developer machines run one on loopback).
fn admin_url() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TempSqlite(#[allow(dead_code)] tempfile::TempDir);

pub async fn sqlite() -> (TempSqlite, Arc<dyn CoreStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = latchkey_store::SqliteStore::open(&dir.path().join("contract.db")).await.expect("open sqlite");
    (TempSqlite(dir), Arc::new(store))
}

/// A database created for one test and dropped when the guard goes, even after a panic.
pub struct TempPostgres {
    name: String,
}

pub async fn postgres() -> (TempPostgres, Arc<dyn CoreStore>) {
    let name = format!("latchkey_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must run at {} for these tests: {e}", admin_url()));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let url = database_url(&name);
    let store = latchkey_store::PgStore::open(&url).await.expect("open postgres");
    (TempPostgres { name }, Arc::new(store))
}

fn database_url(name: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(base, _)| base.to_owned()).unwrap_or(admin);
    format!("{base}/{name}")
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: do the async cleanup on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
