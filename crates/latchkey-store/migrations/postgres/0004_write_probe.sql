-- One row that `/readyz` rewrites to prove the database still accepts writes (a full disk or a
-- read-only file fails here while reads keep working). The payload makes each probe about as
-- large as a sign-up, so a probe cannot fit into the scraps a failed write left behind and
-- report ready while real writes still fail. Not tenant data.

CREATE TABLE write_probe (
    id          INTEGER PRIMARY KEY NOT NULL,
    probed_at   BIGINT NOT NULL,
    payload     BYTEA NOT NULL
);
