-- Seeds move out of the jobs row: every claim and settle rewrites that row, and a long seed list
-- made each rewrite copy its overflow pages.
CREATE TABLE job_seeds (
  job_seq INTEGER PRIMARY KEY REFERENCES jobs (seq),
  seeds   TEXT NOT NULL
);
INSERT INTO job_seeds (job_seq, seeds) SELECT seq, seeds FROM jobs;
ALTER TABLE jobs DROP COLUMN seeds;
