//! `GET /admin/signing-keys` and `POST /admin/signing-keys/rotate`: the access-token signing
//! keys and their rotation (the rules: `latchkey_core::auth::SigningKeys`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_core::auth::signing_key_list;
use latchkey_proto::ErrorBody;
use latchkey_proto::admin::SigningKeyList;
use serde::Deserialize;

use super::AdminKey;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;

pub fn router() -> Router<AppState> {
    Router::new().route("/signing-keys", get(list)).route("/signing-keys/rotate", post(rotate))
}

#[utoipa::path(
    get, path = "/v7/{project_id}/admin/signing-keys", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The keys in the JWKS, newest first: the standby (published, signs nothing \
            yet), the active key, and retired keys until `publishedUntil`", body = SigningKeyList),
        (status = 403, description = "`auth/insufficient-scope`: the key lacks the admin scope", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn list(State(state): State<AppState>, key: AdminKey) -> Result<Json<SigningKeyList>, ApiError> {
    let keys = state.services.admin.signing_keys.list(key.project).await?;
    Ok(Json(signing_key_list(&keys)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RotateQuery {
    /// Emergency rotation (a leaked key): rotate even though the standby key was published
    /// less than the JWKS's cache lifetime (5 min 30 s) ago. Verifiers whose cached JWKS
    /// predates it reject new tokens until they fetch it again.
    force: Option<bool>,
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/signing-keys/rotate", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id"), RotateQuery),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "Rotated (`signing-key.rotated` in the audit trail): the standby signs new \
            tokens (at once on the node that answered, within 30 s on the others), the old key stays in the JWKS \
            until its last token has expired, a new standby is published. The keys as after the rotation",
            body = SigningKeyList),
        (status = 400, description = "`auth/invalid-body` (`force` is not a boolean)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`: the key lacks the admin scope", body = ErrorBody),
        (status = 409, description = "`signing-key/standby-too-new`: the standby was published less than 5 min 30 s \
            ago, so verifiers' cached JWKS may lack it; retry after `Retry-After` seconds, or pass `force=true`",
            body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    key: AdminKey,
    ApiQuery(query): ApiQuery<RotateQuery>,
) -> Result<Json<SigningKeyList>, ApiError> {
    let force = query.force.unwrap_or(false);
    let keys = state.services.admin.signing_keys.rotate(key.project, key.actor, force).await?;
    Ok(Json(signing_key_list(&keys)))
}
