/**
 * When a failed webhook delivery is tried again: quickly at first, then further apart, for at
 * least `retryForMs` after the event was published (Standard Webhooks recommends retrying for a
 * day or more with exponential backoff).
 */

export interface RetryPolicy {
  /** Wait after the 1st, 2nd, … failed attempt (ms); the last one repeats. */
  scheduleMs: readonly number[];
  /** The first attempt that fails at least this long after the event was published is the last. */
  retryForMs: number;
}

/** The defaults: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then every 8 h, for 24 h at least. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  scheduleMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000],
  retryForMs: 24 * 3_600_000,
};

/**
 * After attempt number `attempts` (1-based) of an event published at `createdAt` failed at `now`:
 * the time of the next attempt, or null when the delivery is given up.
 */
export function nextAttemptAt(policy: RetryPolicy, attempts: number, createdAt: number, now: number): number | null {
  if (now - createdAt >= policy.retryForMs) return null;
  const schedule = policy.scheduleMs;
  return now + schedule[Math.min(Math.max(attempts, 1), schedule.length) - 1]!;
}
