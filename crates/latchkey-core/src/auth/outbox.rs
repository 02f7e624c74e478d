//! The sealed body of an outbox row. The lifecycle itself (claim, prepare, send, retry) lives
//! in [`crate::mail`]; [`super::Services::outbox`] builds the outbox the worker drains.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use crate::crypto::MasterKey;
use crate::domain::{OutboxId, ProjectId};
use crate::{CoreError, Result};

/// An outbox row's body, sealed under the master key (bound to project and row id). `Debug`
/// never prints the address or the token.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MailPayload {
    /// Someone asked for a reset of this address; no account lookup has happened yet.
    ResetRequest {
        #[serde(serialize_with = "expose")]
        email: SecretString,
    },
    /// A ready message: recipient and the plaintext link token.
    Link {
        #[serde(serialize_with = "expose")]
        to: SecretString,
        #[serde(serialize_with = "expose")]
        token: SecretString,
        expires_at: DateTime<Utc>,
    },
}

/// Secrets serialize only into the sealed body.
fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

fn payload_context(project: ProjectId, id: OutboxId) -> String {
    format!("latchkey/outbox/{project}/{id}")
}

impl MailPayload {
    pub fn seal(&self, master: &MasterKey, project: ProjectId, id: OutboxId) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(self).map_err(|e| CoreError::Internal(e.to_string()))?;
        master.encrypt(&plain, &payload_context(project, id))
    }

    pub fn unseal(sealed: &[u8], master: &MasterKey, project: ProjectId, id: OutboxId) -> Result<Self> {
        let plain = master.decrypt(sealed, &payload_context(project, id))?;
        serde_json::from_slice(&plain).map_err(|e| CoreError::Internal(format!("unreadable outbox payload: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_address_and_token_but_the_sealed_form_keeps_them() {
        let payload = MailPayload::Link { to: "a@example.com".into(), token: "tok-123".into(), expires_at: Utc::now() };
        let debug = format!("{payload:?}");
        assert!(!debug.contains("a@example.com") && !debug.contains("tok-123"), "{debug}");
        let json = serde_json::to_string(&payload).unwrap();
        assert!(json.contains("\"to\":\"a@example.com\"") && json.contains("\"token\":\"tok-123\""), "{json}");
        let back: MailPayload = serde_json::from_str(&json).unwrap();
        assert!(matches!(back, MailPayload::Link { token, .. } if token.expose_secret() == "tok-123"));
    }
}
