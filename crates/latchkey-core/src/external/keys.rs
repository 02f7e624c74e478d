//! Keys that verify external user JWTs.
//!
//! Every key is bound to what it may verify: an HMAC secret verifies HS256/384/512 and nothing
//! else; a public key verifies exactly the one algorithm it was registered with. Keys are parsed
//! into `jsonwebtoken` [`DecodingKey`]s of the matching family, so an RSA public key can never
//! be fed to HMAC (the classic RS/HS confusion), whatever a token's header says.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::{CoreError, Result};

/// Where a verifying key came from (for logs and listing; never the key itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Secret,
    Registered,
    Jwks,
}

/// A key ready to verify tokens.
#[derive(Clone)]
pub struct VerifierKey {
    pub kid: String,
    /// The algorithms this key accepts (one for public keys, the HS family for secrets).
    pub algorithms: Vec<Algorithm>,
    pub source: KeySource,
    pub(crate) decoding: DecodingKey,
}

impl std::fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

pub const HMAC_ALGORITHMS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

impl VerifierKey {
    /// An HMAC signing secret: its UTF-8 bytes are the HMAC key, as JWT libraries expect.
    pub fn hmac(kid: String, secret: &[u8]) -> Self {
        Self {
            kid,
            algorithms: HMAC_ALGORITHMS.to_vec(),
            source: KeySource::Secret,
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A public key from its stored public JWK and pinned algorithm.
    pub fn public(kid: String, alg: &str, jwk_json: &str, source: KeySource) -> Result<Self> {
        let parsed = parse_public_jwk(jwk_json, Some(alg))?;
        Ok(Self { kid, algorithms: vec![parsed.alg], source, decoding: parsed.decoding })
    }

    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }
}

/// A validated public key: its canonical public JWK (with `kid` and `alg`), ready to store.
#[derive(Clone)]
pub struct ParsedPublicKey {
    pub kid: String,
    pub alg: Algorithm,
    /// Canonical public JWK JSON (only public parameters).
    pub jwk: String,
    decoding: DecodingKey,
}

impl std::fmt::Debug for ParsedPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedPublicKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

/// RSA moduli shorter than this are refused (NIST: 2048 bits minimum).
pub const MIN_RSA_BITS: usize = 2048;

const PRIVATE_JWK_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

fn bad_key(message: impl Into<String>) -> CoreError {
    CoreError::invalid("key", message)
}

/// Parses a public key in PEM (`PUBLIC KEY` SPKI or `RSA PUBLIC KEY` PKCS#1). Private keys are
/// refused outright: Latchkey never needs, and must never hold, the customer's private key.
pub fn parse_public_pem(pem: &str, kid: Option<&str>, alg: Option<&str>) -> Result<ParsedPublicKey> {
    let label = pem
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("-----BEGIN ").and_then(|rest| rest.strip_suffix("-----")))
        .ok_or_else(|| bad_key("not a PEM file (no -----BEGIN line)"))?;
    if label.contains("PRIVATE") {
        return Err(bad_key("this is a PRIVATE key: register the public key only (never share the private key)"));
    }
    if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
        return Err(bad_key(format!("unsupported PEM type {label:?}; expected PUBLIC KEY")));
    }
    let bytes = pem.as_bytes();
    let decoding = DecodingKey::from_rsa_pem(bytes)
        .or_else(|_| DecodingKey::from_ec_pem(bytes))
        .or_else(|_| DecodingKey::from_ed_pem(bytes))
        .map_err(|_| bad_key("the PEM is not an RSA, P-256/P-384 or Ed25519 public key"))?;
    let jwk = Jwk::from_decoding_key(&decoding, None).map_err(|_| bad_key("unsupported public key"))?;
    let value = serde_json::to_value(&jwk).map_err(|e| CoreError::Internal(e.to_string()))?;
    finish(value, kid, alg)
}

/// Parses a public JWK (JSON text). Symmetric (`oct`) keys and any private member are refused.
/// The key id is `kid` when given, else the JWK's own `kid`, else its thumbprint: tokens are
/// signed with the JWK's kid, so ignoring it would make every one of them unknown.
pub fn parse_public_jwk_input(json: &str, kid: Option<&str>, alg: Option<&str>) -> Result<ParsedPublicKey> {
    let value: Value = serde_json::from_str(json).map_err(|_| bad_key("the JWK is not valid JSON"))?;
    let own_kid = value.get("kid").and_then(Value::as_str).map(str::to_owned);
    finish(value, kid.or(own_kid.as_deref()), alg)
}

fn parse_public_jwk(json: &str, alg: Option<&str>) -> Result<ParsedPublicKey> {
    let value: Value = serde_json::from_str(json).map_err(|_| bad_key("the JWK is not valid JSON"))?;
    let kid = value.get("kid").and_then(Value::as_str).map(str::to_owned);
    finish(value, kid.as_deref(), alg)
}

/// Checks a JWK value, pins its algorithm, and produces the canonical public form.
pub(crate) fn finish(value: Value, kid: Option<&str>, alg: Option<&str>) -> Result<ParsedPublicKey> {
    let object = value.as_object().ok_or_else(|| bad_key("the JWK must be a JSON object"))?;
    if PRIVATE_JWK_MEMBERS.iter().any(|m| object.contains_key(*m)) {
        return Err(bad_key("the JWK contains private or symmetric key material: register the public key only"));
    }
    let jwk: Jwk = serde_json::from_value(value.clone()).map_err(|_| bad_key("unsupported JWK"))?;
    let jwk_alg = object.get("alg").and_then(Value::as_str);
    let (alg, canonical) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            check_rsa(&rsa.n, &rsa.e)?;
            let alg = pin(
                alg.or(jwk_alg),
                Algorithm::RS256,
                &[
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ],
            )?;
            (alg, serde_json::json!({ "kty": "RSA", "n": rsa.n, "e": rsa.e }))
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let expected = match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => return Err(bad_key("only P-256 (ES256) and P-384 (ES384) EC keys are supported")),
            };
            check_ec_point(expected, &ec.x, &ec.y)?;
            let alg = pin(alg.or(jwk_alg), expected, &[expected])?;
            let crv = if expected == Algorithm::ES256 { "P-256" } else { "P-384" };
            (alg, serde_json::json!({ "kty": "EC", "crv": crv, "x": ec.x, "y": ec.y }))
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            if okp.curve != EllipticCurve::Ed25519 {
                return Err(bad_key("only Ed25519 OKP keys are supported"));
            }
            check_ed25519(&okp.x)?;
            let alg = pin(alg.or(jwk_alg), Algorithm::EdDSA, &[Algorithm::EdDSA])?;
            (alg, serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": okp.x }))
        }
        AlgorithmParameters::OctetKey(_) => {
            return Err(bad_key("symmetric keys are not registered here: use `latchkey signing-secret`"));
        }
        _ => return Err(bad_key("unsupported key type")),
    };
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| bad_key("the key parameters are invalid"))?;
    let mut canonical = canonical;
    let public_jwk: Jwk = serde_json::from_value(canonical.clone()).map_err(|_| bad_key("unsupported JWK"))?;
    let kid = match kid.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => k.to_owned(),
        None => public_jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| bad_key("cannot compute key thumbprint"))?,
    };
    check_kid(&kid)?;
    canonical["kid"] = Value::String(kid.clone());
    canonical["alg"] = Value::String(alg_name(alg).to_owned());
    canonical["use"] = Value::String("sig".to_owned());
    Ok(ParsedPublicKey { kid, alg, jwk: canonical.to_string(), decoding })
}

impl ParsedPublicKey {
    pub fn into_verifier(self, source: KeySource) -> VerifierKey {
        VerifierKey { kid: self.kid, algorithms: vec![self.alg], source, decoding: self.decoding }
    }
}

pub fn check_kid(kid: &str) -> Result<()> {
    if kid.is_empty() || kid.len() > 200 || kid.chars().any(char::is_control) {
        return Err(bad_key("kid must be 1 to 200 printable characters"));
    }
    Ok(())
}

/// Picks the algorithm: the one asked for (must be in `allowed`), else the family default.
fn pin(requested: Option<&str>, default: Algorithm, allowed: &[Algorithm]) -> Result<Algorithm> {
    let Some(name) = requested else { return Ok(default) };
    let alg: Algorithm = name.parse().map_err(|_| bad_key(format!("unknown algorithm {name:?}")))?;
    if !allowed.contains(&alg) {
        return Err(bad_key(format!("algorithm {name} does not match this key type")));
    }
    Ok(alg)
}

fn base64url(text: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| bad_key("the key parameters are not base64url"))
}

// Each check below builds the key the way verification will, so a key that registers is a
// key that can verify: nothing is accepted now only to fail every token later.

/// Exact modulus size (at least 2048 bits) and what the RSA verifier accepts (at most 4096
/// bits, a sane public exponent).
fn check_rsa(n: &str, e: &str) -> Result<()> {
    let modulus = rsa::BigUint::from_bytes_be(&base64url(n)?);
    if modulus.bits() < MIN_RSA_BITS {
        return Err(bad_key(format!("RSA keys must be at least {MIN_RSA_BITS} bits")));
    }
    let exponent = rsa::BigUint::from_bytes_be(&base64url(e)?);
    rsa::RsaPublicKey::new(modulus, exponent)
        .map(|_| ())
        .map_err(|e| bad_key(format!("the RSA key cannot be used: {e}")))
}

/// The point must lie on the named curve.
fn check_ec_point(alg: Algorithm, x: &str, y: &str) -> Result<()> {
    let mut sec1 = vec![0x04];
    sec1.extend(base64url(x)?);
    sec1.extend(base64url(y)?);
    let on_curve = match alg {
        Algorithm::ES256 => p256::PublicKey::from_sec1_bytes(&sec1).is_ok(),
        _ => p384::PublicKey::from_sec1_bytes(&sec1).is_ok(),
    };
    if on_curve { Ok(()) } else { Err(bad_key("the EC point is not on the curve")) }
}

/// A valid point that is not of small order (weak keys admit forged signatures under
/// non-strict verification).
fn check_ed25519(x: &str) -> Result<()> {
    let bytes: [u8; 32] = base64url(x)?.try_into().map_err(|_| bad_key("an Ed25519 key is 32 bytes"))?;
    match ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
        Ok(key) if !key.is_weak() => Ok(()),
        _ => Err(bad_key("the Ed25519 key is invalid or weak")),
    }
}

#[cfg(test)]
mod key_material_tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn rsa_size_is_exact_and_bounded_by_what_verifies() {
        let e = b64(&[1, 0, 1]);
        // 2041 bits: 256 bytes whose top byte is 0x01 (would pass a bytes*8 check).
        let mut short = vec![0xffu8; 256];
        short[0] = 0x01;
        assert!(check_rsa(&b64(&short), &e).is_err());
        // 8192 bits: registers nowhere, because the verifier refuses it.
        assert!(check_rsa(&b64(&[0xff; 1024]), &e).is_err());
        assert!(check_rsa(&b64(&[0xff; 256]), &e).is_ok());
        assert!(check_rsa(&b64(&[0xff; 256]), &b64(&[1])).is_err(), "exponent 1 is refused");
    }

    #[test]
    fn a_jwk_keeps_its_own_kid_unless_one_is_given() {
        let x = b64(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes());
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"their-key-1"}}"#);
        assert_eq!(parse_public_jwk_input(&jwk, None, None).unwrap().kid, "their-key-1");
        assert_eq!(parse_public_jwk_input(&jwk, Some("mine"), None).unwrap().kid, "mine", "--kid wins");
        let bare = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#);
        let thumbprint = parse_public_jwk_input(&bare, None, None).unwrap().kid;
        assert_eq!(thumbprint.len(), 43, "no kid anywhere: the RFC 7638 thumbprint, {thumbprint}");
    }

    #[test]
    fn ec_points_must_be_on_the_curve() {
        assert!(check_ec_point(Algorithm::ES256, &b64(&[1; 32]), &b64(&[2; 32])).is_err());
        let real = p256::SecretKey::from_slice(&[7; 32]).unwrap().public_key();
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&real, false);
        assert!(check_ec_point(Algorithm::ES256, &b64(point.x().unwrap()), &b64(point.y().unwrap())).is_ok());
    }

    #[test]
    fn weak_ed25519_keys_are_refused() {
        // The identity point has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(check_ed25519(&b64(&identity)).is_err());
        let real = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
        assert!(check_ed25519(&b64(real.as_bytes())).is_ok());
    }
}
