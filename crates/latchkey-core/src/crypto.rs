//! Secrets: random tokens from the OS RNG, SHA-256 digests for secrets that are only compared,
//! and AES-256-GCM under the master key for secrets that must be used again.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::{CoreError, Result};

/// `n` random bytes from the operating system's CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    // An OS RNG failure leaves no safe fallback: refuse to continue rather than mint weak secrets.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

/// A URL-safe token carrying `bytes * 8` bits of entropy.
pub fn random_token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// Lower-case hex SHA-256 of `secret`: what we store for secrets we only ever compare.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

const NONCE_LEN: usize = 12;

/// The key that encrypts signing keys and other usable secrets at rest.
/// Without it, a copy of the database yields no usable credential.
#[derive(Clone)]
pub struct MasterKey(Aes256Gcm);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != Self::LEN {
            return Err(CoreError::Internal(format!("master key must be {} bytes, got {}", Self::LEN, bytes.len())));
        }
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(Self(cipher))
    }

    /// Parses the standard base64 text form used in `LATCHKEY_MASTER_KEY` and key files.
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes =
            STANDARD.decode(text.trim()).map_err(|_| CoreError::Internal("master key is not valid base64".into()))?;
        Self::from_bytes(&bytes)
    }

    /// A fresh key and its base64 text form (to be written somewhere safe).
    pub fn generate() -> (Self, String) {
        let bytes = random_bytes(Self::LEN);
        let text = STANDARD.encode(&bytes);
        let key = Self::from_bytes(&bytes).expect("generated key has the right length");
        (key, text)
    }

    /// `nonce || ciphertext`; `context` is bound as associated data so a ciphertext cannot be
    /// moved to another row or purpose.
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes(NONCE_LEN)
            .try_into()
            .map_err(|_| CoreError::Internal("rng returned a short buffer".into()))?;
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce_bytes), aes_gcm::aead::Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| CoreError::Internal("encryption failed".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(CoreError::Internal("ciphertext too short".into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CoreError::Internal("bad nonce".into()))?;
        self.0
            .decrypt(&Nonce::from(nonce), aes_gcm::aead::Payload { msg: body, aad: context.as_bytes() })
            .map_err(|_| CoreError::Internal("decryption failed: wrong master key or corrupted data".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_round_trips_and_binds_context() {
        let (key, _) = MasterKey::generate();
        let sealed = key.encrypt(b"secret", "ctx-a").unwrap();
        assert_eq!(key.decrypt(&sealed, "ctx-a").unwrap(), b"secret");
        assert!(key.decrypt(&sealed, "ctx-b").is_err());
        let (other, _) = MasterKey::generate();
        assert!(other.decrypt(&sealed, "ctx-a").is_err());
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(digest("abc").len(), 64);
    }
}
