//! A project's parameters for imported password hashes (issue 11): Firebase's modified scrypt
//! needs the project's signer key, salt separator, rounds and memory cost, given once by the
//! operator (`latchkey user import-settings`) and read when a `$firebase-scrypt$` hash is
//! verified. The signer key is sealed under the master key like every other secret.

use std::sync::Arc;

use super::shared::Deps;
use crate::crypto::MasterKey;
use crate::domain::{Actor, AuditAction, AuditEvent, ProjectId};
use crate::hashing::imported::FirebaseScryptParams;
use crate::store::{FirebaseHashSettings, Store};
use crate::{CoreError, Result};

#[derive(Clone)]
pub struct ImportSettings {
    deps: Arc<Deps>,
}

impl ImportSettings {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Sets (or replaces) the project's Firebase hash parameters, recording
    /// `project.import-settings-changed` (without the secret).
    pub async fn set_firebase(&self, project: ProjectId, params: &FirebaseScryptParams, actor: Actor) -> Result<()> {
        let now = self.deps.clock.now();
        let settings = FirebaseHashSettings {
            project_id: project,
            signer_key_sealed: self.deps.master.encrypt(&params.signer_key, &signer_key_context(project))?,
            salt_separator: params.salt_separator.clone(),
            rounds: params.rounds,
            mem_cost: params.mem_cost,
            updated_at: now,
        };
        let audit =
            AuditEvent::new(project, now, actor, AuditAction::ImportSettingsChanged).detail("fields", vec!["firebase"]);
        if self.deps.store.get_project(project).await?.is_none() {
            return Err(CoreError::ProjectNotFound);
        }
        Ok(self.deps.store.put_firebase_hash_settings(&settings, &audit).await?)
    }

    /// The project's Firebase parameters, when set.
    pub async fn firebase(&self, project: ProjectId) -> Result<Option<FirebaseScryptParams>> {
        firebase_params(self.deps.store.as_ref(), &self.deps.master, project).await
    }
}

/// Read (and unsealed) for each `$firebase-scrypt$` verification: Firebase users sign in once
/// each before their hash is Argon2id, so this is not worth a cache.
pub(crate) async fn firebase_params(
    store: &dyn Store,
    master: &MasterKey,
    project: ProjectId,
) -> Result<Option<FirebaseScryptParams>> {
    let Some(stored) = store.firebase_hash_settings(project).await? else {
        return Ok(None);
    };
    let signer_key = master.decrypt(&stored.signer_key_sealed, &signer_key_context(project))?;
    FirebaseScryptParams::new(signer_key, stored.salt_separator, stored.rounds, stored.mem_cost).map(Some)
}

fn signer_key_context(project: ProjectId) -> String {
    format!("firebase-signer-key/{project}")
}
