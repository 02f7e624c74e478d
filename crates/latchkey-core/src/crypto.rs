//! Secrets: random tokens from the OS RNG, SHA-256 digests for secrets that are only compared,
//! and AES-256-GCM under the master key for secrets that must be used again.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
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

/// Whether two digests of secrets are equal, in a time that does not depend on where they
/// first differ (`==` on strings stops at the first differing byte).
pub fn digests_match(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A 32-byte key: redacted in `Debug`, wiped when dropped.
pub type SecretKey = SecretBox<[u8; 32]>;

const NONCE_LEN: usize = 12;

/// The key that protects secrets at rest. Without it, a copy of the database yields no usable
/// credential.
///
/// It is never used directly: every context (one signing key, one session's pair, one
/// project's SMTP password, ...) gets its own AES-256-GCM subkey derived with HKDF-SHA256, so
/// the random-nonce budget of GCM (2^32 messages per key) applies per context rather than to
/// the whole deployment, and a ciphertext cannot be moved between contexts.
///
/// Clones share one copy of the key (secrecy does not clone key arrays).
#[derive(Clone, Debug)]
pub struct MasterKey {
    root: Arc<SecretKey>,
}

impl MasterKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let root: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CoreError::Internal(format!("master key must be {} bytes, got {}", Self::LEN, bytes.len())))?;
        Ok(Self { root: Arc::new(SecretBox::new(Box::new(root))) })
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
    pub fn derive_key(&self, purpose: &str) -> SecretKey {
        self.subkey(&format!("latchkey/derived/{purpose}"))
    }

    /// Written in place on the heap, so no copy of the key is left on the stack.
    fn subkey(&self, info: &str) -> SecretKey {
        SecretBox::init_with_mut(|okm: &mut [u8; 32]| {
            Hkdf::<Sha256>::new(None, self.root.expose_secret())
                .expand(info.as_bytes(), okm)
                .expect("32 bytes is a valid HKDF-SHA256 output length");
        })
    }

    fn cipher(&self, context: &str) -> Aes256Gcm {
        let key = self.subkey(&format!("latchkey/seal/{context}"));
        Aes256Gcm::new(key.expose_secret().into())
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
        let derived = |key: &MasterKey, purpose: &str| *key.derive_key(purpose).expose_secret();
        assert_eq!(derived(&key, "a"), derived(&same, "a"));
        assert_ne!(derived(&key, "a"), derived(&key, "b"));
        assert_ne!(derived(&key, "a"), derived(&MasterKey::generate().0, "a"));
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let (key, _) = MasterKey::generate();
        assert_eq!(format!("{key:?}"), "MasterKey { root: SecretBox<[u8; 32]>([REDACTED]) }");
        assert_eq!(format!("{:?}", key.derive_key("a")), "SecretBox<[u8; 32]>([REDACTED])");
    }

    #[test]
    fn digests_match_only_when_equal() {
        assert!(digests_match(&digest("a"), &digest("a")));
        assert!(!digests_match(&digest("a"), &digest("b")));
        assert!(!digests_match(&digest("a"), &digest("a")[..63]), "a prefix is not a match");
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(digest("abc").len(), 64);
    }
}
