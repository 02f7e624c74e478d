//! Rotation of the access-token signing keys (an operator service).
//!
//! A project has one active key (it signs new access tokens), one standby (published in the
//! JWKS, signing nothing) and the retired keys whose tokens may still be live. A rotation
//! promotes the standby, retires the active key and publishes a new standby, in one
//! transaction. Because the standby was already published, verifiers that cache the JWKS
//! (`Cache-Control: max-age=300`) already hold the key that signs from now on, and they keep
//! the retired one until it leaves the JWKS, after its last token expired.
//!
//! Timing:
//! - New tokens carry the new `kid` at once on this process (its project-context cache entry
//!   is dropped), on other processes within [`CONTEXT_TTL`] (30 s); meanwhile those still sign
//!   with the retired key, which is why its publication counts that time too.
//! - A retired key leaves the JWKS at retirement + the access-token lifetime + [`CONTEXT_TTL`]
//!   + [`RETIREMENT_MARGIN_SECS`] (verifiers' clock leeway); maintenance then deletes it.
//! - A standby may sign once every cached JWKS holds it: [`JWKS_MAX_AGE_SECS`] +
//!   [`CONTEXT_TTL`] (5 min 30 s) after it was published. A rotation with a younger standby
//!   is refused ([`CoreError::StandbyKeyTooNew`], with the wait) unless forced. Forcing is the
//!   emergency path (a leaked key): it rotates at once, and verifiers whose cached JWKS
//!   predates the standby reject the new tokens until they refetch it (at most five minutes;
//!   most refetch on an unknown `kid`). A new project's standby is published with it, so
//!   only a rotation in its first 5 min 30 s waits.

use std::sync::Arc;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use super::context::CONTEXT_TTL;
use super::shared::Deps;
use crate::domain::{Actor, AuditAction, AuditEvent, ProjectId};
use crate::store::{KeyRotation, StoreError};
use crate::tokens::{KeyState, SigningKey, StoredSigningKey};
use crate::{CoreError, Result};

/// The JWKS's `Cache-Control: max-age`: how long a verifier may keep a JWKS it fetched.
pub const JWKS_MAX_AGE_SECS: i64 = 300;
/// Extra publication of a retired key beyond its last token's expiry, for verifiers' clock
/// skew and leeway (Latchkey's own verification allows 60 s).
pub const RETIREMENT_MARGIN_SECS: i64 = 300;

/// A published signing key as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyStatus {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    pub state: KeyState,
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<&SigningKeyStatus> for latchkey_proto::admin::SigningKeyInfo {
    fn from(key: &SigningKeyStatus) -> Self {
        let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let published_until = match key.state {
            KeyState::Retired { published_until } => Some(iso(published_until)),
            KeyState::Active | KeyState::Standby => None,
        };
        Self {
            kid: key.kid.clone(),
            created_at: iso(key.created_at),
            retired_at: key.retired_at.map(iso),
            published_until,
            active: key.state == KeyState::Active,
        }
    }
}

/// `GET /admin/signing-keys`, `latchkey signing-key list --json`.
pub fn signing_key_list(keys: &[SigningKeyStatus]) -> latchkey_proto::admin::SigningKeyList {
    latchkey_proto::admin::SigningKeyList { keys: keys.iter().map(Into::into).collect() }
}

/// When `standby` may start signing without a verifier's cached JWKS lacking it: every
/// process publishes it within the context cache's lifetime, and a JWKS fetched just before
/// that is cached for at most its max-age.
pub fn standby_ready_at(standby: &StoredSigningKey) -> DateTime<Utc> {
    standby.created_at + Duration::seconds(JWKS_MAX_AGE_SECS) + context_ttl()
}

/// When a key retired at `retired_at` leaves the JWKS: its last token (signed here at
/// `retired_at`, elsewhere up to the context cache's lifetime later) has expired by then.
pub fn published_until(retired_at: DateTime<Utc>, access_token_ttl_secs: i64) -> DateTime<Utc> {
    retired_at + Duration::seconds(access_token_ttl_secs) + context_ttl() + Duration::seconds(RETIREMENT_MARGIN_SECS)
}

fn context_ttl() -> Duration {
    Duration::from_std(CONTEXT_TTL).unwrap_or(Duration::seconds(30))
}

/// Attempts of one rotation that lost a race to another (each re-reads the keys).
const ROTATION_ATTEMPTS: usize = 3;

#[derive(Clone)]
pub struct SigningKeys {
    deps: Arc<Deps>,
}

impl SigningKeys {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// The project's published keys, newest first (the standby, the active key, the retired
    /// keys still in the JWKS).
    pub async fn list(&self, project: ProjectId) -> Result<Vec<SigningKeyStatus>> {
        self.deps.project(project).await?;
        let now = self.deps.clock.now();
        let mut keys: Vec<SigningKeyStatus> = self
            .deps
            .store
            .signing_keys(project)
            .await?
            .into_iter()
            .filter(|key| key.is_published(now))
            .map(|key| SigningKeyStatus {
                state: key.state(),
                kid: key.kid,
                created_at: key.created_at,
                retired_at: key.retired_at,
            })
            .collect();
        // A new project's two keys share their creation instant: the standby is the newer.
        let rank = |state: &KeyState| match state {
            KeyState::Standby => 0,
            KeyState::Active => 1,
            KeyState::Retired { .. } => 2,
        };
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(rank(&a.state).cmp(&rank(&b.state))));
        Ok(keys)
    }

    /// Promotes the standby, retires the active key and publishes a new standby, recording
    /// `signing-key.rotated` (the new and old `kid`). Refused while the standby is younger
    /// than the JWKS's cache lifetime unless `force` (see the module notes). A project without
    /// a standby (created before standbys existed) gets one first, so only a forced rotation
    /// proceeds at once.
    pub async fn rotate(&self, project: ProjectId, actor: Actor, force: bool) -> Result<Vec<SigningKeyStatus>> {
        for _ in 0..ROTATION_ATTEMPTS {
            let current = self.deps.project(project).await?;
            let keys = self.deps.store.signing_keys(project).await?;
            let active = keys
                .iter()
                .find(|k| k.state() == KeyState::Active)
                .ok_or_else(|| CoreError::Internal(format!("project {project} has no active signing key")))?;
            let Some(standby) = keys.iter().find(|k| k.state() == KeyState::Standby) else {
                self.add_standby(project).await?;
                continue;
            };
            let now = self.deps.clock.now();
            let ready_at = standby_ready_at(standby);
            if !force && ready_at > now {
                let wait_ms = (ready_at - now).num_milliseconds().unsigned_abs();
                return Err(CoreError::StandbyKeyTooNew { retry_after_secs: wait_ms.div_ceil(1000).max(1) });
            }
            let (_, new_standby) = SigningKey::generate(project, &self.deps.master, now)?;
            let mut audit = AuditEvent::new(project, now, actor, AuditAction::SigningKeyRotated)
                .detail("newKid", standby.kid.as_str())
                .detail("oldKid", active.kid.as_str());
            if force {
                audit = audit.detail("forced", true);
            }
            let rotation = KeyRotation {
                project_id: project,
                retiring_kid: active.kid.clone(),
                promoted_kid: standby.kid.clone(),
                now,
                published_until: published_until(now, current.settings.access_token_ttl_secs),
                new_standby,
                audit,
            };
            if self.deps.store.rotate_signing_key(&rotation).await? {
                self.deps.contexts.invalidate(project);
                return self.list(project).await;
            }
            // Another rotation came first: decide again on the keys as they are now.
        }
        Err(StoreError::Unavailable("the signing keys kept changing during the rotation".into()).into())
    }

    /// Gives every project without a standby key one (projects created before standbys
    /// existed); `serve` runs it at start-up. Returns how many were added.
    pub async fn ensure_standby_keys(&self) -> Result<usize> {
        let mut added = 0;
        for project in self.deps.store.projects_without_standby_key().await? {
            if self.add_standby(project).await? {
                added += 1;
            }
        }
        Ok(added)
    }

    async fn add_standby(&self, project: ProjectId) -> Result<bool> {
        let (_, key) = SigningKey::generate(project, &self.deps.master, self.deps.clock.now())?;
        let added = self.deps.store.add_standby_signing_key(&key).await?;
        if added {
            self.deps.contexts.invalidate(project);
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;

    #[test]
    fn a_standby_is_ready_once_every_cached_jwks_holds_it() {
        let (master, _) = MasterKey::generate();
        let published = Utc::now();
        let (_, standby) = SigningKey::generate(ProjectId::generate(), &master, published).unwrap();
        assert_eq!(standby_ready_at(&standby), published + Duration::seconds(300 + 30));
    }

    #[test]
    fn a_retired_key_outlives_its_last_token() {
        let retired = Utc::now();
        let until = published_until(retired, 1800);
        assert_eq!(until, retired + Duration::seconds(1800 + 30 + 300));
    }
}
