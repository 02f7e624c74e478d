//! `GET /v7/{project_id}/users/check-username?username=…`

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::ProjectKey;

pub fn router() -> Router<AppState> {
    Router::new().route("/check-username", get(check_username))
}

#[derive(Deserialize)]
struct UsernameQuery {
    username: Option<String>,
}

async fn check_username(
    State(state): State<AppState>,
    ProjectKey(project): ProjectKey,
    query: Result<Query<UsernameQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let username = query.ok().and_then(|Query(q)| q.username).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "username/invalid-query",
            "the username query parameter is required",
        )
        .with_field("username")
    })?;
    let available = state.auth.username_available(project, &username).await?;
    Ok(Json(json!({ "available": available })))
}
