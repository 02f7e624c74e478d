-- Email (PostgreSQL twin of migrations/sqlite/0002_email.sql; same names, same numbering):
-- per-project mail settings, single-use link tokens, the delivery outbox.
-- Timestamps are BIGINT milliseconds since the Unix epoch (UTC); ids are UUID text.

-- Kept out of `projects` so each feature's settings live in their own table.
-- smtp_password_sealed: AES-256-GCM under the master key; smtp_url never holds the password.
CREATE TABLE project_mail_settings (
    project_id           TEXT PRIMARY KEY NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    reset_page_url       TEXT,
    verify_page_url      TEXT,
    mail_from            TEXT,
    smtp_url             TEXT,
    smtp_password_sealed BYTEA,
    reset_ttl_secs       BIGINT NOT NULL,
    verify_ttl_secs      BIGINT NOT NULL,
    verify_on_sign_up    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at           BIGINT NOT NULL
);

-- digest: SHA-256 of the token; the token itself is never stored in clear.
CREATE TABLE link_tokens (
    digest     TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The address the link was sent to; the link works only while the user still has it.
    email      TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    superseded BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX link_tokens_user ON link_tokens(project_id, user_id, purpose);

-- payload_sealed: the message body (recipient, link token) sealed under the master key;
-- NULL once sent or dropped. rate_key: SHA-256 of (project, address) for reset throttling.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL,
    state           TEXT NOT NULL,
    payload_sealed  BYTEA,
    rate_key        TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    lease_until     BIGINT,
    claim           TEXT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);
CREATE INDEX mail_outbox_rate ON mail_outbox(rate_key, created_at);
