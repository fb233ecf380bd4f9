/**
 * The two events a schedule's runs produce, as the process that recorded the run sees them. The
 * webhooks (`page.changed`, `schedule.run.skipped`) are not sent from here: the store writes them
 * to the outbox in the very transaction that ends or skips the run (src/store/schedule-rows.ts
 * pageChangedEvent / runSkippedEvent), so a crash between the two cannot lose or duplicate one.
 * These calls come after that commit, once per run, from the one process that recorded it; today
 * they log.
 */
import type { Logger } from '../log.ts';
import type { PageChange } from '../store/types.ts';

export interface ChangeSummary {
  jobId: string;
  scheduleId: string;
  /** True for a schedule's first run: its baseline (every page `new`; no page.changed event is due). */
  baseline: boolean;
  counts: Record<PageChange, number>;
  /** new, changed and gone pages (unchanged ones are only counted), at most MAX_SUMMARY_CHANGES. */
  changes: Array<{ url: string; change: PageChange; pageId: number }>;
}

export interface RunSkipped {
  scheduleId: string;
  plannedAt: number;
  /** `previous_running` or `queue_full` (overlap), `down` or `start_interrupted` (missed). */
  reason: string;
}

export interface ScheduleEvents {
  /** A schedule's run ended (its job finished and the baseline was updated). */
  onRunFinished(summary: ChangeSummary): void | Promise<void>;
  /** A due run did not start: skipped by the overlap policy, or missed. */
  onRunSkipped(skipped: RunSkipped): void | Promise<void>;
}

/** The events as they are today: one log line each. */
export function loggingEvents(logger: Logger): ScheduleEvents {
  return {
    onRunFinished(summary) {
      logger.info({ jobId: summary.jobId, scheduleId: summary.scheduleId, baseline: summary.baseline, counts: summary.counts }, 'schedule run finished');
    },
    onRunSkipped(skipped) {
      logger.info({ scheduleId: skipped.scheduleId, plannedAt: new Date(skipped.plannedAt).toISOString(), reason: skipped.reason }, 'schedule run skipped');
    },
  };
}
