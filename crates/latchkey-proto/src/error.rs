//! The error body and its stable codes.

use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Human-readable message; never internal detail.
    #[cfg_attr(feature = "openapi", schema(example = "invalid email or password"))]
    pub error: String,
    /// Stable machine-readable code, `area/kebab-case` (or `DUPLICATE_EMAIL`/`DUPLICATE_USERNAME`).
    #[cfg_attr(feature = "openapi", schema(example = "auth/invalid-credentials"))]
    pub code: String,
    /// The request field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "email"))]
    pub field: Option<String>,
}

/// Every `code` this server version answers with. The strings are the contract; clients keep
/// the code as text too, since a newer server may answer one this enum does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::Display)]
pub enum ErrorCode {
    #[strum(serialize = "auth/invalid-body")]
    InvalidBody,
    #[strum(serialize = "auth/invalid-api-key")]
    InvalidApiKey,
    /// An `auth` API key on an admin route.
    #[strum(serialize = "auth/insufficient-scope")]
    InsufficientScope,
    #[strum(serialize = "auth/weak-password")]
    WeakPassword,
    #[strum(serialize = "DUPLICATE_EMAIL")]
    DuplicateEmail,
    #[strum(serialize = "DUPLICATE_USERNAME")]
    DuplicateUsername,
    #[strum(serialize = "auth/invalid-credentials")]
    InvalidCredentials,
    #[strum(serialize = "auth/too-many-attempts")]
    TooManyAttempts,
    #[strum(serialize = "auth/refresh-token-malformed")]
    RefreshTokenMalformed,
    #[strum(serialize = "auth/refresh-token-invalid")]
    RefreshTokenInvalid,
    #[strum(serialize = "auth/refresh-token-project-mismatch")]
    RefreshTokenProjectMismatch,
    #[strum(serialize = "auth/token-reuse-detected")]
    TokenReuseDetected,
    #[strum(serialize = "auth/missing-jwt")]
    MissingJwt,
    #[strum(serialize = "auth/invalid-token")]
    InvalidToken,
    #[strum(serialize = "auth/project-mismatch")]
    ProjectMismatch,
    #[strum(serialize = "auth/missing-keys")]
    MissingKeys,
    #[strum(serialize = "auth/foreign-id-conflict")]
    ForeignIdConflict,
    #[strum(serialize = "auth/account-disabled")]
    AccountDisabled,
    /// The user is suspended (sign-in, refresh, external sign-in).
    #[strum(serialize = "auth/user-suspended")]
    UserSuspended,
    #[strum(serialize = "auth/invalid-reset-token")]
    InvalidResetToken,
    #[strum(serialize = "auth/invalid-or-expired-token")]
    InvalidOrExpiredToken,
    #[strum(serialize = "auth/already-verified")]
    AlreadyVerified,
    #[strum(serialize = "project/not-found")]
    ProjectNotFound,
    #[strum(serialize = "user/not-found")]
    UserNotFound,
    /// An admin route's path names a session this user does not have.
    #[strum(serialize = "session/not-found")]
    SessionNotFound,
    /// A list cursor that this server did not issue (or for another query).
    #[strum(serialize = "request/invalid-cursor")]
    InvalidCursor,
    /// A signing-key rotation before the standby key has been published for the JWKS's cache
    /// lifetime (`Retry-After` says how long); forcing it is for emergencies.
    #[strum(serialize = "signing-key/standby-too-new")]
    StandbyKeyTooNew,
    #[strum(serialize = "username/invalid-query")]
    InvalidUsernameQuery,
    #[strum(serialize = "request/body-timeout")]
    BodyTimeout,
    #[strum(serialize = "route/not-found")]
    RouteNotFound,
    #[strum(serialize = "route/method-not-allowed")]
    MethodNotAllowed,
    #[strum(serialize = "server/busy")]
    Busy,
    #[strum(serialize = "server/unavailable")]
    Unavailable,
    #[strum(serialize = "server/storage-full")]
    StorageFull,
    #[strum(serialize = "server/internal")]
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_from_their_text() {
        for code in [ErrorCode::InvalidBody, ErrorCode::DuplicateEmail, ErrorCode::StorageFull] {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
        assert_eq!(ErrorCode::DuplicateUsername.to_string(), "DUPLICATE_USERNAME");
        assert!("auth/from-the-future".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn unknown_enum_values_read_as_other() {
        let role: crate::Role = serde_json::from_str("\"owner\"").unwrap();
        assert_eq!(role, crate::Role::Other);
        let body: ErrorBody = serde_json::from_str(r#"{"error":"x","code":"c"}"#).unwrap();
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"error":"x","code":"c"}"#);
    }
}
