//! A short-lived in-process cache of each project's settings and unsealed signing keys.
//! Both change rarely (admin commands); the TTL bounds how long another process's change
//! takes to be seen, and saves a query plus an AES-GCM decryption on every request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::AuthService;
use crate::domain::{Project, ProjectId};
use crate::tokens::{KeyRing, SigningKey};
use crate::{CoreError, Result};

const TTL: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct ProjectContext {
    pub project: Project,
    pub keys: KeyRing,
}

#[derive(Default)]
pub(super) struct ContextCache(RwLock<HashMap<ProjectId, (Instant, Arc<ProjectContext>)>>);

impl AuthService {
    /// The project's settings and keys, from cache when fresh.
    pub async fn project_context(&self, id: ProjectId) -> Result<Arc<ProjectContext>> {
        if let Some(hit) = self.contexts.get(id) {
            return Ok(hit);
        }
        let project = self.store.get_project(id).await?.ok_or(CoreError::ProjectNotFound)?;
        let keys = self
            .store
            .signing_keys(id)
            .await?
            .iter()
            .map(|stored| SigningKey::unseal(stored, &self.master))
            .collect::<Result<Vec<_>>>()?;
        let context = Arc::new(ProjectContext { project, keys: KeyRing::new(id, keys, &self.master)? });
        self.contexts.put(id, Arc::clone(&context));
        Ok(context)
    }

    /// The JWK Set of the project's signing keys.
    pub async fn jwks(&self, project: ProjectId) -> Result<serde_json::Value> {
        Ok(self.project_context(project).await?.keys.jwks())
    }
}

impl ContextCache {
    fn get(&self, id: ProjectId) -> Option<Arc<ProjectContext>> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(&id).filter(|(at, _)| at.elapsed() < TTL).map(|(_, c)| Arc::clone(c))
    }

    fn put(&self, id: ProjectId, context: Arc<ProjectContext>) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.insert(id, (Instant::now(), context));
    }
}
