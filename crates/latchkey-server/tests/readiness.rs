//! `/readyz` while another connection holds the database's write lock: 503 within about a
//! second (it used to answer 200 from an old probe while the writer was stuck), 200 again once
//! the lock goes, and concurrent calls share one probe write. SQLite: another connection in
//! `BEGIN IMMEDIATE` on the file; PostgreSQL: another session holding `write_probe` locked.

mod common;

use std::time::{Duration, Instant};

use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;

/// How long a probe's outcome answers later calls (the store's readiness trust window), plus
/// a margin.
const PAST_TRUST: Duration = Duration::from_millis(1100);

async fn readyz(app: &TestApp) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let response = app.http.get(format!("{}/readyz", app.addr)).send().await.expect("GET /readyz");
    let (status, body) = common::read(response).await;
    (status, body, started.elapsed())
}

/// Holds the database's write lock until dropped.
enum WriteLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(#[allow(dead_code)] latchkey_store::testing::TableLock),
}

async fn hold_write_lock(app: &TestApp) -> WriteLock {
    match &app.postgres {
        Some(db) => WriteLock::Postgres(db.lock_table("latchkey.write_probe").await),
        None => {
            let url = format!("sqlite://{}", app.dir.path().join("test.db").display());
            let mut other = sqlx::SqliteConnection::connect(&url).await.expect("open the SQLite file");
            sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.expect("take the write lock");
            WriteLock::Sqlite(other)
        }
    }
}

impl WriteLock {
    async fn release(self) {
        match self {
            WriteLock::Sqlite(mut other) => {
                sqlx::query("ROLLBACK").execute(&mut other).await.expect("release the write lock");
                let _ = other.close().await;
            }
            WriteLock::Postgres(lock) => drop(lock),
        }
    }
}

#[tokio::test]
async fn readyz_is_503_while_another_connection_holds_the_write_lock_and_200_once_released() {
    let app = TestApp::spawn().await;
    assert_eq!(readyz(&app).await.0, StatusCode::OK);

    let lock = hold_write_lock(&app).await;
    // The outcome of the probe before the lock answers for a second at most.
    tokio::time::sleep(PAST_TRUST).await;
    for round in 0..3 {
        let (status, body, took) = readyz(&app).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "round {round}: {body}");
        assert_eq!(body["code"], "server/unavailable", "round {round}: {body}");
        assert!(took < Duration::from_millis(1500), "round {round}: /readyz took {took:?}");
    }

    lock.release().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body, took) = readyz(&app).await;
        assert!(took < Duration::from_millis(1500), "/readyz took {took:?}");
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "/readyz did not return to 200 after the lock was released: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn concurrent_readyz_calls_share_one_probe_write() {
    let app = TestApp::spawn().await;
    if app.postgres.is_some() {
        eprintln!("skipped on PostgreSQL: the probes are counted by a SQLite trigger");
        return;
    }
    let url = format!("sqlite://{}", app.dir.path().join("test.db").display());
    let mut counter = sqlx::SqliteConnection::connect(&url).await.expect("open the SQLite file");
    for statement in [
        "CREATE TABLE probes_seen (n INTEGER)",
        "CREATE TRIGGER probe_inserted AFTER INSERT ON write_probe BEGIN INSERT INTO probes_seen VALUES (1); END",
        "CREATE TRIGGER probe_updated AFTER UPDATE ON write_probe BEGIN INSERT INTO probes_seen VALUES (1); END",
    ] {
        sqlx::query(statement).execute(&mut counter).await.expect(statement);
    }
    let seen = async |counter: &mut sqlx::SqliteConnection| -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM probes_seen").fetch_one(counter).await.expect("count probes")
    };

    tokio::time::sleep(PAST_TRUST).await;
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let (http, url) = (app.http.clone(), format!("{}/readyz", app.addr));
            tokio::spawn(async move { http.get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("task").expect("GET /readyz"), StatusCode::OK);
    }
    assert_eq!(seen(&mut counter).await, 1, "16 concurrent calls, one probe write");

    // Within the trust window no new probe is written; after it, one is.
    assert_eq!(readyz(&app).await.0, StatusCode::OK);
    assert_eq!(seen(&mut counter).await, 1);
    tokio::time::sleep(PAST_TRUST).await;
    assert_eq!(readyz(&app).await.0, StatusCode::OK);
    assert_eq!(seen(&mut counter).await, 2);
}
