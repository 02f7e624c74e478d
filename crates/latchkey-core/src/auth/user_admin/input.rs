//! What an operator sends to create, change or suspend a user, and its checks: the same
//! validators as sign-up (`Email`, `Username`, `Password`, `ProfileInput`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::{Email, Location, Profile, ProfileInput, Role, Suspension, User, Username};
use crate::external::token::MAX_ID_LEN;
use crate::{CoreError, Result};

/// A user an operator creates. `Debug` never shows the password.
#[derive(Clone, Default)]
pub struct NewUser {
    pub email: String,
    /// None: the user signs in by a reset link or as an external user.
    pub password: Option<String>,
    pub username: Option<String>,
    pub profile: ProfileInput,
    /// Default visitor.
    pub role: Option<Role>,
    pub foreign_id: Option<String>,
    pub email_verified: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser").field("role", &self.role).finish_non_exhaustive()
    }
}

/// A PATCH of a user: `None` leaves a field alone; for the optional profile fields and the
/// username, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    /// With a changed (and not explicitly verified) email: mail a verification link to it.
    pub send_verification: bool,
    pub username: Option<Option<String>>,
    pub name: Option<Option<String>>,
    pub avatar: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub birthdate: Option<Option<String>>,
    pub location: Option<Option<Location>>,
    pub role: Option<Role>,
    /// Replaces the whole object.
    pub metadata: Option<Map<String, Value>>,
    pub secure_metadata: Option<Map<String, Value>>,
    pub email_verified: Option<bool>,
    /// False disables the account (its sessions are revoked); true enables it again.
    pub is_active: Option<bool>,
}

/// A suspension as an operator asks for it.
#[derive(Debug, Clone, Default)]
pub struct SuspendUser {
    pub reason: String,
    /// In the future; None: until lifted.
    pub ends_at: Option<DateTime<Utc>>,
}

/// A foreign id (an external user's `sub`): the same bounds as the token's.
pub(in crate::auth) fn foreign_id(raw: &str) -> Result<String> {
    if raw.trim().is_empty() || raw.len() > MAX_ID_LEN || raw.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "foreignId",
            "foreignId must be 1 to 255 characters, without control characters",
        ));
    }
    Ok(raw.to_owned())
}

impl NewUser {
    /// The user to store at `now` (without its password hash) and the checked password.
    pub(super) fn validate(self, base: User) -> Result<(User, Option<crate::domain::Password>)> {
        let email = Email::parse(&self.email)?;
        let username = self.username.as_deref().map(Username::parse).transpose()?;
        let password = self.password.map(|p| crate::domain::Password::new_for("password", p)).transpose()?;
        let profile = self.profile.validate()?;
        let user = User {
            email: Some(email.as_str().to_owned()),
            username: username.map(|u| u.as_str().to_owned()),
            foreign_id: self.foreign_id.as_deref().map(foreign_id).transpose()?,
            role: self.role.unwrap_or(Role::Visitor),
            profile: profile.profile,
            metadata: profile.metadata.unwrap_or_default(),
            secure_metadata: profile.secure_metadata.unwrap_or_default(),
            is_verified: self.email_verified,
            // Nobody has signed in as this user yet.
            last_active: None,
            ..base
        };
        Ok((user, password))
    }
}

/// A user with changes applied, and what changed.
pub(super) struct Changed {
    pub user: User,
    /// Wire names of the fields whose value changed, for the audit record.
    pub fields: Vec<&'static str>,
    pub email_changed: bool,
}

impl UserChanges {
    /// `current` with the changes applied and checked (`updated_at` is left to the caller).
    pub(super) fn apply(self, current: &User) -> Result<Changed> {
        let mut next = current.clone();
        if let Some(raw) = &self.email {
            next.email = Some(Email::parse(raw)?.as_str().to_owned());
        }
        if let Some(username) = &self.username {
            next.username = username.as_deref().map(Username::parse).transpose()?.map(|u| u.as_str().to_owned());
        }
        let mut profile = current.profile.clone();
        replace(&mut profile.name, self.name);
        replace(&mut profile.avatar, self.avatar);
        replace(&mut profile.bio, self.bio);
        replace(&mut profile.birthdate, self.birthdate);
        replace(&mut profile.location, self.location);
        let checked = ProfileInput {
            profile,
            metadata: Some(self.metadata.unwrap_or_else(|| current.metadata.clone())),
            secure_metadata: Some(self.secure_metadata.unwrap_or_else(|| current.secure_metadata.clone())),
        }
        .validate()?;
        next.profile = checked.profile;
        next.metadata = checked.metadata.unwrap_or_default();
        next.secure_metadata = checked.secure_metadata.unwrap_or_default();
        if let Some(role) = self.role {
            next.role = role;
        }
        if let Some(active) = self.is_active {
            next.is_active = active;
        }
        let email_changed = next.email != current.email;
        // A new address is unverified unless the operator says otherwise in the same change.
        next.is_verified = match self.email_verified {
            Some(verified) => verified,
            None if email_changed => false,
            None => current.is_verified,
        };
        let fields = changed_fields(current, &next);
        Ok(Changed { user: next, fields, email_changed })
    }
}

/// `slot` takes `change` when there is one (`Some(None)` clears it).
fn replace<T>(slot: &mut Option<T>, change: Option<Option<T>>) {
    if let Some(value) = change {
        *slot = value;
    }
}

fn changed_fields(before: &User, after: &User) -> Vec<&'static str> {
    let (a, b) = (&before.profile, &after.profile);
    let Profile { name, avatar, bio, birthdate, location } = a;
    [
        ("email", before.email != after.email),
        ("username", before.username != after.username),
        ("name", *name != b.name),
        ("avatar", *avatar != b.avatar),
        ("bio", *bio != b.bio),
        ("birthdate", *birthdate != b.birthdate),
        ("location", *location != b.location),
        ("role", before.role != after.role),
        ("metadata", before.metadata != after.metadata),
        ("secureMetadata", before.secure_metadata != after.secure_metadata),
        ("emailVerified", before.is_verified != after.is_verified),
        ("isActive", before.is_active != after.is_active),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

impl SuspendUser {
    /// The reason, trimmed and within bounds, and the end, in the future.
    pub(super) fn validate(self, now: DateTime<Utc>) -> Result<(String, Option<DateTime<Utc>>)> {
        let reason = self.reason.trim().to_owned();
        let chars = reason.chars().count();
        if chars == 0 || chars > Suspension::MAX_REASON_CHARS {
            return Err(CoreError::invalid("reason", "reason must be 1 to 500 characters"));
        }
        if reason.chars().any(|c| c.is_control() && c != '\n') {
            return Err(CoreError::invalid("reason", "reason must not contain control characters"));
        }
        if self.ends_at.is_some_and(|end| end <= now) {
            return Err(CoreError::invalid("endsAt", "endsAt must be in the future"));
        }
        Ok((reason, self.ends_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProjectId;

    fn stored() -> User {
        let mut user = User::new_visitor(ProjectId::generate(), Utc::now());
        user.email = Some("old@example.com".into());
        user.is_verified = true;
        user.profile.name = Some("Old".into());
        user
    }

    #[test]
    fn a_changed_email_is_unverified_unless_said_otherwise() {
        let changes = UserChanges { email: Some("New@Example.com".into()), ..Default::default() };
        let changed = changes.apply(&stored()).unwrap();
        assert_eq!(changed.user.email.as_deref(), Some("new@example.com"));
        assert!(!changed.user.is_verified && changed.email_changed);
        assert_eq!(changed.fields, ["email", "emailVerified"]);

        let same = UserChanges { email: Some("OLD@example.com".into()), ..Default::default() };
        let changed = same.apply(&stored()).unwrap();
        assert!(changed.user.is_verified && !changed.email_changed && changed.fields.is_empty());

        let vouched =
            UserChanges { email: Some("n@example.com".into()), email_verified: Some(true), ..Default::default() };
        assert!(vouched.apply(&stored()).unwrap().user.is_verified);
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let changes = UserChanges { name: Some(None), bio: Some(Some("  hi ".into())), ..Default::default() };
        let changed = changes.apply(&stored()).unwrap();
        assert_eq!(changed.user.profile.name, None);
        assert_eq!(changed.user.profile.bio.as_deref(), Some("hi"), "validated like sign-up");
        assert_eq!(changed.fields, ["name", "bio"]);
        let bad = UserChanges { username: Some(Some("x".into())), ..Default::default() };
        assert!(matches!(bad.apply(&stored()), Err(CoreError::InvalidInput { field: "username", .. })));
    }

    #[test]
    fn suspension_reasons_and_ends() {
        let now = Utc::now();
        let ok = SuspendUser { reason: " spam ".into(), ends_at: None }.validate(now).unwrap();
        assert_eq!(ok.0, "spam");
        for reason in ["", "   ", &"x".repeat(501)] {
            let err = SuspendUser { reason: reason.into(), ends_at: None }.validate(now).unwrap_err();
            assert!(matches!(err, CoreError::InvalidInput { field: "reason", .. }), "{reason:?}");
        }
        let past = SuspendUser { reason: "r".into(), ends_at: Some(now) }.validate(now).unwrap_err();
        assert!(matches!(past, CoreError::InvalidInput { field: "endsAt", .. }));
    }
}
