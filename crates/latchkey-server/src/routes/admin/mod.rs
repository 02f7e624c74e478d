//! The admin API, `/v7/{project_id}/admin/...` (docs/ADMIN.md): every route needs an API key
//! of the path's project with the `admin` scope ([`AdminKey`]). One module per area; each
//! handler translates HTTP to one call of a core admin service and its errors to HTTP.

pub mod audit;
pub mod project;
pub mod sessions;
pub mod signing_keys;
pub mod user_import;
pub mod users;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use latchkey_core::domain::{Actor, ProjectId};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::presented_key;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(project::router())
        .merge(users::router())
        .merge(user_import::router())
        .merge(sessions::router())
        .merge(signing_keys::router())
        .merge(audit::router())
}

/// The path's project, authenticated by an `admin`-scope key, and the key as the actor the
/// audit trail records. A key of another project (or none) is 401 `auth/invalid-api-key`,
/// as on every route; an `auth` key of this project is 403 `auth/insufficient-scope`.
#[derive(Debug, Clone, Copy)]
pub struct AdminKey {
    pub project: ProjectId,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (project, key) = presented_key(parts, state).await?;
        let actor = state.services.api_keys.authorize_admin(project, key).await?;
        Ok(AdminKey { project, actor })
    }
}
