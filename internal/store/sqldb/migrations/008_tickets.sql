-- A change carries the ticket reference it was made for (ticket=ABC-123):
-- stored with its approval request and on every audit entry of it, and
-- searchable. Empty for requests without one, and for every row an
-- earlier version writes.
ALTER TABLE approvals ADD COLUMN ticket TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN ticket TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_ticket ON audit_log (ticket)
