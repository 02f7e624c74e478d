//! Shared state and the router. No globals: tests build as many isolated apps as they like.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use latchkey_core::auth::AuthService;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::routes;

#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<AuthService>,
}

/// Default request body limit (API.md: 64 KiB).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState, body_limit: usize) -> Router {
    Router::new()
        .merge(routes::health::router())
        .merge(routes::service::router())
        .nest("/v7/{project_id}", routes::project_router())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "route/method-not-allowed", "method not allowed for this route")
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            // Log the path only: query strings may carry tokens (email links).
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
            }),
        )
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server/internal", "internal server error").into_response()
        }))
}
