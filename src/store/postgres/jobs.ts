import { randomUUID } from 'node:crypto';
import { quotaExceeded } from '../admission.ts';
import { FrontierKind as K, FrontierState as S } from '../frontier-state.ts';
import { hostnameOf } from '../rows.ts';
import type { Job, JobStatus, JobStore, ListOptions, NewJob } from '../types.ts';
import type { Db, Query } from './db.ts';
import { isLive, isUuid, JOB_COLUMNS, LIVE, toJob, type JobRow } from './rows.ts';
import { publishJobEnds } from './webhooks.ts';

export class PgJobs implements JobStore {
  constructor(private readonly db: Db) {}

  async create(job: NewJob, now: number = Date.now()): Promise<Job> {
    const o = job.options;
    const seeds = o.scrape?.sitemaps === 'only' ? [] : [...new Set(job.seeds)].slice(0, Math.max(0, o.maxPages));
    const sitemaps = [...new Set(job.sitemaps ?? [])].filter((u) => !seeds.includes(u));
    const urls = [...seeds, ...sitemaps];
    const kinds = [...seeds.map(() => K.page), ...sitemaps.map(() => K.sitemap)];
    const id = randomUUID();
    const row = await this.db.tx(async (q) => {
      if (job.keyId && job.admission) await admit(q, job.keyId, job.admission);
      const [{ seq }] = (await q<{ seq: number }>(
        `INSERT INTO jobs (id, status, mode, max_pages, max_depth, seeds, options, source, created_at, key_id)
         VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq`,
        [id, o.mode, o.maxPages, o.maxDepth, job.seeds, JSON.stringify(o), job.source, now, job.keyId ?? null],
      )) as [{ seq: number }];
      await q(
        `WITH ins AS (
           INSERT INTO frontier (job_seq, url, host, depth, kind)
           SELECT $1, s.url, s.host, 0, s.kind FROM unnest($2::text[], $3::text[], $4::smallint[]) WITH ORDINALITY AS s(url, host, kind, n)
           ORDER BY s.n
           ON CONFLICT DO NOTHING RETURNING id, host, kind
         ), touched AS (
           INSERT INTO hosts AS h (host, head_id) SELECT host, min(id) FROM ins GROUP BY host ORDER BY host
           ON CONFLICT (host) DO UPDATE SET head_id = least(h.head_id, excluded.head_id)
         )
         UPDATE jobs SET admitted = (SELECT count(*) FROM ins WHERE kind = ${K.page}),
           sitemaps = (SELECT count(*) FROM ins WHERE kind = ${K.sitemap}) WHERE seq = $1`,
        [seq, urls, urls.map(hostnameOf), kinds],
      );
      return (await q<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.seq = $1`, [seq]))[0]!;
    });
    return toJob(row);
  }

  async get(id: string): Promise<Job | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.id = $1`, [id]);
    return row && toJob(row);
  }

  async list(opts: ListOptions & { status?: JobStatus; keyId?: string }): Promise<Job[]> {
    const after = opts.after === undefined ? undefined : String(opts.after);
    if (after !== undefined && !isUuid(after)) return [];
    if (opts.keyId !== undefined && !isUuid(opts.keyId)) return [];
    const rows = await this.db.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM jobs j
       WHERE ($1::text IS NULL OR j.status = $1) AND ($2::uuid IS NULL OR j.seq < (SELECT seq FROM jobs WHERE id = $2))
         AND ($4::uuid IS NULL OR j.key_id = $4)
       ORDER BY j.seq DESC LIMIT $3`,
      [opts.status ?? null, after ?? null, opts.limit, opts.keyId ?? null],
    );
    return rows.map(toJob);
  }

  async delete(id: string): Promise<'deleted' | 'live' | 'unknown'> {
    if (!isUuid(id)) return 'unknown';
    return this.db.tx(async (q) => {
      const [job] = await q<{ seq: number; status: JobStatus }>('SELECT seq, status FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      if (!job) return 'unknown';
      if (isLive(job.status)) return 'live';
      await q('DELETE FROM pages WHERE job_seq = $1', [job.seq]);
      await q('DELETE FROM frontier WHERE job_seq = $1', [job.seq]);
      await q('DELETE FROM jobs WHERE seq = $1', [job.seq]);
      return 'deleted';
    });
  }

  cancel(id: string, reason?: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.end(id, 'cancelled', reason ?? 'cancelled', now);
  }

  fail(id: string, reason: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.end(id, 'failed', reason, now);
  }

  /** Ends a live job: its waiting URLs are dropped and the hosts' oldest waiting entries recomputed (lock order jobs → frontier → hosts). */
  private async end(id: string, status: JobStatus, reason: string, now: number): Promise<Job | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.tx(async (q) => {
      const [job] = await q<{ seq: number; status: JobStatus }>('SELECT seq, status FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      if (!job) return undefined;
      if (isLive(job.status)) {
        await q('UPDATE jobs SET status = $2, reason = $3, finished_at = $4 WHERE seq = $1', [job.seq, status, reason, now]);
        const dropped = await q<{ host: string }>(
          `WITH d AS (
             SELECT f.id FROM frontier f WHERE f.job_seq = $1 AND f.state = ${S.waiting} ORDER BY f.id FOR UPDATE
           ), u AS (UPDATE frontier f SET state = ${S.dropped} FROM d WHERE f.id = d.id RETURNING f.host)
           SELECT DISTINCT host FROM u ORDER BY host`,
          [job.seq],
        );
        if (dropped.length > 0) {
          const hosts = dropped.map((d) => d.host);
          await q('SELECT 1 FROM hosts WHERE host = ANY ($1::text[]) ORDER BY host FOR UPDATE', [hosts]);
          await q(
            `UPDATE hosts h SET head_id = (
               SELECT f.id FROM frontier f JOIN jobs j ON j.seq = f.job_seq
               WHERE f.host = h.host AND f.state = ${S.waiting} AND ${LIVE} ORDER BY f.id LIMIT 1)
             WHERE h.host = ANY ($1::text[])`,
            [hosts],
          );
        }
      }
      const ended = (await q<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.seq = $1`, [job.seq]))[0];
      if (ended && isLive(job.status)) {
        await publishJobEnds(q, [{ ...ended, startedAt: ended.started_at, finishedAt: ended.finished_at, scheduleId: ended.options.schedule?.id ?? null }], now);
      }
      return ended;
    });
    return row && toJob(row);
  }
}

/**
 * Refuses a job of `keyId` over one of its limits. The key's advisory lock (held to COMMIT)
 * serialises the check and the insert across every API process, so two at once cannot both pass.
 */
async function admit(q: Query, keyId: string, limits: NonNullable<NewJob['admission']>): Promise<void> {
  await q(`SELECT pg_advisory_xact_lock(hashtext('sparkling-owl-spin:key:' || $1))`, [keyId]);
  if (limits.maxRunningJobs != null) {
    const [{ n }] = (await q<{ n: number }>(`SELECT count(*)::int AS n FROM jobs j WHERE j.key_id = $1 AND ${LIVE}`, [keyId])) as [{ n: number }];
    if (n >= limits.maxRunningJobs) throw quotaExceeded('maxRunningJobs', limits.maxRunningJobs, n);
  }
  if (limits.maxPagesPerDay != null) {
    const [{ n }] = (await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM pages p WHERE p.fetched_at >= $2 AND p.job_seq IN
         (SELECT seq FROM jobs WHERE key_id = $1 AND (finished_at IS NULL OR finished_at >= $2))`,
      [keyId, limits.since],
    )) as [{ n: number }];
    if (n >= limits.maxPagesPerDay) throw quotaExceeded('maxPagesPerDay', limits.maxPagesPerDay, n);
  }
}
