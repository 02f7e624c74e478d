//! A session's token pair: minting generation 0 (sign-up, sign-in, external sign-in) and the
//! current pair sealed on the session row under the master key, so a replay inside the grace
//! window gets the same pair back.

use chrono::{DateTime, Duration, Utc};

use super::shared::Shared;
use crate::crypto::digest;
use crate::domain::{ProjectId, ProjectSettings, SessionId, SessionMethod, User};
use crate::store::SessionRecord;
use crate::tokens::{KeyRing, PairSpec, TokenPair, mint_pair};
use crate::{CoreError, Result};

fn pair_context(project: ProjectId, session: SessionId) -> String {
    format!("latchkey/session-pair/{project}/{session}")
}

impl Shared {
    /// Mints generation 0 of a new session for `user`, begun by `method`.
    pub(super) fn new_session(
        &self,
        keys: &KeyRing,
        settings: &ProjectSettings,
        user: &User,
        method: SessionMethod,
        now: DateTime<Utc>,
    ) -> Result<(SessionRecord, TokenPair)> {
        let session_id = SessionId::generate();
        let spec = PairSpec {
            issuer: &self.policy.issuer,
            project: user.project_id,
            user: user.id,
            role: user.role,
            session: session_id,
            generation: 0,
            now,
            access_ttl_secs: settings.access_token_ttl_secs,
            refresh_ttl_secs: settings.refresh_token_ttl_secs,
        };
        let tokens = mint_pair(keys, &spec)?;
        let record = SessionRecord {
            id: session_id,
            project_id: user.project_id,
            user_id: user.id,
            generation: 0,
            current_digest: digest(&tokens.refresh_token),
            previous_digest: None,
            rotated_at: now,
            current_pair_sealed: self.seal_pair(user.project_id, session_id, &tokens)?,
            expires_at: now + Duration::seconds(settings.refresh_token_ttl_secs),
            revoked_at: None,
            created_at: now,
            method,
        };
        Ok((record, tokens))
    }

    pub(super) fn seal_pair(&self, project: ProjectId, session: SessionId, tokens: &TokenPair) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(tokens).map_err(|e| CoreError::Internal(e.to_string()))?;
        self.master.encrypt(&plain, &pair_context(project, session))
    }

    pub(super) fn unseal_pair(&self, session: &SessionRecord) -> Result<TokenPair> {
        let plain = self.master.decrypt(&session.current_pair_sealed, &pair_context(session.project_id, session.id))?;
        serde_json::from_slice(&plain).map_err(|e| CoreError::Internal(e.to_string()))
    }
}
