//! `POST /admin/users/import`: one batch of an import (docs/MIGRATING.md), one call of
//! `services.admin.imports`.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_core::CoreError;
use latchkey_core::auth::{ImportRun, MAX_IMPORT_BATCH};
use latchkey_proto::ErrorBody;
use latchkey_proto::admin::{ImportQuery, ImportReport, ImportUsers};

use super::AdminKey;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::import_wire::{import_report, parse_value};

/// A batch is up to 1,000 users with their metadata: more than the API's general body limit.
pub const IMPORT_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/users/import", post(import).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/users/import", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id"), ImportQuery),
    request_body = ImportUsers, security(("apiKey" = [])),
    responses(
        (status = 200, description = "The report, one entry per element of `users` (created, updated, skipped or error with its reason); with `dryRun=true` nothing was written", body = ImportReport),
        (status = 400, description = "`auth/invalid-body`: not a JSON object with `users`, or more than 1000 users (field `users`)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 409, description = "`DUPLICATE_EMAIL`, `DUPLICATE_USERNAME` or `auth/foreign-id-conflict`: concurrent writes took a value twice in a row; nothing was written, send the batch again", body = ErrorBody),
        (status = 413, description = "`auth/invalid-body`: the body is over 8 MiB", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    key: AdminKey,
    ApiQuery(query): ApiQuery<ImportQuery>,
    ApiJson(body): ApiJson<ImportUsers>,
) -> Result<Json<ImportReport>, ApiError> {
    if body.users.len() > MAX_IMPORT_BATCH {
        return Err(CoreError::invalid("users", format!("at most {MAX_IMPORT_BATCH} users per request")).into());
    }
    let dry_run = query.dry_run.unwrap_or(false);
    let lines = body.users.into_iter().zip(1..).map(|(value, line)| parse_value(line, value)).collect();
    let reports = state
        .services
        .admin
        .imports
        .import_batch(key.actor, key.project, &mut ImportRun::default(), lines, dry_run)
        .await?;
    Ok(Json(import_report(dry_run, &reports)))
}
