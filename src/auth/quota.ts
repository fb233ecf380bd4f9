/**
 * The daily page quota of running jobs: every QUOTA_CHECK_MS, each key with maxPagesPerDay whose
 * jobs fetched that many pages since 00:00 UTC has its unfinished jobs cancelled with reason
 * `quota`. New jobs past the quota are refused at creation (429 QUOTA_EXCEEDED). The check runs
 * beside the crawl, not in the worker's settle path: a job may fetch what its workers have in
 * flight, plus what they fetch within one check interval, past the quota.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/types.ts';

/** How often keys with a daily page quota are checked. */
export const QUOTA_CHECK_MS = 5_000;
/** The reason of a job ended by its key's daily page quota. */
export const QUOTA_REASON = 'quota';

const dayStart = (now: number): number => now - (now % 86_400_000);

/** One pass: ends the unfinished jobs of every key over its daily page quota; the ids ended. */
export async function enforcePageQuotas(store: Store, now: number = Date.now()): Promise<string[]> {
  const ended: string[] = [];
  for (const key of await store.keys.list()) {
    if (key.maxPagesPerDay === null || key.revokedAt !== null) continue;
    const { liveJobs, pages } = await store.keys.usage(key.id, dayStart(now));
    if (liveJobs === 0 || pages < key.maxPagesPerDay) continue;
    for (const status of ['running', 'queued'] as const) {
      for (const job of await store.jobs.list({ limit: 1000, keyId: key.id, status })) {
        const done = await store.jobs.cancel(job.id, QUOTA_REASON, now);
        if (done?.reason === QUOTA_REASON) ended.push(job.id);
      }
    }
  }
  return ended;
}

/** Runs enforcePageQuotas every QUOTA_CHECK_MS; returns a stop function. */
export function startQuotaEnforcer(store: Store, logger: Logger, everyMs = QUOTA_CHECK_MS): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    enforcePageQuotas(store)
      .then((ended) => {
        if (ended.length > 0) logger.info({ jobs: ended }, 'jobs ended: their key used up its daily page quota');
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not check the daily page quotas; trying again later'))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
