//! The services bundles: [`Services`], everything a server process runs, built once in
//! `serve::Application::build` and held by the router's state; and [`Admin`], the operator
//! services, which the admin commands build alone over the same [`Deps`].

use std::sync::Arc;

use super::AuthPolicy;
use super::api_key_check::ApiKeyCheck;
use super::audit_trail::AuditTrail;
use super::email_links::EmailLinks;
use super::external_admin::ExternalAdmin;
use super::external_sign_in::ExternalSignIn;
use super::health::Health;
use super::import_settings::ImportSettings;
use super::mail_admin::MailAdmin;
use super::maintenance::Maintenance;
use super::project_admin::ProjectAdmin;
use super::projects::Projects;
use super::registration::Registration;
use super::sessions::Sessions;
use super::shared::{Deps, Shared};
use super::signing_keys::SigningKeys;
use super::user_admin::UserAdmin;
use super::user_import::UserImport;
use crate::hashing::HasherPool;
use crate::mail::Outbox;

/// The operator services (projects and API keys, external-user keys, mail settings and the
/// outbox, users and their sessions, signing-key rotation, the audit trail), each over the
/// same [`Deps`]. Users need the hashing pool (passwords set by an operator): the admin
/// commands start a small one.
#[derive(Clone)]
pub struct Admin {
    pub projects: ProjectAdmin,
    pub external: ExternalAdmin,
    pub mail: MailAdmin,
    pub users: UserAdmin,
    pub imports: UserImport,
    pub signing_keys: SigningKeys,
    pub audit: AuditTrail,
    pub import_settings: ImportSettings,
}

impl Admin {
    pub fn new(deps: Deps, hasher: Arc<HasherPool>) -> Self {
        let deps = Arc::new(deps);
        Self {
            projects: ProjectAdmin::new(Arc::clone(&deps)),
            external: ExternalAdmin::new(Arc::clone(&deps)),
            signing_keys: SigningKeys::new(Arc::clone(&deps)),
            audit: AuditTrail::new(Arc::clone(&deps)),
            mail: MailAdmin::new(Arc::clone(&deps)),
            import_settings: ImportSettings::new(Arc::clone(&deps)),
            imports: UserImport::new(Arc::clone(&deps)),
            users: UserAdmin::new(deps, hasher),
        }
    }
}

/// Every service of a server process, one per flow, over one set of shared dependencies.
/// Handlers call e.g. `state.services.sessions.refresh(..)`.
#[derive(Clone)]
pub struct Services {
    pub registration: Registration,
    pub sessions: Sessions,
    pub api_keys: ApiKeyCheck,
    pub email_links: EmailLinks,
    pub external_sign_in: ExternalSignIn,
    pub projects: Projects,
    pub health: Health,
    pub maintenance: Maintenance,
    pub admin: Admin,
    shared: Arc<Shared>,
}

impl Services {
    pub fn new(deps: Deps, hasher: Arc<HasherPool>, policy: AuthPolicy) -> Self {
        let mut admin = Admin::new(deps.clone(), Arc::clone(&hasher));
        let shared = Arc::new(Shared::new(&deps, hasher, policy));
        // Mail an operator queues wakes the same worker as the request flows' mail.
        admin.users.wake_outbox_with(Arc::clone(&shared.outbox_signal));
        let email_links = EmailLinks::new(Arc::clone(&shared));
        Self {
            registration: Registration::new(Arc::clone(&shared), email_links.clone()),
            sessions: Sessions::new(Arc::clone(&shared)),
            api_keys: ApiKeyCheck::new(Arc::clone(&shared)),
            email_links,
            external_sign_in: ExternalSignIn::new(Arc::clone(&shared)),
            projects: Projects::new(Arc::clone(&shared)),
            health: Health::new(Arc::clone(&shared)),
            maintenance: Maintenance::new(Arc::clone(&shared)),
            admin,
            shared,
        }
    }

    /// The outbox the delivery worker drains, woken by the signal the request flows notify.
    pub fn outbox(&self) -> Outbox {
        self.shared.outbox()
    }

    pub fn policy(&self) -> &AuthPolicy {
        &self.shared.policy
    }
}
