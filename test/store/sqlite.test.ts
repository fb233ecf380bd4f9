import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { isOwlError } from '../../src/errors.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { runStoreContract } from './contract.ts';

const root = mkdtempSync(path.join(tmpdir(), 'owl-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

runStoreContract('sqlite (file)', async () => {
  const file = path.join(root, `db-${++counter}`, 'owl.db');
  const store = openSqliteStore({ path: file });
  await store.migrate();
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(path.dirname(file), { recursive: true, force: true });
    },
    openPeer: async () => openSqliteStore({ path: file }),
    recordSchemaVersion: async (version) => {
      const db = new Database(file);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, 0);
      db.close();
    },
  };
});

runStoreContract('sqlite (:memory:)', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  return { store, cleanup: () => store.close() };
});

describe('sqlite store specifics', () => {
  it('creates the folder of the file, uses WAL, and reopens with the data kept', async () => {
    const file = path.join(root, 'nested', 'deeper', 'owl.db');
    const store = openSqliteStore({ path: file });
    const first = await store.migrate();
    assert.deepEqual(first.applied, [1, 2]);
    const job = await store.createJob({ seeds: ['http://a.test/'], options: { maxPages: 5, maxDepth: 1, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false }, source: 'api' }, 1);
    await store.close();
    assert.ok(existsSync(file));
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    const again = openSqliteStore({ path: file });
    assert.deepEqual((await again.migrate()).applied, []);
    assert.equal((await again.getJob(job.id))?.counts.admitted, 1);
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

  it('a writer blocked by another connection beyond busyTimeoutMs gets STORE_UNAVAILABLE', async () => {
    const file = path.join(root, 'busy', 'owl.db');
    const store = openSqliteStore({ path: file, busyTimeoutMs: 50 });
    await store.migrate();
    const blocker = new Database(file);
    blocker.exec('BEGIN IMMEDIATE');
    try {
      await assert.rejects(
        store.createJob({ seeds: ['http://a.test/'], options: { maxPages: 5, maxDepth: 1, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false }, source: 'api' }),
        (e: unknown) => isOwlError(e, 'STORE_UNAVAILABLE'),
      );
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
      await store.close();
    }
  });

  it('two threads claiming from one file never lease the same URL', async () => {
    const file = path.join(root, 'threads', 'owl.db');
    const store = openSqliteStore({ path: file });
    await store.migrate();
    const seeds = Array.from({ length: 2000 }, (_, i) => `http://h${i % 20}.test/${i}`);
    const job = await store.createJob({ seeds, options: { maxPages: 5000, maxDepth: 1, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false }, source: 'api' }, 1);
    const claimer = (workerId: string) =>
      new Promise<number[]>((resolve, reject) => {
        // Node 20 does not pass the parent's --import hooks to worker threads: register tsx in the thread, then load the TypeScript side.
        const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./sqlite-claim-worker.ts', import.meta.url).href)}); })`;
        const w = new Worker(boot, { eval: true, workerData: { file, workerId, now: 10 } });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`claimer exited with ${code}`))));
      });
    try {
      const [a, b] = await Promise.all([claimer('t1'), claimer('t2')]);
      const all = [...a, ...b];
      assert.equal(new Set(all).size, all.length, 'an entry was leased twice');
      assert.equal(all.length, 2000);
      assert.deepEqual((await store.getJob(job.id))?.counts, { admitted: 2000, queued: 0, inFlight: 2000, fetched: 0, failed: 0 });
    } finally {
      await store.close();
    }
  });

  it('the claim query walks the ready index of one host', async () => {
    const file = path.join(root, 'plan', 'owl.db');
    const store = openSqliteStore({ path: file });
    await store.migrate();
    await store.close();
    const db = new Database(file, { readonly: true });
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT id, job_seq, url, depth, attempts FROM frontier WHERE host = ? AND state = 0 AND id > ? AND not_before <= ? ORDER BY id LIMIT ?')
      .all('a', 0, 0, 1) as { detail: string }[];
    db.close();
    assert.match(plan.map((r) => r.detail).join('\n'), /USING INDEX frontier_ready/);
  });
});
