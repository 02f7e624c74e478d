//! The admin API's users and sessions on the wire: proto bodies into the core's requests, and
//! the core's results into proto responses. The routes (`routes/admin/users.rs`,
//! `routes/admin/sessions.rs`) and the CLI (`cli/user.rs`) share these, so `--json` prints
//! exactly what the API answers.

use chrono::{DateTime, SecondsFormat, Utc};
use latchkey_core::CoreError;
use latchkey_core::auth::{
    LinkDelivery, ManagedUser, NewUser, SuspendUser, UserChanges, UserLookup, UserQuery, UserStatus,
};
use latchkey_core::domain::{LinkPurpose, Location, Profile, ProfileInput, Role, Suspension};
use latchkey_core::store::SessionRecord;
use latchkey_proto::Role as WireRole;
use latchkey_proto::admin::{
    AdminUser, CreateUser, LinkDelivery as WireDelivery, LinkKind, SessionInfo, SuspendUser as WireSuspend,
    Suspension as WireSuspension, UpdateUser, UserListQuery, UserLookupQuery, UserStatus as WireStatus,
};

type Result<T> = std::result::Result<T, CoreError>;

/// An instant as the API writes it: ISO 8601, milliseconds, UTC.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An ISO 8601 instant from the wire (`field` names it in the error).
pub(crate) fn instant(field: &'static str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        CoreError::invalid(field, format!("{field} must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z"))
    })
}

pub(crate) fn role(role: WireRole) -> Result<Role> {
    match role {
        WireRole::Visitor => Ok(Role::Visitor),
        WireRole::Moderator => Ok(Role::Moderator),
        WireRole::Admin => Ok(Role::Admin),
        WireRole::Other => Err(CoreError::invalid("role", "role must be visitor, moderator or admin")),
    }
}

pub fn user_query(query: UserListQuery) -> Result<UserQuery> {
    Ok(UserQuery {
        limit: query.limit,
        cursor: query.cursor,
        email_prefix: query.email,
        username_prefix: query.username,
        verified: query.verified,
        status: query.status.map(|status| match status {
            WireStatus::Active => UserStatus::Active,
            WireStatus::Suspended => UserStatus::Suspended,
        }),
        foreign_id: query.foreign_id,
        created_after: query.created_after.as_deref().map(|t| instant("createdAfter", t)).transpose()?,
        created_before: query.created_before.as_deref().map(|t| instant("createdBefore", t)).transpose()?,
    })
}

/// Exactly one of `email` and `foreignId`.
pub fn user_lookup(query: UserLookupQuery) -> Result<UserLookup> {
    match (query.email, query.foreign_id) {
        (Some(email), None) => Ok(UserLookup::Email(email)),
        (None, Some(id)) => Ok(UserLookup::ForeignId(id)),
        _ => Err(CoreError::invalid("email", "give exactly one of email and foreignId")),
    }
}

pub fn new_user(body: CreateUser) -> Result<NewUser> {
    let profile = Profile {
        name: body.name,
        avatar: body.avatar,
        bio: body.bio,
        birthdate: body.birthdate,
        location: body.location.map(Location::from),
    };
    Ok(NewUser {
        email: body.email,
        password: body.password,
        username: body.username,
        profile: ProfileInput { profile, metadata: body.metadata, secure_metadata: body.secure_metadata },
        role: body.role.map(role).transpose()?,
        foreign_id: body.foreign_id,
        email_verified: body.email_verified.unwrap_or(false),
    })
}

pub fn user_changes(body: UpdateUser) -> Result<UserChanges> {
    Ok(UserChanges {
        email: body.email,
        send_verification: body.send_verification.unwrap_or(false),
        username: body.username,
        name: body.name,
        avatar: body.avatar,
        bio: body.bio,
        birthdate: body.birthdate,
        location: body.location.map(|location| location.map(Location::from)),
        role: body.role.map(role).transpose()?,
        metadata: body.metadata,
        secure_metadata: body.secure_metadata,
        email_verified: body.email_verified,
        is_active: body.is_active,
    })
}

pub fn suspend_user(body: WireSuspend) -> Result<SuspendUser> {
    Ok(SuspendUser { reason: body.reason, ends_at: body.ends_at.as_deref().map(|t| instant("endsAt", t)).transpose()? })
}

pub fn link_purpose(kind: LinkKind) -> LinkPurpose {
    match kind {
        LinkKind::PasswordReset => LinkPurpose::PasswordReset,
        LinkKind::EmailVerification => LinkPurpose::VerifyEmail,
    }
}

pub fn link_delivery(delivery: WireDelivery) -> LinkDelivery {
    match delivery {
        WireDelivery::Email => LinkDelivery::Email,
        WireDelivery::Return => LinkDelivery::Return,
    }
}

fn suspension(s: &Suspension) -> WireSuspension {
    WireSuspension {
        id: s.id.to_string(),
        reason: s.reason.clone(),
        starts_at: iso(s.starts_at),
        ends_at: s.ends_at.map(iso),
        created_by: s.created_by.to_string(),
    }
}

/// The admin view of a user: its API `user` object plus what only an operator sees.
pub fn admin_user(managed: &ManagedUser) -> AdminUser {
    let user = &managed.user;
    let public = user.to_auth_user();
    AdminUser {
        id: public.id,
        project_id: public.project_id,
        foreign_id: public.foreign_id,
        role: public.role,
        email: public.email,
        name: public.name,
        username: public.username,
        avatar: public.avatar,
        bio: public.bio,
        birthdate: public.birthdate,
        location: public.location,
        metadata: public.metadata,
        secure_metadata: user.secure_metadata.clone(),
        reputation: public.reputation,
        is_verified: public.is_verified,
        is_active: public.is_active,
        is_suspended: managed.is_suspended(),
        last_active: public.last_active,
        created_at: public.created_at,
        updated_at: public.updated_at,
        suspensions: managed.suspensions.iter().map(suspension).collect(),
        auth_methods: public.auth_methods,
        has_password: user.password_hash.is_some(),
    }
}

pub fn session_info(session: &SessionRecord) -> SessionInfo {
    SessionInfo {
        id: session.id.to_string(),
        created_at: iso(session.created_at),
        last_refreshed_at: iso(session.rotated_at),
        expires_at: iso(session.expires_at),
        generation: session.generation,
        method: session.method.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_the_core_cannot_take_are_named() {
        let bad_time = UserListQuery { created_after: Some("yesterday".into()), ..Default::default() };
        assert!(matches!(user_query(bad_time), Err(CoreError::InvalidInput { field: "createdAfter", .. })));
        let both = UserLookupQuery { email: Some("a@x.io".into()), foreign_id: Some("f".into()) };
        assert!(user_lookup(both).is_err());
        assert!(user_lookup(UserLookupQuery::default()).is_err());
        let odd_role = CreateUser { email: "a@x.io".into(), role: Some(WireRole::Other), ..Default::default() };
        assert!(matches!(new_user(odd_role), Err(CoreError::InvalidInput { field: "role", .. })));
        let end = suspend_user(WireSuspend { reason: "r".into(), ends_at: Some("2030-01-01T00:00:00+02:00".into()) });
        assert_eq!(end.unwrap().ends_at.map(iso).as_deref(), Some("2029-12-31T22:00:00.000Z"));
    }
}
