//! A short-lived in-process cache of each project's settings and unsealed signing keys.
//! Both change rarely (admin commands); the TTL bounds how long another process's change
//! takes to be seen, and saves a query plus an AES-GCM decryption on every request. A change
//! made through this process's services drops the project's entry, so it shows at once here.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::{Project, ProjectId};
use crate::tokens::KeyRing;

/// How long another process's change (a rename, a key rotation) may take to be seen here.
pub const CONTEXT_TTL: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct ProjectContext {
    pub project: Project,
    pub keys: KeyRing,
}

#[derive(Default)]
pub(crate) struct ContextCache(RwLock<HashMap<ProjectId, (Instant, Arc<ProjectContext>)>>);

impl ContextCache {
    pub(super) fn get(&self, id: ProjectId) -> Option<Arc<ProjectContext>> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(&id).filter(|(at, _)| at.elapsed() < CONTEXT_TTL).map(|(_, c)| Arc::clone(c))
    }

    pub(super) fn put(&self, id: ProjectId, context: Arc<ProjectContext>) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.insert(id, (Instant::now(), context));
    }

    /// Drops the project's entry: the next request reads it afresh.
    pub(crate) fn invalidate(&self, id: ProjectId) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.remove(&id);
    }
}
