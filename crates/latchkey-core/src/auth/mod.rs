//! The auth flows as services, one job each, over shared dependencies ([`Deps`], and for the
//! request flows the crate-internal `Shared`). Handlers call these and translate results to
//! HTTP; nothing in the server reaches the store except through one of them.
//!
//! Request flows, bundled in [`Services`]:
//! - [`Registration`]: sign-up, username check.
//! - [`Sessions`]: password sign-in (with lockout), refresh rotation, sign-out.
//! - [`ApiKeyCheck`]: the API key a caller presents.
//! - [`EmailLinks`]: password reset and email verification links.
//! - [`ExternalSignIn`]: the `verify-external-user` flow.
//! - [`Projects`]: a project's cached settings and keys, its JWK Set.
//! - [`Health`], [`Maintenance`]: readiness and pool load; periodic purges.
//!
//! Sign-up, sign-in and refresh tell an [`AuthObserver`] (given with
//! [`Deps::with_auth_observer`]) each outcome where it is decided; the server counts them.
//!
//! Operator services, bundled in [`Admin`] (also built alone by the admin commands):
//! [`ProjectAdmin`], [`ExternalAdmin`], [`MailAdmin`], [`UserAdmin`], [`SigningKeys`], [`AuditTrail`].

mod api_key_check;
mod audit_trail;
mod context;
mod email_links;
mod external_admin;
mod external_sign_in;
mod health;
mod import_settings;
mod lockout;
mod mail_admin;
mod maintenance;
mod observer;
mod outbox;
mod project_admin;
mod projects;
mod registration;
mod security_events;
mod services;
mod session_pair;
mod sessions;
mod shared;
mod signing_keys;
mod user_admin;
mod user_import;

pub use api_key_check::ApiKeyCheck;
pub use audit_trail::{AuditListing, AuditPage, AuditTrail, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE};
pub use context::{CONTEXT_TTL, ProjectContext};
pub use email_links::{EmailLinks, LinkStatus};
pub(crate) use email_links::{new_link, reset_rate_key};
pub use external_admin::{DEFAULT_OVERLAP_SECS, ExternalAdmin, NewSigningSecret, SECRET_PREFIX};
pub use external_sign_in::ExternalSignIn;
pub use health::Health;
pub use import_settings::ImportSettings;
pub use mail_admin::{MailAdmin, MailSettingsChange};
pub use maintenance::Maintenance;
pub use observer::{AuthObserver, AuthOutcome, NoAuthObserver};
pub use outbox::MailPayload;
pub use project_admin::{NewApiKey, ProjectAdmin, ProjectChange};
pub use projects::Projects;
pub use registration::{Registration, SignUp};
pub use services::{Admin, Services};
pub use sessions::Sessions;
pub use shared::Deps;
pub use signing_keys::{
    JWKS_MAX_AGE_SECS, RETIREMENT_MARGIN_SECS, SigningKeyStatus, SigningKeys, published_until, signing_key_list,
    standby_ready_at,
};
pub use user_admin::{
    IssuedLink, LinkDelivery, ManagedUser, NewUser, SuspendUser, UserAdmin, UserChanges, UserLookup, UserPage,
    UserQuery, UserStatus,
};
pub use user_import::{
    ImportLine, ImportRun, ImportedUserInput, LineOutcome, LineReport, MAX_IMPORT_BATCH, UserImport,
};

use crate::domain::User;
use crate::tokens::TokenPair;

/// Server-wide auth policy (per-project settings live on the project).
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    /// The public URL: `iss` of every token.
    pub issuer: String,
    /// How long the previous refresh token may be replayed and get the same current pair.
    pub refresh_grace_secs: i64,
    /// Failed sign-ins per (project, email) before 429.
    pub max_failed_sign_ins: u32,
    pub failure_window_secs: i64,
}

impl AuthPolicy {
    pub fn new(issuer: impl Into<String>) -> Self {
        Self { issuer: issuer.into(), refresh_grace_secs: 30, max_failed_sign_ins: 10, failure_window_secs: 15 * 60 }
    }
}

/// A signed-in user and their fresh (or, inside the grace window, current) token pair.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub tokens: TokenPair,
}
