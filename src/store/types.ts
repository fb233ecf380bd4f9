/**
 * The Store: everything the service keeps, split by what each part of the system needs.
 *
 * - `jobs`: the job records (the API creates, lists, cancels and fails them).
 * - `frontier`: the URLs of live jobs and their leases (the worker loop's one call,
 *   `settleAndClaim`, plus lease upkeep and host deferrals).
 * - `pages`: the results of a job (the API reads them).
 * - `proxies`: proxy health shared by every process.
 * - `keys`: API keys (hashed), with their limits and request buckets; `audit`: the trail of writes.
 * - `webhooks`: webhooks and their outbox of deliveries (src/webhooks/).
 *
 * SQLite (embedded) and PostgreSQL (scale-out) implement every part and pass the same contract
 * suites (test/store/contract/). Times are epoch milliseconds (numbers); ids of jobs are UUID
 * strings, ids of frontier entries and pages are integers.
 */

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export type JobScope = 'host' | 'domain';
export type CrawlMode = 'http' | 'browser' | 'auto';

export interface JobOptions {
  /** URLs admitted to the frontier at most (seeds included). */
  maxPages: number;
  /** Link depth from a seed (seeds are depth 0). */
  maxDepth: number;
  scope: JobScope;
  mode: CrawlMode;
  /** Honour robots.txt (default true). */
  respectRobots: boolean;
  /** Allow loopback/private targets (operator's `owl crawl`, or OWL_ALLOW_PRIVATE_TARGETS). */
  allowPrivate: boolean;
  /** Browser mode: save a PNG of each blocked page under OWL_SCREENSHOT_DIR/<job id>/ (default false). */
  screenshots?: boolean;
  /**
   * What each page yields and where URLs come from (src/scrape/options.ts): formats,
   * onlyMainContent, extraction rules, sitemaps. Absent on jobs created before scraping existed.
   */
  scrape?: ScrapeOptions;
  /** Jobs started by a schedule: its id and re-visit policy (conditional re-crawls against its baseline). */
  schedule?: { id: string; revisit: 'all' | 'adaptive' };
}

/** A job's scraping options as stored (validated by src/scrape/options.ts; the store keeps them as they are). */
export interface ScrapeOptions {
  formats: Array<'metadata' | 'links' | 'text' | 'markdown' | 'html'>;
  onlyMainContent: boolean;
  extract?: unknown;
  sitemaps: 'include' | 'skip' | 'only';
}

export interface NewJob {
  seeds: string[];
  options: JobOptions;
  source: string;
  /**
   * Sitemaps to read first (entries of kind `sitemap`, depth 0): the seeds' `/sitemap.xml`, and
   * the worker adds those robots.txt names. With `options.scrape.sitemaps = 'only'` the seeds
   * themselves are not admitted as pages: only URLs the sitemaps list are crawled.
   */
  sitemaps?: string[];
  /** The API key that creates the job (null or absent: auth off, or `owl crawl`). */
  keyId?: string | null;
  /**
   * Limits checked in the same transaction as the insert, so that concurrent API processes cannot
   * both pass them: the key's unfinished jobs, and the pages its jobs fetched since `since`.
   * A job over either is refused with QUOTA_EXCEEDED (details.limit names which).
   */
  admission?: { maxRunningJobs?: number | null; maxPagesPerDay?: number | null; since: number };
}

export interface JobCounts {
  /** URLs admitted to the frontier. */
  admitted: number;
  /** Waiting (queued, including those waiting for a retry). */
  queued: number;
  /** Leased to a worker now. */
  inFlight: number;
  /** Fetched successfully. */
  fetched: number;
  /** Given up on (final error). */
  failed: number;
  /** Sitemap files still to be read (they are not pages: the job ends once they are read too). */
  sitemaps: number;
}

export interface Job {
  id: string;
  status: JobStatus;
  seeds: string[];
  options: JobOptions;
  source: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Why the job failed or was cancelled (an error code or an operator's reason). */
  reason: string | null;
  counts: JobCounts;
  /** The API key that created the job (null: created with OWL_AUTH=off or by `owl crawl`). */
  keyId: string | null;
}

/** What a frontier entry is: a page to fetch, or a sitemap to read for more pages. */
export type EntryKind = 'page' | 'sitemap';

/** A URL handed to a worker under a lease. */
export interface FrontierEntry {
  id: number;
  jobId: string;
  url: string;
  host: string;
  kind: EntryKind;
  /** Pages: link depth from a seed (sitemap URLs are depth 0). Sitemaps: nesting below a root (0). */
  depth: number;
  /** A page listed in a sitemap: its `<lastmod>` (epoch ms), else null. */
  lastmod: number | null;
  /** Attempts made before this one. */
  attempts: number;
  /** Proves the lease when settling; a stale token is ignored (idempotent acks). */
  leaseToken: string;
  leaseUntil: number;
  job: Pick<Job, 'options'>;
}

export interface DiscoveredUrl {
  /** Normalised absolute URL; the store de-duplicates per job on it. */
  url: string;
  host: string;
  depth: number;
  /** Default `page`. Sitemaps are admitted beside maxPages (up to MAX_SITEMAPS_PER_JOB). */
  kind?: EntryKind;
  /** A sitemap's `<lastmod>` for the page (epoch ms). */
  lastmod?: number | null;
}

/** Sitemap entries a job admits at most (a sitemap index may name 50,000). */
export const MAX_SITEMAPS_PER_JOB = 1_000;
/** How deep sitemaps nest below a root (an index of sitemaps is 1; the protocol allows no more, we tolerate 3). */
export const MAX_SITEMAP_NESTING = 3;

/** A stored result row (one per URL that reached a final state). */
export interface PageRecord {
  url: string;
  finalUrl: string | null;
  statusCode: number | null;
  title: string | null;
  bytes: number;
  fetchMs: number;
  /** Lower-case error code (`timeout`, `http_404`…) or null on success. */
  errorCode: string | null;
  contentType: string | null;
  mode: 'http' | 'browser';
  linksFound: number;
  depth: number;
  fetchedAt: number;
  /** Hash of the main content and extracted data (src/scrape/content-hash.ts); null when not scraped. */
  contentHash: string | null;
  /** The page's `<lastmod>` from a sitemap (epoch ms), else null. */
  lastmod: number | null;
  /** The page's record as the job's formats asked for it, compressed (src/scrape/content-codec.ts); null without one. */
  content: Uint8Array | null;
  /** Pages of a schedule's run: against the schedule's baseline (absent or null for other jobs, or when unknown: a failed fetch). */
  change?: PageChange | null;
  /** Pages of a schedule's run: the baseline page this one is compared with (the previous run's), else null. */
  previousPageId?: number | null;
  /** Pages of a schedule's run: what the next run needs (validators, links, data hash); null for other jobs. */
  revisit?: RevisitFacts | null;
}

/** How a page of a schedule's run compares with the schedule's baseline. */
export type PageChange = 'new' | 'changed' | 'unchanged' | 'gone';
export const PAGE_CHANGES: readonly PageChange[] = ['new', 'changed', 'unchanged', 'gone'];

/** What a scheduled page keeps for the next run of its schedule (stored as JSON beside the page). */
export interface RevisitFacts {
  etag: string | null;
  lastModified: string | null;
  /** Hash of the extracted data and items alone (src/scrape/content-hash.ts dataHash), null without rules. */
  dataHash: string | null;
  /** The links followed from the page: a 304 or a URL not due carries them over so the crawl reaches the rest of the site. */
  links: string[];
  /** True when the page was not fetched at all (adaptive re-visits: not due yet): its interval stays as it was. */
  notDue?: boolean;
}

/** A stored result as lists show it (no content). */
export interface Page extends Omit<PageRecord, 'content' | 'change' | 'previousPageId' | 'revisit'> {
  id: number;
  jobId: string;
  change: PageChange | null;
  previousPageId: number | null;
}

/** A stored result with its compressed content (null when there is none, or retention removed it). */
export interface PageWithContent extends Page {
  content: Uint8Array | null;
}

export type Outcome =
  | { kind: 'done'; entry: FrontierEntry; page: PageRecord; discovered: DiscoveredUrl[] }
  | { kind: 'retry'; entry: FrontierEntry; notBefore: number; errorCode: string }
  | { kind: 'failed'; entry: FrontierEntry; page: PageRecord }
  /** A sitemap read for good: the URLs it listed (pages and nested sitemaps), or why it could not be (no page is recorded). */
  | { kind: 'sitemap'; entry: FrontierEntry; discovered: DiscoveredUrl[]; errorCode: string | null };

export interface FinishedJob {
  id: string;
  status: 'done' | 'failed';
  reason: string | null;
}

export interface SettleResult {
  /** Per outcome, in order: false when the lease was stale (already settled or re-leased). */
  accepted: boolean[];
  /** URLs newly admitted to the frontier. */
  enqueued: number;
  /** Jobs that reached a final state with these outcomes (reported once, to one caller). */
  finishedJobs: FinishedJob[];
}

export interface ClaimOptions {
  workerId: string;
  /** URLs to lease at most (0: settle only). */
  limit: number;
  leaseMs: number;
  /** Per-host cap on leased URLs across all workers. */
  maxPerHost: number;
  /** Minimum gap between two fetches of one host (0 = only the in-flight cap applies). */
  hostDelayMs: number;
  /** Only entries of these modes' jobs (a worker without a browser skips browser jobs). */
  modes?: CrawlMode[];
  now?: number;
}

export interface SettleAndClaimResult {
  /** URLs leased to the caller, oldest first. */
  entries: FrontierEntry[];
  /**
   * Resolves when the outcomes are durable: at once where settle and claim share one transaction
   * (PostgreSQL), with the next group commit where the frontier lives in memory (SQLite; links
   * admitted by these outcomes become claimable then). A stale outcome is reported in `accepted`,
   * never as a rejection; it rejects only when the store closes before it could write them.
   */
  settled: Promise<SettleResult>;
  /**
   * When the claim left slots unused: the earliest time a host that is not due now (politeness
   * delay, crawl-delay, Retry-After) becomes due, so the caller can claim again exactly then.
   * Null when the claim filled its limit or nothing is known to become due.
   */
  nextDueAt: number | null;
}

export interface ListOptions {
  limit: number;
  /** Return rows after this id (keyset pagination). */
  after?: string | number;
}

/** Which results `pages.list` gives: all (default), successes only, or failures only. */
export type PageOutcomeFilter = 'ok' | 'failed';

export interface PageListOptions extends ListOptions {
  outcome?: PageOutcomeFilter;
}

/** A recent result as the per-site health view reads it (no content, no title). */
export interface RecentPage {
  id: number;
  url: string;
  statusCode: number | null;
  errorCode: string | null;
  fetchMs: number;
  fetchedAt: number;
}

export interface ProxyHealth {
  proxy: string;
  failures: number;
  cooldownUntil: number;
  lastError: string | null;
}

export interface StoreStats {
  /** Jobs queued or running. */
  jobsInQueue: number;
  /** URLs waiting in the frontier (all jobs). */
  queueDepth: number;
}

export interface JobStore {
  create(job: NewJob, now?: number): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  /** Newest first; with `keyId`, only that key's jobs. */
  list(opts: ListOptions & { status?: JobStatus; keyId?: string }): Promise<Job[]>;
  /** Cancels a queued or running job; its waiting URLs are dropped. Undefined when unknown. */
  cancel(id: string, reason?: string, now?: number): Promise<Job | undefined>;
  /** Marks a live job failed by an operator; undefined when unknown. */
  fail(id: string, reason: string, now?: number): Promise<Job | undefined>;
  /**
   * Removes a finished job with its pages, content and frontier rows: 'deleted', 'live' (not
   * removed: cancel it first) or 'unknown'.
   */
  delete(id: string): Promise<'deleted' | 'live' | 'unknown'>;
}

export interface Frontier {
  /**
   * The worker loop's one call: applies outcomes (stale leases are ignored; each outcome's host
   * slot is free for this very claim), then leases up to `claim.limit` due URLs of live jobs,
   * honouring per-host limits and delays across every worker. Each backend does it its own way
   * (one transaction on PostgreSQL; in memory plus a group commit on SQLite). When it rejects,
   * none of the outcomes was applied: the caller keeps them and tries again.
   */
  settleAndClaim(outcomes: Outcome[], claim: ClaimOptions, now?: number): Promise<SettleAndClaimResult>;
  /** Prolongs leases still held by this worker. */
  extendLeases(entries: Pick<FrontierEntry, 'id' | 'leaseToken'>[], leaseMs: number, now?: number): Promise<void>;
  /** Returns this worker's leased URLs to the queue (graceful stop); the count returned. */
  releaseLeases(workerId: string): Promise<number>;
  /** Returns URLs whose lease expired to the queue (crashed workers); the count returned. */
  requeueExpired(now?: number): Promise<number>;
  /** Keeps every worker off `host` until `until` (Retry-After, crawl-delay). */
  deferHost(host: string, until: number): Promise<void>;
}

export interface PageStore {
  /** Final results of a job, oldest first, keyset-paginated by page id; `outcome` keeps successes or failures only. */
  list(jobId: string, opts: PageListOptions): Promise<Page[]>;
  /** A job's failed results counted by lower-case error code. */
  failuresByCode(jobId: string): Promise<Record<string, number>>;
  /**
   * Results of every job fetched at or after `since`, newest first, at most `limit` (bounded work
   * for GET /sites: it reads backwards by page id and stops at the first batch older than `since`).
   * With `keyId`, only the results of that key's jobs (read through the key's jobs that were live
   * in the window, not by scanning other keys' results).
   */
  recent(since: number, limit: number, keyId?: string): Promise<RecentPage[]>;
  /** One result with its content; undefined when the job has no such page. */
  get(jobId: string, pageId: number): Promise<PageWithContent | undefined>;
  /** Every result of a job with its content, oldest first, read `batch` at a time (exports; constant memory). */
  iterate(jobId: string, opts?: { batch?: number; after?: number }): AsyncIterable<PageWithContent>;
  /** Drops the content of pages fetched before `cutoff` (retention); the count returned. */
  dropContentBefore(cutoff: number): Promise<number>;
}

export interface ProxyHealthStore {
  record(health: ProxyHealth): Promise<void>;
  list(): Promise<ProxyHealth[]>;
}

/** What an API key may do (src/auth/scopes.ts explains each). */
export type Scope = 'jobs:read' | 'jobs:write' | 'admin';

export interface ApiKeyLimits {
  /** Requests per second (token bucket, burst of one second's worth); null: unlimited. */
  rate: number | null;
  /** Unfinished (queued or running) jobs at once; null: unlimited. */
  maxRunningJobs: number | null;
  /** Pages its jobs may fetch per UTC day; null: unlimited. */
  maxPagesPerDay: number | null;
}

/** An API key as lists show it: never the secret, never its hash. */
export interface ApiKey extends ApiKeyLimits {
  id: string;
  name: string;
  scopes: Scope[];
  /** The first characters of the key, kept in clear to tell keys apart. */
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
}

/** A key with the SHA-256 (hex) of its secret, as verification reads it. */
export interface StoredApiKey extends ApiKey {
  hash: string;
}

export interface NewApiKey extends Partial<ApiKeyLimits> {
  name: string;
  scopes: Scope[];
  prefix: string;
  hash: string;
  expiresAt?: number | null;
}

export interface KeyStore {
  create(key: NewApiKey, now?: number): Promise<ApiKey>;
  /** The key whose secret hashes to `hash` (revoked and expired ones too). */
  findByHash(hash: string): Promise<StoredApiKey | undefined>;
  get(id: string): Promise<ApiKey | undefined>;
  /** Oldest first. */
  list(): Promise<ApiKey[]>;
  /** Revokes a key (a second revoke keeps the first time); undefined when unknown. */
  revoke(id: string, now?: number): Promise<ApiKey | undefined>;
  /** Records that the key was used at `now`. */
  touch(id: string, now: number): Promise<void>;
  /**
   * Takes one token from the key's bucket (capacity `burst`, refilled at `rate` per second),
   * atomically across every process sharing the store. When none is left: allowed false and how
   * long until one is.
   */
  take(id: string, rate: number, burst: number, now?: number): Promise<{ allowed: boolean; retryAfterMs: number }>;
  /** The key's unfinished jobs, and the pages its jobs fetched since `since` (what its limits count). */
  usage(id: string, since: number): Promise<{ liveJobs: number; pages: number }>;
}

export interface AuditEntry {
  id: number;
  at: number;
  /** The key that did it; null for the local operator (`owl keys`, or OWL_AUTH=off). */
  keyId: string | null;
  /** `job.create`, `job.cancel`, `job.fail`, `job.delete`, `key.create`, `key.revoke`, `webhook.create`, `webhook.delete`. */
  action: string;
  /** The job or key id acted on. */
  target: string | null;
  /** The client's address (`local` for `owl keys`). */
  address: string | null;
}

export interface AuditStore {
  record(entry: Omit<AuditEntry, 'id'>): Promise<void>;
  /** Newest first; `after` is the id of the last entry of the previous page. */
  list(opts: ListOptions): Promise<AuditEntry[]>;
  /** Removes entries older than `cutoff` (retention); the count returned. */
  deleteBefore(cutoff: number): Promise<number>;
}

/** A webhook as the API lists it (never with its secret). */
export interface Webhook {
  id: string;
  url: string;
  /** Event types it receives (src/store/webhook-events.ts, EVENT_TYPES). */
  events: string[];
  /** The API key that created it (null: the local operator, with OWL_AUTH=off). */
  keyId: string | null;
  createdAt: number;
}

export interface NewWebhook {
  url: string;
  events: string[];
  /** Standard Webhooks signing secret, `whsec_` + base64. */
  secret: string;
  keyId?: string | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one webhook: the outbox row as the API shows it. */
export interface Delivery {
  id: number;
  webhookId: string;
  /** The Standard Webhooks `webhook-id`, the same on every attempt. */
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  /** Attempts begun so far. */
  attempts: number;
  /** Pending: when the next attempt is due; null once delivered or failed. */
  nextAttemptAt: number | null;
  lastError: string | null;
  /** HTTP status of the last answer (null: none, e.g. a timeout). */
  lastStatusCode: number | null;
  createdAt: number;
  /** When it was delivered or given up. */
  finishedAt: number | null;
}

/** A due delivery leased to a sender, with what it needs to send it. */
export interface ClaimedDelivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  /** The exact JSON body to send. */
  payload: string;
  /** Attempts begun, this one included. */
  attempts: number;
  createdAt: number;
  url: string;
  secret: string;
  /** Proves the lease when completing; a stale token is ignored. */
  leaseToken: string;
}

/** An event to publish: one outbox row per webhook that subscribes to `type` (or only `webhookId`). */
export interface WebhookEvent {
  type: string;
  jobId?: string | null;
  scheduleId?: string | null;
  /** The summary; `jobId` and `scheduleId` are added to it. */
  data: Record<string, unknown>;
  /** Deliver to this webhook only, whatever its events (webhook.test). */
  webhookId?: string;
}

export interface PublishedEvent {
  /** The Standard Webhooks `webhook-id` of the event (shared by every webhook it goes to). */
  eventId: string;
  /** Outbox rows written (webhooks that receive it). */
  deliveries: number;
}

/** How an attempt ended, as the sender records it. */
export type AttemptResult =
  | { status: 'delivered'; statusCode: number }
  | { status: 'pending'; nextAttemptAt: number; error: string; statusCode: number | null }
  | { status: 'failed'; error: string; statusCode: number | null };

export interface OutboxStats {
  /** Deliveries pending (due or waiting for a retry). */
  pending: number;
  /** Creation time of the oldest pending delivery, null when none. */
  oldestPendingAt: number | null;
  /** Webhooks with a pending delivery that failed `failingAttempts` attempts or more. */
  failingWebhooks: number;
}

export interface WebhookStore {
  create(webhook: NewWebhook, now?: number): Promise<Webhook>;
  get(id: string): Promise<Webhook | undefined>;
  /** Oldest first, keyset-paginated by id. */
  list(opts: ListOptions): Promise<Webhook[]>;
  /** Removes a webhook and its deliveries (pending ones are never sent); false when unknown. */
  delete(id: string): Promise<boolean>;
  /** Writes one pending delivery per webhook that receives the event, due at once. */
  publish(event: WebhookEvent, now?: number): Promise<PublishedEvent>;
  /** A webhook's deliveries, newest first, keyset-paginated by delivery id. */
  deliveries(webhookId: string, opts: ListOptions): Promise<Delivery[]>;
  /**
   * Leases up to `limit` due pending deliveries, oldest due first, for `leaseMs` (longer than a
   * send can take), counting an attempt on each. A delivery leased by anyone else is skipped
   * (SKIP LOCKED on PostgreSQL), so an attempt is sent by one sender only; a lease that expires
   * (its sender died) makes the delivery due again.
   */
  claimDue(opts: { limit: number; leaseMs: number; now?: number }): Promise<ClaimedDelivery[]>;
  /** Records how an attempt ended and ends the lease; false when the lease was stale (or the webhook deleted). */
  complete(id: number, leaseToken: string, result: AttemptResult, now?: number): Promise<boolean>;
  /** Removes deliveries delivered or given up before `cutoff` (retention); the count returned. Pending ones stay. */
  dropFinishedBefore(cutoff: number): Promise<number>;
  /** Outbox gauges, read at scrape time; an attempt in flight at `now` does not count as failed. */
  stats(opts: { failingAttempts: number; now?: number }): Promise<OutboxStats>;
}

export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  readonly keys: KeyStore;
  readonly audit: AuditStore;
  readonly jobs: JobStore;
  readonly frontier: Frontier;
  readonly pages: PageStore;
  readonly proxies: ProxyHealthStore;
  readonly schedules: ScheduleStore;
  readonly webhooks: WebhookStore;
  /** Apply pending migrations; throws SCHEMA_TOO_NEW when the database is ahead of the code. */
  migrate(): Promise<{ applied: number[]; version: number }>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  /** Global gauges (read at scrape time). */
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Schedules (issue 13): recurring jobs, their runs, and each schedule's baseline per URL.

export type ScheduleOverlap = 'skip' | 'queue';
export type ScheduleRevisit = 'all' | 'adaptive';
/**
 * A run's outcome: `pending` (claimed, its job being created), `queued` (overlap `queue`: waits for
 * the previous job), `running` (its job is live), then the job's end (`done`, `failed`,
 * `cancelled`); or `skipped` (overlap `skip` while the previous job ran, or a queue already full)
 * and `missed` (due while nothing ran, or its start was interrupted).
 */
export type RunOutcome = 'pending' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'skipped' | 'missed';
export const RUN_OUTCOMES: readonly RunOutcome[] = ['pending', 'queued', 'running', 'done', 'failed', 'cancelled', 'skipped', 'missed'];

export interface Schedule {
  id: string;
  name: string | null;
  cron: string;
  timezone: string;
  /** The POST /jobs body each run submits (as validated, defaults applied). */
  job: Record<string, unknown>;
  overlap: ScheduleOverlap;
  revisit: ScheduleRevisit;
  enabled: boolean;
  /** The API key that created it (wired when API keys land), else null. */
  keyId: string | null;
  /** The next planned run (epoch ms); null when disabled or the pattern has no future run. */
  nextRunAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type NewSchedule = Omit<Schedule, 'id' | 'createdAt' | 'updatedAt'>;
export type SchedulePatch = Partial<Omit<Schedule, 'id' | 'createdAt' | 'updatedAt' | 'keyId'>>;

export interface ScheduleRun {
  id: number;
  scheduleId: string;
  jobId: string | null;
  plannedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  outcome: RunOutcome;
  /** Why a run was skipped, missed or not started (`previous_running`, `queue_full`, `down`, `start_interrupted`, an error code). */
  reason: string | null;
}

/** What a claim does with one due schedule (computed from its cron pattern by the scheduler). */
export interface DuePlan {
  /** Planned times to record as missed (oldest first). */
  missed: number[];
  /** Planned times to run (start, skip or queue by the overlap policy), oldest first. */
  due: number[];
  /** The schedule's next planned time after these; null when there is none. */
  next: number | null;
}

export type Planner = (schedule: Schedule, now: number) => DuePlan;

export interface ClaimedRuns {
  /** Runs whose job the caller creates now, then reports with markStarted / markNotStarted. */
  toStart: Array<{ run: ScheduleRun; schedule: Schedule }>;
  skipped: ScheduleRun[];
  missed: ScheduleRun[];
  queued: ScheduleRun[];
}

/** Bounds of adaptive re-visits (StormCrawler's AdaptiveScheduler is the model). */
export interface RevisitSettings {
  minIntervalMs: number;
  maxIntervalMs: number;
}

/** A run whose job ended, with its page changes (the baseline is updated in the same transaction). */
export interface FinishedRun {
  run: ScheduleRun;
  /** True for a schedule's first run: it is its baseline (every page `new`). */
  baseline: boolean;
  counts: Record<PageChange, number>;
  /** new, changed and gone pages, in page order, at most MAX_SUMMARY_CHANGES. */
  changes: Array<{ url: string; change: PageChange; pageId: number }>;
}

export const MAX_SUMMARY_CHANGES = 1_000;

/** What a schedule remembers of one URL from its earlier runs. */
export interface Baseline {
  url: string;
  etag: string | null;
  lastModified: string | null;
  contentHash: string | null;
  dataHash: string | null;
  /** The page of the run that last saw it (its content is what a 304 carries over). */
  pageId: number;
  links: string[];
  intervalMs: number;
  nextVisitAt: number;
  title: string | null;
  contentType: string | null;
  content: Uint8Array | null;
}

export interface PageChangeEntry {
  url: string;
  change: PageChange;
  pageId: number;
}

export interface ScheduleStore {
  create(schedule: NewSchedule, now?: number): Promise<Schedule>;
  get(id: string): Promise<Schedule | undefined>;
  /** Oldest first, keyset-paginated by id; with `keyId`, only that key's schedules. */
  list(opts: ListOptions & { keyId?: string }): Promise<Schedule[]>;
  update(id: string, patch: SchedulePatch, now?: number): Promise<Schedule | undefined>;
  /** Removes the schedule, its runs and its baseline (its jobs stay). */
  delete(id: string): Promise<boolean>;
  /** A schedule's runs, newest first (keyset by run id). */
  runs(scheduleId: string, opts: ListOptions): Promise<ScheduleRun[]>;
  /**
   * Claims due schedules exactly once across processes (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
   * one transaction): records their runs by the planner and the overlap policy, moves their next
   * run on, starts queued runs whose previous job ended, and marks as missed the pending runs
   * whose claimer died (claimed more than `staleMs` ago).
   */
  claimDue(now: number, planner: Planner, opts: { limit: number; staleMs: number }): Promise<ClaimedRuns>;
  markStarted(runId: number, jobId: string, now: number): Promise<void>;
  markNotStarted(runId: number, reason: string, now: number): Promise<void>;
  /** Finishes runs whose job ended (at most `limit`): gone pages, the baseline and the run's outcome, one transaction each. */
  finishRuns(now: number, revisit: RevisitSettings, limit: number): Promise<FinishedRun[]>;
  /** The schedule's baseline of a URL, with the content of its page; undefined when unknown. */
  baseline(scheduleId: string, url: string): Promise<Baseline | undefined>;
  /** A job's pages that carry a change, in page order (keyset by page id). */
  changes(jobId: string, opts: ListOptions & { types: readonly PageChange[] }): Promise<PageChangeEntry[]>;
  /** Any page by id, with its content (the diff reads the previous run's page). */
  pageById(pageId: number): Promise<PageWithContent | undefined>;
  /** The earliest planned time of an enabled schedule, or null (the overdue gauge). */
  earliestDue(): Promise<number | null>;
}
