//! Every statement of the core store, written once for both backends. Placeholders are
//! `$1..$n` in order of first appearance: PostgreSQL's syntax, which sqlx's SQLite driver
//! binds the same way. Each statement is scoped by `project_id` wherever tenant data is read
//! or written.

pub const PING: &str = "SELECT CAST(1 AS BIGINT)";
/// The readiness write: one fixed row (the database does not grow), rewritten whole.
pub const WRITE_PROBE: &str = "INSERT INTO write_probe (id, probed_at, payload) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, payload = excluded.payload";
/// Bytes of the probe's payload: about what a sign-up writes (rows and index entries).
pub const WRITE_PROBE_BYTES: usize = 32 * 1024;

pub const INSERT_PROJECT: &str =
    "INSERT INTO projects (id, name, access_token_ttl_secs, refresh_token_ttl_secs, created_at)
     VALUES ($1, $2, $3, $4, $5)";
pub const INSERT_SIGNING_KEY: &str = "INSERT INTO signing_keys (project_id, kid, public_key, private_key_sealed, created_at) VALUES ($1, $2, $3, $4, $5)";
pub const GET_PROJECT: &str = "SELECT * FROM projects WHERE id = $1";
pub const LIST_PROJECTS: &str = "SELECT * FROM projects ORDER BY created_at, id";
pub const UPDATE_PROJECT_SETTINGS: &str =
    "UPDATE projects SET access_token_ttl_secs = $1, refresh_token_ttl_secs = $2 WHERE id = $3";
pub const LIVE_SIGNING_KEYS: &str =
    "SELECT * FROM signing_keys WHERE project_id = $1 AND retired_at IS NULL ORDER BY created_at DESC";

pub const INSERT_API_KEY: &str =
    "INSERT INTO api_keys (id, project_id, name, prefix, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub const LIST_API_KEYS: &str = "SELECT * FROM api_keys WHERE project_id = $1 ORDER BY created_at, id";
pub const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL";
pub const PROJECT_FOR_API_KEY: &str = "SELECT project_id FROM api_keys WHERE digest = $1 AND revoked_at IS NULL";

pub const INSERT_USER: &str = "INSERT INTO users (id, project_id, foreign_id, role, email, name, username, avatar, bio,
                       birthdate, latitude, longitude, metadata, secure_metadata, reputation, is_verified,
                       is_active, password_hash, last_active, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)";
pub const USER_BY_EMAIL: &str = "SELECT * FROM users WHERE project_id = $1 AND email = $2";
pub const USER_BY_ID: &str = "SELECT * FROM users WHERE project_id = $1 AND id = $2";
pub const USERNAME_TAKEN: &str = "SELECT CAST(1 AS BIGINT) FROM users WHERE project_id = $1 AND username = $2";
pub const UPGRADE_PASSWORD_HASH: &str =
    "UPDATE users SET password_hash = $1, updated_at = $2 WHERE project_id = $3 AND id = $4 AND password_hash = $5";
/// A password sign-in, before its session is inserted: touches `last_active` only while the
/// user is active and still has the hash the password was verified against. Being an UPDATE,
/// it takes the user's row lock: on PostgreSQL a reset in flight (which updates the same row)
/// is waited for and then re-checked, and a reset that comes later waits for this sign-in's
/// commit, so its "revoke every session" sees the new session. (An `INSERT ... SELECT WHERE
/// EXISTS (...)` reads without locking: under READ COMMITTED it would let a session created
/// during a reset outlive it.)
pub const TOUCH_VERIFIED_USER: &str = "UPDATE users SET last_active = $1
      WHERE project_id = $2 AND id = $3 AND password_hash = $4 AND is_active";

pub const INSERT_SESSION: &str =
    "INSERT INTO sessions (id, project_id, user_id, generation, current_digest, previous_digest,
                          rotated_at, current_pair_sealed, expires_at, revoked_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
pub const GET_SESSION: &str = "SELECT * FROM sessions WHERE project_id = $1 AND id = $2";
/// The refresh exchange: applies only from the expected generation of a live session.
pub const ROTATE_SESSION: &str = "UPDATE sessions
        SET generation = generation + 1, previous_digest = $1, current_digest = $2,
            current_pair_sealed = $3, rotated_at = $4, expires_at = $5
      WHERE project_id = $6 AND id = $7 AND generation = $8 AND revoked_at IS NULL";
pub const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL";
pub const REVOKE_USER_SESSIONS: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE project_id = $2 AND user_id = $3 AND revoked_at IS NULL";

/// One attempt: counts up inside the window, restarts it when it began at or before `$4`.
pub const RECORD_SIGN_IN_ATTEMPT: &str = "INSERT INTO sign_in_failures (project_id, email, failures, window_started_at)
     VALUES ($1, $2, 1, $3)
     ON CONFLICT (project_id, email) DO UPDATE SET
         failures = CASE WHEN sign_in_failures.window_started_at <= $4 THEN 1
                         ELSE sign_in_failures.failures + 1 END,
         window_started_at = CASE WHEN sign_in_failures.window_started_at <= $4 THEN $3
                                  ELSE sign_in_failures.window_started_at END
     RETURNING failures, window_started_at";
pub const CLEAR_SIGN_IN_FAILURES: &str = "DELETE FROM sign_in_failures WHERE project_id = $1 AND email = $2";
/// Gives back one attempt whose password was never checked, in the window that counted it
/// only (a window restarted since has dropped it already).
pub const RELEASE_SIGN_IN_ATTEMPT: &str = "UPDATE sign_in_failures SET failures = failures - 1
     WHERE project_id = $1 AND email = $2 AND window_started_at = $3 AND failures > 0";
/// Maintenance across all projects: windows that can no longer block anyone.
pub const PURGE_SIGN_IN_FAILURES: &str = "DELETE FROM sign_in_failures WHERE window_started_at < $1";

/// First-start bootstrap: is there any project at all?
pub const ANY_PROJECT: &str = "SELECT CAST(1 AS BIGINT) FROM projects LIMIT 1";
/// PostgreSQL: serialises first-start bootstraps of every process on this database, until the
/// transaction ends.
pub const LOCK_BOOTSTRAP_PG: &str = "SELECT pg_advisory_xact_lock(hashtextextended('latchkey:bootstrap', 0))";
