//! Racing first sign-ins of one new external user (issue 8, item 5): several
//! `verify-external-user` calls for the same new `sub` and email, at once. One request creates
//! the user; the others may find it by email between their foreign-id lookup and their insert.
//! That user carries their own `sub`, so it is the same user: 200 for all, never
//! `auth/foreign-id-conflict`.

mod common;
mod external_support;

use std::collections::HashSet;
use std::sync::Arc;

use common::TestApp;
use external_support::{claims, sign_hs256};
use latchkey_core::clock::Clock;
use reqwest::StatusCode;
use serde_json::json;

const ROUTE: &str = "/auth/verify-external-user";
const ROUNDS: usize = 100;
const RACERS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_first_sign_ins_of_one_new_user_all_succeed() {
    let app = Arc::new(TestApp::spawn().await);
    let secret = app.admin.external.create_signing_secret(app.project).await.expect("secret").plaintext;
    let project = app.project.to_string();
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let sub = format!("racer-{round}");
        let email = format!("racer-{round}@example.com");
        let now = app.clock.now().timestamp();
        // Each racer has its own token (distinct jti), as separate logins would.
        let jwts: Vec<String> = (0..RACERS)
            .map(|i| {
                let mut c = claims(&project, now, &sub, json!({ "email": email }));
                c["jti"] = json!(format!("{sub}-{i}"));
                sign_hs256(&secret, &c)
            })
            .collect();
        // Every request is built first, then all are released together.
        let start = Arc::new(tokio::sync::Barrier::new(RACERS));
        let tasks: Vec<_> = jwts
            .into_iter()
            .map(|jwt| {
                let request = app
                    .http
                    .post(app.url(app.project, ROUTE))
                    .bearer_auth(&app.api_key)
                    .json(&json!({ "userJwt": jwt }));
                let start = Arc::clone(&start);
                tokio::spawn(async move {
                    start.wait().await;
                    common::read(request.send().await.expect("request")).await
                })
            })
            .collect();
        let mut ids = HashSet::new();
        for task in tasks {
            let (status, body) = task.await.expect("task");
            if status == StatusCode::OK {
                ids.insert(body["user"]["id"].as_str().expect("user id").to_owned());
            } else {
                failures.push(format!("round {round}: {status} {body}"));
            }
        }
        assert!(ids.len() <= 1, "round {round}: several users for one sub: {ids:?}");
        let by_sub = app.store.find_user_by_foreign_id(app.project, &sub).await.expect("store").expect("user");
        let by_email = app.store.find_user_by_email(app.project, &email).await.expect("store").expect("user");
        assert_eq!(by_sub.id, by_email.id, "round {round}: one user holds both the sub and the email");
        if let Some(id) = ids.iter().next() {
            assert_eq!(*id, by_sub.id.to_string(), "round {round}");
        }
    }
    assert!(failures.is_empty(), "{} of {} racing sign-ins failed: {failures:#?}", failures.len(), ROUNDS * RACERS);
}
