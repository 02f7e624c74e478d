//! HTTP details of issue 8 item 9: responses carrying tokens are never cached
//! (`Cache-Control: no-store`, RFC 6749 section 5.1), and a JSON body is exactly one value.

mod common;
mod external_support;

use common::{TestApp, assert_error};
use external_support::{claims, sign_hs256};
use latchkey_core::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// POSTs `body` and returns the status, the Cache-Control and Pragma headers and the body.
async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Option<String>, Option<String>, Value) {
    let response =
        app.http.post(app.url(app.project, path)).bearer_auth(&app.api_key).json(&body).send().await.expect("request");
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (cache, pragma) = (header("cache-control"), header("pragma"));
    let (status, body) = common::read(response).await;
    (status, cache, pragma, body)
}

#[track_caller]
fn assert_not_cacheable(
    route: &str,
    (status, cache, pragma, body): &(StatusCode, Option<String>, Option<String>, Value),
) {
    assert!(status.is_success(), "{route}: {status} {body}");
    assert!(body["refreshToken"].is_string(), "{route} carries tokens: {body}");
    assert_eq!(cache.as_deref(), Some("no-store"), "{route}: Cache-Control");
    assert_eq!(pragma.as_deref(), Some("no-cache"), "{route}: Pragma (HTTP/1.0 caches)");
}

#[tokio::test]
async fn every_response_carrying_tokens_is_no_store() {
    let app = TestApp::spawn().await;
    let credentials = json!({"email": "user@example.com", "password": "s3cur3P@ss"});
    let signed_up = post(&app, "/auth/sign-up", credentials.clone()).await;
    assert_not_cacheable("sign-up", &signed_up);
    let signed_in = post(&app, "/auth/sign-in", credentials).await;
    assert_not_cacheable("sign-in", &signed_in);
    let refresh = json!({"refreshToken": signed_in.3["refreshToken"]});
    assert_not_cacheable("request-new-access-token", &post(&app, "/auth/request-new-access-token", refresh).await);

    let secret = app.admin.external.create_signing_secret(app.project).await.expect("secret").plaintext;
    let now = app.clock.now().timestamp();
    let jwt =
        sign_hs256(&secret, &claims(&app.project.to_string(), now, "cust-1", json!({"email": "ext@example.com"})));
    assert_not_cacheable(
        "verify-external-user",
        &post(&app, "/auth/verify-external-user", json!({"userJwt": jwt})).await,
    );
}

#[tokio::test]
async fn a_json_body_followed_by_anything_but_whitespace_is_refused() {
    let app = TestApp::spawn().await;
    let raw = |body: &'static str| {
        app.http
            .post(app.url(app.project, "/auth/sign-up"))
            .bearer_auth(&app.api_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for body in [
        r#"{"email":"a@example.com","password":"s3cur3P@ss"}{"email":"b@example.com","password":"s3cur3P@ss"}"#,
        r#"{"email":"a@example.com","password":"s3cur3P@ss"} {"email":"b@example.com"}"#,
        r#"{"email":"a@example.com","password":"s3cur3P@ss"}x"#,
        r#"{"email":"a@example.com","password":"s3cur3P@ss"}]"#,
    ] {
        let result = common::read(raw(body).await.expect("request")).await;
        assert_error(&result, StatusCode::BAD_REQUEST, "auth/invalid-body");
    }
    assert!(
        app.store.find_user_by_email(app.project, "a@example.com").await.unwrap().is_none(),
        "no request with trailing data created anyone"
    );
    // Trailing whitespace (a newline from `curl -d @file`, say) is fine.
    let result =
        common::read(raw("{\"email\":\"a@example.com\",\"password\":\"s3cur3P@ss\"} \r\n\t\n").await.expect("request"))
            .await;
    assert_eq!(result.0, StatusCode::CREATED, "{}", result.1);
}
