//! Latchkey's domain: everything that is true of authentication regardless of HTTP or SQL.
//!
//! - [`domain`]: validated newtypes (emails, usernames, passwords, profile fields) and records.
//! - [`crypto`]: random tokens, digests, and the master key that encrypts secrets at rest.
//! - [`hashing`]: the bounded Argon2id pool that keeps password work off the async workers.
//! - [`tokens`]: per-project Ed25519 signing keys, access and refresh JWTs, the JWKS document.
//! - [`store`]: the storage trait every backend implements (scoped by project, always).
//! - [`auth`]: the flows as services, one job each (sign-up, sessions, email links, external
//!   sign-in, ...) and the operator services, over shared dependencies.
//! - [`mail`]: the outbox lifecycle (claim, prepare, send through a [`mail::Mailer`], retry).
//! - [`external`]: verification of user JWTs signed by a customer's own auth system.
//! - [`clock`]: injectable time, so expiry and grace windows are testable without sleeping.

pub mod auth;
pub mod clock;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod external;
pub mod hashing;
pub mod mail;
pub mod request_scope;
pub mod store;
pub mod tokens;

pub use error::{CoreError, Result};
