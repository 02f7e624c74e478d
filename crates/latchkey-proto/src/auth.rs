//! Request and response bodies of the `auth` and `users` routes and the service check.
//!
//! Requests leave out unset optional fields; the server reads absent and `null` alike.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::user::{AuthUser, Location};

/// `POST /auth/sign-up`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = SignUpBody))]
#[serde(rename_all = "camelCase")]
pub struct SignUp {
    pub email: String,
    pub password: String,
    // The profile is spelled out rather than `#[serde(flatten)]`ed: flattening would lose the
    // failing field's name in `auth/invalid-body` errors and turn the schema into `allOf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// ISO 8601 date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Map<String, Value>>,
    /// Stored, never returned by the auth routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub secure_metadata: Option<Map<String, Value>>,
}

/// `POST /auth/sign-in`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = SignInBody))]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// The body of `sign-out` and `request-new-access-token`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// `POST /auth/sign-out`.
pub type SignOut = RefreshBody;
/// `POST /auth/request-new-access-token`.
pub type RequestNewAccessToken = RefreshBody;

/// `POST /auth/verify-external-user`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = VerifyExternalUserBody))]
#[serde(rename_all = "camelCase")]
pub struct VerifyExternalUser {
    /// A JWT signed with one of the project's external keys. Absent or null reads as empty, so
    /// a missing token is `auth/missing-jwt`, not `auth/invalid-body`.
    #[serde(default, deserialize_with = "null_as_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub user_jwt: String,
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Option::<String>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// `POST /auth/request-password-reset`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = EmailBody))]
pub struct RequestPasswordReset {
    pub email: String,
}

/// `POST /auth/reset-password`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ResetBody))]
#[serde(rename_all = "camelCase")]
pub struct ResetPassword {
    /// From the reset email's link.
    pub token: String,
    pub new_password: String,
}

/// `POST /auth/verify-email`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TokenBody))]
pub struct VerifyEmail {
    /// From the verification email's link.
    pub token: String,
}

/// `POST /auth/send-verification-email`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = UserBody))]
#[serde(rename_all = "camelCase")]
pub struct SendVerificationEmail {
    pub user_id: String,
}

/// `GET /users/check-username?username=…` (a query, not a body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckUsernameAvailability {
    pub username: String,
}

/// The answer of `check-username`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsernameAvailability {
    pub available: bool,
}

/// What sign-up, sign-in, verify-external-user and request-new-access-token answer. The
/// refresh token ROTATES on every refresh: store the returned one, the one sent is spent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CredentialsResponse))]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// JWT (EdDSA), verifiable against the project's JWKS.
    pub access_token: String,
    pub refresh_token: String,
    /// Always `true`; a client does not require it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub success: bool,
    pub user: AuthUser,
}

/// `{"success": true, "message": …}` of the password-reset routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageResponse {
    pub message: String,
    pub success: bool,
}

/// `{"success": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuccessResponse {
    pub success: bool,
}

impl SuccessResponse {
    pub const YES: Self = Self { success: true };
}

/// The answer of `GET /internal/service/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ServiceVerifyResponse))]
#[serde(rename_all = "camelCase")]
pub struct ServiceVerified {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uuid", required = true))]
    pub project_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub success: bool,
}
