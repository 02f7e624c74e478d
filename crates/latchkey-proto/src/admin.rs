//! Request and response bodies of the admin API, `/v7/{projectId}/admin/...` (docs/ADMIN.md).
//! Every admin route needs an API key with the `admin` scope.
//!
//! Lists are pages: `{ "<items>": [...], "nextCursor": "..." | null }`; pass `nextCursor` back
//! as `cursor` for the next page. Cursors are opaque.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::user::{AuthMethod, GeoPoint, Location, Role};

/// What an API key may call: `auth` (the SDK's routes) or `admin` (those and the admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyScope {
    Auth,
    Admin,
    #[serde(other, skip_serializing)]
    Other,
}

/// A suspension as listed in a user's `suspensions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Suspension {
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub id: String,
    pub reason: String,
    /// ISO 8601.
    pub starts_at: String,
    /// ISO 8601; `null` for a suspension without an end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ends_at: Option<String>,
    /// Who suspended: `apiKey:<id>` or `cli`.
    pub created_by: String,
}

/// The admin view of a user: the API's `user` object plus what only an operator sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminUser {
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub project_id: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub foreign_id: Option<String>,
    pub role: Role,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub username: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub avatar: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub bio: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub birthdate: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub location: Option<GeoPoint>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Map<String, Value>,
    /// Only the admin API returns it.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub secure_metadata: Map<String, Value>,
    pub reputation: i64,
    pub is_verified: bool,
    /// False once an operator disabled the account (`auth/account-disabled` at sign-in).
    pub is_active: bool,
    /// True while a suspension is in force (`auth/user-suspended` at sign-in).
    pub is_suspended: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_active: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Suspensions in force or still to end, newest first.
    pub suspensions: Vec<Suspension>,
    pub auth_methods: Vec<AuthMethod>,
    /// True when the user has a password (the hash itself is never returned).
    pub has_password: bool,
}

/// `GET /admin/users`: one page of users, oldest first (ids are time-ordered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub users: Vec<AdminUser>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// `GET /admin/users` query. All filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct UserListQuery {
    /// 1 to 1000, default 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Email prefix (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Username prefix (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// `active` (no suspension in force) or `suspended`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_id: Option<String>,
    /// ISO 8601, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_after: Option<String>,
    /// ISO 8601, exclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Suspended,
}

/// `GET /admin/users/lookup`: exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct UserLookupQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_id: Option<String>,
}

/// `POST /admin/users`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateUser {
    pub email: String,
    /// Optional: without one the user signs in by a reset link or as an external user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Default `visitor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub secure_metadata: Option<Map<String, Value>>,
    /// Default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// `PATCH /admin/users/{userId}`: only the fields present change. For the profile fields,
/// `null` clears the field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    /// A changed email becomes unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// With a changed email: queue a verification email to the new address (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_verification: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub username: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub avatar: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub bio: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub birthdate: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Location>))]
    pub location: Option<Option<Location>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Replaces the whole object.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Map<String, Value>>,
    /// Replaces the whole object.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub secure_metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// False disables the account (its sessions are revoked); true enables it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
}

/// `POST /admin/users/{userId}/suspend`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SuspendUser {
    /// 1 to 500 characters; shown to operators, never to the user.
    pub reason: String,
    /// ISO 8601, in the future; absent for a suspension without an end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
}

/// `POST /admin/users/{userId}/password`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPassword {
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    PasswordReset,
    EmailVerification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LinkDelivery {
    /// Queue the usual email (202, nothing returned).
    Email,
    /// Return the link to the caller (200) and send nothing.
    Return,
}

/// `POST /admin/users/{userId}/links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IssueLink {
    pub kind: LinkKind,
    pub delivery: LinkDelivery,
}

/// A link issued with `delivery: "return"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IssuedLink {
    /// The page link (the project's page URL, or the hosted page), token included.
    pub url: String,
    /// The bare token, for a page of your own.
    pub token: String,
    pub expires_at: String,
}

/// How a session began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SessionMethod {
    SignUp,
    Password,
    External,
    /// Sessions created before this was recorded, or a method this version does not know.
    #[serde(other)]
    Unknown,
}

/// One live session of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub id: String,
    pub created_at: String,
    pub last_refreshed_at: String,
    pub expires_at: String,
    pub generation: i64,
    pub method: SessionMethod,
}

/// `GET /admin/users/{userId}/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

/// `DELETE /admin/users/{userId}/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedSessions {
    pub revoked: u64,
}

/// `GET /admin/project`, `PATCH /admin/project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminProject {
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub id: String,
    pub name: String,
    /// Seconds.
    pub access_token_ttl: i64,
    /// Seconds.
    pub refresh_token_ttl: i64,
    /// The hosted pages' "Back to <name>" link; `null`: no link.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub app_url: Option<String>,
    pub created_at: String,
}

/// `PATCH /admin/project`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateProject {
    /// 1 to 100 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the hosted pages' "Back to <name>" link goes, shown on their outcome pages: an
    /// absolute `https://` URL (`http://` only for localhost, 127.0.0.1 or [::1]) of at most
    /// 2048 characters, without user name or password; stored normalised. `null` removes the
    /// link.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uri", max_length = 2048))]
    pub app_url: Option<Option<String>>,
}

/// One access-token signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyInfo {
    pub kid: String,
    pub created_at: String,
    /// `null` for the key that signs new tokens.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub retired_at: Option<String>,
    /// When a retired key leaves the JWKS (the last token it signed has expired by then).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub published_until: Option<String>,
    /// True for the key that signs new tokens.
    pub active: bool,
}

/// `GET /admin/signing-keys`, newest first; `POST /admin/signing-keys/rotate` answers the
/// same list after the rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningKeyList {
    pub keys: Vec<SigningKeyInfo>,
}

/// One audit-trail record. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub id: String,
    /// ISO 8601.
    pub at: String,
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub project_id: String,
    /// `apiKey:<id>`, `cli`, or `system` (security events of the auth flows).
    pub actor: String,
    /// For example `user.suspended`, `sign-in.failed` (docs/ADMIN.md lists them all).
    pub action: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub user_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub request_id: Option<String>,
    /// Action-specific facts (changed field names, a reason, a kid); never a secret.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Map<String, Value>,
}

/// `GET /admin/audit`: one page, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// `GET /admin/audit` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    /// 1 to 1000, default 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Exact action, or a prefix ending in `.` (`user.`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// ISO 8601, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// ISO 8601, exclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

/// `Option<Option<T>>` for PATCH bodies: absent = unchanged, `null` = clear.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_tells_absent_from_null() {
        let body: UpdateUser = serde_json::from_str(r#"{"name": null, "bio": "hi"}"#).unwrap();
        assert_eq!(body.name, Some(None));
        assert_eq!(body.bio, Some(Some("hi".to_owned())));
        assert_eq!(body.avatar, None);
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"name":null,"bio":"hi"}"#);
    }

    #[test]
    fn project_patch_tells_absent_from_null() {
        let clear: UpdateProject = serde_json::from_str(r#"{"appUrl": null}"#).unwrap();
        assert_eq!(clear.app_url, Some(None));
        let set: UpdateProject = serde_json::from_str(r#"{"appUrl": "https://acme.example/"}"#).unwrap();
        assert_eq!(set.app_url, Some(Some("https://acme.example/".to_owned())));
        let rename: UpdateProject = serde_json::from_str(r#"{"name": "Acme"}"#).unwrap();
        assert_eq!(rename.app_url, None);
        assert_eq!(serde_json::to_string(&clear).unwrap(), r#"{"appUrl":null}"#);
    }
}

/// One user of an import or export (one JSON Lines line; docs/MIGRATING.md). On an existing
/// user, a field left out (or null) is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportedUser {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub secure_metadata: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// ISO 8601; kept for created users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Argon2, bcrypt, scrypt or PBKDF2 (PHC or Django) as stored by the old system; for
    /// Firebase, the base64 hash with `passwordSalt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Firebase only: the user's base64 salt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_salt: Option<String>,
}

/// `POST /admin/users/import`: 1 to 1000 users. Each element is read on its own, so one
/// malformed user is an `error` line of the report, not a rejected request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportUsers {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<ImportedUser>))]
    pub users: Vec<Value>,
}

/// `POST /admin/users/import` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ImportQuery {
    /// Compute the report, write nothing (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ImportOutcome {
    Created,
    Updated,
    Skipped,
    Error,
}

/// What became of one line (the CLI's `--report` writes one per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportLineReport {
    /// 1-based: the file's line, or the position in `users`.
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub outcome: ImportOutcome,
    /// Why the line is an error (`field: message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The stored hash is below today's floor (bcrypt cost < 10, PBKDF2 < 100,000
    /// iterations, ...); sign-in upgrades it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below_floor: Option<bool>,
}

/// The answer of `POST /admin/users/import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub dry_run: bool,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub errors: u64,
    pub below_floor: u64,
    pub lines: Vec<ImportLineReport>,
}
