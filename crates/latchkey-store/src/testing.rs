//! Throwaway PostgreSQL databases for tests (cargo feature `testing`): each test creates its
//! own database on the server named by `LATCHKEY_TEST_POSTGRES_URL` (default: the loopback
//! server with user `postgres`, trust auth) and the guard drops it, even after a panic.
//! Kept here because all SQL, including this administrative SQL, lives in this crate.

use sqlx::Connection;

/// The maintenance database URL of the test server.
pub fn admin_url() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database created for one test, dropped (`WITH (FORCE)`) when this guard goes.
pub struct TempDatabase {
    name: String,
    url: String,
}

impl TempDatabase {
    /// Creates an empty database with a fresh random name. Panics, naming the server, when
    /// PostgreSQL cannot be reached: a test that asked for it cannot run without it.
    pub async fn create() -> Self {
        let admin = admin_url();
        let name = format!("latchkey_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must run at {admin} for these tests: {e}"));
        // The name is ours (hex), never input: safe to splice.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map(|(base, _)| base.to_owned()).unwrap_or(admin);
        let url = format!("{base}/{name}");
        Self { name, url }
    }

    /// `postgres://…/latchkey_test_…`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything stored, for tests that search it for secrets (the PostgreSQL counterpart of
    /// reading a SQLite file): every row of every table as text, then the raw bytes of every
    /// BYTEA value (which the text shows only hex-encoded).
    pub async fn contents(&self) -> Vec<u8> {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .expect("list tables");
        let mut out = Vec::new();
        for table in &tables {
            // Names come from the catalogue, quoted as identifiers: safe to splice.
            let sql = format!("SELECT t::text FROM \"{}\" t", table.replace('"', "\"\""));
            let rows: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.expect("read table");
            for row in rows {
                out.extend_from_slice(row.as_bytes());
                out.push(b'\n');
            }
        }
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = 'public' AND data_type = 'bytea' ORDER BY 1, 2",
        )
        .fetch_all(&mut conn)
        .await
        .expect("list bytea columns");
        for (table, column) in columns {
            let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
            let sql = format!("SELECT {c} FROM {t} WHERE {c} IS NOT NULL", c = quote(&column), t = quote(&table));
            let values: Vec<Vec<u8>> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.expect("read bytea");
            for value in values {
                out.extend_from_slice(&value);
                out.push(b'\n');
            }
        }
        let _ = conn.close().await;
        out
    }
}

impl TempDatabase {
    /// Every row of every table, as `(table, row as text)`: what a test searches for a value
    /// that must be gone (BYTEA shows hex-encoded).
    pub async fn rows(&self) -> Vec<(String, String)> {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .expect("list tables");
        let mut out = Vec::new();
        for table in tables {
            // Names come from the catalogue, quoted as identifiers: safe to splice.
            let sql = format!("SELECT t::text FROM \"{}\" t", table.replace('"', "\"\""));
            let rows: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.expect("read table");
            out.extend(rows.into_iter().map(|row| (table.clone(), row)));
        }
        let _ = conn.close().await;
        out
    }
}

/// Every row of every table of the SQLite database at `path`, as `(table, row as text)`: each
/// column through SQLite's `quote()` (text quoted, blobs as `X'hex'`). Reads through SQL, not
/// the file's bytes, whose free pages may still hold deleted rows.
pub async fn sqlite_rows(path: &std::path::Path) -> Vec<(String, String)> {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await.expect("open the test database");
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(&mut conn)
        .await
        .expect("list tables");
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let mut out = Vec::new();
    for table in tables {
        // Names come from the catalogue, quoted as identifiers: safe to splice.
        let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{}')",
            table.replace('\'', "''")
        )))
        .fetch_all(&mut conn)
        .await
        .expect("list columns");
        if columns.is_empty() {
            continue;
        }
        let row = columns.iter().map(|c| format!("quote({})", quote(c))).collect::<Vec<_>>().join(" || ',' || ");
        let sql = format!("SELECT {row} FROM {}", quote(&table));
        let rows: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.expect("read table");
        out.extend(rows.into_iter().map(|row| (table.clone(), row)));
    }
    let _ = conn.close().await;
    out
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a test's runtime (even a current-thread one): do the async
        // cleanup on a thread with a runtime of its own, and wait for it.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// A table locked `ACCESS EXCLUSIVE` by a transaction of its own, as a wedged query or a
/// long migration elsewhere would: every statement touching the table waits until the guard
/// is dropped (its connection closes, ending the transaction).
pub struct TableLock {
    _conn: sqlx::PgConnection,
}

impl TempDatabase {
    /// Locks `table` (a name of this crate's schema, never input) until the guard is dropped.
    pub async fn lock_table(&self, table: &'static str) -> TableLock {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")))
            .execute(&mut conn)
            .await
            .expect("lock the table");
        TableLock { _conn: conn }
    }

    /// The database's name (for a pooler's configuration).
    pub fn name(&self) -> &str {
        &self.name
    }
}
