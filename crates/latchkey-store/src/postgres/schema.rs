//! Which PostgreSQL schema holds Latchkey's tables (`LATCHKEY_DATABASE_SCHEMA`, default
//! `latchkey`), so that Latchkey can share a database whose `public` already has a `users`
//! table.
//!
//! The store's SQL names its tables unqualified, and every way a statement reaches the server
//! resolves them through a `search_path` of the schema alone (set in `mod.rs`, `pooled.rs`):
//! - directly: a start-up parameter, which is also the session's reset value;
//! - through a session-mode pooler: `SET search_path` once per connection (the server
//!   connection is ours for the session);
//! - through a transaction-mode pooler: `SET LOCAL search_path` in the same simple query as
//!   each `BEGIN`; there every statement already runs in a transaction of its own, so no
//!   statement ever runs without it, and nothing leaks into other clients' transactions;
//! - migrations: `SET search_path` on their own connection, so `_sqlx_migrations` and every
//!   table they create land in the schema. The migration files cannot name the schema
//!   themselves: they are applied already, and sqlx refuses a changed one.
//!
//! `public` is never searched, so a table of another application with one of our names there
//! is never touched. Earlier versions created everything in `public` ([`Located::Legacy`]):
//! such a deployment keeps being served from `public`, with a warning at start-up, until an
//! operator moves it with `latchkey db move-schema` ([`move_from_public`]).

use std::str::FromStr;

use latchkey_core::store::{StoreError, StoreResult};
use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};
use tokio::time::Instant;

use crate::{OpenOptions, map_err};

/// Latchkey's migrations; their checksums also recognise a deployment of an earlier version.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// sqlx's bookkeeping table, created by the migrator in the first schema of the search path.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// Where earlier versions put everything.
const PUBLIC: &str = "public";

/// Serialises what decides and changes the layout: start-up's look, schema creation and
/// migrations (each process), and `move-schema`. An advisory lock of our own (sqlx's
/// migration lock is taken inside its `run`, too late to cover the look).
const LAYOUT_LOCK: &str =
    "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtextextended('latchkey schema layout', 0))";
const LAYOUT_XACT_LOCK: &str =
    "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('latchkey schema layout', 0))";

/// A schema name that is a plain identifier: a lowercase letter or `_`, then lowercase
/// letters, digits or `_`, at most 63 bytes (PostgreSQL cuts longer names silently), not
/// `pg_*` nor `information_schema` (the system's). It means the same quoted or not, in SQL
/// and in a `search_path`; it is still always quoted where it is spliced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSchema(String);

/// A schema name refused by [`PgSchema::parse`], with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid PostgreSQL schema name {name:?}: {reason} (use a plain identifier: a lowercase letter or _, then \
     lowercase letters, digits or _, at most 63 bytes; e.g. latchkey)"
)]
pub struct InvalidSchema {
    pub name: String,
    pub reason: &'static str,
}

impl PgSchema {
    /// The schema unless configured otherwise.
    pub const DEFAULT: &'static str = "latchkey";
    /// PostgreSQL's limit on identifiers (`NAMEDATALEN - 1`).
    const MAX_LEN: usize = 63;

    pub fn parse(name: &str) -> Result<Self, InvalidSchema> {
        let refuse = |reason| Err(InvalidSchema { name: name.to_owned(), reason });
        let mut chars = name.chars();
        match chars.next() {
            None => return refuse("it is empty"),
            Some(c) if !(c.is_ascii_lowercase() || c == '_') => {
                return refuse("it must start with a lowercase letter or _");
            }
            Some(_) => {}
        }
        if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return refuse("it may hold only lowercase letters, digits and _");
        }
        if name.len() > Self::MAX_LEN {
            return refuse("it is longer than 63 bytes");
        }
        if name.starts_with("pg_") || name == "information_schema" {
            return refuse("it is reserved for PostgreSQL's system schemas");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As a quoted identifier, to splice into SQL (the name holds no quote: see `parse`).
    pub(crate) fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }

    fn public() -> Self {
        Self(PUBLIC.to_owned())
    }

    fn is_public(&self) -> bool {
        self.0 == PUBLIC
    }
}

impl Default for PgSchema {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl FromStr for PgSchema {
    type Err = InvalidSchema;
    fn from_str(name: &str) -> Result<Self, InvalidSchema> {
        Self::parse(name)
    }
}

impl std::fmt::Display for PgSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tables Latchkey's migrations create, in order (read from the migrations themselves, so
/// a table added by a later migration is included; a test checks the list against a migrated
/// database). `_sqlx_migrations` is not among them.
pub fn latchkey_tables() -> Vec<String> {
    let mut tables = Vec::new();
    for migration in MIGRATOR.iter() {
        let sql: String = migration
            .sql
            .as_str()
            .lines()
            .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
            .collect::<Vec<_>>()
            .join("\n")
            .replace('(', " ( ");
        let words: Vec<&str> = sql.split_whitespace().collect();
        for (i, pair) in words.windows(2).enumerate() {
            if !(pair[0].eq_ignore_ascii_case("CREATE") && pair[1].eq_ignore_ascii_case("TABLE")) {
                continue;
            }
            let mut name = i + 2;
            if words.get(name).is_some_and(|w| w.eq_ignore_ascii_case("IF")) {
                name += 3; // IF NOT EXISTS
            }
            if let Some(table) = words.get(name) {
                let table = table.trim_matches('"').to_ascii_lowercase();
                if !tables.contains(&table) {
                    tables.push(table);
                }
            }
        }
    }
    tables
}

/// Where start-up found Latchkey's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Located {
    /// In the configured schema, or nowhere yet (a new database: they will be created there).
    Configured,
    /// In `public`, created by an earlier version, and the configured schema has none.
    Legacy,
}

/// Whether `schema` has a table `table` (catalogue names: no quoting involved).
async fn has_table(conn: &mut PgConnection, schema: &str, table: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2)")
        .bind(schema)
        .bind(table)
        .fetch_one(conn)
        .await
}

/// Whether `public` holds a deployment of an earlier version: a `_sqlx_migrations` whose first
/// migration is Latchkey's own (same checksum: another application's sqlx migrations differ),
/// and Latchkey's first table.
async fn public_is_legacy(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    if !has_table(conn, PUBLIC, MIGRATIONS_TABLE).await? || !has_table(conn, PUBLIC, "projects").await? {
        return Ok(false);
    }
    let Some(first) = MIGRATOR.iter().find(|m| m.version == 1) else { return Ok(false) };
    let applied: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT checksum FROM public._sqlx_migrations WHERE version = 1 AND success")
            .fetch_optional(conn)
            .await?;
    Ok(applied.as_deref() == Some(&*first.checksum))
}

/// Where Latchkey's tables are, for a process configured with `schema`; run under
/// [`LAYOUT_LOCK`] or [`LAYOUT_XACT_LOCK`].
pub(crate) async fn locate(conn: &mut PgConnection, schema: &PgSchema) -> Result<Located, sqlx::Error> {
    if schema.is_public() || has_table(conn, schema.as_str(), MIGRATIONS_TABLE).await? {
        return Ok(Located::Configured);
    }
    Ok(if public_is_legacy(conn).await? { Located::Legacy } else { Located::Configured })
}

/// Creates `schema` unless it exists. Checked first, since `CREATE SCHEMA IF NOT EXISTS` needs
/// the database's CREATE privilege even when the schema exists (one a DBA created is enough).
async fn ensure_schema(conn: &mut PgConnection, schema: &PgSchema) -> Result<(), sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)")
        .bind(schema.as_str())
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted())))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Why a migration attempt failed: a step of ours, or sqlx's migrator.
pub(crate) enum AttemptError {
    Sql(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for AttemptError {
    fn from(error: sqlx::Error) -> Self {
        Self::Sql(error)
    }
}

impl AttemptError {
    /// A lock wait ended by `lock_timeout` (retried).
    pub(crate) fn on_a_lock(&self) -> bool {
        match self {
            Self::Sql(e) => crate::errors::is_lock_timeout(e),
            Self::Migrate(
                sqlx::migrate::MigrateError::Execute(e) | sqlx::migrate::MigrateError::ExecuteMigration(e, _),
            ) => crate::errors::is_lock_timeout(e),
            Self::Migrate(_) => false,
        }
    }
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sql(e) => e.fmt(f),
            Self::Migrate(e) => e.fmt(f),
        }
    }
}

/// One migration attempt on `conn`: under the layout lock, finds where the tables are, creates
/// the configured schema if they go there, and runs pending migrations in the schema that
/// holds them. The schema the store then uses.
pub(crate) async fn migrate_in_place(conn: &mut PgConnection, schema: &PgSchema) -> Result<PgSchema, AttemptError> {
    sqlx::raw_sql(LAYOUT_LOCK).execute(&mut *conn).await?;
    let used = match locate(conn, schema).await? {
        Located::Configured => {
            ensure_schema(conn, schema).await?;
            schema.clone()
        }
        Located::Legacy => {
            tracing::warn!(
                configured = %schema,
                "Latchkey's tables are in schema public, where versions before the schema setting created \
                 them; serving them from there. To move them into schema {schema}: stop every latchkey \
                 process, run `latchkey db move-schema` once, start them again (docs/OPERATIONS.md)"
            );
            PgSchema::public()
        }
    };
    sqlx::raw_sql(AssertSqlSafe(format!("SET search_path TO {}", used.quoted()))).execute(&mut *conn).await?;
    MIGRATOR.run(&mut *conn).await.map_err(AttemptError::Migrate)?;
    Ok(used)
}

/// What [`move_from_public`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaMove {
    /// These tables, then `_sqlx_migrations`, moved from `public` into the schema.
    Moved { schema: PgSchema, tables: Vec<String> },
    /// The schema already holds Latchkey's tables and `public` none of them: nothing to do.
    AlreadyThere { schema: PgSchema },
}

/// How long `move-schema` waits for each table's lock before giving up: a process still
/// serving holds them.
const MOVE_LOCK_TIMEOUT_MS: u64 = 5_000;

/// Moves a deployment of an earlier version (tables and `_sqlx_migrations` in `public`) into
/// the configured schema, in one transaction: every table Latchkey's migrations created
/// (`ALTER TABLE ... SET SCHEMA`: indexes, constraints and owned sequences follow), then
/// `_sqlx_migrations`. Other tables in `public` stay. Connects like migrations do (the direct
/// URL if one is configured). Every process must be stopped: one still serving from `public`
/// would fail once the tables are gone (and holding their locks, it makes this fail first).
pub async fn move_from_public(url: &str, options: &OpenOptions) -> StoreResult<SchemaMove> {
    let schema = options.pg_schema.clone();
    if schema.is_public() {
        return Err(StoreError::Other(
            "the configured schema is public: there is nothing to move; set LATCHKEY_DATABASE_SCHEMA to the \
             schema to move Latchkey's tables into"
                .into(),
        ));
    }
    let direct = options.pg_migration_url.as_ref().map_or(url, |u| u.expose_secret());
    let connect = PgConnectOptions::from_str(direct).map_err(map_err)?;
    let deadline = Instant::now() + options.pg_connect_timeout;
    let mut conn = super::retry_until(deadline, || connect.connect()).await?;
    let outcome = move_on(&mut conn, &schema).await;
    let _ = conn.close().await;
    outcome.map_err(|error| match error {
        MoveError::Refused(message) => StoreError::Other(message),
        MoveError::Sql(e) if crate::errors::is_lock_timeout(&e) => StoreError::Other(format!(
            "cannot lock Latchkey's tables within {MOVE_LOCK_TIMEOUT_MS} ms: a latchkey process (or another \
             session) is still using them; stop every latchkey process and run this again ({e})"
        )),
        MoveError::Sql(e) => StoreError::Other(format!("cannot move Latchkey's tables: {e}; nothing was moved")),
    })
}

enum MoveError {
    Refused(String),
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for MoveError {
    fn from(error: sqlx::Error) -> Self {
        Self::Sql(error)
    }
}

async fn move_on(conn: &mut PgConnection, schema: &PgSchema) -> Result<SchemaMove, MoveError> {
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(AssertSqlSafe(format!("SET LOCAL lock_timeout = {MOVE_LOCK_TIMEOUT_MS}"))).execute(&mut *tx).await?;
    sqlx::raw_sql(LAYOUT_XACT_LOCK).execute(&mut *tx).await?;
    let legacy = public_is_legacy(&mut tx).await?;
    let there = has_table(&mut tx, schema.as_str(), MIGRATIONS_TABLE).await?;
    match (legacy, there) {
        (false, true) => return Ok(SchemaMove::AlreadyThere { schema: schema.clone() }),
        (false, false) => {
            return Err(MoveError::Refused(format!(
                "found no Latchkey tables to move: neither public nor schema {schema} has Latchkey's \
                 _sqlx_migrations (a new database needs no move: `latchkey serve` creates the tables in \
                 schema {schema})"
            )));
        }
        (true, true) => {
            return Err(MoveError::Refused(format!(
                "both public and schema {schema} hold Latchkey's tables; refusing to move (the configured \
                 schema is the one served: drop or rename the other by hand once you know which holds your \
                 data)"
            )));
        }
        (true, false) => {}
    }
    ensure_schema(&mut tx, schema).await?;
    let mut moved = Vec::new();
    for table in latchkey_tables() {
        if !has_table(&mut tx, PUBLIC, &table).await? {
            continue; // created by a migration this deployment has yet to run
        }
        // Names from our own migrations (identifiers, see the test) and a checked schema.
        let sql = format!("ALTER TABLE public.\"{table}\" SET SCHEMA {}", schema.quoted());
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        moved.push(table);
    }
    let sql = format!("ALTER TABLE public.{MIGRATIONS_TABLE} SET SCHEMA {}", schema.quoted());
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(SchemaMove::Moved { schema: schema.clone(), tables: moved })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identifiers_are_accepted_and_everything_else_refused() {
        for good in ["latchkey", "authz", "_x", "a1_b2", "public", &"a".repeat(63)] {
            assert_eq!(PgSchema::parse(good).unwrap().as_str(), good);
        }
        for (bad, why) in [
            ("", "empty"),
            ("Latchkey", "start with"),
            ("1abc", "start with"),
            ("auth-z", "only lowercase"),
            ("auth z", "only lowercase"),
            ("a\"b", "only lowercase"),
            ("a;drop", "only lowercase"),
            ("schemä", "only lowercase"),
            (&"a".repeat(64), "63 bytes"),
            ("pg_catalog", "reserved"),
            ("pg_temp", "reserved"),
            ("information_schema", "reserved"),
        ] {
            let err = PgSchema::parse(bad).unwrap_err();
            assert!(err.to_string().contains(why), "{bad:?}: {err}");
            assert!(err.to_string().contains("plain identifier"), "{err}");
        }
        assert_eq!(PgSchema::default().as_str(), "latchkey");
        assert_eq!(PgSchema::parse("authz").unwrap().quoted(), "\"authz\"");
    }

    #[test]
    fn the_tables_are_read_from_the_migrations() {
        let tables = latchkey_tables();
        for table in ["projects", "users", "sessions", "write_probe", "audit_events", "firebase_hash_settings"] {
            assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
        }
        for table in &tables {
            assert!(PgSchema::parse(table).is_ok(), "a plain identifier, safe to splice: {table}");
        }
    }

    #[test]
    fn no_migration_names_a_schema() {
        // The migrations create their tables in the search path's schema; a `public.` (or any
        // qualified name) would put one in the wrong place.
        for migration in MIGRATOR.iter() {
            let sql = migration.sql.as_str().to_ascii_lowercase();
            assert!(!sql.contains("public."), "migration {} names public", migration.version);
            assert!(!sql.contains("search_path"), "migration {} sets the search path", migration.version);
        }
    }
}
