//! `POST /v7/{project_id}/auth/*`: sign-up, sign-in, sign-out, token refresh.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_core::auth::{Credentials, SignUp};
use latchkey_core::domain::{Profile, ProfileInput};
use latchkey_proto::{
    Credentials as CredentialsResponse, ErrorBody, RefreshBody, SignIn as SignInBody, SignUp as SignUpBody,
};

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

/// The core's sign-up request from the wire body.
fn sign_up_request(body: SignUpBody) -> SignUp {
    let profile = Profile {
        name: body.name,
        avatar: body.avatar,
        bio: body.bio,
        birthdate: body.birthdate,
        location: body.location.map(Into::into),
    };
    let profile = ProfileInput { profile, metadata: body.metadata, secure_metadata: body.secure_metadata };
    SignUp { email: body.email, password: body.password, username: body.username, profile }
}

/// A response carrying tokens: never stored by a cache or proxy (RFC 6749 section 5.1).
pub fn credentials_response(status: StatusCode, credentials: &Credentials) -> Response {
    let headers = [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")];
    let body = CredentialsResponse {
        access_token: credentials.tokens.access_token.clone(),
        refresh_token: credentials.tokens.refresh_token.clone(),
        success: true,
        user: credentials.user.to_auth_user(),
    };
    (status, headers, Json(body)).into_response()
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
    let credentials = state.services.registration.sign_up(project, sign_up_request(body)).await?;
    Ok(credentials_response(StatusCode::CREATED, &credentials))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/sign-in", tag = "auth", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = SignInBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "Signed in", body = CredentialsResponse),
        (status = 400, description = "`auth/invalid-body`", body = ErrorBody),
        (status = 401, description = "`auth/invalid-credentials` (unknown email and wrong password alike) or `auth/invalid-api-key`", body = ErrorBody),
        (status = 403, description = "`auth/account-disabled` or `auth/user-suspended` (only once the password is right)", body = ErrorBody),
        (status = 429, description = "`auth/too-many-attempts`, with `Retry-After`", body = ErrorBody),
        (status = 503, description = "`server/busy` or `server/unavailable`; `Retry-After`", body = ErrorBody),
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let credentials = state.services.sessions.sign_in(project, &body.email, body.password).await?;
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
    state.services.sessions.sign_out(project, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/request-new-access-token", tag = "auth", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = RefreshBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "New access token; the refresh token is rotated", body = CredentialsResponse),
        (status = 400, description = "`auth/invalid-body`", body = ErrorBody),
        (status = 401, description = "`auth/token-reuse-detected` (the session is revoked) or `auth/invalid-api-key`", body = ErrorBody),
        (status = 403, description = "`auth/refresh-token-malformed`, `auth/refresh-token-invalid`, `auth/refresh-token-project-mismatch`, `auth/account-disabled`, `auth/user-suspended`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn request_new_access_token(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Response, ApiError> {
    let credentials = state.services.sessions.refresh(project, &body.refresh_token).await?;
    Ok(credentials_response(StatusCode::OK, &credentials))
}
