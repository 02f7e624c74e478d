//! The `user` object (API.md "Objects") and the values inside it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Visitor,
    Moderator,
    Admin,
    /// A role this version does not know (never sent by this server version).
    #[serde(other, skip_serializing)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    Password,
    External,
    /// A sign-in method this version does not know.
    #[serde(other, skip_serializing)]
    Other,
}

/// A location as sent (sign-up, `userData`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

/// A location as returned: a GeoJSON point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    /// `[longitude, latitude]`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<f64>, min_items = 2, max_items = 2))]
    pub coordinates: [f64; 2],
    /// Always `"Point"`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^Point$", example = "Point"))]
    pub kind: String,
}

impl GeoPoint {
    pub fn new(location: Location) -> Self {
        Self { coordinates: [location.longitude, location.latitude], kind: "Point".to_owned() }
    }
}

/// The `user` object, exactly these fields. Every field is always present (`null` where
/// unset), so the OpenAPI schema marks the optional ones required and nullable.
/// `secureMetadata` and the password hash are never returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthUser {
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
    /// `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub birthdate: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub location: Option<GeoPoint>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Map<String, Value>,
    pub reputation: i64,
    pub is_verified: bool,
    pub is_active: bool,
    /// ISO 8601.
    #[cfg_attr(feature = "openapi", schema(required = true, format = DateTime))]
    pub last_active: Option<String>,
    /// ISO 8601.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    /// ISO 8601.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub updated_at: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub suspensions: Vec<Value>,
    pub auth_methods: Vec<AuthMethod>,
}
