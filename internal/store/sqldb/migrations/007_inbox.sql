-- The inbox: every slash command the bot acknowledged, written before the
-- acknowledgement, until it is answered. Its key (Slack's team and trigger
-- id) makes a retried delivery a duplicate on any replica; its owner and
-- lease let another replica take over what a killed one had not begun,
-- and report what it had begun. The payload (what the user typed and the
-- response_url, a capability) is emptied once the command is answered.
CREATE TABLE inbox (
    key         TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    owner       TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    payload     TEXT NOT NULL DEFAULT ''
);
-- The sweeper looks for lapsed leases; the heartbeat for its own rows.
CREATE INDEX inbox_lease ON inbox (state, lease_until);
CREATE INDEX inbox_owner ON inbox (owner, state);
CREATE INDEX inbox_received ON inbox (received_at)
