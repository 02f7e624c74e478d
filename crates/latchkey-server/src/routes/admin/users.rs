//! `/admin/users...`: list, look up, create, change, suspend, delete users; set a password;
//! issue a link; clear a lockout. Each handler is one call of `services.admin.users`.

use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_core::CoreError;
use latchkey_core::domain::UserId;
use latchkey_proto::ErrorBody;
use latchkey_proto::admin::{
    AdminUser, CreateUser, IssueLink, IssuedLink, SetPassword, SuspendUser, UpdateUser, UserListQuery, UserLookupQuery,
    UserPage,
};
use secrecy::ExposeSecret;

use super::AdminKey;
use crate::admin_wire::{self, admin_user, iso};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::mail::transport::link_url;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/lookup", get(lookup))
        .route("/users/{user_id}", get(show).patch(update).delete(delete))
        .route("/users/{user_id}/suspend", post(suspend))
        .route("/users/{user_id}/unsuspend", post(unsuspend))
        .route("/users/{user_id}/password", post(set_password))
        .route("/users/{user_id}/links", post(issue_link))
        .route("/users/{user_id}/unlock", post(unlock))
}

/// The path's `{user_id}`; a malformed one names no user (404 `user/not-found`, never a 500).
#[derive(Debug, Clone, Copy)]
pub struct UserPath(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for UserPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found())?;
        let id = params.iter().find(|(name, _)| *name == "user_id").and_then(|(_, value)| value.parse().ok());
        id.map(UserPath).ok_or_else(|| CoreError::UserNotFound.into())
    }
}

#[utoipa::path(
    get, path = "/v7/{project_id}/admin/users", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id"), UserListQuery),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "One page of users, oldest first; `nextCursor` is null on the last page", body = UserPage),
        (status = 400, description = "`request/invalid-cursor` (field `cursor`) or `auth/invalid-body` (a bad filter or `limit` outside 1..=1000, with `field`)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`: the key lacks the admin scope", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    key: AdminKey,
    ApiQuery(query): ApiQuery<UserListQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let page = state.services.admin.users.list(key.project, &admin_wire::user_query(query)?).await?;
    Ok(Json(UserPage { users: page.users.iter().map(admin_user).collect(), next_cursor: page.next_cursor }))
}

#[utoipa::path(
    get, path = "/v7/{project_id}/admin/users/lookup", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id"), UserLookupQuery),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The user with this email or foreign id", body = AdminUser),
        (status = 400, description = "`auth/invalid-body`: not exactly one of `email` and `foreignId`", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    key: AdminKey,
    ApiQuery(query): ApiQuery<UserLookupQuery>,
) -> Result<Json<AdminUser>, ApiError> {
    let user = state.services.admin.users.lookup(key.project, &admin_wire::user_lookup(query)?).await?;
    Ok(Json(admin_user(&user)))
}

#[utoipa::path(
    get, path = "/v7/{project_id}/admin/users/{user_id}", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The user", body = AdminUser),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found` (also for a malformed id or a user of another project)", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
) -> Result<Json<AdminUser>, ApiError> {
    Ok(Json(admin_user(&state.services.admin.users.get(key.project, user).await?)))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/users", tag = "admin",
    params(("project_id" = String, Path, format = "uuid", description = "The project's id")),
    request_body = CreateUser, security(("apiKey" = [])),
    responses(
        (status = 201, description = "Created", body = AdminUser),
        (status = 400, description = "`auth/invalid-body` or `auth/weak-password` (with `field`)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 409, description = "`DUPLICATE_EMAIL`, `DUPLICATE_USERNAME` or `auth/foreign-id-conflict`", body = ErrorBody),
        (status = 503, description = "`server/busy` (password hashing queue full) or `server/unavailable`; `Retry-After`", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    key: AdminKey,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<AdminUser>), ApiError> {
    let user = state.services.admin.users.create(key.actor, key.project, admin_wire::new_user(body)?).await?;
    Ok((StatusCode::CREATED, Json(admin_user(&user))))
}

#[utoipa::path(
    patch, path = "/v7/{project_id}/admin/users/{user_id}", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    request_body = UpdateUser, security(("apiKey" = [])),
    responses(
        (status = 200, description = "The changed user (a changed email is unverified; `isActive: false` revokes every session)", body = AdminUser),
        (status = 400, description = "`auth/invalid-body` (with `field`)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 409, description = "`DUPLICATE_EMAIL` or `DUPLICATE_USERNAME`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<Json<AdminUser>, ApiError> {
    let changes = admin_wire::user_changes(body)?;
    Ok(Json(admin_user(&state.services.admin.users.update(key.actor, key.project, user, changes).await?)))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/users/{user_id}/suspend", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    request_body = SuspendUser, security(("apiKey" = [])),
    responses(
        (status = 200, description = "Suspended; every session is revoked", body = AdminUser),
        (status = 400, description = "`auth/invalid-body` (`reason` 1 to 500 characters, `endsAt` in the future)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn suspend(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
    ApiJson(body): ApiJson<SuspendUser>,
) -> Result<Json<AdminUser>, ApiError> {
    let request = admin_wire::suspend_user(body)?;
    Ok(Json(admin_user(&state.services.admin.users.suspend(key.actor, key.project, user, request).await?)))
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/users/{user_id}/unsuspend", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "Every suspension in force is lifted", body = AdminUser),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn unsuspend(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
) -> Result<Json<AdminUser>, ApiError> {
    Ok(Json(admin_user(&state.services.admin.users.unsuspend(key.actor, key.project, user).await?)))
}

#[utoipa::path(
    delete, path = "/v7/{project_id}/admin/users/{user_id}", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    security(("apiKey" = [])),
    responses(
        (status = 204, description = "The user and every row about them are erased; email and username are free again"),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
) -> Result<StatusCode, ApiError> {
    state.services.admin.users.delete(key.actor, key.project, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/users/{user_id}/password", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    request_body = SetPassword, security(("apiKey" = [])),
    responses(
        (status = 204, description = "Set; every session is revoked and unused reset links die"),
        (status = 400, description = "`auth/weak-password` or `auth/invalid-body` (field `password`)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/busy` or `server/unavailable`; `Retry-After`", body = ErrorBody),
    )
)]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
    ApiJson(body): ApiJson<SetPassword>,
) -> Result<StatusCode, ApiError> {
    state.services.admin.users.set_password(key.actor, key.project, user, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/users/{user_id}/links", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    request_body = IssueLink, security(("apiKey" = [])),
    responses(
        (status = 200, description = "`delivery: return`: the link, not sent", body = IssuedLink),
        (status = 202, description = "`delivery: email`: the usual email is queued"),
        (status = 400, description = "`auth/invalid-body` (also: the user has no email address)", body = ErrorBody),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 409, description = "`auth/already-verified` (a verification link for a verified address)", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn issue_link(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
    ApiJson(body): ApiJson<IssueLink>,
) -> Result<Response, ApiError> {
    let (purpose, delivery) = (admin_wire::link_purpose(body.kind), admin_wire::link_delivery(body.delivery));
    let issued = state.services.admin.users.issue_link(key.actor, key.project, user, purpose, delivery).await?;
    let Some(link) = issued else { return Ok(StatusCode::ACCEPTED.into_response()) };
    let token = link.token.expose_secret();
    let public_url = &state.services.policy().issuer;
    let url = link_url(public_url, key.project, link.purpose, link.page_url.as_deref(), token);
    let body = IssuedLink { url, token: token.to_owned(), expires_at: iso(link.expires_at) };
    // The token is a credential: no cache or proxy keeps it.
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

#[utoipa::path(
    post, path = "/v7/{project_id}/admin/users/{user_id}/unlock", tag = "admin",
    params(
        ("project_id" = String, Path, format = "uuid", description = "The project's id"),
        ("user_id" = String, Path, format = "uuid", description = "The user's id"),
    ),
    security(("apiKey" = [])),
    responses(
        (status = 204, description = "The sign-in lockout of the user's email is cleared"),
        (status = 403, description = "`auth/insufficient-scope`", body = ErrorBody),
        (status = 404, description = "`user/not-found`", body = ErrorBody),
        (status = 503, description = "`server/unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn unlock(
    State(state): State<AppState>,
    key: AdminKey,
    UserPath(user): UserPath,
) -> Result<StatusCode, ApiError> {
    state.services.admin.users.unlock(key.actor, key.project, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
