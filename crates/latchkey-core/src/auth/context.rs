//! A short-lived in-process cache of each project's settings and unsealed signing keys.
//! Both change rarely (admin commands); the TTL bounds how long another process's change
//! takes to be seen, and saves a query plus an AES-GCM decryption on every request. A change
//! made through this process's services drops the project's entry, so it shows at once here.
//! The signing keys are held parsed (see [`crate::tokens::SigningKey`]), so minting a token
//! neither decrypts nor parses a key. At most [`MAX_CACHED_CONTEXTS`] projects are held.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::{Project, ProjectId};
use crate::tokens::KeyRing;

/// How long another process's change (a rename, a key rotation) may take to be seen here.
pub const CONTEXT_TTL: Duration = Duration::from_secs(30);

/// Projects whose context is held at once (a few KiB each); past it, expired entries go first,
/// then the oldest.
pub const MAX_CACHED_CONTEXTS: usize = 4096;

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
        if map.len() >= MAX_CACHED_CONTEXTS && !map.contains_key(&id) {
            map.retain(|_, (at, _)| at.elapsed() < CONTEXT_TTL);
            if map.len() >= MAX_CACHED_CONTEXTS
                && let Some(oldest) = map.iter().min_by_key(|(_, (at, _))| *at).map(|(id, _)| *id)
            {
                map.remove(&oldest);
            }
        }
        map.insert(id, (Instant::now(), context));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Drops the project's entry: the next request reads it afresh.
    pub(crate) fn invalidate(&self, id: ProjectId) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use crate::domain::ProjectSettings;
    use crate::tokens::{KeyState, SigningKey};

    #[test]
    fn the_cache_holds_a_bounded_number_of_projects() {
        let (master, _) = MasterKey::generate();
        let id = ProjectId::generate();
        let (key, _) = SigningKey::generate(id, &master, chrono::Utc::now()).unwrap();
        let keys = KeyRing::new(id, vec![(key, KeyState::Active)], &master).unwrap();
        let project =
            Project { id, name: "p".into(), settings: ProjectSettings::default(), created_at: chrono::Utc::now() };
        let context = Arc::new(ProjectContext { project, keys });
        let cache = ContextCache::default();
        let first = ProjectId::generate();
        cache.put(first, Arc::clone(&context));
        for _ in 0..MAX_CACHED_CONTEXTS + 10 {
            cache.put(ProjectId::generate(), Arc::clone(&context));
        }
        assert_eq!(cache.len(), MAX_CACHED_CONTEXTS);
        assert!(cache.get(first).is_none(), "the oldest entry made room");
    }
}
