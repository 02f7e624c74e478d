//! The seed's session calls and users.checkUsernameAvailability through the Rust SDK against
//! the real server, with the seed's literal arguments; plus the error contract.

mod common;

use common::Server;
use latchkey_client::{
    AuthMethod, CheckUsernameAvailability, Client, Error, RequestNewAccessToken, Role, SignIn, SignOut, SignUp,
    UsernameAvailability,
};

fn seed_sign_up() -> SignUp {
    SignUp {
        email: "user@example.com".into(),
        password: "s3cur3P@ss".into(),
        name: Some("Alice".into()),
        username: Some("alice".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn seed_session_flows() {
    let server = Server::start().await;
    let client = Client::connect(&server.base_url, server.project.to_string(), &server.api_key).await.expect("connect");

    // users.checkUsernameAvailability
    let free = client
        .users()
        .check_username_availability(CheckUsernameAvailability { username: "alice".into() })
        .await
        .unwrap();
    assert_eq!(free, UsernameAvailability { available: true });

    // auth.signUp
    let signed_up = client.auth().sign_up(seed_sign_up()).await.expect("sign up");
    let user = &signed_up.user;
    assert_eq!(user.project_id, server.project.to_string());
    assert_eq!(user.email.as_deref(), Some("user@example.com"));
    assert_eq!(user.name.as_deref(), Some("Alice"));
    assert_eq!(user.username.as_deref(), Some("alice"));
    assert_eq!(user.role, Role::Visitor);
    assert_eq!(user.auth_methods, vec![AuthMethod::Password]);
    assert!(!user.is_verified && user.is_active);
    assert_eq!(signed_up.access_token.split('.').count(), 3);
    assert_eq!(signed_up.refresh_token.split('.').count(), 3);
    let claims = client.verify_access_token(&signed_up.access_token).await.expect("fresh token verifies");
    assert_eq!(claims.sub, user.id);

    let taken = client
        .users()
        .check_username_availability(CheckUsernameAvailability { username: "ALICE".into() })
        .await
        .unwrap();
    assert!(!taken.available);

    // auth.signIn
    let signed_in = client
        .auth()
        .sign_in(SignIn { email: "user@example.com".into(), password: "s3cur3P@ss".into() })
        .await
        .expect("sign in");
    assert_eq!(signed_in.user.id, user.id);
    let refresh_token = signed_in.refresh_token;

    // auth.requestNewAccessToken: { accessToken } plus the rotated refresh token.
    let refreshed = client
        .auth()
        .request_new_access_token(RequestNewAccessToken { refresh_token: refresh_token.clone() })
        .await
        .expect("refresh");
    assert_eq!(client.verify_access_token(&refreshed.access_token).await.unwrap().sub, user.id);
    assert_ne!(refreshed.refresh_token, refresh_token, "the refresh token rotates");
    let refresh_token = refreshed.refresh_token;

    // auth.signOut, after which the refresh token is refused.
    let () = client.auth().sign_out(SignOut { refresh_token: refresh_token.clone() }).await.expect("sign out");
    let err =
        client.auth().request_new_access_token(RequestNewAccessToken { refresh_token }).await.expect_err("signed out");
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.code(), Some("auth/refresh-token-invalid"));
    client.auth().sign_out(SignOut { refresh_token: "garbage".into() }).await.expect("sign out of garbage is fine");
}

#[tokio::test]
async fn a_wrong_api_key_fails_connect_with_401() {
    let server = Server::start().await;
    let err = Client::connect(&server.base_url, server.project.to_string(), "lk_wrong").await.expect_err("wrong key");
    let Error::Api(api) = &err else { panic!("expected an API error, got {err:?}") };
    assert_eq!(api.status, 401);
    assert_eq!(api.code, "auth/invalid-api-key");
    assert!(err.to_string().contains("auth/invalid-api-key"), "{err}");

    // A live key with another project's id is refused the same way.
    let (other_project, _) = server.another_project().await;
    let err = Client::connect(&server.base_url, other_project, &server.api_key).await.expect_err("wrong project");
    assert_eq!(err.code(), Some("auth/invalid-api-key"));
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn a_wrong_password_is_401_invalid_credentials() {
    let server = Server::start().await;
    let client = server.client();
    client.auth().sign_up(seed_sign_up()).await.unwrap();
    let err = client
        .auth()
        .sign_in(SignIn { email: "user@example.com".into(), password: "wrongPassw0rd".into() })
        .await
        .expect_err("wrong password");
    let api = err.api().expect("an API error");
    assert_eq!(api.status, 401);
    assert_eq!(api.code, "auth/invalid-credentials");
    assert!(!api.message.is_empty());
    assert_eq!(api.field, None);
}

#[tokio::test]
async fn api_errors_carry_code_status_and_field() {
    let server = Server::start().await;
    let client = server.client();
    client.auth().sign_up(seed_sign_up()).await.unwrap();
    let dup = client.auth().sign_up(seed_sign_up()).await.expect_err("duplicate");
    assert_eq!((dup.status(), dup.code(), dup.field()), (Some(409), Some("DUPLICATE_EMAIL"), Some("email")));
    let weak = client
        .auth()
        .sign_up(SignUp { email: "b@example.com".into(), password: "short".into(), ..Default::default() })
        .await
        .expect_err("weak");
    assert_eq!((weak.status(), weak.code(), weak.field()), (Some(400), Some("auth/weak-password"), Some("password")));
}

#[tokio::test]
async fn transport_failures_are_typed() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let client = Client::new(format!("http://{closed}"), "00000000-0000-4000-8000-000000000000", "lk_x").unwrap();
    assert!(matches!(client.verify_api_key().await, Err(Error::Transport(_))));

    // A peer that accepts and never answers: the timeout fires.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = black_hole.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = black_hole.accept().await {
            held.push(socket);
        }
    });
    let client = Client::builder(format!("http://{addr}"), "00000000-0000-4000-8000-000000000000", "lk_x")
        .timeout(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    assert!(matches!(client.verify_api_key().await, Err(Error::Timeout)));

    assert!(matches!(Client::new("localhost:8787", "p", "k"), Err(Error::Config(_))));
}
