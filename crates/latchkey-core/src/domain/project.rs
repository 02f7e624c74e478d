use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ApiKeyId, ProjectId};
use crate::{CoreError, Result};

/// Per-project knobs. Defaults follow API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectSettings {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Where the hosted pages' "Back to <project>" link goes (unset: no link). Always a value
    /// [`ProjectSettings::app_url`] accepted.
    pub app_url: Option<String>,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        Self { access_token_ttl_secs: 30 * 60, refresh_token_ttl_secs: 30 * 24 * 3600, app_url: None }
    }
}

impl ProjectSettings {
    pub const MIN_TTL_SECS: i64 = 60;
    pub const MAX_ACCESS_TTL_SECS: i64 = 24 * 3600;
    pub const MAX_REFRESH_TTL_SECS: i64 = 365 * 24 * 3600;
    /// Bytes of an app URL, as given and as normalised.
    pub const MAX_APP_URL_LEN: usize = 2048;

    /// An app URL, checked and normalised (`https://Acme.example` -> `https://acme.example/`).
    /// It is shown to people as a link on pages this server vouches for, so: an absolute
    /// `https://` URL (`http://` only for `localhost`, `127.0.0.1` or `[::1]`, for development),
    /// no user name or password (`https://acme.example@evil.example/` reads as acme), no spaces
    /// or control characters (which URL parsing would silently drop), at most 2048 bytes.
    /// `javascript:`, `data:` and every other scheme are refused.
    pub fn app_url(raw: &str) -> Result<String> {
        let invalid = || {
            Err(CoreError::invalid(
                "appUrl",
                "app URL must be an absolute https:// URL (http:// only for localhost or 127.0.0.1) \
                 of at most 2048 characters, without spaces, user name or password",
            ))
        };
        let raw = raw.trim();
        if raw.len() > Self::MAX_APP_URL_LEN || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid();
        }
        let Ok(url) = url::Url::parse(raw) else { return invalid() };
        let loopback = matches!(
            url.host(),
            Some(url::Host::Domain("localhost")) | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
        ) || url.host() == Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST));
        let scheme_ok = match url.scheme() {
            "https" => url.host().is_some(),
            "http" => loopback,
            _ => false,
        };
        if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
            return invalid();
        }
        let normalised = String::from(url);
        if normalised.len() > Self::MAX_APP_URL_LEN {
            return invalid();
        }
        Ok(normalised)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_urls_are_https_or_loopback_http_and_normalised() {
        for (given, stored) in [
            ("https://acme.example", "https://acme.example/"),
            ("  https://Acme.Example/app?from=reset#top ", "https://acme.example/app?from=reset#top"),
            ("http://localhost:3000/", "http://localhost:3000/"),
            ("http://127.0.0.1:8080/app", "http://127.0.0.1:8080/app"),
            ("http://[::1]/", "http://[::1]/"),
            ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ] {
            assert_eq!(ProjectSettings::app_url(given).unwrap(), stored, "{given}");
        }
    }

    #[test]
    fn app_urls_that_could_mislead_or_run_code_are_refused() {
        let long = format!("https://acme.example/{}", "a".repeat(2048));
        for bad in [
            "",
            "acme.example",
            "/relative",
            "//acme.example/",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "ftp://acme.example/",
            "http://acme.example/",
            "http://localhost.evil.example/",
            "http://127.0.0.2/",
            "https://acme.example@evil.example/",
            "https://user:pass@acme.example/",
            "https://acme.example/a b",
            "https://acme.example/\tpath",
            "https://acme.example/\npath",
            "java\nscript:alert(1)",
            long.as_str(),
        ] {
            let refused = ProjectSettings::app_url(bad);
            assert!(matches!(&refused, Err(CoreError::InvalidInput { field: "appUrl", .. })), "{bad:?} -> {refused:?}");
        }
    }
}
