use chrono::{DateTime, SecondsFormat, Utc};
use latchkey_proto::{AuthMethod, AuthUser};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Location, Profile, ProjectId, UserId};

/// A user's role; stored and put in access tokens as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    Visitor,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl From<Role> for latchkey_proto::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Visitor => Self::Visitor,
            Role::Moderator => Self::Moderator,
            Role::Admin => Self::Admin,
        }
    }
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
    pub username: Option<String>,
    pub profile: Profile,
    pub metadata: Map<String, Value>,
    pub secure_metadata: Map<String, Value>,
    pub reputation: i64,
    pub is_verified: bool,
    pub is_active: bool,
    pub password_hash: Option<String>,
    pub last_active: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The end of the latest suspension in force (`DateTime::<Utc>::MAX_UTC` for one without
    /// an end), `None` when none is: kept on the row so sign-in and refresh need no extra read.
    pub suspended_until: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("foreign_id", &self.foreign_id)
            .field("role", &self.role)
            .field("is_active", &self.is_active)
            .field("suspended_until", &self.suspended_until)
            .finish_non_exhaustive()
    }
}

impl User {
    /// A new active, unverified visitor of `project` with no credentials and an empty profile,
    /// first seen `now`: the base every way of creating a user fills in.
    pub fn new_visitor(project_id: ProjectId, now: DateTime<Utc>) -> Self {
        Self {
            id: UserId::generate(),
            project_id,
            foreign_id: None,
            role: Role::Visitor,
            email: None,
            username: None,
            profile: Profile::default(),
            metadata: Map::new(),
            secure_metadata: Map::new(),
            reputation: 0,
            is_verified: false,
            is_active: true,
            password_hash: None,
            last_active: Some(now),
            created_at: now,
            updated_at: now,
            suspended_until: None,
        }
    }

    /// True while a suspension is in force at `now`.
    pub fn is_suspended(&self, now: DateTime<Utc>) -> bool {
        self.suspended_until.is_some_and(|until| until > now)
    }

    /// Whether the user may hold a session at `now`: every way in (a password sign-in once the
    /// password verified, a refresh, an external sign-in) asks this.
    pub fn may_sign_in(&self, now: DateTime<Utc>) -> crate::Result<()> {
        if !self.is_active {
            return Err(crate::CoreError::AccountDisabled);
        }
        if self.is_suspended(now) {
            return Err(crate::CoreError::UserSuspended);
        }
        Ok(())
    }

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

    /// The outward view: the API's `user` object.
    pub fn to_auth_user(&self) -> AuthUser {
        let profile = &self.profile;
        AuthUser {
            id: self.id.to_string(),
            project_id: self.project_id.to_string(),
            foreign_id: self.foreign_id.clone(),
            role: self.role.into(),
            email: self.email.clone(),
            name: profile.name.clone(),
            username: self.username.clone(),
            avatar: profile.avatar.clone(),
            bio: profile.bio.clone(),
            birthdate: profile.birthdate.clone(),
            location: profile.location.map(Location::to_geojson),
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
