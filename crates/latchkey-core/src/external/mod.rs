//! External users: JWTs signed by a customer's own auth system (`verify-external-user`).
//!
//! - [`keys`]: HMAC signing secrets and registered public keys, each pinned to its algorithms.
//! - [`token`]: header parsing, key selection by `kid`, signature and claim checks.
//! - [`jwks`]: the optional per-project JWKS URL, cached with a bounded refresh rate.
//! - [`profile`]: the `userData` claim, validated with the same rules as sign-up.

pub mod jwks;
pub mod keys;
pub mod profile;
pub mod token;

pub use jwks::{JwksCache, JwksFetcher};
pub use keys::{KeySource, ParsedPublicKey, VerifierKey};
pub use profile::ExternalProfile;
pub use token::{MAX_SKEW_SECS, VerifiedClaims};
