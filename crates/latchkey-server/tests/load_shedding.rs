//! A full hashing queue answers 503 `server/busy` with Retry-After, never 500, and writes nothing.

mod common;

use std::sync::Arc;

use common::{Options, TestApp};
use latchkey_core::hashing::{HashCost, PoolSize};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_flood_beyond_the_queue_is_shed_with_503() {
    let options =
        Options { hash_cost: HashCost::default(), pool: PoolSize { threads: 1, queue: 1 }, ..Options::default() };
    let app = Arc::new(TestApp::spawn_with(options).await);
    let requests: Vec<_> = (0..24)
        .map(|n| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let response = app
                    .http
                    .post(app.url(app.project, "/auth/sign-up"))
                    .bearer_auth(&app.api_key)
                    .json(&json!({"email": format!("u{n}@example.com"), "password": "s3cur3P@ss"}))
                    .send()
                    .await
                    .unwrap();
                let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                let (status, body) = common::read(response).await;
                (n, status, body, retry_after)
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut busy = 0;
    for request in requests {
        let (n, status, body, retry_after) = request.await.unwrap();
        match status {
            StatusCode::CREATED => created.push(n),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["code"], "server/busy");
                assert_eq!(retry_after.as_deref(), Some("1"));
                busy += 1;
                let email = format!("u{n}@example.com");
                assert!(
                    app.store.find_user_by_email(app.project, &email).await.unwrap().is_none(),
                    "no half-written user"
                );
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(busy > 0, "with one thread and one slot, 24 simultaneous hashes must shed some");
    assert!(!created.is_empty());
}
