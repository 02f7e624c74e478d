use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ApiKeyId, ProjectId};

/// Per-project knobs. Defaults follow API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectSettings {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        Self { access_token_ttl_secs: 30 * 60, refresh_token_ttl_secs: 30 * 24 * 3600 }
    }
}

impl ProjectSettings {
    pub const MIN_TTL_SECS: i64 = 60;
    pub const MAX_ACCESS_TTL_SECS: i64 = 24 * 3600;
    pub const MAX_REFRESH_TTL_SECS: i64 = 365 * 24 * 3600;
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub settings: ProjectSettings,
    pub created_at: DateTime<Utc>,
}

/// What an API key may call: `Auth`, the SDK's routes; `Admin`, those and the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, strum::Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ApiKeyScope {
    Auth,
    Admin,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl From<ApiKeyScope> for latchkey_proto::ApiKeyScope {
    fn from(scope: ApiKeyScope) -> Self {
        match scope {
            ApiKeyScope::Auth => Self::Auth,
            ApiKeyScope::Admin => Self::Admin,
        }
    }
}

/// An API key as stored: only its SHA-256 digest and a short public prefix for listing.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    pub name: String,
    pub prefix: String,
    pub scope: ApiKeyScope,
    #[serde(skip)]
    pub digest: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}
