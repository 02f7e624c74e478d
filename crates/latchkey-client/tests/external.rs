//! The seed's verifyExternalUser through the Rust SDK against the real server, with a
//! `signedJwt` made with the project's HS256 signing secret.

mod common;

use common::Server;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latchkey_client::{AuthMethod, VerifyExternalUser};
use serde_json::json;

#[tokio::test]
async fn seed_verify_external_user() {
    let server = Server::start().await;
    let client = server.client();
    let secret = server.external_signing_secret().await;
    let now = chrono::Utc::now().timestamp();
    // What a customer's auth system asserts: `iss` = project id, `sub` = its own user id.
    let claims = json!({
        "iss": server.project.to_string(), "sub": "ext-alice", "iat": now, "exp": now + 300,
        "userData": { "email": "user@example.com", "name": "Alice", "username": "alice" },
    });
    let signed_jwt =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
            .unwrap();

    let credentials = client.auth().verify_external_user(VerifyExternalUser { user_jwt: signed_jwt }).await.unwrap();
    assert_eq!(credentials.user.auth_methods, vec![AuthMethod::External]);
    assert_eq!(credentials.user.foreign_id.as_deref(), Some("ext-alice"));
    assert_eq!(credentials.user.username.as_deref(), Some("alice"));
    client.verify_access_token(&credentials.access_token).await.expect("a Latchkey access token");
    let again =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
            .unwrap();
    let same = client.auth().verify_external_user(VerifyExternalUser { user_jwt: again }).await.unwrap();
    assert_eq!(same.user.id, credentials.user.id, "one Latchkey user per foreign id");

    let forged =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"wrong")).unwrap();
    let err = client.auth().verify_external_user(VerifyExternalUser { user_jwt: forged }).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("auth/invalid-token")));
    let missing = client.auth().verify_external_user(VerifyExternalUser { user_jwt: String::new() }).await.unwrap_err();
    assert_eq!((missing.status(), missing.code()), (Some(400), Some("auth/missing-jwt")));
}
