//! The admin API's gate: only an `admin`-scope key of the path's project gets in; an `auth`
//! key is 403 `auth/insufficient-scope`, any other key 401 as on every route. Every response
//! carries an `X-Request-Id` (the caller's, when it sent a sane one).

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn only_an_admin_key_of_the_project_reaches_the_admin_api() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key_of(app.project).await;

    let (status, body) = app.admin_call(Method::GET, &admin, "/project", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], app.project.to_string());
    assert_eq!(body["accessTokenTtl"], 1800);
    assert!(body["name"].as_str().is_some_and(|n| !n.is_empty()));

    let auth_key = app.admin_call(Method::GET, &app.api_key, "/project", Value::Null).await;
    assert_error(&auth_key, StatusCode::FORBIDDEN, "auth/insufficient-scope");

    let (other, _) = app.another_project().await;
    let other_admin = app.admin_key_of(other).await;
    let foreign = app.admin_call(Method::GET, &other_admin, "/project", Value::Null).await;
    assert_error(&foreign, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    let garbage = app.admin_call(Method::GET, "lk_not-a-key", "/project", Value::Null).await;
    assert_error(&garbage, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");

    // An admin key works on the SDK's routes too.
    let (status, _) = app.post_as(app.project, &admin, "/auth/sign-in", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "past the key check, refused for the body");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let url = app.url(app.project, "/admin/project");
    let sent = app.http.get(&url).header("x-request-id", "trace-abc.123").send().await.unwrap();
    assert_eq!(sent.headers()["x-request-id"], "trace-abc.123", "the caller's id is kept");
    assert_eq!(sent.status(), StatusCode::UNAUTHORIZED, "errors carry it too");

    let generated = app.http.get(&url).header("x-request-id", "bad id with spaces").send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "an unusable id is replaced by a generated one: {id}");
    let other = app.http.get(format!("{}/healthz", app.addr)).send().await.unwrap();
    assert_ne!(other.headers()["x-request-id"], id.as_str(), "each request its own");
}
