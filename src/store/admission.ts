import { OwlError } from '../errors.ts';

/** QUOTA_EXCEEDED naming the limit, its value and the key's use of it (both stores refuse a job with it). */
export function quotaExceeded(limit: 'maxRunningJobs' | 'maxPagesPerDay', value: number, used: number): OwlError {
  const what = limit === 'maxRunningJobs' ? `unfinished jobs (${used} queued or running)` : `pages per day (${used} fetched since 00:00 UTC)`;
  return new OwlError('QUOTA_EXCEEDED', `Quota exceeded: ${limit} allows ${value} ${what}`, { limit, value, used });
}
