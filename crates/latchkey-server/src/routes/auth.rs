//! `POST /v7/{project_id}/auth/*`: sign-up, sign-in, sign-out, token refresh.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_core::auth::{Credentials, SignUp};
use latchkey_core::domain::{Location, ProfileInput};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ProjectKey};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-up", post(sign_up))
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/request-new-access-token", post(request_new_access_token))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignUpBody {
    email: String,
    password: String,
    username: Option<String>,
    // Spelled out rather than `#[serde(flatten)]`, which would lose the failing field's name.
    name: Option<String>,
    avatar: Option<String>,
    bio: Option<String>,
    birthdate: Option<String>,
    location: Option<Location>,
    metadata: Option<Map<String, Value>>,
    secure_metadata: Option<Map<String, Value>>,
}

impl SignUpBody {
    fn into_request(self) -> SignUp {
        let profile = ProfileInput {
            name: self.name,
            avatar: self.avatar,
            bio: self.bio,
            birthdate: self.birthdate,
            location: self.location,
            metadata: self.metadata,
            secure_metadata: self.secure_metadata,
        };
        SignUp { email: self.email, password: self.password, username: self.username, profile }
    }
}

#[derive(Deserialize)]
struct SignInBody {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshBody {
    refresh_token: String,
}

/// `{success, user, accessToken, refreshToken}`, the shape of every credential response.
pub fn credentials_json(credentials: &Credentials) -> serde_json::Value {
    json!({
        "success": true,
        "user": credentials.user.to_auth_user(),
        "accessToken": credentials.tokens.access_token,
        "refreshToken": credentials.tokens.refresh_token,
    })
}

async fn sign_up(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<SignUpBody>,
) -> Result<Response, ApiError> {
    let credentials = state.auth.sign_up(project, body.into_request()).await?;
    Ok((StatusCode::CREATED, Json(credentials_json(&credentials))).into_response())
}

async fn sign_in(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let credentials = state.auth.sign_in(project, &body.email, body.password).await?;
    Ok(Json(credentials_json(&credentials)))
}

async fn sign_out(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<StatusCode, ApiError> {
    state.auth.sign_out(project, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn request_new_access_token(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let credentials = state.auth.refresh(project, &body.refresh_token).await?;
    Ok(Json(credentials_json(&credentials)))
}
