-- Leases and per-host politeness move into the owning process's memory (frontier.ts): a URL
-- stays in state 0 (waiting) while it is leased, so the leased state (1), its columns and index and the
-- hosts table go. Leases of a process that stopped end here: the URL waits again, or is dropped (4)
-- when its job ended. The ready index covers every row (host, id): only a host's URLs that are not
-- in memory yet are read through it, and those are all waiting, so a URL that ends no longer
-- has to leave an index.
UPDATE frontier SET state = CASE WHEN (SELECT j.status FROM jobs j WHERE j.seq = frontier.job_seq) IN ('queued', 'running') THEN 0 ELSE 4 END
WHERE state = 1;
UPDATE jobs SET queued = queued + in_flight, in_flight = 0 WHERE in_flight <> 0 AND status IN ('queued', 'running');
UPDATE jobs SET in_flight = 0 WHERE in_flight <> 0;
DROP INDEX frontier_leased;
DROP INDEX frontier_ready;
ALTER TABLE frontier DROP COLUMN lease_token;
ALTER TABLE frontier DROP COLUMN lease_until;
ALTER TABLE frontier DROP COLUMN worker_id;
CREATE INDEX frontier_host ON frontier (host, id);
DROP TABLE hosts;
