//! API errors: every failure leaves as `{"error", "code", "field"?}` with a stable `code`.
//! Internal details are logged here and replaced by a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::CoreError;
use latchkey_core::store::StoreError;
use serde::Serialize;

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

/// The body of every error response (also the `ErrorBody` schema of the OpenAPI document).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Human-readable message; never internal detail.
    #[schema(example = "invalid email or password")]
    pub error: &'a str,
    /// Stable machine-readable code, `area/kebab-case` (or `DUPLICATE_EMAIL`/`DUPLICATE_USERNAME`).
    #[schema(example = "auth/invalid-credentials")]
    pub code: &'a str,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "email")]
    pub field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, retry_after_secs: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "auth/invalid-body", message)
    }

    pub fn invalid_api_key() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "auth/invalid-api-key", "invalid API key")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "route/not-found", "no such route")
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server/internal", "internal server error")
    }

    fn unavailable() -> Self {
        let mut e =
            Self::new(StatusCode::SERVICE_UNAVAILABLE, "server/unavailable", "the service is temporarily unavailable");
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
                ApiError::new(S::BAD_REQUEST, "auth/weak-password", message).with_field("password")
            }
            CoreError::DuplicateEmail => ApiError::new(S::CONFLICT, "DUPLICATE_EMAIL", message).with_field("email"),
            CoreError::DuplicateUsername => {
                ApiError::new(S::CONFLICT, "DUPLICATE_USERNAME", message).with_field("username")
            }
            CoreError::InvalidCredentials => ApiError::new(S::UNAUTHORIZED, "auth/invalid-credentials", message),
            CoreError::TooManyAttempts { retry_after_secs } => {
                let mut e = ApiError::new(S::TOO_MANY_REQUESTS, "auth/too-many-attempts", message);
                e.retry_after_secs = Some(retry_after_secs);
                e
            }
            CoreError::RefreshTokenMalformed => ApiError::new(S::FORBIDDEN, "auth/refresh-token-malformed", message),
            CoreError::RefreshTokenInvalid => ApiError::new(S::FORBIDDEN, "auth/refresh-token-invalid", message),
            CoreError::RefreshTokenProjectMismatch => {
                ApiError::new(S::FORBIDDEN, "auth/refresh-token-project-mismatch", message)
            }
            CoreError::TokenReuseDetected => ApiError::new(S::UNAUTHORIZED, "auth/token-reuse-detected", message),
            CoreError::InvalidApiKey => ApiError::invalid_api_key(),
            CoreError::ProjectNotFound => ApiError::new(S::NOT_FOUND, "project/not-found", message),
            CoreError::InvalidUsernameQuery(_) => {
                ApiError::new(S::BAD_REQUEST, "username/invalid-query", message).with_field("username")
            }
            CoreError::MissingJwt => ApiError::new(S::BAD_REQUEST, "auth/missing-jwt", message).with_field("userJwt"),
            CoreError::InvalidExternalToken(_) => ApiError::new(S::FORBIDDEN, "auth/invalid-token", message),
            CoreError::ExternalProjectMismatch => ApiError::new(S::FORBIDDEN, "auth/project-mismatch", message),
            CoreError::MissingExternalKeys => ApiError::new(S::FORBIDDEN, "auth/missing-keys", message),
            CoreError::ForeignIdConflict => {
                ApiError::new(S::CONFLICT, "auth/foreign-id-conflict", message).with_field("email")
            }
            CoreError::AccountDisabled => ApiError::new(S::FORBIDDEN, "auth/account-disabled", message),
            CoreError::InvalidResetToken => ApiError::new(S::BAD_REQUEST, "auth/invalid-reset-token", message),
            CoreError::InvalidOrExpiredToken => ApiError::new(S::BAD_REQUEST, "auth/invalid-or-expired-token", message),
            CoreError::UserNotFound => ApiError::new(S::NOT_FOUND, "user/not-found", message),
            CoreError::AlreadyVerified => ApiError::new(S::CONFLICT, "auth/already-verified", message),
            CoreError::Busy => {
                let mut e = ApiError::new(S::SERVICE_UNAVAILABLE, "server/busy", message);
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
                    "server/storage-full",
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
        let body = ErrorBody { error: &self.message, code: self.code, field: self.field.as_deref() };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
