/**
 * The scheduler loop every process runs (`owl serve`, `owl worker`): each tick it finishes the
 * runs whose job ended (changes, baseline, outcome), then claims due schedules and creates their
 * jobs. The store makes both exactly-once across processes; this only acts on what it was given.
 */
import type { Config } from '../config/schema.ts';
import { isOwlError, OwlError } from '../errors.ts';
import { admissionOf, newJobFromBody, type CreateJobBody } from '../jobs/new-job.ts';
import type { Logger } from '../log.ts';
import type { ScheduleMetrics } from '../metrics/registry.ts';
import { PAGE_CHANGES, type ClaimedRuns, type FinishedRun, type Schedule, type ScheduleRun, type Store } from '../store/types.ts';
import { planDue } from './cron.ts';
import type { ScheduleEvents } from './events.ts';

export interface SchedulerOptions {
  store: Pick<Store, 'schedules' | 'jobs' | 'keys'>;
  config: Pick<Config, 'allowPrivateTargets' | 'respectRobots' | 'schedulerTickMs' | 'revisitMinIntervalMs' | 'revisitMaxIntervalMs'>;
  metrics: ScheduleMetrics;
  events: ScheduleEvents;
  logger: Logger;
  /** Called after a run's job was created (an in-process crawler claims it at once). */
  onJobCreated?: () => void;
  /** A planned time older than this when claimed was missed (default 10 s; or 5 ticks if longer). */
  graceMs?: number;
  /** A pending run whose claimer did not create its job within this is missed (default 60 s). */
  staleMs?: number;
  /** Schedules claimed per tick at most (default 50). */
  claimLimit?: number;
  now?: () => number;
}

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: SchedulerOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.o.logger.warn({ err }, 'scheduler tick failed (retried at the next tick)'))
        .finally(() => {
          this.running = null;
          this.schedule(this.o.config.schedulerTickMs);
        });
    }, delay);
    this.timer.unref();
  }

  /** Stops the loop; resolves when a tick in progress ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: finish ended runs, then claim and start due ones. */
  async tick(): Promise<void> {
    const { store, config } = this.o;
    const finished = await store.schedules.finishRuns(this.now(), { minIntervalMs: config.revisitMinIntervalMs, maxIntervalMs: config.revisitMaxIntervalMs }, 20);
    for (const f of finished) await this.reportFinished(f);
    const grace = this.o.graceMs ?? Math.max(10_000, 5 * config.schedulerTickMs);
    const claimed = await store.schedules.claimDue(this.now(), (s, now) => planDue(s, now, grace), {
      limit: this.o.claimLimit ?? 50,
      staleMs: this.o.staleMs ?? 60_000,
    });
    await this.act(claimed);
  }

  private async act(claimed: ClaimedRuns): Promise<void> {
    const { metrics, events } = this.o;
    for (const run of claimed.missed) {
      metrics.scheduleRuns.inc({ outcome: 'missed' });
      await events.onRunSkipped({ scheduleId: run.scheduleId, plannedAt: run.plannedAt, reason: run.reason ?? 'missed' });
    }
    for (const run of claimed.skipped) {
      metrics.scheduleRuns.inc({ outcome: 'skipped' });
      await events.onRunSkipped({ scheduleId: run.scheduleId, plannedAt: run.plannedAt, reason: run.reason ?? 'skipped' });
    }
    for (const _run of claimed.queued) metrics.scheduleRuns.inc({ outcome: 'queued' });
    for (const { run, schedule } of claimed.toStart) await this.startRun(run, schedule);
  }

  private async startRun(run: ScheduleRun, schedule: Schedule): Promise<void> {
    const { store, config, metrics, logger } = this.o;
    let jobId: string;
    try {
      const job = newJobFromBody(schedule.job as unknown as CreateJobBody, config, { id: schedule.id, revisit: schedule.revisit });
      // A schedule belongs to the key that created it: its jobs are that key's and count against its limits.
      const key = schedule.keyId === null ? undefined : await store.keys.get(schedule.keyId);
      if (schedule.keyId !== null) {
        if (key === undefined || key.revokedAt !== null) throw new OwlError('FORBIDDEN', 'The key that created the schedule was revoked', { reason: 'key_revoked' });
        if (key.expiresAt !== null && key.expiresAt <= this.now()) throw new OwlError('FORBIDDEN', 'The key that created the schedule has expired', { reason: 'key_expired' });
      }
      jobId = (await store.jobs.create({ ...job, keyId: schedule.keyId, admission: admissionOf(key, this.now()) }, this.now())).id;
    } catch (err) {
      // A body refused by today's settings (a target now forbidden…) fails the run; a store outage leaves it pending (missed once stale).
      if (isOwlError(err, 'STORE_UNAVAILABLE')) throw err;
      const reason = isOwlError(err) ? String(err.details.reason ?? err.code.toLowerCase()) : 'internal';
      logger.warn({ err, scheduleId: schedule.id, plannedAt: run.plannedAt }, 'schedule run could not start');
      await store.schedules.markNotStarted(run.id, reason, this.now());
      metrics.scheduleRuns.inc({ outcome: 'not_started' });
      return;
    }
    const now = this.now();
    await store.schedules.markStarted(run.id, jobId, now);
    metrics.scheduleRuns.inc({ outcome: 'started' });
    metrics.scheduleStartLag.observe(Math.max(0, now - run.plannedAt) / 1000);
    logger.info({ scheduleId: schedule.id, jobId, plannedAt: new Date(run.plannedAt).toISOString() }, 'schedule run started');
    this.o.onJobCreated?.();
  }

  private async reportFinished(f: FinishedRun): Promise<void> {
    for (const change of PAGE_CHANGES) if (f.counts[change] > 0) this.o.metrics.scheduleChanges.inc({ change }, f.counts[change]);
    if (f.run.jobId === null) return;
    await this.o.events.onRunFinished({ jobId: f.run.jobId, scheduleId: f.run.scheduleId, baseline: f.baseline, counts: f.counts, changes: f.changes });
  }
}
