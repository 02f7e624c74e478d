-- Signing-key rotation. A key is published in the JWKS from creation; it is the project's
-- standby (published, not signing) while activated_at is NULL, signs new access tokens from
-- activated_at until retired_at, and stays published until published_until (set at
-- retirement: the last token it signed has expired by then). Unix milliseconds.
ALTER TABLE signing_keys ADD COLUMN activated_at INTEGER;
ALTER TABLE signing_keys ADD COLUMN published_until INTEGER;

-- Until now every key signed from its creation (retired_at was never set).
UPDATE signing_keys SET activated_at = created_at;

-- At most one signing key and one standby per project: racing rotations (or start-ups adding
-- a missing standby) cannot leave two of either.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(project_id)
    WHERE activated_at IS NOT NULL AND retired_at IS NULL;
CREATE UNIQUE INDEX signing_keys_one_standby ON signing_keys(project_id) WHERE activated_at IS NULL;
