-- Core schema: projects, their signing keys and API keys, users, sessions, sign-in throttling.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC); ids are UUID text.

CREATE TABLE projects (
    id                     TEXT PRIMARY KEY NOT NULL,
    name                   TEXT NOT NULL,
    access_token_ttl_secs  INTEGER NOT NULL,
    refresh_token_ttl_secs INTEGER NOT NULL,
    created_at             INTEGER NOT NULL
);

-- private_key_sealed: PKCS#8 Ed25519 key, AES-256-GCM under the master key.
CREATE TABLE signing_keys (
    project_id         TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kid                TEXT NOT NULL,
    public_key         BLOB NOT NULL,
    private_key_sealed BLOB NOT NULL,
    created_at         INTEGER NOT NULL,
    retired_at         INTEGER,
    PRIMARY KEY (project_id, kid)
);

-- digest: SHA-256 of the key; only `prefix` is kept in clear, for listing.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    digest     TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_project ON api_keys(project_id);

CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    foreign_id      TEXT,
    role            TEXT NOT NULL,
    email           TEXT,
    name            TEXT,
    username        TEXT,
    avatar          TEXT,
    bio             TEXT,
    birthdate       TEXT,
    latitude        REAL,
    longitude       REAL,
    metadata        TEXT NOT NULL,
    secure_metadata TEXT NOT NULL,
    reputation      INTEGER NOT NULL DEFAULT 0,
    is_verified     INTEGER NOT NULL DEFAULT 0,
    is_active       INTEGER NOT NULL DEFAULT 1,
    password_hash   TEXT,
    last_active     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Emails and usernames are stored normalised (lower case), so plain unique indexes make
-- uniqueness case-insensitive. NULLs do not collide.
CREATE UNIQUE INDEX users_project_email ON users(project_id, email);
CREATE UNIQUE INDEX users_project_username ON users(project_id, username);
CREATE UNIQUE INDEX users_project_foreign_id ON users(project_id, foreign_id);
-- Target of the composite foreign keys below: a session can only name a user of its own project.
CREATE UNIQUE INDEX users_project_id ON users(project_id, id);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    project_id          TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL,
    generation          INTEGER NOT NULL,
    current_digest      TEXT NOT NULL,
    previous_digest     TEXT,
    rotated_at          INTEGER NOT NULL,
    current_pair_sealed BLOB NOT NULL,
    expires_at          INTEGER NOT NULL,
    revoked_at          INTEGER,
    created_at          INTEGER NOT NULL,
    FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions(project_id, user_id);

CREATE TABLE sign_in_failures (
    project_id        TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    email             TEXT NOT NULL,
    failures          INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, email)
);
