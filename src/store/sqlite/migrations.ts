import type Database from 'better-sqlite3';
import { OwlError } from '../../errors.ts';

interface Migration {
  version: number;
  sql: string;
}

/**
 * Numbered migrations, applied in order, each in its own transaction. Never edit one that has shipped: add a new one.
 * frontier.state: 0 waiting (also while leased, since migration 3), 1 leased (before migration 3), 2 done,
 * 3 failed, 4 dropped (a URL of a cancelled or operator-failed job that was never fetched).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE jobs (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        mode        TEXT NOT NULL,
        max_pages   INTEGER NOT NULL,
        max_depth   INTEGER NOT NULL,
        seeds       TEXT NOT NULL,
        options     TEXT NOT NULL,
        source      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        started_at  INTEGER,
        finished_at INTEGER,
        reason      TEXT,
        admitted    INTEGER NOT NULL DEFAULT 0,
        queued      INTEGER NOT NULL DEFAULT 0,
        in_flight   INTEGER NOT NULL DEFAULT 0,
        fetched     INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX jobs_status ON jobs (status, seq);

      -- Politeness state per host name, shared by every job and worker.
      -- in_flight counts unexpired leases (expired ones are returned before each claim);
      -- head_id is the oldest queued entry of the host, NULL when none waits.
      CREATE TABLE hosts (
        host          TEXT PRIMARY KEY,
        next_fetch_at INTEGER NOT NULL DEFAULT 0,
        in_flight     INTEGER NOT NULL DEFAULT 0,
        head_id       INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX hosts_head ON hosts (head_id) WHERE head_id IS NOT NULL;

      CREATE TABLE frontier (
        id          INTEGER PRIMARY KEY,
        job_seq     INTEGER NOT NULL REFERENCES jobs (seq),
        url         TEXT NOT NULL,
        host        TEXT NOT NULL,
        depth       INTEGER NOT NULL,
        state       INTEGER NOT NULL DEFAULT 0,
        attempts    INTEGER NOT NULL DEFAULT 0,
        not_before  INTEGER NOT NULL DEFAULT 0,
        lease_token TEXT,
        lease_until INTEGER,
        worker_id   TEXT,
        last_error  TEXT
      );
      CREATE UNIQUE INDEX frontier_job_url ON frontier (job_seq, url);
      CREATE INDEX frontier_ready ON frontier (host, id) WHERE state = 0;
      CREATE INDEX frontier_leased ON frontier (lease_until) WHERE state = 1;

      CREATE TABLE pages (
        id           INTEGER PRIMARY KEY,
        job_seq      INTEGER NOT NULL REFERENCES jobs (seq),
        url          TEXT NOT NULL,
        final_url    TEXT,
        status_code  INTEGER,
        title        TEXT,
        bytes        INTEGER NOT NULL,
        fetch_ms     INTEGER NOT NULL,
        error_code   TEXT,
        content_type TEXT,
        mode         TEXT NOT NULL,
        links_found  INTEGER NOT NULL,
        depth        INTEGER NOT NULL,
        fetched_at   INTEGER NOT NULL
      );
      CREATE INDEX pages_job ON pages (job_seq, id);

      CREATE TABLE proxy_health (
        proxy          TEXT PRIMARY KEY,
        failures       INTEGER NOT NULL,
        cooldown_until INTEGER NOT NULL,
        last_error     TEXT
      ) WITHOUT ROWID;
    `,
  },
  {
    // Seeds move out of the jobs row: every claim and settle rewrites that row, and a long seed list
    // made each rewrite copy its overflow pages.
    version: 2,
    sql: `
      CREATE TABLE job_seeds (
        job_seq INTEGER PRIMARY KEY REFERENCES jobs (seq),
        seeds   TEXT NOT NULL
      );
      INSERT INTO job_seeds (job_seq, seeds) SELECT seq, seeds FROM jobs;
      ALTER TABLE jobs DROP COLUMN seeds;
    `,
  },
  {
    // Leases and per-host politeness move into the owning process's memory (frontier.ts): a URL
    // stays in state 0 while it is leased, so the leased state, its columns and index and the hosts
    // table go. Leases of a process that stopped end here: the URL waits again, or is dropped when
    // its job ended. The ready index covers every row (host, id): only a host's URLs that are not
    // in memory yet are read through it, and those are all waiting, so a URL that ends no longer
    // has to leave an index.
    version: 3,
    sql: `
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
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Applies pending migrations; refuses (SCHEMA_TOO_NEW) a database migrated by a newer program. */
export function runMigrations(db: Database.Database, now: number = Date.now()): { applied: number[]; version: number } {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const appliedVersions = db.prepare('SELECT version FROM schema_migrations').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  const applied: number[] = [];
  const check = (): Set<number> => {
    const present = new Set(appliedVersions.all() as number[]);
    const newest = Math.max(0, ...present);
    if (newest > LATEST_VERSION) {
      throw new OwlError('SCHEMA_TOO_NEW', `The database schema is at version ${newest}; this program knows up to ${LATEST_VERSION}`, {
        databaseVersion: newest,
        codeVersion: LATEST_VERSION,
      });
    }
    return present;
  };
  check();
  for (const m of MIGRATIONS) {
    // Re-checked inside the write transaction so two processes migrating at once apply each step once.
    const step = db.transaction(() => {
      if (check().has(m.version)) return false;
      db.exec(m.sql);
      record.run(m.version, now);
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return { applied, version: LATEST_VERSION };
}
