//! `/admin/users/{user_id}/sessions...`: a user's live sessions, revoking one, revoking all.

use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get};
use axum::{Json, Router};
use latchkey_core::CoreError;
use latchkey_core::domain::SessionId;
use latchkey_proto::ErrorBody;
use latchkey_proto::admin::{RevokedSessions, SessionList};

use super::AdminKey;
use super::users::UserPath;
use crate::admin_wire::session_info;
use crate::app::AppState;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{user_id}/sessions", get(list).delete(revoke_all))
        .route("/users/{user_id}/sessions/{session_id}", delete(revoke))
}

/// The path's `{session_id}`; a malformed one names no session (404 `session/not-found`).
#[derive(Debug, Clone, Copy)]
pub struct SessionPath(pub SessionId);

impl<S: Send + Sync> FromRequestParts<S> for SessionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found())?;
        let id = params.iter().find(|(name, _)| *name == "session_id").and_then(|(_, value)| value.parse().ok());
        id.map(SessionPath).ok_or_else(|| CoreError::SessionNotFound.into())
    }
}

#[utoipa::path(
    get, path = "/v7/{project_id}/admin/users/{user_id}/sessions", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The user's live sessions (neither revoked nor expired), oldest first", body = SessionList),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = state.services.admin.users.sessions(key.project, user).await?;
    Ok(Json(SessionList { sessions: sessions.iter().map(session_info).collect() }))
}

#[utoipa::path(
    delete, path = "/v7/{project_id}/admin/users/{user_id}/sessions", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "Signed out everywhere: how many live sessions were revoked", body = RevokedSessions),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_all(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
) -> Result<Json<RevokedSessions>, ApiError> {
    let revoked = state.services.admin.users.revoke_sessions(key.actor, key.project, user).await?;
    Ok(Json(RevokedSessions { revoked }))
}

#[utoipa::path(
    delete, path = "/v7/{project_id}/admin/users/{user_id}/sessions/{session_id}", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
        ("session_id" = String, Path, format = "uuid", description = "The session's id"),
    ),
    security(("apiKey" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`, or `session/not-found` (not a live session of this user)", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
    SessionPath(session): SessionPath,
) -> Result<StatusCode, ApiError> {
    state.services.admin.users.revoke_session(key.actor, key.project, user, session).await?;
    Ok(StatusCode::NO_CONTENT)
}
