//! Secrets: random tokens from the OS RNG, SHA-256 digests for secrets that are only compared,
//! and AES-256-GCM under the master key for secrets that must be used again.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

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

/// The key that protects secrets at rest. Without it, a copy of the database yields no usable
/// credential.
///
/// It is never used directly: every context (one signing key, one session's pair, one
/// project's SMTP password, ...) gets its own AES-256-GCM subkey derived with HKDF-SHA256, so
/// the random-nonce budget of GCM (2^32 messages per key) applies per context rather than to
/// the whole deployment, and a ciphertext cannot be moved between contexts.
#[derive(Clone)]
pub struct MasterKey {
    root: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let root: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CoreError::Internal(format!("master key must be {} bytes, got {}", Self::LEN, bytes.len())))?;
        Ok(Self { root: Zeroizing::new(root) })
    }

    /// Parses the standard base64 text form used in `LATCHKEY_MASTER_KEY` and key files.
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = Zeroizing::new(
            STANDARD.decode(text.trim()).map_err(|_| CoreError::Internal("master key is not valid base64".into()))?,
        );
        Self::from_bytes(&bytes)
    }

    /// A fresh key and its base64 text form (to be written somewhere safe).
    pub fn generate() -> (Self, String) {
        let bytes = Zeroizing::new(random_bytes(Self::LEN));
        let text = STANDARD.encode(&*bytes);
        let key = Self::from_bytes(&bytes).expect("generated key has the right length");
        (key, text)
    }

    /// A 32-byte key for `purpose`, derived from the master key (HKDF-SHA256). Stable for a
    /// given master key, so nothing derived this way needs to be stored.
    pub fn derive_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        self.subkey(&format!("latchkey/derived/{purpose}"))
    }

    fn subkey(&self, info: &str) -> Zeroizing<[u8; 32]> {
        let mut okm = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, &*self.root)
            .expand(info.as_bytes(), &mut *okm)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        okm
    }

    fn cipher(&self, context: &str) -> Aes256Gcm {
        let key = self.subkey(&format!("latchkey/seal/{context}"));
        Aes256Gcm::new(&(*key).into())
    }

    /// `nonce || ciphertext` under the subkey of `context`; `context` is also bound as
    /// associated data.
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes(NONCE_LEN)
            .try_into()
            .map_err(|_| CoreError::Internal("rng returned a short buffer".into()))?;
        let sealed = self
            .cipher(context)
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
        self.cipher(context)
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
    fn derived_keys_are_stable_and_distinct() {
        let (key, text) = MasterKey::generate();
        let same = MasterKey::from_base64(&text).unwrap();
        assert_eq!(*key.derive_key("a"), *same.derive_key("a"));
        assert_ne!(*key.derive_key("a"), *key.derive_key("b"));
        assert_ne!(*key.derive_key("a"), *MasterKey::generate().0.derive_key("a"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(digest("abc").len(), 64);
    }
}
