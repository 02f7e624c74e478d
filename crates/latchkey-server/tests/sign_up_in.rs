//! Sign-up, sign-in, check-username and input validation over HTTP.

mod common;

use common::{AUTH_USER_FIELDS, TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn assert_auth_user_shape(user: &Value) {
    let object = user.as_object().expect("user is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = AUTH_USER_FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "AuthUser has exactly the API.md fields");
}

#[tokio::test]
async fn sign_up_returns_the_documented_shape() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            "/auth/sign-up",
            json!({
                "email": "user@example.com", "password": "s3cur3P@ss", "name": "Alice", "username": "alice",
                "avatar": "https://example.com/a.png", "bio": "hi", "birthdate": "1990-04-01",
                "location": {"latitude": 52.5, "longitude": 13.4},
                "metadata": {"plan": "pro"}, "secureMetadata": {"ssn": "secret"}, "unknownField": 1
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], true);
    assert!(body["accessToken"].as_str().is_some_and(|t| t.split('.').count() == 3));
    assert!(body["refreshToken"].as_str().is_some_and(|t| t.split('.').count() == 3));
    let user = &body["user"];
    assert_auth_user_shape(user);
    assert_eq!(user["projectId"], app.project.to_string());
    assert_eq!(user["email"], "user@example.com");
    assert_eq!(user["name"], "Alice");
    assert_eq!(user["username"], "alice");
    assert_eq!(user["role"], "visitor");
    assert_eq!(user["birthdate"], "1990-04-01");
    assert_eq!(user["location"], json!({"type": "Point", "coordinates": [13.4, 52.5]}));
    assert_eq!(user["metadata"], json!({"plan": "pro"}));
    assert_eq!(user["isVerified"], false);
    assert_eq!(user["isActive"], true);
    assert_eq!(user["reputation"], 0);
    assert_eq!(user["suspensions"], json!([]));
    assert_eq!(user["authMethods"], json!(["password"]));
    assert_eq!(user["foreignId"], Value::Null);
    let text = body.to_string();
    assert!(!text.contains("secret") && !text.contains("argon2"), "no secure metadata or hash leaks: {text}");
}

#[tokio::test]
async fn sign_in_succeeds_and_failures_are_indistinguishable() {
    let app = TestApp::spawn().await;
    app.sign_up("user@example.com").await;
    let (status, body) =
        app.post("/auth/sign-in", json!({"email": "USER@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_auth_user_shape(&body["user"]);
    assert!(body["accessToken"].is_string() && body["refreshToken"].is_string());

    let wrong = app.post("/auth/sign-in", json!({"email": "user@example.com", "password": "wrongpass1"})).await;
    let unknown = app.post("/auth/sign-in", json!({"email": "nobody@example.com", "password": "wrongpass1"})).await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    assert_eq!(wrong, unknown, "unknown email and wrong password answer identically");
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let app = TestApp::spawn().await;
    app.sign_up("user@example.com").await;
    for _ in 0..10 {
        let r = app.post("/auth/sign-in", json!({"email": "user@example.com", "password": "wrongpass1"})).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    }
    let response = app
        .http
        .post(app.url(app.project, "/auth/sign-in"))
        .bearer_auth(&app.api_key)
        .json(&json!({"email": "user@example.com", "password": "s3cur3P@ss"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "retry-after {retry}");
    assert_eq!(common::read(response).await.1["code"], "auth/too-many-attempts");
    // Unknown emails are throttled the same way (no enumeration through 429s).
    for _ in 0..10 {
        app.post("/auth/sign-in", json!({"email": "ghost@example.com", "password": "wrongpass1"})).await;
    }
    let ghost = app.post("/auth/sign-in", json!({"email": "ghost@example.com", "password": "wrongpass1"})).await;
    assert_error(&ghost, StatusCode::TOO_MANY_REQUESTS, "auth/too-many-attempts");
    // After the window the right password works again.
    app.advance(15 * 60 + 1);
    let ok = app.post("/auth/sign-in", json!({"email": "user@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
}

#[tokio::test]
async fn duplicates_are_case_insensitive_and_name_the_field() {
    let app = TestApp::spawn().await;
    let (s, _) = app
        .post("/auth/sign-up", json!({"email": "Ann@Example.com", "password": "s3cur3P@ss", "username": "Ann_1"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let email = app.post("/auth/sign-up", json!({"email": "ann@EXAMPLE.com", "password": "s3cur3P@ss"})).await;
    assert_error(&email, StatusCode::CONFLICT, "DUPLICATE_EMAIL");
    assert_eq!(email.1["field"], "email");
    let username = app
        .post("/auth/sign-up", json!({"email": "b@example.com", "password": "s3cur3P@ss", "username": "ANN_1"}))
        .await;
    assert_error(&username, StatusCode::CONFLICT, "DUPLICATE_USERNAME");
    assert_eq!(username.1["field"], "username");
    // Non-ASCII emails are case-folded too.
    app.sign_up("ÉVA@exämple.de").await;
    let eva = app.post("/auth/sign-up", json!({"email": "éva@EXÄMPLE.de", "password": "s3cur3P@ss"})).await;
    assert_error(&eva, StatusCode::CONFLICT, "DUPLICATE_EMAIL");
    let signed_in = app.post("/auth/sign-in", json!({"email": "Éva@Exämple.de", "password": "s3cur3P@ss"})).await;
    assert_eq!(signed_in.0, StatusCode::OK);
    assert_eq!(signed_in.1["user"]["email"], "éva@exämple.de");
}

#[tokio::test]
async fn concurrent_duplicate_sign_ups_create_one_user() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let app = std::sync::Arc::clone(&app);
            tokio::spawn(async move {
                app.post("/auth/sign-up", json!({"email": "race@example.com", "password": "s3cur3P@ss"})).await
            })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        let (status, body) = attempt.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(body["code"], "DUPLICATE_EMAIL"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn bad_bodies_are_400_with_field_never_500() {
    let app = TestApp::spawn().await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"password": "s3cur3P@ss"}), "auth/invalid-body", "email"),
        (json!({"email": "a@example.com"}), "auth/invalid-body", "password"),
        (json!({"email": 42, "password": "s3cur3P@ss"}), "auth/invalid-body", "email"),
        (json!({"email": "a@example.com", "password": ["x"]}), "auth/invalid-body", "password"),
        (json!({"email": "not-an-email", "password": "s3cur3P@ss"}), "auth/invalid-body", "email"),
        (json!({"email": "a@example.com", "password": "short"}), "auth/weak-password", "password"),
        (json!({"email": "a@example.com", "password": "x".repeat(2048)}), "auth/invalid-body", "password"),
        (
            json!({"email": "a@example.com", "password": "s3cur3P@ss", "username": "ålice"}),
            "auth/invalid-body",
            "username",
        ),
        (
            json!({"email": "a@example.com", "password": "s3cur3P@ss", "username": "ab"}),
            "auth/invalid-body",
            "username",
        ),
        (json!({"email": "a@example.com", "password": "s3cur3P@ss", "metadata": [1]}), "auth/invalid-body", "metadata"),
        (
            json!({"email": "a@example.com", "password": "s3cur3P@ss", "birthdate": "yesterday"}),
            "auth/invalid-body",
            "birthdate",
        ),
        (
            json!({"email": "a@example.com", "password": "s3cur3P@ss", "location": {"latitude": 100, "longitude": 0}}),
            "auth/invalid-body",
            "location",
        ),
    ];
    for (body, code, field) in cases {
        let result = app.post("/auth/sign-up", body.clone()).await;
        assert_error(&result, StatusCode::BAD_REQUEST, code);
        assert_eq!(result.1["field"], field, "for {body}");
    }
    // A 2 KiB password on sign-in is refused before any hashing.
    let long = app.post("/auth/sign-in", json!({"email": "a@example.com", "password": "x".repeat(2048)})).await;
    assert_error(&long, StatusCode::BAD_REQUEST, "auth/invalid-body");

    // Not JSON at all, an empty body, and a JSON array.
    for raw in ["{not json", "", "[1,2]", "null"] {
        let response = app
            .http
            .post(app.url(app.project, "/auth/sign-up"))
            .bearer_auth(&app.api_key)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let result = common::read(response).await;
        assert_error(&result, StatusCode::BAD_REQUEST, "auth/invalid-body");
    }
    // Nothing was created by any of the above.
    assert!(app.store.find_user_by_email(app.project, "a@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn a_one_mebibyte_body_is_413() {
    let app = TestApp::spawn().await;
    let huge = json!({"email": "a@example.com", "password": "s3cur3P@ss", "bio": "x".repeat(1024 * 1024)});
    let result = app.post("/auth/sign-up", huge).await;
    assert_error(&result, StatusCode::PAYLOAD_TOO_LARGE, "auth/invalid-body");
}

#[tokio::test]
async fn check_username_normalises_and_validates() {
    let app = TestApp::spawn().await;
    let (_, before) = app.get("/users/check-username?username=alice").await;
    assert_eq!(before, json!({"available": true}));
    app.post("/auth/sign-up", json!({"email": "a@example.com", "password": "s3cur3P@ss", "username": "alice"})).await;
    let (status, after) = app.get("/users/check-username?username=%20ALICE%20").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after, json!({"available": false}));
    for bad in
        ["/users/check-username", "/users/check-username?username=a", "/users/check-username?username=%C3%A5lice"]
    {
        let result = app.get(bad).await;
        assert_error(&result, StatusCode::BAD_REQUEST, "username/invalid-query");
    }
}

#[tokio::test]
async fn a_concurrent_burst_cannot_outrun_the_throttle() {
    // Attempts are counted before hashing, so 40 simultaneous guesses get at most 10 hashes;
    // the correct password sent in the same burst does not slip through after the limit.
    let app = std::sync::Arc::new(TestApp::spawn().await);
    app.sign_up("victim@example.com").await;
    let burst: Vec<_> = (0..40)
        .map(|n| {
            let app = std::sync::Arc::clone(&app);
            let password = if n == 39 { "s3cur3P@ss".to_owned() } else { format!("guess-{n}-x") };
            tokio::spawn(async move {
                app.post("/auth/sign-in", json!({"email": "victim@example.com", "password": password})).await
            })
        })
        .collect();
    let (mut attempted, mut throttled) = (0, 0);
    for request in burst {
        let (status, body) = request.await.unwrap();
        match status {
            StatusCode::OK | StatusCode::UNAUTHORIZED => attempted += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(attempted <= 10, "at most 10 attempts reach the password check, got {attempted}");
    assert_eq!(attempted + throttled, 40);
}
