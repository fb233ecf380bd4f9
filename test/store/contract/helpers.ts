/**
 * What every part of the Store contract shares: the harness a backend provides, and helpers that
 * build jobs, outcomes and claims. Every time is an explicit `now` so nothing depends on the clock.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type {
  ClaimOptions,
  DiscoveredUrl,
  FrontierEntry,
  Job,
  JobOptions,
  Outcome,
  PageRecord,
  Store,
} from '../../../src/store/types.ts';

export interface StoreHarness {
  /** A fresh, migrated, EMPTY store. */
  store: Store;
  /** Closes every handle the harness opened and drops the database. */
  cleanup: () => Promise<void>;
  /**
   * Opens a second handle on the SAME database (a second SQLite connection to the file,
   * a second pool on the PostgreSQL schema), for the concurrent-claim case. The suite closes it.
   * Without it that case is reported as skipped, with the reason.
   */
  openPeer?: () => Promise<Store>;
  /**
   * Inserts `version` into schema_migrations, for the SCHEMA_TOO_NEW case.
   * Without it that case is reported as skipped, with the reason.
   */
  recordSchemaVersion?: (version: number) => Promise<void>;
}

export const T0 = 1_700_000_000_000;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function options(overrides: Partial<JobOptions> = {}): JobOptions {
  return { maxPages: 100, maxDepth: 5, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false, ...overrides };
}

export function claimOpts(overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return { workerId: 'w1', limit: 100, leaseMs: 10_000, maxPerHost: 100, hostDelayMs: 0, now: T0, ...overrides };
}

export function pageOf(entry: FrontierEntry, overrides: Partial<PageRecord> = {}): PageRecord {
  return {
    url: entry.url,
    finalUrl: entry.url,
    statusCode: 200,
    title: `title of ${entry.url}`,
    bytes: 1234,
    fetchMs: 12,
    errorCode: null,
    contentType: 'text/html',
    mode: 'http',
    linksFound: 0,
    depth: entry.depth,
    fetchedAt: T0,
    contentHash: null,
    lastmod: null,
    content: null,
    ...overrides,
  };
}

export function done(entry: FrontierEntry, discovered: DiscoveredUrl[] = [], page: Partial<PageRecord> = {}): Outcome {
  return { kind: 'done', entry, page: pageOf(entry, { linksFound: discovered.length, ...page }), discovered };
}

export function failed(entry: FrontierEntry, errorCode: string, now = T0): Outcome {
  return { kind: 'failed', entry, page: pageOf(entry, { statusCode: null, title: null, finalUrl: null, bytes: 0, errorCode, fetchedAt: now }) };
}

export function link(url: string, depth: number): DiscoveredUrl {
  return { url, host: new URL(url).hostname, depth };
}

export function byUrl(entries: FrontierEntry[], url: string): FrontierEntry {
  const e = entries.find((x) => x.url === url);
  assert.ok(e, `no entry for ${url} among ${entries.map((x) => x.url).join(', ')}`);
  return e;
}

export function urls(entries: { url: string }[]): string[] {
  return entries.map((e) => e.url).sort();
}

export async function mustGetJob(store: Store, id: string): Promise<Job> {
  const job = await store.jobs.get(id);
  assert.ok(job, `job ${id} not found`);
  return job;
}

/** For a job that was never cancelled or failed by an operator, every admitted URL is in exactly one state. */
export function assertBalanced(job: Job): void {
  const c = job.counts;
  assert.equal(c.admitted, c.queued + c.inFlight + c.fetched + c.failed, `unbalanced counts ${JSON.stringify(c)}`);
}

export async function allPages(store: Store, jobId: string, pageSize = 100) {
  const out = [];
  let after: number | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = await store.pages.list(jobId, { limit: pageSize, after });
    out.push(...page);
    if (page.length < pageSize) return out;
    after = page[page.length - 1]!.id;
  }
  throw new Error('listPages never ended');
}

/** Runs a case on a fresh store and cleans up after it. */
export type WithStore = (fn: (store: Store, harness: StoreHarness) => Promise<void>) => Promise<void>;

/**
 * Runs a case on a fresh store and a second handle on the same database (StoreHarness.openPeer);
 * the case is skipped, with the reason, when the harness has none. Closes both.
 */
export type WithPeer = (t: TestContext, fn: (store: Store, peer: Store) => Promise<void>) => Promise<void>;

export interface ContractContext {
  withStore: WithStore;
  withPeer: WithPeer;
  makeStore: () => Promise<StoreHarness>;
}

