//! `POST /v7/{project_id}/auth/*`: sign-up, sign-in, sign-out, token refresh.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_core::auth::{Credentials, SignUp};
use latchkey_core::domain::{Location, ProfileInput};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ProjectKey};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-up", post(sign_up))
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/request-new-access-token", post(request_new_access_token))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignUpBody {
    email: String,
    password: String,
    username: Option<String>,
    // Spelled out rather than `#[serde(flatten)]`, which would lose the failing field's name.
    name: Option<String>,
    avatar: Option<String>,
    bio: Option<String>,
    /// ISO 8601 date.
    birthdate: Option<String>,
    location: Option<Location>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
    /// Stored, never returned by the auth routes.
    #[schema(value_type = Option<Object>)]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignInBody {
    email: String,
    password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefreshBody {
    refresh_token: String,
}

/// The OpenAPI description of [`credentials_json`]'s output (documentation only).
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct CredentialsResponse {
    success: bool,
    user: latchkey_core::domain::AuthUser,
    /// JWT (EdDSA), verifiable against the project's JWKS.
    access_token: String,
    refresh_token: String,
}

/// `{success, user, accessToken, refreshToken}`, the shape of every credential response.
fn credentials_json(credentials: &Credentials) -> serde_json::Value {
    json!({
        "success": true,
        "user": credentials.user.to_auth_user(),
        "accessToken": credentials.tokens.access_token,
        "refreshToken": credentials.tokens.refresh_token,
    })
}

/// A response carrying tokens: never stored by a cache or proxy (RFC 6749 section 5.1).
pub fn credentials_response(status: StatusCode, credentials: &Credentials) -> Response {
    let headers = [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")];
    (status, headers, Json(credentials_json(credentials))).into_response()
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/sign-up", tag = "auth", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = SignUpBody, security(("apiKey" = [])),
    responses(
        (status = 201, description = "Signed up and signed in", body = CredentialsResponse),
        (status = 400, description = "`auth/invalid-body` or `auth/weak-password` (with `field`)", body = ErrorBody),
        (status = 409, description = "`DUPLICATE_EMAIL` or `DUPLICATE_USERNAME` (with `field`)", body = ErrorBody),
        (status = 503, description = "`server/busy` (password hashing queue full) or `server/unavailable`; `Retry-After`", body = ErrorBody),
    )
)]
pub(crate) async fn sign_up(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<SignUpBody>,
) -> Result<Response, ApiError> {
    let credentials = state.auth.sign_up(project, body.into_request()).await?;
    Ok(credentials_response(StatusCode::CREATED, &credentials))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/sign-in", tag = "auth", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = SignInBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "Signed in", body = CredentialsResponse),
        (status = 400, description = "`auth/invalid-body`", body = ErrorBody),
        (status = 401, description = "`auth/invalid-credentials` (unknown email and wrong password alike) or `auth/invalid-api-key`", body = ErrorBody),
        (status = 403, description = "`auth/account-disabled`", body = ErrorBody),
        (status = 429, description = "`auth/too-many-attempts`, with `Retry-After`", body = ErrorBody),
        (status = 503, description = "`server/busy` or `server/unavailable`; `Retry-After`", body = ErrorBody),
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let credentials = state.auth.sign_in(project, &body.email, body.password).await?;
    Ok(credentials_response(StatusCode::OK, &credentials))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/sign-out", tag = "auth", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = RefreshBody, security(("apiKey" = [])),
    responses(
        (status = 204, description = "Signed out (also for unknown, expired or garbage tokens)"),
        (status = 400, description = "`auth/invalid-body`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<StatusCode, ApiError> {
    state.auth.sign_out(project, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/request-new-access-token", tag = "auth", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = RefreshBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "New access token; the refresh token is rotated", body = CredentialsResponse),
        (status = 400, description = "`auth/invalid-body`", body = ErrorBody),
        (status = 401, description = "`auth/token-reuse-detected` (the session is revoked) or `auth/invalid-api-key`", body = ErrorBody),
        (status = 403, description = "`auth/refresh-token-malformed`, `auth/refresh-token-invalid`, `auth/refresh-token-project-mismatch`, `auth/account-disabled`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn request_new_access_token(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Response, ApiError> {
    let credentials = state.auth.refresh(project, &body.refresh_token).await?;
    Ok(credentials_response(StatusCode::OK, &credentials))
}
