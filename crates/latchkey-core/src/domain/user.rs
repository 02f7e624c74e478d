use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Location, ProjectId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Visitor,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Visitor => "visitor",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "visitor" => Some(Role::Visitor),
            "moderator" => Some(Role::Moderator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    Password,
    External,
}

/// A user as stored. `password_hash` and `secure_metadata` never leave the server:
/// the only outward view is [`AuthUser`]. `Debug` shows neither.
#[derive(Clone)]
pub struct User {
    pub id: UserId,
    pub project_id: ProjectId,
    pub foreign_id: Option<String>,
    pub role: Role,
    pub email: Option<String>,
    pub name: Option<String>,
    pub username: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub birthdate: Option<String>,
    pub location: Option<Location>,
    pub metadata: Map<String, Value>,
    pub secure_metadata: Map<String, Value>,
    pub reputation: i64,
    pub is_verified: bool,
    pub is_active: bool,
    pub password_hash: Option<String>,
    pub last_active: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("foreign_id", &self.foreign_id)
            .field("role", &self.role)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

impl User {
    pub fn auth_methods(&self) -> Vec<AuthMethod> {
        let mut methods = Vec::with_capacity(2);
        if self.password_hash.is_some() {
            methods.push(AuthMethod::Password);
        }
        if self.foreign_id.is_some() {
            methods.push(AuthMethod::External);
        }
        methods
    }

    pub fn to_auth_user(&self) -> AuthUser {
        AuthUser {
            id: self.id,
            project_id: self.project_id,
            foreign_id: self.foreign_id.clone(),
            role: self.role,
            email: self.email.clone(),
            name: self.name.clone(),
            username: self.username.clone(),
            avatar: self.avatar.clone(),
            bio: self.bio.clone(),
            birthdate: self.birthdate.clone(),
            location: self.location.map(Location::to_geojson),
            metadata: self.metadata.clone(),
            reputation: self.reputation,
            is_verified: self.is_verified,
            is_active: self.is_active,
            last_active: self.last_active.map(iso),
            created_at: iso(self.created_at),
            updated_at: iso(self.updated_at),
            suspensions: Vec::new(),
            auth_methods: self.auth_methods(),
        }
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `user` object of API.md, exactly these fields. Every field is always present (`null`
/// where unset), so the OpenAPI schema marks the optional ones required and nullable.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthUser {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uuid"))]
    pub id: UserId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uuid"))]
    pub project_id: ProjectId,
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
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<super::GeoPoint>))]
    pub location: Option<Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Map<String, Value>,
    pub reputation: i64,
    pub is_verified: bool,
    pub is_active: bool,
    #[cfg_attr(feature = "openapi", schema(required = true, format = DateTime))]
    pub last_active: Option<String>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub updated_at: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub suspensions: Vec<Value>,
    pub auth_methods: Vec<AuthMethod>,
}
