//! `/healthz`: the process is up. `/readyz`: the database answers and accepts writes.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_core::store::StoreError;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody};

/// The bound on `/readyz`'s database check.
const READY_TIMEOUT: Duration = Duration::from_millis(900);

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// `{"status": "ok"|"ready"}` (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct HealthStatus {
    #[schema(example = "ok")]
    status: String,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = HealthStatus)))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The database answers reads and a probe write", body = HealthStatus),
        (status = 503, description = "`server/unavailable`, or `server/storage-full` (the database's disk is full; SQLite: under 1 MiB free); `Retry-After`", body = ErrorBody),
    ))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    // Answers within a second whatever the database does: a load balancer's probe times out
    // on its own, and a late "ready" is worth as little as none. The store's probe is
    // single-flight and bounded itself; this bound holds for any store.
    let ping = tokio::time::timeout(READY_TIMEOUT, state.services.health.readiness()).await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(format!("readiness: no answer within {} ms", READY_TIMEOUT.as_millis())))
    });
    ping.map_err(not_ready)?;
    Ok(Json(json!({ "status": "ready" })))
}

/// A failed readiness check is always a 503: whatever went wrong, the node should not get
/// traffic, and a 500 would read as a bug of the health check itself.
fn not_ready(err: StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(_) | StoreError::StorageFull(_) => err,
        other => StoreError::Unavailable(format!("readiness: {other}")),
    }
}
