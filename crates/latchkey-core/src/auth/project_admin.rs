//! Operator actions on projects: create (and bootstrap), rename, delete, settings, API keys,
//! and the start-up check that the master key opens every project's signing keys.
//!
//! API keys are created and revoked only from the command line, so their audit records name
//! the actor `cli`.

use std::sync::Arc;

use super::shared::Deps;
use crate::crypto::{digest, random_token};
use crate::domain::{
    Actor, ApiKeyId, ApiKeyRecord, ApiKeyScope, AuditAction, AuditEvent, Project, ProjectId, ProjectSettings,
};
use crate::tokens::{SigningKey, StoredSigningKey};
use crate::{CoreError, Result};

/// A partial update of a project: `None` leaves a field alone; `app_url: Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct ProjectChange {
    pub name: Option<String>,
    pub app_url: Option<Option<String>>,
}

#[derive(Clone)]
pub struct ProjectAdmin {
    deps: Arc<Deps>,
}

/// A key as created: the plaintext exists only in this value, shown to the operator once.
pub struct NewApiKey {
    pub record: ApiKeyRecord,
    pub plaintext: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey").field("record", &self.record).finish_non_exhaustive()
    }
}

const API_KEY_PREFIX: &str = "lk_";
/// Characters of the key kept in clear for listing (`lk_` plus 8 of the random part).
const SHOWN_PREFIX_LEN: usize = 11;

impl ProjectAdmin {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Fails unless the master key unseals every project's signing keys: a wrong or
    /// replaced key must stop the process before it serves or writes anything.
    pub async fn verify_master_key(&self) -> Result<()> {
        for project in self.deps.store.list_projects().await? {
            for stored in self.deps.store.signing_keys(project.id).await? {
                SigningKey::unseal(&stored, &self.deps.master).map_err(|_| {
                    CoreError::Internal(format!(
                        "the master key does not match this database: cannot decrypt the signing keys of project {}",
                        project.id
                    ))
                })?;
            }
        }
        Ok(())
    }

    pub async fn create_project(&self, name: &str, settings: ProjectSettings) -> Result<Project> {
        let name = project_name(name)?;
        let settings = checked_settings(settings)?;
        let now = self.deps.clock.now();
        let project = Project { id: ProjectId::generate(), name: name.to_owned(), settings, created_at: now };
        self.deps.store.create_project(&project, &self.first_keys(&project)?).await?;
        Ok(project)
    }

    /// A new project's signing key and its standby (published from the start, so verifiers
    /// hold it long before a rotation lets it sign).
    fn first_keys(&self, project: &Project) -> Result<[StoredSigningKey; 2]> {
        let (_, mut active) = SigningKey::generate(project.id, &self.deps.master, project.created_at)?;
        active.activated_at = Some(project.created_at);
        let (_, standby) = SigningKey::generate(project.id, &self.deps.master, project.created_at)?;
        Ok([active, standby])
    }

    /// First start of an empty database: a project with an API key, or `None` when any
    /// project exists already (also one created at the same instant by another process).
    pub async fn bootstrap_project(&self, name: &str) -> Result<Option<(Project, NewApiKey)>> {
        let now = self.deps.clock.now();
        let project = Project {
            id: ProjectId::generate(),
            name: name.to_owned(),
            settings: ProjectSettings::default(),
            created_at: now,
        };
        let keys = self.first_keys(&project)?;
        let key = self.new_api_key(project.id, "bootstrap");
        let created = self.deps.store.create_first_project(&project, &keys, &key.record).await?;
        Ok(created.then_some((project, key)))
    }

    pub async fn project(&self, id: ProjectId) -> Result<Project> {
        self.deps.project(id).await
    }

    pub async fn projects(&self) -> Result<Vec<Project>> {
        Ok(self.deps.store.list_projects().await?)
    }

    /// Renames the project (1 to 100 characters), recording `project.renamed` (the names stay
    /// out of the record). Emails and hosted pages of this process show the new name at once,
    /// other processes within the project-context cache's lifetime (30 s).
    pub async fn rename(&self, id: ProjectId, name: &str, actor: Actor) -> Result<Project> {
        let name = project_name(name)?;
        let now = self.deps.clock.now();
        let audit = AuditEvent::new(id, now, actor, AuditAction::ProjectRenamed).detail("fields", vec!["name"]);
        if !self.deps.store.rename_project(id, name, &audit).await? {
            return Err(CoreError::ProjectNotFound);
        }
        self.deps.contexts.invalidate(id);
        self.project(id).await
    }

    /// Deletes the project and everything in it: users, sessions, keys, mail, its audit trail.
    /// Its API keys stop working at once; its tokens no longer verify (the JWKS is gone).
    pub async fn delete_project(&self, id: ProjectId) -> Result<()> {
        if !self.deps.store.delete_project(id).await? {
            return Err(CoreError::ProjectNotFound);
        }
        self.deps.contexts.invalidate(id);
        Ok(())
    }

    /// Replaces the project's settings (the app URL normalised, see
    /// [`ProjectSettings::app_url`]). Hosted pages of this process show a changed app URL at
    /// once, other processes within the project-context cache's lifetime (30 s).
    pub async fn update_settings(&self, id: ProjectId, settings: ProjectSettings) -> Result<Project> {
        let settings = checked_settings(settings)?;
        self.project(id).await?;
        self.deps.store.update_project_settings(id, &settings).await?;
        self.deps.contexts.invalidate(id);
        self.project(id).await
    }

    /// The admin API's partial update: both changes are checked before either is applied.
    pub async fn update(&self, id: ProjectId, change: ProjectChange, actor: Actor) -> Result<Project> {
        if let Some(name) = &change.name {
            project_name(name)?;
        }
        let app_url = change.app_url.map(|url| url.as_deref().map(ProjectSettings::app_url).transpose()).transpose()?;
        if let Some(name) = &change.name {
            self.rename(id, name, actor).await?;
        }
        match app_url {
            Some(app_url) => {
                let settings = ProjectSettings { app_url, ..self.project(id).await?.settings };
                self.update_settings(id, settings).await
            }
            None => self.project(id).await,
        }
    }

    pub async fn create_api_key(&self, project: ProjectId, name: &str, scope: ApiKeyScope) -> Result<NewApiKey> {
        self.project(project).await?;
        let mut key = self.new_api_key(project, name);
        key.record.scope = scope;
        let audit = AuditEvent::new(project, key.record.created_at, Actor::Cli, AuditAction::ApiKeyCreated)
            .detail("apiKeyId", key.record.id.to_string())
            .detail("scope", scope.as_str());
        self.deps.store.insert_api_key(&key.record, &audit).await?;
        Ok(key)
    }

    fn new_api_key(&self, project: ProjectId, name: &str) -> NewApiKey {
        let plaintext = format!("{API_KEY_PREFIX}{}", random_token(32));
        let record = ApiKeyRecord {
            id: ApiKeyId::generate(),
            project_id: project,
            name: name.trim().to_owned(),
            prefix: plaintext[..SHOWN_PREFIX_LEN].to_owned(),
            scope: ApiKeyScope::Auth,
            digest: digest(&plaintext),
            created_at: self.deps.clock.now(),
            revoked_at: None,
        };
        NewApiKey { record, plaintext }
    }

    pub async fn api_keys(&self, project: ProjectId) -> Result<Vec<ApiKeyRecord>> {
        self.project(project).await?;
        Ok(self.deps.store.list_api_keys(project).await?)
    }

    /// Returns false when the project has no live key with that id.
    pub async fn revoke_api_key(&self, project: ProjectId, id: ApiKeyId) -> Result<bool> {
        let now = self.deps.clock.now();
        let audit =
            AuditEvent::new(project, now, Actor::Cli, AuditAction::ApiKeyRevoked).detail("apiKeyId", id.to_string());
        Ok(self.deps.store.revoke_api_key(project, id, now, &audit).await?)
    }
}

/// A project name: trimmed, 1 to 100 characters.
fn project_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CoreError::invalid("name", "project name must be 1 to 100 characters"));
    }
    Ok(name)
}

/// `settings` if valid, with the app URL in its normalised form.
fn checked_settings(mut settings: ProjectSettings) -> Result<ProjectSettings> {
    let (access, refresh) = (settings.access_token_ttl_secs, settings.refresh_token_ttl_secs);
    if !(ProjectSettings::MIN_TTL_SECS..=ProjectSettings::MAX_ACCESS_TTL_SECS).contains(&access) {
        return Err(CoreError::invalid(
            "accessTokenTtl",
            "access-token lifetime must be between 1 minute and 24 hours",
        ));
    }
    if !(ProjectSettings::MIN_TTL_SECS..=ProjectSettings::MAX_REFRESH_TTL_SECS).contains(&refresh) {
        return Err(CoreError::invalid(
            "refreshTokenTtl",
            "refresh-token lifetime must be between 1 minute and 365 days",
        ));
    }
    if refresh < access {
        return Err(CoreError::invalid(
            "refreshTokenTtl",
            "refresh-token lifetime must not be shorter than the access-token lifetime",
        ));
    }
    settings.app_url = settings.app_url.as_deref().map(ProjectSettings::app_url).transpose()?;
    Ok(settings)
}
