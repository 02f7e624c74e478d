//! The PostgreSQL schema of Latchkey's tables, through the real binary: a database laid out by
//! a version before the schema setting (everything in `public`) keeps working, with a warning,
//! until `latchkey db move-schema` moves it, data intact, into the configured schema; an
//! invalid schema name fails start-up naming the setting.

mod pg_support;

use latchkey_store::testing::TempDatabase;
use pg_support::{Api, Serve, latchkey, postgres_pass, runtime};

/// What `latchkey db move-schema` printed, and whether it succeeded.
fn move_schema(url: &str, master: &str) -> (bool, String, String) {
    let output = latchkey(url, master, &[]).args(["db", "move-schema"]).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_earlier_versions_database_keeps_working_and_moves_with_db_move_schema() {
    if !postgres_pass() {
        return;
    }
    let rt = runtime();
    let db = rt.block_on(TempDatabase::create());
    // As a version before the schema setting left it: every table and _sqlx_migrations in
    // public.
    rt.block_on(db.lay_out_as_before_schemas(i64::MAX));
    let (_, master) = latchkey_core::crypto::MasterKey::generate();

    // Served from public, with a warning that says how to move.
    let serve = Serve::start(db.url(), &master, &[]);
    let (project, key) = serve.bootstrap_credentials();
    let api = Api::new(&serve.base, &project, &key);
    rt.block_on(async {
        assert_eq!(api.sign_up("before@example.com").await.status, 201);
        assert_eq!(api.sign_in("before@example.com").await.status, 200);
    });
    let log = serve.log().join("\n");
    assert!(
        log.contains("WARN") && log.contains("schema public") && log.contains("latchkey db move-schema"),
        "one warning at start-up names the move: {log}"
    );
    drop(serve);
    rt.block_on(async {
        assert!(db.tables_in("public").await.iter().any(|t| t == "users"));
        assert_eq!(db.tables_in("latchkey").await, Vec::<String>::new(), "nothing was created beside public");
    });

    // Every process stopped: the move.
    let (ok, stdout, stderr) = move_schema(db.url(), &master);
    assert!(ok, "move-schema: {stdout}{stderr}");
    assert!(stdout.contains("from public into schema latchkey") && stdout.contains("users"), "{stdout}");
    rt.block_on(async {
        assert_eq!(db.tables_in("public").await, Vec::<String>::new(), "public is left empty");
        let moved = db.tables_in("latchkey").await;
        for table in ["_sqlx_migrations", "projects", "api_keys", "users", "sessions", "signing_keys"] {
            assert!(moved.iter().any(|t| t == table), "{table} in {moved:?}");
        }
    });

    // Served from the schema now: the same project, key, user and its password.
    let serve = Serve::start(db.url(), &master, &[]);
    let api = Api::new(&serve.base, &project, &key);
    rt.block_on(async {
        let signed_in = api.sign_in("before@example.com").await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        let token = signed_in.body["refreshToken"].as_str().unwrap().to_owned();
        assert_eq!(api.refresh(&token).await.status, 200);
        assert_eq!(api.sign_up("after@example.com").await.status, 201);
        assert_eq!(db.tables_in("public").await, Vec::<String>::new(), "nothing is written to public");
    });
    let log = serve.log().join("\n");
    assert!(!log.contains("move-schema"), "no warning once moved: {log}");
    drop(serve);

    // Once is enough.
    let (ok, stdout, stderr) = move_schema(db.url(), &master);
    assert!(ok && stdout.contains("already in schema latchkey"), "{stdout}{stderr}");
    // Its --json, in the API's casing (tests/cli.rs checks every other command's on SQLite).
    let output = latchkey(db.url(), &master, &[]).args(["db", "move-schema", "--json"]).output().unwrap();
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((document["schema"].as_str(), document["moved"].as_bool()), (Some("latchkey"), Some(false)));
    assert!(document.as_object().unwrap().keys().all(|k| !k.contains('_')), "{document}");
}

#[test]
fn an_invalid_schema_name_fails_start_up_naming_the_setting() {
    // Checked before any connection: no server is needed at this URL.
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    let url = "postgres://postgres@127.0.0.1:1/latchkey";
    for (args, env) in [
        (vec!["serve"], vec![("LATCHKEY_DATABASE_SCHEMA", "Auth-Z")]),
        (vec!["project", "list"], vec![("LATCHKEY_DATABASE_SCHEMA", "auth z")]),
        (vec!["--database-schema", "pg_auth", "db", "move-schema"], vec![]),
    ] {
        let output = latchkey(url, &master, &env).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} {env:?}: {stderr}");
        assert!(
            stderr.contains("LATCHKEY_DATABASE_SCHEMA") && stderr.contains("plain identifier"),
            "{args:?} {env:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    // SQLite has no schemas: a schema setting there is a mistake, and so is a move.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("l.db").display());
    let output = latchkey(&sqlite, &master, &[("LATCHKEY_DATABASE_SCHEMA", "authz")])
        .args(["project", "list"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("PostgreSQL only"));
    let init = latchkey(&sqlite, &master, &[]).arg("init").output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let output = latchkey(&sqlite, &master, &[]).args(["db", "move-schema"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("PostgreSQL only"));
}
