//! The `userData` claim: profile fields the customer's system asserts for its user.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::profile::set;
use crate::domain::{Email, Profile, ProfileInput, User, Username};
use crate::{CoreError, Result};

/// `userData` as received.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUserData {
    email: Option<String>,
    username: Option<String>,
    #[serde(flatten)]
    profile: Profile,
    metadata: Option<Map<String, Value>>,
    secure_metadata: Option<Map<String, Value>>,
}

/// Validated `userData`. Absent (or null) fields leave the stored value alone.
#[derive(Debug, Default)]
pub struct ExternalProfile {
    pub email: Option<Email>,
    pub username: Option<Username>,
    pub profile: ProfileInput,
}

impl ExternalProfile {
    pub fn parse(user_data: Option<Value>) -> Result<Self> {
        let Some(value) = user_data else { return Ok(Self::default()) };
        let raw: RawUserData = serde_json::from_value(value)
            .map_err(|e| CoreError::invalid("userData", format!("userData is malformed: {e}")))?;
        let email = raw.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(Email::parse).transpose()?;
        let username = raw
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| Username::parse_for("username", u))
            .transpose()?;
        let profile =
            ProfileInput { profile: raw.profile, metadata: raw.metadata, secure_metadata: raw.secure_metadata }
                .validate()?;
        Ok(Self { email, username, profile })
    }

    /// Applies the asserted fields to `user`; true when anything changed.
    pub fn apply_to(&self, user: &mut User) -> bool {
        let mut changed = false;
        let email_before = user.email.clone();
        set(&mut user.email, &self.email.as_ref().map(|e| e.as_str().to_owned()), &mut changed);
        if user.email != email_before {
            // A new address is not a verified address (the store applies the same rule).
            user.is_verified = false;
        }
        set(&mut user.username, &self.username.as_ref().map(|u| u.as_str().to_owned()), &mut changed);
        changed |= user.profile.overlay(&self.profile.profile);
        if let Some(m) = &self.profile.metadata
            && *m != user.metadata
        {
            user.metadata = m.clone();
            changed = true;
        }
        if let Some(m) = &self.profile.secure_metadata
            && *m != user.secure_metadata
        {
            user.secure_metadata = m.clone();
            changed = true;
        }
        changed
    }
}
