/**
 * The Store: everything the service keeps. SQLite (embedded) and PostgreSQL (scale-out)
 * implement it and pass the same contract suite (test/store/contract.ts).
 * Times are epoch milliseconds (numbers) in the interface; ids of jobs are UUID strings,
 * ids of frontier entries and pages are integers.
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
}

export interface NewJob {
  seeds: string[];
  options: JobOptions;
  source: string;
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
}

/** A URL handed to a worker under a lease. */
export interface FrontierEntry {
  id: number;
  jobId: string;
  url: string;
  host: string;
  depth: number;
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
}

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
}

export interface Page extends PageRecord {
  id: number;
  jobId: string;
}

export type Outcome =
  | { kind: 'done'; entry: FrontierEntry; page: PageRecord; discovered: DiscoveredUrl[] }
  | { kind: 'retry'; entry: FrontierEntry; notBefore: number; errorCode: string }
  | { kind: 'failed'; entry: FrontierEntry; page: PageRecord };

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
  /** Jobs that reached a final state in this call (reported once, to one caller). */
  finishedJobs: FinishedJob[];
}

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseMs: number;
  /** Per-host cap on leased URLs across all workers. */
  maxPerHost: number;
  /** Minimum gap between two claims on one host (0 = only the in-flight cap applies). */
  hostDelayMs: number;
  /** Only entries of these modes' jobs (a worker without a browser skips browser jobs). */
  modes?: CrawlMode[];
  now?: number;
}

export interface ListOptions {
  limit: number;
  /** Return rows after this id (keyset pagination). */
  after?: string | number;
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

export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  /**
   * Optional: true when settle() frees its leases' host slots and puts retries back in line for
   * the claims that follow it at once, before its promise resolves (which it does once the
   * outcomes are written; links it admits are claimable from then on). The SQLite store, whose
   * frontier is in memory and which writes in group commits, says so: the worker then hands each
   * outcome to settle() as it comes and claims without waiting for the write.
   */
  readonly settleFreesSlotsAtOnce?: boolean;
  /** Apply pending migrations; throws SCHEMA_TOO_NEW when the database is ahead of the code. */
  migrate(): Promise<{ applied: number[]; version: number }>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createJob(job: NewJob, now?: number): Promise<Job>;
  getJob(id: string): Promise<Job | undefined>;
  /** Newest first. */
  listJobs(opts: ListOptions & { status?: JobStatus }): Promise<Job[]>;
  /** Cancels a queued or running job; its waiting URLs are dropped. Undefined when unknown. */
  cancelJob(id: string, reason?: string, now?: number): Promise<Job | undefined>;
  /** Marks a job failed by an operator; undefined when unknown. */
  failJob(id: string, reason: string, now?: number): Promise<Job | undefined>;

  /** Leases up to `limit` due URLs of queued/running jobs, honouring per-host limits. */
  claim(opts: ClaimOptions): Promise<FrontierEntry[]>;
  /** Applies outcomes in one transaction; stale leases are ignored. */
  settle(outcomes: Outcome[], now?: number): Promise<SettleResult>;
  /**
   * Optional: settle and then claim in one transaction (one commit instead of two per loop
   * turn). Same semantics as `settle(outcomes)` followed by `claim(opts)`.
   */
  settleAndClaim?(outcomes: Outcome[], opts: ClaimOptions, now?: number): Promise<{ settled: SettleResult; entries: FrontierEntry[] }>;
  /** Prolongs leases still held by this worker. */
  extendLeases(entries: Pick<FrontierEntry, 'id' | 'leaseToken'>[], leaseMs: number, now?: number): Promise<void>;
  /** Returns this worker's leased URLs to the queue (graceful stop). */
  releaseLeases(workerId: string): Promise<number>;
  /** Returns URLs whose lease expired to the queue (crashed workers); the count returned. */
  requeueExpired(now?: number): Promise<number>;
  /** Keeps every worker off `host` until `until` (Retry-After, crawl-delay). */
  deferHost(host: string, until: number): Promise<void>;

  /** Final results of a job, oldest first, keyset-paginated by page id. */
  listPages(jobId: string, opts: ListOptions): Promise<Page[]>;

  recordProxyHealth(health: ProxyHealth): Promise<void>;
  listProxyHealth(): Promise<ProxyHealth[]>;

  stats(): Promise<StoreStats>;
}
