//! `GET /v7/{project_id}/.well-known/jwks.json`: public, no API key.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_core::domain::ProjectId;

use crate::app::AppState;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

async fn jwks(State(state): State<AppState>, Path(project): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let project: ProjectId = project.parse().map_err(|_| ApiError::not_found())?;
    let document = state.auth.jwks(project).await?;
    // Verifiers cache this; five minutes bounds how long a rotated-in key goes unseen.
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(document)))
}
