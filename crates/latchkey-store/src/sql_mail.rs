//! Every statement of the email store (mail settings, link tokens, the outbox), written once
//! for both backends with the conventions of `sql.rs`: `$1..$n` in order of first appearance
//! (a number may repeat), booleans as `TRUE`/`FALSE` (SQLite >= 3.23 reads them as 1/0).
//! The two places where the dialects must differ are marked `_PG`/`_SQLITE`.

pub const MAIL_SETTINGS: &str = "SELECT * FROM project_mail_settings WHERE project_id = $1";
pub const PUT_MAIL_SETTINGS: &str =
    "INSERT INTO project_mail_settings (project_id, reset_page_url, verify_page_url, mail_from, smtp_url,
         smtp_password_sealed, reset_ttl_secs, verify_ttl_secs, verify_on_sign_up, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (project_id) DO UPDATE SET
         reset_page_url = $2, verify_page_url = $3, mail_from = $4, smtp_url = $5,
         smtp_password_sealed = $6, reset_ttl_secs = $7, verify_ttl_secs = $8,
         verify_on_sign_up = $9, updated_at = $10";

pub const INSERT_OUTBOX: &str =
    "INSERT INTO mail_outbox (id, project_id, purpose, state, payload_sealed, rate_key, created_at, updated_at)
     VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7)";
/// A reset request, unless `$8` rows with the same rate key were created after `$7`: one
/// conditional INSERT. On SQLite (one writer) the count and the insert cannot interleave with
/// another request; on PostgreSQL the caller first takes [`LOCK_RATE_KEY_PG`] in the same
/// transaction, because two READ COMMITTED statements could both count below the limit.
pub const ENQUEUE_RESET_REQUEST: &str =
    "INSERT INTO mail_outbox (id, project_id, purpose, state, payload_sealed, rate_key, created_at, updated_at)
     SELECT $1, $2, $3, 'pending', $4, $5, $6, $6
      WHERE (SELECT COUNT(*) FROM mail_outbox WHERE rate_key = $5 AND created_at > $7) < $8";
/// PostgreSQL only: serialises reset requests for one rate key until the transaction ends.
pub const LOCK_RATE_KEY_PG: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

pub const INSERT_LINK_TOKEN: &str =
    "INSERT INTO link_tokens (digest, project_id, user_id, purpose, created_at, expires_at, used_at, superseded, email)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const LINK_TOKEN: &str = "SELECT * FROM link_tokens WHERE project_id = $1 AND digest = $2";
/// Moves a claimed reset-request row to its real payload, while the caller holds the claim.
pub const ATTACH_PAYLOAD: &str = "UPDATE mail_outbox SET payload_sealed = $1, updated_at = $2
      WHERE id = $3 AND claim = $4 AND state = 'sending'";
/// Every unused token of a user and purpose dies (a newer one replaces it, or one was used).
pub const SUPERSEDE_LINK_TOKENS: &str = "UPDATE link_tokens SET superseded = TRUE
      WHERE project_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL AND superseded = FALSE";
/// Consumes a live token of purpose `$4` and returns its user (shared by both completions).
/// The user must still have the address the link was sent to: a link mailed to an old
/// address neither verifies nor resets the account after its email changed.
pub const CONSUME_LINK_TOKEN: &str = "UPDATE link_tokens SET used_at = $1
      WHERE project_id = $2 AND digest = $3 AND purpose = $4
        AND used_at IS NULL AND superseded = FALSE AND expires_at > $1
        AND email = (SELECT u.email FROM users u WHERE u.project_id = $2 AND u.id = link_tokens.user_id)
  RETURNING user_id";
pub const RESET_PASSWORD: &str =
    "UPDATE users SET password_hash = $1, is_verified = TRUE, updated_at = $2 WHERE project_id = $3 AND id = $4";
pub const MARK_VERIFIED: &str =
    "UPDATE users SET is_verified = TRUE, updated_at = $1 WHERE project_id = $2 AND id = $3";

/// Takes the oldest due row (pending and due, or sending with a lapsed lease). The outer
/// `WHERE` repeats the due test: when two claims race for the same row on PostgreSQL, the
/// second waits for the first and then re-checks the row as it now is (no longer due), so it
/// can never take a row another worker holds. SQLite's single writer serialises them anyway.
pub const CLAIM_OUTBOX_SQLITE: &str =
    "UPDATE mail_outbox SET state = 'sending', claim = $1, lease_until = $2, updated_at = $3
      WHERE id = (SELECT id FROM mail_outbox
                   WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
                      OR (state = 'sending' AND lease_until <= $3)
                   ORDER BY created_at, id LIMIT 1)
        AND ((state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
             OR (state = 'sending' AND lease_until <= $3))
  RETURNING *";
/// [`CLAIM_OUTBOX_SQLITE`] plus `FOR UPDATE SKIP LOCKED`: concurrent workers (of any process)
/// each take a different due row instead of queueing on the oldest one.
pub const CLAIM_OUTBOX_PG: &str =
    "UPDATE mail_outbox SET state = 'sending', claim = $1, lease_until = $2, updated_at = $3
      WHERE id = (SELECT id FROM mail_outbox
                   WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
                      OR (state = 'sending' AND lease_until <= $3)
                   ORDER BY created_at, id LIMIT 1
                   FOR UPDATE SKIP LOCKED)
        AND ((state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
             OR (state = 'sending' AND lease_until <= $3))
  RETURNING *";
pub const OUTBOX_SENT: &str = "UPDATE mail_outbox
        SET state = 'sent', payload_sealed = NULL, attempts = attempts + 1, sent_at = $1, updated_at = $1,
            claim = NULL, lease_until = NULL, last_error = NULL
      WHERE id = $2 AND claim = $3 AND state = 'sending'";
pub const OUTBOX_RETRY_AT: &str = "UPDATE mail_outbox
        SET state = 'pending', attempts = attempts + 1, next_attempt_at = $1, last_error = $2,
            updated_at = $3, claim = NULL, lease_until = NULL
      WHERE id = $4 AND claim = $5 AND state = 'sending'";
/// A dropped row never had anything to send: its body (an address) is not kept.
pub const OUTBOX_FINISH: &str = "UPDATE mail_outbox
        SET state = $1, last_error = $2, updated_at = $3, claim = NULL, lease_until = NULL,
            attempts = attempts + CASE WHEN $1 = 'failed' THEN 1 ELSE 0 END,
            payload_sealed = CASE WHEN $1 = 'dropped' THEN NULL ELSE payload_sealed END
      WHERE id = $4 AND claim = $5 AND state = 'sending'";

/// Operators, across projects.
pub const LIST_OUTBOX: &str =
    "SELECT * FROM mail_outbox WHERE ($1 IS NULL OR state = $1) ORDER BY created_at DESC, id DESC LIMIT $2";
/// Maintenance across all projects: finished rows and dead tokens older than `$1`.
pub const PURGE_FINISHED_OUTBOX: &str =
    "DELETE FROM mail_outbox WHERE state IN ('sent', 'dropped') AND updated_at < $1";
pub const PURGE_DEAD_LINK_TOKENS: &str = "DELETE FROM link_tokens WHERE expires_at < $1";
pub const REQUEUE_OUTBOX: &str =
    "UPDATE mail_outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = $1
      WHERE state = 'failed' AND payload_sealed IS NOT NULL AND ($2 IS NULL OR id = $2)";
