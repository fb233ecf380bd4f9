/**
 * Politeness pacing, exactly: a host with `hostDelayMs = D` and waiting URLs is fetched every D ms,
 * on both stores, and a slow host never holds the others back. The real worker loop (Crawler) and
 * the real frontiers run under mocked timers and a mocked clock; a recording processor stands in
 * for the fetch, so the figures are exact and do not depend on how fast the machine is. Time only
 * moves while nothing is in flight between the loop and the store (PostgreSQL answers for real).
 */
import { after, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Frontier, FrontierEntry, Outcome, Store } from '../../src/store/types.ts';
import { Crawler } from '../../src/worker/crawler.ts';
import type { PageProcessor } from '../../src/worker/page-processor.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { JOB_DEFAULTS } from './helpers.ts';

const FETCHES = 200;
const T0 = 1_800_000_000_000;

/**
 * A frontier that counts its calls in flight, so the test moves time only when the loop waits.
 * `idle()` resolves when none is in flight: however long PostgreSQL takes on a loaded machine,
 * the mocked clock never moves during a call (a bounded spin once let it, and a claim made at
 * one time then started its fetch at a later one).
 */
function counted(frontier: Frontier): { frontier: Frontier; busy: () => boolean; idle: () => Promise<void> } {
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      inFlight++;
      try {
        return await fn(...args);
      } finally {
        inFlight--;
        if (inFlight === 0) {
          const done = waiters;
          waiters = [];
          for (const resolve of done) resolve();
        }
      }
    };
  return {
    frontier: {
      settleAndClaim: wrap(frontier.settleAndClaim.bind(frontier)),
      extendLeases: wrap(frontier.extendLeases.bind(frontier)),
      releaseLeases: wrap(frontier.releaseLeases.bind(frontier)),
      requeueExpired: wrap(frontier.requeueExpired.bind(frontier)),
      deferHost: wrap(frontier.deferHost.bind(frontier)),
    },
    busy: () => inFlight > 0,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

/** Stands in for fetching: records when each URL started and answers after the host's fetch time. */
function recordingProcessor(fetchMs: (host: string) => number): { processor: PageProcessor; starts: Map<string, number[]> } {
  const starts = new Map<string, number[]>();
  const processor = {
    process(entry: FrontierEntry): Promise<Outcome> {
      const list = starts.get(entry.host) ?? [];
      list.push(Date.now());
      starts.set(entry.host, list);
      return new Promise((resolve) => {
        setTimeout(() => {
          resolve({
            kind: 'done',
            entry,
            discovered: [],
            page: { url: entry.url, finalUrl: entry.url, statusCode: 200, title: null, bytes: 1, fetchMs: 1, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: 0, depth: 0, fetchedAt: Date.now(), contentHash: null, lastmod: null, content: null },
          });
        }, fetchMs(entry.host));
      });
    },
  } as unknown as PageProcessor;
  return { processor, starts };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Mocked timers and clock that can jump straight to the next timer that was set (node:test's
 * mock moves only as far as told). Stale times of cleared timers only make a step that fires nothing.
 */
function mockClock(): { advance(): void; restore(): void } {
  const realSetTimeout = globalThis.setTimeout;
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: T0 });
  const mocked = globalThis.setTimeout;
  const due: number[] = [];
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    due.push(Date.now() + Math.max(1, ms ?? 0));
    return mocked(fn, ms, ...args);
  }) as typeof setTimeout;
  return {
    advance() {
      const now = Date.now();
      let next = Number.POSITIVE_INFINITY;
      for (let i = due.length - 1; i >= 0; i--) {
        if (due[i]! <= now) due.splice(i, 1);
        else if (due[i]! < next) next = due[i]!;
      }
      mock.timers.tick(next === Number.POSITIVE_INFINITY ? 1 : next - now);
    },
    restore() {
      mock.timers.reset();
      globalThis.setTimeout = realSetTimeout;
    },
  };
}

interface PacingRun {
  store: Store;
  delayMs: number;
  hosts: string[];
  concurrency: number;
  fetchMs: (host: string) => number;
  maxPerHost: number;
  /** Stop when this host has been fetched FETCHES times. */
  watch: string;
}

async function runPaced(r: PacingRun): Promise<Map<string, number[]>> {
  const seeds = r.hosts.flatMap((h) => Array.from({ length: FETCHES + 5 }, (_, i) => `http://${h}/${i}`));
  await r.store.jobs.create({ seeds, source: 'test', options: { ...JOB_DEFAULTS, maxPages: seeds.length, maxDepth: 0 } }, T0);
  const { frontier, busy, idle } = counted(r.store.frontier);
  const { processor, starts } = recordingProcessor(r.fetchMs);
  const clock = mockClock();
  const crawler = new Crawler({
    frontier,
    processor,
    logger: silentLogger(),
    workerId: 'pacing',
    concurrency: r.concurrency,
    leaseMs: 600_000,
    maxPerHost: r.maxPerHost,
    hostDelayMs: r.delayMs,
    modes: ['http'],
  });
  // Moves the clock to the next timer, each step once the loop and the store are done with the last.
  const step = async () => {
    // A call's answer may lead the loop straight to another call: wait until a turn ends with none.
    do {
      await idle();
      await settle();
    } while (busy());
    await settle();
    clock.advance();
  };
  try {
    crawler.start();
    const limit = T0 + (FETCHES + 2) * r.delayMs * 2;
    while (Date.now() < limit && (starts.get(r.watch)?.length ?? 0) < FETCHES) await step();
    let stopped = false;
    const stopping = crawler.stop().then(() => {
      stopped = true;
    });
    for (let t = 0; t < 100_000 && !stopped; t++) await step();
    await stopping;
  } finally {
    clock.restore();
  }
  return starts;
}

/** Gaps between consecutive fetch starts of the first FETCHES fetches. */
function gaps(times: number[] | undefined): number[] {
  assert.ok(times && times.length >= FETCHES, `only ${times?.length ?? 0} fetches`);
  const first = times.slice(0, FETCHES);
  return first.slice(1).map((t, i) => t - first[i]!);
}

function assertPaced(times: number[] | undefined, delayMs: number, label: string): void {
  const g = gaps(times);
  const tooSoon = g.filter((x) => x < delayMs);
  assert.deepEqual(tooSoon, [], `${label}: never faster than the delay`);
  const mean = g.reduce((a, b) => a + b, 0) / g.length;
  assert.ok(mean <= delayMs * 1.1, `${label}: a fetch every ${mean.toFixed(1)} ms on average, asked for ${delayMs} ms (±10 %)`);
  const late = g.filter((x) => x > delayMs * 1.1);
  assert.ok(late.length <= g.length * 0.02, `${label}: ${late.length} of ${g.length} gaps more than 10 % late: ${late.slice(0, 10).join(', ')}`);
}

interface Backend {
  name: string;
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

const schemas: TestSchema[] = [];
after(async () => {
  for (const s of schemas) await s.drop();
});

const backends: Backend[] = [
  {
    name: 'sqlite',
    open: async () => {
      const store = openSqliteStore({ path: ':memory:' });
      await store.migrate();
      return store;
    },
    cleanup: async () => {},
  },
  {
    name: 'postgres',
    open: async () => {
      const schema = await createTestSchema();
      schemas.push(schema);
      const store = schema.open();
      await store.migrate();
      return store;
    },
    cleanup: async () => {},
  },
];

for (const backend of backends) {
  describe(`politeness pacing (${backend.name})`, () => {
    for (const delayMs of [50, 250, 1_000]) {
      it(`fetches one host every ${delayMs} ms over ${FETCHES} fetches`, { timeout: 300_000 }, async () => {
        const store = await backend.open();
        try {
          const starts = await runPaced({ store, delayMs, hosts: ['a.test'], concurrency: 16, maxPerHost: 4, fetchMs: () => 5, watch: 'a.test' });
          assertPaced(starts.get('a.test'), delayMs, `D=${delayMs}`);
        } finally {
          await store.close();
        }
      });
    }

    it('keeps at most OWL_PER_HOST_CONCURRENCY fetches in flight on a host slower than its delay', { timeout: 300_000 }, async () => {
      const delayMs = 50;
      // A fetch takes 4 delays. With 8 slots on the host the delay sets the pace (4 in flight);
      // with 2 the slots do: a fetch starts when one ends, every 2 delays, never more than 2 at once.
      for (const maxPerHost of [8, 2]) {
        const store = await backend.open();
        try {
          const starts = await runPaced({ store, delayMs, hosts: ['a.test'], concurrency: 16, maxPerHost, fetchMs: () => delayMs * 4, watch: 'a.test' });
          const g = gaps(starts.get('a.test'));
          if (maxPerHost === 8) assertPaced(starts.get('a.test'), delayMs, 'per-host 8');
          else {
            assert.deepEqual(g.filter((x) => x < delayMs), [], 'per-host 2: never faster than the delay');
            const times = starts.get('a.test')!.slice(0, FETCHES);
            // Fetch i + 2 starts no sooner than fetch i ended: at most 2 in flight.
            const overlapping = times.slice(2).filter((t, i) => t < times[i]! + delayMs * 4);
            assert.deepEqual(overlapping, [], 'per-host 2: a third fetch never starts while two run');
            const mean = g.reduce((a, b) => a + b, 0) / g.length;
            assert.ok(Math.abs(mean - delayMs * 2) <= delayMs * 2 * 0.1, `per-host 2: a fetch every ${mean.toFixed(1)} ms, expected ${delayMs * 2}`);
          }
        } finally {
          await store.close();
        }
      }
    });

    it('serves many hosts in parallel at their pace while slow hosts hold most slots', { timeout: 300_000 }, async () => {
      const store = await backend.open();
      try {
        const delayMs = 50;
        // Four slots, one fetch per host at a time: three slow hosts (a fetch takes 20 delays) hold
        // three and leave one free, fewer than the loop's usual batch of half the slots; the fast
        // host must still be fetched on time.
        const starts = await runPaced({
          store,
          delayMs,
          hosts: ['slow1.test', 'slow2.test', 'slow3.test', 'fast.test'],
          concurrency: 4,
          maxPerHost: 1,
          fetchMs: (host) => (host.startsWith('slow') ? delayMs * 20 : 2),
          watch: 'fast.test',
        });
        assertPaced(starts.get('fast.test'), delayMs, 'fast host beside slow ones');
        for (const slow of ['slow1.test', 'slow2.test', 'slow3.test']) {
          const n = starts.get(slow)?.length ?? 0;
          assert.ok(n >= FETCHES / 20 - 2, `${slow} was served too (${n} fetches)`);
        }
      } finally {
        await store.close();
      }
    });
  });
}
