//! PostgreSQL faults against the real `latchkey serve` binary: an outage answers 503
//! `server/unavailable` within about the acquire timeout (not the old 10 s pool wait),
//! `/readyz` within a second, and the service recovers by itself when the server returns; a
//! statement stuck behind a lock is cancelled by the statement timeout (503) instead of
//! holding its request until the lock goes.

mod pg_support;

use std::time::Duration;

use latchkey_store::testing::TempDatabase;
use pg_support::{Api, PrivatePostgres, Serve, postgres_pass, runtime};

#[test]
fn an_outage_answers_503_at_once_and_the_service_recovers_by_itself() {
    if !postgres_pass() {
        return;
    }
    let postgres = PrivatePostgres::start();
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    // Default timeouts: this is what an operator gets without tuning anything.
    let serve = Serve::start(&postgres.url(), &master, &[]);
    let (project, key) = serve.bootstrap_credentials();
    let api = Api::new(&serve.base, &project, &key);
    let rt = runtime();
    rt.block_on(async {
        assert_eq!(api.sign_up("before@example.com").await.status, 201);
        let signed_in = api.sign_in("before@example.com").await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        assert_eq!(api.get("/readyz").await.status, 200);
        let refresh = signed_in.body["refreshToken"].as_str().unwrap().to_owned();

        postgres.stop_immediately();

        // Every kind of request, twice (the first finds the pool's dead connections, the
        // second has none left), answers 503 within 2 s (3 s bound for a loaded machine).
        for round in 0..2 {
            for (what, answer) in [
                ("sign-in", api.sign_in("before@example.com").await),
                ("sign-up", api.sign_up(&format!("during-{round}@example.com")).await),
                ("refresh", api.refresh(&refresh).await),
            ] {
                eprintln!("round {round}: {what} answered {} in {:?}", answer.status, answer.took);
                assert_eq!(
                    (answer.status, answer.code()),
                    (503, Some("server/unavailable")),
                    "{what}: {}",
                    answer.body
                );
                assert!(answer.took < Duration::from_secs(3), "{what} took {:?} during the outage", answer.took);
            }
            let ready = api.get("/readyz").await;
            eprintln!("round {round}: /readyz answered {} in {:?}", ready.status, ready.took);
            assert_eq!((ready.status, ready.code()), (503, Some("server/unavailable")), "{}", ready.body);
            assert!(ready.took < Duration::from_millis(1500), "/readyz took {:?} during the outage", ready.took);
        }

        postgres.restart();

        // Nothing restarts Latchkey: the pool replaces its connections by itself.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while api.get("/readyz").await.status != 200 {
            assert!(std::time::Instant::now() < deadline, "/readyz did not recover after the restart");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let again = api.sign_in("before@example.com").await;
        assert_eq!(again.status, 200, "{}", again.body);
        let rotated = api.refresh(again.body["refreshToken"].as_str().unwrap()).await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        assert_eq!(api.sign_up("after@example.com").await.status, 201);
    });
}

#[test]
fn a_statement_stuck_behind_a_lock_answers_503_within_the_statement_timeout() {
    if !postgres_pass() {
        return;
    }
    let rt = runtime();
    let db = rt.block_on(TempDatabase::create());
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    let serve = Serve::start(db.url(), &master, &[]);
    let (project, key) = serve.bootstrap_credentials();
    let api = Api::new(&serve.base, &project, &key);
    rt.block_on(async {
        assert_eq!(api.sign_up("locked@example.com").await.status, 201);

        // Another session holds the users table (a long migration, a stuck admin query).
        let lock = db.lock_table("users").await;
        let answer = api.sign_in("locked@example.com").await;
        assert_eq!((answer.status, answer.code()), (503, Some("server/unavailable")), "{}", answer.body);
        // The default statement timeout is 5 s; without one the request waits for the lock.
        assert!(answer.took < Duration::from_secs(10), "the blocked sign-in took {:?}", answer.took);
        assert!(answer.took >= Duration::from_secs(4), "answered before the statement timeout: {:?}", answer.took);
        drop(lock);

        let answer = api.sign_in("locked@example.com").await;
        assert_eq!(answer.status, 200, "once the lock is gone: {}", answer.body);
    });
    let log = serve.log().join("\n");
    assert!(log.contains("canceling statement due to statement timeout"), "the log names the cause: {log}");
}
