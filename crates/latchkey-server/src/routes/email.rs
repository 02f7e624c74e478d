//! `POST /v7/{project_id}/auth/…` for the email flows: request-password-reset, reset-password,
//! verify-email, send-verification-email (API key required).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use latchkey_core::CoreError;
use latchkey_core::domain::UserId;
use latchkey_proto::{
    ErrorBody, MessageResponse, RequestPasswordReset as EmailBody, ResetPassword as ResetBody,
    SendVerificationEmail as UserBody, SuccessResponse, VerifyEmail as TokenBody,
};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ProjectKey};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/request-password-reset", post(request_password_reset))
        .route("/reset-password", post(reset_password))
        .route("/verify-email", post(verify_email))
        .route("/send-verification-email", post(send_verification_email))
}

/// The same words whether or not the address has an account (API.md).
pub const RESET_REQUESTED: &str = "If an account with that email exists, a password reset link has been sent.";

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/request-password-reset", tag = "email", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = EmailBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "Always the same answer, whether or not the address has an account", body = MessageResponse),
        (status = 400, description = "`auth/invalid-body` (malformed body only)", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn request_password_reset(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    state.services.email_links.request_password_reset(project, &body.email).await?;
    Ok(Json(message(RESET_REQUESTED)))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/reset-password", tag = "email", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = ResetBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "Password reset; every session of the user is revoked", body = MessageResponse),
        (status = 400, description = "`auth/invalid-reset-token`, `auth/weak-password` (field `newPassword`) or `auth/invalid-body`", body = ErrorBody),
        (status = 503, description = "`server/busy` or `server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<MessageResponse>, ApiError> {
    state.services.email_links.reset_password(project, &body.token, body.new_password).await.map_err(|e| match e {
        CoreError::WeakPassword(_) => ApiError::from(e).with_field("newPassword"),
        other => other.into(),
    })?;
    Ok(Json(message("Password has been reset successfully.")))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/verify-email", tag = "email", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = TokenBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "Email verified", body = SuccessResponse),
        (status = 400, description = "`auth/invalid-or-expired-token` or `auth/invalid-body`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn verify_email(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Json<SuccessResponse>, ApiError> {
    state.services.email_links.verify_email(project, &body.token).await?;
    Ok(Json(SuccessResponse::YES))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/send-verification-email", tag = "email", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = UserBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "Verification email queued", body = SuccessResponse),
        (status = 400, description = "`auth/invalid-body`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 409, description = "`auth/already-verified`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn send_verification_email(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<UserBody>,
) -> Result<Json<SuccessResponse>, ApiError> {
    // A malformed id names no user.
    let user: UserId = body.user_id.trim().parse().map_err(|_| ApiError::from(CoreError::UserNotFound))?;
    state.services.email_links.send_verification_email(project, user).await?;
    Ok(Json(SuccessResponse::YES))
}

fn message(text: &str) -> MessageResponse {
    MessageResponse { message: text.to_owned(), success: true }
}
