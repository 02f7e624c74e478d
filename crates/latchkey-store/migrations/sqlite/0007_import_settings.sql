-- A project's parameters for imported password hashes (issue 11): Firebase's modified scrypt
-- needs the project's signer key, salt separator, rounds and memory cost, given once.
-- signer_key_sealed: AES-256-GCM under the master key (bound to the project).
-- updated_at: unix milliseconds.
CREATE TABLE firebase_hash_settings (
    project_id        TEXT PRIMARY KEY NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    signer_key_sealed BLOB NOT NULL,
    salt_separator    BLOB NOT NULL,
    rounds            INTEGER NOT NULL,
    mem_cost          INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
