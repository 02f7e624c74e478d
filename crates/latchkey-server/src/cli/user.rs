//! `latchkey user ...`: the admin API's user and session operations from the command line,
//! on the same core service (actor `cli`). Flags are turned into the API's request bodies and
//! converted as the routes convert them; `--json` prints the API's JSON, a table otherwise.
//! Passwords are read from standard input only, never from a flag (it would show in `ps`).

use std::io::Read;

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::{Args, Subcommand};
use latchkey_core::auth::{ManagedUser, UserAdmin, UserLookup};
use latchkey_core::domain::{Actor, ProjectId, SessionId, UserId};
use latchkey_proto::Role;
use latchkey_proto::admin::{
    AdminUser, CreateUser, RevokedSessions, SessionList, UpdateUser, UserListQuery, UserPage, UserStatus,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::PROJECT_HELP;
use crate::admin_wire::{self, admin_user, session_info};
use crate::config::{StorageConfig, parse_duration_secs};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List users, oldest first, one page at a time (`--cursor` takes the printed next cursor).
    List {
        #[command(flatten)]
        target: Target,
        /// Users per page, 1 to 1000 (default 100).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// The previous page's next cursor.
        #[arg(long)]
        cursor: Option<String>,
        /// Email prefix (case-insensitive).
        #[arg(long)]
        email: Option<String>,
        /// Username prefix (case-insensitive).
        #[arg(long)]
        username: Option<String>,
        /// Only users whose email is (true) or is not (false) verified.
        #[arg(long, value_name = "BOOL")]
        verified: Option<bool>,
        /// active or suspended.
        #[arg(long, value_parser = ["active", "suspended"])]
        status: Option<String>,
        /// Only the user with this foreign id (the id in the customer's own system).
        #[arg(long)]
        foreign_id: Option<String>,
        /// ISO 8601, inclusive.
        #[arg(long, value_name = "TIME")]
        created_after: Option<String>,
        /// ISO 8601, exclusive.
        #[arg(long, value_name = "TIME")]
        created_before: Option<String>,
    },
    /// Show one user, by id, --email or --foreign-id.
    Show {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        #[arg(required_unless_present_any = ["email", "foreign_id"], conflicts_with_all = ["email", "foreign_id"])]
        user_id: Option<String>,
        /// Find the user by email instead.
        #[arg(long, conflicts_with = "foreign_id")]
        email: Option<String>,
        /// Find the user by foreign id instead.
        #[arg(long)]
        foreign_id: Option<String>,
    },
    /// Create a user (validated like a sign-up).
    Create {
        #[command(flatten)]
        target: Target,
        /// The user's email address.
        #[arg(long)]
        email: String,
        /// Read the user's password from standard input (without one the user signs in by a
        /// reset link or as an external user).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        fields: UserFields,
        /// The user's id in the customer's own system (unique in the project).
        #[arg(long)]
        foreign_id: Option<String>,
        /// The email address is already verified.
        #[arg(long)]
        email_verified: bool,
    },
    /// Change a user: only the flags given change. For the text fields, `none` clears them.
    Update {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
        /// A changed email becomes unverified.
        #[arg(long)]
        email: Option<String>,
        /// With a changed email: send a verification email to the new address.
        #[arg(long, requires = "email")]
        send_verification: bool,
        #[command(flatten)]
        fields: UserFields,
        /// Mark the email address verified (true) or not (false).
        #[arg(long, value_name = "BOOL")]
        email_verified: Option<bool>,
        /// false disables the account (its sessions are revoked); true enables it again.
        #[arg(long, value_name = "BOOL")]
        active: Option<bool>,
    },
    /// Suspend a user: sign-in, refresh and external sign-in are refused, sessions revoked.
    Suspend {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
        /// Shown to operators, never to the user (1 to 500 characters).
        #[arg(long)]
        reason: String,
        /// When it ends (ISO 8601); without --until or --for it lasts until `unsuspend`.
        #[arg(long, value_name = "TIME", conflicts_with = "for_")]
        until: Option<String>,
        /// How long it lasts, e.g. 12h, 7d.
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration_secs)]
        for_: Option<i64>,
    },
    /// Lift every suspension in force.
    Unsuspend {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
    },
    /// Erase a user and every row about them (sessions, links, mail, lockout, history).
    Delete {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
        /// The user id again: there is no undo.
        #[arg(long, value_name = "USER_ID")]
        confirm: String,
    },
    /// Set a user's password from standard input; every session is revoked.
    SetPassword {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
        /// Required: the password is read from standard input only.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List a user's live sessions.
    Sessions {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
    },
    /// Revoke one session (--session) or all of a user's sessions ("sign out everywhere").
    RevokeSessions {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
        /// Only this session (its id, from `user sessions`).
        #[arg(long, value_name = "SESSION_ID")]
        session: Option<String>,
    },
    /// Clear the sign-in lockout of a user's email.
    Unlock {
        #[command(flatten)]
        target: Target,
        /// The user's id.
        user_id: String,
    },
    /// Set the project's parameters for imported password hashes (Firebase's modified scrypt).
    ImportSettings(super::import_settings::ImportSettingsArgs),
    /// Import users from a JSON Lines file, with their password hashes (docs/MIGRATING.md).
    Import(super::user_import::ImportArgs),
    /// Export users as JSON Lines to standard output.
    Export(super::user_import::ExportArgs),
}

#[derive(Debug, Args)]
pub struct Target {
    #[arg(long, value_name = "ID", help = PROJECT_HELP)]
    pub project: String,
    /// Print the admin API's JSON (camelCase keys) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Profile fields, username, role and metadata, as `create` and `update` take them.
#[derive(Debug, Args, Default)]
pub struct UserFields {
    /// A unique username (3 to 30 of a-z, digits, `.` and `_`).
    #[arg(long)]
    pub username: Option<String>,
    /// The display name.
    #[arg(long)]
    pub name: Option<String>,
    /// An avatar image URL.
    #[arg(long, value_name = "URL")]
    pub avatar: Option<String>,
    /// A short text about the user.
    #[arg(long)]
    pub bio: Option<String>,
    /// The birth date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub birthdate: Option<String>,
    /// visitor, moderator or admin.
    #[arg(long, value_parser = ["visitor", "moderator", "admin"])]
    pub role: Option<String>,
    /// A JSON object (replaces the whole object).
    #[arg(long, value_name = "JSON")]
    pub metadata: Option<String>,
    /// A JSON object, seen only by operators and the customer's server.
    #[arg(long, value_name = "JSON")]
    pub secure_metadata: Option<String>,
}

pub async fn user(storage: &StorageConfig, command: UserCommand) -> anyhow::Result<()> {
    // Like every admin command: refused unless the master key opens the stored keys.
    let admins = super::admin::checked_admin(storage).await?;
    let admin = admins.users.clone();
    let actor = Actor::Cli;
    match command {
        UserCommand::List {
            target,
            limit,
            cursor,
            email,
            username,
            verified,
            status,
            foreign_id,
            created_after,
            created_before,
        } => {
            let status = status.map(|s| if s == "suspended" { UserStatus::Suspended } else { UserStatus::Active });
            let query = UserListQuery {
                limit,
                cursor,
                email,
                username,
                verified,
                status,
                foreign_id,
                created_after,
                created_before,
            };
            let page = admin.list(project_id(&target.project)?, &admin_wire::user_query(query)?).await?;
            let page = UserPage { users: page.users.iter().map(admin_user).collect(), next_cursor: page.next_cursor };
            if target.json {
                print_json(&page)?;
            } else {
                print_user_table(&page.users);
                if let Some(cursor) = &page.next_cursor {
                    println!("next page: --cursor {cursor}");
                }
            }
        }
        UserCommand::Show { target, user_id, email, foreign_id } => {
            let project = project_id(&target.project)?;
            let user = match (user_id, email, foreign_id) {
                (Some(id), _, _) => admin.get(project, user_id_of(&id)?).await?,
                (None, Some(email), _) => admin.lookup(project, &UserLookup::Email(email)).await?,
                (None, None, Some(id)) => admin.lookup(project, &UserLookup::ForeignId(id)).await?,
                (None, None, None) => anyhow::bail!("give a user id, --email or --foreign-id"),
            };
            print_user(&user, target.json)?;
        }
        UserCommand::Create { target, email, password_stdin, fields, foreign_id, email_verified } => {
            let password = password_stdin.then(read_password).transpose()?;
            let body = CreateUser {
                email,
                password,
                username: fields.username,
                name: fields.name,
                avatar: fields.avatar,
                bio: fields.bio,
                birthdate: fields.birthdate,
                location: None,
                role: fields.role.as_deref().map(role).transpose()?,
                foreign_id,
                metadata: fields.metadata.as_deref().map(|m| json_object("--metadata", m)).transpose()?,
                secure_metadata: fields
                    .secure_metadata
                    .as_deref()
                    .map(|m| json_object("--secure-metadata", m))
                    .transpose()?,
                email_verified: Some(email_verified),
            };
            let created = admin.create(actor, project_id(&target.project)?, admin_wire::new_user(body)?).await?;
            print_user(&created, target.json)?;
        }
        UserCommand::Update { target, user_id, email, send_verification, fields, email_verified, active } => {
            let body = UpdateUser {
                email,
                send_verification: Some(send_verification),
                username: clearable(fields.username),
                name: clearable(fields.name),
                avatar: clearable(fields.avatar),
                bio: clearable(fields.bio),
                birthdate: clearable(fields.birthdate),
                location: None,
                role: fields.role.as_deref().map(role).transpose()?,
                metadata: fields.metadata.as_deref().map(|m| json_object("--metadata", m)).transpose()?,
                secure_metadata: fields
                    .secure_metadata
                    .as_deref()
                    .map(|m| json_object("--secure-metadata", m))
                    .transpose()?,
                email_verified,
                is_active: active,
            };
            let project = project_id(&target.project)?;
            let updated = admin.update(actor, project, user_id_of(&user_id)?, admin_wire::user_changes(body)?).await?;
            print_user(&updated, target.json)?;
        }
        UserCommand::Suspend { target, user_id, reason, until, for_ } => {
            let ends_at = match (until, for_) {
                (Some(until), _) => Some(until),
                (None, Some(secs)) => Some(admin_wire::iso(Utc::now() + Duration::seconds(secs))),
                (None, None) => None,
            };
            let body = latchkey_proto::admin::SuspendUser { reason, ends_at };
            let project = project_id(&target.project)?;
            let user = admin.suspend(actor, project, user_id_of(&user_id)?, admin_wire::suspend_user(body)?).await?;
            print_user(&user, target.json)?;
        }
        UserCommand::Unsuspend { target, user_id } => {
            let user = admin.unsuspend(actor, project_id(&target.project)?, user_id_of(&user_id)?).await?;
            print_user(&user, target.json)?;
        }
        UserCommand::Delete { target, user_id, confirm } => {
            if confirm.trim() != user_id.trim() {
                anyhow::bail!("--confirm must repeat the user id {user_id}: deletion cannot be undone");
            }
            admin.delete(actor, project_id(&target.project)?, user_id_of(&user_id)?).await?;
            done(target.json, &format!("deleted {user_id}"))?;
        }
        UserCommand::SetPassword { target, user_id, password_stdin: _ } => {
            let password = read_password()?;
            admin.set_password(actor, project_id(&target.project)?, user_id_of(&user_id)?, password).await?;
            done(target.json, &format!("password set for {user_id}; its sessions are revoked"))?;
        }
        UserCommand::Sessions { target, user_id } => {
            let sessions = admin.sessions(project_id(&target.project)?, user_id_of(&user_id)?).await?;
            let list = SessionList { sessions: sessions.iter().map(session_info).collect() };
            if target.json {
                print_json(&list)?;
            } else if list.sessions.is_empty() {
                println!("(no live sessions)");
            } else {
                println!(
                    "{:<36}  {:<8}  {:>4}  {:<24}  {:<24}  EXPIRES",
                    "SESSION", "METHOD", "GEN", "CREATED", "REFRESHED"
                );
                for s in &list.sessions {
                    let method = serde_json::to_value(s.method)?;
                    println!(
                        "{:<36}  {:<8}  {:>4}  {:<24}  {:<24}  {}",
                        s.id,
                        method.as_str().unwrap_or("unknown"),
                        s.generation,
                        s.created_at,
                        s.last_refreshed_at,
                        s.expires_at
                    );
                }
            }
        }
        UserCommand::RevokeSessions { target, user_id, session } => {
            revoke_sessions(&admin, actor, &target, &user_id, session).await?;
        }
        UserCommand::Unlock { target, user_id } => {
            admin.unlock(actor, project_id(&target.project)?, user_id_of(&user_id)?).await?;
            done(target.json, &format!("sign-in lockout cleared for {user_id}"))?;
        }
        UserCommand::ImportSettings(args) => super::import_settings::run(&admins.import_settings, args).await?,
        UserCommand::Import(args) => {
            super::user_import::import(&admins.imports, project_id(&args.project)?, args).await?;
        }
        UserCommand::Export(args) => {
            super::user_import::export(&admins.imports, project_id(&args.project)?, args).await?;
        }
    }
    Ok(())
}

async fn revoke_sessions(
    admin: &UserAdmin,
    actor: Actor,
    target: &Target,
    user_id: &str,
    session: Option<String>,
) -> anyhow::Result<()> {
    let (project, user) = (project_id(&target.project)?, user_id_of(user_id)?);
    match session {
        Some(session) => {
            let id: SessionId = session.trim().parse().with_context(|| format!("{session:?} is not a session id"))?;
            admin.revoke_session(actor, project, user, id).await?;
            done(target.json, &format!("revoked session {session}"))
        }
        None => {
            let revoked = admin.revoke_sessions(actor, project, user).await?;
            if target.json {
                print_json(&RevokedSessions { revoked })
            } else {
                println!("revoked {revoked} session(s) of {user_id}");
                Ok(())
            }
        }
    }
}

fn project_id(text: &str) -> anyhow::Result<ProjectId> {
    text.trim().parse().with_context(|| format!("{text:?} is not a project id (a UUID)"))
}

fn user_id_of(text: &str) -> anyhow::Result<UserId> {
    text.trim().parse().with_context(|| format!("{text:?} is not a user id (a UUID)"))
}

fn role(text: &str) -> anyhow::Result<Role> {
    serde_json::from_value(Value::String(text.to_owned())).with_context(|| format!("{text:?} is not a role"))
}

fn json_object(flag: &str, text: &str) -> anyhow::Result<Map<String, Value>> {
    serde_json::from_str(text).with_context(|| format!("{flag} must be a JSON object"))
}

/// `none` or an empty value clears a text field; absent leaves it alone.
fn clearable(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| Some(v).filter(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("none")))
}

/// The whole of standard input, without the final line break.
fn read_password() -> anyhow::Result<String> {
    read_secret_from_stdin("the password")
}

/// A secret from standard input (never a flag, whose value any process list shows), without
/// the final line break; `what` names it in the error.
pub(super) fn read_secret_from_stdin(what: &str) -> anyhow::Result<String> {
    let mut secret = String::new();
    std::io::stdin().read_to_string(&mut secret).with_context(|| format!("cannot read {what} from standard input"))?;
    Ok(secret.trim_end_matches(['\r', '\n']).to_owned())
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// An action without a body to print: a line for people, `{"ok": true}` for scripts.
fn done(json: bool, message: &str) -> anyhow::Result<()> {
    if json {
        return print_json(&serde_json::json!({ "ok": true }));
    }
    println!("{message}");
    Ok(())
}

fn print_user(user: &ManagedUser, json: bool) -> anyhow::Result<()> {
    let user = admin_user(user);
    if json {
        return print_json(&user);
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("user {}", user.id);
    println!("  email                {}{}", text(&user.email), if user.is_verified { " (verified)" } else { "" });
    println!("  username             {}", text(&user.username));
    println!("  name                 {}", text(&user.name));
    println!("  role                 {}", serde_json::to_value(user.role)?.as_str().unwrap_or("?"));
    println!("  foreign id           {}", text(&user.foreign_id));
    println!("  status               {}", status(&user));
    for s in &user.suspensions {
        let until = s.ends_at.clone().unwrap_or_else(|| "until lifted".into());
        println!("  suspended            {} -> {until}: {} (by {})", s.starts_at, s.reason, s.created_by);
    }
    println!("  password             {}", if user.has_password { "set" } else { "none" });
    println!("  last active          {}", text(&user.last_active));
    println!("  created              {}", user.created_at);
    Ok(())
}

fn status(user: &AdminUser) -> &'static str {
    match (user.is_active, user.is_suspended) {
        (false, _) => "disabled",
        (true, true) => "suspended",
        (true, false) => "active",
    }
}

fn print_user_table(users: &[AdminUser]) {
    if users.is_empty() {
        println!("(no users)");
        return;
    }
    println!(
        "{:<36}  {:<32}  {:<20}  {:<9}  {:<8}  {:<9}  CREATED",
        "ID", "EMAIL", "USERNAME", "ROLE", "VERIFIED", "STATUS"
    );
    for user in users {
        let role = serde_json::to_value(user.role).ok().and_then(|r| r.as_str().map(str::to_owned)).unwrap_or_default();
        println!(
            "{:<36}  {:<32}  {:<20}  {:<9}  {:<8}  {:<9}  {}",
            user.id,
            user.email.as_deref().unwrap_or("-"),
            user.username.as_deref().unwrap_or("-"),
            role,
            if user.is_verified { "yes" } else { "no" },
            status(user),
            user.created_at
        );
    }
}
