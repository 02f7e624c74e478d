//! `GET /v7/{project_id}/.well-known/jwks.json`: public, no API key.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_core::auth::JWKS_MAX_AGE_SECS;
use latchkey_core::domain::ProjectId;

use crate::app::AppState;
use latchkey_proto::ErrorBody;

use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// A JWK Set (RFC 7517), documentation only.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct JwkSet {
    /// Ed25519 public keys (`kty` OKP, `crv` Ed25519, `alg` EdDSA, `kid`, `x`).
    #[schema(value_type = Vec<Object>)]
    keys: Vec<serde_json::Value>,
}

#[utoipa::path(
    get, path = "/v7/{project_id}/.well-known/jwks.json", tag = "keys", params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    responses(
        (status = 200, description = "Public keys of this project's access tokens: the signing key, the standby \
            (published ahead of a rotation) and retired keys until their last token has expired",
            body = JwkSet, headers(("Cache-Control" = String, description = "public, max-age=300"))),
        (status = 404, description = "`route/not-found` (malformed id) or `project/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn jwks(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let project: ProjectId = project.parse().map_err(|_| ApiError::not_found())?;
    let document = state.services.projects.jwks(project).await?;
    // Verifiers cache this for up to five minutes; rotation publishes a standby key at least
    // that long before it signs, so a cached copy always holds the signing key.
    let cache = format!("public, max-age={JWKS_MAX_AGE_SECS}");
    Ok(([(header::CACHE_CONTROL, cache)], Json(document)))
}
