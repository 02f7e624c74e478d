//! `GET /v7/{project_id}/users/check-username?username=…`

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use latchkey_proto::{ErrorBody, ErrorCode, UsernameAvailability};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::ProjectKey;

pub fn router() -> Router<AppState> {
    Router::new().route("/check-username", get(check_username))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UsernameQuery {
    /// Compared case-insensitively, after normalisation.
    username: Option<String>,
}

#[utoipa::path(
    get, path = "/v7/{project_id}/users/check-username", tag = "users",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id"), UsernameQuery),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "Whether the username is free in this project", body = UsernameAvailability),
        (status = 400, description = "`username/invalid-query` (missing or invalid username)", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn check_username(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    query: Result<Query<UsernameQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UsernameAvailability>, ApiError> {
    let username = query.ok().and_then(|Query(q)| q.username).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            ErrorCode::InvalidUsernameQuery,
            "the username query parameter is required",
        )
        .with_field("username")
    })?;
    let available = state.services.registration.username_available(project, &username).await?;
    Ok(Json(UsernameAvailability { available }))
}
