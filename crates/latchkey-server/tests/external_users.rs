//! `verify-external-user` over HTTP: tokens signed in the test with the stock `jsonwebtoken`
//! crate (HS256 with the project's secret; RS256, ES256 and Ed25519 with key pairs generated
//! here), the refusals of API.md, and the account-linking rules.

mod common;
mod external_support;

use std::time::Duration;

use common::mail::{link_in, token_of};
use common::smtp::SmtpServer;
use common::{TestApp, assert_error};
use external_support::{claims, ed25519_pair, p256_pair, rsa_pair, sign, sign_hs256, tamper, unsigned};
use jsonwebtoken::{Algorithm, EncodingKey};
use latchkey_core::clock::Clock;
use latchkey_core::domain::User;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ROUTE: &str = "/auth/verify-external-user";

fn now(app: &TestApp) -> i64 {
    app.clock.now().timestamp()
}

fn project(app: &TestApp) -> String {
    app.project.to_string()
}

async fn secret(app: &TestApp) -> String {
    app.admin.external.create_signing_secret(app.project).await.expect("secret").plaintext
}

async fn verify(app: &TestApp, jwt: &str) -> (StatusCode, Value) {
    app.post(ROUTE, json!({ "userJwt": jwt })).await
}

async fn user_by_foreign_id(app: &TestApp, foreign_id: &str) -> Option<User> {
    app.store.find_user_by_foreign_id(app.project, foreign_id).await.expect("store")
}

#[tokio::test]
async fn hs256_success_creates_then_updates_the_same_user() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    assert!(secret.starts_with("lkx_") && secret.len() > 40);
    let data = json!({
        "email": "Ext@Example.com", "name": "Ext User", "username": "ext_user", "bio": "hello",
        "birthdate": "1990-04-01", "location": {"latitude": 1.5, "longitude": 2.5},
        "metadata": {"plan": "pro"}, "secureMetadata": {"ssn": "top-secret"}
    });
    let mut token_claims = claims(&project(&app), now(&app), "cust-42", data);
    token_claims["jti"] = json!("jti-1");
    let (status, body) = verify(&app, &sign_hs256(&secret, &token_claims)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let user = &body["user"];
    assert_eq!(user["foreignId"], "cust-42");
    assert_eq!(user["email"], "ext@example.com");
    assert_eq!(user["username"], "ext_user");
    assert_eq!(user["name"], "Ext User");
    assert_eq!(user["location"], json!({"type": "Point", "coordinates": [2.5, 1.5]}));
    assert_eq!(user["authMethods"], json!(["external"]));
    assert!(!body.to_string().contains("top-secret"), "secureMetadata is never returned");
    let stored = user_by_foreign_id(&app, "cust-42").await.expect("created");
    assert!(stored.password_hash.is_none(), "external users have no password");
    assert_eq!(stored.secure_metadata["ssn"], "top-secret");

    // The session is a normal one: its refresh token rotates like any other.
    let refresh = body["refreshToken"].as_str().unwrap();
    let (status, refreshed) = app.post("/auth/request-new-access-token", json!({ "refreshToken": refresh })).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");

    // Second sign-in: same user, changed fields updated, absent fields kept.
    app.advance(120);
    let changed = claims(&project(&app), now(&app), "cust-42", json!({"name": "Renamed", "bio": "new bio"}));
    let (status, body2) = verify(&app, &sign_hs256(&secret, &changed)).await;
    assert_eq!(status, StatusCode::OK, "{body2}");
    assert_eq!(body2["user"]["id"], user["id"]);
    assert_eq!(body2["user"]["name"], "Renamed");
    assert_eq!(body2["user"]["bio"], "new bio");
    assert_eq!(body2["user"]["email"], "ext@example.com");
    assert_eq!(body2["user"]["username"], "ext_user");
    assert_ne!(body2["user"]["updatedAt"], user["updatedAt"]);
    assert_ne!(body2["refreshToken"], body["refreshToken"], "a new session each time");

    // A token with no userData at all signs the same user in and changes nothing.
    app.advance(60);
    let bare = claims(&project(&app), now(&app), "cust-42", Value::Null);
    let (status, body3) = verify(&app, &sign_hs256(&secret, &bare)).await;
    assert_eq!(status, StatusCode::OK, "{body3}");
    assert_eq!(body3["user"]["id"], user["id"]);
    assert_eq!(body3["user"]["updatedAt"], body2["user"]["updatedAt"]);
}

#[tokio::test]
async fn rs256_es256_and_ed25519_public_keys_sign_users_in() {
    let app = TestApp::spawn().await;
    let external = &app.admin.external;
    let rsa = rsa_pair();
    let ec = p256_pair();
    let ed = ed25519_pair();
    let rsa_record = external.add_public_key_pem(app.project, &rsa.public_pem, Some("rsa-1"), None).await.unwrap();
    assert_eq!(rsa_record.alg, "RS256");
    let ec_record = external.add_public_key_jwk(app.project, &ec.public_jwk.to_string(), None, None).await.unwrap();
    assert_eq!(ec_record.alg, "ES256");
    let ed_record = external.add_public_key_pem(app.project, &ed.public_pem, Some("ed-1"), None).await.unwrap();
    assert_eq!(ed_record.alg, "EdDSA");
    assert_eq!(external.public_keys(app.project).await.unwrap().len(), 3);

    for (i, (pair, kid)) in
        [(&rsa, Some("rsa-1")), (&ec, Some(ec_record.kid.as_str())), (&ed, Some("ed-1"))].into_iter().enumerate()
    {
        let sub = format!("user-{i}");
        let c = claims(&project(&app), now(&app), &sub, json!({"email": format!("u{i}@example.com")}));
        let (status, body) = verify(&app, &sign(pair.alg, kid, &c, &pair.encoding)).await;
        assert_eq!(status, StatusCode::OK, "{:?}: {body}", pair.alg);
        assert_eq!(body["user"]["foreignId"], sub);
    }
    // Without a kid, the keys pinned to the token's alg are tried.
    let c = claims(&project(&app), now(&app), "user-0", json!({}));
    let (status, body) = verify(&app, &sign(Algorithm::ES256, None, &c, &ec.encoding)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A key that was removed stops working at once.
    assert!(external.remove_public_key(app.project, "ed-1").await.unwrap());
    let c = claims(&project(&app), now(&app), "user-2", json!({}));
    let refused = verify(&app, &sign(Algorithm::EdDSA, Some("ed-1"), &c, &ed.encoding)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "auth/invalid-token");
}

#[tokio::test]
async fn previous_secret_works_during_overlap_and_not_after() {
    let app = TestApp::spawn().await;
    let external = &app.admin.external;
    let old = secret(&app).await;
    let rotated = external.rotate_signing_secret(app.project, 3600).await.unwrap();
    let new = rotated.plaintext;
    assert_ne!(old, new);

    let token = |secret: &str, sub: &str| sign_hs256(secret, &claims(&project(&app), now(&app), sub, json!({})));
    assert_eq!(verify(&app, &token(&old, "a")).await.0, StatusCode::OK, "old secret inside the overlap");
    assert_eq!(verify(&app, &token(&new, "b")).await.0, StatusCode::OK, "new secret");
    // The kid header may name the secret explicitly.
    let kid_token = sign(
        Algorithm::HS512,
        Some(&rotated.record.id),
        &claims(&project(&app), now(&app), "c", json!({})),
        &EncodingKey::from_secret(new.as_bytes()),
    );
    assert_eq!(verify(&app, &kid_token).await.0, StatusCode::OK, "HS512 with kid");

    app.advance(3600 + 1);
    let refused = verify(&app, &token(&old, "a")).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "auth/invalid-token");
    assert_eq!(verify(&app, &token(&new, "b")).await.0, StatusCode::OK, "new secret after the overlap");

    // Revocation is immediate; with no live key left the project has no keys.
    assert!(external.revoke_signing_secret(app.project, &rotated.record.id).await.unwrap());
    let refused = verify(&app, &token(&new, "b")).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "auth/missing-keys");
    let listed = external.signing_secrets(app.project).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|s| !s.is_live(app.clock.now())));
}

/// Every refusal of the issue: the listed code, and no user created or changed.
#[tokio::test]
async fn refusals_give_the_listed_code_and_change_nothing() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let rsa = rsa_pair();
    app.admin.external.add_public_key_pem(app.project, &rsa.public_pem, Some("rsa-1"), None).await.unwrap();
    let p = project(&app);

    // The victim exists; every bad token below tries to rename it, or to create a new user.
    let ok = sign_hs256(&secret, &claims(&p, now(&app), "victim", json!({"name": "Original"})));
    assert_eq!(verify(&app, &ok).await.0, StatusCode::OK);
    let before = user_by_foreign_id(&app, "victim").await.unwrap();
    app.advance(5);

    // Another project with its own secret.
    let (other_project, _) = app.another_project().await;
    let other_secret = app.admin.external.create_signing_secret(other_project).await.expect("other secret").plaintext;

    let t = now(&app);
    let evil = json!({"name": "Mallory"});
    let make = |sub: &str| -> Vec<(&'static str, String, StatusCode, &'static str)> {
        let base = claims(&p, t, sub, evil.clone());
        let with = |key: &str, value: Value| {
            let mut c = base.clone();
            c[key] = value;
            c
        };
        let without = |key: &str| {
            let mut c = base.clone();
            c.as_object_mut().unwrap().remove(key);
            c
        };
        let forbidden = StatusCode::FORBIDDEN;
        let rsa_pem_as_secret = EncodingKey::from_secret(rsa.public_pem.as_bytes());
        vec![
            (
                "another project's token",
                sign_hs256(&other_secret, &claims(&other_project.to_string(), t, sub, evil.clone())),
                forbidden,
                "auth/project-mismatch",
            ),
            (
                "another project's token, signed with this project's secret",
                sign_hs256(&secret, &with("iss", json!(other_project.to_string()))),
                forbidden,
                "auth/project-mismatch",
            ),
            (
                "wrong iss",
                sign_hs256(&secret, &with("iss", json!("https://evil.example"))),
                forbidden,
                "auth/invalid-token",
            ),
            ("no iss", sign_hs256(&secret, &without("iss")), forbidden, "auth/invalid-token"),
            ("wrong aud", sign_hs256(&secret, &with("aud", json!("someone-else"))), forbidden, "auth/invalid-token"),
            (
                "expired",
                sign_hs256(&secret, &with("exp", json!(t - 120)).tap_iat(t - 400)),
                forbidden,
                "auth/invalid-token",
            ),
            ("no exp", sign_hs256(&secret, &without("exp")), forbidden, "auth/invalid-token"),
            (
                "far-future exp",
                sign_hs256(&secret, &with("exp", json!(t + 365 * 86400))),
                forbidden,
                "auth/invalid-token",
            ),
            (
                "far-future exp without iat",
                sign_hs256(&secret, &with("exp", json!(t + 3600)).without_key("iat")),
                forbidden,
                "auth/invalid-token",
            ),
            ("nbf in the future", sign_hs256(&secret, &with("nbf", json!(t + 600))), forbidden, "auth/invalid-token"),
            ("iat in the future", sign_hs256(&secret, &with("iat", json!(t + 120))), forbidden, "auth/invalid-token"),
            (
                "tampered payload",
                tamper(&sign_hs256(&secret, &claims(&p, t, sub, json!({}))), &base),
                forbidden,
                "auth/invalid-token",
            ),
            ("alg none", unsigned(&base), forbidden, "auth/invalid-token"),
            (
                "HS256 keyed with the registered RSA public key PEM, naming its kid",
                sign(Algorithm::HS256, Some("rsa-1"), &base, &rsa_pem_as_secret),
                forbidden,
                "auth/invalid-token",
            ),
            (
                "HS256 keyed with the registered RSA public key PEM, no kid",
                sign(Algorithm::HS256, None, &base, &rsa_pem_as_secret),
                forbidden,
                "auth/invalid-token",
            ),
            (
                "unknown kid",
                sign(Algorithm::HS256, Some("no-such-kid"), &base, &EncodingKey::from_secret(secret.as_bytes())),
                forbidden,
                "auth/invalid-token",
            ),
            (
                "wrong secret",
                sign_hs256("lkx_not-the-secret-at-all-but-long-enough", &base),
                forbidden,
                "auth/invalid-token",
            ),
            ("no sub", sign_hs256(&secret, &without("sub")), forbidden, "auth/invalid-token"),
            ("malformed string", "not-a-jwt".to_owned(), forbidden, "auth/invalid-token"),
            ("three garbage parts", "a.b.c".to_owned(), forbidden, "auth/invalid-token"),
            ("empty", String::new(), StatusCode::BAD_REQUEST, "auth/missing-jwt"),
        ]
    };
    let mut n = 0;
    for (name, jwt, status, code) in make("victim").into_iter().chain(make("newcomer")) {
        let response = verify(&app, &jwt).await;
        assert_eq!(response.0, status, "{name}: {}", response.1);
        assert_eq!(response.1["code"], code, "{name}: {}", response.1);
        n += 1;
    }
    assert!(n >= 40);
    let after_refusals = user_by_foreign_id(&app, "victim").await.unwrap();
    assert_eq!(after_refusals.profile.name.as_deref(), Some("Original"), "no refusal renamed the victim");
    assert_eq!(after_refusals.updated_at, before.updated_at, "no refusal changed the victim");
    assert_eq!(after_refusals.last_active, before.last_active, "no refusal signed the victim in");
    assert!(user_by_foreign_id(&app, "newcomer").await.is_none(), "no refusal created a user");
    let missing = app.post(ROUTE, json!({})).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "auth/missing-jwt");
    let wrong_type = app.post(ROUTE, json!({"userJwt": 5})).await;
    assert_error(&wrong_type, StatusCode::BAD_REQUEST, "auth/invalid-body");

    // Replayed jti: the first use works, the replay is refused and changes nothing.
    let mut once = claims(&p, t, "victim", json!({"bio": "first use"}));
    once["jti"] = json!("one-time");
    let first = sign_hs256(&secret, &once);
    assert_eq!(verify(&app, &first).await.0, StatusCode::OK);
    let after_first = user_by_foreign_id(&app, "victim").await.unwrap();
    once["userData"] = json!({"bio": "replayed"});
    let replay = verify(&app, &first).await;
    assert_error(&replay, StatusCode::FORBIDDEN, "auth/invalid-token");
    let replay_changed = verify(&app, &sign_hs256(&secret, &once)).await;
    assert_error(&replay_changed, StatusCode::FORBIDDEN, "auth/invalid-token");

    let after = user_by_foreign_id(&app, "victim").await.unwrap();
    assert_eq!(after.profile.bio.as_deref(), Some("first use"));
    assert_eq!(after.updated_at, after_first.updated_at, "the replay changed nothing");
    assert_eq!(after.last_active, after_first.last_active, "the replay changed nothing");
}

trait ClaimsExt {
    fn tap_iat(self, iat: i64) -> Value;
    fn without_key(self, key: &str) -> Value;
}

impl ClaimsExt for Value {
    fn tap_iat(mut self, iat: i64) -> Value {
        self["iat"] = json!(iat);
        self
    }
    fn without_key(mut self, key: &str) -> Value {
        self.as_object_mut().unwrap().remove(key);
        self
    }
}

#[tokio::test]
async fn a_project_without_keys_answers_missing_keys() {
    let app = TestApp::spawn().await;
    let c = claims(&project(&app), now(&app), "someone", json!({}));
    let refused = verify(&app, &sign_hs256("lkx_whatever-secret-value", &c)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "auth/missing-keys");
    assert!(user_by_foreign_id(&app, "someone").await.is_none());
}

#[tokio::test]
async fn token_lifetime_cap_is_configurable_per_project() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let external = &app.admin.external;
    let t = now(&app);
    let mut c = claims(&project(&app), t, "long", json!({}));
    c["exp"] = json!(t + 30 * 60);
    assert_error(&verify(&app, &sign_hs256(&secret, &c)).await, StatusCode::FORBIDDEN, "auth/invalid-token");
    let mut settings = external.settings(app.project).await.unwrap();
    assert_eq!(settings.max_token_lifetime_secs, 600, "default 10 minutes");
    settings.max_token_lifetime_secs = 3600;
    external.update_settings(app.project, settings).await.unwrap();
    assert_eq!(verify(&app, &sign_hs256(&secret, &c)).await.0, StatusCode::OK);
    // Small skew is tolerated: a token that expired 30 s ago (customer clock behind) still works.
    let mut skewed = claims(&project(&app), t - 330, "skewed", json!({}));
    skewed["exp"] = json!(t - 30);
    assert_eq!(verify(&app, &sign_hs256(&secret, &skewed)).await.0, StatusCode::OK);
}

/// Verifies `user_id`'s email the way a person would: a real email over SMTP, its link's token.
async fn verify_email_over_smtp(app: &TestApp, smtp: &SmtpServer, user_id: &str, nth_message: usize) {
    let (status, body) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let messages = smtp.wait_for(nth_message, Duration::from_secs(15)).await;
    let token = token_of(&link_in(&messages[nth_message - 1].data));
    let (status, body) = app.post("/auth/verify-email", json!({ "token": token })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn email_match_links_a_verified_password_user_and_keeps_its_password() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let secret = secret(&app).await;
    let signed_up = app.sign_up("alice@example.com").await;
    verify_email_over_smtp(&app, &smtp, signed_up["user"]["id"].as_str().unwrap(), 1).await;
    let c = claims(&project(&app), now(&app), "ext-alice", json!({"email": "ALICE@example.com", "name": "Alice"}));
    let (status, body) = verify(&app, &sign_hs256(&secret, &c)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], signed_up["user"]["id"], "linked, not duplicated");
    assert_eq!(body["user"]["foreignId"], "ext-alice");
    assert_eq!(body["user"]["authMethods"], json!(["password", "external"]));
    assert_eq!(body["user"]["name"], "Alice");
    // The password still works, and so does the session from before the link.
    let (status, _) = app.post("/auth/sign-in", json!({"email": "alice@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        app.post("/auth/request-new-access-token", json!({"refreshToken": signed_up["refreshToken"]})).await;
    assert_eq!(status, StatusCode::OK);
    // And the next external sign-in finds the user by foreign id.
    let c = claims(&project(&app), now(&app), "ext-alice", json!({}));
    let (status, again) = verify(&app, &sign_hs256(&secret, &c)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["user"]["id"], signed_up["user"]["id"]);
}

#[tokio::test]
async fn linking_an_unverified_account_drops_its_password_and_sessions() {
    // Someone registers victim@ with a password of their choosing, then the real owner signs
    // in through the customer's SSO: the link must not hand the owner's identity to them.
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let squatter = app.sign_up("victim@example.com").await;
    let c = claims(&project(&app), now(&app), "sso-victim", json!({"email": "victim@example.com"}));
    let (status, body) = verify(&app, &sign_hs256(&secret, &c)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], squatter["user"]["id"]);
    assert_eq!(body["user"]["authMethods"], json!(["external"]));
    let password = app.post("/auth/sign-in", json!({"email": "victim@example.com", "password": "s3cur3P@ss"})).await;
    assert_error(&password, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    let old = app.post("/auth/request-new-access-token", json!({"refreshToken": squatter["refreshToken"]})).await;
    assert_error(&old, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
    // The owner's own session (from the link) works.
    let (status, _) = app.post("/auth/request-new-access-token", json!({"refreshToken": body["refreshToken"]})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_new_email_is_unverified_and_links_to_the_old_address_stop_working() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let secret = secret(&app).await;
    let p = project(&app);
    let (_, first) =
        verify(&app, &sign_hs256(&secret, &claims(&p, now(&app), "ext-9", json!({"email": "old@example.com"})))).await;
    let user_id = first["user"]["id"].as_str().unwrap().to_owned();
    verify_email_over_smtp(&app, &smtp, &user_id, 1).await;
    // A second verification link, mailed to the old address but never clicked.
    let (status, _) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!(status, StatusCode::CONFLICT, "already verified: no second link");

    // The address changes: the account is no longer verified.
    let (status, moved) =
        verify(&app, &sign_hs256(&secret, &claims(&p, now(&app), "ext-9", json!({"email": "new@example.com"})))).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["user"]["isVerified"], false);
    assert!(!user_by_foreign_id(&app, "ext-9").await.unwrap().is_verified);

    // A link sent now goes to the new address; one sent before the change (to the old
    // address) must not verify the new one.
    let (status, _) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!(status, StatusCode::OK);
    let to_old_address = token_of(&link_in(&smtp.wait_for(2, Duration::from_secs(15)).await[1].data));
    let (status, _) =
        verify(&app, &sign_hs256(&secret, &claims(&p, now(&app), "ext-9", json!({"email": "newer@example.com"}))))
            .await;
    assert_eq!(status, StatusCode::OK);
    let stale = app.post("/auth/verify-email", json!({ "token": to_old_address })).await;
    assert_error(&stale, StatusCode::BAD_REQUEST, "auth/invalid-or-expired-token");
    assert!(!user_by_foreign_id(&app, "ext-9").await.unwrap().is_verified);
}

#[tokio::test]
async fn a_user_linked_to_another_foreign_id_is_never_relinked() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let p = project(&app);
    let first = sign_hs256(&secret, &claims(&p, now(&app), "ext-1", json!({"email": "bob@example.com"})));
    let (status, body) = verify(&app, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second =
        sign_hs256(&secret, &claims(&p, now(&app), "ext-2", json!({"email": "bob@example.com", "name": "Eve"})));
    let refused = verify(&app, &second).await;
    assert_error(&refused, StatusCode::CONFLICT, "auth/foreign-id-conflict");
    let bob = user_by_foreign_id(&app, "ext-1").await.unwrap();
    assert_eq!(bob.email.as_deref(), Some("bob@example.com"));
    assert_eq!(bob.profile.name, None, "unchanged");
    assert!(user_by_foreign_id(&app, "ext-2").await.is_none(), "no second user");
}

#[tokio::test]
async fn foreign_id_match_wins_over_email_and_updates_it() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let p = project(&app);
    let (_, first) =
        verify(&app, &sign_hs256(&secret, &claims(&p, now(&app), "ext-9", json!({"email": "old@example.com"})))).await;
    let (status, second) =
        verify(&app, &sign_hs256(&secret, &claims(&p, now(&app), "ext-9", json!({"email": "new@example.com"})))).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["user"]["id"], first["user"]["id"]);
    assert_eq!(second["user"]["email"], "new@example.com");
    // Moving onto another user's email is a conflict, and changes nothing.
    app.sign_up("taken@example.com").await;
    let refused =
        verify(&app, &sign_hs256(&secret, &claims(&p, now(&app), "ext-9", json!({"email": "taken@example.com"}))))
            .await;
    assert_error(&refused, StatusCode::CONFLICT, "DUPLICATE_EMAIL");
    assert_eq!(user_by_foreign_id(&app, "ext-9").await.unwrap().email.as_deref(), Some("new@example.com"));
}

#[tokio::test]
async fn a_new_external_user_has_no_password() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let c = claims(&project(&app), now(&app), "ext-new", json!({"email": "carol@example.com"}));
    let (status, body) = verify(&app, &sign_hs256(&secret, &c)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["authMethods"], json!(["external"]));
    let refused = app.post("/auth/sign-in", json!({"email": "carol@example.com", "password": "s3cur3P@ss"})).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    // Signing up with that email is a duplicate, not a takeover.
    let (status, _) = app.post("/auth/sign-up", json!({"email": "carol@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn username_conflicts_are_409_and_create_nothing() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let (status, _) = app
        .post("/auth/sign-up", json!({"email": "dave@example.com", "password": "s3cur3P@ss", "username": "dave"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let c = claims(&project(&app), now(&app), "ext-dave", json!({"email": "other@example.com", "username": "Dave"}));
    let refused = verify(&app, &sign_hs256(&secret, &c)).await;
    assert_error(&refused, StatusCode::CONFLICT, "DUPLICATE_USERNAME");
    assert!(user_by_foreign_id(&app, "ext-dave").await.is_none());
    // Invalid profile data is a 400 naming the field.
    let c = claims(&project(&app), now(&app), "ext-dave", json!({"email": "not an email"}));
    let refused = verify(&app, &sign_hs256(&secret, &c)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "auth/invalid-body");
    assert_eq!(refused.1["field"], "email");
}

#[tokio::test]
async fn key_registration_refuses_private_keys_and_weak_or_symmetric_keys() {
    let app = TestApp::spawn().await;
    let external = &app.admin.external;
    let private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB\n-----END PRIVATE KEY-----\n";
    assert!(external.add_public_key_pem(app.project, private, None, None).await.is_err());
    let oct = json!({"kty": "oct", "k": "c2VjcmV0"}).to_string();
    assert!(external.add_public_key_jwk(app.project, &oct, None, None).await.is_err());
    let ed = ed25519_pair();
    let mut with_d = ed.public_jwk.clone();
    with_d["d"] = json!("AAAA");
    assert!(external.add_public_key_jwk(app.project, &with_d.to_string(), None, None).await.is_err());
    // A key is bound to its family: an Ed25519 key cannot be registered for RS256 or HS256.
    assert!(external.add_public_key_pem(app.project, &ed.public_pem, None, Some("RS256")).await.is_err());
    assert!(external.add_public_key_pem(app.project, &ed.public_pem, None, Some("HS256")).await.is_err());
    let weak = json!({"kty": "RSA", "n": external_support::b64(&[0xc5; 128]), "e": "AQAB"}).to_string();
    assert!(external.add_public_key_jwk(app.project, &weak, None, None).await.is_err(), "1024-bit RSA");
    assert!(external.public_keys(app.project).await.unwrap().is_empty());
    // Kids are unique per project.
    external.add_public_key_pem(app.project, &ed.public_pem, Some("k"), None).await.unwrap();
    assert!(external.add_public_key_jwk(app.project, &ed.public_jwk.to_string(), Some("k"), None).await.is_err());
}

#[tokio::test]
async fn an_rs256_token_cannot_use_an_ed25519_key_and_vice_versa() {
    let app = TestApp::spawn().await;
    let ed = ed25519_pair();
    let ec = p256_pair();
    let external = &app.admin.external;
    external.add_public_key_pem(app.project, &ed.public_pem, Some("ed"), None).await.unwrap();
    external.add_public_key_pem(app.project, &ec.public_pem, Some("ec"), None).await.unwrap();
    let c = claims(&project(&app), now(&app), "x", json!({}));
    // The ES256 key signs, but the token claims the Ed25519 key's kid.
    let refused = verify(&app, &sign(Algorithm::ES256, Some("ed"), &c, &ec.encoding)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "auth/invalid-token");
    assert!(user_by_foreign_id(&app, "x").await.is_none());
}

/// Racing first sign-ins: one user per foreign id, and an email is linked to one foreign id only.
#[tokio::test]
async fn concurrent_first_sign_ins_create_one_user() {
    let app = TestApp::spawn().await;
    let secret = secret(&app).await;
    let p = project(&app);
    let send = |jwt: String| {
        let request =
            app.http.post(app.url(app.project, ROUTE)).bearer_auth(&app.api_key).json(&json!({"userJwt": jwt}));
        tokio::spawn(async move { common::read(request.send().await.expect("request")).await })
    };
    let same_sub: Vec<_> = (0..8)
        .map(|i| send(sign_hs256(&secret, &claims(&p, now(&app), "racer", json!({"name": format!("n{i}")})))))
        .collect();
    let mut ids = std::collections::HashSet::new();
    for task in same_sub {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.insert(body["user"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "one user for one foreign id");

    let same_email: Vec<_> = (0..8)
        .map(|i| {
            send(sign_hs256(&secret, &claims(&p, now(&app), &format!("sub-{i}"), json!({"email": "race@example.com"}))))
        })
        .collect();
    let mut statuses = Vec::new();
    for task in same_email {
        let (status, body) = task.await.unwrap();
        if status != StatusCode::OK {
            assert_eq!(body["code"], "auth/foreign-id-conflict", "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
}
