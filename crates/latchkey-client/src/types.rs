//! The API's request and response types. They are `latchkey-proto`'s, shared with the server
//! so the two cannot drift apart; re-exported here under the seed's names. Only the access
//! token's claims, which travel inside a JWT rather than as a body, are the client's own.

use serde::{Deserialize, Serialize};

pub use latchkey_proto::{
    AuthMethod, AuthUser, CheckUsernameAvailability, Credentials, ErrorCode, GeoPoint, Location, RequestNewAccessToken,
    RequestPasswordReset, ResetPassword, Role, SendVerificationEmail, SignIn, SignOut, SignUp, UsernameAvailability,
    VerifyEmail, VerifyExternalUser,
};

/// What `request_new_access_token` returns: the seed's `{accessToken}` plus the ROTATED
/// refresh token (store it; the one passed in is spent) and the user.
pub type RefreshedCredentials = Credentials;

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
