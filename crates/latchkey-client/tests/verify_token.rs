//! `Client::verify_access_token`: local verification against the project's JWKS, with
//! caching, rate-limited refetch on unknown `kid`, and refusal of expired, tampered,
//! wrong-issuer, wrong-project and refresh tokens.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::Server;
use latchkey_client::{Client, Credentials, Error, SignUp, TokenError};
use serde_json::Value;

async fn sign_up(client: &Client, email: &str) -> Credentials {
    client
        .auth()
        .sign_up(SignUp { email: email.into(), password: "s3cur3P@ss".into(), ..Default::default() })
        .await
        .expect("sign up")
}

#[track_caller]
fn assert_refused(result: Result<latchkey_client::AccessTokenClaims, Error>, expected: TokenError) {
    match result {
        Err(Error::InvalidToken(reason)) => assert_eq!(reason, expected),
        other => panic!("expected InvalidToken({expected:?}), got {other:?}"),
    }
}

fn part(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn with_part(token: &str, index: usize, value: &Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[index] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap());
    parts.join(".")
}

#[tokio::test]
async fn a_fresh_token_verifies_and_the_jwks_is_cached() {
    let server = Server::start().await;
    let client = server.client();
    let credentials = sign_up(&client, "user@example.com").await;
    assert_eq!(client.jwks_fetch_count(), 0, "nothing fetched before the first verification");

    let claims = client.verify_access_token(&credentials.access_token).await.expect("verifies");
    assert_eq!(claims.sub, credentials.user.id);
    assert_eq!(claims.project_id, server.project.to_string());
    assert_eq!(claims.aud, server.project.to_string());
    assert_eq!(claims.iss, server.base_url);
    assert_eq!(claims.role, "visitor");
    assert!(!claims.sid.is_empty());
    assert_eq!(claims.exp - claims.iat, 30 * 60);

    for _ in 0..5 {
        client.verify_access_token(&credentials.access_token).await.unwrap();
    }
    let other = sign_up(&client, "other@example.com").await;
    client.verify_access_token(&other.access_token).await.unwrap();
    assert_eq!(client.jwks_fetch_count(), 1, "one JWKS fetch serves every verification");
}

#[tokio::test]
async fn concurrent_first_verifications_share_one_fetch() {
    let server = Server::start().await;
    let client = server.client();
    let credentials = sign_up(&client, "user@example.com").await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            let token = credentials.access_token.clone();
            tokio::spawn(async move { client.verify_access_token(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("verifies");
    }
    assert_eq!(client.jwks_fetch_count(), 1);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let server = Server::start().await;
    let client = server.client();
    // Issue the token two hours in the past: with the default 30-minute lifetime it expired
    // 90 minutes ago by the real clock the SDK checks against.
    server.shift_clock(-2 * 3600);
    let credentials = sign_up(&client, "user@example.com").await;
    server.shift_clock(2 * 3600);
    assert_refused(client.verify_access_token(&credentials.access_token).await, TokenError::Expired);

    // A token that expired 30 s ago is within the default 60 s leeway; with no leeway it is not.
    server.shift_clock(-(30 * 60 + 30));
    let recent = sign_up(&client, "recent@example.com").await;
    server.shift_clock(30 * 60 + 30);
    client.verify_access_token(&recent.access_token).await.expect("within leeway");
    let strict = Client::builder(&server.base_url, server.project.to_string(), &server.api_key)
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    assert_refused(strict.verify_access_token(&recent.access_token).await, TokenError::Expired);
}

#[tokio::test]
async fn tampered_and_forged_tokens_are_refused() {
    let server = Server::start().await;
    let client = server.client();
    let credentials = sign_up(&client, "user@example.com").await;
    let token = &credentials.access_token;
    client.verify_access_token(token).await.expect("the original verifies");

    // Payload altered (role escalated, or a longer expiry), signature kept.
    let mut claims = part(token, 1);
    claims["role"] = "admin".into();
    assert_refused(client.verify_access_token(&with_part(token, 1, &claims)).await, TokenError::Signature);
    let mut claims = part(token, 1);
    claims["exp"] = (claims["exp"].as_i64().unwrap() + 86400).into();
    assert_refused(client.verify_access_token(&with_part(token, 1, &claims)).await, TokenError::Signature);

    // Signature altered.
    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(client.verify_access_token(&forged).await, Err(Error::InvalidToken(_))));

    // Header downgraded to HS256 or none: refused before any key is used.
    let mut header = part(token, 0);
    header["alg"] = "HS256".into();
    assert!(matches!(
        client.verify_access_token(&with_part(token, 0, &header)).await,
        Err(Error::InvalidToken(TokenError::Algorithm(_)))
    ));
    header["alg"] = "none".into();
    let none =
        format!("{}.{}.", with_part(token, 0, &header).split('.').next().unwrap(), token.split('.').nth(1).unwrap());
    assert!(matches!(client.verify_access_token(&none).await, Err(Error::InvalidToken(_))));

    // No kid.
    let mut header = part(token, 0);
    header.as_object_mut().unwrap().remove("kid");
    assert_refused(client.verify_access_token(&with_part(token, 0, &header)).await, TokenError::MissingKid);

    assert_refused(client.verify_access_token("not.a.jwt").await, TokenError::Malformed);
    assert_refused(client.verify_access_token("").await, TokenError::Malformed);
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let server = Server::start().await;
    let client = server.client();
    let credentials = sign_up(&client, "user@example.com").await;
    // Refresh tokens are HS256 under a per-project secret (and carry the audience
    // `latchkey:refresh:{id}`): refused by the EdDSA pin before any key is looked up.
    let refused = client.verify_access_token(&credentials.refresh_token).await;
    assert!(
        matches!(refused, Err(Error::InvalidToken(TokenError::Algorithm(_) | TokenError::Audience))),
        "{refused:?}"
    );
    assert_eq!(client.jwks_fetch_count(), 0, "a refresh token never costs a JWKS fetch");
}

#[tokio::test]
async fn a_token_signed_by_this_project_for_another_audience_is_refused() {
    use latchkey_core::domain::{ProjectId, Role, SessionId, UserId};
    use latchkey_core::tokens::{PairSpec, mint_pair};
    let server = Server::start().await;
    let client = server.client();
    let context = server.services.projects.context(server.project).await.unwrap();
    let spec = |project: ProjectId| PairSpec {
        issuer: &server.base_url,
        project,
        user: UserId::generate(),
        role: Role::Visitor,
        session: SessionId::generate(),
        generation: 1,
        now: chrono::Utc::now(),
        access_ttl_secs: 600,
        refresh_ttl_secs: 600,
    };
    // This project's key, this project's audience: accepted (the control).
    let own = mint_pair(&context.keys, &spec(server.project)).unwrap();
    client.verify_access_token(&own.access_token).await.expect("control verifies");
    // This project's key and a valid signature, but minted for another project's audience.
    let other = mint_pair(&context.keys, &spec(ProjectId::generate())).unwrap();
    assert_refused(client.verify_access_token(&other.access_token).await, TokenError::Audience);
}

#[tokio::test]
async fn the_issuer_is_checked() {
    let server = Server::start().await;
    let client = server.client();
    let credentials = sign_up(&client, "user@example.com").await;
    let elsewhere = Client::builder(&server.base_url, server.project.to_string(), &server.api_key)
        .issuer("https://auth.example.com")
        .build()
        .unwrap();
    assert_refused(elsewhere.verify_access_token(&credentials.access_token).await, TokenError::Issuer);
    let explicit = Client::builder(&server.base_url, server.project.to_string(), &server.api_key)
        .issuer(server.base_url.clone())
        .build()
        .unwrap();
    explicit.verify_access_token(&credentials.access_token).await.expect("matching issuer");
}

#[tokio::test]
async fn another_projects_token_is_refused_and_unknown_kids_refetch_at_a_limited_rate() {
    let server = Server::start().await;
    let (other_project, other_key) = server.another_project().await;
    let other_client = Client::new(&server.base_url, other_project, other_key).unwrap();
    let foreign = sign_up(&other_client, "user@example.com").await;

    let client = Client::builder(&server.base_url, server.project.to_string(), &server.api_key)
        .jwks_min_refetch_interval(Duration::from_millis(500))
        .build()
        .unwrap();
    let own = sign_up(&client, "user@example.com").await;
    client.verify_access_token(&own.access_token).await.unwrap();
    assert_eq!(client.jwks_fetch_count(), 1);

    // The other project's key id is not in this project's JWKS. Right after a fetch, an
    // unknown kid does not fetch again...
    let refuse = |r: Result<_, Error>| assert!(matches!(r, Err(Error::InvalidToken(TokenError::UnknownKey(_)))));
    for _ in 0..20 {
        refuse(client.verify_access_token(&foreign.access_token).await);
    }
    assert_eq!(client.jwks_fetch_count(), 1, "unknown kids within the interval cause no fetch");
    // ...once the interval has passed, one refetch (a key may have rotated in), then quiet again.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for _ in 0..20 {
        refuse(client.verify_access_token(&foreign.access_token).await);
    }
    assert_eq!(client.jwks_fetch_count(), 2);
    // Own tokens still verify from the cache throughout.
    client.verify_access_token(&own.access_token).await.unwrap();
    assert_eq!(client.jwks_fetch_count(), 2);
}
