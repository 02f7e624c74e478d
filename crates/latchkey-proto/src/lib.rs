//! The wire types of Latchkey's HTTP API (docs/API.md): every request and response body, the
//! `user` object and the error body with its stable codes. The server serializes these and the
//! Rust client deserializes them, so the two cannot drift apart.
//!
//! Only serde here: no HTTP, no domain rules. Responses tolerate what they do not know (unknown
//! fields are ignored, unknown enum values become `Other`), so a newer server does not break an
//! older client. With the `openapi` feature every type also derives `utoipa::ToSchema` under
//! the schema name the server's OpenAPI document has always used.

pub mod admin;
mod auth;
mod error;
mod user;

pub use admin::ApiKeyScope;
pub use auth::{
    CheckUsernameAvailability, Credentials, MessageResponse, RefreshBody, RequestNewAccessToken, RequestPasswordReset,
    ResetPassword, SendVerificationEmail, ServiceVerified, SignIn, SignOut, SignUp, SuccessResponse,
    UsernameAvailability, VerifyEmail, VerifyExternalUser,
};
pub use error::{ErrorBody, ErrorCode};
pub use user::{AuthMethod, AuthUser, GeoPoint, Location, Role};
