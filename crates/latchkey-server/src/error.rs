//! API errors: every failure leaves as `{"error", "code", "field"?}` with a stable `code`.
//! Internal details are logged here and replaced by a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::CoreError;
use latchkey_core::store::StoreError;
use latchkey_proto::ErrorCode as Code;
// The body every error leaves as (routes name it in their OpenAPI annotations).
pub use latchkey_proto::ErrorBody;

/// `Retry-After` of `server/storage-full`: freeing disk space takes an operator, so clients
/// should not retry every second.
const STORAGE_RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// `code` is a wire `ErrorCode` (its text is the contract); a literal works too.
    pub fn new(status: StatusCode, code: impl Into<&'static str>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into(), field: None, retry_after_secs: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Code::InvalidBody, message)
    }

    pub fn invalid_api_key() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, Code::InvalidApiKey, "invalid API key")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::RouteNotFound, "no such route")
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "internal server error")
    }

    fn unavailable() -> Self {
        let mut e =
            Self::new(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable, "the service is temporarily unavailable");
        e.retry_after_secs = Some(1);
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        CoreError::from(err).into()
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        use StatusCode as S;
        let message = err.to_string();
        match err {
            CoreError::InvalidInput { field, .. } => ApiError::invalid_body(message).with_field(field),
            CoreError::WeakPassword(_) => {
                ApiError::new(S::BAD_REQUEST, Code::WeakPassword, message).with_field("password")
            }
            CoreError::DuplicateEmail => ApiError::new(S::CONFLICT, Code::DuplicateEmail, message).with_field("email"),
            CoreError::DuplicateUsername => {
                ApiError::new(S::CONFLICT, Code::DuplicateUsername, message).with_field("username")
            }
            CoreError::InvalidCredentials => ApiError::new(S::UNAUTHORIZED, Code::InvalidCredentials, message),
            CoreError::TooManyAttempts { retry_after_secs } => {
                let mut e = ApiError::new(S::TOO_MANY_REQUESTS, Code::TooManyAttempts, message);
                e.retry_after_secs = Some(retry_after_secs);
                e
            }
            CoreError::RefreshTokenMalformed => ApiError::new(S::FORBIDDEN, Code::RefreshTokenMalformed, message),
            CoreError::RefreshTokenInvalid => ApiError::new(S::FORBIDDEN, Code::RefreshTokenInvalid, message),
            CoreError::RefreshTokenProjectMismatch => {
                ApiError::new(S::FORBIDDEN, Code::RefreshTokenProjectMismatch, message)
            }
            CoreError::TokenReuseDetected => ApiError::new(S::UNAUTHORIZED, Code::TokenReuseDetected, message),
            CoreError::InvalidApiKey => ApiError::invalid_api_key(),
            CoreError::ProjectNotFound => ApiError::new(S::NOT_FOUND, Code::ProjectNotFound, message),
            CoreError::InvalidUsernameQuery(_) => {
                ApiError::new(S::BAD_REQUEST, Code::InvalidUsernameQuery, message).with_field("username")
            }
            CoreError::MissingJwt => ApiError::new(S::BAD_REQUEST, Code::MissingJwt, message).with_field("userJwt"),
            CoreError::InvalidExternalToken(_) => ApiError::new(S::FORBIDDEN, Code::InvalidToken, message),
            CoreError::ExternalProjectMismatch => ApiError::new(S::FORBIDDEN, Code::ProjectMismatch, message),
            CoreError::MissingExternalKeys => ApiError::new(S::FORBIDDEN, Code::MissingKeys, message),
            CoreError::ForeignIdConflict => {
                ApiError::new(S::CONFLICT, Code::ForeignIdConflict, message).with_field("email")
            }
            CoreError::AccountDisabled => ApiError::new(S::FORBIDDEN, Code::AccountDisabled, message),
            CoreError::UserSuspended => ApiError::new(S::FORBIDDEN, Code::UserSuspended, message),
            CoreError::InsufficientScope { .. } => ApiError::new(S::FORBIDDEN, Code::InsufficientScope, message),
            CoreError::InvalidResetToken => ApiError::new(S::BAD_REQUEST, Code::InvalidResetToken, message),
            CoreError::InvalidOrExpiredToken => ApiError::new(S::BAD_REQUEST, Code::InvalidOrExpiredToken, message),
            CoreError::UserNotFound => ApiError::new(S::NOT_FOUND, Code::UserNotFound, message),
            CoreError::SessionNotFound => ApiError::new(S::NOT_FOUND, Code::SessionNotFound, message),
            CoreError::InvalidCursor => {
                ApiError::new(S::BAD_REQUEST, Code::InvalidCursor, message).with_field("cursor")
            }
            CoreError::AlreadyVerified => ApiError::new(S::CONFLICT, Code::AlreadyVerified, message),
            CoreError::StandbyKeyTooNew { retry_after_secs } => {
                let mut e = ApiError::new(S::CONFLICT, Code::StandbyKeyTooNew, message);
                e.retry_after_secs = Some(retry_after_secs);
                e
            }
            CoreError::Busy => {
                let mut e = ApiError::new(S::SERVICE_UNAVAILABLE, Code::Busy, message);
                e.retry_after_secs = Some(1);
                e
            }
            CoreError::Store(StoreError::Unavailable(detail)) => {
                tracing::error!(%detail, "database unavailable");
                ApiError::unavailable()
            }
            CoreError::Store(StoreError::StorageFull(detail)) => {
                tracing::error!(%detail, "database storage full");
                let mut e = ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    Code::StorageFull,
                    "the service cannot store data right now (storage full)",
                );
                e.retry_after_secs = Some(STORAGE_RETRY_AFTER_SECS);
                e
            }
            CoreError::Store(other) => {
                tracing::error!(error = %other, "storage error");
                ApiError::internal()
            }
            CoreError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.message, code: self.code.to_owned(), field: self.field };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
