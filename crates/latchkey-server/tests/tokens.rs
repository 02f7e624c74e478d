//! Access tokens verify with a stock JWT library against the JWKS document alone, and
//! forgeries (altered payload, `alg: none`, HS256 re-signing) do not.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ISSUER, TestApp};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn jwks(app: &TestApp) -> JwkSet {
    let response = app.http.get(app.url(app.project, "/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "JWKS needs no API key");
    assert!(response.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    response.json().await.unwrap()
}

/// What a customer's server does: pick the key by `kid` from the JWKS, pin EdDSA, check
/// `aud` and `iss`. `now_leeway` widens exp for tests that run on the real clock.
fn verify(token: &str, set: &JwkSet, project: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("unknown kid")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[project]);
    validation.set_issuer(&[ISSUER]);
    // The test server runs on a manual clock set in 2026-01-01; don't judge exp by wall time here.
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation).map(|d| d.claims).map_err(|e| e.to_string())
}

#[tokio::test]
async fn access_tokens_verify_against_the_jwks_alone() {
    let app = TestApp::spawn().await;
    let body = app.sign_up("user@example.com").await;
    let set = jwks(&app).await;
    assert_eq!(set.keys.len(), 2, "the signing key and the standby a rotation promotes");
    let raw: Value = serde_json::to_value(&set).unwrap();
    assert_eq!(raw["keys"][0]["kty"], "OKP");
    assert_eq!(raw["keys"][0]["crv"], "Ed25519");
    assert!(raw["keys"][0].get("d").is_none(), "no private part in the JWKS");

    let token = body["accessToken"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let claims = verify(token, &set, &app.project.to_string()).expect("verifies");
    assert_eq!(claims["sub"], body["user"]["id"]);
    assert_eq!(claims["projectId"], app.project.to_string());
    assert_eq!(claims["aud"], app.project.to_string());
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["role"], "visitor");
    assert!(claims["sid"].is_string());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 30 * 60, "30 minutes by default");

    // A refresh token is not accepted as an access token by a verifier that checks `aud`.
    assert!(verify(body["refreshToken"].as_str().unwrap(), &set, &app.project.to_string()).is_err());
    // Another project's verifier refuses it too.
    let (other, _) = app.another_project().await;
    assert!(verify(token, &set, &other.to_string()).is_err());
}

#[tokio::test]
async fn the_old_access_token_still_verifies_after_rotation_until_exp() {
    let app = TestApp::spawn().await;
    let body = app.sign_up("user@example.com").await;
    let old_access = body["accessToken"].as_str().unwrap().to_owned();
    app.advance(60);
    let (status, _) = app.post("/auth/request-new-access-token", json!({"refreshToken": body["refreshToken"]})).await;
    assert_eq!(status, StatusCode::OK);
    let set = jwks(&app).await;
    let claims = verify(&old_access, &set, &app.project.to_string()).expect("old access token still verifies");
    // Checked against the server's clock: still inside its lifetime.
    let now = app.clock_now();
    assert!(claims["exp"].as_i64().unwrap() > now, "not yet expired");
}

#[tokio::test]
async fn forged_tokens_do_not_verify() {
    let app = TestApp::spawn().await;
    let body = app.sign_up("user@example.com").await;
    let token = body["accessToken"].as_str().unwrap();
    let set = jwks(&app).await;
    let project = app.project.to_string();
    let parts: Vec<&str> = token.split('.').collect();

    // Altered payload, original signature.
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    let altered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()), parts[2]);
    assert!(verify(&altered, &set, &project).is_err(), "altered payload");

    // alg: none, no signature.
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let none_token = format!("{none_header}.{}.", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()));
    assert!(verify(&none_token, &set, &project).is_err(), "alg none");

    // HS256 re-signed with the public key bytes as the HMAC secret (algorithm confusion).
    let x = serde_json::to_value(&set).unwrap()["keys"][0]["x"].as_str().unwrap().to_owned();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid);
    for secret in [URL_SAFE_NO_PAD.decode(&x).unwrap(), x.into_bytes()] {
        let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
        assert!(verify(&forged, &set, &project).is_err(), "HS256 confusion");
    }

    // The server itself refuses the same forgeries as refresh tokens.
    let refresh = body["refreshToken"].as_str().unwrap();
    let rparts: Vec<&str> = refresh.split('.').collect();
    let none_refresh = format!("{none_header}.{}.", rparts[1]);
    let result = app.post("/auth/request-new-access-token", json!({"refreshToken": none_refresh})).await;
    common::assert_error(&result, StatusCode::FORBIDDEN, "auth/refresh-token-malformed");
}

#[tokio::test]
async fn jwks_of_unknown_or_malformed_projects_is_404() {
    let app = TestApp::spawn().await;
    for project in ["00000000-0000-0000-0000-000000000000", "nope"] {
        let r = app.http.get(format!("{}/v7/{project}/.well-known/jwks.json", app.addr)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn refresh_tokens_cannot_be_forged_with_public_material() {
    let app = TestApp::spawn().await;
    let body = app.sign_up("user@example.com").await;
    let refresh = body["refreshToken"].as_str().unwrap();
    // Refresh tokens are HS256 under a secret that is published nowhere.
    assert_eq!(jsonwebtoken::decode_header(refresh).unwrap().alg, Algorithm::HS256);
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(refresh.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let set = jwks(&app).await;
    let jwk = serde_json::to_value(&set).unwrap()["keys"][0].clone();
    let x = jwk["x"].as_str().unwrap().to_owned();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    for secret in [URL_SAFE_NO_PAD.decode(&x).unwrap(), x.clone().into_bytes(), kid.clone().into_bytes()] {
        for alg in [Algorithm::HS256, Algorithm::HS512] {
            let mut header = Header::new(alg);
            header.kid = Some(kid.clone());
            let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
            let result = app.post("/auth/request-new-access-token", json!({"refreshToken": forged})).await;
            common::assert_error(&result, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
        }
    }
    // The genuine token still works afterwards: forgeries did not count as reuse.
    let (status, _) = app.post("/auth/request-new-access-token", json!({"refreshToken": refresh})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn each_project_publishes_only_its_own_keys() {
    let app = TestApp::spawn().await;
    let (other, _) = app.another_project().await;
    let mine = jwks(&app).await;
    let response = app.http.get(app.url(other, "/.well-known/jwks.json")).send().await.unwrap();
    let theirs: JwkSet = response.json().await.unwrap();
    assert_eq!(theirs.keys.len(), 2, "its signing key and standby");
    let kid = |set: &JwkSet| set.keys[0].common.key_id.clone().unwrap();
    assert_ne!(kid(&mine), kid(&theirs));
    // A token of one project does not verify with the other's JWKS.
    let body = app.sign_up("user@example.com").await;
    assert!(verify(body["accessToken"].as_str().unwrap(), &theirs, &app.project.to_string()).is_err());
}
