//! Per-project email settings and the kinds of link a message can carry.

use serde::Serialize;

/// What a link token is for. Stored as text; a token of one purpose never works for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum LinkPurpose {
    PasswordReset,
    VerifyEmail,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// A project's own SMTP relay. The URL is kept without its password; the password is sealed
/// under the master key (context `latchkey/smtp-password/{project}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpOverride {
    pub url: String,
    #[serde(skip)]
    pub password_sealed: Option<Vec<u8>>,
    /// Shown instead of the password.
    pub has_password: bool,
}

/// Email behaviour of one project. Defaults follow API.md (reset 1 hour, verification 24 hours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailSettings {
    /// The customer's own page for resets; `?token=` is appended. None: Latchkey's hosted page.
    pub reset_page_url: Option<String>,
    pub verify_page_url: Option<String>,
    /// Sender address (`Name <addr>` or `addr`). None: the server-wide `LATCHKEY_MAIL_FROM`.
    pub mail_from: Option<String>,
    pub smtp: Option<SmtpOverride>,
    pub reset_ttl_secs: i64,
    pub verify_ttl_secs: i64,
    pub verify_on_sign_up: bool,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            reset_page_url: None,
            verify_page_url: None,
            mail_from: None,
            smtp: None,
            reset_ttl_secs: 3600,
            verify_ttl_secs: 24 * 3600,
            verify_on_sign_up: false,
        }
    }
}

impl MailSettings {
    pub const MIN_LINK_TTL_SECS: i64 = 5 * 60;
    pub const MAX_LINK_TTL_SECS: i64 = 7 * 24 * 3600;

    pub fn ttl_secs(&self, purpose: LinkPurpose) -> i64 {
        match purpose {
            LinkPurpose::PasswordReset => self.reset_ttl_secs,
            LinkPurpose::VerifyEmail => self.verify_ttl_secs,
        }
    }

    pub fn page_url(&self, purpose: LinkPurpose) -> Option<&str> {
        match purpose {
            LinkPurpose::PasswordReset => self.reset_page_url.as_deref(),
            LinkPurpose::VerifyEmail => self.verify_page_url.as_deref(),
        }
    }
}

pub fn smtp_password_context(project: super::ProjectId) -> String {
    format!("latchkey/smtp-password/{project}")
}
