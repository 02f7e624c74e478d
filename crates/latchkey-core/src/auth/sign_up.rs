use chrono::{DateTime, Utc};

use super::{AuthService, Credentials};
use crate::domain::{Email, Password, ProfileInput, ProjectId, User, Username};
use crate::store::{SessionRecord, StoreError, UniqueField};
use crate::tokens::{PairSpec, TokenPair, mint_pair};
use crate::{CoreError, Result};

/// A sign-up request as received (validated inside [`AuthService::sign_up`]).
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub username: Option<String>,
    pub profile: ProfileInput,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp").field("username", &self.username).finish_non_exhaustive()
    }
}

impl AuthService {
    pub async fn sign_up(&self, project: ProjectId, request: SignUp) -> Result<Credentials> {
        let email = Email::parse(&request.email)?;
        let username = request.username.as_deref().map(Username::parse).transpose()?;
        let password = Password::new_for("password", request.password)?;
        let profile = request.profile.validate()?;

        // Cheap early answers before spending a hash; the unique indexes stay authoritative.
        if self.store.find_user_by_email(project, email.as_str()).await?.is_some() {
            return Err(CoreError::DuplicateEmail);
        }
        if let Some(name) = &username
            && self.store.username_taken(project, name.as_str()).await?
        {
            return Err(CoreError::DuplicateUsername);
        }

        let context = self.project_context(project).await?;
        let password_hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let user = User {
            email: Some(email.as_str().to_owned()),
            username: username.map(|u| u.as_str().to_owned()),
            profile: profile.profile,
            metadata: profile.metadata.unwrap_or_default(),
            secure_metadata: profile.secure_metadata.unwrap_or_default(),
            password_hash: Some(password_hash),
            ..User::new_visitor(project, now)
        };
        let (session, tokens) = self.new_session(&context.keys, &context.project.settings, &user, now)?;
        self.store.create_user_with_session(&user, &session).await.map_err(|e| match e {
            StoreError::Conflict(UniqueField::Email) => CoreError::DuplicateEmail,
            StoreError::Conflict(UniqueField::Username) => CoreError::DuplicateUsername,
            other => other.into(),
        })?;
        self.after_sign_up(&user).await;
        Ok(Credentials { user, tokens })
    }

    /// Mints generation 0 of a new session for `user`.
    pub(crate) fn new_session(
        &self,
        keys: &crate::tokens::KeyRing,
        settings: &crate::domain::ProjectSettings,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(SessionRecord, TokenPair)> {
        let session_id = crate::domain::SessionId::generate();
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
            current_digest: crate::crypto::digest(&tokens.refresh_token),
            previous_digest: None,
            rotated_at: now,
            current_pair_sealed: self.seal_pair(user.project_id, session_id, &tokens)?,
            expires_at: now + chrono::Duration::seconds(settings.refresh_token_ttl_secs),
            revoked_at: None,
            created_at: now,
        };
        Ok((record, tokens))
    }
}

impl AuthService {
    /// `check-username`: validity and availability after normalisation.
    pub async fn username_available(&self, project: ProjectId, raw: &str) -> Result<bool> {
        let username = Username::parse(raw).map_err(|e| CoreError::InvalidUsernameQuery(e.to_string()))?;
        Ok(!self.store.username_taken(project, username.as_str()).await?)
    }
}
