//! Opening the PostgreSQL backend, for several `latchkey serve` processes sharing one
//! database (selected by `LATCHKEY_DATABASE_URL=postgres://…`). One pool serves reads and
//! writes; PostgreSQL's row locks make the conditional `UPDATE ... WHERE generation = n` of a
//! refresh exchange race-free across processes. The statements are the store's own
//! (`core.rs`, `mail.rs`, `external.rs`), checked by the same contract tests as SQLite.

mod pooled;
pub mod schema;

use std::str::FromStr;
use std::time::Duration;

use latchkey_core::store::{StoreError, StoreResult};
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, SqlSafeStr};
use tokio::time::Instant;

pub use pooled::{PgConn, PgConnExec, PgDb, PgPooler, PgTx, PgTxConn};
pub use schema::{InvalidSchema, PgSchema, SchemaMove, move_from_public};

use crate::db::Db;
use crate::{OpenOptions, SqlStore, map_err};

/// Opens PostgreSQL databases as a [`SqlStore`]; its defaults.
pub enum PgStore {}

impl PgStore {
    /// Connections per process unless configured otherwise: several processes share one
    /// server, whose default `max_connections` is 100.
    pub const DEFAULT_POOL_SIZE: u32 = 16;
    /// How long start-up waits for the database (retrying refused connections).
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long a request waits for a connection (including opening one) before it fails with
    /// `StoreError::Unavailable`: short, so an outage answers 503 at once instead of queueing.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
    /// PostgreSQL's `statement_timeout` for the store's statements (not migrations).
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

    /// Connects to `url` (`postgres://user@host:port/db`) with the default options and runs
    /// pending migrations.
    pub async fn open(url: &str) -> StoreResult<SqlStore> {
        Self::open_with(url, &OpenOptions::default()).await
    }

    /// As [`PgStore::open`], with at most `max_connections` (at least 1) connections.
    pub async fn open_with_pool_size(url: &str, max_connections: u32) -> StoreResult<SqlStore> {
        Self::open_with(url, &OpenOptions { pg_pool_size: max_connections, ..OpenOptions::default() }).await
    }

    /// As [`PgStore::open`], with `options` (pool size, pooler, timeouts, migration URL).
    pub async fn open_with(url: &str, options: &OpenOptions) -> StoreResult<SqlStore> {
        let pooler = options.pg_pooler;
        let statement_ms = options.pg_statement_timeout.as_millis();
        let base = PgConnectOptions::from_str(url).map_err(map_err)?;
        // Poolers refuse start-up parameters they do not know (PgBouncer: `extra_float_digits`,
        // `options`). Without it PostgreSQL >= 12 still sends exact floats, and floats are
        // read in binary anyway.
        let base = match pooler {
            PgPooler::None => base,
            PgPooler::Session | PgPooler::Transaction => base.extra_float_digits(None),
        };
        // Migrations take a session advisory lock and use named statements: they need a
        // session of their own, never a transaction-mode pooler; no statement timeout applies.
        let deadline = Instant::now() + options.pg_connect_timeout;
        let migration = match (&options.pg_migration_url, pooler) {
            (Some(direct), _) => PgConnectOptions::from_str(direct.expose_secret()).map_err(map_err)?,
            (None, PgPooler::Transaction) => {
                return Err(StoreError::Other(
                    "a transaction-mode pooler needs a direct database URL for migrations \
                     (LATCHKEY_DATABASE_MIGRATION_URL)"
                        .into(),
                ));
            }
            (None, _) => base.clone(),
        };
        // The schema that holds the tables (the configured one, or `public` for a deployment of
        // an earlier version): every statement resolves table names in it alone (`schema.rs`).
        let schema = migrate(&migration, &options.pg_schema, deadline).await?;
        // The search path (the schema alone), and the statement timeout, so that a wedged query
        // (a lock held elsewhere, an overloaded server) ends in `57014 query_canceled` (503)
        // instead of holding the request:
        // - direct: a start-up parameter, free;
        // - session-mode pooler: `SET` once per connection (the server connection is ours for
        //   the session; the pooler's reset query clears it when we disconnect);
        // - transaction-mode pooler: `SET LOCAL` with each `BEGIN` (see `pooled.rs`), since a
        //   session `SET` would leak into other clients' transactions.
        //
        // Likewise `idle_in_transaction_session_timeout` (the client deadline): a client that
        // went silent inside a transaction (its deadline dropped the connection, but the
        // network lost the close) cannot hold its locks for longer.
        let idle_ms = pooled::client_deadline(options.pg_statement_timeout).as_millis();
        let mut connect = base.clone();
        if pooler == PgPooler::None {
            connect = connect.options([("search_path", schema.as_str())]);
            connect = connect.options([("idle_in_transaction_session_timeout", idle_ms)]);
            if statement_ms > 0 {
                connect = connect.options([("statement_timeout", statement_ms)]);
            }
        }
        if pooler == PgPooler::Transaction {
            connect = connect.statement_cache_capacity(0);
        }
        let mut pool = PgPoolOptions::new()
            .max_connections(options.pg_pool_size.max(1))
            .acquire_timeout(options.pg_acquire_timeout)
            // The test before use is a round trip that a transaction-mode pooler answers by
            // lending a server connection of its scarce pool. There, server connections are the
            // pooler's to replace; ours to it break only if the pooler restarts, and a broken
            // one fails its statement (503) and is closed, as sqlx tests each on release.
            .test_before_acquire(pooler != PgPooler::Transaction);
        if pooler == PgPooler::Session {
            let mut set =
                format!("SET search_path TO {}; SET idle_in_transaction_session_timeout = {idle_ms}", schema.quoted());
            if statement_ms > 0 {
                set.push_str(&format!("; SET statement_timeout = {statement_ms}"));
            }
            let set = AssertSqlSafe(set).into_sql_str();
            pool = pool.after_connect(move |conn, _| {
                let set = set.clone();
                Box::pin(async move { conn.execute(set).await.map(|_| ()) })
            });
        }
        let pool = pool.connect_lazy_with(connect);
        let db = PgDb::new(pool, pooler, &schema, options.pg_statement_timeout, options.pg_acquire_timeout);

        // The serving path works end to end (through the pooler, if any) before we serve.
        retry_until(deadline, || sqlx::query(crate::core::PING).execute(&db)).await?;
        Ok(SqlStore::new(Db::Postgres(db)))
    }
}

/// How long one migration attempt waits for a lock (the advisory lock of another process's
/// migrations, a table a long query holds) before it gives up and is retried.
const MIGRATION_LOCK_TIMEOUT_MS: u64 = 2_000;
/// How long start-up retries migrations that wait for locks, before failing loudly.
const MIGRATION_LOCK_RETRY: Duration = Duration::from_secs(60);

/// Runs pending migrations on a connection of their own, in the schema that holds the tables
/// (see `schema.rs`), which it returns. Each attempt waits at most
/// [`MIGRATION_LOCK_TIMEOUT_MS`] for any lock (`lock_timeout`, sent as `SET` since a session
/// pooler refuses start-up options); one that fails on a lock (`55P03`) is retried on a fresh
/// connection (closing releases the advisory locks; each migration is its own transaction, so a
/// failed one left nothing behind) for up to [`MIGRATION_LOCK_RETRY`], then start-up fails with
/// the cause instead of hanging behind the lock.
async fn migrate(migration: &PgConnectOptions, schema: &PgSchema, connect_deadline: Instant) -> StoreResult<PgSchema> {
    let give_up = Instant::now() + MIGRATION_LOCK_RETRY;
    let set = AssertSqlSafe(format!("SET lock_timeout = {MIGRATION_LOCK_TIMEOUT_MS}")).into_sql_str();
    loop {
        let mut conn =
            retry_until(connect_deadline.max(Instant::now() + Duration::from_secs(1)), || migration.connect()).await?;
        conn.execute(set.clone()).await.map_err(map_err)?;
        let outcome = schema::migrate_in_place(&mut conn, schema).await;
        let _ = conn.close().await;
        let error = match outcome {
            Ok(used) => return Ok(used),
            Err(error) => error,
        };
        if !error.on_a_lock() || Instant::now() >= give_up {
            return Err(StoreError::Other(format!("migration failed: {error}")));
        }
        tracing::warn!(%error, "migrations wait for a lock held elsewhere; retrying");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs `attempt` until it succeeds, fails for good, or `deadline` passes; connections refused
/// and "not now" errors are retried (the database may be starting).
async fn retry_until<T, F, Fut>(deadline: Instant, mut attempt: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut backoff = Duration::from_millis(50);
    loop {
        let error = match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => map_err(error),
            Err(_) => StoreError::Unavailable("timed out connecting to PostgreSQL".into()),
        };
        if !matches!(error, StoreError::Unavailable(_)) || Instant::now() + backoff >= deadline {
            return Err(error);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_millis(500));
    }
}
