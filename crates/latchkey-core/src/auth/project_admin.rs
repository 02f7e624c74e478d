//! Operator actions on projects: create (and bootstrap), settings, API keys, and the start-up
//! check that the master key opens every project's signing keys.

use std::sync::Arc;

use super::shared::Deps;
use crate::crypto::{digest, random_token};
use crate::domain::{ApiKeyId, ApiKeyRecord, ApiKeyScope, Project, ProjectId, ProjectSettings};
use crate::tokens::SigningKey;
use crate::{CoreError, Result};

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
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(CoreError::invalid("name", "project name must be 1 to 100 characters"));
        }
        validate_settings(&settings)?;
        let now = self.deps.clock.now();
        let project = Project { id: ProjectId::generate(), name: name.to_owned(), settings, created_at: now };
        let (_, stored_key) = SigningKey::generate(project.id, &self.deps.master, now)?;
        self.deps.store.create_project(&project, &stored_key).await?;
        Ok(project)
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
        let (_, stored_key) = SigningKey::generate(project.id, &self.deps.master, now)?;
        let key = self.new_api_key(project.id, "bootstrap");
        let created = self.deps.store.create_first_project(&project, &stored_key, &key.record).await?;
        Ok(created.then_some((project, key)))
    }

    pub async fn project(&self, id: ProjectId) -> Result<Project> {
        self.deps.project(id).await
    }

    pub async fn projects(&self) -> Result<Vec<Project>> {
        Ok(self.deps.store.list_projects().await?)
    }

    pub async fn update_settings(&self, id: ProjectId, settings: ProjectSettings) -> Result<Project> {
        validate_settings(&settings)?;
        self.project(id).await?;
        self.deps.store.update_project_settings(id, &settings).await?;
        self.project(id).await
    }

    pub async fn create_api_key(&self, project: ProjectId, name: &str, scope: ApiKeyScope) -> Result<NewApiKey> {
        self.project(project).await?;
        let mut key = self.new_api_key(project, name);
        key.record.scope = scope;
        self.deps.store.insert_api_key(&key.record).await?;
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
        Ok(self.deps.store.revoke_api_key(project, id, self.deps.clock.now()).await?)
    }
}

fn validate_settings(settings: &ProjectSettings) -> Result<()> {
    let ProjectSettings { access_token_ttl_secs: access, refresh_token_ttl_secs: refresh } = *settings;
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
    Ok(())
}
