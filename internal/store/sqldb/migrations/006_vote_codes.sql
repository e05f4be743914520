-- Each vote carries its own integrity code (an HMAC under the approval
-- key of the request, the voter and the time): a vote inserted in the
-- database, or a request moved to approved by hand, does not count.
ALTER TABLE approval_votes ADD COLUMN code TEXT NOT NULL DEFAULT ''
