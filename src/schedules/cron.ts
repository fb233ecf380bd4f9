/**
 * Cron patterns of schedules (croner): five fields, or six with seconds first; an IANA time zone.
 * Validated at submission (a 400 names the field) and turned into the claim's plan of due runs.
 */
import { Cron } from 'croner';
import { OwlError } from '../errors.ts';
import type { DuePlan, Schedule } from '../store/types.ts';

/** Planned times a claim lists at most per schedule (a schedule down for long is summed up by its latest). */
const MAX_LISTED = 100;
/** Runs looked at to find the shortest gap a pattern asks for. */
const GAP_SAMPLES = 20;

function compile(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, paused: true });
}

/** Throws VALIDATION naming `timezone` unless it is an IANA zone name this runtime knows. */
export function checkTimezone(timezone: string, field = 'timezone'): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new OwlError('VALIDATION', `${field} must be an IANA time zone such as UTC or Europe/Paris (got ${JSON.stringify(timezone.slice(0, 64))})`, { field });
  }
}

/**
 * Checks a pattern and its zone, and that no two runs are closer than `minIntervalMs`; returns the
 * first run after `now` (null when the pattern has none).
 */
export function validateCron(cron: string, timezone: string, minIntervalMs: number, now: number, field = 'cron'): number | null {
  checkTimezone(timezone, field === 'cron' ? 'timezone' : field.replace(/cron$/, 'timezone'));
  let c: Cron;
  try {
    c = compile(cron, timezone);
  } catch (err) {
    throw new OwlError('VALIDATION', `${field} is not a valid cron pattern: ${(err as Error).message}`, { field });
  }
  const runs = c.nextRuns(GAP_SAMPLES, new Date(now)).map((d) => d.getTime());
  for (let i = 1; i < runs.length; i++) {
    const gap = runs[i]! - runs[i - 1]!;
    if (gap < minIntervalMs) {
      throw new OwlError(
        'VALIDATION',
        `${field} runs ${gap / 1000} s apart; the shortest interval allowed is ${minIntervalMs / 1000} s (OWL_MIN_SCHEDULE_INTERVAL_MS)`,
        { field },
      );
    }
  }
  return runs[0] ?? null;
}

/** The first run of a pattern strictly after `after`, or null. */
export function nextRunAfter(cron: string, timezone: string, after: number): number | null {
  return compile(cron, timezone).nextRun(new Date(after))?.getTime() ?? null;
}

/**
 * What a claim does with a due schedule: every planned time from its `nextRunAt` up to `now`;
 * those older than `graceMs` were missed (nothing ran then) and the others run. When all were
 * missed, the latest is run anyway as the one catch-up run.
 */
export function planDue(schedule: Schedule, now: number, graceMs: number): DuePlan {
  const c = compile(schedule.cron, schedule.timezone);
  const times: number[] = schedule.nextRunAt === null ? [] : [schedule.nextRunAt];
  let cursor = schedule.nextRunAt ?? now;
  while (times.length < MAX_LISTED) {
    const n = c.nextRun(new Date(cursor))?.getTime();
    if (n === undefined || n > now) break;
    times.push(n);
    cursor = n;
  }
  if (times.length === MAX_LISTED) {
    // Down for longer than the list: the runs between are not listed one by one; the latest is.
    const latest = c.previousRuns(1, new Date(now + 1))[0]?.getTime();
    if (latest !== undefined && latest > cursor) times.push(latest);
  }
  const last = times.length > 0 ? times[times.length - 1]! : now;
  const next = c.nextRun(new Date(Math.max(now, last)))?.getTime() ?? null;
  const missed = times.filter((t) => now - t > graceMs);
  const due = times.filter((t) => now - t <= graceMs);
  if (due.length === 0 && missed.length > 0) due.push(missed.pop()!);
  return { missed, due, next };
}
