/**
 * From a POST /jobs body to the job the store creates: seeds normalised and vetted, scraping
 * options validated, sitemap roots. Shared by the job API and the scheduler (a schedule stores
 * the body and submits it at each run, so a run is vetted by the settings of its day).
 */
import type { Config } from '../config/schema.ts';
import { OwlError } from '../errors.ts';
import { validateScrapeOptions, type ScrapeOptions } from '../scrape/options.ts';
import type { ApiKey, CrawlMode, JobOptions, JobScope, NewJob } from '../store/types.ts';
import { vetSeeds } from './vet-seeds.ts';

export interface CreateJobBody {
  seeds: string[];
  maxPages: number;
  maxDepth: number;
  scope: JobScope;
  mode: CrawlMode;
  respectRobots?: boolean;
  screenshots: boolean;
  source: string;
  formats?: string[];
  onlyMainContent?: boolean;
  extract?: unknown;
  sitemaps?: string;
}

/** The `/sitemap.xml` of each seed's origin: where a job with sitemaps starts looking (the worker adds robots.txt's). */
export function sitemapRoots(seeds: string[], scrape: ScrapeOptions): string[] {
  if (scrape.sitemaps === 'skip') return [];
  return [...new Set(seeds.map((seed) => new URL('/sitemap.xml', seed).href))];
}

/**
 * The job a validated body asks for; throws OwlError (VALIDATION, INVALID_URL, TARGET_FORBIDDEN)
 * naming the field. `schedule` marks a schedule's run (conditional re-crawls against its baseline).
 */
export function newJobFromBody(b: CreateJobBody, config: Pick<Config, 'allowPrivateTargets' | 'respectRobots'>, schedule?: JobOptions['schedule']): NewJob {
  const respectRobots = b.respectRobots ?? config.respectRobots;
  if (!respectRobots && config.respectRobots) {
    throw new OwlError('VALIDATION', 'respectRobots=false is refused: this server obeys robots.txt (OWL_RESPECT_ROBOTS=true)', { field: 'respectRobots' });
  }
  const seeds = vetSeeds(b.seeds, config.allowPrivateTargets);
  const scrape = validateScrapeOptions(b as unknown as Record<string, unknown>);
  const options: JobOptions = {
    maxPages: b.maxPages,
    maxDepth: b.maxDepth,
    scope: b.scope,
    mode: b.mode,
    respectRobots,
    allowPrivate: config.allowPrivateTargets,
    screenshots: b.screenshots,
    scrape,
  };
  if (schedule) options.schedule = schedule;
  return { seeds, source: b.source, sitemaps: sitemapRoots(seeds, scrape), options };
}

/** Start of the UTC day of `now`: pages per day are counted from there. */
export function utcDayStart(now: number): number {
  return now - (now % 86_400_000);
}

/**
 * The admission limits of a key's new job (running jobs, pages today; the store refuses a job
 * past them with QUOTA_EXCEEDED), or undefined when the key has none. A schedule's runs count
 * against the key that created the schedule.
 */
export function admissionOf(key: Pick<ApiKey, 'maxRunningJobs' | 'maxPagesPerDay'> | undefined, now: number): NewJob['admission'] {
  if (key === undefined || (key.maxRunningJobs === null && key.maxPagesPerDay === null)) return undefined;
  return { maxRunningJobs: key.maxRunningJobs, maxPagesPerDay: key.maxPagesPerDay, since: utcDayStart(now) };
}
