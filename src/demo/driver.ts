/**
 * Submits crawl jobs to the API so every dashboard panel moves, and drives the scenario that
 * trips a chosen alert. Seeds point at the demo site (demo-site.ts); its paths decide what the
 * crawler meets. Everything is on 127.0.0.1 (one `site` label value): `localhost` may resolve to
 * ::1 first, where the site does not listen.
 */

/** Alerts a crawl alone can trip, and the seeds that do it (thresholds: monitoring/prometheus/src/config.ts). */
export const TRIPPABLE_ALERTS = ['Worker429Spike', 'Worker403Spike', 'CaptchaSpike', 'CrawlStalled'] as const;
export type TrippableAlert = (typeof TRIPPABLE_ALERTS)[number];

export interface JobRequest {
  seeds: string[];
  maxPages?: number;
  maxDepth?: number;
  source?: string;
  formats?: string[];
  extract?: unknown;
}

/** Rules for the demo pages: a title, and a price only even pages have (required, so odd pages miss it). */
export const DEMO_EXTRACT = { fields: { title: 'h1', price: { selector: '.price', type: 'number', required: true } } };

export interface SubmittedJob {
  id: string;
  status?: string;
}

/** POST /jobs; throws with the API's error body on a non-201 answer. */
export async function submitJob(apiUrl: string, job: JobRequest): Promise<SubmittedJob> {
  const res = await fetch(`${apiUrl}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as SubmittedJob & { error?: { code: string; message: string } };
  if (res.status !== 201) throw new Error(`POST /jobs answered ${res.status}: ${body.error?.code ?? ''} ${body.error?.message ?? ''}`);
  return body;
}

/**
 * A schedule that re-crawls a corner of the demo site (every minute by default: the API's minimum
 * interval): its pages never change, so from the second run on they are answered 304 and the
 * dashboard's "Schedules and changes" row moves.
 */
export function demoSchedule(siteUrl: string, cron = '* * * * *'): Record<string, unknown> {
  return {
    name: 'demo-watch',
    cron,
    job: { seeds: [`${siteUrl}/page/0`], maxPages: 10, maxDepth: 2, source: 'demo-schedule', formats: ['metadata', 'markdown'], sitemaps: 'skip' },
  };
}

/** POST /schedules; returns the schedule's id, or throws with the API's error body. */
export async function submitSchedule(apiUrl: string, schedule: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${apiUrl}/schedules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(schedule),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { id: string; error?: { code: string; message: string } };
  if (res.status !== 201) throw new Error(`POST /schedules answered ${res.status}: ${body.error?.code ?? ''} ${body.error?.message ?? ''}`);
  return body.id;
}

/** PATCH /schedules/:id {enabled: false}. */
export async function disableSchedule(apiUrl: string, id: string): Promise<number> {
  const res = await fetch(`${apiUrl}/schedules/${id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: false }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** POST /jobs/:id/fail (plan §10: record a failed job with a reason). */
export async function failJob(apiUrl: string, id: string, reason: string): Promise<number> {
  const res = await fetch(`${apiUrl}/jobs/${id}/fail`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reason }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

function urls(base: string, kind: string, count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${base}/${kind}/${offset + i}`);
}

let round = 0;

/** Rounds between two rounds that include blocked, rate-limited and captcha pages. */
const NOISE_EVERY = 10;

/**
 * One round of ordinary traffic: two link-following crawls and a slow page; every NOISE_EVERY-th
 * round (the first included) also one blocked, one rate-limited and one captcha page. With rounds
 * 30 s apart and OWL_MAX_ATTEMPTS=2 that stays well under every alert threshold per 5 minutes.
 */
export function mixedJobs(siteUrl: string): JobRequest[] {
  const r = round++;
  const noise = r % NOISE_EVERY === 0 ? [...urls(siteUrl, 'blocked', 1, r), ...urls(siteUrl, 'limited', 1, r), ...urls(siteUrl, 'captcha', 1, r)] : [];
  return [
    { seeds: [`${siteUrl}/page/${(r * 7) % 200}`], maxPages: 40, maxDepth: 3, source: 'demo', formats: ['metadata', 'markdown'], extract: DEMO_EXTRACT },
    { seeds: [`${siteUrl}/page/${(r * 11 + 100) % 200}`], maxPages: 20, maxDepth: 2, source: 'demo-deep' },
    { seeds: [...urls(siteUrl, 'slow', 1, r), ...noise], maxPages: 4, maxDepth: 0, source: 'demo-noise' },
  ];
}

/** Seeds that trip `alert` on the demo site (each URL is one or more matching responses). */
export function tripJobs(siteUrl: string, alert: TrippableAlert, offset = 0): JobRequest[] {
  switch (alert) {
    case 'Worker429Spike':
      return [{ seeds: urls(siteUrl, 'limited', 15, offset), maxPages: 15, maxDepth: 0, source: 'trip-429' }];
    case 'Worker403Spike':
      return [{ seeds: urls(siteUrl, 'blocked', 15, offset), maxPages: 15, maxDepth: 0, source: 'trip-403' }];
    case 'CaptchaSpike':
      return [{ seeds: urls(siteUrl, 'captcha', 10, offset), maxPages: 10, maxDepth: 0, source: 'trip-captcha' }];
    case 'CrawlStalled':
      // Slow pages keep URLs waiting while nothing completes; the rule needs 10 quiet minutes.
      return [{ seeds: urls(siteUrl, 'slow', 200, offset), maxPages: 200, maxDepth: 0, source: 'trip-stalled' }];
  }
}

export function isTrippable(name: string): name is TrippableAlert {
  return (TRIPPABLE_ALERTS as readonly string[]).includes(name);
}

export interface DriverOptions {
  apiUrl: string;
  siteUrl: string;
  /** Gap between rounds of ordinary traffic in ms (default 30000). */
  intervalMs?: number;
  /** Alert to trip once at start, then every round. */
  trip?: TrippableAlert;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

/** Runs rounds of traffic until stopped. */
export class DemoDriver {
  private timer: NodeJS.Timeout | undefined;
  private rounds = 0;
  private stopped = false;

  constructor(private readonly o: DriverOptions) {}

  async round(): Promise<void> {
    const jobs = [...mixedJobs(this.o.siteUrl), ...(this.o.trip ? tripJobs(this.o.siteUrl, this.o.trip, this.rounds * 20) : [])];
    const log = this.o.log ?? console.log;
    for (const job of jobs) {
      try {
        const { id } = await submitJob(this.o.apiUrl, job);
        log(`job ${id} (${job.source}, ${job.seeds.length} seeds)`);
      } catch (err) {
        log(`submit failed: ${(err as Error).message}`);
      }
    }
    // An operator-failed job so jobs_failed_total{reason} moves too.
    try {
      const { id } = await submitJob(this.o.apiUrl, { seeds: [`${this.o.siteUrl}/page/0`], maxPages: 1, source: 'demo-failed' });
      await failJob(this.o.apiUrl, id, 'demo_operator');
    } catch (err) {
      log(`fail-job round failed: ${(err as Error).message}`);
    }
    this.rounds++;
  }

  start(): void {
    void submitSchedule(this.o.apiUrl, demoSchedule(this.o.siteUrl)).then(
      (id) => (this.o.log ?? console.log)(`schedule ${id} (demo-watch, every minute)`),
      (err: unknown) => (this.o.log ?? console.log)(`schedule failed: ${(err as Error).message}`),
    );
    const tick = async () => {
      if (this.stopped) return;
      await this.round();
      if (!this.stopped) {
        this.timer = setTimeout(tick, this.o.intervalMs ?? 30_000);
        this.timer.unref();
      }
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
