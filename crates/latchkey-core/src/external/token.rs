//! Reading and checking an external user JWT.
//!
//! Order of checks: the header must parse to a known algorithm (`none` and unknown names do
//! not); `crit` extensions are refused; the unverified `iss` is read only to answer "another
//! project's token" distinctly; the key is chosen by `kid` from the project's own keys (never
//! from `jku`/`jwk`/`x5u` in the header) and must accept the header's `alg`; then the signature;
//! then the claims against the injectable clock with at most [`MAX_SKEW_SECS`] of skew.

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Header, Validation};
use serde_json::{Map, Value};

use super::keys::VerifierKey;
use crate::domain::ProjectId;
use crate::{CoreError, Result};

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const MAX_SKEW_SECS: i64 = 60;
/// Upper bound on `sub` (the foreign id) and `jti`.
pub const MAX_ID_LEN: usize = 255;

fn invalid(reason: &'static str) -> CoreError {
    CoreError::InvalidExternalToken(reason)
}

/// A token whose header and (unverified) claims parsed.
/// `Debug` shows the header only: the token itself is a bearer credential.
pub struct ParsedToken<'a> {
    pub token: &'a str,
    pub header: Header,
}

impl std::fmt::Debug for ParsedToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedToken").field("header", &self.header).finish_non_exhaustive()
    }
}

/// Parses the header and catches another project's token.
pub fn parse(token: &str, project: ProjectId) -> Result<ParsedToken<'_>> {
    let token = token.trim();
    if token.len() > 16 * 1024 || token.split('.').count() != 3 {
        return Err(invalid("not a signed JWT"));
    }
    // `alg: none` and unknown algorithms fail here: the header does not deserialize.
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed header or unsupported alg"))?;
    if header.crit.is_some() {
        return Err(invalid("critical header extensions are not supported"));
    }
    let claims: Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| invalid("malformed payload"))?;
    if let Some(iss) = claims.get("iss").and_then(Value::as_str)
        && let Ok(other) = iss.parse::<ProjectId>()
        && other != project
    {
        return Err(CoreError::ExternalProjectMismatch);
    }
    Ok(ParsedToken { token, header })
}

/// What the keys say about a token's `kid`/`alg`.
pub enum Selection<'k> {
    /// Keys to try, in order (one when the token names a `kid`).
    Candidates(Vec<&'k VerifierKey>),
    /// The token names a `kid` none of these keys has.
    UnknownKid,
    /// No `kid`, and no key accepts the token's `alg`.
    NoKeyForAlg,
}

/// Chooses keys for `header`. A named `kid` must exist and accept the header's `alg`.
pub fn select<'k>(header: &Header, keys: &'k [VerifierKey]) -> Result<Selection<'k>> {
    match header.kid.as_deref() {
        Some(kid) => match keys.iter().find(|k| k.kid == kid) {
            Some(key) if key.accepts(header.alg) => Ok(Selection::Candidates(vec![key])),
            Some(_) => Err(invalid("alg does not match the key selected by kid")),
            None => Ok(Selection::UnknownKid),
        },
        None => {
            let matching: Vec<&VerifierKey> = keys.iter().filter(|k| k.accepts(header.alg)).collect();
            if matching.is_empty() { Ok(Selection::NoKeyForAlg) } else { Ok(Selection::Candidates(matching)) }
        }
    }
}

/// The verified identity and profile of an external user.
#[derive(Debug, Clone)]
pub struct VerifiedClaims {
    pub foreign_id: String,
    pub jti: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub user_data: Option<Value>,
    /// The kid of the key that verified the signature (safe to log).
    pub kid: String,
}

/// Checks the signature with the first candidate that verifies, then the claims.
pub fn verify(
    parsed: &ParsedToken<'_>,
    candidates: &[&VerifierKey],
    project: ProjectId,
    now: DateTime<Utc>,
    max_lifetime_secs: i64,
) -> Result<VerifiedClaims> {
    let alg = parsed.header.alg;
    let mut validation = Validation::new(alg);
    // Time and audience claims are checked below against the injectable clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut verified = None;
    for key in candidates {
        // Belt and braces: `select` already filtered, and jsonwebtoken itself refuses a key
        // whose family differs from the algorithm.
        if !key.accepts(alg) {
            continue;
        }
        if let Ok(data) = jsonwebtoken::decode::<Map<String, Value>>(parsed.token, &key.decoding, &validation) {
            verified = Some((data.claims, key.kid.clone()));
            break;
        }
    }
    let (claims, kid) = verified.ok_or_else(|| invalid("signature does not verify"))?;
    check_claims(claims, kid, project, now, max_lifetime_secs)
}

fn check_claims(
    mut claims: Map<String, Value>,
    kid: String,
    project: ProjectId,
    now: DateTime<Utc>,
    max_lifetime_secs: i64,
) -> Result<VerifiedClaims> {
    // A project id in any UUID spelling (e.g. upper case) names the project.
    let is_project = |value: &Value| value.as_str().is_some_and(|text| text.parse::<ProjectId>() == Ok(project));
    match claims.get("iss") {
        Some(iss) if is_project(iss) => {}
        Some(_) => return Err(invalid("iss must be the project id")),
        None => return Err(invalid("iss is required")),
    }
    match claims.get("aud") {
        None => {}
        Some(aud) if is_project(aud) => {}
        Some(Value::Array(list)) if !list.is_empty() && list.iter().all(is_project) => {}
        Some(_) => return Err(invalid("aud must be the project id")),
    }
    let now_secs = now.timestamp();
    let exp = numeric(&claims, "exp")?.ok_or_else(|| invalid("exp is required"))?;
    if now_secs >= exp.saturating_add(MAX_SKEW_SECS) {
        return Err(invalid("the token has expired"));
    }
    let iat = numeric(&claims, "iat")?;
    if let Some(iat) = iat {
        if iat > now_secs.saturating_add(MAX_SKEW_SECS) {
            return Err(invalid("iat is in the future"));
        }
        if exp.saturating_sub(iat) > max_lifetime_secs {
            return Err(invalid("the token lives longer than this project allows"));
        }
    }
    if exp.saturating_sub(now_secs) > max_lifetime_secs.saturating_add(MAX_SKEW_SECS) {
        return Err(invalid("the token lives longer than this project allows"));
    }
    if let Some(nbf) = numeric(&claims, "nbf")?
        && nbf > now_secs.saturating_add(MAX_SKEW_SECS)
    {
        return Err(invalid("the token is not valid yet (nbf)"));
    }
    let foreign_id = match claims.get("sub") {
        Some(Value::String(sub)) if valid_id(sub) => sub.clone(),
        Some(_) => return Err(invalid("sub must be a non-empty string of at most 255 characters")),
        None => return Err(invalid("sub is required")),
    };
    let jti = match claims.get("jti") {
        None | Some(Value::Null) => None,
        Some(Value::String(jti)) if valid_id(jti) => Some(jti.clone()),
        Some(_) => return Err(invalid("jti must be a non-empty string of at most 255 characters")),
    };
    // Replays must stay refused for as long as the token could be accepted.
    let expires_at = Utc
        .timestamp_opt(exp.saturating_add(MAX_SKEW_SECS), 0)
        .single()
        .ok_or_else(|| invalid("exp is out of range"))?;
    let user_data = claims.remove("userData").filter(|v| !v.is_null());
    Ok(VerifiedClaims { foreign_id, jti, expires_at, user_data, kid })
}

fn valid_id(text: &str) -> bool {
    !text.trim().is_empty() && text.len() <= MAX_ID_LEN && !text.chars().any(char::is_control)
}

/// A NumericDate: integer seconds (a float with a fraction is truncated; anything else refused).
fn numeric(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid("a time claim is not a number")),
        Some(_) => Err(invalid("a time claim is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"lkx_unit-test-secret-unit-test-secret";

    fn check(project: ProjectId, claims: Value, now: DateTime<Utc>) -> Result<VerifiedClaims> {
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET))
            .expect("sign");
        let keys = [VerifierKey::hmac("hs-1".into(), SECRET)];
        let parsed = parse(&token, project)?;
        let Selection::Candidates(candidates) = select(&parsed.header, &keys)? else { panic!("no candidates") };
        verify(&parsed, &candidates, project, now, 600)
    }

    fn base(project: ProjectId, now: i64) -> Value {
        json!({ "iss": project.to_string(), "sub": "s", "iat": now, "exp": now + 600 })
    }

    #[test]
    fn time_claims_allow_at_most_sixty_seconds_of_skew() {
        let project = ProjectId::generate();
        let now = Utc::now();
        let t = now.timestamp();
        assert!(check(project, base(project, t), now).is_ok(), "exactly the maximum lifetime");
        let mut c = base(project, t);
        c["exp"] = json!(t + 601);
        assert!(check(project, c, now).is_err(), "one second over the maximum");
        let mut c = base(project, t - 659);
        c["exp"] = json!(t - 59);
        assert!(check(project, c, now).is_ok(), "expired 59 s ago is within skew");
        let mut c = base(project, t - 660);
        c["exp"] = json!(t - 60);
        assert!(check(project, c, now).is_err(), "expired 60 s ago is not");
        let mut c = base(project, t);
        c["nbf"] = json!(t + 60);
        assert!(check(project, c, now).is_ok());
        let mut c = base(project, t);
        c["nbf"] = json!(t + 61);
        assert!(check(project, c, now).is_err());
        let mut c = base(project, t + 61);
        c["exp"] = json!(t + 300);
        assert!(check(project, c, now).is_err(), "iat too far in the future");
        let replay_until = check(project, base(project, t), now).unwrap().expires_at;
        assert_eq!(replay_until, now.with_nanosecond0() + Duration::seconds(660));
    }

    #[test]
    fn audience_and_subject_rules() {
        let project = ProjectId::generate();
        let now = Utc::now();
        let t = now.timestamp();
        let with = |k: &str, v: Value| {
            let mut c = base(project, t);
            c[k] = v;
            c
        };
        assert!(check(project, with("aud", json!(project.to_string())), now).is_ok());
        assert!(check(project, with("aud", json!([project.to_string()])), now).is_ok());
        assert!(check(project, with("aud", json!([project.to_string(), "other"])), now).is_err());
        assert!(check(project, with("aud", json!([])), now).is_err());
        assert!(check(project, with("iss", json!(project.to_string().to_uppercase())), now).is_ok());
        assert!(check(project, with("sub", json!("")), now).is_err());
        assert!(check(project, with("sub", json!(42)), now).is_err());
        assert!(check(project, with("sub", json!("x".repeat(256))), now).is_err());
        assert!(check(project, with("exp", json!("soon")), now).is_err());
        assert!(matches!(
            check(project, with("iss", json!(ProjectId::generate().to_string())), now),
            Err(CoreError::ExternalProjectMismatch)
        ));
    }

    trait Truncate {
        fn with_nanosecond0(self) -> Self;
    }

    impl Truncate for DateTime<Utc> {
        fn with_nanosecond0(self) -> Self {
            Utc.timestamp_opt(self.timestamp(), 0).single().expect("in range")
        }
    }
}
