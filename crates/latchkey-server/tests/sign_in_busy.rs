//! A busy hashing pool must not lock anyone out (issue 8, item 8). One account floods
//! sign-ins until its project's hashing queue is full; another user of the same project keeps
//! getting 503 `server/busy` (the queues are per project since issue 13: other projects are
//! not refused, see `hash_fairness.rs`). Those refusals never checked a password, so they must not count toward
//! the 10-failure limit: once the pool is free, the correct password signs in (200, not 429).
//! Wrong passwords that were checked still lock the account out at the 11th attempt.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Options, TestApp, assert_error};
use latchkey_core::hashing::{HashCost, PoolSize};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "s3cur3P@ss";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn busy_refusals_do_not_count_toward_the_lockout() {
    // One hashing thread and one queue slot: a running hash plus a queued one fill the pool.
    let options = Options {
        hash_cost: HashCost { memory_kib: 256, iterations: 1, parallelism: 1 },
        pool: PoolSize { threads: 1, queue: 1 },
        ..Options::default()
    };
    let app = Arc::new(TestApp::spawn_with(options).await);
    app.sign_up("victim@example.com").await;

    // The flooding account verifies against a deliberately slow hash (the stored hash's own
    // parameters decide the cost), so each of its sign-ins holds the thread ~1 s.
    let (other, other_key) = (app.project, app.api_key.clone());
    app.sign_up("flood@example.com").await;
    app.make_password_slow(other, "flood@example.com", PASSWORD, 100).await;

    let flooding = Arc::new(AtomicBool::new(true));
    let flood: Vec<_> = (0..3)
        .map(|_| {
            let (app, flooding, key) = (Arc::clone(&app), Arc::clone(&flooding), other_key.clone());
            tokio::spawn(async move {
                while flooding.load(Ordering::Relaxed) {
                    let (status, body) = app
                        .post_as(
                            other,
                            &key,
                            "/auth/sign-in",
                            json!({"email": "flood@example.com", "password": PASSWORD}),
                        )
                        .await;
                    assert!(
                        status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
                        "flood: {status} {body}"
                    );
                    if status == StatusCode::SERVICE_UNAVAILABLE {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
            })
        })
        .collect();

    // Sign in with the correct password while the pool is full, until more than ten
    // consecutive attempts were refused as busy (an attempt that slips into a freed slot is
    // verified and signs in, which restarts the count; that is rare and harmless).
    let mut busy_in_a_row = 0;
    let mut attempts = 0;
    while busy_in_a_row <= 10 {
        attempts += 1;
        assert!(attempts < 500, "could not keep the hashing pool saturated");
        let saturated = tokio::time::timeout(Duration::from_secs(10), async {
            while app.services.health.hasher_stats().queued < 1 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        assert!(saturated.is_ok(), "the flood never filled the queue");
        let result = app.post("/auth/sign-in", json!({"email": "victim@example.com", "password": PASSWORD})).await;
        match result.0 {
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_error(&result, StatusCode::SERVICE_UNAVAILABLE, "server/busy");
                busy_in_a_row += 1;
            }
            StatusCode::OK => busy_in_a_row = 0,
            _ => panic!(
                "after {busy_in_a_row} busy refusals in a row the correct password got {} {}",
                result.0, result.1
            ),
        }
    }
    flooding.store(false, Ordering::Relaxed);
    for task in flood {
        task.await.expect("flood task");
    }

    // The pool is free: the correct password signs in.
    let result = app.post("/auth/sign-in", json!({"email": "victim@example.com", "password": PASSWORD})).await;
    assert_eq!(result.0, StatusCode::OK, "after {busy_in_a_row} busy refusals: {}", result.1);

    // Checked wrong passwords still count: ten 401s, then 429, even for the right password.
    for n in 1..=10 {
        let result = app.post("/auth/sign-in", json!({"email": "victim@example.com", "password": "wrongpass1"})).await;
        assert_eq!(result.0, StatusCode::UNAUTHORIZED, "wrong password #{n}: {}", result.1);
    }
    let result = app.post("/auth/sign-in", json!({"email": "victim@example.com", "password": "wrongpass1"})).await;
    assert_error(&result, StatusCode::TOO_MANY_REQUESTS, "auth/too-many-attempts");
    let result = app.post("/auth/sign-in", json!({"email": "victim@example.com", "password": PASSWORD})).await;
    assert_eq!(result.0, StatusCode::TOO_MANY_REQUESTS, "{}", result.1);
}
