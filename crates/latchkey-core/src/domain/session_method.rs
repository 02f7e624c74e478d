//! How a session began, recorded on the session row for the operator's session list.

/// Stored as its kebab-case text; `unknown` for sessions older than the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "kebab-case")]
pub enum SessionMethod {
    SignUp,
    Password,
    External,
    Unknown,
}

impl SessionMethod {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The stored text; anything this version does not know reads as `Unknown`.
    pub fn parse(text: &str) -> Self {
        text.parse().unwrap_or(Self::Unknown)
    }
}

impl From<SessionMethod> for latchkey_proto::admin::SessionMethod {
    fn from(method: SessionMethod) -> Self {
        match method {
            SessionMethod::SignUp => Self::SignUp,
            SessionMethod::Password => Self::Password,
            SessionMethod::External => Self::External,
            SessionMethod::Unknown => Self::Unknown,
        }
    }
}
