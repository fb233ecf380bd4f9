/**
 * Schedules in both stores: row mappings and the end of a run (gone pages, baseline update,
 * adaptive intervals), computed here once so SQLite and PostgreSQL only read and write rows.
 */
import type {
  Baseline, FinishedRun, WebhookEvent, PageChange, RevisitFacts, RevisitSettings, RunOutcome, Schedule, ScheduleOverlap, ScheduleRevisit, ScheduleRun,
} from './types.ts';
import { MAX_SUMMARY_CHANGES } from './types.ts';

export interface ScheduleRow {
  id: string;
  name: string | null;
  cron: string;
  timezone: string;
  job: string | Record<string, unknown>;
  overlap: ScheduleOverlap;
  revisit: ScheduleRevisit;
  enabled: number | boolean;
  key_id: string | null;
  next_run_at: number | null;
  created_at: number;
  updated_at: number;
}

export const SCHEDULE_COLUMNS = 'id, name, cron, timezone, job, overlap, revisit, enabled, key_id, next_run_at, created_at, updated_at';

export function toSchedule(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    job: typeof row.job === 'string' ? (JSON.parse(row.job) as Record<string, unknown>) : row.job,
    overlap: row.overlap,
    revisit: row.revisit,
    enabled: row.enabled === true || row.enabled === 1,
    keyId: row.key_id,
    nextRunAt: row.next_run_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface RunRow {
  id: number;
  schedule_id: string;
  job_id: string | null;
  planned_at: number;
  started_at: number | null;
  finished_at: number | null;
  outcome: RunOutcome;
  reason: string | null;
}

export const RUN_COLUMNS = 'id, schedule_id, job_id, planned_at, started_at, finished_at, outcome, reason';

export function toRun(row: RunRow): ScheduleRun {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    jobId: row.job_id,
    plannedAt: row.planned_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outcome: row.outcome,
    reason: row.reason,
  };
}

/** Runs that hold a schedule's place: a live job, a job being created, or one waiting its turn. */
export const OPEN_OUTCOMES: readonly RunOutcome[] = ['pending', 'queued', 'running'];

/** What the end of a run reads of each of its pages. */
export interface RunPageRow {
  id: number;
  url: string;
  change: PageChange | null;
  error_code: string | null;
  content_hash: string | null;
  revisit: string | RevisitFacts | null;
  fetched_at: number;
}

export interface BaselineRow {
  url: string;
  page_id: number;
  interval_ms: number;
  next_visit_at: number;
}

/** What a run writes of one URL's baseline (the page's title and content are read from the page). */
export type BaselineUpsert = Omit<Baseline, 'title' | 'contentType' | 'content'>;

export interface FinishPlan {
  upserts: BaselineUpsert[];
  /** Baseline URLs to forget: gone (404/410 now, or no longer linked). */
  deletes: string[];
  /** Baseline URLs this run did not reach: recorded as gone pages of the run. */
  unlinked: Array<{ url: string; previousPageId: number }>;
  baseline: boolean;
  counts: Record<PageChange, number>;
  changes: FinishedRun['changes'];
}

/** Growth of an unchanged URL's interval and shrinking of a changed one's (StormCrawler's AdaptiveScheduler uses such rates). */
export const ADAPTIVE_GROW = 1.5;
export const ADAPTIVE_SHRINK = 0.5;

function revisitOf(row: RunPageRow): RevisitFacts | null {
  if (row.revisit === null) return null;
  return typeof row.revisit === 'string' ? (JSON.parse(row.revisit) as RevisitFacts) : row.revisit;
}

/**
 * The end of a run: every page fetched (or carried over) becomes the schedule's baseline of its
 * URL, with its re-visit interval grown (unchanged), shrunk (changed) or reset (new); a page
 * gone (404/410) leaves the baseline; a baseline URL the run did not reach is gone too. Failed
 * fetches (timeouts, 5xx…) leave the URL's baseline as it was.
 */
export function planFinish(pages: RunPageRow[], baseline: Map<string, BaselineRow>, settings: RevisitSettings): FinishPlan {
  const counts: Record<PageChange, number> = { new: 0, changed: 0, unchanged: 0, gone: 0 };
  const changes: FinishedRun['changes'] = [];
  const upserts: BaselineUpsert[] = [];
  const deletes: string[] = [];
  const seen = new Set<string>();
  const clamp = (ms: number) => Math.round(Math.min(settings.maxIntervalMs, Math.max(settings.minIntervalMs, ms)));
  for (const page of pages) {
    seen.add(page.url);
    if (page.change !== null) {
      counts[page.change] += 1;
      if (page.change !== 'unchanged' && changes.length < MAX_SUMMARY_CHANGES) changes.push({ url: page.url, change: page.change, pageId: page.id });
    }
    const before = baseline.get(page.url);
    if (page.change === 'gone') {
      if (before) deletes.push(page.url);
      continue;
    }
    const facts = revisitOf(page);
    if (page.error_code !== null || facts === null) continue;
    let intervalMs: number;
    let nextVisitAt: number;
    if (facts.notDue && before) {
      intervalMs = before.interval_ms;
      nextVisitAt = before.next_visit_at;
    } else {
      if (!before || page.change === 'new') intervalMs = settings.minIntervalMs;
      else if (page.change === 'unchanged') intervalMs = clamp(before.interval_ms * ADAPTIVE_GROW);
      else intervalMs = clamp(before.interval_ms * ADAPTIVE_SHRINK);
      nextVisitAt = page.fetched_at + intervalMs;
    }
    upserts.push({
      url: page.url,
      etag: facts.etag,
      lastModified: facts.lastModified,
      contentHash: page.content_hash,
      dataHash: facts.dataHash,
      pageId: page.id,
      links: facts.links,
      intervalMs,
      nextVisitAt,
    });
  }
  const unlinked: FinishPlan['unlinked'] = [];
  for (const [url, row] of baseline) {
    if (seen.has(url)) continue;
    unlinked.push({ url, previousPageId: row.page_id });
    deletes.push(url);
    counts.gone += 1;
  }
  return { upserts, deletes, unlinked, baseline: baseline.size === 0, counts, changes };
}

/** The FinishedRun once the unlinked pages have their ids (they are listed after the run's own pages). */
export function finishedRun(run: ScheduleRun, plan: FinishPlan, unlinkedIds: number[]): FinishedRun {
  const changes = [...plan.changes];
  plan.unlinked.forEach((u, i) => {
    if (changes.length < MAX_SUMMARY_CHANGES) changes.push({ url: u.url, change: 'gone', pageId: unlinkedIds[i]! });
  });
  return { run, baseline: plan.baseline, counts: plan.counts, changes };
}

/** The error code of a page recorded for a baseline URL the run no longer reached. */
export const NOT_LINKED = 'not_linked';

/** A run's outcome once its job ended (a job deleted meanwhile counts as cancelled). */
export function outcomeOfJob(status: string | null): RunOutcome {
  return status === 'done' || status === 'failed' || status === 'cancelled' ? status : 'cancelled';
}

/** What holds a schedule's place when its due runs are claimed. */
export interface OpenState {
  /** A run is pending or its job is queued or running. */
  busy: boolean;
  /** A run waits its turn (overlap `queue`). */
  queued: boolean;
}

export interface RunInsert {
  plannedAt: number;
  outcome: 'pending' | 'queued' | 'skipped' | 'missed';
  reason: string | null;
}

/** The runs to record for one claimed schedule: missed ones, then each due time by the overlap policy. */
export function decideRuns(overlap: ScheduleOverlap, missed: number[], due: number[], state: OpenState): RunInsert[] {
  const out: RunInsert[] = missed.map((plannedAt) => ({ plannedAt, outcome: 'missed', reason: 'down' }));
  let { busy, queued } = state;
  for (const plannedAt of due) {
    if (!busy) {
      out.push({ plannedAt, outcome: 'pending', reason: null });
      busy = true;
    } else if (overlap === 'skip') out.push({ plannedAt, outcome: 'skipped', reason: 'previous_running' });
    else if (queued) out.push({ plannedAt, outcome: 'skipped', reason: 'queue_full' });
    else {
      out.push({ plannedAt, outcome: 'queued', reason: null });
      queued = true;
    }
  }
  return out;
}

/** A baseline row joined with its page (both stores). */
export interface BaselineDbRow {
  url: string;
  etag: string | null;
  last_modified: string | null;
  content_hash: string | null;
  data_hash: string | null;
  page_id: number;
  links: string[];
  interval_ms: number;
  next_visit_at: number;
  title: string | null;
  content_type: string | null;
  content: Uint8Array | null;
}

export function toBaseline(row: BaselineDbRow): Baseline {
  return {
    url: row.url,
    etag: row.etag,
    lastModified: row.last_modified,
    contentHash: row.content_hash,
    dataHash: row.data_hash,
    pageId: row.page_id,
    links: row.links,
    intervalMs: row.interval_ms,
    nextVisitAt: row.next_visit_at,
    title: row.title,
    contentType: row.content_type,
    content: row.content,
  };
}

/**
 * `page.changed` for a finished run: one event per run with its change counts and its new,
 * changed and gone pages (MAX_SUMMARY_CHANGES at most). None for a schedule's first run (its
 * baseline: every page is new) nor for a run where nothing changed.
 */
export function pageChangedEvent(f: FinishedRun): WebhookEvent | null {
  if (f.baseline || f.run.jobId === null || f.counts.new + f.counts.changed + f.counts.gone === 0) return null;
  return { type: 'page.changed', jobId: f.run.jobId, scheduleId: f.run.scheduleId, data: { counts: f.counts, changes: f.changes } };
}

/** `schedule.run.skipped` for a run skipped by the overlap policy or missed. */
export function runSkippedEvent(run: ScheduleRun): WebhookEvent {
  return { type: 'schedule.run.skipped', jobId: null, scheduleId: run.scheduleId, data: { plannedAt: run.plannedAt, outcome: run.outcome, reason: run.reason } };
}
