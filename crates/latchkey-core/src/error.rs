//! The one error enum of the core layer. Each variant is a distinct, stable outcome the HTTP
//! layer maps to a status and an API `code`; internal detail stays in `Internal`/`Store` and
//! is logged, never shown to callers.

use crate::store::StoreError;

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request body is well-formed JSON but a field fails validation.
    #[error("{message}")]
    InvalidInput { field: &'static str, message: String },
    #[error("{0}")]
    WeakPassword(String),
    #[error("an account with this email already exists")]
    DuplicateEmail,
    #[error("this username is already taken")]
    DuplicateUsername,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts; try again later")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("the refresh token is malformed")]
    RefreshTokenMalformed,
    #[error("the refresh token is expired, revoked or otherwise invalid")]
    RefreshTokenInvalid,
    #[error("the refresh token belongs to another project")]
    RefreshTokenProjectMismatch,
    #[error("this refresh token was already used; the session has been revoked")]
    TokenReuseDetected,
    #[error("invalid API key")]
    InvalidApiKey,
    /// A live key of the right project, without the scope the route needs.
    #[error("this API key does not have the {needed} scope")]
    InsufficientScope { needed: &'static str },
    #[error("project not found")]
    ProjectNotFound,
    #[error("invalid username query: {0}")]
    InvalidUsernameQuery(String),
    /// `verify-external-user` without a `userJwt`.
    #[error("userJwt is required")]
    MissingJwt,
    /// The external user JWT failed verification; the text says which check failed.
    #[error("the user JWT is invalid: {0}")]
    InvalidExternalToken(&'static str),
    /// The external user JWT names another project as its issuer.
    #[error("the user JWT was issued for another project")]
    ExternalProjectMismatch,
    /// The project has no signing secret, public key or JWKS URL for external users.
    #[error("this project has no key for verifying external user JWTs")]
    MissingExternalKeys,
    /// The user with this email is already linked to another foreign id.
    #[error("a user with this email is already linked to another external account")]
    ForeignIdConflict,
    /// A suspension is in force for this user.
    #[error("this account is suspended")]
    UserSuspended,
    /// The account exists but is deactivated.
    #[error("this account is disabled")]
    AccountDisabled,
    /// A reset token that is unknown, of another project, used, superseded or expired.
    #[error("the password reset link is invalid, expired or already used")]
    InvalidResetToken,
    /// The same for an email verification token.
    #[error("the verification link is invalid, expired or already used")]
    InvalidOrExpiredToken,
    #[error("user not found")]
    UserNotFound,
    #[error("session not found")]
    SessionNotFound,
    /// A list cursor this server did not issue.
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error("this user's email address is already verified")]
    AlreadyVerified,
    /// A signing-key rotation while the standby key is younger than the JWKS's cache
    /// lifetime: verifiers with a cached JWKS would not know the key yet.
    #[error("the standby signing key was published too recently; retry later, or force the rotation in an emergency")]
    StandbyKeyTooNew { retry_after_secs: u64 },
    /// The password-hashing pool's queue is full: shed load instead of queueing forever.
    #[error("the server is busy; retry shortly")]
    Busy,
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CoreError::InvalidInput { field, message: message.into() }
    }
}
