//! Request and response types of the wire API (docs/API.md), with the seed's names.
//!
//! Requests serialize to the API's camelCase JSON; responses ignore fields they do not know,
//! so a newer server does not break an older SDK.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Visitor,
    Moderator,
    Admin,
    /// A role this SDK version does not know.
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    Password,
    External,
    #[serde(other)]
    Other,
}

/// GeoJSON point: `coordinates` is `[longitude, latitude]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    #[serde(rename = "type")]
    pub kind: String,
    pub coordinates: [f64; 2],
}

/// A location as sent on sign-up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

/// The `user` object (API.md "Objects"). `secure_metadata` is never returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthUser {
    pub id: String,
    pub project_id: String,
    pub foreign_id: Option<String>,
    pub role: Role,
    pub email: Option<String>,
    pub name: Option<String>,
    pub username: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    pub location: Option<GeoPoint>,
    pub metadata: Map<String, Value>,
    pub reputation: i64,
    pub is_verified: bool,
    pub is_active: bool,
    /// ISO 8601.
    pub last_active: Option<String>,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
    pub suspensions: Vec<Value>,
    pub auth_methods: Vec<AuthMethod>,
}

/// What sign-up, sign-in and verify-external-user return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub user: AuthUser,
    /// EdDSA JWT; check it with [`crate::Client::verify_access_token`].
    pub access_token: String,
    pub refresh_token: String,
}

/// What `request_new_access_token` returns: the seed's `{accessToken}` plus the ROTATED
/// refresh token (store it; the one passed in is spent) and the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshedCredentials {
    pub access_token: String,
    pub refresh_token: String,
    pub user: AuthUser,
}

/// `auth.signUp`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignUp {
    pub email: String,
    pub password: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// ISO 8601 date or date-time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Stored, never returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure_metadata: Option<Map<String, Value>>,
}

/// `auth.signIn`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// `auth.signOut`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOut {
    pub refresh_token: String,
}

/// `auth.requestNewAccessToken`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestNewAccessToken {
    pub refresh_token: String,
}

/// `auth.verifyExternalUser`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyExternalUser {
    /// A JWT signed (HS256) with the project's signing secret.
    pub user_jwt: String,
}

/// `auth.requestPasswordReset`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestPasswordReset {
    pub email: String,
}

/// `auth.resetPassword`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetPassword {
    /// From the reset email's link.
    pub token: String,
    pub new_password: String,
}

/// `auth.verifyEmail`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyEmail {
    /// From the verification email's link.
    pub token: String,
}

/// `auth.sendVerificationEmail`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendVerificationEmail {
    pub user_id: String,
}

/// `users.checkUsernameAvailability`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckUsernameAvailability {
    pub username: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsernameAvailability {
    pub available: bool,
}

/// The verified claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenClaims {
    /// The user id.
    pub sub: String,
    pub project_id: String,
    /// The session id.
    pub sid: String,
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}
