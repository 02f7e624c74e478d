//! Rust SDK for [Latchkey](https://github.com/latchkey): call the auth API from your backend,
//! and verify access tokens locally against the project's JWKS.
//!
//! ```no_run
//! use latchkey_client::{Client, SignUp, SignIn};
//!
//! # async fn run() -> Result<(), latchkey_client::Error> {
//! let client = Client::connect("http://127.0.0.1:8787", "PROJECT_ID", "lk_...").await?;
//! let created = client
//!     .auth()
//!     .sign_up(SignUp {
//!         email: "user@example.com".into(),
//!         password: "s3cur3P@ss".into(),
//!         name: Some("Alice".into()),
//!         username: Some("alice".into()),
//!         ..Default::default()
//!     })
//!     .await?;
//! let claims = client.verify_access_token(&created.access_token).await?;
//! assert_eq!(claims.sub, created.user.id);
//! # Ok(()) }
//! ```
//!
//! With a key of the `admin` scope, [`Client::admin`] runs the admin API (users, sessions, the
//! project, signing keys, the audit trail); see [`admin`].
//!
//! Errors: [`Error::Api`] carries the API's HTTP status, `code`, message and `field`:
//!
//! ```no_run
//! # async fn run(client: latchkey_client::Client) {
//! use latchkey_client::SignIn;
//! let err = client
//!     .auth()
//!     .sign_in(SignIn { email: "user@example.com".into(), password: "wrong".into() })
//!     .await
//!     .unwrap_err();
//! assert_eq!(err.code(), Some("auth/invalid-credentials"));
//! assert_eq!(err.status(), Some(401));
//! # }
//! ```

pub mod admin;
mod client;
mod error;
mod jwks;
mod types;

pub use client::{Auth, Client, ClientBuilder, DEFAULT_TIMEOUT, Users};
pub use error::{ApiError, Error, TokenError};
pub use types::*;
