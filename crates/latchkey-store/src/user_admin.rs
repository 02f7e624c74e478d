//! [`UserAdminStore`]: operator actions on users and sessions. Each mutation is one
//! transaction holding its change and its audit record ([`Tx::insert_audit_event`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{
    Actor, AuditEvent, LinkPurpose, ProjectId, SessionId, Suspension, SuspensionId, User, UserId,
};
use latchkey_core::store::{
    LinkToken, NewOutbox, SessionRecord, StoreError, StoreResult, SuspensionChange, UserAdminStore, UserDeletion,
    UserFilter, UserUpdate,
};

use crate::SqlStore;
use crate::core::{SUSPENDED_WITHOUT_END, SessionRow, UserRow};
use crate::db::Tx;
use crate::types::{Id, JsonText, Millis, instant, millis};

#[derive(sqlx::FromRow)]
struct SuspensionRow {
    id: Id<SuspensionId>,
    project_id: Id<ProjectId>,
    user_id: Id<UserId>,
    reason: String,
    starts_at: Millis,
    ends_at: Option<Millis>,
    lifted_at: Option<Millis>,
    created_by: String,
}

impl TryFrom<SuspensionRow> for Suspension {
    type Error = StoreError;

    fn try_from(row: SuspensionRow) -> StoreResult<Self> {
        Ok(Suspension {
            id: row.id.0,
            project_id: row.project_id.0,
            user_id: row.user_id.0,
            reason: row.reason,
            starts_at: row.starts_at.0,
            ends_at: instant(row.ends_at),
            lifted_at: instant(row.lifted_at),
            created_by: row.created_by.parse::<Actor>().map_err(StoreError::Other)?,
        })
    }
}

/// The statements the suspension changes share, inside their transactions.
impl Tx {
    /// `users.suspended_until` := the latest end among the suspensions in force at `now`
    /// (open-ended ones count as [`SUSPENDED_WITHOUT_END`]), NULL when none is; whether the
    /// user exists.
    async fn refresh_suspended_until(
        &mut self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let updated = self
            .query(
                "UPDATE users SET updated_at = $3, suspended_until = (
                     SELECT MAX(COALESCE(ends_at, $4)) FROM user_suspensions
                      WHERE project_id = $1 AND user_id = $2 AND lifted_at IS NULL
                        AND starts_at <= $3 AND (ends_at IS NULL OR ends_at > $3))
                  WHERE project_id = $1 AND id = $2",
            )
            .bind(Id(project))
            .bind(Id(user))
            .bind(Millis(now))
            .bind(SUSPENDED_WITHOUT_END)
            .execute()
            .await?;
        Ok(updated == 1)
    }

    /// Revokes every unrevoked session of the user; how many.
    async fn revoke_all_sessions(&mut self, project: ProjectId, user: UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        self.query("UPDATE sessions SET revoked_at = $1 WHERE project_id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(user))
            .execute()
            .await
    }
}

#[async_trait]
impl UserAdminStore for SqlStore {
    async fn list_users(&self, project: ProjectId, filter: &UserFilter, limit: u32) -> StoreResult<Vec<User>> {
        // Unset filters bind NULL and drop out. Prefixes compare with substr, not LIKE: no
        // wildcard in an email or username can widen the match.
        let rows: Vec<UserRow> = self
            .read(
                "SELECT * FROM users
                  WHERE project_id = $1
                    AND ($2 IS NULL OR substr(email, 1, length($2)) = $2)
                    AND ($3 IS NULL OR substr(username, 1, length($3)) = $3)
                    AND ($4 IS NULL OR is_verified = $4)
                    AND ($5 IS NULL OR $5 = (suspended_until IS NOT NULL AND suspended_until > $6))
                    AND ($7 IS NULL OR foreign_id = $7)
                    AND ($8 IS NULL OR created_at >= $8)
                    AND ($9 IS NULL OR created_at < $9)
                    AND ($10 IS NULL OR id > $10)
                  ORDER BY id
                  LIMIT $11",
            )
            .bind(Id(project))
            .bind(filter.email_prefix.as_deref())
            .bind(filter.username_prefix.as_deref())
            .bind(filter.verified)
            .bind(filter.suspended)
            .bind(Millis(filter.now))
            .bind(filter.foreign_id.as_deref())
            .bind(millis(filter.created_at_or_after))
            .bind(millis(filter.created_before))
            .bind(filter.after_id.map(Id))
            .bind(i64::from(limit))
            .fetch_all()
            .await?;
        rows.into_iter().map(User::try_from).collect()
    }

    async fn suspensions_in_force(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Suspension>> {
        let rows: Vec<SuspensionRow> = self
            .read(
                "SELECT * FROM user_suspensions
                  WHERE project_id = $1 AND user_id = $2 AND lifted_at IS NULL
                    AND starts_at <= $3 AND (ends_at IS NULL OR ends_at > $3)
                  ORDER BY id DESC",
            )
            .bind(Id(project))
            .bind(Id(user))
            .bind(Millis(now))
            .fetch_all()
            .await?;
        rows.into_iter().map(Suspension::try_from).collect()
    }

    async fn create_user(&self, user: &User, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.insert_user(user).await?;
        tx.insert_audit_event(event).await?;
        tx.commit().await
    }

    async fn update_user(&self, update: &UserUpdate) -> StoreResult<bool> {
        let user = &update.user;
        let mut tx = self.db.begin().await?;
        let updated = tx
            .query(
                "UPDATE users
                    SET email = $1, username = $2, name = $3, avatar = $4, bio = $5, birthdate = $6,
                        latitude = $7, longitude = $8, role = $9, metadata = $10, secure_metadata = $11,
                        is_verified = $12, is_active = $13, updated_at = $14
                  WHERE project_id = $15 AND id = $16",
            )
            .bind(user.email.as_deref())
            .bind(user.username.as_deref())
            .bind(user.profile.name.as_deref())
            .bind(user.profile.avatar.as_deref())
            .bind(user.profile.bio.as_deref())
            .bind(user.profile.birthdate.as_deref())
            .bind(user.profile.location.map(|l| l.latitude))
            .bind(user.profile.location.map(|l| l.longitude))
            .bind(user.role.as_str())
            .bind(JsonText(&user.metadata))
            .bind(JsonText(&user.secure_metadata))
            .bind(user.is_verified)
            .bind(user.is_active)
            .bind(Millis(user.updated_at))
            .bind(Id(user.project_id))
            .bind(Id(user.id))
            .execute()
            .await?;
        if updated != 1 {
            return Ok(false); // dropping `tx` rolls back
        }
        if update.revoke_sessions {
            tx.revoke_all_sessions(user.project_id, user.id, user.updated_at).await?;
        }
        if let Some((token, mail)) = &update.verification {
            tx.insert_token(token).await?;
            tx.insert_outbox(mail).await?;
        }
        tx.insert_audit_event(&update.event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn suspend_user(&self, change: &SuspensionChange) -> StoreResult<bool> {
        let s = &change.suspension;
        let mut tx = self.db.begin().await?;
        // The user row first: its lock orders this against a racing sign-in's conditional
        // session insert, which then sees the suspension (or committed before it and has its
        // session revoked below).
        let exists = tx
            .query("UPDATE users SET updated_at = $1 WHERE project_id = $2 AND id = $3")
            .bind(Millis(s.starts_at))
            .bind(Id(s.project_id))
            .bind(Id(s.user_id))
            .execute()
            .await?;
        if exists != 1 {
            return Ok(false);
        }
        tx.query(
            "INSERT INTO user_suspensions (id, project_id, user_id, reason, starts_at, ends_at, lifted_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
        )
        .bind(Id(s.id))
        .bind(Id(s.project_id))
        .bind(Id(s.user_id))
        .bind(s.reason.as_str())
        .bind(Millis(s.starts_at))
        .bind(millis(s.ends_at))
        .bind(s.created_by.to_string().as_str())
        .execute()
        .await?;
        tx.refresh_suspended_until(s.project_id, s.user_id, s.starts_at).await?;
        tx.revoke_all_sessions(s.project_id, s.user_id, s.starts_at).await?;
        tx.insert_audit_event(&change.event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn unsuspend_user(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        tx.query(
            "UPDATE user_suspensions SET lifted_at = $3
              WHERE project_id = $1 AND user_id = $2 AND lifted_at IS NULL
                AND starts_at <= $3 AND (ends_at IS NULL OR ends_at > $3)",
        )
        .bind(Id(project))
        .bind(Id(user))
        .bind(Millis(now))
        .execute()
        .await?;
        if !tx.refresh_suspended_until(project, user, now).await? {
            return Ok(false);
        }
        tx.insert_audit_event(event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_user(&self, d: &UserDeletion) -> StoreResult<bool> {
        let (project, user) = (Id(d.project), Id(d.user));
        let mut tx = self.db.begin().await?;
        // The user row first, so its lock keeps racing writers (a sign-in's session, a link)
        // out until this commits; they then fail on the missing user.
        let deleted =
            tx.query("DELETE FROM users WHERE project_id = $1 AND id = $2").bind(project).bind(user).execute().await?;
        if deleted != 1 {
            return Ok(false);
        }
        // Each table's rows about the user (the foreign keys would cascade some; saying it is
        // what keeps this list complete when a table is added).
        for sql in [
            "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM link_tokens WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM user_suspensions WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM external_jtis WHERE project_id = $1 AND user_id = $2",
            "UPDATE audit_events SET user_id = NULL, details = '{}' WHERE project_id = $1 AND user_id = $2",
        ] {
            tx.query(sql).bind(project).bind(user).execute().await?;
        }
        tx.query("DELETE FROM mail_outbox WHERE project_id = $1 AND (user_id = $2 OR rate_key = $3)")
            .bind(project)
            .bind(user)
            .bind(d.reset_rate_key.as_deref())
            .execute()
            .await?;
        if let Some(email) = &d.email {
            tx.query("DELETE FROM sign_in_failures WHERE project_id = $1 AND email = $2")
                .bind(project)
                .bind(email.as_str())
                .execute()
                .await?;
        }
        tx.insert_audit_event(&d.event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_password(
        &self,
        project: ProjectId,
        user: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let updated = tx
            .query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE project_id = $3 AND id = $4")
            .bind(password_hash)
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(user))
            .execute()
            .await?;
        if updated != 1 {
            return Ok(false);
        }
        tx.revoke_all_sessions(project, user, now).await?;
        tx.supersede_tokens(project, user, LinkPurpose::PasswordReset).await?;
        tx.insert_audit_event(event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn issue_link(&self, token: &LinkToken, mail: Option<&NewOutbox>, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.supersede_tokens(token.project_id, token.user_id, token.purpose).await?;
        tx.insert_token(token).await?;
        if let Some(mail) = mail {
            tx.insert_outbox(mail).await?;
        }
        tx.insert_audit_event(event).await?;
        tx.commit().await
    }

    async fn unlock_user(&self, project: ProjectId, email: Option<&str>, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        if let Some(email) = email {
            tx.query("DELETE FROM sign_in_failures WHERE project_id = $1 AND email = $2")
                .bind(Id(project))
                .bind(email)
                .execute()
                .await?;
        }
        tx.insert_audit_event(event).await?;
        tx.commit().await
    }

    async fn live_sessions(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        let rows: Vec<SessionRow> = self
            .read(
                "SELECT * FROM sessions
                  WHERE project_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3
                  ORDER BY created_at, id",
            )
            .bind(Id(project))
            .bind(Id(user))
            .bind(Millis(now))
            .fetch_all()
            .await?;
        Ok(rows.into_iter().map(SessionRecord::from).collect())
    }

    async fn revoke_user_session(
        &self,
        project: ProjectId,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let revoked = tx
            .query(
                "UPDATE sessions SET revoked_at = $1
                  WHERE project_id = $2 AND user_id = $3 AND id = $4 AND revoked_at IS NULL AND expires_at > $1",
            )
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(user))
            .bind(Id(session))
            .execute()
            .await?;
        if revoked != 1 {
            return Ok(false);
        }
        tx.insert_audit_event(event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_user_sessions(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.db.begin().await?;
        let revoked = tx
            .query(
                "UPDATE sessions SET revoked_at = $1
                  WHERE project_id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1",
            )
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(user))
            .execute()
            .await?;
        tx.insert_audit_event(&event.clone().detail("revoked", revoked)).await?;
        tx.commit().await?;
        Ok(revoked)
    }
}
