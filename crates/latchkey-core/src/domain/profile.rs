//! Optional profile fields a user carries (sign-up today, external sign-in later).

use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{CoreError, Result};

/// A point, stored as latitude/longitude, shown in the API as GeoJSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

impl Location {
    pub fn validate(self) -> Result<Self> {
        let ok = self.latitude.is_finite()
            && self.longitude.is_finite()
            && (-90.0..=90.0).contains(&self.latitude)
            && (-180.0..=180.0).contains(&self.longitude);
        if ok {
            Ok(self)
        } else {
            Err(CoreError::invalid("location", "latitude must be within ±90 and longitude within ±180"))
        }
    }

    /// GeoJSON order is `[lng, lat]`.
    pub fn to_geojson(self) -> Value {
        serde_json::json!({ "type": "Point", "coordinates": [self.longitude, self.latitude] })
    }
}

/// The GeoJSON shape of [`Location::to_geojson`], described for the OpenAPI document only.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct GeoPoint {
    /// Always `"Point"`.
    #[schema(rename = "type", value_type = String, pattern = "^Point$", example = "Point")]
    kind: String,
    /// `[longitude, latitude]`.
    #[schema(min_items = 2, max_items = 2)]
    coordinates: Vec<f64>,
}

/// Profile fields as received; `validate` turns them into stored values.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub birthdate: Option<String>,
    pub location: Option<Location>,
    pub metadata: Option<Map<String, Value>>,
    pub secure_metadata: Option<Map<String, Value>>,
}

const MAX_NAME_CHARS: usize = 200;
const MAX_AVATAR_BYTES: usize = 2048;
const MAX_BIO_CHARS: usize = 1000;
const MAX_METADATA_BYTES: usize = 16 * 1024;

impl ProfileInput {
    /// Checks bounds and normalises (trimmed strings, empty strings become `None`,
    /// the birthdate to `YYYY-MM-DD`).
    pub fn validate(mut self) -> Result<Self> {
        self.name = bounded_text("name", self.name, MAX_NAME_CHARS)?;
        self.bio = bounded_text("bio", self.bio, MAX_BIO_CHARS)?;
        self.avatar = bounded_text("avatar", self.avatar, MAX_AVATAR_BYTES)?;
        self.birthdate = match self.birthdate.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(parse_birthdate(text)?),
        };
        self.location = self.location.map(Location::validate).transpose()?;
        check_metadata_size("metadata", self.metadata.as_ref())?;
        check_metadata_size("secureMetadata", self.secure_metadata.as_ref())?;
        Ok(self)
    }
}

fn bounded_text(field: &'static str, value: Option<String>, max_chars: usize) -> Result<Option<String>> {
    let Some(text) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(CoreError::invalid(field, format!("{field} must be at most {max_chars} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(CoreError::invalid(field, format!("{field} must not contain control characters")));
    }
    Ok(Some(text))
}

/// Accepts an ISO 8601 date (`1990-04-01`) or date-time (`1990-04-01T00:00:00Z`).
fn parse_birthdate(text: &str) -> Result<String> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|dt| dt.date_naive()))
        .ok_or_else(|| CoreError::invalid("birthdate", "birthdate must be an ISO 8601 date, e.g. 1990-04-01"))?;
    Ok(date.format("%Y-%m-%d").to_string())
}

fn check_metadata_size(field: &'static str, value: Option<&Map<String, Value>>) -> Result<()> {
    let size = value.map(|m| serde_json::to_vec(m).map(|v| v.len()).unwrap_or(usize::MAX)).unwrap_or(0);
    if size > MAX_METADATA_BYTES {
        return Err(CoreError::invalid(field, format!("{field} must be at most 16 KiB of JSON")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdates_normalise_and_bad_ones_are_refused() {
        let p = ProfileInput { birthdate: Some("1990-04-01T10:00:00Z".into()), ..Default::default() };
        assert_eq!(p.validate().unwrap().birthdate.as_deref(), Some("1990-04-01"));
        let p = ProfileInput { birthdate: Some("April 1".into()), ..Default::default() };
        assert!(matches!(p.validate(), Err(CoreError::InvalidInput { field: "birthdate", .. })));
    }

    #[test]
    fn location_bounds() {
        assert!(Location { latitude: 91.0, longitude: 0.0 }.validate().is_err());
        let geo = Location { latitude: 1.5, longitude: 2.5 }.to_geojson();
        assert_eq!(geo["coordinates"], serde_json::json!([2.5, 1.5]));
    }
}
