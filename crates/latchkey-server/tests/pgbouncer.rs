//! Latchkey behind a real PgBouncer (Debian's 1.18: no named prepared statements in
//! transaction mode, unknown start-up parameters refused), in transaction and in session
//! mode: two `serve` processes share one database through a pooler whose server pool is
//! smaller than their pools together (transaction mode), racing sign-ups, sign-ins,
//! refreshes and sign-outs across both. The database's `public` holds decoy tables named
//! like Latchkey's, which must stay untouched (Latchkey's own are in their schema).

mod pg_support;

use std::time::Duration;

use latchkey_store::testing::TempDatabase;
use pg_support::{Api, PgBouncer, Serve, latchkey, postgres_pass, runtime};
use tokio::task::JoinSet;

const USERS: usize = 12;

/// Sign-up on one process, sign-in on the other, three racing refreshes of the same token
/// across both, a wrong password, sign-out, and the ended session refused: for `USERS` users
/// at once.
async fn race(a: &Api, b: &Api) {
    let mut users = JoinSet::new();
    for i in 0..USERS {
        let (a, b) = if i % 2 == 0 { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) };
        users.spawn(async move {
            let email = format!("user-{i}@example.com");
            let created = a.sign_up(&email).await;
            assert_eq!(created.status, 201, "sign-up {email}: {}", created.body);
            let wrong = b.post("/auth/sign-in", serde_json::json!({"email": email, "password": "wrong-Pass1"})).await;
            assert_eq!(wrong.status, 401, "wrong password {email}: {}", wrong.body);
            let signed_in = b.sign_in(&email).await;
            assert_eq!(signed_in.status, 200, "sign-in {email}: {}", signed_in.body);
            let token = signed_in.body["refreshToken"].as_str().unwrap().to_owned();
            let (r1, r2, r3) = tokio::join!(a.refresh(&token), b.refresh(&token), a.refresh(&token));
            let mut newest = None;
            for r in [&r1, &r2, &r3] {
                // One exchange rotates; the racing ones get the same new pair (grace).
                assert_eq!(r.status, 200, "racing refresh {email}: {}", r.body);
                let fresh = r.body["refreshToken"].as_str().unwrap().to_owned();
                assert_eq!(newest.get_or_insert(fresh.clone()), &fresh, "racing refreshes agree on the new pair");
            }
            let newest = newest.unwrap();
            assert_eq!(b.sign_out(&newest).await.status, 204, "sign-out {email}");
            let refused = a.refresh(&newest).await;
            assert_eq!(refused.status, 403, "refresh after sign-out {email}: {}", refused.body);
        });
    }
    while let Some(done) = users.join_next().await {
        done.expect("a user's flow");
    }
}

#[test]
fn two_processes_through_pgbouncer_in_transaction_mode() {
    if !postgres_pass() {
        return;
    }
    let rt = runtime();
    let db = rt.block_on(TempDatabase::create());
    // Tables of another application in public, named like Latchkey's, and Latchkey's in a
    // schema of its own: behind a transaction-mode pooler no session setting survives, so
    // each transaction sets its search path (a statement resolved in public hits a decoy).
    rt.block_on(db.add_decoys());
    // 3 server connections for 2 processes x 4 connections.
    let bouncer = PgBouncer::start(db.name(), "transaction", 3);
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    // A statement timeout shorter than the default keeps the stuck phase short; a longer
    // acquire timeout keeps a slow, shared test machine from turning pooler queueing in the
    // race into 503s.
    let env = [
        ("LATCHKEY_DATABASE_POOLER", "transaction"),
        ("LATCHKEY_DATABASE_MIGRATION_URL", db.url()),
        ("LATCHKEY_DATABASE_STATEMENT_TIMEOUT", "2s"),
        ("LATCHKEY_DATABASE_ACQUIRE_TIMEOUT", "3s"),
        ("LATCHKEY_DATABASE_SCHEMA", "authz"),
    ];
    let first = Serve::start(&bouncer.url(), &master, &env);
    let (project, key) = first.bootstrap_credentials();
    let second = Serve::start(&bouncer.url(), &master, &env);
    let a = Api::new(&first.base, &project, &key);
    let b = Api::new(&second.base, &project, &key);
    rt.block_on(async {
        // Readiness (a read and a probe write) works through the pooler.
        for api in [&a, &b] {
            let ready = api.get("/readyz").await;
            assert_eq!(ready.status, 200, "{}", ready.body);
        }
        race(&a, &b).await;

        // The statement timeout holds behind the pooler too (SET LOCAL per transaction), and
        // requests queued by the pooler behind the stuck ones (6 requests, 3 server
        // connections) give up after the acquire timeout: every request answers 503 within a
        // few seconds, none waits for the lock.
        let lock = db.lock_table("authz.users").await;
        let mut stuck = JoinSet::new();
        for i in 0..6 {
            let api = if i % 2 == 0 { a.clone() } else { b.clone() };
            stuck.spawn(async move { api.sign_in("user-0@example.com").await });
        }
        while let Some(answer) = stuck.join_next().await {
            let answer = answer.unwrap();
            assert_eq!((answer.status, answer.code()), (503, Some("server/unavailable")), "{}", answer.body);
            assert!(answer.took < Duration::from_secs(12), "a request stuck behind the lock took {:?}", answer.took);
        }
        drop(lock);
        let answer = a.sign_in("user-0@example.com").await;
        assert_eq!(answer.status, 200, "once the lock is gone: {}", answer.body);
    });
    let log = first.log().join("\n") + &second.log().join("\n");
    assert!(!log.contains("prepared statement"), "no named statement reached the pooler: {log}");
    drop((first, second));
    rt.block_on(async {
        assert!(db.decoys_intact().await, "nothing touched the tables in public");
        let tables = db.tables_in("authz").await;
        assert!(["_sqlx_migrations", "users", "sessions"].iter().all(|t| tables.iter().any(|x| x == t)), "{tables:?}");
    });
    assert!(!bouncer.log().contains("unsupported startup parameter"), "{}", bouncer.log());
}

#[test]
fn two_processes_through_pgbouncer_in_session_mode() {
    if !postgres_pass() {
        return;
    }
    let rt = runtime();
    let db = rt.block_on(TempDatabase::create());
    // Decoys in public; Latchkey's tables in the default schema, whose search path is set
    // once per pooled session.
    rt.block_on(db.add_decoys());
    // Session mode holds a server connection per client connection: nodes x pool.
    let bouncer = PgBouncer::start(db.name(), "session", 8);
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    let env = [
        ("LATCHKEY_DATABASE_POOLER", "session"),
        ("LATCHKEY_DATABASE_STATEMENT_TIMEOUT", "2s"),
        ("LATCHKEY_DATABASE_ACQUIRE_TIMEOUT", "3s"),
    ];
    let first = Serve::start(&bouncer.url(), &master, &env);
    let (project, key) = first.bootstrap_credentials();
    let second = Serve::start(&bouncer.url(), &master, &env);
    let a = Api::new(&first.base, &project, &key);
    let b = Api::new(&second.base, &project, &key);
    rt.block_on(async {
        // Readiness (a read and a probe write) works through the pooler.
        for api in [&a, &b] {
            let ready = api.get("/readyz").await;
            assert_eq!(ready.status, 200, "{}", ready.body);
        }
        race(&a, &b).await;
        // The statement timeout is set per session behind a session-mode pooler.
        let lock = db.lock_table("latchkey.users").await;
        let answer = a.sign_in("user-0@example.com").await;
        assert_eq!((answer.status, answer.code()), (503, Some("server/unavailable")), "{}", answer.body);
        assert!(answer.took < Duration::from_secs(8), "took {:?}", answer.took);
        drop(lock);
        let answer = b.sign_in("user-0@example.com").await;
        assert_eq!(answer.status, 200, "once the lock is gone: {}", answer.body);
        assert!(db.decoys_intact().await, "nothing touched the tables in public");
    });
}

#[test]
fn a_transaction_mode_pooler_needs_a_direct_migration_url() {
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    let output =
        latchkey("postgres://postgres@127.0.0.1:1/latchkey", &master, &[("LATCHKEY_DATABASE_POOLER", "transaction")])
            .args(["project", "list"])
            .output()
            .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LATCHKEY_DATABASE_MIGRATION_URL"), "{stderr}");
    assert!(stderr.contains("session"), "the message names session mode as the alternative: {stderr}");

    let output =
        latchkey("postgres://postgres@127.0.0.1:1/latchkey", &master, &[("LATCHKEY_DATABASE_POOLER", "statement")])
            .args(["project", "list"])
            .output()
            .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("none, session or transaction"));
}
