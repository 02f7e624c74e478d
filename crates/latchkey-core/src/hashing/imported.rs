//! Password hashes imported from other auth systems (issue 11).
//!
//! They are stored exactly as given and verified with the RustCrypto hashers (argon2, bcrypt,
//! scrypt, pbkdf2 over the `password-hash` traits); the first successful sign-in replaces them
//! with the server's Argon2id. The only composition written here is Firebase's documented
//! modified scrypt: scrypt(password, salt || separator), then AES-256-CTR (zero IV) of the
//! project's signer key under the first 32 derived bytes, compared with the stored hash.

use std::str::FromStr;

use aes::cipher::{KeyIvInit, StreamCipher};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{Error as PhcError, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use subtle::ConstantTimeEq;

use crate::{CoreError, Result};

/// The formats accepted at import (docs/MIGRATING.md lists where each comes from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportedHashFormat {
    Argon2,
    Bcrypt,
    Scrypt,
    Pbkdf2Sha256,
    Pbkdf2Sha512,
    DjangoPbkdf2Sha256,
    FirebaseScrypt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedHash {
    pub format: ImportedHashFormat,
    /// below the floor (bcrypt cost < 10, PBKDF2 < 100_000 iterations, scrypt log_n < 15,
    /// Argon2 below OWASP's smallest memory x passes): accepted, counted, upgraded at first sign-in
    pub below_floor: bool,
}

/// The stored prefix of a Firebase hash; the rest is `<salt_b64>$<hash_b64>`.
const FIREBASE_PREFIX: &str = "$firebase-scrypt$";

// Floors: weaker hashes are still accepted (users must be able to sign in) but reported.
const BCRYPT_FLOOR: u32 = 10;
const PBKDF2_FLOOR: u32 = 100_000;
const SCRYPT_LOG_N_FLOOR: u8 = 15;
/// OWASP's smallest Argon2 configurations (7 MiB x 5 passes .. 46 MiB x 1) all cost about this.
const ARGON2_MEMORY_PASSES_FLOOR: u64 = 7 * 1024 * 5;

// Ceilings: a stored hash is work the server does on every sign-in attempt, so an imported
// one may not ask for more than a sane deployment would (a hostile file must not turn each
// sign-in into minutes of CPU or gigabytes of memory).
const BCRYPT_MAX_COST: u32 = 16;
const PBKDF2_MAX_ROUNDS: u32 = 10_000_000;
const MAX_WORK_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
const ARGON2_MAX_PASSES: u32 = 16;
const MAX_PARALLELISM: u32 = 16;

/// Parses and checks an imported hash: CoreError::InvalidInput { field: "passwordHash", .. } when it is not one of the formats.
pub fn inspect(hash: &str) -> Result<ImportedHash> {
    Parsed::parse(hash).map(|parsed| parsed.summary())
}

/// The stored form of a Firebase hash and salt (both base64): `$firebase-scrypt$<salt>$<hash>`.
pub fn firebase_stored_form(hash_b64: &str, salt_b64: &str) -> Result<String> {
    let salt = decode_b64(salt_b64.trim(), "passwordSalt is not base64")
        .map_err(|e| CoreError::invalid("passwordSalt", e.to_string()))?;
    let hash = decode_b64(hash_b64.trim(), "passwordHash is not base64")?;
    if salt.is_empty() || hash.is_empty() {
        return Err(invalid("a Firebase hash needs both passwordHash and passwordSalt"));
    }
    Ok(format!("{FIREBASE_PREFIX}{}${}", STANDARD.encode(salt), STANDARD.encode(hash)))
}

/// A project's Firebase hash parameters (Firebase console: Users > Password hash parameters).
#[derive(Clone)]
pub struct FirebaseScryptParams {
    pub signer_key: Vec<u8>,
    pub salt_separator: Vec<u8>,
    pub rounds: u32,
    pub mem_cost: u32,
}

impl std::fmt::Debug for FirebaseScryptParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signer key is a secret: never in logs.
        f.debug_struct("FirebaseScryptParams")
            .field("rounds", &self.rounds)
            .field("mem_cost", &self.mem_cost)
            .finish_non_exhaustive()
    }
}

impl FirebaseScryptParams {
    /// Checks the parameters as Firebase documents them (rounds 1..=8, memory cost 1..=14).
    pub fn new(signer_key: Vec<u8>, salt_separator: Vec<u8>, rounds: u32, mem_cost: u32) -> Result<Self> {
        if signer_key.is_empty() {
            return Err(CoreError::invalid("firebaseSignerKey", "the signer key is empty"));
        }
        if !(1..=8).contains(&rounds) {
            return Err(CoreError::invalid("firebaseRounds", "rounds must be 1..=8"));
        }
        if !(1..=14).contains(&mem_cost) {
            return Err(CoreError::invalid("firebaseMemCost", "memory cost must be 1..=14"));
        }
        let params = Self { signer_key, salt_separator, rounds, mem_cost };
        params.scrypt_params()?;
        Ok(params)
    }

    /// [`Self::new`] from the base64 text the Firebase console shows.
    pub fn from_base64(signer_key: &str, salt_separator: &str, rounds: u32, mem_cost: u32) -> Result<Self> {
        let signer_key = STANDARD
            .decode(signer_key.trim())
            .map_err(|_| CoreError::invalid("firebaseSignerKey", "the signer key is not base64"))?;
        let salt_separator = STANDARD
            .decode(salt_separator.trim())
            .map_err(|_| CoreError::invalid("firebaseSaltSeparator", "the salt separator is not base64"))?;
        Self::new(signer_key, salt_separator, rounds, mem_cost)
    }

    fn scrypt_params(&self) -> Result<scrypt::Params> {
        let log_n = u8::try_from(self.mem_cost).map_err(|_| CoreError::invalid("firebaseMemCost", "too large"))?;
        scrypt::Params::new(log_n, self.rounds, 1)
            .map_err(|_| CoreError::invalid("firebaseMemCost", "invalid Firebase scrypt parameters"))
    }
}

/// Verifies `password` against an imported (non-Argon2) hash. `firebase` is the project's
/// parameters, needed only for `$firebase-scrypt$` hashes.
pub(crate) fn verify(password: &[u8], hash: &str, firebase: Option<&FirebaseScryptParams>) -> Result<bool> {
    let unreadable = |e: &dyn std::fmt::Display| CoreError::Internal(format!("stored hash unreadable: {e}"));
    let verified = |outcome: std::result::Result<(), PhcError>| match outcome {
        Ok(()) => Ok(true),
        Err(PhcError::PasswordInvalid) => Ok(false),
        Err(e) => Err(unreadable(&e)),
    };
    match Parsed::parse(hash).map_err(|e| unreadable(&e))? {
        Parsed::Argon2 { phc, .. } => verified(argon2::Argon2::default().verify_password(password, &phc)),
        Parsed::Bcrypt { .. } => bcrypt::verify(password, hash).map_err(|e| unreadable(&e)),
        Parsed::Scrypt { phc, .. } => verified(scrypt::Scrypt::new().verify_password(password, &phc)),
        Parsed::Pbkdf2 { phc, .. } => verified(pbkdf2::Pbkdf2::default().verify_password(password, &phc)),
        Parsed::Django { rounds, salt, expected } => {
            let params = pbkdf2::Params::new_with_output_len(rounds, expected.len()).map_err(|e| unreadable(&e))?;
            let mut out = vec![0u8; expected.len()];
            pbkdf2::pbkdf2_hmac_with_params(
                password,
                salt.as_bytes(),
                pbkdf2::Algorithm::Pbkdf2Sha256,
                params,
                &mut out,
            );
            Ok(bool::from(out.ct_eq(&expected)))
        }
        Parsed::Firebase { salt, expected } => {
            // Without the project's parameters the hash cannot be checked: the sign-in fails
            // like a wrong password (the user can still reset it), never as a server error,
            // and the operator is told why.
            let Some(params) = firebase else {
                tracing::error!(
                    "a Firebase password hash but no Firebase parameters for its project: \
                     run `latchkey user import-settings`"
                );
                return Ok(false);
            };
            Ok(bool::from(firebase_scrypt(password, &salt, params)?.ct_eq(&expected)))
        }
    }
}

/// Firebase's modified scrypt (github.com/firebase/scrypt): the signer key encrypted with
/// AES-256-CTR (zero IV) under the first 32 bytes of scrypt(password, salt || separator).
fn firebase_scrypt(password: &[u8], salt: &[u8], params: &FirebaseScryptParams) -> Result<Vec<u8>> {
    let salted = [salt, &params.salt_separator].concat();
    let mut key = [0u8; 32];
    scrypt::scrypt(password, &salted, &params.scrypt_params()?, &mut key)
        .map_err(|e| CoreError::Internal(format!("Firebase scrypt failed: {e}")))?;
    let mut block = params.signer_key.clone();
    ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &[0u8; 16].into()).apply_keystream(&mut block);
    Ok(block)
}

/// One imported hash, parsed and checked.
enum Parsed {
    Argon2 { phc: PasswordHash, below_floor: bool },
    Bcrypt { below_floor: bool },
    Scrypt { phc: PasswordHash, below_floor: bool },
    Pbkdf2 { phc: PasswordHash, sha512: bool, below_floor: bool },
    Django { rounds: u32, salt: String, expected: Vec<u8> },
    Firebase { salt: Vec<u8>, expected: Vec<u8> },
}

impl Parsed {
    fn parse(hash: &str) -> Result<Self> {
        if hash.starts_with("$argon2") {
            parse_argon2(hash)
        } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            parse_bcrypt(hash)
        } else if hash.starts_with("$scrypt$") {
            parse_scrypt(hash)
        } else if hash.starts_with("$pbkdf2-sha256$") || hash.starts_with("$pbkdf2-sha512$") {
            parse_pbkdf2(hash)
        } else if let Some(rest) = hash.strip_prefix("pbkdf2_sha256$") {
            parse_django(rest)
        } else if let Some(rest) = hash.strip_prefix(FIREBASE_PREFIX) {
            parse_firebase(rest)
        } else {
            Err(invalid(
                "unknown hash format: expected Argon2, bcrypt, scrypt or PBKDF2 (PHC), Django pbkdf2_sha256 or Firebase scrypt",
            ))
        }
    }

    fn summary(&self) -> ImportedHash {
        use ImportedHashFormat as F;
        let (format, below_floor) = match self {
            Parsed::Argon2 { below_floor, .. } => (F::Argon2, *below_floor),
            Parsed::Bcrypt { below_floor } => (F::Bcrypt, *below_floor),
            Parsed::Scrypt { below_floor, .. } => (F::Scrypt, *below_floor),
            Parsed::Pbkdf2 { sha512: false, below_floor, .. } => (F::Pbkdf2Sha256, *below_floor),
            Parsed::Pbkdf2 { sha512: true, below_floor, .. } => (F::Pbkdf2Sha512, *below_floor),
            Parsed::Django { rounds, .. } => (F::DjangoPbkdf2Sha256, *rounds < PBKDF2_FLOOR),
            // The work factor is the project's, not the hash's: nothing to judge per user.
            Parsed::Firebase { .. } => (F::FirebaseScrypt, false),
        };
        ImportedHash { format, below_floor }
    }
}

fn parse_argon2(hash: &str) -> Result<Parsed> {
    let phc = parse_phc(hash)?;
    argon2::Algorithm::try_from(phc.algorithm.as_str()).map_err(|e| invalid(format!("not an Argon2 hash: {e}")))?;
    let params = argon2::Params::try_from(&phc).map_err(|e| invalid(format!("invalid Argon2 parameters: {e}")))?;
    require_salt_and_output(&phc)?;
    if u64::from(params.m_cost()) * 1024 > MAX_WORK_MEMORY_BYTES
        || params.t_cost() > ARGON2_MAX_PASSES
        || params.p_cost() > MAX_PARALLELISM
    {
        return Err(invalid("Argon2 parameters above what this server verifies (256 MiB, 16 passes, 16 lanes)"));
    }
    let below_floor = u64::from(params.m_cost()) * u64::from(params.t_cost()) < ARGON2_MEMORY_PASSES_FLOOR;
    Ok(Parsed::Argon2 { phc, below_floor })
}

fn parse_bcrypt(hash: &str) -> Result<Parsed> {
    let parts = bcrypt::HashParts::from_str(hash).map_err(|e| invalid(format!("not a bcrypt hash: {e}")))?;
    let cost = parts.get_cost();
    if !(4..=BCRYPT_MAX_COST).contains(&cost) {
        return Err(invalid(format!("bcrypt cost must be 4..={BCRYPT_MAX_COST}")));
    }
    Ok(Parsed::Bcrypt { below_floor: cost < BCRYPT_FLOOR })
}

fn parse_scrypt(hash: &str) -> Result<Parsed> {
    let phc = parse_phc(hash)?;
    let params = scrypt::Params::try_from(&phc).map_err(|e| invalid(format!("invalid scrypt parameters: {e}")))?;
    require_salt_and_output(&phc)?;
    let memory = params.n().saturating_mul(u64::from(params.r())).saturating_mul(128);
    if memory > MAX_WORK_MEMORY_BYTES || params.p() > MAX_PARALLELISM {
        return Err(invalid("scrypt parameters above what this server verifies (256 MiB, p <= 16)"));
    }
    Ok(Parsed::Scrypt { phc, below_floor: params.log_n() < SCRYPT_LOG_N_FLOOR })
}

/// PHC (`$pbkdf2-sha256$i=N,l=L$salt$hash`) or passlib's form (`$pbkdf2-sha256$N$salt$hash`,
/// salt and hash in passlib's base64 with `.` for `+`), which is read as the PHC string it means.
fn parse_pbkdf2(hash: &str) -> Result<Parsed> {
    let phc = match hash.split('$').collect::<Vec<_>>().as_slice() {
        ["", algorithm, rounds, salt, output] if rounds.bytes().all(|b| b.is_ascii_digit()) => {
            let (salt, output) = (salt.replace('.', "+"), output.replace('.', "+"));
            let length = output.trim_end_matches('=').len() * 6 / 8;
            parse_phc(&format!("${algorithm}$i={rounds},l={length}${salt}${output}"))?
        }
        _ => parse_phc(hash)?,
    };
    let params = pbkdf2::Params::try_from(&phc)
        .map_err(|e| invalid(format!("invalid PBKDF2 parameters (at least 1000 iterations): {e}")))?;
    require_salt_and_output(&phc)?;
    if params.rounds() > PBKDF2_MAX_ROUNDS {
        return Err(invalid(format!("PBKDF2 iterations above {PBKDF2_MAX_ROUNDS}")));
    }
    let sha512 = phc.algorithm.as_str() == pbkdf2::Algorithm::PBKDF2_SHA512_ID;
    Ok(Parsed::Pbkdf2 { phc, sha512, below_floor: params.rounds() < PBKDF2_FLOOR })
}

/// Django: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`; the salt is used as its text.
fn parse_django(rest: &str) -> Result<Parsed> {
    let [rounds, salt, output] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err(invalid("a Django hash is pbkdf2_sha256$<iterations>$<salt>$<hash>"));
    };
    let rounds: u32 = rounds.parse().map_err(|_| invalid("Django hash: iterations are not a number"))?;
    if !(pbkdf2::Params::MIN_ROUNDS..=PBKDF2_MAX_ROUNDS).contains(&rounds) {
        return Err(invalid(format!("Django hash: iterations must be 1000..={PBKDF2_MAX_ROUNDS}")));
    }
    if salt.is_empty() {
        return Err(invalid("Django hash: empty salt"));
    }
    let expected = decode_b64(output, "Django hash: the hash is not base64")?;
    if !(pbkdf2::Params::MIN_OUTPUT_LENGTH..=pbkdf2::Params::MAX_OUTPUT_LENGTH).contains(&expected.len()) {
        return Err(invalid("Django hash: unexpected hash length"));
    }
    Ok(Parsed::Django { rounds, salt: salt.to_owned(), expected })
}

fn parse_firebase(rest: &str) -> Result<Parsed> {
    let [salt, output] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err(invalid("a Firebase hash is stored as $firebase-scrypt$<salt>$<hash>"));
    };
    let salt = decode_b64(salt, "Firebase hash: the salt is not base64")?;
    let expected = decode_b64(output, "Firebase hash: the hash is not base64")?;
    if salt.is_empty() || expected.is_empty() {
        return Err(invalid("Firebase hash: empty salt or hash"));
    }
    Ok(Parsed::Firebase { salt, expected })
}

fn parse_phc(hash: &str) -> Result<PasswordHash> {
    PasswordHash::new(hash).map_err(|e| invalid(format!("malformed PHC string: {e}")))
}

fn require_salt_and_output(phc: &PasswordHash) -> Result<()> {
    match (&phc.salt, &phc.hash) {
        (Some(_), Some(_)) => Ok(()),
        _ => Err(invalid("the PHC string has no salt or no hash")),
    }
}

/// Standard base64, padded or not (exporters differ).
fn decode_b64(text: &str, message: &'static str) -> Result<Vec<u8>> {
    STANDARD.decode(text).or_else(|_| STANDARD_NO_PAD.decode(text)).map_err(|_| invalid(message))
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::invalid("passwordHash", message)
}

#[cfg(test)]
mod tests;
