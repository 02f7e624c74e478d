//! The JSON the admin commands print with `--json`: camelCase keys, as the HTTP API writes
//! them, instants as ISO 8601 (milliseconds, UTC) and durations in seconds under the name of
//! their flag (`--reset-ttl` is `resetTtl`). Where the admin API has a body for the same thing
//! (a project, users, signing keys, the audit trail) the commands print that proto type; the
//! shapes below are those only the command line shows. None of them serialises a domain type,
//! so a change inside the core cannot change what scripts read.

use latchkey_core::domain::{ApiKeyRecord, MailSettings};
use latchkey_core::store::{ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, OutboxRow};
use latchkey_proto::ApiKeyScope;
use latchkey_proto::admin::AdminProject;
use serde::Serialize;
use serde_json::Value;

use crate::admin_wire::iso;

/// `project set --json`: the project and its email settings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectWithMail {
    #[serde(flatten)]
    pub project: AdminProject,
    pub mail: ProjectMail,
}

/// A project's email settings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectMail {
    /// `null`: the hosted page.
    pub reset_page_url: Option<String>,
    pub verify_page_url: Option<String>,
    /// `null`: the server's `LATCHKEY_MAIL_FROM`.
    pub mail_from: Option<String>,
    /// `null`: the server's relay.
    pub smtp: Option<ProjectSmtp>,
    /// Seconds.
    pub reset_ttl: i64,
    /// Seconds.
    pub verify_ttl: i64,
    pub verify_on_sign_up: bool,
}

/// A project's own SMTP relay: the URL without its password, which is stored sealed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSmtp {
    pub url: String,
    pub has_password: bool,
}

impl From<&MailSettings> for ProjectMail {
    fn from(settings: &MailSettings) -> Self {
        Self {
            reset_page_url: settings.reset_page_url.clone(),
            verify_page_url: settings.verify_page_url.clone(),
            mail_from: settings.mail_from.clone(),
            smtp: settings
                .smtp
                .as_ref()
                .map(|smtp| ProjectSmtp { url: smtp.url.clone(), has_password: smtp.has_password }),
            reset_ttl: settings.reset_ttl_secs,
            verify_ttl: settings.verify_ttl_secs,
            verify_on_sign_up: settings.verify_on_sign_up,
        }
    }
}

/// `api-key list --json`: one key, never the key itself.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: String,
    pub project_id: String,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub scope: ApiKeyScope,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<&ApiKeyRecord> for ApiKeyInfo {
    fn from(key: &ApiKeyRecord) -> Self {
        Self {
            id: key.id.to_string(),
            project_id: key.project_id.to_string(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            scope: key.scope.into(),
            created_at: iso(key.created_at),
            revoked_at: key.revoked_at.map(iso),
        }
    }
}

/// `api-key create --json`: the new key's record and, this once, the key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApiKey {
    #[serde(flatten)]
    pub key: ApiKeyInfo,
    pub api_key: String,
}

/// `signing-secret list --json`: one secret's id and state, never the secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningSecretInfo {
    /// Also the `kid` a token may carry to select it.
    pub id: String,
    pub project_id: String,
    pub created_at: String,
    /// Set when rotated out: it works until then.
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&ExternalSecretRecord> for SigningSecretInfo {
    fn from(secret: &ExternalSecretRecord) -> Self {
        Self {
            id: secret.id.clone(),
            project_id: secret.project_id.to_string(),
            created_at: iso(secret.created_at),
            expires_at: secret.expires_at.map(iso),
            revoked_at: secret.revoked_at.map(iso),
        }
    }
}

/// `signing-secret create|rotate --json`: the new secret, printed this once.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSigningSecret {
    pub id: String,
    pub project_id: String,
    pub secret: String,
}

/// `external-key add|list --json`: a registered public key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalKeyInfo {
    pub project_id: String,
    pub kid: String,
    pub alg: String,
    /// The public key as a JWK (its members are the JWK's own names).
    pub jwk: Value,
    pub created_at: String,
}

impl From<&ExternalKeyRecord> for ExternalKeyInfo {
    fn from(key: &ExternalKeyRecord) -> Self {
        Self {
            project_id: key.project_id.to_string(),
            kid: key.kid.clone(),
            alg: key.alg.clone(),
            jwk: serde_json::from_str(&key.jwk).unwrap_or(Value::Null),
            created_at: iso(key.created_at),
        }
    }
}

/// `external-config show|set --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalConfig {
    /// Seconds: longer-lived tokens are refused.
    pub max_token_lifetime: i64,
    pub jwks_url: Option<String>,
}

impl From<&ExternalSettings> for ExternalConfig {
    fn from(settings: &ExternalSettings) -> Self {
        Self { max_token_lifetime: settings.max_token_lifetime_secs, jwks_url: settings.jwks_url.clone() }
    }
}

/// `outbox list --json`: one message (its body is encrypted and never shown).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub id: String,
    pub project_id: String,
    /// `password-reset` or `verify-email`.
    pub kind: String,
    /// `pending`, `sending`, `sent`, `failed` or `dropped`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<&OutboxRow> for OutboxMessage {
    fn from(row: &OutboxRow) -> Self {
        Self {
            id: row.id.to_string(),
            project_id: row.project_id.to_string(),
            kind: row.purpose.as_str().to_owned(),
            state: row.state.as_str().to_owned(),
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.map(iso),
            last_error: row.last_error.clone(),
            created_at: iso(row.created_at),
            sent_at: row.sent_at.map(iso),
        }
    }
}

/// `init --json`: where the database and its master key are.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitReport {
    /// The embedded database's file (absolute), or the PostgreSQL URL without its password.
    pub database: String,
    /// This run created the database (always false on PostgreSQL).
    pub database_created: bool,
    /// The master key's file, when the key is kept in one (`null`: LATCHKEY_MASTER_KEY).
    pub master_key_file: Option<String>,
    /// This run generated the master key.
    pub master_key_created: bool,
}
