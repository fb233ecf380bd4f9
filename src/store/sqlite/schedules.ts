import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  decideRuns, finishedRun, NOT_LINKED, outcomeOfJob, pageChangedEvent, planFinish, RUN_COLUMNS, runSkippedEvent, SCHEDULE_COLUMNS, toRun, toSchedule,
  toBaseline, type BaselineDbRow, type BaselineRow, type RunPageRow, type RunRow, type ScheduleRow,
} from '../schedule-rows.ts';
import { toPageWithContent, type PageContentRow } from '../rows.ts';
import type {
  Baseline, ClaimedRuns, FinishedRun, ListOptions, NewSchedule, PageChange, PageChangeEntry, PageWithContent, Planner, RevisitSettings,
  Schedule, ScheduleRun, SchedulePatch, ScheduleStore,
} from '../types.ts';
import type { SqliteCore } from './core.ts';
import { publishIn } from './webhooks.ts';

const PAGE_COLUMNS = `id, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode, links_found, depth,
  fetched_at, content_hash, lastmod, change, previous_page_id`;

/**
 * Schedules of the embedded store. One process owns the file, so a claim is one write
 * transaction; reads that involve pages or jobs first commit what waits (group commit).
 */
export class SqliteSchedules implements ScheduleStore {
  private cache = new Map<string, Database.Statement>();
  private readonly claimTx: (now: number, planner: Planner, limit: number, staleMs: number) => ClaimedRuns;
  private readonly finishTx: (now: number, settings: RevisitSettings) => FinishedRun | null;

  constructor(private readonly core: SqliteCore) {
    this.claimTx = core.immediate((now: number, planner: Planner, limit: number, staleMs: number) => this.claim(now, planner, limit, staleMs));
    this.finishTx = core.immediate((now: number, settings: RevisitSettings) => this.finishOne(now, settings));
  }

  private st(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.core.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  private row(id: string): ScheduleRow | undefined {
    return this.st(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = ?`).get(id) as ScheduleRow | undefined;
  }

  create(s: NewSchedule, now: number = Date.now()): Promise<Schedule> {
    return this.core.run(() => {
      const id = randomUUID();
      this.st(`INSERT INTO schedules (id, name, cron, timezone, job, overlap, revisit, enabled, key_id, next_run_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        id, s.name, s.cron, s.timezone, JSON.stringify(s.job), s.overlap, s.revisit, s.enabled ? 1 : 0, s.keyId, s.nextRunAt, now, now,
      );
      return toSchedule(this.row(id)!);
    });
  }

  get(id: string): Promise<Schedule | undefined> {
    return this.core.run(() => {
      const row = this.row(id);
      return row && toSchedule(row);
    });
  }

  list(opts: ListOptions & { keyId?: string }): Promise<Schedule[]> {
    return this.core.run(() => {
      const after = opts.after === undefined ? null : String(opts.after);
      const rows = this.st(`SELECT ${SCHEDULE_COLUMNS} FROM schedules
        WHERE (@after IS NULL OR seq > coalesce((SELECT seq FROM schedules WHERE id = @after), 9e18)) AND (@keyId IS NULL OR key_id = @keyId)
        ORDER BY seq LIMIT @limit`)
        .all({ after, keyId: opts.keyId ?? null, limit: opts.limit });
      return (rows as ScheduleRow[]).map(toSchedule);
    });
  }

  update(id: string, patch: SchedulePatch, now: number = Date.now()): Promise<Schedule | undefined> {
    return this.core.run(() => {
      const before = this.row(id);
      if (!before) return undefined;
      const s = { ...toSchedule(before), ...patch };
      this.st(`UPDATE schedules SET name = ?, cron = ?, timezone = ?, job = ?, overlap = ?, revisit = ?, enabled = ?, next_run_at = ?,
        updated_at = ? WHERE id = ?`).run(s.name, s.cron, s.timezone, JSON.stringify(s.job), s.overlap, s.revisit, s.enabled ? 1 : 0, s.nextRunAt, now, id);
      return toSchedule(this.row(id)!);
    });
  }

  delete(id: string): Promise<boolean> {
    return this.core.run(() =>
      this.core.db.transaction(() => {
        const gone = this.st('DELETE FROM schedules WHERE id = ?').run(id).changes > 0;
        this.st('DELETE FROM schedule_runs WHERE schedule_id = ?').run(id);
        this.st('DELETE FROM schedule_baseline WHERE schedule_id = ?').run(id);
        return gone;
      }).immediate(),
    );
  }

  runs(scheduleId: string, opts: ListOptions): Promise<ScheduleRun[]> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const after = opts.after === undefined ? Number.MAX_SAFE_INTEGER : Number(opts.after);
      const rows = this.st(`SELECT ${RUN_COLUMNS} FROM schedule_runs WHERE schedule_id = ? AND id < ? ORDER BY id DESC LIMIT ?`)
        .all(scheduleId, after, opts.limit) as RunRow[];
      return rows.map(toRun);
    });
  }

  claimDue(now: number, planner: Planner, opts: { limit: number; staleMs: number }): Promise<ClaimedRuns> {
    return this.core.run(() => {
      this.core.commitWaiting();
      return this.claimTx(now, planner, opts.limit, opts.staleMs);
    });
  }

  private insertRun(scheduleId: string, plannedAt: number, outcome: string, reason: string | null, now: number): ScheduleRun | null {
    const info = this.st(`INSERT INTO schedule_runs (schedule_id, planned_at, claimed_at, outcome, reason) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (schedule_id, planned_at) DO NOTHING`).run(scheduleId, plannedAt, now, outcome, reason);
    if (info.changes === 0) return null;
    return toRun(this.st(`SELECT ${RUN_COLUMNS} FROM schedule_runs WHERE id = ?`).get(Number(info.lastInsertRowid)) as RunRow);
  }

  private openState(scheduleId: string): { busy: boolean; queued: boolean } {
    const row = this.st(`SELECT
        EXISTS (SELECT 1 FROM schedule_runs r LEFT JOIN jobs j ON j.id = r.job_id WHERE r.schedule_id = ?
          AND (r.outcome = 'pending' OR (r.outcome = 'running' AND j.status IN ('queued', 'running')))) AS busy,
        EXISTS (SELECT 1 FROM schedule_runs WHERE schedule_id = ? AND outcome = 'queued') AS queued`).get(scheduleId, scheduleId) as { busy: number; queued: number };
    return { busy: row.busy === 1, queued: row.queued === 1 };
  }

  private claim(now: number, planner: Planner, limit: number, staleMs: number): ClaimedRuns {
    const out: ClaimedRuns = { toStart: [], skipped: [], missed: [], queued: [] };
    // A claimer that died between the claim and the job's creation leaves a pending run: it is missed.
    const stale = this.st(`UPDATE schedule_runs SET outcome = 'missed', reason = 'start_interrupted', finished_at = ?
      WHERE outcome = 'pending' AND claimed_at < ? RETURNING ${RUN_COLUMNS}`).all(now, now - staleMs) as RunRow[];
    out.missed.push(...stale.map(toRun));
    // Queued runs whose previous job ended take their turn.
    const queued = this.st(`SELECT ${RUN_COLUMNS} FROM schedule_runs WHERE outcome = 'queued' ORDER BY id`).all() as RunRow[];
    for (const q of queued) {
      if (this.openState(q.schedule_id).busy) continue;
      const schedule = this.row(q.schedule_id);
      if (!schedule) continue;
      this.st(`UPDATE schedule_runs SET outcome = 'pending', claimed_at = ? WHERE id = ?`).run(now, q.id);
      out.toStart.push({ run: toRun({ ...q, outcome: 'pending' }), schedule: toSchedule(schedule) });
    }
    const due = this.st(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ?
      ORDER BY next_run_at LIMIT ?`).all(now, limit) as ScheduleRow[];
    for (const row of due) {
      const schedule = toSchedule(row);
      const plan = planner(schedule, now);
      for (const ins of decideRuns(schedule.overlap, plan.missed, plan.due, this.openState(schedule.id))) {
        const run = this.insertRun(schedule.id, ins.plannedAt, ins.outcome, ins.reason, now);
        if (!run) continue;
        if (ins.outcome === 'pending') out.toStart.push({ run, schedule });
        else if (ins.outcome === 'queued') out.queued.push(run);
        else if (ins.outcome === 'skipped') out.skipped.push(run);
        else out.missed.push(run);
      }
      this.st('UPDATE schedules SET next_run_at = ? WHERE id = ?').run(plan.next, schedule.id);
    }
    // schedule.run.skipped, written with the runs it tells of.
    for (const run of [...out.missed, ...out.skipped]) publishIn(this.core.s, runSkippedEvent(run), now);
    return out;
  }

  markStarted(runId: number, jobId: string, now: number): Promise<void> {
    return this.core.run(() => {
      this.st(`UPDATE schedule_runs SET outcome = 'running', job_id = ?, started_at = ? WHERE id = ? AND outcome = 'pending'`).run(jobId, now, runId);
    });
  }

  markNotStarted(runId: number, reason: string, now: number): Promise<void> {
    return this.core.run(() => {
      this.st(`UPDATE schedule_runs SET outcome = 'failed', reason = ?, finished_at = ? WHERE id = ? AND outcome = 'pending'`).run(reason, now, runId);
    });
  }

  finishRuns(now: number, revisit: RevisitSettings, limit: number): Promise<FinishedRun[]> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const out: FinishedRun[] = [];
      for (let i = 0; i < limit; i++) {
        const done = this.finishTx(now, revisit);
        if (!done) break;
        out.push(done);
      }
      return out;
    });
  }

  private finishOne(now: number, settings: RevisitSettings): FinishedRun | null {
    const run = this.st(`SELECT r.id, r.schedule_id, r.job_id, r.planned_at, r.started_at, r.finished_at, r.outcome, r.reason,
        j.seq AS job_seq, j.status AS job_status
      FROM schedule_runs r LEFT JOIN jobs j ON j.id = r.job_id
      WHERE r.outcome = 'running' AND (j.status IS NULL OR j.status NOT IN ('queued', 'running')) ORDER BY r.id LIMIT 1`)
      .get() as (RunRow & { job_seq: number | null; job_status: string | null }) | undefined;
    if (!run) return null;
    const pages = run.job_seq === null ? [] : this.st(`SELECT id, url, change, error_code, content_hash, revisit, fetched_at FROM pages
      WHERE job_seq = ? ORDER BY id`).all(run.job_seq) as RunPageRow[];
    const baseline = new Map((this.st('SELECT url, page_id, interval_ms, next_visit_at FROM schedule_baseline WHERE schedule_id = ?')
      .all(run.schedule_id) as BaselineRow[]).map((b) => [b.url, b]));
    // A job that ended without reaching the site (failed, cancelled) says nothing of what is gone.
    const plan = planFinish(pages, run.job_status === 'done' ? baseline : new Map(), settings);
    if (run.job_status !== 'done') plan.baseline = baseline.size === 0;
    const upsert = this.st(`INSERT INTO schedule_baseline (schedule_id, url, etag, last_modified, content_hash, data_hash, page_id, links,
        interval_ms, next_visit_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (schedule_id, url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
        content_hash = excluded.content_hash, data_hash = excluded.data_hash, page_id = excluded.page_id, links = excluded.links,
        interval_ms = excluded.interval_ms, next_visit_at = excluded.next_visit_at`);
    for (const u of plan.upserts) {
      upsert.run(run.schedule_id, u.url, u.etag, u.lastModified, u.contentHash, u.dataHash, u.pageId, JSON.stringify(u.links), u.intervalMs, u.nextVisitAt);
    }
    const del = this.st('DELETE FROM schedule_baseline WHERE schedule_id = ? AND url = ?');
    for (const url of plan.deletes) del.run(run.schedule_id, url);
    const ids: number[] = [];
    if (run.job_seq !== null) {
      const insert = this.st(`INSERT INTO pages (job_seq, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode,
        links_found, depth, fetched_at, content_hash, lastmod, content, change, previous_page_id, revisit)
        VALUES (?, ?, NULL, NULL, NULL, 0, 0, ?, NULL, 'http', 0, 0, ?, NULL, NULL, NULL, 'gone', ?, NULL)`);
      for (const u of plan.unlinked) ids.push(Number(insert.run(run.job_seq, u.url, NOT_LINKED, now, u.previousPageId).lastInsertRowid));
    }
    const outcome = outcomeOfJob(run.job_status);
    const reason = run.job_status === null ? 'job_deleted' : null;
    this.st('UPDATE schedule_runs SET outcome = ?, reason = coalesce(?, reason), finished_at = ? WHERE id = ?').run(outcome, reason, now, run.id);
    const { job_seq: _seq, job_status: _status, ...runRow } = run;
    const finished = finishedRun(toRun({ ...runRow, outcome, finished_at: now, reason: reason ?? run.reason }), plan, ids);
    // page.changed, written with the run's end and its baseline.
    const event = pageChangedEvent(finished);
    if (event) publishIn(this.core.s, event, now);
    return finished;
  }

  baseline(scheduleId: string, url: string): Promise<Baseline | undefined> {
    // No commit first: the baseline and the earlier runs' pages it joins were written when those runs finished.
    return this.core.run(() => {
      const row = this.st(`SELECT b.url, b.etag, b.last_modified, b.content_hash, b.data_hash, b.page_id, b.links, b.interval_ms, b.next_visit_at,
          p.title, p.content_type, p.content
        FROM schedule_baseline b LEFT JOIN pages p ON p.id = b.page_id WHERE b.schedule_id = ? AND b.url = ?`).get(scheduleId, url) as
        | (Omit<BaselineDbRow, 'links'> & { links: string })
        | undefined;
      return row && toBaseline({ ...row, links: JSON.parse(row.links) as string[] });
    });
  }

  changes(jobId: string, opts: ListOptions & { types: readonly PageChange[] }): Promise<PageChangeEntry[]> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const after = opts.after === undefined ? 0 : Number(opts.after);
      const rows = this.st(`SELECT id, url, change FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) AND id > ?
        AND change IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?`).all(jobId, after, JSON.stringify(opts.types), opts.limit) as Array<{ id: number; url: string; change: PageChange }>;
      return rows.map((r) => ({ url: r.url, change: r.change, pageId: r.id }));
    });
  }

  pageById(pageId: number): Promise<PageWithContent | undefined> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const row = this.st(`SELECT ${PAGE_COLUMNS}, content, (SELECT id FROM jobs WHERE seq = job_seq) AS job_id FROM pages WHERE id = ?`)
        .get(pageId) as (PageContentRow & { job_id: string }) | undefined;
      return row && toPageWithContent(row, row.job_id);
    });
  }

  earliestDue(): Promise<number | null> {
    return this.core.run(() => {
      const row = this.st('SELECT min(next_run_at) AS at FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL').get() as { at: number | null };
      return row.at;
    });
  }
}

