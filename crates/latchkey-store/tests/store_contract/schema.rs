//! PostgreSQL only: where Latchkey's tables live. A new database gets them in the configured
//! schema; a deployment of a version before the schema setting (everything in `public`) is
//! served from `public` until `move_from_public` (`latchkey db move-schema`) moves it, in one
//! transaction, with its data.

use std::sync::Arc;

use latchkey_core::store::{Store, StoreError};
use latchkey_store::postgres::move_from_public;
use latchkey_store::postgres::schema::latchkey_tables;
use latchkey_store::testing::TempDatabase;
use latchkey_store::{OpenOptions, PgSchema, PgStore, SchemaMove};

use super::{project, session, user};

fn in_schema(schema: &str) -> OpenOptions {
    OpenOptions {
        pg_pool_size: super::backends::TEST_POOL,
        pg_schema: PgSchema::parse(schema).expect("a valid schema"),
        ..OpenOptions::default()
    }
}

async fn open(db: &TempDatabase, schema: &str) -> Arc<dyn Store> {
    Arc::new(PgStore::open_with(db.url(), &in_schema(schema)).await.expect("open postgres"))
}

/// Every table the migrations create, and `_sqlx_migrations`, sorted.
fn every_table() -> Vec<String> {
    let mut tables = latchkey_tables();
    tables.push("_sqlx_migrations".into());
    tables.sort();
    tables
}

/// The newest migration (an earlier version's layout is one behind it).
fn newest_migration() -> i64 {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.split('_').next()?.parse().ok())
        .max()
        .unwrap()
}

#[tokio::test]
async fn a_new_database_gets_every_table_in_the_schema_and_none_in_public() {
    let db = TempDatabase::create().await;
    let _store = open(&db, "latchkey").await;
    assert_eq!(db.tables_in("latchkey").await, every_table(), "the table list read from the migrations is complete");
    assert_eq!(db.tables_in("public").await, Vec::<String>::new());
}

#[tokio::test]
async fn an_earlier_versions_layout_is_served_from_public_until_moved_with_its_data() {
    let db = TempDatabase::create().await;
    // Another application's table shares public; it stays there.
    sqlx_exec(&db, "CREATE TABLE public.widgets (id BIGINT PRIMARY KEY); INSERT INTO public.widgets VALUES (7)").await;
    // Laid out by an earlier version, one migration behind this one.
    db.lay_out_as_before_schemas(newest_migration() - 1).await;

    // Served from public: the pending migration is applied there, no schema is created.
    let store = open(&db, "latchkey").await;
    let p = project(&store).await;
    let u = user(p, "before@example.com", None);
    let s = session(&u);
    store.create_user_with_session(&u, &s).await.unwrap();
    drop(store);
    let mut expected_public = every_table();
    expected_public.push("widgets".into());
    expected_public.sort();
    assert_eq!(db.tables_in("public").await, expected_public);
    assert_eq!(db.tables_in("latchkey").await, Vec::<String>::new());
    assert!(!schema_exists(&db, "latchkey").await, "nothing is created while public is served");
    // Configured as public explicitly, it is simply served: there is nothing to move into.
    let store = open(&db, "public").await;
    assert!(store.get_user(p, u.id).await.unwrap().is_some());
    drop(store);
    let refused = move_from_public(db.url(), &in_schema("public")).await.unwrap_err();
    assert!(refused.to_string().contains("nothing to move"), "{refused}");

    let moved = move_from_public(db.url(), &in_schema("latchkey")).await.unwrap();
    let SchemaMove::Moved { schema, mut tables } = moved else { panic!("moved: {moved:?}") };
    assert_eq!(schema.as_str(), "latchkey");
    tables.push("_sqlx_migrations".into());
    tables.sort();
    assert_eq!(tables, every_table(), "every table moved");
    assert_eq!(db.tables_in("public").await, ["widgets"], "another application's table stays");
    assert_eq!(db.tables_in("latchkey").await, every_table());

    // Served from the schema now, with the data intact.
    let store = open(&db, "latchkey").await;
    let read = store.get_user(p, u.id).await.unwrap().expect("the user moved with its table");
    assert_eq!(read.email.as_deref(), Some("before@example.com"));
    assert!(store.get_session(p, s.id).await.unwrap().is_some(), "the session moved too");
    let later = user(p, "after@example.com", None);
    store.create_user_with_session(&later, &session(&later)).await.unwrap();
    drop(store);
    assert_eq!(db.tables_in("public").await, ["widgets"], "nothing is written to public any more");

    // Once is enough.
    let again = move_from_public(db.url(), &in_schema("latchkey")).await.unwrap();
    assert!(matches!(again, SchemaMove::AlreadyThere { .. }), "{again:?}");
}

#[tokio::test]
async fn a_move_while_a_table_is_in_use_fails_and_moves_nothing() {
    let db = TempDatabase::create().await;
    db.lay_out_as_before_schemas(newest_migration()).await;
    let lock = db.lock_table("public.sessions").await;
    let err = move_from_public(db.url(), &in_schema("latchkey")).await.unwrap_err();
    assert!(matches!(&err, StoreError::Other(m) if m.contains("stop every latchkey process")), "{err}");
    assert_eq!(db.tables_in("public").await, every_table(), "all or nothing");
    drop(lock);
    let moved = move_from_public(db.url(), &in_schema("latchkey")).await.unwrap();
    assert!(matches!(moved, SchemaMove::Moved { .. }), "{moved:?}");
}

#[tokio::test]
async fn a_move_refuses_when_public_holds_no_latchkey_tables_or_both_do() {
    // Tables named like ours and another application's sqlx migrations are not ours.
    let db = TempDatabase::create().await;
    db.add_decoys().await;
    let err = move_from_public(db.url(), &in_schema("latchkey")).await.unwrap_err();
    assert!(err.to_string().contains("found no Latchkey tables"), "{err}");
    let _store = open(&db, "latchkey").await;
    let done = move_from_public(db.url(), &in_schema("latchkey")).await.unwrap();
    assert!(matches!(done, SchemaMove::AlreadyThere { .. }), "{done:?}");
    assert!(db.decoys_intact().await);

    // Both: the configured schema wins at start-up, and the move refuses to choose.
    let db = TempDatabase::create().await;
    let store = open(&db, "authz").await;
    let p = project(&store).await;
    drop(store);
    db.lay_out_as_before_schemas(newest_migration()).await;
    let store = open(&db, "authz").await;
    assert!(store.get_project(p).await.unwrap().is_some(), "served from the configured schema");
    drop(store);
    let err = move_from_public(db.url(), &in_schema("authz")).await.unwrap_err();
    assert!(err.to_string().contains("both public and schema authz"), "{err}");
}

async fn sqlx_exec(db: &TempDatabase, sql: &'static str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
}

async fn schema_exists(db: &TempDatabase, schema: &str) -> bool {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)")
        .bind(schema)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}
