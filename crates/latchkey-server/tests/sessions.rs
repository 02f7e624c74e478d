//! Refresh rotation, grace window, reuse detection, sign-out, and tenancy isolation.

mod common;

use std::sync::Arc;

use common::{TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn refresh_of(body: &Value) -> String {
    body["refreshToken"].as_str().expect("refreshToken").to_owned()
}

fn access_of(body: &Value) -> String {
    body["accessToken"].as_str().expect("accessToken").to_owned()
}

async fn exchange(app: &TestApp, refresh: &str) -> (StatusCode, Value) {
    app.post("/auth/request-new-access-token", json!({ "refreshToken": refresh })).await
}

#[tokio::test]
async fn rotation_returns_a_new_working_pair() {
    let app = TestApp::spawn().await;
    let first = app.sign_up("user@example.com").await;
    app.advance(5);
    let (status, second) = exchange(&app, &refresh_of(&first)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["success"], true);
    assert_eq!(second["user"]["email"], "user@example.com");
    assert_ne!(refresh_of(&second), refresh_of(&first), "the refresh token rotates");
    assert_ne!(access_of(&second), access_of(&first));
    // The new refresh token works in turn.
    app.advance(5);
    let (status, third) = exchange(&app, &refresh_of(&second)).await;
    assert_eq!(status, StatusCode::OK, "{third}");
}

#[tokio::test]
async fn previous_token_inside_grace_returns_the_same_current_pair() {
    let app = TestApp::spawn().await;
    let first = app.sign_up("user@example.com").await;
    let (_, second) = exchange(&app, &refresh_of(&first)).await;
    app.advance(29);
    let (status, replay) = exchange(&app, &refresh_of(&first)).await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    assert_eq!(refresh_of(&replay), refresh_of(&second), "same refresh token");
    assert_eq!(access_of(&replay), access_of(&second), "same access token");
    // And the current token still rotates normally afterwards.
    let (status, _) = exchange(&app, &refresh_of(&second)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn previous_token_after_grace_kills_the_whole_session() {
    let app = TestApp::spawn().await;
    let first = app.sign_up("user@example.com").await;
    let (_, second) = exchange(&app, &refresh_of(&first)).await;
    app.advance(31);
    let reuse = exchange(&app, &refresh_of(&first)).await;
    assert_error(&reuse, StatusCode::UNAUTHORIZED, "auth/token-reuse-detected");
    // Every generation of the session is dead now, including the current one.
    let current = exchange(&app, &refresh_of(&second)).await;
    assert_error(&current, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
    let again = exchange(&app, &refresh_of(&first)).await;
    assert_error(&again, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
}

#[tokio::test]
async fn an_older_generation_is_reuse_even_inside_the_window() {
    let app = TestApp::spawn().await;
    let g0 = app.sign_up("user@example.com").await;
    let (_, g1) = exchange(&app, &refresh_of(&g0)).await;
    let (_, g2) = exchange(&app, &refresh_of(&g1)).await;
    let reuse = exchange(&app, &refresh_of(&g0)).await;
    assert_error(&reuse, StatusCode::UNAUTHORIZED, "auth/token-reuse-detected");
    assert_error(&exchange(&app, &refresh_of(&g2)).await, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
}

#[tokio::test]
async fn other_sessions_of_the_user_survive_reuse_detection() {
    let app = TestApp::spawn().await;
    let a = app.sign_up("user@example.com").await;
    let (_, b) = app.post("/auth/sign-in", json!({"email": "user@example.com", "password": "s3cur3P@ss"})).await;
    exchange(&app, &refresh_of(&a)).await;
    app.advance(60);
    assert_error(&exchange(&app, &refresh_of(&a)).await, StatusCode::UNAUTHORIZED, "auth/token-reuse-detected");
    assert_eq!(exchange(&app, &refresh_of(&b)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn fifty_concurrent_exchanges_mint_exactly_one_generation() {
    let app = Arc::new(TestApp::spawn().await);
    let first = app.sign_up("user@example.com").await;
    let token = refresh_of(&first);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let app = Arc::clone(&app);
            let token = token.clone();
            tokio::spawn(async move { exchange(&app, &token).await })
        })
        .collect();
    let mut pairs = std::collections::HashSet::new();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, StatusCode::OK, "no 5xx, no reuse error for racing tabs: {body}");
        pairs.insert((refresh_of(&body), access_of(&body)));
    }
    assert_eq!(pairs.len(), 1, "every racer got the same new pair");
    let session_id = token_claim(&token, "sid");
    let session = app.store.get_session(app.project, session_id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(session.generation, 1, "exactly one new generation");
}

#[tokio::test]
async fn sign_out_ends_the_session_and_accepts_anything() {
    let app = TestApp::spawn().await;
    let body = app.sign_up("user@example.com").await;
    let (status, empty) = app.post("/auth/sign-out", json!({ "refreshToken": refresh_of(&body) })).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(empty, Value::Null);
    assert_error(&exchange(&app, &refresh_of(&body)).await, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
    for garbage in ["", "garbage", "a.b.c", &refresh_of(&body)] {
        let (status, _) = app.post("/auth/sign-out", json!({ "refreshToken": garbage })).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "sign-out of {garbage:?}");
    }
    let missing = app.post("/auth/sign-out", json!({})).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "auth/invalid-body");
}

#[tokio::test]
async fn refresh_errors_have_their_codes() {
    let app = TestApp::spawn().await;
    assert_error(&exchange(&app, "not-a-jwt").await, StatusCode::FORBIDDEN, "auth/refresh-token-malformed");
    let missing = app.post("/auth/request-new-access-token", json!({})).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "auth/invalid-body");
    assert_eq!(missing.1["field"], "refreshToken");

    // An access token is not a refresh token (it lacks the refresh claims).
    let body = app.sign_up("user@example.com").await;
    assert_error(&exchange(&app, &access_of(&body)).await, StatusCode::FORBIDDEN, "auth/refresh-token-malformed");

    // A tampered payload fails the signature check.
    let token = refresh_of(&body);
    let tampered = tamper(&token, |claims| claims["generation"] = json!(7));
    assert_error(&exchange(&app, &tampered).await, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");

    // Expired: refresh tokens live 30 days by default.
    app.advance(30 * 24 * 3600 + 1);
    assert_error(&exchange(&app, &token).await, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
}

#[tokio::test]
async fn another_projects_refresh_token_is_a_project_mismatch() {
    let app = TestApp::spawn().await;
    let (other, other_key) = app.another_project().await;
    let (_, body) = app
        .post_as(other, &other_key, "/auth/sign-up", json!({"email": "user@example.com", "password": "s3cur3P@ss"}))
        .await;
    let result = exchange(&app, &refresh_of(&body)).await;
    assert_error(&result, StatusCode::FORBIDDEN, "auth/refresh-token-project-mismatch");
}

#[tokio::test]
async fn projects_are_isolated() {
    let app = TestApp::spawn().await;
    let (other, other_key) = app.another_project().await;
    // A's key on B's path: 401, exactly like a wrong key.
    let cross = app
        .post_as(other, &app.api_key, "/auth/sign-up", json!({"email": "x@example.com", "password": "s3cur3P@ss"}))
        .await;
    let wrong = app
        .post_as(other, "lk_wrong", "/auth/sign-up", json!({"email": "x@example.com", "password": "s3cur3P@ss"}))
        .await;
    assert_error(&cross, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    assert_eq!(cross, wrong);
    // The same email exists independently in both projects.
    app.sign_up("same@example.com").await;
    let (status, _) = app
        .post_as(other, &other_key, "/auth/sign-up", json!({"email": "same@example.com", "password": "other-pass-1"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let signed_in = app.post("/auth/sign-in", json!({"email": "same@example.com", "password": "other-pass-1"})).await;
    assert_error(&signed_in, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    // A malformed project id, a missing key, and a mismatched project header: all 401.
    let bad_path = app
        .http
        .post(format!("{}/v7/not-a-uuid/auth/sign-in", app.addr))
        .bearer_auth(&app.api_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(&common::read(bad_path).await, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    let no_key = app.http.post(app.url(app.project, "/auth/sign-in")).json(&json!({})).send().await.unwrap();
    assert_error(&common::read(no_key).await, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    let header = app
        .http
        .post(app.url(app.project, "/auth/sign-in"))
        .bearer_auth(&app.api_key)
        .header("X-Replyke-Project-ID", other.to_string())
        .json(&json!({"email": "same@example.com", "password": "s3cur3P@ss"}))
        .send()
        .await
        .unwrap();
    assert_error(&common::read(header).await, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let extra = app
        .admin
        .projects
        .create_api_key(app.project, "extra", latchkey_core::domain::ApiKeyScope::Auth)
        .await
        .unwrap();
    let (status, _) = app
        .post_as(
            app.project,
            &extra.plaintext,
            "/auth/sign-up",
            json!({"email": "a@example.com", "password": "s3cur3P@ss"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(app.admin.projects.revoke_api_key(app.project, extra.record.id).await.unwrap());
    let after = app
        .post_as(
            app.project,
            &extra.plaintext,
            "/auth/sign-in",
            json!({"email": "a@example.com", "password": "s3cur3P@ss"}),
        )
        .await;
    assert_error(&after, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    // The other key of the project is unaffected.
    let ok = app.post("/auth/sign-in", json!({"email": "a@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(ok.0, StatusCode::OK);
}

#[tokio::test]
async fn service_verify_checks_key_and_header() {
    let app = TestApp::spawn().await;
    let url = format!("{}/internal/service/verify", app.addr);
    let ok = app
        .http
        .get(&url)
        .bearer_auth(&app.api_key)
        .header("X-Replyke-Project-ID", app.project.to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = common::read(ok).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true, "projectId": app.project.to_string()}));
    let (other, _) = app.another_project().await;
    let mismatch = app
        .http
        .get(&url)
        .bearer_auth(&app.api_key)
        .header("X-Replyke-Project-ID", other.to_string())
        .send()
        .await
        .unwrap();
    assert_error(&common::read(mismatch).await, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    let wrong = app.http.get(&url).bearer_auth("lk_nope").send().await.unwrap();
    assert_error(&common::read(wrong).await, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    let none = app.http.get(&url).send().await.unwrap();
    assert_error(&common::read(none).await, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let app = TestApp::spawn().await;
    let missing = app.http.get(format!("{}/nope", app.addr)).send().await.unwrap();
    assert_error(&common::read(missing).await, StatusCode::NOT_FOUND, "route/not-found");
    let method = app.http.get(app.url(app.project, "/auth/sign-in")).bearer_auth(&app.api_key).send().await.unwrap();
    assert_error(&common::read(method).await, StatusCode::METHOD_NOT_ALLOWED, "route/method-not-allowed");
    let health = app.http.get(format!("{}/healthz", app.addr)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.http.get(format!("{}/readyz", app.addr)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// Reads one claim of a JWT without verifying it (test helper).
fn token_claim(token: &str, claim: &str) -> String {
    let claims = decode_part(token.split('.').nth(1).unwrap());
    claims[claim].as_str().unwrap().to_owned()
}

fn decode_part(part: &str) -> Value {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Re-encodes a JWT's payload after `edit`, keeping the original signature.
fn tamper(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = decode_part(parts[1]);
    edit(&mut claims);
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{}.{}", parts[0], payload, parts[2])
}
