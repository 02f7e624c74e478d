//! Checks of the API keys callers present (the project admin issues them). Keys are compared
//! by SHA-256 digest; a key of another project is refused exactly like an unknown key.

use std::sync::Arc;

use super::shared::Shared;
use crate::crypto::digest;
use crate::domain::ProjectId;
use crate::{CoreError, Result};

#[derive(Clone)]
pub struct ApiKeyCheck {
    shared: Arc<Shared>,
}

impl ApiKeyCheck {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Succeeds only when `api_key` is a live key of `project`.
    pub async fn authorize(&self, project: ProjectId, api_key: &str) -> Result<()> {
        match self.shared.store.project_for_api_key(&digest(api_key)).await? {
            Some(owner) if owner == project => Ok(()),
            _ => Err(CoreError::InvalidApiKey),
        }
    }

    /// The project a live key belongs to (for the SDK's init check).
    pub async fn project_of_key(&self, api_key: &str) -> Result<ProjectId> {
        self.shared.store.project_for_api_key(&digest(api_key)).await?.ok_or(CoreError::InvalidApiKey)
    }
}
