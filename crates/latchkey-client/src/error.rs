//! The SDK's one error type.

use latchkey_proto::ErrorCode;

/// An error answered by the Latchkey API: `{"error", "code", "field"?}` with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status, e.g. 401.
    pub status: u16,
    /// Stable machine-readable code, e.g. `auth/invalid-credentials`, `DUPLICATE_EMAIL`.
    pub code: String,
    /// Human-readable message (the body's `error`).
    pub message: String,
    /// The request field at fault, when the server named one.
    pub field: Option<String>,
    /// Seconds from `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// The code as a known [`ErrorCode`]; `None` for a code this client version does not know.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code.parse().ok()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} {}", self.message, self.status, self.code)?;
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ")")
    }
}

/// Why [`crate::Client::verify_access_token`] refused a token. Every variant means "treat
/// the caller as unauthenticated" (answer 401), unlike [`Error::Jwks`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("not a JWT")]
    Malformed,
    #[error("algorithm {0} is not accepted (EdDSA only)")]
    Algorithm(String),
    #[error("the token has no kid")]
    MissingKid,
    #[error("no key {0:?} in the project's JWKS")]
    UnknownKey(String),
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("wrong audience (not an access token of this project)")]
    Audience,
    #[error("wrong issuer")]
    Issuer,
    #[error("not valid yet")]
    NotYetValid,
    #[error("invalid claims: {0}")]
    Claims(String),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status.
    #[error("Latchkey API error: {0}")]
    Api(ApiError),
    /// No answer within the client's timeout.
    #[error("request to Latchkey timed out")]
    Timeout,
    /// Connection refused, DNS, TLS, or another transport failure.
    #[error("cannot reach Latchkey: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx answer that is not the documented JSON, or an error without a Latchkey body.
    #[error("unexpected response from Latchkey (HTTP {status}): {detail}")]
    InvalidResponse { status: u16, detail: String },
    /// A call's argument cannot be sent, such as an empty id (nothing was sent).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The client was built with an unusable setting.
    #[error("invalid Latchkey client configuration: {0}")]
    Config(String),
    /// The access token is not valid (see [`TokenError`]).
    #[error("invalid access token: {0}")]
    InvalidToken(#[from] TokenError),
    /// The project's JWKS could not be fetched or read, so no verdict on the token.
    #[error("cannot load the project's JWKS: {0}")]
    Jwks(String),
}

impl Error {
    /// The API's `code` (`auth/invalid-credentials`, …) for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The HTTP status for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The field the API named, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.field.as_deref(),
            _ => None,
        }
    }

    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() { Error::Timeout } else { Error::Transport(e) }
    }
}
