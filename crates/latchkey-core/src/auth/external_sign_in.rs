//! `verify-external-user`: sign in a user that the customer's own system authenticated.
//!
//! 1. Verify the JWT (see [`crate::external::token`]) with the project's live HMAC secrets,
//!    registered public keys and, when configured, its JWKS URL.
//! 2. Resolve the user: by `(project, foreignId)` (update changed profile fields); else by
//!    `userData.email` when that user has no foreign id yet (link it); a user linked to another
//!    foreign id is never re-linked; else create a user with no password.
//! 3. In one transaction: consume the `jti`, write the user change, create the session.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Credentials;
use super::external_admin::secret_context;
use super::shared::Shared;
use crate::crypto::digest;
use crate::domain::{ProjectId, SessionMethod, User};
use crate::external::token::{self, Selection};
use crate::external::{ExternalProfile, JwksFetcher, VerifiedClaims, VerifierKey};
use crate::store::{ExternalSignIn as ExternalSignInWrite, ExternalSignInOutcome, StoreError, UniqueField, UserChange};
use crate::{CoreError, Result};

#[derive(Clone)]
pub struct ExternalSignIn {
    shared: Arc<Shared>,
}

impl ExternalSignIn {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Lets this service fetch per-project JWKS URLs (the server installs an HTTPS fetcher).
    pub fn install_jwks_fetcher(&self, fetcher: Arc<dyn JwksFetcher>) {
        self.shared.jwks.install(fetcher);
    }

    pub async fn verify_external_user(&self, project: ProjectId, user_jwt: &str) -> Result<Credentials> {
        if user_jwt.trim().is_empty() {
            return Err(CoreError::MissingJwt);
        }
        let context = self.shared.project_context(project).await?;
        let now = self.shared.clock.now();
        let claims = self.verify_external_token(project, user_jwt, now).await.inspect_err(|e| {
            tracing::debug!(project = %project, reason = %e, "external user JWT refused");
        })?;
        let profile = ExternalProfile::parse(claims.user_data.clone())?;
        // Kept 5 minutes past the moment the token itself stops verifying: server processes
        // whose clocks differ a little must not prune a used jti while another still
        // accepts the token.
        let jti = claims
            .jti
            .as_deref()
            .map(|jti| (digest(&format!("{project}/{jti}")), claims.expires_at + chrono::Duration::minutes(5)));

        // A racing sign-in for the same user (or email) makes a write stale or conflict; the
        // next pass re-reads and lands in the update (or conflict) branch.
        const PASSES: usize = 3;
        for pass in 1..=PASSES {
            let retry = pass < PASSES;
            let change = self.resolve_external_user(project, &claims.foreign_id, &profile, now).await?;
            let creating = matches!(change, UserChange::Create(_));
            let settings = &context.project.settings;
            let (session, tokens) =
                self.shared.new_session(&context.keys, settings, change.user(), SessionMethod::External, now)?;
            let sign_in = ExternalSignInWrite { change, session, jti: jti.clone(), now };
            match self.shared.store.apply_external_sign_in(&sign_in).await {
                Ok(ExternalSignInOutcome::Applied) => {
                    tracing::debug!(project = %project, kid = %claims.kid, "external user signed in");
                    let user = match sign_in.change {
                        UserChange::Create(u) | UserChange::Update(u) | UserChange::Link(u) => u,
                    };
                    return Ok(Credentials { user, tokens });
                }
                Ok(ExternalSignInOutcome::Replayed) => return Err(CoreError::InvalidExternalToken("jti already used")),
                Ok(ExternalSignInOutcome::Stale) | Err(StoreError::Conflict(UniqueField::ForeignId)) if retry => {}
                Err(StoreError::Conflict(UniqueField::Email)) if creating && retry => {}
                Err(StoreError::Conflict(UniqueField::Username)) => return Err(CoreError::DuplicateUsername),
                Err(StoreError::Conflict(UniqueField::Email)) => return Err(CoreError::DuplicateEmail),
                Ok(ExternalSignInOutcome::Stale) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Internal("external sign-in kept racing with another sign-in".into()))
    }

    async fn verify_external_token(
        &self,
        project: ProjectId,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedClaims> {
        let settings = self.shared.store.external_settings(project).await?.unwrap_or_default();
        let local = self.local_external_keys(project, now).await?;
        if local.is_empty() && settings.jwks_url.is_none() {
            return Err(CoreError::MissingExternalKeys);
        }
        let parsed = token::parse(token, project)?;
        let max = settings.max_token_lifetime_secs;
        let local_selection = token::select(&parsed.header, &local)?;
        if let Selection::Candidates(candidates) = &local_selection {
            return token::verify(&parsed, candidates, project, now, max);
        }
        let Some(url) = settings.jwks_url.as_deref() else {
            return Err(unselected(&local_selection));
        };
        let mut remote = self.shared.jwks.keys(project, url, now, false).await;
        let mut selection = token::select(&parsed.header, &remote)?;
        if matches!(selection, Selection::UnknownKid) {
            // The customer may have rotated: refetch (rate-limited inside the cache).
            remote = self.shared.jwks.keys(project, url, now, true).await;
            selection = token::select(&parsed.header, &remote)?;
        }
        match selection {
            Selection::Candidates(candidates) => token::verify(&parsed, &candidates, project, now, max),
            other => Err(unselected(&other)),
        }
    }

    /// Live HMAC secrets (unsealed) and registered public keys of `project`.
    async fn local_external_keys(&self, project: ProjectId, now: DateTime<Utc>) -> Result<Vec<VerifierKey>> {
        let mut keys = Vec::new();
        for secret in self.shared.store.external_secrets(project).await?.into_iter().filter(|s| s.is_live(now)) {
            match self.shared.master.decrypt(&secret.secret_sealed, &secret_context(project, &secret.id)) {
                Ok(plain) => keys.push(VerifierKey::hmac(secret.id, &plain)),
                // Wrong master key or a damaged row: that secret cannot verify, the others still can.
                Err(_) => tracing::error!(project = %project, secret = %secret.id, "cannot unseal a signing secret"),
            }
        }
        for key in self.shared.store.external_keys(project).await? {
            match VerifierKey::public(key.kid.clone(), &key.alg, &key.jwk, crate::external::KeySource::Registered) {
                Ok(k) => keys.push(k),
                Err(_) => tracing::warn!(project = %project, kid = %key.kid, "stored external key is unusable"),
            }
        }
        Ok(keys)
    }

    async fn resolve_external_user(
        &self,
        project: ProjectId,
        foreign_id: &str,
        profile: &ExternalProfile,
        now: DateTime<Utc>,
    ) -> Result<UserChange> {
        if let Some(user) = self.shared.store.find_user_by_foreign_id(project, foreign_id).await? {
            return update_external_user(user, profile, now);
        }
        if let Some(email) = &profile.email
            && let Some(mut user) = self.shared.store.find_user_by_email(project, email.as_str()).await?
        {
            match user.foreign_id.as_deref() {
                // A racing sign-in of this same user created (or linked) it between the two
                // lookups: it is this user, not a conflict.
                Some(linked) if linked == foreign_id => return update_external_user(user, profile, now),
                Some(_) => return Err(CoreError::ForeignIdConflict),
                None => {}
            }
            user.may_sign_in(now)?;
            profile.apply_to(&mut user);
            user.foreign_id = Some(foreign_id.to_owned());
            user.updated_at = now;
            user.last_active = Some(now);
            if !user.is_verified {
                // Nobody proved that whoever chose this account's password (or holds its
                // sessions) controls the address the customer's system vouches for: an
                // attacker could have registered the email first. The store drops both.
                user.password_hash = None;
            }
            return Ok(UserChange::Link(user));
        }
        let mut user = User { foreign_id: Some(foreign_id.to_owned()), ..User::new_visitor(project, now) };
        profile.apply_to(&mut user);
        Ok(UserChange::Create(user))
    }
}

/// A returning external user: profile fields from the token, last activity now.
fn update_external_user(mut user: User, profile: &ExternalProfile, now: DateTime<Utc>) -> Result<UserChange> {
    user.may_sign_in(now)?;
    if profile.apply_to(&mut user) {
        user.updated_at = now;
    }
    user.last_active = Some(now);
    Ok(UserChange::Update(user))
}

fn unselected(selection: &Selection<'_>) -> CoreError {
    match selection {
        Selection::UnknownKid => CoreError::InvalidExternalToken("unknown kid"),
        _ => CoreError::InvalidExternalToken("no key of this project accepts the token's alg"),
    }
}
