//! Importing users from another system and exporting them (`latchkey user import|export`,
//! `POST /admin/users/import`).
//!
//! Each line is checked like an operator's create (the same validators) and its password hash
//! by [`hashing::imported::inspect`]; hashes are stored as given, never re-hashed. Lines match
//! existing users by `foreignId` when they have one, by email otherwise:
//! - no match: `created`;
//! - a match whose data the line would not change: `skipped` (so a re-run creates nothing);
//! - a match the line changes: `updated`. An import overwrites what the line gives of the
//!   profile (username, name, avatar, bio, birthdate, location), `metadata`,
//!   `secureMetadata` (each replaced whole), `role`, `emailVerified`, and sets `foreignId` or
//!   the email (when matched by foreign id). A field the line leaves out (or gives as null) is
//!   kept. It never touches the password of a user who has one (they may have changed it, or
//!   sign-in upgraded it, since the export), nor `createdAt`, the active flag, suspensions
//!   or sessions.
//!
//! Within one run (a file, or one API request) the first line with an email, username or
//! foreign id wins; later ones are `error`s. A bad line never stops the others. Each batch is
//! one store transaction with one `user.imported` record (counts only); a dry run computes
//! the same report and writes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::shared::Deps;
use super::user_admin::foreign_id;
use crate::domain::{
    Actor, AuditAction, AuditEvent, Email, Profile, ProfileInput, ProjectId, Role, User, UserId, Username,
};
use crate::hashing::imported;
use crate::store::{ImportBatch, StoreError, UniqueField, UserFilter};
use crate::{CoreError, Result};

/// The most lines one API request may carry (and the CLI's batch size).
pub const MAX_IMPORT_BATCH: usize = 1000;

/// One line of an import as received. `None` leaves a field alone on an existing user.
#[derive(Clone, Default)]
pub struct ImportedUserInput {
    pub email: String,
    pub email_verified: Option<bool>,
    pub username: Option<String>,
    pub profile: Profile,
    pub metadata: Option<Map<String, Value>>,
    pub secure_metadata: Option<Map<String, Value>>,
    pub foreign_id: Option<String>,
    pub role: Option<Role>,
    /// Kept for created users only.
    pub created_at: Option<DateTime<Utc>>,
    pub password_hash: Option<String>,
    /// Firebase only (base64), with a base64 `password_hash`.
    pub password_salt: Option<String>,
}

impl std::fmt::Debug for ImportedUserInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedUserInput").field("role", &self.role).finish_non_exhaustive()
    }
}

/// A numbered line: the user, or why it could not be read (bad JSON, a bad role, ...).
#[derive(Debug)]
pub struct ImportLine {
    /// 1-based.
    pub line: u64,
    pub user: std::result::Result<ImportedUserInput, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    Created,
    Updated,
    Skipped,
    Error,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineReport {
    pub line: u64,
    /// Normalised when valid, as given otherwise.
    pub email: Option<String>,
    pub outcome: LineOutcome,
    pub reason: Option<String>,
    /// The stored hash is below today's floor (it is upgraded at first sign-in).
    pub below_floor: bool,
}

/// What one run has seen so far: a later line with the same email, username or foreign id
/// is an error. Keep one per file across its batches.
#[derive(Debug, Default, Clone)]
pub struct ImportRun {
    emails: HashMap<String, u64>,
    usernames: HashMap<String, u64>,
    foreign_ids: HashMap<String, u64>,
}

/// A line's decision before anything is written.
enum Plan {
    Create(User),
    Update(User),
    Skip,
}

#[derive(Clone)]
pub struct UserImport {
    deps: Arc<Deps>,
}

impl UserImport {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// Imports one batch (at most [`MAX_IMPORT_BATCH`] lines) in one transaction, or only
    /// reports what it would do (`dry_run`). Line errors are in the report; `Err` is for
    /// the batch as a whole (unknown project, store unavailable, too many lines).
    pub async fn import_batch(
        &self,
        actor: Actor,
        project: ProjectId,
        run: &mut ImportRun,
        lines: Vec<ImportLine>,
        dry_run: bool,
    ) -> Result<Vec<LineReport>> {
        if lines.len() > MAX_IMPORT_BATCH {
            return Err(CoreError::invalid("users", format!("at most {MAX_IMPORT_BATCH} users per request")));
        }
        self.deps.project(project).await?;
        // A concurrent writer (a sign-up taking an email) can break a unique rule between the
        // plan and the write: plan again once; the second plan sees the new user.
        let mut attempt = 0;
        loop {
            let mut planned_run = run.clone();
            let (reports, batch) = self.plan(actor, project, &mut planned_run, &lines).await?;
            if dry_run {
                *run = planned_run;
                return Ok(reports);
            }
            match self.deps.store.import_users(&batch).await {
                Ok(()) => {
                    *run = planned_run;
                    return Ok(reports);
                }
                Err(StoreError::Conflict(_) | StoreError::NotFound) if attempt == 0 => attempt += 1,
                Err(StoreError::Conflict(field)) => return Err(conflict(field)),
                Err(err) => return Err(err.into()),
            }
        }
    }

    async fn plan(
        &self,
        actor: Actor,
        project: ProjectId,
        run: &mut ImportRun,
        lines: &[ImportLine],
    ) -> Result<(Vec<LineReport>, ImportBatch)> {
        let now = self.deps.clock.now();
        let mut batch = ImportBatch {
            project,
            create: Vec::new(),
            update: Vec::new(),
            event: AuditEvent::new(project, now, actor, AuditAction::UserImported),
        };
        let mut reports = Vec::with_capacity(lines.len());
        for line in lines {
            let raw_email = line.user.as_ref().ok().map(|u| u.email.clone());
            let mut report = LineReport {
                line: line.line,
                email: raw_email,
                outcome: LineOutcome::Error,
                reason: None,
                below_floor: false,
            };
            match &line.user {
                Err(reason) => report.reason = Some(reason.clone()),
                Ok(input) => match self.plan_line(project, run, line.line, input, now).await {
                    Ok((email, plan, below_floor)) => {
                        report.email = Some(email);
                        report.below_floor = below_floor && !matches!(plan, Plan::Skip);
                        report.outcome = match plan {
                            Plan::Create(user) => {
                                batch.create.push(user);
                                LineOutcome::Created
                            }
                            Plan::Update(user) => {
                                batch.update.push(user);
                                LineOutcome::Updated
                            }
                            Plan::Skip => LineOutcome::Skipped,
                        };
                    }
                    // The store failing is the batch's error, not the line's.
                    Err(CoreError::Store(err)) => return Err(CoreError::Store(err)),
                    Err(err) => report.reason = Some(line_reason(&err)),
                },
            }
            reports.push(report);
        }
        let count = |outcome| reports.iter().filter(|r| r.outcome == outcome).count();
        batch.event = batch
            .event
            .detail("created", count(LineOutcome::Created))
            .detail("updated", count(LineOutcome::Updated))
            .detail("skipped", count(LineOutcome::Skipped))
            .detail("errors", count(LineOutcome::Error))
            .detail("belowFloor", reports.iter().filter(|r| r.below_floor).count());
        Ok((reports, batch))
    }

    /// The normalised email, the decision, and whether the line's hash is below the floor.
    async fn plan_line(
        &self,
        project: ProjectId,
        run: &mut ImportRun,
        line: u64,
        input: &ImportedUserInput,
        now: DateTime<Utc>,
    ) -> Result<(String, Plan, bool)> {
        let email = Email::parse(&input.email)?.as_str().to_owned();
        let username = input.username.as_deref().map(Username::parse).transpose()?.map(|u| u.as_str().to_owned());
        let foreign = input.foreign_id.as_deref().map(foreign_id).transpose()?;
        let (password_hash, below_floor) = stored_hash(input)?;
        ProfileInput {
            profile: input.profile.clone(),
            metadata: input.metadata.clone(),
            secure_metadata: input.secure_metadata.clone(),
        }
        .validate()?;
        claim(&mut run.emails, "email", &email, line)?;
        if let Some(name) = &username {
            claim(&mut run.usernames, "username", name, line)?;
        }
        if let Some(id) = &foreign {
            claim(&mut run.foreign_ids, "foreignId", id, line)?;
        }

        let store = &self.deps.store;
        let by_foreign = match &foreign {
            Some(id) => store.find_user_by_foreign_id(project, id).await?,
            None => None,
        };
        let by_email = store.find_user_by_email(project, &email).await?;
        let existing = match (by_foreign, by_email) {
            (Some(a), Some(b)) if a.id != b.id => return Err(CoreError::DuplicateEmail),
            (Some(a), _) => Some(a),
            (None, Some(b)) if b.foreign_id.is_some() && foreign.is_some() => {
                return Err(CoreError::ForeignIdConflict);
            }
            (None, b) => b,
        };
        if let Some(name) = &username
            && existing.as_ref().and_then(|u| u.username.as_ref()) != Some(name)
            && store.username_taken(project, name).await?
        {
            return Err(CoreError::DuplicateUsername);
        }

        let Some(current) = existing else {
            let checked = ProfileInput {
                profile: input.profile.clone(),
                metadata: input.metadata.clone(),
                secure_metadata: input.secure_metadata.clone(),
            }
            .validate()?;
            let base = User::new_visitor(project, input.created_at.unwrap_or(now));
            let user = User {
                email: Some(email.clone()),
                username,
                foreign_id: foreign,
                role: input.role.unwrap_or(Role::Visitor),
                profile: checked.profile,
                metadata: checked.metadata.unwrap_or_default(),
                secure_metadata: checked.secure_metadata.unwrap_or_default(),
                is_verified: input.email_verified.unwrap_or(false),
                password_hash,
                last_active: None,
                updated_at: now,
                ..base
            };
            return Ok((email, Plan::Create(user), below_floor));
        };

        let next = overlay(&current, input, email.clone(), username, foreign, password_hash.clone())?;
        if same_data(&current, &next) {
            return Ok((email, Plan::Skip, false));
        }
        let sets_hash = current.password_hash.is_none() && password_hash.is_some();
        Ok((email, Plan::Update(User { updated_at: now, ..next }), below_floor && sets_hash))
    }

    /// Up to `limit` users of `project` after `after` (by id: creation order), for export;
    /// the caller pages with the last id, so memory stays one page.
    pub async fn export_page(&self, project: ProjectId, after: Option<UserId>, limit: u32) -> Result<Vec<User>> {
        self.deps.project(project).await?;
        let filter = UserFilter { after_id: after, now: self.deps.clock.now(), ..UserFilter::default() };
        Ok(self.deps.store.list_users(project, &filter, limit.clamp(1, MAX_IMPORT_BATCH as u32)).await?)
    }
}

/// The hash to store (Firebase's pair in its stored form) and whether it is below the floor.
fn stored_hash(input: &ImportedUserInput) -> Result<(Option<String>, bool)> {
    let stored = match (&input.password_hash, &input.password_salt) {
        (None, None) => return Ok((None, false)),
        (None, Some(_)) => {
            return Err(CoreError::invalid("passwordSalt", "passwordSalt needs a passwordHash (Firebase scrypt)"));
        }
        (Some(hash), Some(salt)) => imported::firebase_stored_form(hash, salt)?,
        (Some(hash), None) => hash.clone(),
    };
    let checked = imported::inspect(&stored)?;
    Ok((Some(stored), checked.below_floor))
}

/// Records the first line with `value`; a later one is an error naming it.
fn claim(seen: &mut HashMap<String, u64>, field: &'static str, value: &str, line: u64) -> Result<()> {
    if let Some(first) = seen.get(value) {
        return Err(CoreError::invalid(field, format!("duplicate {field} in this import (first on line {first})")));
    }
    seen.insert(value.to_owned(), line);
    Ok(())
}

/// `current` with what the line gives (see the module's rules), checked like a change.
fn overlay(
    current: &User,
    input: &ImportedUserInput,
    email: String,
    username: Option<String>,
    foreign: Option<String>,
    password_hash: Option<String>,
) -> Result<User> {
    let mut profile = current.profile.clone();
    let given = &input.profile;
    let take = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            slot.clone_from(value);
        }
    };
    take(&mut profile.name, &given.name);
    take(&mut profile.avatar, &given.avatar);
    take(&mut profile.bio, &given.bio);
    take(&mut profile.birthdate, &given.birthdate);
    if given.location.is_some() {
        profile.location = given.location;
    }
    let checked = ProfileInput {
        profile,
        metadata: Some(input.metadata.clone().unwrap_or_else(|| current.metadata.clone())),
        secure_metadata: Some(input.secure_metadata.clone().unwrap_or_else(|| current.secure_metadata.clone())),
    }
    .validate()?;
    Ok(User {
        email: Some(email),
        username: username.or_else(|| current.username.clone()),
        foreign_id: foreign.or_else(|| current.foreign_id.clone()),
        role: input.role.unwrap_or(current.role),
        profile: checked.profile,
        metadata: checked.metadata.unwrap_or_default(),
        secure_metadata: checked.secure_metadata.unwrap_or_default(),
        is_verified: input.email_verified.unwrap_or(current.is_verified),
        password_hash: current.password_hash.clone().or(password_hash),
        ..current.clone()
    })
}

/// Whether an import would change nothing an import may write.
fn same_data(a: &User, b: &User) -> bool {
    a.email == b.email
        && a.username == b.username
        && a.foreign_id == b.foreign_id
        && a.role == b.role
        && a.profile == b.profile
        && a.metadata == b.metadata
        && a.secure_metadata == b.secure_metadata
        && a.is_verified == b.is_verified
        && a.password_hash == b.password_hash
}

fn line_reason(err: &CoreError) -> String {
    match err {
        CoreError::InvalidInput { field, message } => format!("{field}: {message}"),
        CoreError::WeakPassword(message) => message.clone(),
        CoreError::DuplicateEmail => "email: another user already has this email".into(),
        CoreError::DuplicateUsername => "username: this username is already taken".into(),
        CoreError::ForeignIdConflict => "foreignId: the user with this email has another foreignId".into(),
        other => other.to_string(),
    }
}

fn conflict(field: UniqueField) -> CoreError {
    match field {
        UniqueField::Email => CoreError::DuplicateEmail,
        UniqueField::Username => CoreError::DuplicateUsername,
        UniqueField::ForeignId => CoreError::ForeignIdConflict,
        other => StoreError::Conflict(other).into(),
    }
}
