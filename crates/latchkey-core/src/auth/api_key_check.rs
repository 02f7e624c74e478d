//! Checks of the API keys callers present (the project admin issues them). Keys are compared
//! by SHA-256 digest; a key of another project is refused exactly like an unknown key.

use std::sync::Arc;

use super::shared::Shared;
use crate::crypto::digest;
use crate::domain::{Actor, ApiKeyScope, ProjectId};
use crate::store::LiveApiKey;
use crate::{CoreError, Result};

#[derive(Clone)]
pub struct ApiKeyCheck {
    shared: Arc<Shared>,
}

impl ApiKeyCheck {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Succeeds only when `api_key` is a live key of `project` (of any scope: an admin key
    /// may call the auth routes too).
    pub async fn authorize(&self, project: ProjectId, api_key: &str) -> Result<LiveApiKey> {
        match self.shared.store.live_api_key(&digest(api_key)).await? {
            Some(key) if key.project_id == project => Ok(key),
            _ => Err(CoreError::InvalidApiKey),
        }
    }

    /// Like [`Self::authorize`], and the key must have the `admin` scope: a key of another
    /// project is refused as invalid (401), an `auth` key of this one as insufficient (403).
    pub async fn authorize_admin(&self, project: ProjectId, api_key: &str) -> Result<Actor> {
        let key = self.authorize(project, api_key).await?;
        match key.scope {
            ApiKeyScope::Admin => Ok(Actor::ApiKey(key.id)),
            ApiKeyScope::Auth => Err(CoreError::InsufficientScope { needed: ApiKeyScope::Admin.as_str() }),
        }
    }

    /// The project a live key belongs to (for the SDK's init check).
    pub async fn project_of_key(&self, api_key: &str) -> Result<ProjectId> {
        let key = self.shared.store.live_api_key(&digest(api_key)).await?.ok_or(CoreError::InvalidApiKey)?;
        Ok(key.project_id)
    }
}
