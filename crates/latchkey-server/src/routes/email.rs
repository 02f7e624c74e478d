//! `POST /v7/{project_id}/auth/…` for the email flows: request-password-reset, reset-password,
//! verify-email, send-verification-email (API key required).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use latchkey_core::CoreError;
use latchkey_core::domain::UserId;
use serde::Deserialize;
use serde_json::{Value, json};

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

#[derive(Deserialize)]
struct EmailBody {
    email: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResetBody {
    token: String,
    new_password: String,
}

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserBody {
    user_id: String,
}

async fn request_password_reset(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Json<Value>, ApiError> {
    state.auth.request_password_reset(project, &body.email).await?;
    Ok(Json(json!({ "success": true, "message": RESET_REQUESTED })))
}

async fn reset_password(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<Value>, ApiError> {
    state.auth.reset_password(project, &body.token, body.new_password).await.map_err(|e| match e {
        CoreError::WeakPassword(_) => ApiError::from(e).with_field("newPassword"),
        other => other.into(),
    })?;
    Ok(Json(json!({ "success": true, "message": "Password has been reset successfully." })))
}

async fn verify_email(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Json<Value>, ApiError> {
    state.auth.verify_email(project, &body.token).await?;
    Ok(Json(json!({ "success": true })))
}

async fn send_verification_email(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<UserBody>,
) -> Result<Json<Value>, ApiError> {
    // A malformed id names no user.
    let user: UserId = body.user_id.trim().parse().map_err(|_| ApiError::from(CoreError::UserNotFound))?;
    state.auth.send_verification_email(project, user).await?;
    Ok(Json(json!({ "success": true })))
}
