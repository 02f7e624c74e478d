//! `GET /admin/audit`: the project's audit trail, newest first, filtered, by cursor.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_proto::ErrorBody;
use latchkey_proto::admin::{AuditPage, AuditQuery};

use super::AdminKey;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[utoipa::path(
    get, path = "/v7/{project_id}/admin/audit", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id"), AuditQuery),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "One page of records, newest first; `nextCursor` is null on the last page",
            body = AuditPage),
        (status = 400, description = "`request/invalid-cursor` (field `cursor`), or `auth/invalid-body` naming the \
            parameter (`limit` outside 1..=1000, a malformed `userId`, an unknown `action` or `actor`, a time \
            that is not ISO 8601)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`: the key lacks the admin scope", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    key: AdminKey,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let page = state.services.admin.audit.list(key.project, &query).await?;
    Ok(Json(AuditPage::from(&page)))
}
