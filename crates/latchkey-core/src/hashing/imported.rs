//! Password hashes imported from another system (issue 11 contract). MINIMAL VERSION of the
//! import branch: prefix and cost checks only, so the import pipeline compiles and is tested;
//! the hashes branch's full module (parsing, verification, upgrade) replaces it at merge.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{CoreError, Result};

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
    /// below the floor (bcrypt cost < 10, PBKDF2 < 100_000 iterations, ...): accepted,
    /// counted, upgraded at first sign-in
    pub below_floor: bool,
}

const BCRYPT_FLOOR: u32 = 10;
const PBKDF2_FLOOR: u32 = 100_000;

fn unknown() -> CoreError {
    CoreError::invalid(
        "passwordHash",
        "passwordHash is not a supported hash (Argon2, bcrypt, scrypt, PBKDF2 or Firebase scrypt)",
    )
}

/// Parses and checks an imported hash: CoreError::InvalidInput { field: "passwordHash", .. } when it is not one of the formats.
pub fn inspect(hash: &str) -> Result<ImportedHash> {
    let parts: Vec<&str> = hash.split('$').collect();
    let number = |text: &str| text.parse::<u32>().map_err(|_| unknown());
    let (format, below_floor) = match parts.as_slice() {
        ["", "argon2id" | "argon2i" | "argon2d", ..] if parts.len() >= 5 => (ImportedHashFormat::Argon2, false),
        ["", "2a" | "2b" | "2y", cost, rest] if rest.len() == 53 => {
            (ImportedHashFormat::Bcrypt, number(cost)? < BCRYPT_FLOOR)
        }
        ["", "scrypt", _, _, _] => (ImportedHashFormat::Scrypt, false),
        ["", "pbkdf2-sha256", rounds, _, _] => (ImportedHashFormat::Pbkdf2Sha256, number(rounds)? < PBKDF2_FLOOR),
        ["", "pbkdf2-sha512", rounds, _, _] => (ImportedHashFormat::Pbkdf2Sha512, number(rounds)? < PBKDF2_FLOOR),
        ["pbkdf2_sha256", rounds, _, _] => (ImportedHashFormat::DjangoPbkdf2Sha256, number(rounds)? < PBKDF2_FLOOR),
        ["", "firebase-scrypt", salt, hash] if is_base64(salt) && is_base64(hash) => {
            (ImportedHashFormat::FirebaseScrypt, false)
        }
        _ => return Err(unknown()),
    };
    Ok(ImportedHash { format, below_floor })
}

/// The stored form of a Firebase hash and salt (both base64): `$firebase-scrypt$<salt>$<hash>`.
pub fn firebase_stored_form(hash_b64: &str, salt_b64: &str) -> Result<String> {
    if !is_base64(hash_b64) {
        return Err(CoreError::invalid("passwordHash", "a Firebase passwordHash must be base64"));
    }
    if !is_base64(salt_b64) {
        return Err(CoreError::invalid("passwordSalt", "passwordSalt must be base64"));
    }
    Ok(format!("$firebase-scrypt${salt_b64}${hash_b64}"))
}

fn is_base64(text: &str) -> bool {
    !text.is_empty() && STANDARD.decode(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_floors() {
        let bcrypt = format!("$2b$04${}", "a".repeat(53));
        assert_eq!(inspect(&bcrypt).unwrap(), ImportedHash { format: ImportedHashFormat::Bcrypt, below_floor: true });
        let django = "pbkdf2_sha256$600000$salt$aGFzaA==";
        assert!(!inspect(django).unwrap().below_floor);
        assert!(inspect("$md5$abc").is_err());
        assert!(inspect("plaintext").is_err());
        let firebase = firebase_stored_form("aGFzaA==", "c2FsdA==").unwrap();
        assert_eq!(inspect(&firebase).unwrap().format, ImportedHashFormat::FirebaseScrypt);
        assert!(firebase_stored_form("not base64!", "c2FsdA==").is_err());
    }
}
