-- Every audit append updates each index of audit_log. 008's index on the
-- ticket as given serves no query since 010 (searches compare upper-cased
-- references), and most entries carry no ticket at all: the search index
-- now holds only the entries that have one.
DROP INDEX audit_ticket;
DROP INDEX audit_ticket_upper;
CREATE INDEX audit_ticket_given ON audit_log (UPPER(ticket)) WHERE ticket <> ''
