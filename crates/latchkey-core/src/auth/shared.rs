//! The dependencies the services are built from, in two layers, because the admin commands
//! need neither a hashing pool nor the server's policy:
//!
//! - [`Deps`]: the store, the master key, the clock, the project-context cache (which the
//!   admin services invalidate on a change) and the observer of auth outcomes. Every service,
//!   admin or request flow, is built from one of these.
//! - [`Shared`]: what the request flows add over the same [`Deps`]: the hashing pool, the
//!   policy, and the state every flow must see one instance of (the JWKS cache, the outbox
//!   wake-up signal). Held in one `Arc` by each request service.

use std::sync::Arc;

use tokio::sync::Notify;

use super::AuthPolicy;
use super::context::{ContextCache, ProjectContext};
use super::observer::{AuthObserver, AuthOutcome, NoAuthObserver};
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::domain::{Project, ProjectId};
use crate::external::JwksCache;
use crate::hashing::HasherPool;
use crate::mail::Outbox;
use crate::store::Store;
use crate::tokens::{KeyRing, SigningKey};
use crate::{CoreError, Result};

/// The store, the master key that seals secrets at rest, the clock, the cache of project
/// contexts the request flows read (shared, so an admin change on this process drops it), and
/// who is told of each auth outcome (nobody, unless [`Deps::with_auth_observer`]).
#[derive(Clone)]
pub struct Deps {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) master: MasterKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) contexts: Arc<ContextCache>,
    pub(crate) observer: Arc<dyn AuthObserver>,
}

impl Deps {
    pub fn new(store: Arc<dyn Store>, master: MasterKey, clock: Arc<dyn Clock>) -> Self {
        Self { store, master, clock, contexts: Arc::default(), observer: Arc::new(NoAuthObserver) }
    }

    /// Tells `observer` of every sign-up, sign-in and refresh outcome the services decide.
    pub fn with_auth_observer(mut self, observer: Arc<dyn AuthObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// The project, or [`CoreError::ProjectNotFound`]: admin actions on a project check it first.
    pub(crate) async fn project(&self, id: ProjectId) -> Result<Project> {
        self.store.get_project(id).await?.ok_or(CoreError::ProjectNotFound)
    }
}

/// What the request flows share: [`Deps`] plus the pool, the policy, the caches and the
/// outbox wake-up signal.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) master: MasterKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: Arc<HasherPool>,
    pub(crate) policy: AuthPolicy,
    contexts: Arc<ContextCache>,
    pub(crate) jwks: JwksCache,
    /// Wakes the outbox worker when a row is committed (it also polls, so this is a hint).
    pub(crate) outbox_signal: Arc<Notify>,
    observer: Arc<dyn AuthObserver>,
}

impl Shared {
    pub(crate) fn new(deps: &Deps, hasher: Arc<HasherPool>, policy: AuthPolicy) -> Self {
        Self {
            store: Arc::clone(&deps.store),
            master: deps.master.clone(),
            clock: Arc::clone(&deps.clock),
            hasher,
            policy,
            contexts: Arc::clone(&deps.contexts),
            jwks: JwksCache::default(),
            outbox_signal: Arc::new(Notify::new()),
            observer: Arc::clone(&deps.observer),
        }
    }

    /// Tells the observer what a flow just decided.
    pub(crate) fn observe(&self, outcome: AuthOutcome) {
        self.observer.observed(outcome);
    }

    /// The project's settings and unsealed signing keys, from cache when fresh.
    pub(crate) async fn project_context(&self, id: ProjectId) -> Result<Arc<ProjectContext>> {
        if let Some(hit) = self.contexts.get(id) {
            return Ok(hit);
        }
        let project = self.store.get_project(id).await?.ok_or(CoreError::ProjectNotFound)?;
        let now = self.clock.now();
        let keys = self
            .store
            .signing_keys(id)
            .await?
            .iter()
            .filter(|stored| stored.is_published(now))
            .map(|stored| Ok((SigningKey::unseal(stored, &self.master)?, stored.state())))
            .collect::<Result<Vec<_>>>()?;
        let context = Arc::new(ProjectContext { project, keys: KeyRing::new(id, keys, &self.master)? });
        self.contexts.put(id, Arc::clone(&context));
        Ok(context)
    }

    /// The outbox over this store and key, woken by the signal the request flows notify.
    pub(crate) fn outbox(&self) -> Outbox {
        Outbox::new(
            Arc::clone(&self.store),
            self.master.clone(),
            Arc::clone(&self.clock),
            Arc::clone(&self.outbox_signal),
        )
    }
}
