//! Helpers for external-user tests: key pairs generated in the test and tokens signed with the
//! stock `jsonwebtoken` crate, exactly as a customer's backend would.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand_core::OsRng;
use serde_json::{Value, json};

/// PEM armour for DER bytes.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("base64 is ASCII")).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A customer key pair: how to sign, and the public half in PEM and JWK form.
pub struct KeyPair {
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub public_pem: String,
    pub public_jwk: Value,
    /// The private key's PEM/DER text, to search logs for.
    pub private_marker: String,
}

pub fn rsa_pair() -> KeyPair {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;
    use rsa::traits::PublicKeyParts;
    let private = rsa::RsaPrivateKey::new(&mut OsRng, 2048).expect("rsa keygen");
    let public = private.to_public_key();
    let der = private.to_pkcs1_der().expect("pkcs1");
    let spki = public.to_public_key_der().expect("spki");
    KeyPair {
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        public_pem: pem("PUBLIC KEY", spki.as_bytes()),
        public_jwk: json!({"kty": "RSA", "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be())}),
        private_marker: b64(&der.as_bytes()[..48]),
    }
}

pub fn p256_pair() -> KeyPair {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let secret = p256::SecretKey::random(&mut OsRng);
    let public = secret.public_key();
    let der = secret.to_pkcs8_der().expect("pkcs8");
    let point = public.to_encoded_point(false);
    KeyPair {
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(der.as_bytes()),
        public_pem: pem("PUBLIC KEY", public.to_public_key_der().expect("spki").as_bytes()),
        public_jwk: json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")),
        }),
        private_marker: b64(&secret.to_bytes()),
    }
}

pub fn ed25519_pair() -> KeyPair {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let secret = ed25519_dalek::SigningKey::generate(&mut OsRng);
    let der = secret.to_pkcs8_der().expect("pkcs8");
    let public = secret.verifying_key();
    KeyPair {
        alg: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(der.as_bytes()),
        public_pem: pem("PUBLIC KEY", public.to_public_key_der().expect("spki").as_bytes()),
        public_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": b64(public.as_bytes())}),
        private_marker: b64(&secret.to_bytes()),
    }
}

/// Signs `claims` with `key` and `alg`, with an optional `kid` header.
pub fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

pub fn sign_hs256(secret: &str, claims: &Value) -> String {
    sign(Algorithm::HS256, None, claims, &EncodingKey::from_secret(secret.as_bytes()))
}

/// Standard claims for `project` at `now` (unix seconds), living 5 minutes.
pub fn claims(project: &str, now: i64, sub: &str, user_data: Value) -> Value {
    json!({ "iss": project, "sub": sub, "iat": now, "exp": now + 300, "userData": user_data })
}

/// A token with `alg: none` and an empty signature.
pub fn unsigned(claims: &Value) -> String {
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{}.", b64(claims.to_string().as_bytes()))
}

/// `token` with its payload replaced by `claims` (signature kept).
pub fn tamper(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64(claims.to_string().as_bytes()), parts[2])
}
