//! Periodic housekeeping the server runs: rows whose purpose has ended are deleted.

use std::sync::Arc;

use chrono::Duration;

use super::shared::Shared;
use crate::Result;

#[derive(Clone)]
pub struct Maintenance {
    shared: Arc<Shared>,
}

impl Maintenance {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Deletes throttling windows that have ended.
    pub async fn purge_stale_throttles(&self) -> Result<u64> {
        let cutoff = self.shared.clock.now() - Duration::seconds(self.shared.policy.failure_window_secs);
        Ok(self.shared.store.purge_sign_in_failures(cutoff).await?)
    }

    /// Deletes sent/dropped outbox rows and expired link tokens older than a week (a week
    /// keeps recent history for `latchkey outbox list`).
    pub async fn purge_old_mail(&self) -> Result<u64> {
        Ok(self.shared.store.purge_mail(self.shared.clock.now() - Duration::days(7)).await?)
    }

    /// Deletes audit records older than `retention_days` (the `audit_retention_days` setting).
    pub async fn purge_old_audit_events(&self, retention_days: u32) -> Result<u64> {
        let cutoff = self.shared.clock.now() - Duration::days(i64::from(retention_days));
        Ok(self.shared.store.purge_audit_events(cutoff).await?)
    }

    /// Deletes retired signing keys that have left the JWKS (their tokens have all expired).
    pub async fn purge_unpublished_signing_keys(&self) -> Result<u64> {
        Ok(self.shared.store.purge_unpublished_signing_keys(self.shared.clock.now()).await?)
    }
}
