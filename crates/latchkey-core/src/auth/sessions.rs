//! Sessions: password sign-in (with the failed-attempt lockout), refresh-token rotation and
//! sign-out.
//!
//! Each session row holds its generation, the digest of the current refresh token and of the
//! previous one, and the current pair sealed under the master key. An exchange is one
//! conditional UPDATE (`WHERE generation = n`), so of any number of racing exchanges of the
//! same token exactly one mints generation n+1; the others see the previous-token case and,
//! inside the grace window, receive that same new pair.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::Credentials;
use super::import_settings::firebase_params;
use super::lockout::PendingAttempt;
use super::observer::AuthOutcome;
use super::security_events::security_event;
use super::shared::Shared;
use crate::crypto::{digest, digests_match};
use crate::domain::{AuditAction, Email, Password, ProjectId, SessionId, SessionMethod, User, UserId};
use crate::store::{Rotation, SessionRecord};
use crate::tokens::{PairSpec, mint_pair, verify_refresh};
use crate::{CoreError, Result};

#[derive(Clone)]
pub struct Sessions {
    shared: Arc<Shared>,
}

impl Sessions {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Email + password sign-in. Unknown email and wrong password are indistinguishable:
    /// same error, and both cost one Argon2id verification.
    pub async fn sign_in(&self, project: ProjectId, email: &str, password: String) -> Result<Credentials> {
        let email = Email::parse(email)?;
        let password = Password::candidate(password)?;
        let now = self.shared.clock.now();
        let window = Duration::seconds(self.shared.policy.failure_window_secs);

        // Count the attempt before hashing, atomically, and decide on the count the database
        // returns: concurrent attempts cannot all slip under the limit. The count is a
        // reservation until the password has been checked: an attempt that never got that far
        // (hashing pool busy, store error, request cancelled) gives its unit back, so only
        // checked passwords can lock an account. A success clears the count.
        let attempts = self.shared.store.record_sign_in_attempt(project, email.as_str(), now, now - window).await?;
        if attempts.failures > self.shared.policy.max_failed_sign_ins {
            // The attempt that crossed the limit records the lockout, once per window.
            if attempts.failures == self.shared.policy.max_failed_sign_ins + 1 {
                self.shared.record_lockout(project, email.as_str(), now).await;
            }
            // Kept: the window is fixed, so a refused attempt cannot lengthen the lockout.
            let retry_after = (attempts.window_started_at + window - now).num_seconds().max(1);
            self.shared.observe(AuthOutcome::SignInLocked);
            return Err(CoreError::TooManyAttempts { retry_after_secs: retry_after as u64 });
        }
        let pending =
            PendingAttempt::new(Arc::clone(&self.shared.store), project, email.as_str(), attempts.window_started_at);

        let checked = async {
            let user = self.shared.store.find_user_by_email(project, email.as_str()).await?;
            // A disabled account verifies too: whether it may sign in is said only to the
            // right password.
            let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
            let firebase = match &stored_hash {
                Some(hash) if hash.starts_with("$firebase-scrypt$") => {
                    firebase_params(self.shared.store.as_ref(), &self.shared.master, project).await?
                }
                _ => None,
            };
            let candidate = password_for_rehash(&password)?;
            let verified = self.shared.hasher.verify_with(project, candidate, stored_hash, firebase).await?;
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
        let known_user = user.as_ref().map(|u| u.id);
        let Some(mut user) = user.filter(|_| verified.matches) else {
            self.shared.observe(AuthOutcome::SignInFailed);
            let failed = security_event(project, now, AuditAction::SignInFailed, known_user);
            self.shared.record_failure_event(failed).await;
            return Err(CoreError::InvalidCredentials);
        };
        let mut verified_hash = user.password_hash.clone().ok_or(CoreError::InvalidCredentials)?;
        if let Err(e) = user.may_sign_in(now) {
            self.shared.observe(AuthOutcome::SignInDenied);
            return Err(e);
        }

        self.shared.store.clear_sign_in_failures(project, email.as_str()).await?;
        if verified.needs_rehash
            && let Some(upgraded) = self.upgrade_hash(project, user.id, &verified_hash, password).await
        {
            // The session below is conditional on the hash it was checked against: now this one.
            verified_hash = upgraded.clone();
            user.password_hash = Some(upgraded);
        }
        let context = self.shared.project_context(project).await?;
        let (session, tokens) =
            self.shared.new_session(&context.keys, &context.project.settings, &user, SessionMethod::Password, now)?;
        let succeeded = security_event(project, now, AuditAction::SignInSucceeded, Some(user.id))
            .detail("sessionId", session.id.to_string());
        // The password changed (a reset), or the user was disabled or suspended, while the
        // hash was being checked: say which, as a sign-in after it would.
        if !self.shared.store.create_password_session(&session, &verified_hash, now, &succeeded).await? {
            let failed = security_event(project, now, AuditAction::SignInFailed, Some(user.id));
            self.shared.record_failure_event(failed).await;
            if let Some(current) = self.shared.store.get_user(project, user.id).await?
                && let Err(e) = current.may_sign_in(now)
            {
                self.shared.observe(AuthOutcome::SignInDenied);
                return Err(e);
            }
            self.shared.observe(AuthOutcome::SignInFailed);
            return Err(CoreError::InvalidCredentials);
        }
        self.shared.observe(AuthOutcome::SignInSucceeded);
        user.last_active = Some(now);
        Ok(Credentials { user, tokens })
    }

    /// Replaces an imported hash, or one made with weaker parameters, by today's Argon2id, in
    /// this request: an imported hash (bcrypt, PBKDF2, ...) should not outlive the first
    /// sign-in that can replace it. Only the exact hash that was verified is replaced (a reset
    /// meanwhile wins). The new hash when stored; `None` (logged) when the pool was busy or the
    /// store refused, and the upgrade waits for a later sign-in.
    async fn upgrade_hash(&self, project: ProjectId, user: UserId, old: &str, password: Password) -> Option<String> {
        let upgraded = async {
            let hash = self.shared.hasher.hash(project, password).await?;
            let now = self.shared.clock.now();
            let stored = self.shared.store.upgrade_password_hash(project, user, old, &hash, now).await?;
            Ok::<_, CoreError>(stored.then_some(hash))
        };
        upgraded.await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "password hash upgrade not saved; retried at the next sign-in");
            None
        })
    }

    pub async fn refresh(&self, project: ProjectId, refresh_token: &str) -> Result<Credentials> {
        let context = self.shared.project_context(project).await?;
        let now = self.shared.clock.now();
        let claims = verify_refresh(refresh_token, project, &context.keys, now)?;
        let presented = digest(refresh_token);

        // At most two passes: a lost race re-reads the row and lands in the grace branch.
        for _ in 0..2 {
            let (session, user) = self.session_and_user(project, claims.sid, now).await?;

            if claims.generation == session.generation && digests_match(&presented, &session.current_digest) {
                let spec = PairSpec {
                    issuer: &self.shared.policy.issuer,
                    project,
                    user: user.id,
                    role: user.role,
                    session: session.id,
                    generation: session.generation + 1,
                    now,
                    access_ttl_secs: context.project.settings.access_token_ttl_secs,
                    refresh_ttl_secs: context.project.settings.refresh_token_ttl_secs,
                };
                let tokens = mint_pair(&context.keys, &spec)?;
                let rotation = Rotation {
                    project_id: project,
                    session_id: session.id,
                    from_generation: session.generation,
                    previous_digest: presented.clone(),
                    new_digest: digest(&tokens.refresh_token),
                    pair_sealed: self.shared.seal_pair(project, session.id, &tokens)?,
                    now,
                    expires_at: now + Duration::seconds(context.project.settings.refresh_token_ttl_secs),
                };
                if self.shared.store.rotate_session(&rotation).await? {
                    self.shared.observe(AuthOutcome::RefreshRotated);
                    return Ok(Credentials { user, tokens });
                }
                continue; // another exchange of this token won; re-read
            }

            let is_previous = claims.generation + 1 == session.generation
                && session.previous_digest.as_deref().is_some_and(|previous| digests_match(previous, &presented));
            if is_previous && now - session.rotated_at <= Duration::seconds(self.shared.policy.refresh_grace_secs) {
                let tokens = self.shared.unseal_pair(&session)?;
                self.shared.observe(AuthOutcome::RefreshGrace);
                return Ok(Credentials { user, tokens });
            }
            if claims.generation > session.generation {
                // Validly signed yet ahead of the session: not one we minted for this row.
                return Err(CoreError::RefreshTokenInvalid);
            }
            tracing::warn!(project = %project, session = %session.id, "refresh token reuse detected; session revoked");
            self.shared.store.revoke_session(project, session.id, now).await?;
            self.shared.observe(AuthOutcome::RefreshReuseDetected);
            let reuse = security_event(project, now, AuditAction::RefreshReuseDetected, Some(session.user_id))
                .detail("sessionId", session.id.to_string());
            self.shared.record_failure_event(reuse).await;
            return Err(CoreError::TokenReuseDetected);
        }
        Err(CoreError::RefreshTokenInvalid)
    }

    /// Ends the session named by `refresh_token`. Unknown, expired or garbage tokens are
    /// accepted silently: sign-out must be idempotent and must not be an oracle.
    pub async fn sign_out(&self, project: ProjectId, refresh_token: &str) -> Result<()> {
        let context = match self.shared.project_context(project).await {
            Ok(c) => c,
            Err(CoreError::ProjectNotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        let now = self.shared.clock.now();
        // An expired token still names its session: sign-out may end it.
        let far_past = now - Duration::days(3650);
        let Ok(claims) = verify_refresh(refresh_token, project, &context.keys, far_past) else {
            return Ok(());
        };
        self.shared.store.revoke_session(project, claims.sid, now).await?;
        Ok(())
    }

    /// The live session `id` and its user. A disabled or suspended user is told so before
    /// whether the session is live (disabling and suspending revoke every session): the
    /// caller holds a genuine refresh token of theirs.
    async fn session_and_user(
        &self,
        project: ProjectId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<(SessionRecord, User)> {
        let session = self.shared.store.get_session(project, id).await?.ok_or(CoreError::RefreshTokenInvalid)?;
        let user = self.shared.store.get_user(project, session.user_id).await?.ok_or(CoreError::RefreshTokenInvalid)?;
        user.may_sign_in(now)?;
        if session.revoked_at.is_some() || session.expires_at <= now {
            return Err(CoreError::RefreshTokenInvalid);
        }
        Ok((session, user))
    }
}

/// The verify job takes ownership of a copy; the original is kept for a possible rehash.
fn password_for_rehash(password: &Password) -> Result<Password> {
    Password::candidate(password.expose().to_owned())
}
