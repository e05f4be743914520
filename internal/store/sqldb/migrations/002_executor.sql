-- Who runs an approved request: host, process id and start time, so a
-- restart on the same host can tell a dead execution at once.
ALTER TABLE approvals ADD COLUMN executor TEXT NOT NULL DEFAULT ''
