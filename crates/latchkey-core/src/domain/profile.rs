//! Optional profile fields a user carries (from sign-up or an external user's `userData`).

use chrono::{DateTime, NaiveDate};
use latchkey_proto::GeoPoint;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{CoreError, Result};

/// A point, stored as latitude/longitude, shown in the API as GeoJSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    pub fn to_geojson(self) -> GeoPoint {
        GeoPoint::new(self.into())
    }
}

impl From<Location> for latchkey_proto::Location {
    fn from(Location { latitude, longitude }: Location) -> Self {
        Self { latitude, longitude }
    }
}

impl From<latchkey_proto::Location> for Location {
    fn from(latchkey_proto::Location { latitude, longitude }: latchkey_proto::Location) -> Self {
        Self { latitude, longitude }
    }
}

/// The optional profile fields of a user, declared once: stored in [`super::User`], received
/// on sign-up and in an external user's `userData`, returned (spelled out) in `AuthUser`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Profile {
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    /// `YYYY-MM-DD` once validated.
    pub birthdate: Option<String>,
    pub location: Option<Location>,
}

impl Profile {
    /// Takes every field `asserted` has, leaving the others alone; true when anything changed.
    pub fn overlay(&mut self, asserted: &Profile) -> bool {
        let mut changed = false;
        set(&mut self.name, &asserted.name, &mut changed);
        set(&mut self.avatar, &asserted.avatar, &mut changed);
        set(&mut self.bio, &asserted.bio, &mut changed);
        set(&mut self.birthdate, &asserted.birthdate, &mut changed);
        set(&mut self.location, &asserted.location, &mut changed);
        changed
    }
}

/// Sets `slot` to `value` when there is one and it differs, noting the change.
pub(crate) fn set<T: PartialEq + Clone>(slot: &mut Option<T>, value: &Option<T>, changed: &mut bool) {
    if let Some(v) = value
        && slot.as_ref() != Some(v)
    {
        *slot = Some(v.clone());
        *changed = true;
    }
}

/// Profile fields as received, with the metadata objects; `validate` turns them into stored values.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub profile: Profile,
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
        let p = &mut self.profile;
        p.name = bounded_text("name", p.name.take(), MAX_NAME_CHARS)?;
        p.bio = bounded_text("bio", p.bio.take(), MAX_BIO_CHARS)?;
        p.avatar = bounded_text("avatar", p.avatar.take(), MAX_AVATAR_BYTES)?;
        p.birthdate = match p.birthdate.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(parse_birthdate(text)?),
        };
        p.location = p.location.map(Location::validate).transpose()?;
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
        let input = |birthdate: &str| ProfileInput {
            profile: Profile { birthdate: Some(birthdate.into()), ..Default::default() },
            ..Default::default()
        };
        let p = input("1990-04-01T10:00:00Z");
        assert_eq!(p.validate().unwrap().profile.birthdate.as_deref(), Some("1990-04-01"));
        let p = input("April 1");
        assert!(matches!(p.validate(), Err(CoreError::InvalidInput { field: "birthdate", .. })));
    }

    #[test]
    fn location_bounds() {
        assert!(Location { latitude: 91.0, longitude: 0.0 }.validate().is_err());
        let geo = Location { latitude: 1.5, longitude: 2.5 }.to_geojson();
        assert_eq!(geo.coordinates, [2.5, 1.5]);
    }
}
