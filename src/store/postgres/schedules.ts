import { randomUUID } from 'node:crypto';
import {
  decideRuns, finishedRun, NOT_LINKED, outcomeOfJob, pageChangedEvent, planFinish, RUN_COLUMNS, runSkippedEvent, SCHEDULE_COLUMNS, toBaseline,
  toRun, toSchedule,
  type BaselineDbRow, type BaselineRow, type RunPageRow, type RunRow, type ScheduleRow,
} from '../schedule-rows.ts';
import { toPageWithContent, type PageContentRow } from '../rows.ts';
import type {
  Baseline, ClaimedRuns, FinishedRun, ListOptions, NewSchedule, PageChange, PageChangeEntry, PageWithContent, Planner, RevisitSettings,
  Schedule, ScheduleRun, SchedulePatch, ScheduleStore,
} from '../types.ts';
import type { Db, Query } from './db.ts';
import { isUuid } from './rows.ts';
import { publishIn } from './webhooks.ts';

const PAGE_COLUMNS = `p.id, p.url, p.final_url, p.status_code, p.title, p.bytes, p.fetch_ms, p.error_code, p.content_type, p.mode, p.links_found,
  p.depth, p.fetched_at, p.content_hash, p.lastmod, p.change, p.previous_page_id`;

/** A schedule's place: a pending run, a run whose job is live, or a run waiting its turn. */
const OPEN_STATE = `SELECT
    EXISTS (SELECT 1 FROM schedule_runs r LEFT JOIN jobs j ON j.id = r.job_id WHERE r.schedule_id = $1
      AND (r.outcome = 'pending' OR (r.outcome = 'running' AND j.status IN ('queued', 'running')))) AS busy,
    EXISTS (SELECT 1 FROM schedule_runs WHERE schedule_id = $1 AND outcome = 'queued') AS queued`;

/**
 * Schedules of the scale-out store. Every process runs the scheduler: a claim locks due schedule
 * rows with FOR UPDATE SKIP LOCKED, so each due run is handled by one of them, and the unique
 * (schedule_id, planned_at) key records a planned time once whatever happens.
 */
export class PgSchedules implements ScheduleStore {
  constructor(private readonly db: Db) {}

  async create(s: NewSchedule, now: number = Date.now()): Promise<Schedule> {
    const [row] = await this.db.query<ScheduleRow>(
      `INSERT INTO schedules (id, name, cron, timezone, job, overlap, revisit, enabled, key_id, next_run_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING ${SCHEDULE_COLUMNS}`,
      [randomUUID(), s.name, s.cron, s.timezone, JSON.stringify(s.job), s.overlap, s.revisit, s.enabled, s.keyId, s.nextRunAt, now],
    );
    return toSchedule(row!);
  }

  async get(id: string): Promise<Schedule | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = $1`, [id]);
    return row && toSchedule(row);
  }

  async list(opts: ListOptions & { keyId?: string }): Promise<Schedule[]> {
    const after = opts.after === undefined ? null : String(opts.after);
    if (after !== null && !isUuid(after)) return [];
    const rows = await this.db.query<ScheduleRow>(
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE ($1::uuid IS NULL OR seq > (SELECT seq FROM schedules WHERE id = $1))
         AND ($3::text IS NULL OR key_id = $3) ORDER BY seq LIMIT $2`,
      [after, opts.limit, opts.keyId ?? null],
    );
    return rows.map(toSchedule);
  }

  async update(id: string, patch: SchedulePatch, now: number = Date.now()): Promise<Schedule | undefined> {
    if (!isUuid(id)) return undefined;
    return this.db.tx(async (q) => {
      const [before] = await q<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = $1 FOR UPDATE`, [id]);
      if (!before) return undefined;
      const s = { ...toSchedule(before), ...patch };
      const [row] = await q<ScheduleRow>(
        `UPDATE schedules SET name = $2, cron = $3, timezone = $4, job = $5, overlap = $6, revisit = $7, enabled = $8, next_run_at = $9,
           updated_at = $10 WHERE id = $1 RETURNING ${SCHEDULE_COLUMNS}`,
        [id, s.name, s.cron, s.timezone, JSON.stringify(s.job), s.overlap, s.revisit, s.enabled, s.nextRunAt, now],
      );
      return toSchedule(row!);
    });
  }

  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return this.db.tx(async (q) => {
      const gone = await q('DELETE FROM schedules WHERE id = $1 RETURNING id', [id]);
      await q('DELETE FROM schedule_runs WHERE schedule_id = $1', [id]);
      await q('DELETE FROM schedule_baseline WHERE schedule_id = $1', [id]);
      return gone.length > 0;
    });
  }

  async runs(scheduleId: string, opts: ListOptions): Promise<ScheduleRun[]> {
    if (!isUuid(scheduleId)) return [];
    const after = opts.after === undefined ? Number.MAX_SAFE_INTEGER : Number(opts.after);
    const rows = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM schedule_runs WHERE schedule_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
      [scheduleId, after, opts.limit],
    );
    return rows.map(toRun);
  }

  claimDue(now: number, planner: Planner, opts: { limit: number; staleMs: number }): Promise<ClaimedRuns> {
    return this.db.tx(async (q) => {
      const out: ClaimedRuns = { toStart: [], skipped: [], missed: [], queued: [] };
      const stale = await q<RunRow>(
        `UPDATE schedule_runs SET outcome = 'missed', reason = 'start_interrupted', finished_at = $1
         WHERE id IN (SELECT id FROM schedule_runs WHERE outcome = 'pending' AND claimed_at < $2 FOR UPDATE SKIP LOCKED) RETURNING ${RUN_COLUMNS}`,
        [now, now - opts.staleMs],
      );
      out.missed.push(...stale.map(toRun));
      // Queued runs take their turn once the previous job ended; their schedule row is the lock.
      const queued = await q<RunRow & ScheduleRow & { run_id: number }>(
        `SELECT r.id AS run_id, r.schedule_id, r.job_id, r.planned_at, r.started_at, r.finished_at, r.outcome, r.reason, ${prefixed('s')}
         FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id WHERE r.outcome = 'queued' ORDER BY r.id FOR UPDATE OF s SKIP LOCKED`,
      );
      for (const row of queued) {
        const [state] = await q<{ busy: boolean }>(OPEN_STATE, [row.schedule_id]);
        if (state!.busy) continue;
        await q(`UPDATE schedule_runs SET outcome = 'pending', claimed_at = $2 WHERE id = $1`, [row.run_id, now]);
        out.toStart.push({ run: toRun({ ...row, id: row.run_id, outcome: 'pending' }), schedule: toSchedule(row) });
      }
      const due = await q<ScheduleRow>(
        `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= $1
         ORDER BY next_run_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, opts.limit],
      );
      for (const row of due) {
        const schedule = toSchedule(row);
        const plan = planner(schedule, now);
        const [state] = await q<{ busy: boolean; queued: boolean }>(OPEN_STATE, [schedule.id]);
        for (const ins of decideRuns(schedule.overlap, plan.missed, plan.due, state!)) {
          const [run] = await q<RunRow>(
            `INSERT INTO schedule_runs (schedule_id, planned_at, claimed_at, outcome, reason) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (schedule_id, planned_at) DO NOTHING RETURNING ${RUN_COLUMNS}`,
            [schedule.id, ins.plannedAt, now, ins.outcome, ins.reason],
          );
          if (!run) continue;
          if (ins.outcome === 'pending') out.toStart.push({ run: toRun(run), schedule });
          else if (ins.outcome === 'queued') out.queued.push(toRun(run));
          else if (ins.outcome === 'skipped') out.skipped.push(toRun(run));
          else out.missed.push(toRun(run));
        }
        await q('UPDATE schedules SET next_run_at = $2 WHERE id = $1', [schedule.id, plan.next]);
      }
      // schedule.run.skipped, written with the runs it tells of.
      for (const run of [...out.missed, ...out.skipped]) await publishIn(q, runSkippedEvent(run), now);
      return out;
    });
  }

  async markStarted(runId: number, jobId: string, now: number): Promise<void> {
    await this.db.query(`UPDATE schedule_runs SET outcome = 'running', job_id = $2, started_at = $3 WHERE id = $1 AND outcome = 'pending'`, [runId, jobId, now]);
  }

  async markNotStarted(runId: number, reason: string, now: number): Promise<void> {
    await this.db.query(`UPDATE schedule_runs SET outcome = 'failed', reason = $2, finished_at = $3 WHERE id = $1 AND outcome = 'pending'`, [runId, reason, now]);
  }

  async finishRuns(now: number, revisit: RevisitSettings, limit: number): Promise<FinishedRun[]> {
    const out: FinishedRun[] = [];
    for (let i = 0; i < limit; i++) {
      const done = await this.db.tx((q) => this.finishOne(q, now, revisit));
      if (!done) break;
      out.push(done);
    }
    return out;
  }

  private async finishOne(q: Query, now: number, settings: RevisitSettings): Promise<FinishedRun | null> {
    const [run] = await q<RunRow & { job_seq: number | null; job_status: string | null }>(
      `SELECT r.id, r.schedule_id, r.job_id, r.planned_at, r.started_at, r.finished_at, r.outcome, r.reason, j.seq AS job_seq, j.status AS job_status
       FROM schedule_runs r LEFT JOIN jobs j ON j.id = r.job_id
       WHERE r.outcome = 'running' AND (j.status IS NULL OR j.status NOT IN ('queued', 'running')) ORDER BY r.id LIMIT 1 FOR UPDATE OF r SKIP LOCKED`,
    );
    if (!run) return null;
    const pages = run.job_seq === null
      ? []
      : await q<RunPageRow>('SELECT id, url, change, error_code, content_hash, revisit, fetched_at FROM pages WHERE job_seq = $1 ORDER BY id', [run.job_seq]);
    const baseline = new Map(
      (await q<BaselineRow>('SELECT url, page_id, interval_ms, next_visit_at FROM schedule_baseline WHERE schedule_id = $1', [run.schedule_id])).map((b) => [b.url, b]),
    );
    // A job that ended without reaching the site (failed, cancelled) says nothing of what is gone.
    const plan = planFinish(pages, run.job_status === 'done' ? baseline : new Map(), settings);
    if (run.job_status !== 'done') plan.baseline = baseline.size === 0;
    if (plan.upserts.length > 0) {
      const u = plan.upserts;
      await q(
        `INSERT INTO schedule_baseline (schedule_id, url, etag, last_modified, content_hash, data_hash, page_id, links, interval_ms, next_visit_at)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::json[], $9::bigint[], $10::bigint[])
         ON CONFLICT (schedule_id, url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
           content_hash = excluded.content_hash, data_hash = excluded.data_hash, page_id = excluded.page_id, links = excluded.links,
           interval_ms = excluded.interval_ms, next_visit_at = excluded.next_visit_at`,
        [
          run.schedule_id, u.map((x) => x.url), u.map((x) => x.etag), u.map((x) => x.lastModified), u.map((x) => x.contentHash),
          u.map((x) => x.dataHash), u.map((x) => x.pageId), u.map((x) => JSON.stringify(x.links)), u.map((x) => x.intervalMs), u.map((x) => x.nextVisitAt),
        ],
      );
    }
    if (plan.deletes.length > 0) await q('DELETE FROM schedule_baseline WHERE schedule_id = $1 AND url = ANY ($2::text[])', [run.schedule_id, plan.deletes]);
    let ids: number[] = [];
    if (run.job_seq !== null && plan.unlinked.length > 0) {
      const rows = await q<{ id: number }>(
        `INSERT INTO pages (job_seq, url, bytes, fetch_ms, error_code, mode, links_found, depth, fetched_at, change, previous_page_id)
         SELECT $1, u.url, 0, 0, $2, 'http', 0, 0, $3, 'gone', u.prev FROM unnest($4::text[], $5::bigint[]) WITH ORDINALITY AS u(url, prev, n)
         ORDER BY u.n RETURNING id`,
        [run.job_seq, NOT_LINKED, now, plan.unlinked.map((x) => x.url), plan.unlinked.map((x) => x.previousPageId)],
      );
      ids = rows.map((r) => r.id).sort((a, b) => a - b);
    }
    const outcome = outcomeOfJob(run.job_status);
    const reason = run.job_status === null ? 'job_deleted' : run.reason;
    await q('UPDATE schedule_runs SET outcome = $2, reason = $3, finished_at = $4 WHERE id = $1', [run.id, outcome, reason, now]);
    const { job_seq: _seq, job_status: _status, ...runRow } = run;
    const finished = finishedRun(toRun({ ...runRow, outcome, finished_at: now, reason }), plan, ids);
    // page.changed, written with the run's end and its baseline.
    const event = pageChangedEvent(finished);
    if (event) await publishIn(q, event, now);
    return finished;
  }

  async baseline(scheduleId: string, url: string): Promise<Baseline | undefined> {
    if (!isUuid(scheduleId)) return undefined;
    const [row] = await this.db.query<BaselineDbRow>(
      `SELECT b.url, b.etag, b.last_modified, b.content_hash, b.data_hash, b.page_id, b.links, b.interval_ms, b.next_visit_at,
         p.title, p.content_type, p.content
       FROM schedule_baseline b LEFT JOIN pages p ON p.id = b.page_id WHERE b.schedule_id = $1 AND b.url = $2`,
      [scheduleId, url],
    );
    return row && toBaseline(row);
  }

  async changes(jobId: string, opts: ListOptions & { types: readonly PageChange[] }): Promise<PageChangeEntry[]> {
    if (!isUuid(jobId)) return [];
    const rows = await this.db.query<{ id: number; url: string; change: PageChange }>(
      `SELECT id, url, change FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = $1) AND id > $2 AND change = ANY ($3::text[])
       ORDER BY id LIMIT $4`,
      [jobId, opts.after === undefined ? 0 : Number(opts.after), opts.types, opts.limit],
    );
    return rows.map((r) => ({ url: r.url, change: r.change, pageId: r.id }));
  }

  async pageById(pageId: number): Promise<PageWithContent | undefined> {
    const [row] = await this.db.query<PageContentRow & { job_id: string }>(
      `SELECT ${PAGE_COLUMNS}, p.content, j.id AS job_id FROM pages p JOIN jobs j ON j.seq = p.job_seq WHERE p.id = $1`,
      [pageId],
    );
    return row && toPageWithContent(row, row.job_id);
  }

  async earliestDue(): Promise<number | null> {
    const [row] = await this.db.query<{ at: number | null }>('SELECT min(next_run_at) AS at FROM schedules WHERE enabled AND next_run_at IS NOT NULL');
    return row?.at ?? null;
  }
}

function prefixed(alias: string): string {
  return SCHEDULE_COLUMNS.split(', ').map((c) => `${alias}.${c}`).join(', ');
}
