//! Routes of API.md, one module per area.

pub mod admin;
pub mod auth;
pub mod email;
pub mod external;
pub mod health;
pub mod jwks;
pub mod pages;
pub mod service;
pub mod users;

use axum::Router;

use crate::app::AppState;

/// Everything under `/v7/{project_id}`.
pub fn project_router() -> Router<AppState> {
    Router::new()
        .nest("/auth", auth::router().merge(external::router()).merge(email::router()).merge(pages::router()))
        .nest("/users", users::router())
        .nest("/admin", admin::router())
        .merge(jwks::router())
}
