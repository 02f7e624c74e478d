//! Refresh-token rotation and sign-out.
//!
//! Each session row holds its generation, the digest of the current refresh token and of the
//! previous one, and the current pair sealed under the master key. An exchange is one
//! conditional UPDATE (`WHERE generation = n`), so of any number of racing exchanges of the
//! same token exactly one mints generation n+1; the others see the previous-token case and,
//! inside the grace window, receive that same new pair.

use chrono::Duration;

use super::{AuthService, Credentials};
use crate::crypto::{digest, digests_match};
use crate::domain::{ProjectId, SessionId};
use crate::store::{Rotation, SessionRecord};
use crate::tokens::{PairSpec, TokenPair, mint_pair, verify_refresh};
use crate::{CoreError, Result};

fn pair_context(project: ProjectId, session: SessionId) -> String {
    format!("latchkey/session-pair/{project}/{session}")
}

impl AuthService {
    pub async fn refresh(&self, project: ProjectId, refresh_token: &str) -> Result<Credentials> {
        let context = self.project_context(project).await?;
        let now = self.clock.now();
        let claims = verify_refresh(refresh_token, project, &context.keys, now)?;
        let presented = digest(refresh_token);

        // At most two passes: a lost race re-reads the row and lands in the grace branch.
        for _ in 0..2 {
            let session = self.live_session(project, claims.sid, now).await?;
            let user = self
                .store
                .get_user(project, session.user_id)
                .await?
                .filter(|u| u.is_active)
                .ok_or(CoreError::RefreshTokenInvalid)?;

            if claims.generation == session.generation && digests_match(&presented, &session.current_digest) {
                let spec = PairSpec {
                    issuer: &self.policy.issuer,
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
                    pair_sealed: self.seal_pair(project, session.id, &tokens)?,
                    now,
                    expires_at: now + Duration::seconds(context.project.settings.refresh_token_ttl_secs),
                };
                if self.store.rotate_session(&rotation).await? {
                    return Ok(Credentials { user, tokens });
                }
                continue; // another exchange of this token won; re-read
            }

            let is_previous = claims.generation + 1 == session.generation
                && session.previous_digest.as_deref().is_some_and(|previous| digests_match(previous, &presented));
            if is_previous && now - session.rotated_at <= Duration::seconds(self.policy.refresh_grace_secs) {
                let tokens = self.unseal_pair(&session)?;
                return Ok(Credentials { user, tokens });
            }
            if claims.generation > session.generation {
                // Validly signed yet ahead of the session: not one we minted for this row.
                return Err(CoreError::RefreshTokenInvalid);
            }
            tracing::warn!(project = %project, session = %session.id, "refresh token reuse detected; session revoked");
            self.store.revoke_session(project, session.id, now).await?;
            return Err(CoreError::TokenReuseDetected);
        }
        Err(CoreError::RefreshTokenInvalid)
    }

    /// Ends the session named by `refresh_token`. Unknown, expired or garbage tokens are
    /// accepted silently: sign-out must be idempotent and must not be an oracle.
    pub async fn sign_out(&self, project: ProjectId, refresh_token: &str) -> Result<()> {
        let context = match self.project_context(project).await {
            Ok(c) => c,
            Err(CoreError::ProjectNotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        let now = self.clock.now();
        // An expired token still names its session: sign-out may end it.
        let far_past = now - Duration::days(3650);
        let Ok(claims) = verify_refresh(refresh_token, project, &context.keys, far_past) else {
            return Ok(());
        };
        self.store.revoke_session(project, claims.sid, now).await?;
        Ok(())
    }

    async fn live_session(
        &self,
        project: ProjectId,
        id: SessionId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SessionRecord> {
        match self.store.get_session(project, id).await? {
            Some(s) if s.revoked_at.is_none() && s.expires_at > now => Ok(s),
            _ => Err(CoreError::RefreshTokenInvalid),
        }
    }

    pub(crate) fn seal_pair(&self, project: ProjectId, session: SessionId, tokens: &TokenPair) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(tokens).map_err(|e| CoreError::Internal(e.to_string()))?;
        self.master.encrypt(&plain, &pair_context(project, session))
    }

    fn unseal_pair(&self, session: &SessionRecord) -> Result<TokenPair> {
        let plain = self.master.decrypt(&session.current_pair_sealed, &pair_context(session.project_id, session.id))?;
        serde_json::from_slice(&plain).map_err(|e| CoreError::Internal(e.to_string()))
    }
}
