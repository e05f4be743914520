-- The sweeper and the heartbeat look only at commands still held
-- (received or started), a few hundred rows at most; every settled one
-- was in their indexes too, so each command's two moves updated entries
-- all over both. They now index the held rows alone, and the queries say
-- state IN ('received', 'started') in so many words, which is what lets
-- either database use an index with that condition.
DROP INDEX inbox_lease;
DROP INDEX inbox_owner;
CREATE INDEX inbox_held_lease ON inbox (lease_until) WHERE state IN ('received', 'started');
CREATE INDEX inbox_held_owner ON inbox (owner) WHERE state IN ('received', 'started')
