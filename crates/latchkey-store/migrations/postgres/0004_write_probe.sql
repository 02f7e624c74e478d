-- One row that `/readyz` rewrites to prove the database still accepts writes (a full disk or a
-- read-only file fails here while reads keep working). Not tenant data.

CREATE TABLE write_probe (
    id          INTEGER PRIMARY KEY NOT NULL,
    probed_at   BIGINT NOT NULL
);
