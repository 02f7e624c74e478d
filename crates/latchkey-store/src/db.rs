//! The dispatch layer: each store method is written once, with its SQL text beside its binds,
//! and runs on whichever backend the store opened.
//!
//! - [`Db`] is the open database: SQLite's two pools or PostgreSQL's (pooler-aware) [`PgDb`].
//! - A statement is built on where it runs (`db.reader()`, `db.writer()`, a [`Tx`]) with [`On::query`], bound value by value ([`Stmt::bind`]: each value goes
//!   straight into that backend's argument list), and run with [`Stmt::execute`],
//!   [`Stmt::fetch_optional`], [`Stmt::fetch_one`] or [`Stmt::fetch_all`] into a [`Record`]:
//!   a row type that is `FromRow` on both backends.
//! - SQL is written once with `$1..$n` placeholders (PostgreSQL's syntax, which sqlx's SQLite
//!   driver binds the same way, numbers may repeat). Where the dialects differ, the method
//!   matches on [`Db`] and the two texts sit side by side.
//!
//! Only the types of [`Bind`] can be bound: a `DateTime` or a bare id, which sqlx would happily
//! encode in a form the schema does not use, fails to compile here instead.

use std::path::PathBuf;

use latchkey_core::store::{ConnectionPoolStats, StoreError, StoreResult};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Arguments, Encode, Executor, FromRow, IntoArguments, Postgres, Sqlite, Type};
use tracing::Instrument;

use crate::map_err;
use crate::postgres::{PgDb, PgTx, PgTxConn};
use crate::types::{Id, JsonText, Millis};

/// The open database (clones share the pools).
#[derive(Clone)]
pub(crate) enum Db {
    /// WAL mode, one writer connection (SQLite serialises writes anyway, and a single writer
    /// turns lock contention into a queue), a small pool of read-only readers.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        /// The database file, for the free-space check of readiness.
        path: PathBuf,
    },
    /// One pool for reads and writes (several processes may share the database).
    Postgres(PgDb),
}

impl Db {
    /// Where reads go.
    pub(crate) fn reader(&self) -> On<'_> {
        match self {
            Db::Sqlite { reader, .. } => On::Sqlite(SqliteOn::Pool(reader)),
            Db::Postgres(db) => On::Postgres(PgOn::Pool(db)),
        }
    }

    /// Where lone writes go.
    pub(crate) fn writer(&self) -> On<'_> {
        match self {
            Db::Sqlite { writer, .. } => On::Sqlite(SqliteOn::Pool(writer)),
            Db::Postgres(db) => On::Postgres(PgOn::Pool(db)),
        }
    }

    /// Each pool's load now (metrics), read from sqlx's counters without a round trip.
    pub(crate) fn connection_pools(&self) -> Vec<ConnectionPoolStats> {
        fn stats<DB: sqlx::Database>(pool: &'static str, of: &sqlx::Pool<DB>) -> ConnectionPoolStats {
            let idle = u32::try_from(of.num_idle()).unwrap_or(u32::MAX);
            ConnectionPoolStats { pool, open: of.size(), idle, max: of.options().get_max_connections() }
        }
        match self {
            Db::Sqlite { writer, reader, .. } => vec![stats("writer", writer), stats("reader", reader)],
            Db::Postgres(db) => vec![stats("main", &db.pool)],
        }
    }

    /// A write transaction (SQLite: deferred, on the single writer).
    pub(crate) async fn begin(&self) -> StoreResult<Tx> {
        match self {
            Db::Sqlite { writer, .. } => writer.begin().await.map(Tx::Sqlite),
            Db::Postgres(db) => db.begin().await.map(Tx::Postgres),
        }
        .map_err(map_err)
    }
}

/// An open write transaction; dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(PgTx),
}

impl Tx {
    /// Where the transaction's statements run.
    pub(crate) fn on(&mut self) -> On<'_> {
        match self {
            Tx::Sqlite(tx) => On::Sqlite(SqliteOn::Conn(tx)),
            Tx::Postgres(tx) => On::Postgres(PgOn::Tx(tx)),
        }
    }

    pub(crate) fn query(&mut self, sql: &'static str) -> Stmt<'_> {
        self.on().query(sql)
    }

    pub(crate) async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .map_err(map_err)
    }
}

/// Where a statement runs.
pub(crate) enum On<'a> {
    Sqlite(SqliteOn<'a>),
    Postgres(PgOn<'a>),
}

pub(crate) enum SqliteOn<'a> {
    Pool(&'a SqlitePool),
    Conn(&'a mut SqliteConnection),
}

/// PostgreSQL's executors are this crate's pooler-aware ones (see `postgres/pooled.rs`).
pub(crate) enum PgOn<'a> {
    Pool(&'a PgDb),
    Tx(&'a mut PgTxConn),
}

impl<'a> On<'a> {
    /// A statement of `sql` to run here, with no values bound yet.
    pub(crate) fn query(self, sql: &'static str) -> Stmt<'a> {
        let run = match self {
            On::Sqlite(on) => Run::Sqlite(on, SqliteArguments::default()),
            On::Postgres(on) => Run::Postgres(on, PgArguments::default()),
        };
        Stmt { sql, run: Ok(run) }
    }
}

/// A statement's executor and its argument list, of the same backend.
enum Run<'a> {
    Sqlite(SqliteOn<'a>, SqliteArguments),
    Postgres(PgOn<'a>, PgArguments),
}

/// A value in a stored form: the same encoding on both backends, and the only types
/// [`Stmt::bind`] takes.
pub(crate) trait Bind<'q>: Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> {}

impl<'q> Bind<'q> for &'q str {}
impl<'q> Bind<'q> for Option<&'q str> {}
impl Bind<'_> for i64 {}
impl Bind<'_> for bool {}
impl Bind<'_> for Option<bool> {}
impl Bind<'_> for Option<i64> {}
impl Bind<'_> for Option<f64> {}
impl<'q> Bind<'q> for &'q [u8] {}
impl<'q> Bind<'q> for Option<&'q [u8]> {}
impl Bind<'_> for Vec<u8> {}
impl<'q, T: std::fmt::Display + 'q> Bind<'q> for Id<T> {}
impl<'q, T: std::fmt::Display + 'q> Bind<'q> for Option<Id<T>> {}
impl Bind<'_> for Millis {}
impl Bind<'_> for Option<Millis> {}
impl<'q, T: serde::Serialize> Bind<'q> for JsonText<T> {}

/// A row type read the same from both backends (a `#[derive(sqlx::FromRow)]` struct or a
/// tuple of stored types).
pub(crate) trait Record: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// A statement with its values, ready to run.
pub(crate) struct Stmt<'a> {
    sql: &'static str,
    /// Err: the first value that failed to encode (reported when the statement runs).
    run: Result<Run<'a>, BoxDynError>,
}

impl Stmt<'_> {
    /// Binds the next placeholder (`$1`, then `$2`, ...).
    pub(crate) fn bind<'q>(mut self, value: impl Bind<'q>) -> Self {
        let added = match &mut self.run {
            Ok(Run::Sqlite(_, args)) => args.add(value),
            Ok(Run::Postgres(_, args)) => args.add(value),
            Err(_) => Ok(()),
        };
        if let Err(err) = added {
            self.run = Err(err);
        }
        self
    }

    /// Runs the statement; the number of rows it affected.
    pub(crate) async fn execute(self) -> StoreResult<u64> {
        let sql = self.sql;
        match self.run.map_err(bind_error)? {
            Run::Sqlite(on, args) => match on {
                SqliteOn::Pool(pool) => execute(pool, sql, args).await,
                SqliteOn::Conn(conn) => execute(conn, sql, args).await,
            }
            .map(|done| done.rows_affected()),
            Run::Postgres(on, args) => match on {
                PgOn::Pool(db) => execute(db, sql, args).await,
                PgOn::Tx(tx) => execute(tx, sql, args).await,
            }
            .map(|done| done.rows_affected()),
        }
        .map_err(map_err)
    }

    /// Runs the statement; its first row, if any.
    pub(crate) async fn fetch_optional<T: Record>(self) -> StoreResult<Option<T>> {
        let sql = self.sql;
        match self.run.map_err(bind_error)? {
            Run::Sqlite(SqliteOn::Pool(pool), args) => fetch_optional(pool, sql, args).await,
            Run::Sqlite(SqliteOn::Conn(conn), args) => fetch_optional(conn, sql, args).await,
            Run::Postgres(PgOn::Pool(db), args) => fetch_optional(db, sql, args).await,
            Run::Postgres(PgOn::Tx(tx), args) => fetch_optional(tx, sql, args).await,
        }
        .map_err(map_err)
    }

    /// Runs a statement that always returns a row (an upsert's `RETURNING`); that row.
    pub(crate) async fn fetch_one<T: Record>(self) -> StoreResult<T> {
        self.fetch_optional().await?.ok_or_else(|| map_err(sqlx::Error::RowNotFound))
    }

    /// Runs the statement; all its rows.
    pub(crate) async fn fetch_all<T: Record>(self) -> StoreResult<Vec<T>> {
        let sql = self.sql;
        match self.run.map_err(bind_error)? {
            Run::Sqlite(SqliteOn::Pool(pool), args) => fetch_all(pool, sql, args).await,
            Run::Sqlite(SqliteOn::Conn(conn), args) => fetch_all(conn, sql, args).await,
            Run::Postgres(PgOn::Pool(db), args) => fetch_all(db, sql, args).await,
            Run::Postgres(PgOn::Tx(tx), args) => fetch_all(tx, sql, args).await,
        }
        .map_err(map_err)
    }
}

// The three runs, generic over the backend and its executor: sqlx's own calls, each in a
// span (DEBUG, so off in the default logs; the traces exported over OTLP have it).

/// The span of one statement: the backend and the SQL text, which holds placeholders, never
/// values.
fn statement_span<DB: sqlx::Database>(sql: &'static str) -> tracing::Span {
    let system = if DB::NAME == "PostgreSQL" { "postgresql" } else { "sqlite" };
    tracing::debug_span!("db.statement", "db.system.name" = system, "db.query.text" = sql)
}

async fn execute<'e, DB, E>(on: E, sql: &'static str, args: DB::Arguments) -> Result<DB::QueryResult, sqlx::Error>
where
    DB: sqlx::Database,
    E: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    sqlx::query_with(sql, args).execute(on).instrument(statement_span::<DB>(sql)).await
}

async fn fetch_optional<'e, DB, E, T>(on: E, sql: &'static str, args: DB::Arguments) -> Result<Option<T>, sqlx::Error>
where
    DB: sqlx::Database,
    E: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    T: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
{
    sqlx::query_as_with(sql, args).fetch_optional(on).instrument(statement_span::<DB>(sql)).await
}

async fn fetch_all<'e, DB, E, T>(on: E, sql: &'static str, args: DB::Arguments) -> Result<Vec<T>, sqlx::Error>
where
    DB: sqlx::Database,
    E: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    T: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
{
    sqlx::query_as_with(sql, args).fetch_all(on).instrument(statement_span::<DB>(sql)).await
}

fn bind_error(err: BoxDynError) -> StoreError {
    StoreError::Other(format!("cannot encode a value: {err}"))
}
