-- What each SIEM destination was last sent: the entry's hash and time, so
-- the shipper notices the log being cut or rewritten under its cursor
-- (the new entries reuse the old sequence numbers) and ships them anyway.
ALTER TABLE audit_cursors ADD COLUMN hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_cursors ADD COLUMN entry_at BIGINT NOT NULL DEFAULT 0
