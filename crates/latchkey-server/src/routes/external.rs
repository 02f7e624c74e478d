//! `POST /v7/{project_id}/auth/verify-external-user`: sign in a user authenticated by the
//! customer's own system, from a JWT it signed.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use latchkey_proto::{Credentials as CredentialsResponse, ErrorBody, VerifyExternalUser as VerifyExternalUserBody};

use super::auth::credentials_response;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ProjectKey};

pub fn router() -> Router<AppState> {
    Router::new().route("/verify-external-user", post(verify_external_user))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/auth/verify-external-user", tag = "auth", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = VerifyExternalUserBody, security(("apiKey" = [])),
    responses(
        (status = 200, description = "The external user, created or updated, signed in", body = CredentialsResponse),
        (status = 400, description = "`auth/missing-jwt` or `auth/invalid-body`", body = ErrorBody),
        (status = 403, description = "`auth/invalid-token`, `auth/project-mismatch`, `auth/missing-keys`, `auth/account-disabled`, `auth/user-suspended`", body = ErrorBody),
        (status = 409, description = "`DUPLICATE_USERNAME` or `auth/foreign-id-conflict`", body = ErrorBody),
        (status = 503, description = "`server/busy` or `server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn verify_external_user(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    ApiJson(body): ApiJson<VerifyExternalUserBody>,
) -> Result<Response, ApiError> {
    let credentials = state.services.external_sign_in.verify_external_user(project, &body.user_jwt).await?;
    Ok(credentials_response(StatusCode::OK, &credentials))
}
