//! Import and export on the wire: JSON Lines lines and API elements into the core's
//! [`ImportLine`]s, its [`LineReport`]s into the proto report, and stored users into the
//! export's [`ImportedUser`]. The route and the CLI share these, so both read and write the
//! same schema.

use latchkey_core::CoreError;
use latchkey_core::auth::{ImportLine, ImportedUserInput, LineOutcome, LineReport};
use latchkey_core::domain::{Location, Profile, User};
use latchkey_proto::Location as WireLocation;
use latchkey_proto::admin::{ImportLineReport, ImportOutcome, ImportReport, ImportedUser};
use serde_json::Value;

use crate::admin_wire::{instant, iso, role};

/// One line of a JSON Lines file (1-based `line`).
pub fn parse_line(line: u64, text: &str) -> ImportLine {
    match serde_json::from_str::<ImportedUser>(text) {
        Ok(user) => from_wire(line, user),
        Err(err) => ImportLine { line, user: Err(format!("not a user object: {err}")) },
    }
}

/// One element of the API's `users` (1-based position).
pub fn parse_value(line: u64, value: Value) -> ImportLine {
    match serde_json::from_value::<ImportedUser>(value) {
        Ok(user) => from_wire(line, user),
        Err(err) => ImportLine { line, user: Err(format!("not a user object: {err}")) },
    }
}

fn from_wire(line: u64, user: ImportedUser) -> ImportLine {
    ImportLine { line, user: input(user).map_err(|err| reason(&err)) }
}

fn reason(err: &CoreError) -> String {
    match err {
        CoreError::InvalidInput { field, message } => format!("{field}: {message}"),
        other => other.to_string(),
    }
}

fn input(user: ImportedUser) -> Result<ImportedUserInput, CoreError> {
    Ok(ImportedUserInput {
        email: user.email,
        email_verified: user.email_verified,
        username: user.username,
        profile: Profile {
            name: user.name,
            avatar: user.avatar,
            bio: user.bio,
            birthdate: user.birthdate,
            location: user.location.map(Location::from),
        },
        metadata: user.metadata,
        secure_metadata: user.secure_metadata,
        foreign_id: user.foreign_id,
        role: user.role.map(role).transpose()?,
        created_at: user.created_at.as_deref().map(|t| instant("createdAt", t)).transpose()?,
        password_hash: user.password_hash,
        password_salt: user.password_salt,
    })
}

pub fn line_report(report: &LineReport) -> ImportLineReport {
    ImportLineReport {
        line: report.line,
        email: report.email.clone(),
        outcome: match report.outcome {
            LineOutcome::Created => ImportOutcome::Created,
            LineOutcome::Updated => ImportOutcome::Updated,
            LineOutcome::Skipped => ImportOutcome::Skipped,
            LineOutcome::Error => ImportOutcome::Error,
        },
        reason: report.reason.clone(),
        below_floor: report.below_floor.then_some(true),
    }
}

/// The per-line reports with their counts.
pub fn import_report(dry_run: bool, reports: &[LineReport]) -> ImportReport {
    let count = |outcome| reports.iter().filter(|r| r.outcome == outcome).count() as u64;
    ImportReport {
        dry_run,
        created: count(LineOutcome::Created),
        updated: count(LineOutcome::Updated),
        skipped: count(LineOutcome::Skipped),
        errors: count(LineOutcome::Error),
        below_floor: reports.iter().filter(|r| r.below_floor).count() as u64,
        lines: reports.iter().map(line_report).collect(),
    }
}

/// A stored user in the import schema; `None` for a user without an email (an external user
/// known only by its foreign id), which the schema cannot carry.
pub fn exported_user(user: &User, with_password_hash: bool) -> Option<ImportedUser> {
    let public = user.to_auth_user();
    let profile = &user.profile;
    Some(ImportedUser {
        email: user.email.clone()?,
        email_verified: Some(user.is_verified),
        username: user.username.clone(),
        name: profile.name.clone(),
        avatar: profile.avatar.clone(),
        bio: profile.bio.clone(),
        birthdate: profile.birthdate.clone(),
        location: profile.location.map(|l| WireLocation { latitude: l.latitude, longitude: l.longitude }),
        metadata: Some(user.metadata.clone()),
        secure_metadata: Some(user.secure_metadata.clone()),
        foreign_id: user.foreign_id.clone(),
        role: Some(public.role),
        created_at: Some(iso(user.created_at)),
        password_hash: if with_password_hash { user.password_hash.clone() } else { None },
        password_salt: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_become_error_lines_with_a_reason() {
        let not_json = parse_line(1, "{nope");
        assert!(not_json.user.unwrap_err().starts_with("not a user object"));
        let no_email = parse_line(2, r#"{"name":"A"}"#);
        assert!(no_email.user.unwrap_err().contains("email"));
        let bad_time = parse_line(3, r#"{"email":"a@x.io","createdAt":"yesterday"}"#);
        assert!(bad_time.user.unwrap_err().starts_with("createdAt:"));
        let bad_role = parse_line(4, r#"{"email":"a@x.io","role":"owner"}"#);
        assert!(bad_role.user.unwrap_err().starts_with("role:"));
        let fine = parse_line(5, r#"{"email":"a@x.io","role":"admin","createdAt":"2020-01-01T00:00:00Z"}"#);
        assert_eq!(fine.user.unwrap().email, "a@x.io");
    }
}
