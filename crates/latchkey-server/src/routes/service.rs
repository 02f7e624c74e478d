//! `GET /internal/service/verify`: the SDK's init check of key + project header.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_proto::{ErrorBody, ServiceVerified as ServiceVerifyResponse};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{bearer, header_project};

pub fn router() -> Router<AppState> {
    Router::new().route("/internal/service/verify", get(verify))
}

pub(crate) struct KeyParts(Parts);

impl<S: Send + Sync> FromRequestParts<S> for KeyParts {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(KeyParts(parts.clone()))
    }
}

#[utoipa::path(
    get, path = "/internal/service/verify", tag = "service",
    params(("X-Replyke-Project-ID" = Option<String>, Header, format = "uuid",
        description = "When sent, must name the key's project")),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The key is valid (for the project in the header, when sent)", body = ServiceVerifyResponse),
        (status = 401, description = "`auth/invalid-api-key`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    KeyParts(parts): KeyParts,
) -> Result<Json<ServiceVerifyResponse>, ApiError> {
    let key = bearer(&parts).ok_or_else(ApiError::invalid_api_key)?;
    let expected = header_project(&parts)?;
    let project = state.services.api_keys.project_of_key(key).await?;
    if expected.is_some_and(|p| p != project) {
        return Err(ApiError::invalid_api_key());
    }
    Ok(Json(ServiceVerifyResponse { project_id: Some(project.to_string()), success: true }))
}
