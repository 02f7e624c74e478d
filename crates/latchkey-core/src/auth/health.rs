//! What the process reports about itself: database readiness, and the load of the hashing
//! pool and of the database connection pools.

use std::sync::Arc;

use super::shared::Shared;
use crate::hashing::PoolStats;
use crate::store::{ConnectionPoolStats, StoreResult};

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

    /// Load of the database connection pools, for metrics.
    pub fn connection_pools(&self) -> Vec<ConnectionPoolStats> {
        self.shared.store.connection_pools()
    }
}
