//! `POST /v7/{project_id}/auth/verify-external-user`: sign in a user authenticated by the
//! customer's own system, from a JWT it signed.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::credentials_json;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ProjectKey};

pub fn router() -> Router<AppState> {
    Router::new().route("/verify-external-user", post(verify_external_user))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyExternalUserBody {
    /// Optional here so that a missing token is `auth/missing-jwt`, not `auth/invalid-body`.
    user_jwt: Option<String>,
}

async fn verify_external_user(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<VerifyExternalUserBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let jwt = body.user_jwt.unwrap_or_default();
    let credentials = state.auth.verify_external_user(project, &jwt).await?;
    Ok(Json(credentials_json(&credentials)))
}
