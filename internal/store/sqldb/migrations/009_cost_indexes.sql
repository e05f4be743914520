-- Indexes for what a year of use makes slow: /ops audit target=... read
-- every entry of the searched window to find one host's (now the
-- target's entries in the window, by time), and the approvals listing
-- (/ops approvals, App Home) sorted every pending request, plans and all,
-- by age to show the newest (now it picks them from this index alone).
CREATE INDEX audit_target ON audit_log (target, at);
CREATE INDEX approvals_state_created ON approvals (state, created_at, id)
