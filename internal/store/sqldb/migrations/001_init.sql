-- One schema for SQLite and PostgreSQL: times are Unix microseconds,
-- booleans 0/1, lists and maps JSON text.
CREATE TABLE approvals (
    id             TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL,
    requester      TEXT NOT NULL,
    channel        TEXT NOT NULL,
    provider       TEXT NOT NULL,
    command        TEXT NOT NULL,
    target         TEXT NOT NULL,
    args           TEXT NOT NULL,
    args_hash      TEXT NOT NULL,
    command_line   TEXT NOT NULL,
    risk           INTEGER NOT NULL,
    plan           TEXT NOT NULL,
    required       INTEGER NOT NULL,
    approver_roles TEXT NOT NULL,
    confirm_target INTEGER NOT NULL,
    rule           TEXT NOT NULL,
    state          TEXT NOT NULL,
    decided_by     TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    result         TEXT NOT NULL DEFAULT '',
    meta           TEXT NOT NULL DEFAULT '{}',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    lease_until    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX approvals_state ON approvals (state, expires_at);
CREATE INDEX approvals_requester ON approvals (requester, created_at);

CREATE TABLE approval_votes (
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    user_id     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (approval_id, user_id)
);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    request_id  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    command     TEXT NOT NULL,
    target      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    args        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    approval_id TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_at ON audit_log (at);
CREATE INDEX audit_actor ON audit_log (actor, at);
CREATE INDEX audit_request ON audit_log (request_id);

CREATE TABLE dedup (
    key        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
