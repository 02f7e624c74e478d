//! What the process reports about itself: database readiness and the hashing pool's load.

use std::sync::Arc;

use super::shared::Shared;
use crate::hashing::PoolStats;
use crate::store::StoreResult;

#[derive(Clone)]
pub struct Health {
    shared: Arc<Shared>,
}

impl Health {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Whether the database answers and accepts a write (`/readyz`).
    pub async fn readiness(&self) -> StoreResult<()> {
        self.shared.store.ping().await
    }

    /// Load of the password-hashing pool (queue depth, refusals), for metrics.
    pub fn hasher_stats(&self) -> PoolStats {
        self.shared.hasher.stats()
    }
}
