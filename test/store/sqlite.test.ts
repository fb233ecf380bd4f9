import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isOwlError } from '../../src/errors.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { loadMigrations } from '../../src/store/sqlite/migrations.ts';
import { prepareStatements } from '../../src/store/sqlite/statements.ts';
import type { JobOptions, Outcome, PageRecord, Store } from '../../src/store/types.ts';
import { runStoreContract, type StoreHarness } from './contract/index.ts';
import { claim, settle } from './frontier-calls.ts';
import { done, link, urls } from './contract/helpers.ts';

const root = mkdtempSync(path.join(tmpdir(), 'owl-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

// No openPeer: one process owns a SQLite file (see 'one store per file' below).
runStoreContract('sqlite (file)', async () => {
  const file = path.join(root, `db-${++counter}`, 'owl.db');
  const harness: StoreHarness = {
    store: openSqliteStore({ path: file }),
    cleanup: async () => {
      await harness.store.close();
      rmSync(path.dirname(file), { recursive: true, force: true });
    },
    // The store holds the file's lock: write the version with the store closed, then reopen it.
    recordSchemaVersion: async (version) => {
      await harness.store.close();
      const db = new Database(file);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, 0);
      db.close();
      harness.store = openSqliteStore({ path: file });
    },
  };
  await harness.store.migrate();
  return harness;
});

runStoreContract('sqlite (:memory:)', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  return { store, cleanup: () => store.close() };
});

const T0 = 1_700_000_000_000;
const OPTIONS: JobOptions = { maxPages: 5000, maxDepth: 5, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false };
const claimAll = (store: Store, now: number, limit = 1000) =>
  claim(store, { workerId: 'w', limit, leaseMs: 60_000, maxPerHost: 1000, hostDelayMs: 0, now });

describe('sqlite store specifics', () => {
  it('creates the folder of the file, uses WAL, and reopens with the data kept', async () => {
    const file = path.join(root, 'nested', 'deeper', 'owl.db');
    const store = openSqliteStore({ path: file });
    const first = await store.migrate();
    assert.deepEqual(first.applied, loadMigrations().map((m) => m.version));
    const job = await store.jobs.create({ seeds: ['http://a.test/'], options: { ...OPTIONS, maxPages: 5, maxDepth: 1 }, source: 'api' }, 1);
    await store.close();
    assert.ok(existsSync(file));
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    const again = openSqliteStore({ path: file });
    assert.deepEqual((await again.migrate()).applied, []);
    assert.equal((await again.jobs.get(job.id))?.counts.admitted, 1);
    await again.close();
  });

  it('a closed store reports STORE_UNAVAILABLE on ping', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.ping();
    await store.close();
    await store.close();
    await assert.rejects(store.ping(), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'));
  });

  it('a file locked by another connection beyond busyTimeoutMs cannot be opened (STORE_UNAVAILABLE)', async () => {
    const file = path.join(root, 'busy', 'owl.db');
    const setup = openSqliteStore({ path: file });
    await setup.migrate();
    await setup.close();
    const holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE');
    try {
      assert.throws(() => openSqliteStore({ path: file, busyTimeoutMs: 50 }), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'));
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('one store per file: a second one is refused while the first is open, and opens once it is closed', async () => {
    const file = path.join(root, 'owned', 'owl.db');
    const first = openSqliteStore({ path: file });
    await first.migrate();
    const job = await first.jobs.create({ seeds: ['http://a.test/1'], options: OPTIONS, source: 'api' }, 1);
    assert.throws(() => openSqliteStore({ path: file, busyTimeoutMs: 50 }), (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'));
    await first.close();
    const third = openSqliteStore({ path: file });
    assert.equal((await third.jobs.get(job.id))?.counts.admitted, 1);
    await third.close();
  });

  it('no lease outlives its process: after a reopen, leased URLs wait again and the job counts them as queued', async () => {
    const file = path.join(root, 'reopen', 'owl.db');
    const store = openSqliteStore({ path: file });
    await store.migrate();
    const seeds = ['http://a.test/1', 'http://a.test/2', 'http://b.test/1'];
    const job = await store.jobs.create({ seeds, options: OPTIONS, source: 'api' }, 1);
    const leased = await claim(store, { workerId: 'w', limit: 2, leaseMs: 3_600_000, maxPerHost: 10, hostDelayMs: 0, now: 10 });
    assert.equal(leased.length, 2);
    const [settled] = leased;
    await settle(store, [{ kind: 'retry', entry: settled!, notBefore: 500, errorCode: 'timeout' }], 20);
    assert.deepEqual((await store.jobs.get(job.id))?.counts, { admitted: 3, queued: 2, inFlight: 1, fetched: 0, failed: 0, sitemaps: 0 });
    await store.close(); // a stop without releasing: the lease of leased[1] is still held

    const again = openSqliteStore({ path: file });
    await again.migrate();
    // The first transaction builds the in-memory frontier and returns the dead process's leases.
    const claimed = await claimAll(again, 30);
    assert.deepEqual(claimed.map((e) => e.url).sort(), seeds.filter((u) => u !== settled!.url).sort());
    assert.deepEqual((await again.jobs.get(job.id))?.counts, { admitted: 3, queued: 1, inFlight: 2, fetched: 0, failed: 0, sitemaps: 0 });
    const retried = await claimAll(again, 500);
    assert.deepEqual(retried.map((e) => [e.url, e.attempts]), [[settled!.url, 1]], 'the retry kept its attempt and its time');
    await again.close();
  });

  it('a host with more waiting URLs than fit in memory hands them all out, oldest first, retries in their place', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const n = 1500; // several windows of one host
    const seeds = Array.from({ length: n }, (_, i) => `http://big.test/${i}`);
    const job = await store.jobs.create({ seeds, options: OPTIONS, source: 'api' }, 1);
    const seen: string[] = [];
    let now = 10;
    for (let round = 0; round < 100 && seen.length < n; round++) {
      const batch = await claimAll(store, ++now, 97);
      // every 10th URL fails once and comes back after the later ones of its window
      const outcomes = batch.map((e): Outcome =>
        e.attempts === 0 && Number(e.url.split('/').pop()) % 10 === 0
          ? { kind: 'retry', entry: e, notBefore: now, errorCode: 'timeout' }
          : { kind: 'done', entry: e, discovered: [], page: { url: e.url, finalUrl: e.url, statusCode: 200, title: null, bytes: 1, fetchMs: 1, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: 0, depth: 0, fetchedAt: now, contentHash: null, lastmod: null, content: null } },
      );
      for (const o of outcomes) if (o.kind === 'done') seen.push(o.entry.url);
      await settle(store, outcomes, now);
    }
    assert.equal(seen.length, n);
    assert.equal(new Set(seen).size, n, 'no URL handed out twice');
    const firstTries = seen.filter((u) => Number(u.split('/').pop()) % 10 !== 0);
    assert.deepEqual(firstTries, [...firstTries].sort((a, b) => Number(a.split('/').pop()) - Number(b.split('/').pop())), 'oldest first');
    const end = await store.jobs.get(job.id);
    assert.equal(end?.status, 'done');
    assert.deepEqual(end?.counts, { admitted: n, queued: 0, inFlight: 0, fetched: n, failed: 0, sitemaps: 0 });
    await store.close();
  });

  it('a settle frees its slot at once, before its group commit; the links it admitted are claimable once it resolved', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: OPTIONS, source: 'api' }, T0);
    const one = { workerId: 'w1', limit: 100, leaseMs: 10_000, maxPerHost: 1, hostDelayMs: 0, now: T0 };
    const [first] = await claim(store, one);
    assert.ok(first);
    assert.deepEqual(await claim(store, { ...one, now: T0 + 1 }), [], 'the host is full');
    const settling = settle(store, [done(first, [link('http://a.test/3', 1)])], T0 + 2);
    const second = await claim(store, { ...one, now: T0 + 3 });
    assert.deepEqual(urls(second), ['http://a.test/2'], 'the slot is free before the settle resolved');
    const settled = await settling;
    assert.deepEqual(settled.accepted, [true]);
    assert.equal(settled.enqueued, 1);
    // Nothing else is claimable: the claim does not wait for the group commit to see a.test/4.
    void settle(store, [done(second[0]!, [link('http://a.test/4', 1)])], T0 + 4);
    const third = await claim(store, { ...one, now: T0 + 5 });
    assert.deepEqual(urls(third), ['http://a.test/3']);
    await settle(store, [done(third[0]!)], T0 + 6);
    assert.deepEqual(urls(await claim(store, { ...one, now: T0 + 7 })), ['http://a.test/4']);
    assert.deepEqual((await store.jobs.get(job.id))?.counts, { admitted: 4, queued: 0, inFlight: 1, fetched: 3, failed: 0, sitemaps: 0 });
    await store.close();
  });

  it('a group commit that fails is tried again: its settles resolve once it succeeds, nothing is lost', async () => {
    const commitErrors: unknown[] = [];
    const store = openSqliteStore({ path: ':memory:', groupCommitMs: 5, onCommitFailure: (err) => commitErrors.push(err) });
    await store.migrate();
    const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: OPTIONS, source: 'api' }, 1);
    const [e1, e2] = await claimAll(store, 10);
    assert.ok(e1 && e2);
    // A page record that cannot be written the first time, as a full disk would refuse the write.
    let failures = 1;
    const page = { url: e1.url, finalUrl: e1.url, statusCode: 200, bytes: 1, fetchMs: 1, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: 1, depth: 0, fetchedAt: 20, contentHash: null, lastmod: null, content: null } as PageRecord;
    Object.defineProperty(page, 'title', {
      enumerable: true,
      get: () => {
        if (failures-- > 0) throw new Error('write refused');
        return 'one';
      },
    });
    const settling = settle(store, [{ kind: 'done', entry: e1, page, discovered: [{ url: 'http://a.test/3', host: 'a.test', depth: 1 }] }], 20);
    await assert.rejects(store.jobs.get(job.id), /write refused/);
    const settled = await settling; // the retry succeeded
    assert.deepEqual(settled, { accepted: [true], enqueued: 1, finishedJobs: [] });
    assert.deepEqual((await store.jobs.get(job.id))?.counts, { admitted: 3, queued: 1, inFlight: 1, fetched: 1, failed: 0, sitemaps: 0 });
    assert.deepEqual((await claimAll(store, 30)).map((e) => e.url), ['http://a.test/3'], 'the admitted link was not lost with the failed attempt');
    assert.equal((await store.pages.list(job.id, { limit: 10 }))[0]?.title, 'one');
    assert.equal(commitErrors.length, 1, 'the failed commit was reported once');
    assert.match(String(commitErrors[0]), /write refused/);
    await store.close();
  });

  it('a spilled host reads its next window with the host index', async () => {
    const file = path.join(root, 'plan', 'owl.db');
    const store = openSqliteStore({ path: file });
    await store.migrate();
    await store.close();
    const db = new Database(file, { readonly: true });
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${prepareStatements(db).waitingAfter.source}`)
      .all('a', 0, 1) as { detail: string }[];
    db.close();
    assert.match(plan.map((r) => r.detail).join('\n'), /USING INDEX frontier_host \(host=\? AND id>\?\)/);
  });
});
