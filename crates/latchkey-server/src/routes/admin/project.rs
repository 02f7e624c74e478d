//! `GET /admin/project`: the project's settings; `PATCH /admin/project`: rename it, set or
//! clear its app URL.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::SecondsFormat;
use latchkey_core::auth::ProjectChange;
use latchkey_core::domain::Project;
use latchkey_proto::ErrorBody;
use latchkey_proto::admin::{AdminProject, UpdateProject};

use super::AdminKey;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::ApiJson;

pub fn router() -> Router<AppState> {
    Router::new().route("/project", get(show).patch(update))
}

pub(crate) fn admin_project(project: &Project) -> AdminProject {
    AdminProject {
        id: project.id.to_string(),
        name: project.name.clone(),
        access_token_ttl: project.settings.access_token_ttl_secs,
        refresh_token_ttl: project.settings.refresh_token_ttl_secs,
        app_url: project.settings.app_url.clone(),
        created_at: project.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

#[utoipa::path(
    get, path = "/v7/{project_id}/admin/project", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The project's settings", body = AdminProject),
        (status = 403, description = "`auth/insufficient-scope`: the key lacks the admin scope", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn show(State(state): State<AppState>, key: AdminKey) -> Result<Json<AdminProject>, ApiError> {
    let project = state.services.admin.projects.project(key.project).await?;
    Ok(Json(admin_project(&project)))
}

#[utoipa::path(
    patch, path = "/v7/{project_id}/admin/project", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = UpdateProject,
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The project as changed (a rename is recorded as `project.renamed` in the \
            audit trail). Emails and hosted pages use the new name and app URL at once on the node that answered, \
            on the others within 30 s",
            body = AdminProject),
        (status = 400, description = "`auth/invalid-body` (`name`: 1 to 100 characters; `appUrl`: an absolute \
            https URL, http only for localhost, at most 2048 characters, no user name or password); nothing is \
            changed", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`: the key lacks the admin scope", body = ErrorBody),
        (status = 404, description = "`project/not-found`: deleted meanwhile", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    key: AdminKey,
    ApiJson(body): ApiJson<UpdateProject>,
) -> Result<Json<AdminProject>, ApiError> {
    let change = ProjectChange { name: body.name, app_url: body.app_url };
    let project = state.services.admin.projects.update(key.project, change, key.actor).await?;
    Ok(Json(admin_project(&project)))
}
