/** The Store contract: migrations, lifecycle and the global gauges. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isOwlError } from '../../../src/errors.ts';
import { claim, settle } from '../frontier-calls.ts';
import {
  T0, claimOpts, options, 
  type ContractContext,
} from './helpers.ts';

export function lifecycleContract({ withStore, makeStore }: ContractContext): void {
  describe('migrations and lifecycle', () => {
    it('migrate() is idempotent and reports the version', () =>
      withStore(async (store) => {
        const again = await store.migrate();
        assert.deepEqual(again.applied, []);
        assert.ok(Number.isInteger(again.version) && again.version >= 1);
        assert.equal((await store.migrate()).version, again.version);
        assert.ok(store.backend === 'sqlite' || store.backend === 'postgres');
        await store.ping();
      }));

    it('migrate() refuses a database newer than the code (SCHEMA_TOO_NEW)', async (t) => {
      const harness = await makeStore();
      try {
        if (!harness.recordSchemaVersion) {
          t.skip('the harness gives no recordSchemaVersion');
          return;
        }
        const { version } = await harness.store.migrate();
        await harness.recordSchemaVersion(version + 1000);
        await assert.rejects(harness.store.migrate(), (e: unknown) => isOwlError(e, 'SCHEMA_TOO_NEW'));
      } finally {
        await harness.cleanup();
      }
    });
  });

  describe('stats', () => {
    it('stats counts live jobs and the URLs waiting in them', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
        const a = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options(), source: 'api' }, T0);
        await store.jobs.create({ seeds: ['http://b.test/1', 'http://b.test/2'], options: options(), source: 'api' }, T0);
        const c = await store.jobs.create({ seeds: ['http://c.test/1'], options: options(), source: 'api' }, T0);
        assert.deepEqual(await store.stats(), { jobsInQueue: 3, queueDepth: 6 });
        await store.jobs.cancel(c.id, 'stop', T0 + 1);
        assert.deepEqual(await store.stats(), { jobsInQueue: 2, queueDepth: 5 });
        const [e] = await claim(store, claimOpts({ limit: 1, now: T0 + 2 }));
        assert.ok(e);
        assert.deepEqual(await store.stats(), { jobsInQueue: 2, queueDepth: 4 });
        await settle(store, [{ kind: 'retry', entry: e, notBefore: T0 + 1000, errorCode: 'timeout' }], T0 + 3);
        assert.deepEqual(await store.stats(), { jobsInQueue: 2, queueDepth: 5 }, 'a URL waiting for its retry is waiting');
        await store.jobs.fail(a.id, 'x', T0 + 4);
        assert.deepEqual(await store.stats(), { jobsInQueue: 1, queueDepth: 2 });
      }));
  });
}
