-- External users (verify-external-user): per-project settings, HMAC signing secrets,
-- registered public keys and consumed token ids. Timestamps are INTEGER unix milliseconds.

CREATE TABLE external_settings (
    project_id              TEXT PRIMARY KEY NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    max_token_lifetime_secs INTEGER NOT NULL,
    jwks_url                TEXT,
    updated_at              INTEGER NOT NULL
);

-- secret_sealed: the secret, AES-256-GCM under the master key (bound to project and id).
-- expires_at: set when rotated out; the secret keeps working until then (the overlap).
CREATE TABLE external_secrets (
    project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    PRIMARY KEY (project_id, id)
);

-- jwk: the public JWK (public parameters only), alg: the one algorithm it verifies.
CREATE TABLE external_keys (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kid        TEXT NOT NULL,
    alg        TEXT NOT NULL,
    jwk        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, kid)
);

-- jti_digest: SHA-256 of "{project}/{jti}"; kept until the token could no longer be accepted.
CREATE TABLE external_jtis (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    jti_digest TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, jti_digest)
);
CREATE INDEX external_jtis_expiry ON external_jtis(expires_at);
