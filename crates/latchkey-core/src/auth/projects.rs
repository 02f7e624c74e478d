//! What requests read of a project: its settings and signing keys (cached), and the public
//! JWK Set of those keys.

use std::sync::Arc;

use super::context::ProjectContext;
use super::shared::Shared;
use crate::Result;
use crate::domain::ProjectId;

#[derive(Clone)]
pub struct Projects {
    shared: Arc<Shared>,
}

impl Projects {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The project's settings and keys, from cache when fresh.
    pub async fn context(&self, id: ProjectId) -> Result<Arc<ProjectContext>> {
        self.shared.project_context(id).await
    }

    /// The JWK Set of the project's published signing keys (active, standby, and retired
    /// ones whose tokens may still be live).
    pub async fn jwks(&self, project: ProjectId) -> Result<serde_json::Value> {
        Ok(self.shared.project_context(project).await?.keys.jwks(self.shared.clock.now()))
    }
}
