//! PostgreSQL faults against the real `latchkey serve` binary: an outage answers 503
//! `server/unavailable` within about the acquire timeout (not the old 10 s pool wait),
//! `/readyz` within a second, and the service recovers by itself when the server returns; a
//! statement stuck behind a lock is cancelled by the statement timeout (503) instead of
//! holding its request until the lock goes.

mod pg_support;

use std::time::Duration;

use latchkey_store::testing::TempDatabase;
use pg_support::{Api, PgBouncer, PrivatePostgres, Serve, postgres_pass, runtime};

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
        let lock = db.lock_table("latchkey.users").await;
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

/// A TCP proxy in front of the shared PostgreSQL server that can be frozen: while frozen it
/// forwards no byte in either direction and closes nothing, as a server stopped with SIGSTOP
/// or a network that drops every packet would.
struct FreezableProxy {
    port: u16,
    frozen: tokio::sync::watch::Sender<bool>,
}

impl FreezableProxy {
    async fn start(upstream: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (frozen, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let watch = watch.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::spawn(pump(client_read, server_write, watch.clone()));
                    tokio::spawn(pump(server_read, client_write, watch));
                });
            }
        });
        Self { port, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

/// Copies `from` to `to`, holding whatever it read (an end of stream too) while frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = from.read(&mut buf).await;
        if frozen.wait_for(|frozen| !*frozen).await.is_err() {
            return;
        }
        match read {
            Ok(n) if n > 0 => {
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            _ => {
                let _ = to.shutdown().await;
                return;
            }
        }
    }
}

#[test]
fn a_silent_server_answers_503_within_the_client_deadline_and_the_service_recovers() {
    if !postgres_pass() {
        return;
    }
    let rt = runtime();
    let db = rt.block_on(TempDatabase::create());
    let proxy = rt.block_on(FreezableProxy::start(5432));
    let url = format!("postgres://postgres@127.0.0.1:{}/{}", proxy.port, db.name());
    silent_database_case(&rt, &db, &proxy, &url, &[]);
}

#[test]
fn a_silent_transaction_mode_pooler_answers_503_within_the_client_deadline_and_recovers() {
    if !postgres_pass() {
        return;
    }
    let rt = runtime();
    let db = rt.block_on(TempDatabase::create());
    let bouncer = PgBouncer::start(db.name(), "transaction", 4);
    // The pooler itself goes silent: the proxy sits between Latchkey and PgBouncer.
    let proxy = rt.block_on(FreezableProxy::start(bouncer.port));
    let url = format!("postgres://postgres@127.0.0.1:{}/{}", proxy.port, db.name());
    let env = [("LATCHKEY_DATABASE_POOLER", "transaction"), ("LATCHKEY_DATABASE_MIGRATION_URL", db.url())];
    silent_database_case(&rt, &db, &proxy, &url, &env);
}

/// A request in flight when the database (or its pooler, behind `proxy`) goes silent answers
/// 503 within the client deadline; new requests and `/readyz` within their bounds; once the
/// proxy forwards again, the service recovers by itself.
fn silent_database_case(
    rt: &tokio::runtime::Runtime,
    db: &TempDatabase,
    proxy: &FreezableProxy,
    url: &str,
    env: &[(&str, &str)],
) {
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    // Statement timeout 1 s: the client-side deadline is 1 s + 2 s.
    let mut env = env.to_vec();
    env.push(("LATCHKEY_DATABASE_STATEMENT_TIMEOUT", "1000"));
    let serve = Serve::start(url, &master, &env);
    let (project, key) = serve.bootstrap_credentials();
    let api = Api::new(&serve.base, &project, &key);
    rt.block_on(async {
        assert_eq!(api.sign_up("silent@example.com").await.status, 201);
        assert_eq!(api.get("/readyz").await.status, 200);

        // A sign-in in flight (its statement waits for a lock on the server) when the server
        // goes silent: the server's statement timeout fires, but its answer never arrives.
        let lock = db.lock_table("latchkey.users").await;
        let in_flight = tokio::spawn({
            let api = api.clone();
            async move { api.sign_in("silent@example.com").await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.freeze(true);
        let answer = in_flight.await.unwrap();
        eprintln!("in-flight sign-in answered {} in {:?}", answer.status, answer.took);
        assert_eq!((answer.status, answer.code()), (503, Some("server/unavailable")), "{}", answer.body);
        assert!(answer.took < Duration::from_secs(5), "the in-flight sign-in took {:?}", answer.took);
        assert!(answer.took >= Duration::from_millis(2500), "answered before the deadline: {:?}", answer.took);

        // New requests and /readyz meanwhile: 503 within their own bounds.
        let answer = api.sign_in("silent@example.com").await;
        assert_eq!((answer.status, answer.code()), (503, Some("server/unavailable")), "{}", answer.body);
        assert!(answer.took < Duration::from_secs(5), "a sign-in during the silence took {:?}", answer.took);
        let ready = api.get("/readyz").await;
        assert_eq!((ready.status, ready.code()), (503, Some("server/unavailable")), "{}", ready.body);
        assert!(ready.took < Duration::from_millis(1500), "/readyz took {:?} during the silence", ready.took);

        // The server speaks again: the service recovers by itself.
        drop(lock);
        proxy.freeze(false);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while api.get("/readyz").await.status != 200 {
            assert!(std::time::Instant::now() < deadline, "/readyz did not recover after the silence");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let again = api.sign_in("silent@example.com").await;
        assert_eq!(again.status, 200, "{}", again.body);
    });
    let log = serve.log().join("\n");
    assert!(log.contains("PostgreSQL did not answer within 3000 ms"), "the log names the cause: {log}");
}
