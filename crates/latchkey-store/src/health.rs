//! The outcome of the last readiness write probe (see `CoreStore::ping` in `core.rs`).

use std::sync::Mutex;

use latchkey_core::store::{StoreError, StoreResult};

/// The last write probe's failure, if it failed. Starts healthy: the store was just opened,
/// which ran migrations, a write.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    failure: Mutex<Option<StoreError>>,
}

impl WriteHealth {
    /// Remembers a probe's outcome; logs when writes stop or start working again.
    pub(crate) fn record(&self, outcome: &StoreResult<()>) {
        let Ok(mut failure) = self.failure.lock() else { return };
        match (outcome, failure.is_some()) {
            (Ok(()), true) => tracing::info!("database writes work again; ready"),
            (Err(err), false) => tracing::error!(error = %err, "database not writable; not ready"),
            _ => {}
        }
        *failure = outcome.as_ref().err().map(copy);
    }

    /// The last probe's outcome.
    pub(crate) fn last(&self) -> StoreResult<()> {
        match self.failure.lock() {
            Ok(failure) => failure.as_ref().map_or(Ok(()), |err| Err(copy(err))),
            Err(_) => Ok(()),
        }
    }
}

fn copy(err: &StoreError) -> StoreError {
    match err {
        StoreError::Conflict(field) => StoreError::Conflict(*field),
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Unavailable(detail) => StoreError::Unavailable(detail.clone()),
        StoreError::StorageFull(detail) => StoreError::StorageFull(detail.clone()),
        StoreError::Other(detail) => StoreError::Other(detail.clone()),
    }
}
