-- Ticket references are searched without regard to case (/ops audit
-- ticket=abc-123 finds ABC-123), while each entry keeps the reference as
-- it was given, since it is part of the entry's hash. The search compares
-- upper-cased references; this index serves that comparison as 008's
-- served the exact one.
CREATE INDEX audit_ticket_upper ON audit_log (UPPER(ticket))
