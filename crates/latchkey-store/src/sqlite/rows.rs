//! Row <-> record mapping for SQLite.

use std::str::FromStr;

use latchkey_core::domain::{ApiKeyRecord, Location, Project, ProjectSettings, Role, User};
use latchkey_core::store::{SessionRecord, StoreError, StoreResult};
use latchkey_core::tokens::StoredSigningKey;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use crate::map_err;
use crate::time::{from_millis, opt_from_millis, to_millis};

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(column).map_err(map_err)
}

fn parse_id<T: FromStr>(row: &SqliteRow, column: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = get(row, column)?;
    T::from_str(&text).map_err(|e| StoreError::Other(format!("bad {column} {text:?}: {e}")))
}

fn json_object(row: &SqliteRow, column: &str) -> StoreResult<serde_json::Map<String, serde_json::Value>> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Other(format!("bad {column} JSON: {e}")))
}

pub fn project_from_row(row: &SqliteRow) -> StoreResult<Project> {
    Ok(Project {
        id: parse_id(row, "id")?,
        name: get(row, "name")?,
        settings: ProjectSettings {
            access_token_ttl_secs: get(row, "access_token_ttl_secs")?,
            refresh_token_ttl_secs: get(row, "refresh_token_ttl_secs")?,
        },
        created_at: from_millis(get(row, "created_at")?)?,
    })
}

pub fn signing_key_from_row(row: &SqliteRow) -> StoreResult<StoredSigningKey> {
    Ok(StoredSigningKey {
        kid: get(row, "kid")?,
        project_id: parse_id(row, "project_id")?,
        public_key: get(row, "public_key")?,
        private_key_sealed: get(row, "private_key_sealed")?,
        created_at: from_millis(get(row, "created_at")?)?,
    })
}

pub fn api_key_from_row(row: &SqliteRow) -> StoreResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: parse_id(row, "id")?,
        project_id: parse_id(row, "project_id")?,
        name: get(row, "name")?,
        prefix: get(row, "prefix")?,
        digest: get(row, "digest")?,
        created_at: from_millis(get(row, "created_at")?)?,
        revoked_at: opt_from_millis(get(row, "revoked_at")?)?,
    })
}

pub fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    let role: String = get(row, "role")?;
    let latitude: Option<f64> = get(row, "latitude")?;
    let longitude: Option<f64> = get(row, "longitude")?;
    Ok(User {
        id: parse_id(row, "id")?,
        project_id: parse_id(row, "project_id")?,
        foreign_id: get(row, "foreign_id")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Other(format!("bad role {role:?}")))?,
        email: get(row, "email")?,
        name: get(row, "name")?,
        username: get(row, "username")?,
        avatar: get(row, "avatar")?,
        bio: get(row, "bio")?,
        birthdate: get(row, "birthdate")?,
        location: latitude.zip(longitude).map(|(latitude, longitude)| Location { latitude, longitude }),
        metadata: json_object(row, "metadata")?,
        secure_metadata: json_object(row, "secure_metadata")?,
        reputation: get(row, "reputation")?,
        is_verified: get(row, "is_verified")?,
        is_active: get(row, "is_active")?,
        password_hash: get(row, "password_hash")?,
        last_active: opt_from_millis(get(row, "last_active")?)?,
        created_at: from_millis(get(row, "created_at")?)?,
        updated_at: from_millis(get(row, "updated_at")?)?,
    })
}

pub fn session_from_row(row: &SqliteRow) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id: parse_id(row, "id")?,
        project_id: parse_id(row, "project_id")?,
        user_id: parse_id(row, "user_id")?,
        generation: get(row, "generation")?,
        current_digest: get(row, "current_digest")?,
        previous_digest: get(row, "previous_digest")?,
        rotated_at: from_millis(get(row, "rotated_at")?)?,
        current_pair_sealed: get(row, "current_pair_sealed")?,
        expires_at: from_millis(get(row, "expires_at")?)?,
        revoked_at: opt_from_millis(get(row, "revoked_at")?)?,
        created_at: from_millis(get(row, "created_at")?)?,
    })
}

pub async fn insert_user(tx: &mut Transaction<'_, Sqlite>, user: &User) -> StoreResult<()> {
    let metadata = serde_json::to_string(&user.metadata).map_err(|e| StoreError::Other(e.to_string()))?;
    let secure = serde_json::to_string(&user.secure_metadata).map_err(|e| StoreError::Other(e.to_string()))?;
    sqlx::query(
        "INSERT INTO users (id, project_id, foreign_id, role, email, name, username, avatar, bio, birthdate,
                            latitude, longitude, metadata, secure_metadata, reputation, is_verified, is_active,
                            password_hash, last_active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id.to_string())
    .bind(user.project_id.to_string())
    .bind(&user.foreign_id)
    .bind(user.role.as_str())
    .bind(&user.email)
    .bind(&user.name)
    .bind(&user.username)
    .bind(&user.avatar)
    .bind(&user.bio)
    .bind(&user.birthdate)
    .bind(user.location.map(|l| l.latitude))
    .bind(user.location.map(|l| l.longitude))
    .bind(metadata)
    .bind(secure)
    .bind(user.reputation)
    .bind(user.is_verified)
    .bind(user.is_active)
    .bind(&user.password_hash)
    .bind(user.last_active.map(to_millis))
    .bind(to_millis(user.created_at))
    .bind(to_millis(user.updated_at))
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_session(tx: &mut Transaction<'_, Sqlite>, s: &SessionRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, project_id, user_id, generation, current_digest, previous_digest, rotated_at,
                               current_pair_sealed, expires_at, revoked_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id.to_string())
    .bind(s.project_id.to_string())
    .bind(s.user_id.to_string())
    .bind(s.generation)
    .bind(&s.current_digest)
    .bind(&s.previous_digest)
    .bind(to_millis(s.rotated_at))
    .bind(&s.current_pair_sealed)
    .bind(to_millis(s.expires_at))
    .bind(s.revoked_at.map(to_millis))
    .bind(to_millis(s.created_at))
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}
