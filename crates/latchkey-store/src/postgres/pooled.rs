//! How the PostgreSQL store's statements reach the server: directly, or through a connection
//! pooler such as PgBouncer. The store's statements run (through `db.rs`) on [`PgDb`], a
//! [`PgTx`] or a held [`PgConn`], which behave as sqlx's pool, transaction and pooled
//! connection when connected directly or through a session-mode pooler, and keep every
//! statement pooler-safe in transaction mode:
//!
//! - PgBouncer 1.18 in transaction mode has no named prepared statements: a server connection
//!   serves many clients, so `sqlx_s_1` prepared by one is "already exists" for the next.
//!   Statements are therefore sent unnamed ([`Unnamed`]).
//! - sqlx sends an unnamed statement in two round trips (Parse+Describe+Sync, then
//!   Bind+Execute+Sync). Outside a transaction the pooler may give the second half to another
//!   server connection (with another client's unnamed statement), so every statement runs
//!   inside `BEGIN ... COMMIT`, which pins one server connection: a lone statement on the pool
//!   becomes a transaction of its own.
//! - The statement timeout and the search path (the schema, see `schema.rs`) cannot be
//!   start-up parameters (PgBouncer refuses `options`) nor a session `SET` (the session is
//!   shared); they are `SET LOCAL` in the same simple query as `BEGIN`, so they cost no round
//!   trip, and no statement runs without them.
//! - The pooler queues a transaction's `BEGIN` until a server connection is free (for up to
//!   its `query_wait_timeout`, 120 s by default): the wait is bounded here by the acquire
//!   timeout, like waiting for a connection of our own pool.
//!
//! - The server enforces the statement timeout, but a server or pooler that goes silent
//!   (stopped, or the network drops every packet) answers nothing at all, and sqlx sets no
//!   socket timeout. Every statement, `BEGIN` and `COMMIT` therefore also has a client-side
//!   deadline ([`PgDb::deadline`]); on expiry the connection is detached from the pool and
//!   dropped (never reused: its protocol state is unknown) and the error is an I/O timeout,
//!   `StoreError::Unavailable`.
//!
//! Transactions are this module's own (not `sqlx::Transaction`) in every mode, so that one
//! abandoned mid-`BEGIN` (a request cancelled, or the bound above) is rolled back: sqlx's
//! queues its rollback only once `BEGIN` has completed, and would return a connection still
//! inside the transaction to the pool, where later autocommit statements would never commit.

use std::time::Duration;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt, stream};
use sqlx::error::BoxDynError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{AssertSqlSafe, Describe, Either, Execute, Executor, Postgres, SqlSafeStr, SqlStr};

use super::PgSchema;

/// What sits between Latchkey and PostgreSQL (`LATCHKEY_DATABASE_POOLER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PgPooler {
    /// Connected to PostgreSQL itself: named (cached) prepared statements, the statement
    /// timeout as a connection start-up parameter.
    #[default]
    None,
    /// A pooler in session mode (one server connection per client connection): no start-up
    /// parameters beyond the basic ones, the statement timeout set once per connection.
    Session,
    /// A pooler in transaction mode: unnamed statements, each inside a transaction, the
    /// statement timeout set per transaction. Migrations need a direct URL.
    Transaction,
}

impl PgPooler {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Session => "session",
            Self::Transaction => "transaction",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Self::None),
            "session" => Some(Self::Session),
            "transaction" => Some(Self::Transaction),
            _ => None,
        }
    }
}

/// The PostgreSQL store's connection pool, usable as a sqlx executor (`&db`).
#[derive(Debug, Clone)]
pub struct PgDb {
    pub(crate) pool: PgPool,
    pooler: PgPooler,
    /// The simple query that opens a transaction (with `SET LOCAL statement_timeout` in
    /// transaction mode).
    begin_sql: SqlStr,
    /// Bound on the pooler's wait for a server connection (transaction mode).
    acquire_timeout: Duration,
    /// Client-side bound on each statement, `BEGIN` and `COMMIT`.
    deadline: Duration,
}

impl PgDb {
    pub(crate) fn new(
        pool: PgPool,
        pooler: PgPooler,
        schema: &PgSchema,
        statement_timeout: Duration,
        acquire_timeout: Duration,
    ) -> Self {
        let deadline = client_deadline(statement_timeout);
        let begin_sql = match pooler {
            // Numbers of our own and a checked schema name: safe to splice. No
            // `statement_timeout` when it is off, so the server's (or the pooler's) default
            // stands. The search path is the transaction's alone, like the timeouts: the
            // server connection goes to other clients after `COMMIT`.
            PgPooler::Transaction => {
                let mut sql = format!(
                    "BEGIN; SET LOCAL search_path TO {}; SET LOCAL idle_in_transaction_session_timeout = {}",
                    schema.quoted(),
                    deadline.as_millis()
                );
                if !statement_timeout.is_zero() {
                    sql.push_str(&format!("; SET LOCAL statement_timeout = {}", statement_timeout.as_millis()));
                }
                AssertSqlSafe(sql).into_sql_str()
            }
            PgPooler::None | PgPooler::Session => "BEGIN".into_sql_str(),
        };
        Self { pool, pooler, begin_sql, acquire_timeout, deadline }
    }

    /// The client-side bound on each statement, `BEGIN` and `COMMIT`.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    fn unnamed(&self) -> bool {
        self.pooler == PgPooler::Transaction
    }

    /// Opens a transaction on a pooled connection.
    pub async fn begin(&self) -> Result<PgTx, sqlx::Error> {
        let conn = self.pool.acquire().await?;
        // Marked open before `BEGIN` is sent: if this future is dropped mid-way, the drop
        // rolls back (or closes) instead of pooling a connection inside a transaction.
        let mut tx = PgTx { conn: self.tx_conn(conn, true) };
        let begin = tx.conn.run_simple(self.begin_sql.clone());
        if self.unnamed() {
            tokio::time::timeout(self.acquire_timeout, begin).await.map_err(|_| pooler_wait_timeout(self))??;
        } else {
            begin.await?;
        }
        Ok(tx)
    }
}

impl PgDb {
    /// Connections open now (idle or in use).
    pub fn size(&self) -> u32 {
        self.pool.size()
    }

    pub fn options(&self) -> &sqlx::pool::PoolOptions<Postgres> {
        self.pool.options()
    }

    /// A connection held across statements (`&mut *conn` is its executor).
    pub async fn acquire(&self) -> Result<PgConn, sqlx::Error> {
        Ok(self.held(self.pool.acquire().await?))
    }

    fn held(&self, conn: PoolConnection<Postgres>) -> PgConn {
        PgConn { exec: PgConnExec { tx: self.tx_conn(conn, false), db: self.clone() } }
    }

    fn tx_conn(&self, conn: PoolConnection<Postgres>, open: bool) -> PgTxConn {
        PgTxConn { conn: Some(conn), unnamed: self.unnamed(), open, deadline: self.deadline }
    }
}

/// A pooled connection held across statements ([`PgDb::acquire`]): each statement runs as on
/// the pool itself (in transaction mode: unnamed, in a transaction of its own).
pub struct PgConn {
    exec: PgConnExec,
}

impl std::ops::Deref for PgConn {
    type Target = PgConnExec;
    fn deref(&self) -> &PgConnExec {
        &self.exec
    }
}

impl std::ops::DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut PgConnExec {
        &mut self.exec
    }
}

/// The executor of a [`PgConn`] (`&mut *conn`).
#[derive(Debug)]
pub struct PgConnExec {
    tx: PgTxConn,
    db: PgDb,
}

impl PgConnExec {
    /// Transaction mode: opens this statement's own transaction (bounded like [`PgDb::begin`]).
    async fn begin_own(&mut self) -> Result<(), sqlx::Error> {
        self.tx.open = true;
        let begin = self.tx.run_simple(self.db.begin_sql.clone());
        tokio::time::timeout(self.db.acquire_timeout, begin).await.map_err(|_| pooler_wait_timeout(&self.db))??;
        Ok(())
    }

    async fn commit_own(&mut self) -> Result<(), sqlx::Error> {
        self.tx.run_simple("COMMIT".into_sql_str()).await?;
        self.tx.open = false;
        Ok(())
    }
}

impl<'c> Executor<'c> for &'c mut PgConnExec {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.db.unnamed() {
            return (&mut self.tx).fetch_many(query);
        }
        stream::once(async move {
            self.begin_own().await?;
            let steps: Vec<Step> = (&mut self.tx).fetch_many(query).try_collect().await?;
            self.commit_own().await?;
            Ok::<_, sqlx::Error>(stream::iter(steps.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.db.unnamed() {
            return (&mut self.tx).fetch_optional(query);
        }
        Box::pin(async move {
            self.begin_own().await?;
            let row = (&mut self.tx).fetch_optional(query).await?;
            self.commit_own().await?;
            Ok(row)
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        (&mut self.tx).prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        (&mut self.tx).describe(sql)
    }
}

fn pooler_wait_timeout(db: &PgDb) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "the pooler gave no server connection within {} ms (its pool is smaller than \
             processes x LATCHKEY_DATABASE_POOL_SIZE, or the database is down)",
            db.acquire_timeout.as_millis()
        ),
    ))
}

/// An open transaction ([`PgDb::begin`]); `&mut *tx` is its executor. Dropped without
/// [`PgTx::commit`], it is rolled back (by a spawned task, as sqlx's own would be when its
/// connection goes back to the pool).
pub struct PgTx {
    conn: PgTxConn,
}

impl PgTx {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.conn.run_simple("COMMIT".into_sql_str()).await?;
        self.conn.open = false;
        Ok(())
    }
}

impl std::ops::Deref for PgTx {
    type Target = PgTxConn;
    fn deref(&self) -> &PgTxConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut PgTxConn {
        &mut self.conn
    }
}

/// The connection of a [`PgTx`], as a sqlx executor (`&mut *tx`).
#[derive(Debug)]
pub struct PgTxConn {
    /// Taken only by `Drop`.
    conn: Option<PoolConnection<Postgres>>,
    unnamed: bool,
    /// `BEGIN` may have run and no `COMMIT` has succeeded.
    open: bool,
    /// Client-side bound on each statement ([`PgDb::deadline`]).
    deadline: Duration,
}

impl PgTxConn {
    fn raw(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        self.conn.as_deref_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Runs a simple query (`BEGIN`, `COMMIT`) within the deadline.
    async fn run_simple(&mut self, sql: SqlStr) -> Result<(), sqlx::Error> {
        let deadline = self.deadline;
        let run = self.raw()?.execute(sql);
        let outcome = tokio::time::timeout(deadline, run).await;
        self.within_deadline(outcome).map(|_| ())
    }

    /// A run's outcome; past the deadline, the connection is dropped: the server (or the
    /// network) went silent mid-exchange, so nothing more can be read from it in order.
    fn within_deadline<T>(
        &mut self,
        outcome: Result<Result<T, sqlx::Error>, tokio::time::error::Elapsed>,
    ) -> Result<T, sqlx::Error> {
        outcome.unwrap_or_else(|_| {
            if let Some(conn) = self.conn.take() {
                // Detached: the pool may open a replacement at once; dropped: the socket is
                // closed without a goodbye that could block. The server ends the session (and
                // rolls back) when it sees the close, or by its idle-in-transaction timeout.
                drop(conn.detach());
            }
            self.open = false;
            Err(past_deadline(self.deadline))
        })
    }
}

/// The client-side deadline for a statement timeout: it lets the server cancel the statement
/// first (its error names the cause), with 2 s for the answer to arrive; 30 s when the
/// statement timeout is off.
pub(crate) fn client_deadline(statement_timeout: Duration) -> Duration {
    if statement_timeout.is_zero() { Duration::from_secs(30) } else { statement_timeout + Duration::from_secs(2) }
}

fn past_deadline(deadline: Duration) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("PostgreSQL did not answer within {} ms; the connection was closed", deadline.as_millis()),
    ))
}

/// How long a dropped transaction's rollback may take before its connection is closed instead.
const ROLLBACK_TIMEOUT: Duration = Duration::from_secs(5);

impl Drop for PgTxConn {
    fn drop(&mut self) {
        if !self.open {
            return; // committed: the connection goes back to the pool as it is
        }
        let Some(mut conn) = self.conn.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            conn.close_on_drop();
            return;
        };
        runtime.spawn(async move {
            // Waits for anything still in flight (a cancelled BEGIN or statement), then ends
            // the transaction; a connection that cannot do that promptly is closed, which
            // ends the transaction on the server too.
            match tokio::time::timeout(ROLLBACK_TIMEOUT, (&mut *conn).execute("ROLLBACK")).await {
                Ok(Ok(_)) => {}
                _ => conn.close_on_drop(),
            }
        });
    }
}

/// A query sent as PostgreSQL's unnamed prepared statement, never cached on the connection.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Unnamed<E> {
    fn sql(self) -> SqlStr {
        self.0.sql()
    }

    fn statement(&self) -> Option<&PgStatement> {
        self.0.statement()
    }

    fn take_arguments(&mut self) -> Result<Option<PgArguments>, BoxDynError> {
        self.0.take_arguments()
    }

    fn persistent(&self) -> bool {
        false
    }
}

fn not_in_transaction_mode() -> sqlx::Error {
    sqlx::Error::Configuration("named prepared statements are unavailable behind a transaction-mode pooler".into())
}

type Step = Either<PgQueryResult, PgRow>;

impl<'c> Executor<'c> for &'c PgDb {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        // On a connection of our own, so that the deadline can drop it (sqlx's pool would return
        // it, and test it with a ping that nothing bounds). In transaction mode the statement
        // runs in its own transaction (`PgConnExec`).
        stream::once(async move {
            let mut conn = self.acquire().await?;
            let steps: Vec<Step> = (&mut *conn).fetch_many(query).try_collect().await?;
            Ok::<_, sqlx::Error>(stream::iter(steps.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        Box::pin(async move {
            let mut conn = self.acquire().await?;
            (&mut *conn).fetch_optional(query).await
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        if self.unnamed() {
            return Box::pin(async { Err(not_in_transaction_mode()) });
        }
        (&self.pool).prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        if self.unnamed() {
            return Box::pin(async { Err(not_in_transaction_mode()) });
        }
        (&self.pool).describe(sql)
    }
}

impl<'c> Executor<'c> for &'c mut PgTxConn {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        // The rows are collected so that one deadline bounds the whole statement.
        stream::once(async move {
            let unnamed = self.unnamed;
            let deadline = self.deadline;
            let conn = self.raw()?;
            let run = if unnamed { conn.fetch_many(Unnamed(query)) } else { conn.fetch_many(query) };
            let outcome = tokio::time::timeout(deadline, run.try_collect::<Vec<Step>>()).await;
            let steps = self.within_deadline(outcome)?;
            Ok::<_, sqlx::Error>(stream::iter(steps.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        Box::pin(async move {
            let unnamed = self.unnamed;
            let deadline = self.deadline;
            let conn = self.raw()?;
            let run = if unnamed { conn.fetch_optional(Unnamed(query)) } else { conn.fetch_optional(query) };
            let outcome = tokio::time::timeout(deadline, run).await;
            self.within_deadline(outcome)
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        if self.unnamed {
            return Box::pin(async { Err(not_in_transaction_mode()) });
        }
        match self.raw() {
            Ok(conn) => conn.prepare_with(sql, parameters),
            Err(e) => Box::pin(async { Err(e) }),
        }
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        if self.unnamed {
            return Box::pin(async { Err(not_in_transaction_mode()) });
        }
        match self.raw() {
            Ok(conn) => conn.describe(sql),
            Err(e) => Box::pin(async { Err(e) }),
        }
    }
}
