-- How far each SIEM destination has received the audit log: shipping
-- resumes here after a restart. The cursor only moves forward.
CREATE TABLE audit_cursors (
    dest       TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
)
