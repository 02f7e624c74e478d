//! Registration: email + password sign-up, and whether a username is free.

use std::sync::Arc;

use super::Credentials;
use super::email_links::EmailLinks;
use super::observer::AuthOutcome;
use super::shared::Shared;
use crate::domain::{Email, Password, ProfileInput, ProjectId, SessionMethod, User, Username};
use crate::store::{StoreError, UniqueField};
use crate::{CoreError, Result};

/// A sign-up request as received (validated inside [`Registration::sign_up`]).
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

/// Sign-up and the username check. A new account may get its verification email (when the
/// project asks for it) through [`EmailLinks`].
#[derive(Clone)]
pub struct Registration {
    shared: Arc<Shared>,
    links: EmailLinks,
}

impl Registration {
    pub(super) fn new(shared: Arc<Shared>, links: EmailLinks) -> Self {
        Self { shared, links }
    }

    pub async fn sign_up(&self, project: ProjectId, request: SignUp) -> Result<Credentials> {
        let email = Email::parse(&request.email)?;
        let username = request.username.as_deref().map(Username::parse).transpose()?;
        let password = Password::new_for("password", request.password)?;
        let profile = request.profile.validate()?;

        // Cheap early answers before spending a hash; the unique indexes stay authoritative.
        if self.shared.store.find_user_by_email(project, email.as_str()).await?.is_some() {
            self.shared.observe(AuthOutcome::SignUpDuplicate);
            return Err(CoreError::DuplicateEmail);
        }
        if let Some(name) = &username
            && self.shared.store.username_taken(project, name.as_str()).await?
        {
            self.shared.observe(AuthOutcome::SignUpDuplicate);
            return Err(CoreError::DuplicateUsername);
        }

        let context = self.shared.project_context(project).await?;
        let password_hash = self.shared.hasher.hash(project, password).await?;
        let now = self.shared.clock.now();
        let user = User {
            email: Some(email.as_str().to_owned()),
            username: username.map(|u| u.as_str().to_owned()),
            profile: profile.profile,
            metadata: profile.metadata.unwrap_or_default(),
            secure_metadata: profile.secure_metadata.unwrap_or_default(),
            password_hash: Some(password_hash),
            ..User::new_visitor(project, now)
        };
        let (session, tokens) =
            self.shared.new_session(&context.keys, &context.project.settings, &user, SessionMethod::SignUp, now)?;
        self.shared.store.create_user_with_session(&user, &session).await.map_err(|e| {
            let duplicate = match e {
                StoreError::Conflict(UniqueField::Email) => CoreError::DuplicateEmail,
                StoreError::Conflict(UniqueField::Username) => CoreError::DuplicateUsername,
                other => return other.into(),
            };
            // Lost a race with another sign-up of the same address or name.
            self.shared.observe(AuthOutcome::SignUpDuplicate);
            duplicate
        })?;
        self.shared.observe(AuthOutcome::SignUpCreated);
        self.links.after_sign_up(&user).await;
        Ok(Credentials { user, tokens })
    }

    /// `check-username`: validity and availability after normalisation.
    pub async fn username_available(&self, project: ProjectId, raw: &str) -> Result<bool> {
        let username = Username::parse(raw).map_err(|e| CoreError::InvalidUsernameQuery(e.to_string()))?;
        Ok(!self.shared.store.username_taken(project, username.as_str()).await?)
    }
}
