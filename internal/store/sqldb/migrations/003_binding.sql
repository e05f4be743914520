-- Plans are bound: the digest of the approved plan's work, and the value
-- approvers of a critical command type to confirm (the resource's name).
ALTER TABLE approvals ADD COLUMN plan_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN confirm_value TEXT NOT NULL DEFAULT '';
-- When the executor handed the command to its provider: an execution
-- whose lease lapsed before this is safe to run elsewhere, one after it
-- has an unknown outcome.
ALTER TABLE approvals ADD COLUMN dispatched_at BIGINT NOT NULL DEFAULT 0;
-- Secrets typed into the private form, sealed (AEAD) under a key derived
-- from the shared approval key, so any replica can run the request.
CREATE TABLE approval_secrets (
    approval_id TEXT PRIMARY KEY,
    sealed      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX approvals_executing ON approvals (state, lease_until)
