//! The auth flows as services. Handlers call these and translate results to HTTP.

mod admin;
mod api_keys;
mod context;
mod email;
mod external;
mod external_admin;
mod mail_admin;
mod outbox;
mod sessions;
mod sign_in;
mod sign_up;

use std::sync::Arc;

pub use admin::{Admin, NewApiKey};
pub use context::ProjectContext;
pub use email::LinkStatus;
pub(crate) use email::new_link;
pub use external_admin::{DEFAULT_OVERLAP_SECS, ExternalAdmin, NewSigningSecret, SECRET_PREFIX};
pub use mail_admin::MailSettingsChange;
pub use outbox::MailPayload;
pub use sign_up::SignUp;

use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::domain::User;
use crate::hashing::HasherPool;
use crate::store::Store;
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

/// Everything the auth flows need, shared by all requests.
pub struct AuthService {
    store: Arc<dyn Store>,
    hasher: Arc<HasherPool>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    policy: AuthPolicy,
    contexts: context::ContextCache,
    jwks: crate::external::JwksCache,
    /// Wakes the outbox worker when a row is committed (it also polls, so this is a hint).
    outbox_signal: Arc<tokio::sync::Notify>,
}

impl AuthService {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Arc<HasherPool>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            store,
            hasher,
            master,
            clock,
            policy,
            contexts: context::ContextCache::default(),
            jwks: Default::default(),
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Whether the database answers and accepts a write (`/readyz`).
    pub async fn readiness(&self) -> crate::store::StoreResult<()> {
        self.store.ping().await
    }

    /// Load of the password-hashing pool (queue depth, refusals), for metrics.
    pub fn hasher_stats(&self) -> crate::hashing::PoolStats {
        self.hasher.stats()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }
}
