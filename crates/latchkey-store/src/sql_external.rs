//! Every statement of the external-user store (`verify-external-user`), written once for
//! both backends, with the conventions of `sql.rs`: `$1..$n` in order of first appearance
//! (a number may repeat), every tenant read or write scoped by `project_id`.

pub const EXTERNAL_SETTINGS: &str =
    "SELECT max_token_lifetime_secs, jwks_url FROM external_settings WHERE project_id = $1";
pub const PUT_EXTERNAL_SETTINGS: &str =
    "INSERT INTO external_settings (project_id, max_token_lifetime_secs, jwks_url, updated_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id) DO UPDATE SET
         max_token_lifetime_secs = $2, jwks_url = $3, updated_at = $4";

pub const EXTERNAL_SECRETS: &str = "SELECT * FROM external_secrets WHERE project_id = $1 ORDER BY created_at DESC, id";
/// Rotation with overlap: every other live secret of the project expires at `$1` at the latest.
pub const EXPIRE_LIVE_EXTERNAL_SECRETS: &str = "UPDATE external_secrets SET expires_at = $1
      WHERE project_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)";
pub const INSERT_EXTERNAL_SECRET: &str =
    "INSERT INTO external_secrets (project_id, id, secret_sealed, created_at, expires_at, revoked_at)
     VALUES ($1, $2, $3, $4, $5, $6)";
pub const REVOKE_EXTERNAL_SECRET: &str =
    "UPDATE external_secrets SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL";

pub const EXTERNAL_KEYS: &str = "SELECT * FROM external_keys WHERE project_id = $1 ORDER BY created_at, kid";
pub const INSERT_EXTERNAL_KEY: &str =
    "INSERT INTO external_keys (project_id, kid, alg, jwk, created_at) VALUES ($1, $2, $3, $4, $5)";
pub const REMOVE_EXTERNAL_KEY: &str = "DELETE FROM external_keys WHERE project_id = $1 AND kid = $2";

pub const USER_BY_FOREIGN_ID: &str = "SELECT * FROM users WHERE project_id = $1 AND foreign_id = $2";
/// Every mutable column of an externally signed-in user, applied only while the row still
/// has the expected `foreign_id` (`$16`; NULL: must still have none). `IS NOT DISTINCT FROM`
/// is the NULL-safe equality both backends understand (SQLite since 3.39).
pub const UPDATE_EXTERNAL_USER: &str = "UPDATE users
        SET foreign_id = $1, email = $2, name = $3, username = $4, avatar = $5, bio = $6, birthdate = $7,
            latitude = $8, longitude = $9, metadata = $10, secure_metadata = $11, last_active = $12,
            updated_at = $13,
            is_verified = CASE WHEN email IS NOT DISTINCT FROM $2 THEN is_verified ELSE FALSE END
      WHERE project_id = $14 AND id = $15 AND foreign_id IS NOT DISTINCT FROM $16";
/// Linking an account whose email is not verified: its password goes (see `UserChange::Link`).
pub const DROP_UNVERIFIED_PASSWORD: &str =
    "UPDATE users SET password_hash = NULL WHERE project_id = $1 AND id = $2 AND NOT is_verified";
/// ... and so do its existing sessions (the link's own session is created after this).
pub const REVOKE_UNVERIFIED_SESSIONS: &str = "UPDATE sessions SET revoked_at = $1
      WHERE project_id = $2 AND user_id = $3 AND revoked_at IS NULL
        AND EXISTS (SELECT 1 FROM users WHERE project_id = $2 AND id = $3 AND NOT is_verified)";

/// Maintenance across all projects: token ids that no accepted token can carry any more.
pub const PURGE_EXTERNAL_JTIS: &str = "DELETE FROM external_jtis WHERE expires_at <= $1";
/// Consumes a token id: affects no row when it was already used.
pub const CONSUME_EXTERNAL_JTI: &str =
    "INSERT INTO external_jtis (project_id, jti_digest, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (project_id, jti_digest) DO NOTHING";
