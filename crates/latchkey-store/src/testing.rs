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
    /// reading a SQLite file): every row of every table of every schema as text, then the raw
    /// bytes of every BYTEA value (which the text shows only hex-encoded).
    pub async fn contents(&self) -> Vec<u8> {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        let mut out = Vec::new();
        for (_, row) in rows_on(&mut conn).await {
            out.extend_from_slice(row.as_bytes());
            out.push(b'\n');
        }
        let columns: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT table_schema::text, table_name::text, column_name::text FROM information_schema.columns
              WHERE {USER_SCHEMAS} AND data_type = 'bytea' ORDER BY 1, 2, 3"
        )))
        .fetch_all(&mut conn)
        .await
        .expect("list bytea columns");
        for (schema, table, column) in columns {
            let sql = format!(
                "SELECT {c} FROM {s}.{t} WHERE {c} IS NOT NULL",
                c = quote(&column),
                s = quote(&schema),
                t = quote(&table)
            );
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

/// The catalogue's schemas that hold data: Latchkey's (wherever it is configured) and any
/// other (`public`'s decoys, another application's), never the system's.
const USER_SCHEMAS: &str = "table_schema NOT IN ('pg_catalog', 'information_schema')";

/// A catalogue name as a quoted identifier: safe to splice.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every row of every table of every schema, as `(table, row as text)`.
async fn rows_on(conn: &mut sqlx::PgConnection) -> Vec<(String, String)> {
    let tables: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables
          WHERE {USER_SCHEMAS} AND table_type = 'BASE TABLE' ORDER BY 1, 2"
    )))
    .fetch_all(&mut *conn)
    .await
    .expect("list tables");
    let mut out = Vec::new();
    for (schema, table) in tables {
        let sql = format!("SELECT t::text FROM {}.{} t", quote(&schema), quote(&table));
        let rows: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await.expect("read table");
        out.extend(rows.into_iter().map(|row| (table.clone(), row)));
    }
    out
}

impl TempDatabase {
    /// Every row of every table, as `(table, row as text)`: what a test searches for a value
    /// that must be gone (BYTEA shows hex-encoded).
    pub async fn rows(&self) -> Vec<(String, String)> {
        postgres_rows(&self.url).await
    }
}

/// Every row of every table of the PostgreSQL database at `url` (in any schema), as
/// `(table, row as text)`.
pub async fn postgres_rows(url: &str) -> Vec<(String, String)> {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to the test database");
    let out = rows_on(&mut conn).await;
    let _ = conn.close().await;
    out
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
    /// Locks `table` (schema-qualified, e.g. `latchkey.users`; never input) until the guard is
    /// dropped.
    pub async fn lock_table(&self, table: &'static str) -> TableLock {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")))
            .execute(&mut conn)
            .await
            .expect("lock the table");
        TableLock { _conn: conn }
    }

    /// Puts decoys in `public`: a table with the name of each of Latchkey's (and another
    /// application's sqlx `_sqlx_migrations`), with other columns and a row. Latchkey's tables
    /// live in their own schema; a statement that resolved a name in `public` instead would
    /// fail on a decoy (no such column) or change its row, which [`TempDatabase::decoys_intact`]
    /// checks. Call before Latchkey first opens the database.
    pub async fn add_decoys(&self) {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        let mut sql = String::new();
        for table in crate::postgres::schema::latchkey_tables() {
            // Names from Latchkey's own migrations: safe to splice.
            sql.push_str(&format!(
                "CREATE TABLE public.{table} (decoy_id BIGINT PRIMARY KEY, owner TEXT NOT NULL);
                 INSERT INTO public.{table} VALUES (1, 'another application');\n"
            ));
        }
        // Another application's sqlx migrations: not Latchkey's (its first checksum differs).
        sql.push_str(
            "CREATE TABLE public._sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
                 installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL,
                 checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
             INSERT INTO public._sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (1, 'another application', TRUE, '\\x00', 0);",
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("create the decoys");
        let _ = conn.close().await;
    }

    /// Lays Latchkey's tables out as versions before the schema setting did: its migrations up
    /// to `up_to` run on a plain connection (the server's default search path), so they and
    /// `_sqlx_migrations` land in `public`.
    pub async fn lay_out_as_before_schemas(&self, up_to: i64) {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        let earlier: Vec<_> =
            crate::postgres::schema::MIGRATOR.iter().filter(|m| m.version <= up_to).cloned().collect();
        sqlx::migrate::Migrator::with_migrations(earlier).run(&mut conn).await.expect("migrate as before");
        let _ = conn.close().await;
    }

    /// Whether every decoy of [`TempDatabase::add_decoys`] still holds exactly its one row.
    pub async fn decoys_intact(&self) -> bool {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        let mut intact = true;
        for table in crate::postgres::schema::latchkey_tables() {
            let sql = format!("SELECT owner FROM public.{table}");
            let rows: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut conn).await.expect("read a decoy");
            intact &= rows == ["another application"];
        }
        let migrations: Vec<String> = sqlx::query_scalar("SELECT description FROM public._sqlx_migrations")
            .fetch_all(&mut conn)
            .await
            .expect("read the decoy migrations");
        let _ = conn.close().await;
        intact && migrations == ["another application"]
    }

    /// The tables of `schema` (from the catalogue), sorted.
    pub async fn tables_in(&self, schema: &str) -> Vec<String> {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to the test database");
        let tables =
            sqlx::query_scalar("SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = $1 ORDER BY 1")
                .bind(schema)
                .fetch_all(&mut conn)
                .await
                .expect("list tables");
        let _ = conn.close().await;
        tables
    }

    /// The database's name (for a pooler's configuration).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The tables of the database at `url` (`sqlite://PATH` or `postgres://…`) with a row in which
/// some column's text contains `needle` (an id, say): for tests that prove an erasure left
/// nothing behind. Every table of the schema is walked, so a table added later is covered too.
pub async fn tables_mentioning(url: &str, needle: &str) -> Vec<String> {
    let rows = match url.strip_prefix("sqlite://") {
        Some(path) => sqlite_rows(std::path::Path::new(path)).await,
        None => postgres_rows(url).await,
    };
    let mut found: Vec<String> = rows.into_iter().filter(|(_, row)| row.contains(needle)).map(|(t, _)| t).collect();
    found.dedup();
    found
}
