//! Microseconds per minted token pair (EdDSA access token + HS256 refresh token), the way
//! `mint_pair` signed before issue 13 (jsonwebtoken re-reads the PKCS#8 key and re-derives the
//! public key for every signature; optionally also unsealing the key per token) and now (the
//! key parsed once, held in the project's cached key ring). One thread, no server.
//!
//! cargo run --release -p latchkey-core --example token_signing -- [TOKENS]

use std::hint::black_box;
use std::time::Instant;

use chrono::Utc;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latchkey_core::crypto::MasterKey;
use latchkey_core::domain::{ProjectId, Role, SessionId, UserId};
use latchkey_core::tokens::{AccessClaims, KeyRing, KeyState, PairSpec, SigningKey, mint_pair};

fn main() {
    let tokens: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let (master, _) = MasterKey::generate();
    let project = ProjectId::generate();
    let now = Utc::now();
    let spec = PairSpec {
        issuer: "http://127.0.0.1:8080",
        project,
        user: UserId::generate(),
        role: Role::Visitor,
        session: SessionId::generate(),
        generation: 1,
        now,
        access_ttl_secs: 900,
        refresh_ttl_secs: 30 * 86_400,
    };
    let access = AccessClaims {
        sub: spec.user,
        project_id: project,
        sid: spec.session,
        role: "visitor".into(),
        iss: spec.issuer.into(),
        aud: project.to_string(),
        iat: now.timestamp(),
        exp: now.timestamp() + 900,
    };

    // The same kind of key, as the old path held it: a PKCS#8 document (and sealed).
    let secret = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let der = secret.to_pkcs8_der().expect("pkcs8");
    let context = "latchkey/signing-key/bench";
    let sealed = master.encrypt(der.as_bytes(), context).expect("seal");
    let refresh_secret = master.derive_key(&format!("refresh-token/{project}"));
    let refresh = |n: u32| {
        let claims = serde_json::json!({ "sub": spec.user, "jti": n, "aud": "refresh" });
        let key = EncodingKey::from_secret(secrecy::ExposeSecret::expose_secret(&refresh_secret));
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).expect("refresh")
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("bench".into());

    let before = time(tokens, |n| {
        let key = EncodingKey::from_ed_der(der.as_bytes());
        (jsonwebtoken::encode(&header, &access, &key).expect("sign"), refresh(n))
    });
    let unsealing = time(tokens, |n| {
        let der = master.decrypt(&sealed, context).expect("unseal");
        let key = EncodingKey::from_ed_der(&der);
        (jsonwebtoken::encode(&header, &access, &key).expect("sign"), refresh(n))
    });
    let (key, _) = SigningKey::generate(project, &master, now).expect("key");
    let ring = KeyRing::new(project, vec![(key, KeyState::Active)], &master).expect("ring");
    let after = time(tokens, |_| mint_pair(&ring, &spec).expect("mint"));

    println!("{tokens} token pairs each, one thread");
    println!("before (jsonwebtoken parses the PKCS#8 key per token): {before:.1} us/pair");
    println!("before, also unsealing the key per token:               {unsealing:.1} us/pair");
    println!("after  (parsed key cached in the key ring):             {after:.1} us/pair");
}

/// Microseconds per call of `f`, after a short warm-up.
fn time<T>(n: u32, mut f: impl FnMut(u32) -> T) -> f64 {
    for i in 0..n / 10 {
        black_box(f(i));
    }
    let start = Instant::now();
    for i in 0..n {
        black_box(f(i));
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}
