-- Administration: API-key scopes, user suspensions, how each session began, the audit trail,
-- and the user id on the rows a user's erasure must find (outbox rows, consumed external
-- token ids), which until now named the user only inside sealed payloads or digests.

-- 'auth' (the SDK's routes) or 'admin' (those and the admin API). Existing keys stay 'auth'.
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'auth';

-- The end of the longest suspension in force (unix ms; i64::MAX for one without an end),
-- NULL when none: sign-in and refresh read it from the user row they already load.
-- user_suspensions keeps the history behind it.
ALTER TABLE users ADD COLUMN suspended_until BIGINT;

CREATE TABLE user_suspensions (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT,
    lifted_at  BIGINT,
    created_by TEXT NOT NULL,
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE INDEX user_suspensions_user ON user_suspensions(project_id, user_id);

-- 'sign-up', 'password', 'external'; 'unknown' for sessions older than this column.
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'unknown';

ALTER TABLE mail_outbox ADD COLUMN user_id TEXT;
CREATE INDEX mail_outbox_user ON mail_outbox(project_id, user_id);
ALTER TABLE external_jtis ADD COLUMN user_id TEXT;
CREATE INDEX external_jtis_user ON external_jtis(project_id, user_id);

-- Append-only: admin actions and security events. details: JSON, never a secret.
-- actor: 'apiKey:<id>', 'cli' or 'system'. Ids are UUIDv7, so id order is time order.
CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    user_id    TEXT,
    request_id TEXT,
    details    TEXT NOT NULL
);
CREATE INDEX audit_events_project ON audit_events(project_id, id);
CREATE INDEX audit_events_user ON audit_events(project_id, user_id);
CREATE INDEX audit_events_at ON audit_events(at);
