//! The failed sign-in lockout's reservation: a counted attempt gives its unit back unless its
//! password was actually checked.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::ProjectId;
use crate::store::Store;

/// A counted sign-in attempt whose password has not been checked yet. Settled either way:
/// [`checked`](Self::checked) keeps the unit (a wrong password stays counted),
/// [`give_back`](Self::give_back) returns it. Dropped unsettled (the request was cancelled
/// while it waited for a hashing thread), it gives the unit back in the background.
///
/// Returning units is what a semaphore does, so the burst guarantee holds: an attempt goes on
/// to the password check only if the count including its own unit is within the limit, and
/// every unit of an attempt still in flight, or of a checked wrong password, is in that count.
pub(super) struct PendingAttempt {
    store: Arc<dyn Store>,
    project: ProjectId,
    email: String,
    window_started_at: DateTime<Utc>,
    settled: bool,
}

impl PendingAttempt {
    pub(super) fn new(
        store: Arc<dyn Store>,
        project: ProjectId,
        email: &str,
        window_started_at: DateTime<Utc>,
    ) -> Self {
        Self { store, project, email: email.to_owned(), window_started_at, settled: false }
    }

    pub(super) fn checked(mut self) {
        self.settled = true;
    }

    pub(super) async fn give_back(mut self) {
        self.settled = true;
        release(&*self.store, self.project, &self.email, self.window_started_at).await;
    }
}

impl Drop for PendingAttempt {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, project, email, window) =
                (Arc::clone(&self.store), self.project, std::mem::take(&mut self.email), self.window_started_at);
            runtime.spawn(async move { release(&*store, project, &email, window).await });
        }
    }
}

/// Best effort: a unit that cannot be returned stays counted (errs towards locking out, as
/// before this existed) and is gone with its window.
async fn release(store: &dyn Store, project: ProjectId, email: &str, window_started_at: DateTime<Utc>) {
    if let Err(e) = store.release_sign_in_attempt(project, email, window_started_at).await {
        tracing::warn!(error = %e, "unchecked sign-in attempt could not be uncounted");
    }
}
