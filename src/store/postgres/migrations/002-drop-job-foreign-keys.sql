-- Drops the foreign keys from frontier and pages to jobs. The store writes job_seq only from a job
-- row it has just read (createJob's own insert, or settle under the job row's lock) and never
-- deletes a job, so the keys guarded nothing the code does not already guarantee. Their per-row
-- triggers (a FOR KEY SHARE lookup of the job row for every admitted URL and every page) cost about
-- a fifth of a settle's server time: 2.3 ms of about 11 ms for a batch of 64 pages and 192 links,
-- measured with auto_explain (log_triggers) on PostgreSQL 15.
ALTER TABLE frontier DROP CONSTRAINT frontier_job_seq_fkey;
ALTER TABLE pages DROP CONSTRAINT pages_job_seq_fkey;
