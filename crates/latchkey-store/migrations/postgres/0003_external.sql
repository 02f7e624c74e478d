-- External users (PostgreSQL twin of migrations/sqlite/0003_external.sql; same names, same numbering):
-- per-project settings, HMAC signing secrets, registered public keys and consumed token ids.
-- Timestamps are BIGINT unix milliseconds.

CREATE TABLE external_settings (
    project_id              TEXT PRIMARY KEY NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    max_token_lifetime_secs BIGINT NOT NULL,
    jwks_url                TEXT,
    updated_at              BIGINT NOT NULL
);

-- secret_sealed: the secret, AES-256-GCM under the master key (bound to project and id).
-- expires_at: set when rotated out; the secret keeps working until then (the overlap).
CREATE TABLE external_secrets (
    project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    PRIMARY KEY (project_id, id)
);

-- jwk: the public JWK (public parameters only), alg: the one algorithm it verifies.
CREATE TABLE external_keys (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kid        TEXT NOT NULL,
    alg        TEXT NOT NULL,
    jwk        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, kid)
);

-- jti_digest: SHA-256 of "{project}/{jti}"; kept until the token could no longer be accepted.
CREATE TABLE external_jtis (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    jti_digest TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, jti_digest)
);
CREATE INDEX external_jtis_expiry ON external_jtis(expires_at);
