//! The hashing queues are per project (issue 13): a project flooding sign-ins fills its own
//! queue and is the one refused with 503 `server/busy`, while another project's sign-ins during
//! the flood are admitted (served within one round) and succeed.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{Options, TestApp};
use latchkey_core::hashing::{HashCost, PoolSize};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "s3cur3P@ss";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flooding_project_is_shed_and_another_is_served() {
    // One hashing thread and two queue slots per project.
    let options = Options {
        hash_cost: HashCost { memory_kib: 256, iterations: 1, parallelism: 1 },
        pool: PoolSize { threads: 1, queue: 2 },
        ..Options::default()
    };
    let app = Arc::new(TestApp::spawn_with(options).await);
    app.sign_up("calm@example.com").await;

    // The flooding project's account verifies against a deliberately slow hash (the stored
    // hash's parameters decide the cost), so its sign-ins hold the only thread most of the time.
    let (flooder, flooder_key) = app.another_project().await;
    let (status, body) = app
        .post_as(flooder, &flooder_key, "/auth/sign-up", json!({"email": "flood@example.com", "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.make_password_slow(flooder, "flood@example.com", PASSWORD, 30).await;

    let flooding = Arc::new(AtomicBool::new(true));
    let (served, shed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let flood: Vec<_> = (0..6)
        .map(|_| {
            let (app, flooding, key) = (Arc::clone(&app), Arc::clone(&flooding), flooder_key.clone());
            let (served, shed) = (Arc::clone(&served), Arc::clone(&shed));
            tokio::spawn(async move {
                while flooding.load(Ordering::Relaxed) {
                    let body = json!({"email": "flood@example.com", "password": PASSWORD});
                    let (status, body) = app.post_as(flooder, &key, "/auth/sign-in", body).await;
                    match status {
                        StatusCode::OK => served.fetch_add(1, Ordering::Relaxed),
                        StatusCode::SERVICE_UNAVAILABLE => {
                            assert_eq!(body["code"], "server/busy", "{body}");
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            shed.fetch_add(1, Ordering::Relaxed)
                        }
                        other => panic!("flood: {other} {body}"),
                    };
                }
            })
        })
        .collect();

    // The flood fills its project's queue: it starts being refused.
    let saturated = tokio::time::timeout(Duration::from_secs(30), async {
        while shed.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(saturated.is_ok(), "the flood never filled its queue");

    // The other project signs in during the flood: admitted and answered every time.
    for n in 0..6 {
        let shed_before = shed.load(Ordering::Relaxed);
        let (status, body) =
            app.post("/auth/sign-in", json!({"email": "calm@example.com", "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "sign-in #{n} of the other project during the flood: {body}");
        assert!(body["accessToken"].is_string(), "{body}");
        // Still flooding (and still being refused) while it was served.
        let still = tokio::time::timeout(Duration::from_secs(10), async {
            while shed.load(Ordering::Relaxed) == shed_before {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(still.is_ok(), "the flood stopped being refused");
    }
    flooding.store(false, Ordering::Relaxed);
    for task in flood {
        task.await.expect("flood task");
    }
    assert!(served.load(Ordering::Relaxed) > 0, "the flooding project is shed, not starved");
    let stats = app.services.health.hasher_stats();
    assert!(stats.rejected >= shed.load(Ordering::Relaxed), "{stats:?}");
}
