use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{AuthService, Credentials};
use crate::domain::{Email, Password, ProjectId};
use crate::store::Store;
use crate::{CoreError, Result};

impl AuthService {
    /// Email + password sign-in. Unknown email and wrong password are indistinguishable:
    /// same error, and both cost one Argon2id verification.
    pub async fn sign_in(&self, project: ProjectId, email: &str, password: String) -> Result<Credentials> {
        let email = Email::parse(email)?;
        let password = Password::candidate(password)?;
        let now = self.clock.now();
        let window = Duration::seconds(self.policy.failure_window_secs);

        // Count the attempt before hashing, atomically, and decide on the count the database
        // returns: concurrent attempts cannot all slip under the limit. The count is a
        // reservation until the password has been checked: an attempt that never got that far
        // (hashing pool busy, store error, request cancelled) gives its unit back, so only
        // checked passwords can lock an account. A success clears the count.
        let attempts = self.store.record_sign_in_attempt(project, email.as_str(), now, now - window).await?;
        if attempts.failures > self.policy.max_failed_sign_ins {
            // Kept: the window is fixed, so a refused attempt cannot lengthen the lockout.
            let retry_after = (attempts.window_started_at + window - now).num_seconds().max(1);
            return Err(CoreError::TooManyAttempts { retry_after_secs: retry_after as u64 });
        }
        let pending = PendingAttempt {
            store: Arc::clone(&self.store),
            project,
            email: email.as_str().to_owned(),
            window_started_at: attempts.window_started_at,
            settled: false,
        };

        let checked = async {
            let user = self.store.find_user_by_email(project, email.as_str()).await?;
            let stored_hash = user.as_ref().filter(|u| u.is_active).and_then(|u| u.password_hash.clone());
            let verified = self.hasher.verify(password_for_rehash(&password)?, stored_hash).await?;
            Ok::<_, CoreError>((user, verified))
        }
        .await;
        let (user, verified) = match checked {
            Ok(checked) => {
                pending.checked();
                checked
            }
            Err(e) => {
                pending.give_back().await;
                return Err(e);
            }
        };
        let Some(mut user) = user.filter(|_| verified.matches) else {
            return Err(CoreError::InvalidCredentials);
        };
        let verified_hash = user.password_hash.clone().ok_or(CoreError::InvalidCredentials)?;

        self.store.clear_sign_in_failures(project, email.as_str()).await?;
        if verified.needs_rehash
            && let Some(old) = user.password_hash.clone()
        {
            self.rehash_in_background(project, user.id, old, password);
        }
        let context = self.project_context(project).await?;
        let (session, tokens) = self.new_session(&context.keys, &context.project.settings, &user, now)?;
        // The password changed (a reset) or the user was deactivated while the hash was being
        // checked: the password we verified is no longer the account's.
        if !self.store.create_password_session(&session, &verified_hash, now).await? {
            return Err(CoreError::InvalidCredentials);
        }
        user.last_active = Some(now);
        Ok(Credentials { user, tokens })
    }

    /// Upgrades a hash made with weaker parameters. Best effort: a busy pool just means the
    /// upgrade happens at a later sign-in.
    fn rehash_in_background(&self, project: ProjectId, user: crate::domain::UserId, old: String, password: Password) {
        let hasher = std::sync::Arc::clone(&self.hasher);
        let store = std::sync::Arc::clone(&self.store);
        let clock = std::sync::Arc::clone(&self.clock);
        tokio::spawn(async move {
            if let Ok(hash) = hasher.hash(password).await
                && let Err(e) = store.upgrade_password_hash(project, user, &old, &hash, clock.now()).await
            {
                tracing::warn!(error = %e, "password rehash not saved");
            }
        });
    }

    /// Deletes throttling windows that have ended (run periodically by the server).
    pub async fn purge_stale_throttles(&self) -> Result<u64> {
        let cutoff = self.clock.now() - Duration::seconds(self.policy.failure_window_secs);
        Ok(self.store.purge_sign_in_failures(cutoff).await?)
    }

    /// Deletes sent/dropped outbox rows and expired link tokens older than a week (run
    /// periodically by the server; a week keeps recent history for `latchkey outbox list`).
    pub async fn purge_old_mail(&self) -> Result<u64> {
        Ok(self.store.purge_mail(self.clock.now() - Duration::days(7)).await?)
    }
}

/// A counted sign-in attempt whose password has not been checked yet. Settled either way:
/// [`checked`](Self::checked) keeps the unit (a wrong password stays counted),
/// [`give_back`](Self::give_back) returns it. Dropped unsettled (the request was cancelled
/// while it waited for a hashing thread), it gives the unit back in the background.
///
/// Returning units is what a semaphore does, so the burst guarantee holds: an attempt goes on
/// to the password check only if the count including its own unit is within the limit, and
/// every unit of an attempt still in flight, or of a checked wrong password, is in that count.
struct PendingAttempt {
    store: Arc<dyn Store>,
    project: ProjectId,
    email: String,
    window_started_at: DateTime<Utc>,
    settled: bool,
}

impl PendingAttempt {
    fn checked(mut self) {
        self.settled = true;
    }

    async fn give_back(mut self) {
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

/// The verify job takes ownership of a copy; the original is kept for a possible rehash.
fn password_for_rehash(password: &Password) -> Result<Password> {
    Password::candidate(password.expose().to_owned())
}
